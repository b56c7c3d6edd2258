import type { TopologySpec } from './spec';

/**
 * The example federation: both trust domains run a Directory apiserver and clients (dirctl), and each
 * trusts the other, so each Directory serves the other's clients and can sync from the other's. Bundle
 * endpoints are NodePorts on the Kind control-plane nodes, which reach each other by container name on
 * the shared `kind` network.
 */
export const EXAMPLE_FEDERATION: TopologySpec = {
  trustDomains: [
    {
      name: 'dir.example',
      clusterName: 'dir-example',
      bundleEndpoint: { url: 'https://dir-example-control-plane:32443' },
      federatesWith: [{ trustDomain: 'dirctl.example' }],
      apiserver: {},
    },
    {
      name: 'dirctl.example',
      clusterName: 'dirctl-example',
      bundleEndpoint: { url: 'https://dirctl-example-control-plane:32443' },
      federatesWith: [{ trustDomain: 'dir.example' }],
      apiserver: {},
    },
  ],
};
