/**
 * Short-lived registry credentials, scoped to the caller that asked for them.
 *
 * RequestRegistryCredentials answers with basic auth whose username is derived from the caller's
 * SPIFFE ID (`registryUsername`: the ID without `spiffe://`, since HTTP Basic user-ids cannot carry a
 * colon) and whose password is a token signed with the server's secret (HMAC-SHA256, JWT compact form):
 *
 *   { iss: "dirtk-apiserver", sub: <caller SPIFFE ID>, scope: "repository:<name>:pull",
 *     iat, exp: iat + ttl (10 minutes by default), jti: <random UUID> }
 *
 * The password is never shown to the registry: the apiserver's registry token service
 * (`registry-token-service.ts`) checks it with `verifyRegistryCredentials` and exchanges it for an
 * ES256 bearer token the registry trusts. The secret stays in the apiserver.
 *
 * What they grant: pulling (read-only) the one repository named in the scope, until `exp`, to the
 * holder presenting the same username. They grant no push or delete, no other repository, and
 * nothing on the Directory API itself. There is no revocation list, so the short lifetime bounds misuse.
 */
import { createHmac, randomUUID, timingSafeEqual } from 'node:crypto';
import { registryUsername } from '@dirtk/directory-api/contract';
import { isRepositoryName } from '../store/repository-name';

export const DEFAULT_TTL_SECONDS = 600;
export const MIN_SECRET_BYTES = 32;
const ISSUER = 'dirtk-apiserver';
const HEADER = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

export interface RegistryCredentials {
  /** `registryUsername(subject)`. */
  readonly username: string;
  readonly password: string;
  readonly repository: string;
  readonly expiresAt: Date;
}

/** What verified credentials allow. */
export interface RegistryGrant {
  /** The SPIFFE ID the credentials were issued to. */
  readonly subject: string;
  /** `registryUsername(subject)`: the name presented. */
  readonly username: string;
  readonly repository: string;
  readonly actions: readonly ['pull'];
  readonly expiresAt: Date;
  readonly tokenId: string;
}

export interface RegistryCredentialIssuerOptions {
  /** At least 32 random bytes, known only to the apiserver (its registry token service verifies). */
  readonly secret: Uint8Array;
  /** The repository the credentials may pull from, e.g. `dir`. */
  readonly repository: string;
  readonly ttlSeconds?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

export class RegistryCredentialsError extends Error {
  constructor(reason: string) {
    super(`registry credentials rejected: ${reason}`);
    this.name = 'RegistryCredentialsError';
  }
}

export class RegistryCredentialIssuer {
  private readonly secret: Uint8Array;
  private readonly ttlSeconds: number;
  private readonly now: () => number;
  readonly repository: string;

  constructor(options: RegistryCredentialIssuerOptions) {
    checkSecret(options.secret);
    const ttl = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new RangeError(`ttlSeconds must be a positive integer, got ${ttl}`);
    if (!isRepositoryName(options.repository)) throw new RangeError(`repository ${JSON.stringify(options.repository)} is not an OCI repository name`);
    this.secret = options.secret;
    this.ttlSeconds = ttl;
    this.now = options.now ?? Date.now;
    this.repository = options.repository;
  }

  /** Credentials for the caller with SPIFFE ID `subject`. */
  issue(subject: string): RegistryCredentials {
    if (subject === '') throw new RangeError('cannot issue registry credentials without a subject');
    const username = registryUsername(subject);
    const iat = Math.floor(this.now() / 1000);
    const claims: TokenClaims = { iss: ISSUER, sub: subject, scope: `repository:${this.repository}:pull`, iat, exp: iat + this.ttlSeconds, jti: randomUUID() };
    const signingInput = `${HEADER}.${base64url(JSON.stringify(claims))}`;
    return { username, password: `${signingInput}.${sign(this.secret, signingInput)}`, repository: this.repository, expiresAt: new Date(claims.exp * 1000) };
  }
}

export interface VerifyOptions {
  readonly secret: Uint8Array;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/** Checks basic-auth credentials issued by `RegistryCredentialIssuer`; throws `RegistryCredentialsError` saying why they are refused. */
export function verifyRegistryCredentials(username: string, password: string, options: VerifyOptions): RegistryGrant {
  checkSecret(options.secret);
  const parts = password.split('.');
  if (parts.length !== 3) throw new RegistryCredentialsError('password is not a signed token');
  const [header, payload, signature] = parts as [string, string, string];
  if (header !== HEADER) throw new RegistryCredentialsError('token header is not HS256');
  const expected = Buffer.from(sign(options.secret, `${header}.${payload}`));
  const given = Buffer.from(signature);
  if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw new RegistryCredentialsError('bad signature');
  const claims = parseClaims(payload);
  if (claims.iss !== ISSUER) throw new RegistryCredentialsError(`issuer is ${JSON.stringify(claims.iss)}`);
  if (registryUsername(claims.sub) !== username) throw new RegistryCredentialsError(`token was issued to ${claims.sub}, not ${username}`);
  const now = Math.floor((options.now ?? Date.now)() / 1000);
  if (now >= claims.exp) throw new RegistryCredentialsError(`token expired at ${new Date(claims.exp * 1000).toISOString()}`);
  const scope = /^repository:([^:]+):pull$/.exec(claims.scope);
  if (!scope) throw new RegistryCredentialsError(`scope ${JSON.stringify(claims.scope)} is not a pull scope`);
  return { subject: claims.sub, username, repository: scope[1] as string, actions: ['pull'], expiresAt: new Date(claims.exp * 1000), tokenId: claims.jti };
}

interface TokenClaims {
  readonly iss: string;
  readonly sub: string;
  readonly scope: string;
  readonly iat: number;
  readonly exp: number;
  readonly jti: string;
}

function parseClaims(payload: string): TokenClaims {
  let claims: Partial<Record<keyof TokenClaims, unknown>>;
  try {
    claims = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as typeof claims;
  } catch {
    throw new RegistryCredentialsError('token payload is not JSON');
  }
  const { iss, sub, scope, iat, exp, jti } = claims;
  if (typeof iss !== 'string' || typeof sub !== 'string' || typeof scope !== 'string' || typeof jti !== 'string' || typeof iat !== 'number' || typeof exp !== 'number') {
    throw new RegistryCredentialsError('token claims are incomplete');
  }
  return { iss, sub, scope, iat, exp, jti };
}

function checkSecret(secret: Uint8Array): void {
  if (secret.length < MIN_SECRET_BYTES) throw new RangeError(`the registry credential secret has ${secret.length} bytes; it needs at least ${MIN_SECRET_BYTES}`);
}

function sign(secret: Uint8Array, input: string): string {
  return createHmac('sha256', secret).update(input).digest('base64url');
}

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}
