/** The apiserver's gRPC port (SPIFFE mTLS only) when none is configured. */
export const DEFAULT_GRPC_PORT = 8888;

/** The apiserver's plain HTTP port (`/healthz`, `/readyz`, `/metrics`, the registry token service) when none is configured. */
export const DEFAULT_HTTP_PORT = 9090;

/** The OCI registry's port (the address RequestRegistryCredentials advertises) when none is configured. */
export const DEFAULT_REGISTRY_PORT = 5000;
