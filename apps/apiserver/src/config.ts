/**
 * Apiserver configuration: an optional YAML file (`DIRTK_APISERVER_CONFIG`), then environment
 * variables, which win. Every problem is reported at once.
 */
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import {
  APISERVER_CONFIG_FILE_VARIABLE,
  APISERVER_ENVIRONMENT,
  type ApiServerSetting,
  DEFAULT_GRPC_PORT,
  DEFAULT_HTTP_PORT,
  DEFAULT_REGISTRY_PORT,
  DEFAULT_REGISTRY_SERVICE,
  type HostPort,
  parseHostPort,
} from '@dirtk/directory-api/contract';
import type { LogLevel } from './observability/logger';
import { DEFAULT_REGISTRY_TOKEN_TTL_SECONDS } from './services/registry-token-service';
import { LOG_LEVELS } from './observability/logger';
import { SyncPeers } from './sync/sync-peers';

export interface ApiServerConfig {
  /** gRPC (SPIFFE mTLS) listen address. */
  readonly listen: HostPort;
  /** Plain HTTP: `/healthz`, `/readyz`, `/metrics`, and the registry token service at REGISTRY_TOKEN_PATH. */
  readonly httpListen: HostPort;
  /** Workload API address; undefined means `SPIFFE_ENDPOINT_SOCKET`. */
  readonly workloadEndpoint?: string;
  /** Serve with the SVID carrying this hint when the workload has several; the first otherwise. */
  readonly svidHint?: string;
  /** Authenticate callers by their X.509-SVID (mutual TLS). */
  readonly x509: boolean;
  /** Audiences a JWT-SVID bearer token may carry; empty turns JWT authentication off. */
  readonly jwtAudiences: readonly string[];
  /** `.csv` or `.yaml` policy, reloaded on change; undefined means the built-in default policy. */
  readonly policyFile?: string;
  /** Holds the syncs, and the records unless `storeRegistryUrl` is set. */
  readonly dataDir: string;
  /**
   * The OCI registry records are stored in (`http://host:port`), in repository `registry.repository`,
   * with tokens the apiserver signs with `registry.tokenKeyFile`; undefined keeps records in `dataDir`.
   */
  readonly storeRegistryUrl?: string;
  readonly sync: {
    /** Peers syncs may pull from: `<host:port>=<the peer apiserver's SPIFFE ID>`; empty: none. */
    readonly peers: SyncPeers;
    /** Passes before a sync FAILs. */
    readonly maxAttempts: number;
    /** Wait after the first failed pass, doubled after each next one. */
    readonly retryDelayMs: number;
  };
  readonly registry: {
    readonly address: string;
    readonly repository: string;
    readonly insecure: boolean;
    /** File with the HMAC secret of registry credentials; undefined means a random one per start. */
    readonly credentialsSecretFile?: string;
    /** The registry's `auth.token.service`: the `aud` of the bearer tokens the token service signs. */
    readonly service: string;
    /**
     * PEM EC P-256 private key that signs registry bearer tokens (ES256); the registry trusts its public
     * half. Undefined turns the token service off: RequestRegistryCredentials still answers, but no
     * registry can honour the credentials.
     */
    readonly tokenKeyFile?: string;
    /** Lifetime of registry bearer tokens; never beyond the credentials' own expiry. */
    readonly tokenTtlSeconds: number;
  };
  readonly logLevel: LogLevel;
  /**
   * How long to wait for the first SVID before giving up; `Infinity` (the default, set as 0) waits as
   * long as it takes, with `/readyz` failing meanwhile: a slow first attestation is not a crash.
   */
  readonly readyTimeoutMs: number;
}

export class ConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid apiserver configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Key = ApiServerSetting;
const SETTINGS = Object.entries(APISERVER_ENVIRONMENT) as [Key, string][];
const KEYS = new Set<string>(SETTINGS.map(([key]) => key));

