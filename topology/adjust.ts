/**
 * Adjustments of a resolved topology, `Topology → Topology`, for the places it runs: local processes
 * (ports and URLs on 127.0.0.1), Kind (node addresses), the federation bootstrap. Each keeps the model's
 * derived fields consistent, so nothing has to be resolved again.
 */
import type { Topology, TrustDomain } from './model';

/** `topology` with `adjust` applied to every trust domain. */
export function mapTrustDomains(topology: Topology, adjust: (td: TrustDomain) => TrustDomain): Topology {
  return { ...topology, trustDomains: topology.trustDomains.map(adjust) };
}

/**
 * `topology` with the bundle endpoint of each domain that serves one moved to `endpointOf(td)` (its URL,
 * and its port when given), and every federation edge to that domain pointing at the new URL.
 */
export function withBundleEndpoints(topology: Topology, endpointOf: (td: TrustDomain) => { readonly url: string; readonly port?: number }): Topology {
  const urls = new Map<string, string>();
  const moved = mapTrustDomains(topology, (td) => {
    if (!td.bundleEndpoint) return td;
    const { url, port } = endpointOf(td);
    urls.set(td.name, url);
    return { ...td, bundleEndpoint: { ...td.bundleEndpoint, url, ...(port !== undefined && { port }) } };
  });
  return mapTrustDomains(moved, (td) => ({
    ...td,
    federatesWith: td.federatesWith.map((edge) => {
      const url = urls.get(edge.trustDomain);
      return url === undefined ? edge : { ...edge, bundleEndpointUrl: url };
    }),
  }));
}
