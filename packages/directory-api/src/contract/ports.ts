/** The apiserver's gRPC port (SPIFFE mTLS only) when none is configured. */
export const DEFAULT_GRPC_PORT = 8888;

/** The apiserver's plain HTTP port (`/healthz`, `/readyz`, `/metrics`) when none is configured. */
export const DEFAULT_HTTP_PORT = 9090;
