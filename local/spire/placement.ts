/**
 * Placements for SPIRE running as local processes: everything on 127.0.0.1, join-token node
 * attestation, the unix workload attestor, static federation, and one state directory per process.
 */
import path from 'node:path';
import type { AgentPlacement, ServerPlacement } from '../../spire/config/placement';
import type { TrustDomain } from '../../topology/model';
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
  /** The server's own state directory (socket, datastore, keys). */
  readonly dir: string;
  readonly ports: LocalServerPorts;
}

export function localServerPlacement(td: TrustDomain, { dir, ports }: LocalServerOptions): ServerPlacement {
  return {
    bindAddress: LOOPBACK,
    bindPort: ports.server,
    socketPath: socketPath(dir, 'api.sock', `the SPIRE server of ${td.name}`),
    dataDir: path.join(dir, 'data'),
    healthAddress: LOOPBACK,
    healthPort: ports.health,
    bundleEndpointAddress: LOOPBACK,
    bundleEndpointPort: ports.bundleEndpoint,
    nodeAttestor: { type: 'join_token' },
    federationRelationships: 'static',
  };
}

export interface LocalAgentOptions {
  /** The agent's own state directory (Workload API socket, data dir with its SVID and keys). */
  readonly dir: string;
  readonly serverPort: number;
  readonly healthPort: number;
}

export function localAgentPlacement(td: TrustDomain, { dir, serverPort, healthPort }: LocalAgentOptions): AgentPlacement {
  return {
    serverAddress: LOOPBACK,
    serverPort,
    socketPath: socketPath(dir, 'workload.sock', `the SPIRE agent of ${td.name}`),
    dataDir: path.join(dir, 'data'),
    trustBundlePath: path.join(dir, 'bootstrap.pem'),
    trustBundleFormat: 'pem',
    healthAddress: LOOPBACK,
    healthPort,
    nodeAttestor: { type: 'join_token' },
    workloadAttestor: { type: 'unix' },
    // Join tokens are single-use: the agent must find its SVID and key on disk after a restart.
    keyManager: 'disk',
  };
}

function socketPath(dir: string, file: string, owner: string): string {
  const socket = path.resolve(dir, file);
  if (Buffer.byteLength(socket) > MAX_SOCKET_PATH_BYTES) {
    throw new Error(
      `the socket path of ${owner}, ${socket}, is longer than the ${MAX_SOCKET_PATH_BYTES} bytes a Unix socket address holds; ` +
        'use a shorter state directory (e.g. one under /tmp)',
    );
  }
  return socket;
}
