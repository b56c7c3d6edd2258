import { X509Certificate } from 'node:crypto';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ensureRegistryTokenKey } from '../../registry/token-key';
import { parse, parseAllDocuments, stringify } from 'yaml';
import { trustDomainManifests } from '../../constructs';
import { isSpireResource } from '../../constructs/manifests';
import { domainWorkloads } from '../../kind/manifests';
import { kindState } from '../../kind/state';
import { EXAMPLE_FEDERATION, loadTopology, resolveTopology, TopologyError, type Topology, type TopologySpec } from '../../topology';
import { runStack } from '../stacks/harness';
import { NODE_ADDRESSES, planOptions, prepareUpOffline, tempDir } from './fixtures';

type Manifest = Record<string, any>;

const tempFile = (name: string, content: string) => {
  const file = path.join(tempDir(), name);
  writeFileSync(file, content);
  return file;
};
const problemOf = (env: Record<string, string>) => {
  try {
    loadTopology(env);
  } catch (error) {
    if (error instanceof TopologyError) return error.message;
    throw error;
  }
  throw new Error('loadTopology accepted it');
};

describe('loadTopology', () => {
  it('is the example federation unless DIRTK_TOPOLOGY names a file', () => {
    expect(loadTopology({})).toEqual(resolveTopology(EXAMPLE_FEDERATION));
    expect(loadTopology({ DIRTK_TOPOLOGY: '' })).toEqual(resolveTopology(EXAMPLE_FEDERATION));
  });

  it('reads a JSON or YAML spec file and resolves it', () => {
    const spec: TopologySpec = { trustDomains: [{ name: 'solo.example', clusterName: 'solo', apiserver: { port: 9443 } }] };
    expect(loadTopology({ DIRTK_TOPOLOGY: tempFile('t.json', JSON.stringify(spec)) })).toEqual(resolveTopology(spec));
    expect(loadTopology({ DIRTK_TOPOLOGY: tempFile('t.yaml', stringify(spec)) })).toEqual(resolveTopology(spec));
    expect(loadTopology({ DIRTK_TOPOLOGY: tempFile('t.YML', stringify(spec)) })).toEqual(resolveTopology(spec));
  });

  it('reports members of the wrong type or unknown as problems, all at once, never as a crash', () => {
    const file = tempFile('t.json', JSON.stringify({
      trustDomains: [
        { name: 'a.test', clusterName: 'a', federatesWith: 'b.test' },
        { name: 'b.test', clusterName: 'b', namespaces: { spire: 5 }, sever: {}, server: { datastore: { type: 'mysql' }, keyManager: 'hsm' } },
      ],
    }));
    const message = problemOf({ DIRTK_TOPOLOGY: file });
    expect(message).toMatch(/^invalid topology \(5 problems\):/);
    for (const problem of [
      'trustDomains[0].federatesWith: must be array',
      'trustDomains[1].namespaces.spire: must be string',
      'trustDomains[1].sever: is not a topology setting (misspelt?)',
      'trustDomains[1].server.datastore.type: "mysql" is not a known type',
      'trustDomains[1].server.keyManager: must be one of "disk", "memory"',
    ]) expect(message).toContain(`${file} (DIRTK_TOPOLOGY): ${problem}`);
  });

  it('requires a bundle endpoint URL for every peer: clusters need them all', () => {
    const file = tempFile('t.json', JSON.stringify({ trustDomains: [{ name: 'a.test', clusterName: 'a', federatesWith: [{ trustDomain: 'b.test' }] }, { name: 'b.test', clusterName: 'b' }] }));
    expect(problemOf({ DIRTK_TOPOLOGY: file })).toContain(
      `${file} (DIRTK_TOPOLOGY): trustDomains[0] (a.test).federatesWith[0].bundleEndpointUrl: no URL for the bundle endpoint of "b.test"`,
    );
  });

  it('validates the spec with resolveTopology, naming the file in every problem', () => {
    const file = tempFile('t.json', JSON.stringify({ trustDomains: [{ name: 'loop.example', clusterName: 'Loop', federatesWith: [{ trustDomain: 'loop.example' }] }] }));
    const message = problemOf({ DIRTK_TOPOLOGY: file });
    expect(message).toContain(`${file} (DIRTK_TOPOLOGY): trustDomains[0] (loop.example).clusterName: cluster name "Loop" must be a DNS label`);
    expect(message).toContain(`${file} (DIRTK_TOPOLOGY): trustDomains[0] (loop.example).federatesWith[0].trustDomain: trust domain "loop.example" cannot federate with itself`);
  });

  it('says what is wrong with a file that is missing, not JSON or YAML, or not a topology', () => {
    expect(problemOf({ DIRTK_TOPOLOGY: '/nonexistent/topology.json' })).toMatch(/\/nonexistent\/topology.json \(DIRTK_TOPOLOGY\): cannot read the topology file: ENOENT/);
    expect(problemOf({ DIRTK_TOPOLOGY: tempFile('t.json', 'trustDomains: []') })).toMatch(/not valid JSON \(name the file \.yaml or \.yml for YAML\)/);
    expect(problemOf({ DIRTK_TOPOLOGY: tempFile('t.yaml', 'trustDomains: [\n') })).toMatch(/not valid YAML/);
    const notTopology = problemOf({ DIRTK_TOPOLOGY: tempFile('t.json', '{"domains": []}') });
    expect(notTopology).toMatch(/: trustDomains: is required/);
    expect(notTopology).toMatch(/: domains: is not a topology setting/);
    expect(problemOf({ DIRTK_TOPOLOGY: tempFile('t.json', '{"trustDomains": ["dir.example"]}') })).toMatch(/: trustDomains\[0\]: must be object/);
  });
});

