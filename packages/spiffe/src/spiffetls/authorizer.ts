/**
 * Authorizers decide whether a verified peer may talk to us (after go-spiffe's tlsconfig authorizers).
 * They compare parsed IDs, never strings, and deny by throwing.
 */
import type { SpiffeId, TrustDomain } from '../spiffeid/id';

/** Returns to allow `id` (whose verified path, DER leaf first, is `verifiedChain`); throws AuthorizationError to deny it. */
export type Authorizer = (id: SpiffeId, verifiedChain: readonly Buffer[]) => void;

export class AuthorizationError extends Error {
  constructor(readonly id: SpiffeId, readonly reason: string, options?: ErrorOptions) {
    super(`${id} is not authorized: ${reason}`, options);
    this.name = 'AuthorizationError';
  }
}

/** Allows any verified ID. Only for servers whose callers are authorized per RPC. */
export function authorizeAny(): Authorizer {
  return () => {};
}

export function authorizeId(allowed: SpiffeId): Authorizer {
  return (id) => {
    if (!id.equals(allowed)) throw new AuthorizationError(id, `expected ${allowed}`);
  };
}

export function authorizeOneOf(...allowed: SpiffeId[]): Authorizer {
  if (allowed.length === 0) throw new TypeError('authorizeOneOf needs at least one ID; it would deny everyone');
  return (id) => {
    if (!allowed.some((candidate) => id.equals(candidate))) {
      throw new AuthorizationError(id, `expected one of ${allowed.join(', ')}`);
    }
  };
}

export function authorizeMemberOf(trustDomain: TrustDomain): Authorizer {
  return (id) => {
    if (!id.isMemberOf(trustDomain)) throw new AuthorizationError(id, `expected a member of trust domain "${trustDomain}"`);
  };
}

/** Allows exactly the IDs for which `predicate` returns true; a throwing predicate denies. */
export function adaptMatcher(predicate: (id: SpiffeId) => boolean): Authorizer {
  return (id) => {
    let allowed: boolean;
    try {
      allowed = predicate(id);
    } catch (error) {
      throw new AuthorizationError(id, `the matcher failed: ${(error as Error).message}`, { cause: error });
    }
    if (allowed !== true) throw new AuthorizationError(id, 'the matcher did not allow it');
  };
}
