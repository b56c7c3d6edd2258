/**
 * The Distribution registry's configuration (`registry serve config.yml`), rendered in one place
 * from typed, validated settings: filesystem storage, one HTTP listener, and token authentication
 * against the apiserver's token service, trusting only the token-signing keys listed in a JWKS file.
 *
 * Key rotation: the JWKS lists the current key and the next one (`trustedKeys`). To rotate: add the
 * next key's public half, restart the registry (it reads the JWKS at start), point the apiserver at
 * the next key and restart it, then, once the longest token lifetime has passed, drop the old key
 * and restart the registry again. Tokens name their key by `kid`, so both keys verify meanwhile.
 */
import { stringify } from 'yaml';
import {
  parseHostPort,
  REGISTRY_TOKEN_ALGORITHM,
  REGISTRY_TOKEN_ISSUER,
  registryTokenKeyId,
  type RegistryTokenPublicJwk,
} from '@dirtk/directory-api/contract';

export interface RegistryConfigOptions {
  /** `host:port` the registry listens on; loopback only in local mode. */
  readonly listen: string;
  /** Where blobs and manifests live. */
  readonly storageDir: string;
  /** The token service: `http://<apiserver http>/registry/token`. */
  readonly tokenRealm: string;
  /** The `aud` tokens must carry (the apiserver's registry service setting). */
  readonly service: string;
  /** The file the JWKS is written to (`registryJwks`); the config points at it. */
  readonly jwksFile: string;
  /** Public halves of the keys whose tokens the registry honours: the current, and the next during rotation. */
  readonly trustedKeys: readonly RegistryTokenPublicJwk[];
  /** Whether manifests may be deleted (the OCI record store's delete needs it). @default false */
  readonly deleteEnabled?: boolean;
  /** @default 'info' */
  readonly logLevel?: 'error' | 'warn' | 'info' | 'debug';
}

export class RegistryConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid registry configuration:\n${problems.map((problem) => `  - ${problem}`).join('\n')}`);
    this.name = 'RegistryConfigError';
  }
}

/** Every problem with `options`, at once. */
export function registryConfigProblems(options: RegistryConfigOptions): string[] {
  const problems: string[] = [];
  const listen = parseHostPort(options.listen);
  if (!listen || listen.port === 0) problems.push(`listen "${options.listen}" is not host:port with a fixed port`);
  let realm: URL | undefined;
  try {
    realm = new URL(options.tokenRealm);
  } catch {
    problems.push(`tokenRealm "${options.tokenRealm}" is not a URL`);
  }
  if (realm && realm.protocol !== 'http:' && realm.protocol !== 'https:') problems.push(`tokenRealm "${options.tokenRealm}" is not http(s)`);
  if (options.service.trim() === '') problems.push('service (the tokens\' aud) is empty');
  if (!options.storageDir.startsWith('/')) problems.push(`storageDir "${options.storageDir}" is not an absolute path`);
  if (!options.jwksFile.startsWith('/')) problems.push(`jwksFile "${options.jwksFile}" is not an absolute path`);
  if (options.trustedKeys.length === 0) problems.push('trustedKeys is empty: the registry would trust no token (Distribution refuses to start)');
  for (const [index, key] of options.trustedKeys.entries()) {
    if (key.kty !== 'EC' || key.crv !== 'P-256' || !key.x || !key.y) problems.push(`trustedKeys[${index}] is not an EC P-256 public key`);
    if ('d' in key) problems.push(`trustedKeys[${index}] holds a private key; only public halves belong in the registry's JWKS`);
  }
  return problems;
}

/** The registry's YAML configuration; throws RegistryConfigError listing every problem. */
export function renderRegistryConfig(options: RegistryConfigOptions): string {
  const problems = registryConfigProblems(options);
  if (problems.length > 0) throw new RegistryConfigError(problems);
  return stringify({
    version: 0.1,
    log: { level: options.logLevel ?? 'info', formatter: 'text', accesslog: { disabled: false } },
    storage: { filesystem: { rootdirectory: options.storageDir }, delete: { enabled: options.deleteEnabled ?? false }, maintenance: { uploadpurging: { enabled: false } } },
    http: { addr: options.listen, headers: { 'X-Content-Type-Options': ['nosniff'] } },
    auth: {
      token: {
        realm: options.tokenRealm,
        service: options.service,
        issuer: REGISTRY_TOKEN_ISSUER,
        jwks: options.jwksFile,
        signingalgorithms: [REGISTRY_TOKEN_ALGORITHM],
      },
    },
  });
}

/** The JWKS file's content: each trusted key under its `kid` (the thumbprint the token service puts in token headers). */
export function registryJwks(keys: readonly RegistryTokenPublicJwk[]): string {
  return `${JSON.stringify(
    { keys: keys.map(({ kty, crv, x, y }) => ({ kty, crv, x, y, kid: registryTokenKeyId({ kty, crv, x, y }), alg: REGISTRY_TOKEN_ALGORITHM, use: 'sig' })) },
    null,
    2,
  )}\n`;
}