export function loadConfig(env: NodeJS.ProcessEnv = process.env): ApiServerConfig {
  const problems: string[] = [];
  const raw = new Map<Key, unknown>();
  const file = env[APISERVER_CONFIG_FILE_VARIABLE];
  if (file) {
    for (const [key, value] of Object.entries(readConfigFile(file, problems))) {
      if (KEYS.has(key)) raw.set(key as Key, value);
      else problems.push(`${file}: unknown key "${key}" (known: ${[...KEYS].join(', ')})`);
    }
  }
  for (const [key, variable] of SETTINGS) {
    const value = env[variable];
    if (value !== undefined && value !== '') raw.set(key, value);
  }

  const read = new Reader(raw, problems);
  const config: ApiServerConfig = {
    listen: read.hostPort('listen', `127.0.0.1:${DEFAULT_GRPC_PORT}`),
    httpListen: read.hostPort('httpListen', `127.0.0.1:${DEFAULT_HTTP_PORT}`),
    workloadEndpoint: read.optionalString('workloadEndpoint'),
    svidHint: read.optionalString('svidHint'),
    x509: read.boolean('x509', true),
    jwtAudiences: read.list('jwtAudiences'),
    policyFile: read.optionalString('policyFile'),
    dataDir: read.optionalString('dataDir') ?? '/var/lib/dirtk',
    storeRegistryUrl: read.optionalUrl('storeRegistryUrl'),
    sync: {
      peers: read.syncPeers('syncPeers'),
      maxAttempts: read.nonNegativeInteger('syncMaxAttempts', 5) || 5,
      retryDelayMs: read.nonNegativeInteger('syncRetryDelayMs', 1_000),
    },
    registry: {
      address: read.optionalString('registryAddress') ?? `127.0.0.1:${DEFAULT_REGISTRY_PORT}`,
      repository: read.optionalString('registryRepository') ?? 'dir',
      insecure: read.boolean('registryInsecure', false),
      credentialsSecretFile: read.optionalString('credentialsSecretFile'),
      service: read.optionalString('registryService') ?? DEFAULT_REGISTRY_SERVICE,
      tokenKeyFile: read.optionalString('registryTokenKeyFile'),
      tokenTtlSeconds: read.nonNegativeInteger('registryTokenTtlSeconds', DEFAULT_REGISTRY_TOKEN_TTL_SECONDS) || DEFAULT_REGISTRY_TOKEN_TTL_SECONDS,
    },
    logLevel: read.oneOf('logLevel', LOG_LEVELS, 'info'),
    readyTimeoutMs: read.nonNegativeInteger('readyTimeoutMs', 0) || Infinity,
  };
  if (!config.x509 && config.jwtAudiences.length === 0) {
    problems.push(`no authentication left: enable x509 or set jwtAudiences (${APISERVER_ENVIRONMENT.jwtAudiences})`);
  }
  if (config.storeRegistryUrl !== undefined && config.registry.tokenKeyFile === undefined) {
    problems.push(`storeRegistryUrl (${APISERVER_ENVIRONMENT.storeRegistryUrl}) needs registryTokenKeyFile (${APISERVER_ENVIRONMENT.registryTokenKeyFile}): the apiserver signs its own registry tokens with that key`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return config;
}

function readConfigFile(file: string, problems: string[]): Record<string, unknown> {
  try {
    const parsed: unknown = parseYaml(readFileSync(file, 'utf8'));
    if (parsed === null || parsed === undefined) return {};
    if (typeof parsed !== 'object' || Array.isArray(parsed)) {
      problems.push(`${file}: must be a YAML mapping of settings`);
      return {};
    }
    return parsed as Record<string, unknown>;
  } catch (error) {
    problems.push(`${file}: ${(error as Error).message}`);
    return {};
  }
}

class Reader {
  constructor(private readonly raw: ReadonlyMap<Key, unknown>, private readonly problems: string[]) {}

  optionalString(key: Key): string | undefined {
    const value = this.raw.get(key);
    if (value === undefined) return undefined;
    if (typeof value !== 'string' || value.trim() === '') return this.fail(key, 'must be a non-empty string'), undefined;
    return value.trim();
  }

  optionalUrl(key: Key): string | undefined {
    const text = this.optionalString(key);
    if (text === undefined) return undefined;
    if (!/^https?:\/\/[^/\s]+\/?$/.test(text)) return this.fail(key, `"${text}" is not http(s)://host:port`), undefined;
    return text.replace(/\/$/, '');
  }

  syncPeers(key: Key): SyncPeers {
    const { peers, problems } = SyncPeers.parse(this.list(key));
    for (const problem of problems) this.fail(key, problem);
    return peers;
  }

  boolean(key: Key, fallback: boolean): boolean {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    if (value === true || value === 'true') return true;
    if (value === false || value === 'false') return false;
    this.fail(key, `must be true or false, not ${JSON.stringify(value)}`);
    return fallback;
  }

  list(key: Key): string[] {
    const value = this.raw.get(key);
    if (value === undefined) return [];
    const items = Array.isArray(value) ? value : typeof value === 'string' ? value.split(',') : undefined;
    if (!items || items.some((item) => typeof item !== 'string')) return this.fail(key, 'must be a list of strings'), [];
    return items.map((item: string) => item.trim()).filter((item) => item !== '');
  }

  nonNegativeInteger(key: Key, fallback: number): number {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    const number = Number(value);
    if (!Number.isInteger(number) || number < 0) return this.fail(key, `must be a whole number, 0 or more, not ${JSON.stringify(value)}`), fallback;
    return number;
  }

  oneOf<T extends string>(key: Key, allowed: readonly T[], fallback: T): T {
    const value = this.raw.get(key);
    if (value === undefined) return fallback;
    if (!allowed.includes(value as T)) return this.fail(key, `must be one of ${allowed.join(', ')}`), fallback;
    return value as T;
  }

  hostPort(key: Key, fallback: string): HostPort {
    const text = this.optionalString(key) ?? fallback;
    const parsed = parseHostPort(text);
    if (!parsed) this.fail(key, `"${text}" is not host:port (e.g. 127.0.0.1:${DEFAULT_GRPC_PORT} or [::1]:${DEFAULT_GRPC_PORT})`);
    return parsed ?? { host: '127.0.0.1', port: 0 };
  }

  private fail(key: Key, message: string): void {
    this.problems.push(`${key} (${APISERVER_ENVIRONMENT[key]}) ${message}`);
  }
}
