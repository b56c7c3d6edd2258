/**
 * The registry's token service (the Docker/OCI token flow): the registry sends unauthenticated
 * clients here (`WWW-Authenticate: Bearer realm=…,service=…,scope=…`); a client presents the
 * credentials RequestRegistryCredentials gave it (HTTP Basic) and gets a bearer token the registry
 * trusts:
 *
 *   GET /registry/token?service=<service>&scope=repository:<name>:<actions>[&scope=…]
 *   → 200 { token, access_token, expires_in, issued_at }
 *
 * The token is an ES256 JWT with the claims Distribution's `registry/auth/token` checks:
 * `iss` (REGISTRY_TOKEN_ISSUER), `aud` (= service), `sub` (the registry username), `exp`/`nbf`/`iat`,
 * `jti`, and `access: [{ type: "repository", name, actions: ["pull"] }]`; its header names the signing
 * key by `kid` (the key's RFC 7638 thumbprint), which the registry looks up in its JWKS file.
 *
 * Deny by default: the access granted is the requested access intersected with the credentials'
 * grant, `repository:<their repository>:pull` at most. Push, delete, other repositories and the
 * catalog are left out of the token, so the registry refuses them (401 insufficient_scope). Missing
 * or bad credentials get 401 with a Basic challenge; a foreign `service` gets 400.
 *
 * The token never outlives the credentials that bought it: `exp` is the earlier of now + ttl and the
 * credentials' expiry.
 */
import { createPrivateKey, type KeyObject, randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { SignJWT } from 'jose';
import {
  REGISTRY_PULL_ACTION,
  REGISTRY_TOKEN_ALGORITHM,
  REGISTRY_TOKEN_ISSUER,
  registryTokenKeyId,
  type RegistryTokenPublicJwk,
} from '@dirtk/directory-api/contract';
import { type RegistryGrant, RegistryCredentialsError, verifyRegistryCredentials } from './registry-credentials';

/** Registry bearer tokens live this long unless configured: long enough for one sync pass, short enough to bound a leak. */
export const DEFAULT_REGISTRY_TOKEN_TTL_SECONDS = 300;

/** One resource's access, as in the token's `access` claim. */
export interface RegistryAccess {
  readonly type: string;
  readonly name: string;
  readonly actions: readonly string[];
}

/** The token-signing key: private half for the apiserver, public half (with its `kid`) for the registry's JWKS. */
export interface RegistryTokenKey {
  readonly privateKey: KeyObject;
  readonly kid: string;
  readonly publicJwk: RegistryTokenPublicJwk & { readonly kid: string; readonly alg: typeof REGISTRY_TOKEN_ALGORITHM; readonly use: 'sig' };
}

export class RegistryTokenKeyError extends Error {
  override name = 'RegistryTokenKeyError';
}

/** Reads an EC P-256 private key (PEM, PKCS#8 or SEC1); `source` names it in errors. */
export function registryTokenKey(pem: string | Buffer, source: string): RegistryTokenKey {
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch (error) {
    throw new RegistryTokenKeyError(`${source}: not a PEM private key (${(error as Error).message})`);
  }
  if (privateKey.asymmetricKeyType !== 'ec' || privateKey.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    const curve = privateKey.asymmetricKeyDetails?.namedCurve;
    throw new RegistryTokenKeyError(`${source}: the registry token key must be EC P-256 (for ${REGISTRY_TOKEN_ALGORITHM}), not ${privateKey.asymmetricKeyType}${curve ? ` ${curve}` : ''}`);
  }
  const { x, y } = privateKey.export({ format: 'jwk' });
  const jwk: RegistryTokenPublicJwk = { kty: 'EC', crv: 'P-256', x: x as string, y: y as string };
  const kid = registryTokenKeyId(jwk);
  return { privateKey, kid, publicJwk: { ...jwk, kid, alg: REGISTRY_TOKEN_ALGORITHM, use: 'sig' } };
}

export interface RegistryTokenServiceOptions {
  /** The HMAC secret of RequestRegistryCredentials' passwords. */
  readonly credentialsSecret: Uint8Array;
  readonly signingKey: RegistryTokenKey;
  /** The registry's `auth.token.service`; the token's `aud`. */
  readonly service: string;
  readonly ttlSeconds?: number;
  /** Milliseconds since the epoch; the clock of both the credentials check and the token's `iat`/`nbf`/`exp`. */
  readonly now?: () => number;
  /** Told of every answer, for the log. */
  readonly onDecision?: (decision: RegistryTokenDecision) => void;
}

export interface RegistryTokenDecision {
  readonly status: number;
  readonly username?: string;
  readonly requested: readonly string[];
  readonly granted: readonly RegistryAccess[];
  readonly reason?: string;
}

export interface RegistryTokenAnswer {
  readonly status: number;
  readonly headers: Record<string, string>;
  readonly body: Record<string, unknown>;
}

export class RegistryTokenService {
  private readonly ttlSeconds: number;
  private readonly now: () => number;

  constructor(private readonly options: RegistryTokenServiceOptions) {
    const ttl = options.ttlSeconds ?? DEFAULT_REGISTRY_TOKEN_TTL_SECONDS;
    if (!Number.isInteger(ttl) || ttl <= 0) throw new RangeError(`registry token ttlSeconds must be a positive integer, got ${ttl}`);
    if (options.service.trim() === '') throw new RangeError('the registry service name (the tokens\' aud) must not be empty');
    this.ttlSeconds = ttl;
    this.now = options.now ?? Date.now;
  }

  /** Answers one token request: its query string and Authorization header. */
  async answer(query: URLSearchParams, authorization: string | undefined): Promise<RegistryTokenAnswer> {
    const requested = query.getAll('scope').flatMap((scope) => scope.split(' ')).filter((scope) => scope !== '');
    const refuse = (status: number, error: string, reason: string, username?: string): RegistryTokenAnswer => {
      this.options.onDecision?.({ status, username, requested, granted: [], reason });
      const headers: Record<string, string> = status === 401 ? { 'www-authenticate': 'Basic realm="dirtk registry token service", charset="UTF-8"' } : {};
      return { status, headers, body: { errors: [{ code: error, message: reason }] } };
    };

    const service = query.get('service');
    if (service !== this.options.service) {
      return refuse(400, 'DENIED', `tokens are issued for service ${JSON.stringify(this.options.service)} only, not ${JSON.stringify(service ?? '(none)')}`);
    }
    const basic = parseBasic(authorization);
    if (!basic) return refuse(401, 'UNAUTHORIZED', 'HTTP Basic credentials from RequestRegistryCredentials are required');
    let grant: RegistryGrant;
    try {
      grant = verifyRegistryCredentials(basic.username, basic.password, { secret: this.options.credentialsSecret, now: this.now });
    } catch (error) {
      if (error instanceof RegistryCredentialsError || error instanceof RangeError) return refuse(401, 'UNAUTHORIZED', error.message, basic.username);
      throw error;
    }

    const granted = grantedAccess(requested, grant);
    const issuedAt = Math.floor(this.now() / 1000);
    const expiresAt = Math.min(issuedAt + this.ttlSeconds, Math.floor(grant.expiresAt.getTime() / 1000));
    const token = await signRegistryToken({
      key: this.options.signingKey,
      service: this.options.service,
      subject: grant.username,
      access: granted,
      issuedAt,
      expiresAt,
    });
    this.options.onDecision?.({ status: 200, username: grant.username, requested, granted });
    return {
      status: 200,
      headers: { 'cache-control': 'no-store' },
      body: { token, access_token: token, expires_in: expiresAt - issuedAt, issued_at: new Date(issuedAt * 1000).toISOString() },
    };
  }

  /** A `node:http` handler for REGISTRY_TOKEN_PATH. */
  handle(request: IncomingMessage, response: ServerResponse): void {
    const query = new URL(request.url ?? '/', 'http://apiserver').searchParams;
    this.answer(query, request.headers.authorization).then(
      (answer) => response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers }).end(JSON.stringify(answer.body)),
      (error: Error) =>
        response.writeHead(500, { 'content-type': 'application/json' }).end(JSON.stringify({ errors: [{ code: 'UNKNOWN', message: `issuing a registry token failed: ${error.message}` }] })),
    );
  }
}

