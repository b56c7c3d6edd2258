/**
 * The OCI registry behind the apiserver and the token flow that guards it (the Docker/OCI token
 * authentication every registry client speaks):
 *
 *   1. RequestRegistryCredentials (gRPC, SPIFFE mTLS) gives the caller a username derived from its
 *      SPIFFE ID and a short-lived password bound to it;
 *   2. the registry answers an unauthenticated request with
 *      `WWW-Authenticate: Bearer realm="<apiserver>/registry/token",service="<service>",scope="…"`;
 *   3. the client exchanges username and password (HTTP Basic) at the realm for a bearer token the
 *      registry trusts, scoped to `repository:<repository>:pull` at most.
 *
 * The apiserver (token service) and the registry's configuration must agree on the facts below.
 */
import { createHash } from 'node:crypto';

/** Path of the token service on the apiserver's HTTP endpoint (the registry's `auth.token.realm`). */
export const REGISTRY_TOKEN_PATH = '/registry/token';

/** `iss` of registry bearer tokens; the registry's `auth.token.issuer`. */
export const REGISTRY_TOKEN_ISSUER = 'dirtk-apiserver';

/** `aud` of registry bearer tokens when none is configured; the registry's `auth.token.service`. */
export const DEFAULT_REGISTRY_SERVICE = 'dirtk-registry';

/** The only JWS algorithm the registry accepts for bearer tokens (the registry's `auth.token.signingalgorithms`). */
export const REGISTRY_TOKEN_ALGORITHM = 'ES256';

/** The only action registry credentials can buy. */
export const REGISTRY_PULL_ACTION = 'pull';

const SPIFFE_SCHEME = 'spiffe://';

/**
 * The registry username of a caller: its SPIFFE ID without the `spiffe://` scheme, e.g.
 * `dirctl.example/ns/dir/sa/dirctl`. HTTP Basic authentication cannot carry a colon in the user-id
 * (RFC 7617), and SPIFFE IDs have no other colon, so the name is stable, readable and reversible.
 */
export function registryUsername(spiffeId: string): string {
  if (!spiffeId.startsWith(SPIFFE_SCHEME) || spiffeId.length === SPIFFE_SCHEME.length) {
    throw new RangeError(`${JSON.stringify(spiffeId)} is not a SPIFFE ID; registry usernames are derived from SPIFFE IDs`);
  }
  const name = spiffeId.slice(SPIFFE_SCHEME.length);
  if (name.includes(':')) throw new RangeError(`SPIFFE ID ${JSON.stringify(spiffeId)} has a colon after the scheme; HTTP Basic user-ids cannot carry one`);
  return name;
}

/** An EC P-256 public key as a JWK (`KeyObject.export({ format: 'jwk' })`). */
export interface RegistryTokenPublicJwk {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

/**
 * The `kid` of a token-signing key: its RFC 7638 JWK thumbprint (SHA-256, base64url). The token
 * service puts it in every token's header; the registry's JWKS lists each trusted key under it.
 */
export function registryTokenKeyId(jwk: RegistryTokenPublicJwk): string {
  const canonical = JSON.stringify({ crv: jwk.crv, kty: jwk.kty, x: jwk.x, y: jwk.y });
  return createHash('sha256').update(canonical).digest('base64url');
}
