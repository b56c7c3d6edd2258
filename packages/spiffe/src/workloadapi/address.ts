/**
 * The Workload API endpoint address (SPIFFE Workload Endpoint standard): explicit configuration first,
 * else `SPIFFE_ENDPOINT_SOCKET`. Only `unix:///absolute/path` and `tcp://<IP literal>:<port>` are valid;
 * anything else is rejected here, before any RPC is attempted.
 */
import { isIPv4, isIPv6 } from 'node:net';

export const ENDPOINT_SOCKET_ENV = 'SPIFFE_ENDPOINT_SOCKET';

/** Linux `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_UNIX_PATH_BYTES = 107;

export type WorkloadEndpoint =
  | { readonly kind: 'unix'; readonly address: string; readonly path: string; readonly grpcTarget: string }
  | { readonly kind: 'tcp'; readonly address: string; readonly host: string; readonly port: number; readonly grpcTarget: string };

export class WorkloadEndpointError extends Error {
  /** `address` is undefined when none was configured. */
  constructor(readonly address: string | undefined, reason: string) {
    super(
      `${address === undefined ? 'no Workload API address' : `invalid Workload API address ${JSON.stringify(address)}`}: ${reason} ` +
        '(expected unix:///absolute/path or tcp://<IP>:<port>)',
    );
    this.name = 'WorkloadEndpointError';
  }
}

/** The endpoint from `explicit`, else from `SPIFFE_ENDPOINT_SOCKET` in `env`; throws when neither is set. */
export function resolveWorkloadEndpoint(explicit?: string, env: NodeJS.ProcessEnv = process.env): WorkloadEndpoint {
  const address = explicit ?? env[ENDPOINT_SOCKET_ENV];
  if (address === undefined || address === '') {
    throw new WorkloadEndpointError(
      undefined,
      `pass one explicitly or set ${ENDPOINT_SOCKET_ENV} (for a SPIRE agent: unix:// followed by its socket_path)`,
    );
  }
  return parseWorkloadEndpoint(address);
}

export function parseWorkloadEndpoint(address: string): WorkloadEndpoint {
  const separator = address.indexOf('://');
  if (separator === -1) throw new WorkloadEndpointError(address, 'missing "unix://" or "tcp://" scheme');
  // URI schemes are case-insensitive (RFC 3986 §3.1); everything after them is not.
  const scheme = address.slice(0, separator).toLowerCase();
  const rest = address.slice(separator + 3);
  for (const [char, what] of [
    ['?', 'a query'],
    ['#', 'a fragment'],
    ['%', 'percent-encoding'],
    ['\0', 'a NUL byte'],
  ] as const) {
    if (rest.includes(char)) throw new WorkloadEndpointError(address, `${what} is not allowed`);
  }
  switch (scheme) {
    case 'unix':
      return parseUnix(address, rest);
    case 'tcp':
      return parseTcp(address, rest);
    default:
      throw new WorkloadEndpointError(address, `unsupported scheme "${scheme}"`);
  }
}

function parseUnix(address: string, rest: string): WorkloadEndpoint {
  if (!rest.startsWith('/')) {
    throw new WorkloadEndpointError(
      address,
      rest.includes('/') || rest.includes('@')
        ? 'a unix address has no authority (host or userinfo); write unix:///absolute/path'
        : 'the socket path must be absolute; write unix:///absolute/path',
    );
  }
  if (rest === '/' || rest.endsWith('/')) throw new WorkloadEndpointError(address, 'the socket path names a directory, not a socket');
  if (Buffer.byteLength(rest) > MAX_UNIX_PATH_BYTES) {
    throw new WorkloadEndpointError(address, `the socket path is longer than the ${MAX_UNIX_PATH_BYTES} bytes a Unix socket address holds`);
  }
  return { kind: 'unix', address, path: rest, grpcTarget: `unix:${rest}` };
}

function parseTcp(address: string, rest: string): WorkloadEndpoint {
  if (rest.includes('@')) throw new WorkloadEndpointError(address, 'userinfo is not allowed');
  if (rest.includes('/')) throw new WorkloadEndpointError(address, 'a tcp address has no path');
  const match = /^(\[[^\]]*\]|[^:]*):(\d+)$/.exec(rest);
  if (!match) throw new WorkloadEndpointError(address, 'a tcp address needs an IP literal and a port, e.g. tcp://127.0.0.1:8081');
  const [, hostPart = '', portPart = ''] = match;
  const port = Number(portPart);
  if (port < 1 || port > 65535 || portPart.startsWith('0')) {
    throw new WorkloadEndpointError(address, `port "${portPart}" is not a port number (1-65535)`);
  }
  if (hostPart.startsWith('[')) {
    const host = hostPart.slice(1, -1);
    if (!isIPv6(host)) throw new WorkloadEndpointError(address, `"${host}" is not an IPv6 literal`);
    return { kind: 'tcp', address, host, port, grpcTarget: `ipv6:[${host}]:${port}` };
  }
  if (!isIPv4(hostPart)) {
    throw new WorkloadEndpointError(address, `the host must be an IP literal (IPv6 in brackets), not "${hostPart}"`);
  }
  return { kind: 'tcp', address, host: hostPart, port, grpcTarget: `ipv4:${hostPart}:${port}` };
}
