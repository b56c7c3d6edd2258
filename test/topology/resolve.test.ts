import { describe, expect, it } from 'vitest';
import {
  bundleEndpointUrlOf,
  EXAMPLE_FEDERATION,
  missingBundleEndpointUrls,
  resolveTopology,
  withBundleEndpoints,
  TopologyError,
  type TopologySpec,
  type TrustDomainSpec,
} from '../../topology';

function domain(overrides: Partial<TrustDomainSpec> = {}): TrustDomainSpec {
  return { name: 'a.example', clusterName: 'a', ...overrides };
}

function problemsOf(spec: TopologySpec): string[] {
  try {
    resolveTopology(spec);
  } catch (error) {
    expect(error).toBeInstanceOf(TopologyError);
    return (error as TopologyError).problems.map((p) => `${p.path}: ${p.message}`);
  }
  return [];
}


const TOKEN_KEY = { kty: 'EC' as const, crv: 'P-256' as const, x: 'n0lcUR9em1nOxMfmd93bSGIOs6qM5kKme9AkkDjeJ2M', y: 'vr3u7rWdM0h7vxaVX8wcstZs0IQraRwj6CBef7txQgo' };

describe('resolveTopology defaults', () => {
  it('resolves the example federation with both bundle endpoints and both apiserver identities', () => {
    const topology = resolveTopology(EXAMPLE_FEDERATION);
    const [dir, dirctl] = topology.trustDomains;
    expect(dir?.federatesWith).toEqual([
      {
        trustDomain: 'dirctl.example',
        bundleEndpointUrl: 'https://dirctl-example-control-plane:32443',
        profile: 'https_spiffe',
        endpointSpiffeId: 'spiffe://dirctl.example/spire/server',
      },
    ]);
    expect(dir?.bundleEndpoint?.profile).toBe('https_spiffe');
    expect(dir?.apiserver?.spiffeId).toBe('spiffe://dir.example/ns/dir/sa/dir-apiserver');
    expect(dirctl?.apiserver?.spiffeId).toBe('spiffe://dirctl.example/ns/dir/sa/dir-apiserver');
    expect([dir?.apiserver?.store, dirctl?.apiserver?.store]).toEqual(['filesystem', 'filesystem']);
    expect(dirctl?.controllerManager).toEqual({
      className: 'dir-spire',
      clusterName: 'dirctl-example',
      entryIdPrefix: 'dirctl-example.',
    });
  });

  it('serves a bundle endpoint only from domains that take part in federation', () => {
    const topology = resolveTopology({
      trustDomains: [
        domain({ federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b:8443' }] }),
        domain({ name: 'b.example', clusterName: 'b' }),
        domain({ name: 'c.example', clusterName: 'c' }),
      ],
    });
    expect(topology.trustDomains.map((td) => td.bundleEndpoint !== undefined)).toEqual([true, true, false]);
  });

  it('takes the URL and profile of an edge from the peer it names', () => {
    const topology = resolveTopology({
      trustDomains: [
        domain({ federatesWith: [{ trustDomain: 'b.example' }] }),
        domain({
          name: 'b.example',
          clusterName: 'b',
          bundleEndpoint: { url: 'https://b.example.org', profile: 'https_web', servingCertSecret: 'b-tls' },
        }),
      ],
    });
    expect(topology.trustDomains[0]?.federatesWith[0]).toEqual({
      trustDomain: 'b.example',
      bundleEndpointUrl: 'https://b.example.org',
      profile: 'https_web',
    });
  });

  it('keeps the records on the filesystem unless the spec asks for a registry, which alone allows several replicas', () => {
    const apiservers = resolveTopology({
      trustDomains: [
        domain({ apiserver: {} }),
        domain({ name: 'b.example', clusterName: 'b', apiserver: { store: 'registry' } }),
        domain({ name: 'c.example', clusterName: 'c', apiserver: { store: 'registry', replicas: 3 } }),
      ],
    }).trustDomains.map((td) => td.apiserver);
    expect(apiservers.map((apiserver) => [apiserver?.store, apiserver?.replicas])).toEqual([
      ['filesystem', 1],
      ['registry', 1],
      ['registry', 3],
    ]);
  });

  it('gives a registry its default node ports and token key Secret', () => {
    const td = resolveTopology({
      trustDomains: [domain({ apiserver: { store: 'registry', registry: { externalHost: '172.18.0.2', trustedKeys: [TOKEN_KEY] } } })],
    }).trustDomains[0]!;
    expect(td.apiserver?.registry).toEqual({ externalHost: '172.18.0.2', nodePort: 30500, tokenNodePort: 30880, trustedKeys: [TOKEN_KEY], tokenKeySecret: 'dir-registry-token-key' });
  });

  it('puts the apiserver behind a ClusterIP Service unless the spec asks for a NodePort', () => {
    const apiservers = resolveTopology({
      trustDomains: [
        domain({ apiserver: {} }),
        domain({ name: 'b.example', clusterName: 'b', apiserver: { serviceType: 'NodePort' } }),
        domain({ name: 'c.example', clusterName: 'c', apiserver: { serviceType: 'NodePort', nodePort: 30888 } }),
      ],
    }).trustDomains.map((td) => td.apiserver);
    expect(apiservers.map((apiserver) => [apiserver?.serviceType, apiserver?.nodePort])).toEqual([
      ['ClusterIP', undefined],
      ['NodePort', undefined],
      ['NodePort', 30888],
    ]);
    expect(apiservers[0]).not.toHaveProperty('nodePort');
  });
});

describe('bundle endpoint URLs, which depend on where a domain runs', () => {
  const unplaced: TopologySpec = { trustDomains: [domain({ federatesWith: [{ trustDomain: 'b.example' }] }), domain({ name: 'b.example', clusterName: 'b' })] };

  it('leaves an edge to a known domain that publishes no URL without one, for the target to set', () => {
    const topology = resolveTopology(unplaced);
    expect(topology.trustDomains[0]!.federatesWith[0]).not.toHaveProperty('bundleEndpointUrl');
    const placed = withBundleEndpoints(topology, (td) => ({ url: `https://${td.clusterName}.example:8443` }));
    expect(placed.trustDomains[0]!.federatesWith[0]!.bundleEndpointUrl).toBe('https://b.example:8443');
    expect(missingBundleEndpointUrls(placed)).toEqual([]);
  });

  it('reports such an edge for a deployment to clusters, and refuses to render it', () => {
    const topology = resolveTopology(unplaced);
    expect(missingBundleEndpointUrls(topology)).toEqual([
      {
        path: 'trustDomains[0] (a.example).federatesWith[0].bundleEndpointUrl',
        message: 'no URL for the bundle endpoint of "b.example": set this edge\'s bundleEndpointUrl or that domain\'s bundleEndpoint.url',
      },
    ]);
    const [a] = topology.trustDomains;
    expect(() => bundleEndpointUrlOf(a!, a!.federatesWith[0]!)).toThrow(/a\.example → b\.example: no URL for the bundle endpoint of "b\.example"/);
  });

  it('still requires the URL of a peer outside the topology', () => {
    expect(problemsOf({ trustDomains: [domain({ federatesWith: [{ trustDomain: 'partner.example' }] })] })).toEqual([
      'trustDomains[0] (a.example).federatesWith[0].bundleEndpointUrl: "partner.example" is not in this topology, so its bundle endpoint URL must be given',
    ]);
  });
});

describe('resolveTopology: the apiserver image', () => {
  const digest = `sha256:${'0f'.repeat(32)}`;
  const apiserverOf = (apiserver: NonNullable<TrustDomainSpec['apiserver']>) => resolveTopology({ trustDomains: [domain({ apiserver })] }).trustDomains[0]!.apiserver!;

  it('runs the development tag, with no image ID, by default', () => {
    expect(apiserverOf({})).toMatchObject({ image: 'dirtk/apiserver:dev' });
    expect(apiserverOf({})).not.toHaveProperty('imageId');
  });

  it.each([
    [`dirtk/apiserver@${digest}`, `docker.io/dirtk/apiserver@${digest}`],
    [`apiserver:1.2@${digest}`, `docker.io/library/apiserver@${digest}`],
    [`ghcr.io/org/dir/apiserver:v1@${digest}`, `ghcr.io/org/dir/apiserver@${digest}`],
    [`localhost:5000/apiserver@${digest}`, `localhost:5000/apiserver@${digest}`],
  ])('derives the image ID the kubelet reports from a digest reference: %s', (image, imageId) => {
    expect(apiserverOf({ image })).toEqual(expect.objectContaining({ image, imageId }));
  });

  it('takes an explicit image ID for an image loaded into the nodes', () => {
    expect(apiserverOf({ image: 'dirtk/apiserver:0f0f', imageId: digest })).toEqual(expect.objectContaining({ image: 'dirtk/apiserver:0f0f', imageId: digest }));
  });

  it.each([
    [{ image: 'Dirtk/API' }, /apiserver\.image: "Dirtk\/API" is not an image reference/],
    [{ image: 'dirtk/apiserver@sha256:123' }, /apiserver\.image: .* is not an image reference/],
    [{ imageId: 'latest' }, /apiserver\.imageId: "latest" is not an image ID as the kubelet reports it/],
    [{ image: `dirtk/apiserver@${digest}`, imageId: `docker.io/other@${digest}` }, /apiserver\.imageId: .* contradicts the digest of image/],
  ])('rejects %j', (apiserver, message) => {
    expect(problemsOf({ trustDomains: [domain({ apiserver })] }).join('\n')).toMatch(message);
  });
});

describe('resolveTopology rejects', () => {
  const rules: Array<[string, TopologySpec, RegExp]> = [
    ['no trust domains', { trustDomains: [] }, /^trustDomains: at least one trust domain/],
    [
      'an invalid trust domain name',
      { trustDomains: [domain({ name: 'Dir.Example' })] },
      /trustDomains\[0\] \(Dir\.Example\)\.name: .*trust domain has the character "D"/,
    ],
    [
      'a trust domain given as a SPIFFE ID',
      { trustDomains: [domain({ name: 'spiffe://a.example' })] },
      /\.name: give the bare name "a\.example", not a SPIFFE ID/,
    ],
    [
      'duplicate trust domains',
      { trustDomains: [domain(), domain({ clusterName: 'other' })] },
      /trustDomains\[1\] \(a\.example\)\.name: trust domain "a\.example" is declared more than once/,
    ],
    [
      'a domain federating with itself',
      { trustDomains: [domain({ federatesWith: [{ trustDomain: 'a.example', bundleEndpointUrl: 'https://a:8443' }] })] },
      /federatesWith\[0\]\.trustDomain: trust domain "a\.example" cannot federate with itself/,
    ],
    [
      'an edge to an unknown domain without a URL',
      { trustDomains: [domain({ federatesWith: [{ trustDomain: 'elsewhere.example' }] })] },
      /federatesWith\[0\]\.bundleEndpointUrl: "elsewhere\.example" is not in this topology, so its bundle endpoint URL must be given/,
    ],
    [
      'an edge with an invalid peer name',
      { trustDomains: [domain({ federatesWith: [{ trustDomain: 'b.example:443', bundleEndpointUrl: 'https://b' }] })] },
      /federatesWith\[0\]\.trustDomain: .*a port is not allowed/,
    ],
    [
      'a plain-http bundle endpoint URL',
      { trustDomains: [domain({ federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'http://b:8443' }] })] },
      /bundleEndpointUrl: "http:\/\/b:8443" must use https/,
    ],
    [
      'a bundle endpoint URL with user info',
      { trustDomains: [domain({ federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://u:p@b:8443' }] })] },
      /must not carry user info/,
    ],
    [
      'https_web with an endpoint SPIFFE ID',
      {
        trustDomains: [
          domain({
            federatesWith: [
              { trustDomain: 'b.example', bundleEndpointUrl: 'https://b', profile: 'https_web', endpointSpiffeId: 'spiffe://b.example/spire/server' },
            ],
          }),
        ],
      },
      /federatesWith\[0\]\.endpointSpiffeId: an https_web bundle endpoint is authenticated by Web PKI; remove endpointSpiffeId/,
    ],
    [
      'an invalid endpoint SPIFFE ID',
      {
        trustDomains: [
          domain({ federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b', endpointSpiffeId: 'spiffe://b.example/a/../b' }] }),
        ],
      },
      /endpointSpiffeId: .*path has a "\.\." segment/,
    ],
    [
      'a PEM trust domain bundle',
      {
        trustDomains: [
          domain({
            federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b', trustDomainBundle: '-----BEGIN CERTIFICATE-----' }],
          }),
        ],
      },
      /trustDomainBundle: must be a SPIFFE bundle in JSON .*not PEM/,
    ],
    [
      'the same peer twice',
      {
        trustDomains: [
          domain({
            federatesWith: [
              { trustDomain: 'b.example', bundleEndpointUrl: 'https://b' },
              { trustDomain: 'b.example', bundleEndpointUrl: 'https://b2' },
            ],
          }),
        ],
      },
      /federatesWith\[1\]\.trustDomain: federates with "b\.example" more than once/,
    ],
    [
      'sqlite with more than one server replica',
      { trustDomains: [domain({ server: { replicas: 3 } })] },
      /server\.replicas: 3 replicas cannot share a sqlite datastore; use one replica or datastore \{ type: 'postgres' \}/,
    ],
    [
      'an agent cluster name the server does not attest',
      { trustDomains: [domain({ agent: { clusterName: 'other' } })] },
      /agent\.clusterName: the agent attests as cluster "other" but the server's k8s_psat only accepts \[a\]/,
    ],
    [
      'a controller manager cluster name that differs from the agent',
      { trustDomains: [domain({ controllerManager: { clusterName: 'other' } })] },
      /controllerManager\.clusterName: "other" differs from the agent's cluster "a"; entries would get the wrong parent ID/,
    ],
    [
      'server attested clusters that leave out the agent',
      { trustDomains: [domain({ server: { attestedClusters: ['b'] } })] },
      /agent\.clusterName: the agent attests as cluster "a" but the server's k8s_psat only accepts \[b\]/,
    ],
    [
      'an empty entry ID prefix',
      { trustDomains: [domain({ controllerManager: { entryIdPrefix: '' } })] },
      /entryIdPrefix: must not be empty: without a prefix the controller manager deletes every entry/,
    ],
    ['a malformed TTL', { trustDomains: [domain({ server: { caTtl: '1 day' } })] }, /server\.caTtl: "1 day" is not a positive Go duration/],
    [
      'an SVID TTL not shorter than the CA TTL',
      { trustDomains: [domain({ server: { caTtl: '1h', x509SvidTtl: '2h' } })] },
      /server\.x509SvidTtl: 2h must be shorter than the CA lifetime caTtl \(1h\)/,
    ],
    [
      'an apiserver that would share the Directory clients\' service account',
      { trustDomains: [domain({ apiserver: { serviceAccount: 'dirctl' } })] },
      /apiserver\.serviceAccount: "dirctl" is the Directory clients' service account; the apiserver and its clients would share one SPIFFE ID/,
    ],
    [
      'a node port outside the range',
      {
        trustDomains: [
          domain({ bundleEndpoint: { nodePort: 8443 }, federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b' }] }),
        ],
      },
      /bundleEndpoint\.nodePort: 8443 is outside the node port range 30000-32767/,
    ],
    [
      'an https_web endpoint without a serving certificate',
      {
        trustDomains: [
          domain({ bundleEndpoint: { profile: 'https_web' }, federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b' }] }),
        ],
      },
      /bundleEndpoint\.servingCertSecret: an https_web bundle endpoint needs a Web-PKI serving certificate Secret/,
    ],
    ['an invalid cluster name', { trustDomains: [domain({ clusterName: 'Kind_A' })] }, /clusterName: cluster name "Kind_A" must be a DNS label/],
    [
      'an invalid namespace',
      { trustDomains: [domain({ namespaces: { spire: 'spire.system' } })] },
      /namespaces\.spire: namespace "spire\.system" must be a DNS label/,
    ],
    [
      'the agents sharing the server’s namespace',
      { trustDomains: [domain({ namespaces: { spire: 'spire', agent: 'spire' } })] },
      /namespaces\.agent: "spire" is also the server namespace; the agents' namespace is Pod Security privileged/,
    ],
    [
      'the agents sharing the directory namespace',
      { trustDomains: [domain({ namespaces: { agent: 'dir' } })] },
      /namespaces\.agent: "dir" is also the directory namespace/,
    ],
    [
      'more than one apiserver replica on the filesystem store',
      { trustDomains: [domain({ apiserver: { replicas: 2 } })] },
      /apiserver\.replicas: 2 replicas cannot share the filesystem store, a local directory that one apiserver process owns; use one replica or store: 'registry'/,
    ],
    [
      'more than one apiserver replica on a filesystem store named explicitly',
      { trustDomains: [domain({ apiserver: { store: 'filesystem', replicas: 3 } })] },
      /apiserver\.replicas: 3 replicas cannot share the filesystem store/,
    ],
    ['no apiserver replica', { trustDomains: [domain({ apiserver: { store: 'registry', replicas: 0 } })] }, /apiserver\.replicas: 0 must be a whole number of at least 1/],
    [
      'a registry on the filesystem store',
      { trustDomains: [domain({ apiserver: { registry: { externalHost: '172.18.0.2', trustedKeys: [TOKEN_KEY] } } })] },
      /apiserver\.registry: a registry needs store: 'registry', not 'filesystem'/,
    ],
    [
      'a registry trusting no key',
      { trustDomains: [domain({ apiserver: { store: 'registry', registry: { externalHost: '172.18.0.2', trustedKeys: [] } } })] },
      /apiserver\.registry\.trustedKeys: is empty: the registry would trust no token/,
    ],
    [
      'a registry host with a scheme',
      { trustDomains: [domain({ apiserver: { store: 'registry', registry: { externalHost: 'http://node', trustedKeys: [TOKEN_KEY] } } })] },
      /apiserver\.registry\.externalHost: "http:\/\/node" is not a host name or IPv4 address/,
    ],
    [
      'a registry on the apiserver’s node port',
      {
        trustDomains: [
          domain({ apiserver: { store: 'registry', serviceType: 'NodePort', nodePort: 30888, registry: { externalHost: 'node', nodePort: 30888, trustedKeys: [TOKEN_KEY] } } }),
        ],
      },
      /apiserver\.registry\.nodePort: 30888 is already the node port of the apiserver \(nodePort\)/,
    ],
    [
      'a token realm on the registry’s node port',
      { trustDomains: [domain({ apiserver: { store: 'registry', registry: { externalHost: 'node', tokenNodePort: 30500, trustedKeys: [TOKEN_KEY] } } })] },
      /apiserver\.registry\.tokenNodePort: 30500 is already the node port of the registry \(registry\.nodePort\)/,
    ],
    [
      'an apiserver node port without a NodePort Service',
      { trustDomains: [domain({ apiserver: { nodePort: 30888 } })] },
      /apiserver\.nodePort: a node port needs serviceType 'NodePort', not 'ClusterIP'/,
    ],
    [
      'an apiserver node port outside the range',
      { trustDomains: [domain({ apiserver: { serviceType: 'NodePort', nodePort: 8888 } })] },
      /apiserver\.nodePort: 8888 is outside the node port range 30000-32767/,
    ],
    [
      'an apiserver node port equal to the bundle endpoint node port',
      {
        trustDomains: [
          domain({
            apiserver: { serviceType: 'NodePort', nodePort: 32443 },
            federatesWith: [{ trustDomain: 'b.example', bundleEndpointUrl: 'https://b' }],
          }),
        ],
      },
      /apiserver\.nodePort: 32443 is already the node port of the bundle endpoint \(bundleEndpoint\.nodePort\); give each its own/,
    ],
    [
      'a relative socket directory',
      { trustDomains: [domain({ agent: { socketHostDir: 'run/spire' } })] },
      /agent\.socketHostDir: "run\/spire" must be an absolute path/,
    ],
  ];

  it.each(rules)('%s', (_rule, spec, message) => {
    const problems = problemsOf(spec);
    expect(problems.some((p) => message.test(p)), `problems were:\n${problems.join('\n')}`).toBe(true);
  });

  it('lists every problem at once, each with its path', () => {
    const error = (() => {
      try {
        resolveTopology({
          trustDomains: [
            domain({ name: 'Bad', server: { replicas: 2 }, federatesWith: [{ trustDomain: 'nowhere.example' }] }),
            domain({ name: 'b.example', clusterName: 'B' }),
          ],
        });
      } catch (e) {
        return e as TopologyError;
      }
      throw new Error('expected a TopologyError');
    })();
    expect(error.problems.map((p) => p.path)).toEqual([
      'trustDomains[0] (Bad).name',
      'trustDomains[0] (Bad).server.replicas',
      'trustDomains[0] (Bad).federatesWith[0].bundleEndpointUrl',
      'trustDomains[1] (b.example).clusterName',
      'trustDomains[1] (b.example).server.attestedClusters[0]',
    ]);
    expect(error.message).toMatch(/^invalid topology \(\d+ problems\):\n {2}- trustDomains\[0\] \(Bad\)\.name: /);
  });
});
