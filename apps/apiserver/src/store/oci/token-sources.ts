/**
 * Bearer tokens for requests to an OCI registry (`RegistryTokenSource`), from one of two places:
 *
 * - `signedTokens`: the apiserver's own record store. The registry trusts the apiserver's
 *   token-signing key, so the apiserver signs tokens for itself: for its own repository only, with
 *   exactly the actions each request asks for.
 * - `tokenFlowTokens`: a peer's registry, through the Docker/OCI token flow with the basic
 *   credentials the peer's Directory issued (RequestRegistryCredentials): the registry's challenge
 *   names its token service, which exchanges the credentials for a token.
 *
 * Both keep a token per scope until shortly before it expires.
 */
import { registryUsername } from '@dirtk/directory-api/contract';
import { parseScope, type RegistryTokenKey, signRegistryToken } from '../../services/registry-token-service';
import { RegistryCredentialsRefusedError, type RegistryTokenSource } from './oci-records';

export interface SignedTokensOptions {
  readonly key: RegistryTokenKey;
  /** The registry's `auth.token.service`. */
  readonly service: string;
  /** The repository the tokens may name; any other is a programming error. */
  readonly repository: string;
  /** Who the tokens are for: the apiserver's own SPIFFE ID. */
  readonly spiffeId: string;
  /** @default 300 */
  readonly ttlSeconds?: number;
  /** Milliseconds since the epoch. */
  readonly now?: () => number;
}

/** Tokens the apiserver signs for its own store, scoped to what each request asks of its own repository. */
export function signedTokens(options: SignedTokensOptions): RegistryTokenSource {
  const now = options.now ?? Date.now;
  const ttlSeconds = options.ttlSeconds ?? 300;
  const subject = registryUsername(options.spiffeId);
  const cache = new TokenCache(now);
  return (scope) =>
    cache.get(scope, async () => {
      const parsed = parseScope(scope);
      if (parsed?.type !== 'repository' || parsed.name !== options.repository) {
        throw new Error(`the record store asked for a token for ${JSON.stringify(scope)}; it only ever uses repository ${options.repository}`);
      }
      const issuedAt = Math.floor(now() / 1000);
      const expiresAt = issuedAt + ttlSeconds;
      const token = await signRegistryToken({ key: options.key, service: options.service, subject, access: [parsed], issuedAt, expiresAt });
      return { token, expiresAt: expiresAt * 1000 };
    });
}

export interface BasicCredentials {
  readonly username: string;
  readonly password: string;
}

/**
 * Tokens from the token service the registry at `registryUrl` names in its challenge, bought with
 * `credentials`. A refusal is a `RegistryCredentialsRefusedError`.
 */
export function tokenFlowTokens(registryUrl: string, credentials: BasicCredentials, now: () => number = Date.now): RegistryTokenSource {
  let challenge: Promise<BearerChallenge> | undefined;
  const cache = new TokenCache(now);
  const authorization = `Basic ${Buffer.from(`${credentials.username}:${credentials.password}`, 'utf8').toString('base64')}`;
  return (scope) =>
    cache.get(scope, async () => {
      challenge ??= bearerChallenge(registryUrl).catch((error: unknown) => {
        challenge = undefined;
        throw error;
      });
      const { realm, service } = await challenge;
      const url = new URL(realm);
      url.searchParams.set('service', service);
      url.searchParams.append('scope', scope);
      const issuedAt = now();
      const response = await fetch(url, { headers: { Authorization: authorization }, signal: AbortSignal.timeout(30_000) });
      if (response.status === 401 || response.status === 403) {
        throw new RegistryCredentialsRefusedError(`the token service at ${realm} refused the credentials of ${credentials.username}: ${await errorText(response)}`);
      }
      if (!response.ok) throw new Error(`the token service at ${realm} answered ${response.status}: ${await errorText(response)}`);
      const body = (await response.json()) as { token?: unknown; access_token?: unknown; expires_in?: unknown };
      const token = typeof body.token === 'string' ? body.token : body.access_token;
      if (typeof token !== 'string' || token === '') throw new Error(`the token service at ${realm} answered without a token`);
      // The distribution spec's default when the service names no lifetime.
      const lifetimeSeconds = typeof body.expires_in === 'number' && body.expires_in >= 0 ? body.expires_in : 60;
      return { token, expiresAt: issuedAt + lifetimeSeconds * 1000 };
    });
}

interface BearerChallenge {
  readonly realm: string;
  readonly service: string;
}

/** The registry's `WWW-Authenticate: Bearer realm="…",service="…"` for an anonymous `/v2/`. */
async function bearerChallenge(registryUrl: string): Promise<BearerChallenge> {
  const response = await fetch(`${registryUrl.replace(/\/$/, '')}/v2/`, { signal: AbortSignal.timeout(30_000) });
  await response.body?.cancel();
  const header = response.headers.get('www-authenticate') ?? '';
  if (response.status !== 401 || !/^bearer\s/i.test(header)) {
    throw new Error(`the registry at ${registryUrl} did not ask for a bearer token (status ${response.status}, WWW-Authenticate ${JSON.stringify(header)}); it must use token authentication`);
  }
  const parameters = new Map([...header.matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1]!.toLowerCase(), match[2]!]));
  const realm = parameters.get('realm');
  const service = parameters.get('service') ?? '';
  if (!realm || !/^https?:\/\//.test(realm)) throw new Error(`the registry at ${registryUrl} names no http(s) token realm: ${JSON.stringify(header)}`);
  return { realm, service };
}

async function errorText(response: Response): Promise<string> {
  return (await response.text().catch(() => '')).slice(0, 500) || '(no body)';
}

interface CachedToken {
  readonly token: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

/** One token per scope, renewed once less than a fifth of its life (at most 30 s) is left; one request in flight per scope. */
class TokenCache {
  private readonly tokens = new Map<string, Promise<CachedToken & { renewAt: number }>>();

  constructor(private readonly now: () => number) {}

  async get(scope: string, issue: () => Promise<CachedToken>): Promise<string> {
    const cached = this.tokens.get(scope);
    if (cached) {
      const token = await cached.catch(() => undefined);
      if (token && this.now() < token.renewAt) return token.token;
      if (this.tokens.get(scope) !== cached) return this.get(scope, issue);
    }
    const issued = issue().then((token) => ({ ...token, renewAt: token.expiresAt - Math.min(30_000, (token.expiresAt - this.now()) / 5) }));
    this.tokens.set(scope, issued);
    issued.catch(() => this.tokens.get(scope) === issued && this.tokens.delete(scope));
    return (await issued).token;
  }
}
