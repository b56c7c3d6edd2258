import type { TopologySpec } from '../topology';

/** `count` trust domains, each federated with every other one: the most objects per domain. */
export function meshTopology(count: number): TopologySpec {
  const names = Array.from({ length: count }, (_, i) => `td-${String(i).padStart(2, '0')}`);
  return {
    trustDomains: names.map((name) => ({
      name: `${name}.example`,
      clusterName: name,
      bundleEndpoint: { url: `https://${name}-control-plane:32443` },
      federatesWith: names.filter((peer) => peer !== name).map((peer) => ({ trustDomain: `${peer}.example` })),
      ...(name === names[0] && { apiserver: {} }),
    })),
  };
}
