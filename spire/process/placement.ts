/**
 * Placements for SPIRE running as local processes: everything on 127.0.0.1, join-token node
 * attestation, the unix workload attestor, and one state directory per process.
 */
import path from 'node:path';
import type { AgentPlacement, ServerPlacement } from '../config/placement';
import { UPSTREAM_CA_FILES, type TrustDomain } from '../../topology/model';
import { LOOPBACK } from './ports';

/** Linux `sun_path` holds 108 bytes including the terminating NUL. */
const MAX_SOCKET_PATH_BYTES = 107;

export interface LocalServerPorts {
  /** The server API agents connect to. */
  readonly server: number;
  readonly health: number;
  readonly bundleEndpoint: number;
}

export interface LocalServerOptions {
  /** The server's own state directory (datastore, keys). */
  readonly dir: string;
  readonly ports: LocalServerPorts;
  /** @default dir; a shorter one when `dir` is too long for a Unix socket path */
  readonly socketDir?: string;
  /**
   * `static` renders the model's federation edges into server.conf; `dynamic` leaves them to
   * `spire-server federation create`, which can seed a relationship with the peer's bundle.
   * @default 'static'
   */
  readonly federationRelationships?: ServerPlacement['federationRelationships'];
  /** Folder with `tls.crt`, `tls.key` and `bundle.crt` of the `disk` UpstreamAuthority, when the model has one. */
  readonly upstreamCaDir?: string;
}

export function localServerPlacement(td: TrustDomain, options: LocalServerOptions): ServerPlacement {
  const { dir, ports, socketDir = dir, federationRelationships = 'static', upstreamCaDir } = options;
  return {
    bindAddress: LOOPBACK,
    bindPort: ports.server,
    socketPath: socketPath(socketDir, 'api.sock', `the SPIRE server of ${td.name}`),
    dataDir: path.join(dir, 'data'),
    healthAddress: LOOPBACK,
    healthPort: ports.health,
    bundleEndpointAddress: LOOPBACK,
    bundleEndpointPort: ports.bundleEndpoint,
    nodeAttestor: { type: 'join_token' },
    federationRelationships,
    ...(upstreamCaDir !== undefined && {
      upstreamAuthority: {
        certFile: path.join(upstreamCaDir, UPSTREAM_CA_FILES.certificate),
        keyFile: path.join(upstreamCaDir, UPSTREAM_CA_FILES.key),
        bundleFile: path.join(upstreamCaDir, UPSTREAM_CA_FILES.bundle),
      },
    }),
  };
}

export interface LocalAgentOptions {
  /** The agent's own state directory (data dir with its SVID and keys). */
  readonly dir: string;
  readonly serverPort: number;
  readonly healthPort: number;
  /** Where the Workload API socket lives. @default dir */
  readonly socketDir?: string;
}

export function localAgentPlacement(td: TrustDomain, { dir, serverPort, healthPort, socketDir = dir }: LocalAgentOptions): AgentPlacement {
  return {
    serverAddress: LOOPBACK,
    serverPort,
    socketPath: socketPath(socketDir, 'workload.sock', `the SPIRE agent of ${td.name}`),
    dataDir: path.join(dir, 'data'),
    trustBundlePath: path.join(dir, 'bootstrap.pem'),
    trustBundleFormat: 'pem',
    healthAddress: LOOPBACK,
    healthPort,
    nodeAttestor: { type: 'join_token' },
    // unix:path selectors let entries tell apart processes of one user by their executable.
    workloadAttestor: { type: 'unix', discoverWorkloadPath: true },
    // Join tokens are single-use: the agent must find its SVID and key on disk after a restart.
    keyManager: 'disk',
  };
}

/** Whether a socket named `file` in `dir` fits a Unix socket address. */
export function socketPathFits(dir: string, file: string): boolean {
  return Buffer.byteLength(path.resolve(dir, file)) <= MAX_SOCKET_PATH_BYTES;
}

function socketPath(dir: string, file: string, owner: string): string {
  const socket = path.resolve(dir, file);
  if (!socketPathFits(dir, file)) {
    throw new Error(
      `the socket path of ${owner}, ${socket}, is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket address holds; ` +
        'use a shorter state directory (e.g. one under /tmp)',
    );
  }
  return socket;
}