describe('the Kind topology, as kind:up writes it', () => {

  const options = planOptions('pulumi');
  const state = kindState(options.stateDir);
  let spec: TopologySpec;
  let topology: Topology;
  beforeAll(async () => {
    await prepareUpOffline(options);
    spec = JSON.parse(readFileSync(state.topologyFile, 'utf8')) as TopologySpec;
    topology = loadTopology({ DIRTK_TOPOLOGY: state.topologyFile });
  });
  const rootOf = (td: string) => new X509Certificate(readFileSync(path.join(state.caFiles(td), 'tls.crt')));
  const synthesized = (td: string): Manifest[] => parseAllDocuments(readFileSync(state.synthFile(td), 'utf8')).map((d) => d.toJSON());

  it('puts every bundle endpoint at its node’s address and reads each upstream CA from the Secret the scripts create', () => {
    expect(spec.trustDomains.map((td) => [td.name, td.bundleEndpoint?.url, td.server?.upstreamAuthority])).toEqual([
      ['dir.example', `https://${NODE_ADDRESSES['dir-example']}:32443`, { type: 'disk', secretName: 'spire-upstream-ca' }],
      ['dirctl.example', `https://${NODE_ADDRESSES['dirctl-example']}:32443`, { type: 'disk', secretName: 'spire-upstream-ca' }],
    ]);
  });

  it('exposes each apiserver on node port 30888 of its cluster through the Service of the synthesized manifests', () => {
    expect(topology.trustDomains.map((td) => [td.name, td.apiserver && { serviceType: td.apiserver.serviceType, nodePort: td.apiserver.nodePort }])).toEqual([
      ['dir.example', { serviceType: 'NodePort', nodePort: 30888 }],
      ['dirctl.example', { serviceType: 'NodePort', nodePort: 30888 }],
    ]);
    for (const td of ['dir.example', 'dirctl.example']) {
      const services = synthesized(td).filter((object) => object.kind === 'Service' && object.metadata.namespace === 'dir');
      expect(services.map((service) => [service.metadata.name, service.spec.type, service.spec.ports])).toEqual([
        ['dir-apiserver', 'NodePort', [{ name: 'grpc', port: 8888, targetPort: 'grpc', protocol: 'TCP', nodePort: 30888 }]],
        ['dir-registry', 'NodePort', [{ name: 'registry', port: 5000, targetPort: 'registry', protocol: 'TCP', nodePort: 30500 }]],
        ['dir-apiserver-token', 'NodePort', [{ name: 'http', port: 9090, targetPort: 'http', protocol: 'TCP', nodePort: 30880 }]],
      ]);
    }
  });

  it('runs each Directory on a registry at its node address, syncing from the peer’s apiserver there, its key only in the state folder', () => {
    const address = (cluster: string) => topology.trustDomains.find((td) => td.clusterName === cluster)!.apiserver!.registry!.externalHost;
    for (const td of topology.trustDomains) {
      const apiserver = td.apiserver!;
      expect(apiserver.store).toBe('registry');
      expect(apiserver.registry).toMatchObject({ nodePort: 30500, tokenNodePort: 30880, tokenKeySecret: 'dir-registry-token-key' });
      const keyFile = state.registryTokenKeyFile(td.name);
      expect(statSync(keyFile).mode & 0o777).toBe(0o600);
      expect(apiserver.registry!.trustedKeys).toEqual([ensureRegistryTokenKey(keyFile)]);
      const objects = synthesized(td.name);
      expect(JSON.stringify(objects)).not.toContain('PRIVATE KEY');
      const apiserverEnv = Object.fromEntries(
        (objects.find((object) => object.kind === 'Deployment' && object.metadata.name === 'dir-apiserver')!.spec.template.spec.containers[0].env as Manifest[]).map((e) => [e.name, e.value]),
      );
      const peer = topology.trustDomains.find((candidate) => candidate.name !== td.name)!;
      expect(apiserverEnv.DIRTK_APISERVER_REGISTRY_ADDRESS).toBe(`${address(td.clusterName)}:30500`);
      expect(apiserverEnv.DIRTK_APISERVER_SYNC_PEERS).toBe(`${address(peer.clusterName)}:30888=${peer.apiserver!.spiffeId}`);
    }
  });

  it('seeds each federation edge with the peer’s upstream root (the zero-touch bootstrap)', () => {
    for (const td of spec.trustDomains) {
      for (const edge of td.federatesWith ?? []) {
        const bundle = JSON.parse(edge.trustDomainBundle!) as { keys: { use: string; x5c: string[] }[] };
        expect(bundle.keys.map((key) => key.use)).toEqual(['x509-svid']);
        expect(Buffer.from(bundle.keys[0]!.x5c[0]!, 'base64')).toEqual(rootOf(edge.trustDomain).raw);
      }
    }
  });

  it('keeps each upstream CA in a folder of exactly the Secret’s files, the key readable by the owner only', () => {
    for (const td of ['dir.example', 'dirctl.example']) {
      expect(readdirSync(state.caFiles(td)).sort()).toEqual(['bundle.crt', 'tls.crt', 'tls.key']);
      expect(statSync(path.join(state.caFiles(td), 'tls.key')).mode & 0o777).toBe(0o600);
      expect(rootOf(td).subjectAltName).toBe(`URI:spiffe://${td}`);
    }
  });

  it('writes every default out, so the file resolves to the topology the scripts built', () => {
    expect(resolveTopology(spec)).toEqual(topology);
    expect(spec.trustDomains[0]!.server).toMatchObject({ caTtl: '24h', x509SvidTtl: '1h', keyManager: 'disk' });
  });

  it('synthesizes the manifests of that topology, with no CA key in them', () => {
    for (const td of topology.trustDomains) {
      const text = readFileSync(state.synthFile(td.name), 'utf8');
      expect(synthesized(td.name)).toEqual(trustDomainManifests(topology, td.name));
      expect(text).not.toContain('PRIVATE KEY');
      const server = synthesized(td.name).find((object) => object.kind === 'StatefulSet')!;
      expect(server.spec.template.spec.volumes).toContainEqual({ name: 'upstream-ca', secret: { secretName: 'spire-upstream-ca', defaultMode: 0o440 } });
    }
  });

  it('splits out exactly the CRDs and the Namespaces', () => {
    for (const td of ['dir.example', 'dirctl.example']) {
      const kinds = (file: string) => parseAllDocuments(readFileSync(file, 'utf8')).map((d) => [d.get('kind'), (d.toJSON() as Manifest).metadata.name]);
      expect(kinds(state.crdsFile(td))).toEqual([
        ['CustomResourceDefinition', 'clusterspiffeids.spire.spiffe.io'],
        ['CustomResourceDefinition', 'clusterfederatedtrustdomains.spire.spiffe.io'],
        ['CustomResourceDefinition', 'clusterstaticentries.spire.spiffe.io'],
      ]);
      expect(kinds(state.namespacesFile(td))).toEqual([
        ['Namespace', 'spire-system'],
        ['Namespace', 'spire-agent'],
        ['Namespace', 'dir'],
      ]);
    }
  });

  it('waits for exactly the workloads each domain’s manifests hold', () => {
    for (const td of topology.trustDomains) {
      const workloads = synthesized(td.name)
        .filter((object) => ['Deployment', 'StatefulSet', 'DaemonSet'].includes(object.kind))
        .map((object) => ({ kind: object.kind.toLowerCase(), name: object.metadata.name, namespace: object.metadata.namespace }));
      expect(domainWorkloads(td)).toEqual(workloads);
    }
  });

  describe('deployed by Pulumi', () => {
    const saved = process.env.DIRTK_TOPOLOGY;
    afterEach(() => {
      if (saved === undefined) delete process.env.DIRTK_TOPOLOGY;
      else process.env.DIRTK_TOPOLOGY = saved;
    });

    it.each([
      ['dir-example', 'dir.example'],
      ['dirctl-example', 'dirctl.example'],
    ])('stack %s applies the same manifests from the same topology file, with the bootstrap seeds', async (stack, td) => {
      process.env.DIRTK_TOPOLOGY = state.topologyFile;
      const config = parse(readFileSync(state.pulumiStackConfig(stack), 'utf8')) as { config: Record<string, unknown> };
      expect(config).toEqual({ config: { 'dirtk:trustDomain': td, 'pulumi:disable-default-providers': ['kubernetes'] } });
      const run = await runStack({ config: { ...config.config, 'dirtk:kubeContext': `kind-${stack}` } });
      const [workloads, spireResources] = run.all('kubernetes:yaml/v2:ConfigGroup').map((group) => group.inputs.objs as Manifest[]);
      const objs = [...workloads!, ...spireResources!];
      const later = (object: Manifest) => isSpireResource(object) || object.metadata?.namespace === 'dir';
      expect(workloads).toEqual(synthesized(td).filter((object) => !later(object)));
      expect(spireResources).toEqual(synthesized(td).filter(later));
      expect(objs.filter((object) => object.kind === 'ClusterFederatedTrustDomain').map((cftd) => typeof cftd.spec.trustDomainBundle)).toEqual(['string']);
      expect(run.one('pulumi:providers:kubernetes').inputs.context).toBe(`kind-${stack}`);
    });

    it('has a project folder of its own named after the project', () => {
      expect(parse(readFileSync(path.join(state.pulumiProject, 'Pulumi.yaml'), 'utf8'))).toEqual({ name: 'dirtk', runtime: 'nodejs' });
      expect(statSync(state.pulumiBackend).isDirectory()).toBe(true);
    });
  });
});
