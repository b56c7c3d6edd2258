import { syncPeerEntry } from '@dirtk/directory-api/contract';
import type { Topology, TrustDomain } from './model';

/**
 * The `syncPeers` of `td`'s apiserver (`<host:port>=<peer apiserver SPIFFE ID>`): one per federation edge
 * to a domain of `topology` whose Directory can be synced from, at the gRPC address `grpcAddressOf` gives
 * for that peer (undefined when the peer's Directory cannot be reached, e.g. no registry beside it).
 */
export function syncPeersOf(topology: Topology, td: TrustDomain, grpcAddressOf: (peer: TrustDomain) => string | undefined): string[] {
  return td.federatesWith.flatMap((edge) => {
    const peer = topology.trustDomains.find((candidate) => candidate.name === edge.trustDomain);
    const address = peer?.apiserver && grpcAddressOf(peer);
    return peer?.apiserver && address !== undefined ? [syncPeerEntry(address, peer.apiserver.spiffeId)] : [];
  });
}

/** The registry's token `service` (the `aud` of its tokens) in a trust domain's Directory: one name per trust domain. */
export function registryService(td: TrustDomain): string {
  return `dirtk-registry.${td.name}`;
}
