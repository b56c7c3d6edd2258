/**
 * Options: their `util.parseArgs` shape plus help text, the global ones every command takes, and
 * the settings they resolve to (the flag, else the environment variable, else the default).
 */
import { DEFAULT_GRPC_PORT, parseHostPort } from '@dirtk/directory-api/contract';
import type { ParseArgsConfig } from 'node:util';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { parseWorkloadEndpoint } from '@dirtk/spiffe/workloadapi';
import { UsageError } from './errors';

export interface OptionSpec {
  readonly type: 'string' | 'boolean';
  readonly multiple?: boolean;
  readonly short?: string;
  /** Placeholder of the value in help, e.g. "host:port". */
  readonly value?: string;
  readonly help: string;
  /** Read when the flag is absent. */
  readonly env?: string;
  /** Used when neither the flag nor `env` is set; shown in help. */
  readonly fallback?: string;
}

export type OptionSpecs = Readonly<Record<string, OptionSpec>>;

/** What `util.parseArgs` returns for options like ours. */
export type OptionValues = Readonly<Record<string, string | boolean | Array<string | boolean> | undefined>>;

export const GLOBAL_OPTIONS = {
  server: { type: 'string', value: 'host:port', help: "the apiserver's gRPC address", env: 'DIRCTL_SERVER', fallback: `127.0.0.1:${DEFAULT_GRPC_PORT}` },
  'spiffe-socket': {
    type: 'string',
    value: 'address',
    help: 'the SPIFFE Workload API: unix:///path or tcp://<ip>:<port>',
    env: 'SPIFFE_ENDPOINT_SOCKET',
  },
  auth: {
    type: 'string',
    value: 'x509|jwt',
    help: 'x509: mutual TLS with the X.509-SVID; jwt: a JWT-SVID bearer token over TLS that authenticates the server only',
    env: 'DIRCTL_AUTH',
    fallback: 'x509',
  },
  'jwt-audience': { type: 'string', value: 'audience', help: 'the audience of the JWT-SVID (required with --auth jwt)', env: 'DIRCTL_JWT_AUDIENCE' },
  'svid-hint': {
    type: 'string',
    value: 'hint',
    help: 'use the SVID with this hint when the workload has several (with jwt: the JWT-SVID of that SVID\'s SPIFFE ID)',
    env: 'DIRCTL_SVID_HINT',
  },
  'server-id': { type: 'string', value: 'spiffe-id', help: 'accept only a server with this SPIFFE ID' },
  'server-trust-domain': {
    type: 'string',
    value: 'trust-domain',
    help: "accept only a server in this trust domain (default, without --server-id: the caller's own trust domain)",
  },
  json: { type: 'boolean', help: 'machine-readable output: one JSON value on stdout, errors as a JSON object on stderr' },
  timeout: { type: 'string', value: 'seconds', help: 'give up after this long, waiting for the identity included', fallback: '30' },
  help: { type: 'boolean', short: 'h', help: 'show help' },
} as const satisfies OptionSpecs;

export function parseArgsOptions(specs: OptionSpecs): NonNullable<ParseArgsConfig['options']> {
  return Object.fromEntries(
    Object.entries(specs).map(([name, { type, multiple, short }]) => [name, { type, ...(multiple && { multiple }), ...(short && { short }) }]),
  );
}

/** Whom the server must be; undefined: a member of the caller's own trust domain. */
export type ServerPin = { readonly id: SpiffeId } | { readonly trustDomain: TrustDomain } | undefined;

export interface Settings {
  /** gRPC target, `host:port`. */
  readonly server: string;
  /** Workload API address; undefined when neither the flag nor the variable is set. */
  readonly workloadEndpoint?: string;
  readonly auth: 'x509' | 'jwt';
  /** Set exactly when `auth` is jwt. */
  readonly jwtAudience?: string;
  readonly svidHint?: string;
  readonly serverPin: ServerPin;
  readonly json: boolean;
  readonly timeoutMs: number;
}

export function resolveSettings(values: OptionValues, env: Readonly<Record<string, string | undefined>>, command: string): Settings {
  const read = (name: keyof typeof GLOBAL_OPTIONS): string | undefined => {
    const spec: OptionSpec = GLOBAL_OPTIONS[name];
    const flag = values[name];
    if (typeof flag === 'string') return flag;
    const fromEnv = spec.env === undefined ? undefined : env[spec.env];
    return fromEnv !== undefined && fromEnv !== '' ? fromEnv : spec.fallback;
  };
  const invalid = (name: keyof typeof GLOBAL_OPTIONS, reason: string): UsageError => {
    const spec: OptionSpec = GLOBAL_OPTIONS[name];
    return new UsageError(`--${name}${spec.env ? ` (or ${spec.env})` : ''} ${reason}`, command);
  };

  const server = read('server')!;
  if (!parseHostPort(server)) throw invalid('server', `"${server}" is not host:port (e.g. 127.0.0.1:${DEFAULT_GRPC_PORT} or [::1]:${DEFAULT_GRPC_PORT})`);

  const workloadEndpoint = read('spiffe-socket');
  if (workloadEndpoint !== undefined) {
    try {
      parseWorkloadEndpoint(workloadEndpoint);
    } catch (error) {
      throw invalid('spiffe-socket', `is not usable: ${(error as Error).message}`);
    }
  }

  const auth = read('auth');
  if (auth !== 'x509' && auth !== 'jwt') throw invalid('auth', `must be x509 or jwt, not "${auth}"`);
  const jwtAudience = read('jwt-audience');
  if (auth === 'jwt' && jwtAudience === undefined) {
    throw invalid('jwt-audience', 'is required with --auth jwt: name the audience the apiserver accepts');
  }

  return {
    server,
    workloadEndpoint,
    auth,
    ...(auth === 'jwt' && { jwtAudience }),
    svidHint: read('svid-hint'),
    serverPin: serverPin(read('server-id'), read('server-trust-domain'), command),
    json: values.json === true,
    timeoutMs: timeoutMs(read('timeout')!, command),
  };
}

function serverPin(id: string | undefined, trustDomain: string | undefined, command: string): ServerPin {
  if (id !== undefined && trustDomain !== undefined) throw new UsageError('give --server-id or --server-trust-domain, not both', command);
  try {
    if (id !== undefined) return { id: SpiffeId.parse(id) };
    if (trustDomain !== undefined) return { trustDomain: TrustDomain.parse(trustDomain) };
    return undefined;
  } catch (error) {
    throw new UsageError(`--${id !== undefined ? 'server-id' : 'server-trust-domain'}: ${(error as Error).message}`, command);
  }
}

function timeoutMs(text: string, command: string): number {
  const seconds = Number(text);
  if (text.trim() === '' || !Number.isFinite(seconds) || seconds <= 0) {
    throw new UsageError(`--timeout must be a positive number of seconds, not "${text}"`, command);
  }
  return seconds * 1000;
}
