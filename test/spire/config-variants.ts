import type { AgentPlacement, ServerPlacement } from '../../spire/config/placement';
import { EXAMPLE_FEDERATION, resolveTopology, type TopologySpec, type TrustDomain } from '../../topology';

/** A placement of the kind local processes use: loopback, join tokens, unix workload attestation. */
export function processServerPlacement(dir: string, overrides: Partial<ServerPlacement> = {}): ServerPlacement {
  return {
    bindAddress: '127.0.0.1',
    bindPort: 18081,
    socketPath: `${dir}/server/api.sock`,
    dataDir: `${dir}/server/data`,
    healthAddress: '127.0.0.1',
    healthPort: 18080,
    bundleEndpointAddress: '127.0.0.1',
    bundleEndpointPort: 18443,
    nodeAttestor: { type: 'join_token' },
    federationRelationships: 'static',
    ...overrides,
  };
}

export function processAgentPlacement(dir: string, overrides: Partial<AgentPlacement> = {}): AgentPlacement {
  return {
    serverAddress: '127.0.0.1',
    serverPort: 18081,
    socketPath: `${dir}/agent/workload.sock`,
    dataDir: `${dir}/agent/data`,
    trustBundlePath: `${dir}/agent/bootstrap.pem`,
    trustBundleFormat: 'pem',
    healthAddress: '127.0.0.1',
    healthPort: 18089,
    nodeAttestor: { type: 'join_token' },
    workloadAttestor: { type: 'unix', discoverWorkloadPath: true },
    keyManager: 'disk',
    ...overrides,
  };
}

export const PEER_EDGE = { trustDomain: 'peer.example', bundleEndpointUrl: 'https://127.0.0.1:19443' } as const;

/** Trust domains exercising every branch of the renderer, each resolved from a valid spec. */
export function rendererVariants(): Array<[string, TrustDomain]> {
  const one = (spec: TopologySpec): TrustDomain => resolveTopology(spec).trustDomains[0]!;
  const [dir, dirctl] = resolveTopology(EXAMPLE_FEDERATION).trustDomains;
  return [
    ['dir.example (example federation)', dir!],
    ['dirctl.example (example federation)', dirctl!],
    ['standalone, no federation', one({ trustDomains: [{ name: 'solo.example', clusterName: 'solo' }] })],
    [
      'postgres, three replicas, rsa-4096, memory keys',
      one({
        trustDomains: [
          {
            name: 'ha.example',
            clusterName: 'ha',
            server: { replicas: 3, caKeyType: 'rsa-4096', keyManager: 'memory', datastore: { type: 'postgres', connectionStringSecret: 'spire-db' } },
          },
        ],
      }),
    ],
    [
      'upstream authority and an https_spiffe peer with a seeded bundle',
      one({
        trustDomains: [
          {
            name: 'up.example',
            clusterName: 'up',
            server: { upstreamAuthority: { type: 'disk' } },
            federatesWith: [{ ...PEER_EDGE, trustDomainBundle: '{"keys":[]}' }],
          },
        ],
      }),
    ],
    [
      'https_web bundle endpoint and an https_web peer',
      one({
        trustDomains: [
          {
            name: 'web.example',
            clusterName: 'web',
            bundleEndpoint: { profile: 'https_web', servingCertSecret: 'web-tls', serviceType: 'LoadBalancer' },
            federatesWith: [{ trustDomain: 'peer.example', bundleEndpointUrl: 'https://peer.example.org', profile: 'https_web' }],
          },
        ],
      }),
    ],
  ];
}
