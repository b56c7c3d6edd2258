import type { Topology, TrustDomain } from './model';
import type { TopologySpec, TrustDomainSpec } from './spec';

/**
 * The spec that resolves to `topology`, every default written out: how an adjusted topology is handed to
 * another process (the Kind scripts write it for synth and `pulumi up`). Derived members (IDs, the
 * Directory client identity) are left to `resolveTopology`.
 */
export function specOf(topology: Topology): TopologySpec {
  return { trustDomains: topology.trustDomains.map(trustDomainSpecOf) };
}

function trustDomainSpecOf(td: TrustDomain): TrustDomainSpec {
  const { replicas, caKeyType, caTtl, x509SvidTtl, jwtSvidTtl, datastore, keyManager, upstreamAuthority, attestedClusters, logLevel } = td.server;
  return {
    name: td.name,
    clusterName: td.clusterName,
    namespaces: { ...td.namespaces },
    server: {
      replicas,
      caKeyType,
      caTtl,
      x509SvidTtl,
      jwtSvidTtl,
      datastore,
      keyManager,
      ...(upstreamAuthority && { upstreamAuthority: { ...upstreamAuthority } }),
      attestedClusters: [...attestedClusters],
      logLevel,
    },
    agent: { ...td.agent },
    controllerManager: { ...td.controllerManager },
    ...(td.bundleEndpoint && { bundleEndpoint: { ...td.bundleEndpoint } }),
    federatesWith: td.federatesWith.map((edge) => ({ ...edge })),
    ...(td.apiserver && { apiserver: (({ spiffeId: _derived, ...settings }) => settings)(td.apiserver) }),
  };
}
