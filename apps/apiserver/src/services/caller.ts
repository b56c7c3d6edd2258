/**
 * Who is calling, as the security layer established it for one call, and the hook through which
 * that layer decides every call. Handlers receive the caller explicitly; nothing is global.
 */
import type { ServerUnaryCall } from '@grpc/grpc-js';

export interface CallerContext {
  /** The caller's SPIFFE ID, e.g. `spiffe://dir.example/ns/dir/sa/dirctl`. */
  readonly spiffeId: string;
  /** The bare trust domain of `spiffeId` (no scheme), e.g. `dir.example`. */
  readonly trustDomain: string;
}

/** What the hook may read from a call: request metadata (bearer tokens), the peer address (to find its TLS identity), the path. */
export type IncomingCall = Pick<ServerUnaryCall<unknown, unknown>, 'metadata' | 'getPeer' | 'getAuthContext' | 'getPath'>;

/**
 * Authenticates and authorizes one call before its handler runs (once per call; for streams,
 * before the first message is read). Resolves with the caller, or rejects with a gRPC status
 * error (an Error with a numeric `code`, e.g. UNAUTHENTICATED or PERMISSION_DENIED) to refuse.
 * A refusal may carry the identified caller as `caller` so metrics attribute it to its trust domain.
 * Any other rejection refuses the call with INTERNAL.
 */
export type AuthorizeCall = (call: IncomingCall, fullMethod: string) => Promise<CallerContext>;

/** Lets every call through as `caller`: for tests and insecure local runs only. */
export function allowAll(caller: CallerContext): AuthorizeCall {
  return async () => caller;
}
