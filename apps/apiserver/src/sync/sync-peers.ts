/**
 * The remote Directories this apiserver may sync from, and who each must prove to be: a sync dials
 * `remote_directory_url` only when it names a known peer, and accepts the connection only from that
 * peer's apiserver SPIFFE ID, verified against the bundle of the peer's own trust domain. A URL
 * nobody configured is never dialled.
 *
 * Configured as `<host:port>=<apiserver SPIFFE ID>` entries (contract/sync-peer.ts; the topology renders
 * them from the federation's edges).
 */
import { parseSyncPeerEntry } from '@dirtk/directory-api/contract';
import { SpiffeId } from '@dirtk/spiffe/spiffeid';

export interface SyncPeer {
  /** `host:port` of the peer's gRPC listener. */
  readonly address: string;
  readonly apiserverId: SpiffeId;
}

export class SyncPeers {
  private constructor(private readonly byAddress: ReadonlyMap<string, SyncPeer>) {}

  /** Parses `address=spiffe-id` entries; every problem is reported. */
  static parse(entries: readonly string[]): { peers: SyncPeers; problems: string[] } {
    const problems: string[] = [];
    const byAddress = new Map<string, SyncPeer>();
    for (const entry of entries) {
      const parsed = parseSyncPeerEntry(entry);
      if (!parsed) {
        problems.push(`"${entry}" is not <host:port>=<apiserver SPIFFE ID>`);
        continue;
      }
      const { address } = parsed;
      let apiserverId: SpiffeId;
      try {
        apiserverId = SpiffeId.parse(parsed.spiffeId);
      } catch (error) {
        problems.push(`"${entry}": ${(error as Error).message}`);
        continue;
      }
      if (byAddress.has(address)) problems.push(`"${address}" is listed twice`);
      byAddress.set(address, { address, apiserverId });
    }
    return { peers: new SyncPeers(byAddress), problems };
  }

  static none(): SyncPeers {
    return new SyncPeers(new Map());
  }

  /** The peer a sync's `remote_directory_url` names (`host:port`, optionally with an `https://` or `grpc://` scheme), if configured. */
  peerAt(remoteDirectoryUrl: string): SyncPeer | undefined {
    return this.byAddress.get(remoteDirectoryUrl.replace(/^(https|grpc|grpcs):\/\//, '').replace(/\/$/, ''));
  }

  get addresses(): string[] {
    return [...this.byAddress.keys()];
  }
}