export interface RegistryTokenClaims {
  readonly key: RegistryTokenKey;
  /** The registry's `auth.token.service`: the token's `aud`. */
  readonly service: string;
  /** The registry username the token is for. */
  readonly subject: string;
  readonly access: readonly RegistryAccess[];
  /** Seconds since the epoch. */
  readonly issuedAt: number;
  /** Seconds since the epoch. */
  readonly expiresAt: number;
}

/** A registry bearer token: an ES256 JWT with the claims Distribution's `registry/auth/token` checks. */
export function signRegistryToken(claims: RegistryTokenClaims): Promise<string> {
  return new SignJWT({ access: claims.access })
    .setProtectedHeader({ alg: REGISTRY_TOKEN_ALGORITHM, typ: 'JWT', kid: claims.key.kid })
    .setIssuer(REGISTRY_TOKEN_ISSUER)
    .setSubject(claims.subject)
    .setAudience(claims.service)
    .setIssuedAt(claims.issuedAt)
    .setNotBefore(claims.issuedAt)
    .setExpirationTime(claims.expiresAt)
    .setJti(randomUUID())
    .sign(claims.key.privateKey);
}

/**
 * The requested access the grant covers: for each `repository:<name>:<actions>` scope naming the
 * grant's repository, the pull action if asked for. Everything else is left out.
 */
export function grantedAccess(requested: readonly string[], grant: Pick<RegistryGrant, 'repository'>): RegistryAccess[] {
  const pullRequested = requested.some((scope) => {
    const parsed = parseScope(scope);
    return parsed?.type === 'repository' && parsed.name === grant.repository && parsed.actions.includes(REGISTRY_PULL_ACTION);
  });
  return pullRequested ? [{ type: 'repository', name: grant.repository, actions: [REGISTRY_PULL_ACTION] }] : [];
}

/** `type:name:actions`, where the name may itself hold colons (`repository:host:5000/x:pull` is not ours, but parses). */
export function parseScope(scope: string): { type: string; name: string; actions: string[] } | undefined {
  const first = scope.indexOf(':');
  const last = scope.lastIndexOf(':');
  if (first <= 0 || last === first) return undefined;
  return { type: scope.slice(0, first), name: scope.slice(first + 1, last), actions: scope.slice(last + 1).split(',') };
}

/** HTTP Basic: the user-id ends at the first colon (RFC 7617), so registry usernames carry none. */
function parseBasic(header: string | undefined): { username: string; password: string } | undefined {
  const match = /^basic\s+(\S+)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  const decoded = Buffer.from(match[1] as string, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon <= 0) return undefined;
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}
