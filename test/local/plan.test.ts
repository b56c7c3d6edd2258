/** Local mode planned without processes: the topology on 127.0.0.1, the state folder, entries and relationships. */
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXAMPLE_FEDERATION, resolveTopology, TopologyError, type TopologySpec } from '../../topology';
import { bootstrapFederation } from '../../federation/bootstrap';
import { seedBundle } from '../../federation/seed-bundle';
import { createUpstreamCa, type UpstreamCa } from '../../federation/upstream-ca';
import { startLocalFederation } from '../../local/federation';
import { checkRunsLocally, type LocalDomainPorts, localTopology, planLocalFederation } from '../../local/plan';
import { localStateLayout } from '../../local/state';

const PORTS: Record<string, LocalDomainPorts> = {
  'dir.example': { server: 10001, serverHealth: 10002, bundleEndpoint: 10003, agentHealth: 10004, apiserver: { grpc: 10005, http: 10006, registry: 10007 } },
  'dirctl.example': { server: 20001, serverHealth: 20002, bundleEndpoint: 20003, agentHealth: 20004, apiserver: { grpc: 20005, http: 20006, registry: 20007 } },
};
const UID = 4242;
const APISERVER_NODE = '/state/run/apiserver-bin/node';
let cas: Record<string, UpstreamCa>;
let scratch: string;

beforeAll(async () => {
  cas = { 'dir.example': await createUpstreamCa('dir.example'), 'dirctl.example': await createUpstreamCa('dirctl.example') };
  scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-plan-'));
});
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function examplePlan(layoutRoot = '/state') {
  const topology = bootstrapFederation(localTopology(resolveTopology(EXAMPLE_FEDERATION), PORTS), cas);
  const layout = localStateLayout(layoutRoot, ['dir.example', 'dirctl.example']);
  const upstreamCaDirs = { 'dir.example': '/ca/dir.example', 'dirctl.example': '/ca/dirctl.example' };
  return { layout, plans: planLocalFederation(topology, { layout, ports: PORTS, upstreamCaDirs, uid: UID, apiserverExecutable: APISERVER_NODE }) };
}

describe('the topology on 127.0.0.1', () => {
  it('serves every bundle endpoint on its local port and points every edge there, whatever the spec said', () => {
    const topology = localTopology(resolveTopology(EXAMPLE_FEDERATION), PORTS);
    const [dir, dirctl] = topology.trustDomains;
    expect(dir!.bundleEndpoint).toMatchObject({ port: 10003, url: 'https://127.0.0.1:10003' });
    expect(dir!.federatesWith[0]!.bundleEndpointUrl).toBe('https://127.0.0.1:20003');
    expect(dirctl!.federatesWith[0]!.bundleEndpointUrl).toBe('https://127.0.0.1:10003');

    const pinned: TopologySpec = {
      trustDomains: [
        { ...EXAMPLE_FEDERATION.trustDomains[0]!, federatesWith: [{ trustDomain: 'dirctl.example', bundleEndpointUrl: 'https://kind:32443' }] },
        EXAMPLE_FEDERATION.trustDomains[1]!,
      ],
    };
    expect(localTopology(resolveTopology(pinned), PORTS).trustDomains[0]!.federatesWith[0]!.bundleEndpointUrl).toBe('https://127.0.0.1:20003');

    // Local mode needs no URLs at all; an edge to a peer it does not run keeps its own, for checkRunsLocally to report.
    const bare: TopologySpec = {
      trustDomains: [
        { name: 'dir.example', clusterName: 'dir', federatesWith: [{ trustDomain: 'dirctl.example' }, { trustDomain: 'partner.example', bundleEndpointUrl: 'https://partner' }] },
        { name: 'dirctl.example', clusterName: 'dirctl', federatesWith: [{ trustDomain: 'dir.example' }] },
      ],
    };
    const edges = localTopology(resolveTopology(bare), PORTS).trustDomains[0]!.federatesWith;
    expect(edges.map((edge) => edge.bundleEndpointUrl)).toEqual(['https://127.0.0.1:20003', 'https://partner']);
  });

  it('runs every apiserver on the registry store, whatever store the topology gave, and leaves domains without one alone', () => {
    expect(resolveTopology(EXAMPLE_FEDERATION).trustDomains.map((td) => td.apiserver?.store)).toEqual(['filesystem', 'filesystem']);
    expect(localTopology(resolveTopology(EXAMPLE_FEDERATION), PORTS).trustDomains.map((td) => td.apiserver?.store)).toEqual(['registry', 'registry']);
    const clientsOnly: TopologySpec = {
      trustDomains: [EXAMPLE_FEDERATION.trustDomains[0]!, { ...EXAMPLE_FEDERATION.trustDomains[1]!, apiserver: undefined }],
    };
    const [dir, dirctl] = localTopology(resolveTopology(clientsOnly), PORTS).trustDomains;
    expect(dir!.apiserver).toEqual({ ...resolveTopology(EXAMPLE_FEDERATION).trustDomains[0]!.apiserver, store: 'registry' });
    expect(dirctl!.apiserver).toBeUndefined();
  });

  it('refuses peers outside the topology and https_web bundle endpoints', () => {
    const outside = resolveTopology({
      trustDomains: [{ name: 'dir.example', clusterName: 'dir', federatesWith: [{ trustDomain: 'partner.example', bundleEndpointUrl: 'https://partner.example' }] }],
    });
    expect(() => checkRunsLocally(outside)).toThrow(/federatesWith\[0\]: local mode runs every peer itself, and "partner.example" is not in the topology/);
    const web = resolveTopology({
      trustDomains: [
        { name: 'a.test', clusterName: 'a', federatesWith: [{ trustDomain: 'b.test' }], bundleEndpoint: { url: 'https://a', profile: 'https_web', servingCertSecret: 's' } },
        { name: 'b.test', clusterName: 'b', federatesWith: [{ trustDomain: 'a.test' }], bundleEndpoint: { url: 'https://b' } },
      ],
    });
    expect(() => checkRunsLocally(web)).toThrow(/a.test\)\.bundleEndpoint\.profile: local mode serves bundles with https_spiffe only/);
    expect(() => checkRunsLocally(resolveTopology(EXAMPLE_FEDERATION))).not.toThrow();
  });
});

describe('the local plan of the example federation', () => {
  it('federates each domain with its peer through a dynamic relationship seeded with the peer upstream root', () => {
    const { plans } = examplePlan();
    const [dir, dirctl] = plans;
    expect(dir!.federation).toEqual([
      {
        trustDomain: 'dirctl.example',
        bundleEndpointUrl: 'https://127.0.0.1:20003',
        endpointSpiffeId: 'spiffe://dirctl.example/spire/server',
        trustDomainBundlePath: '/state/run/dir.example/federation/dirctl.example.bundle.json',
        bundle: seedBundle(cas['dirctl.example']!, 300),
      },
    ]);
    expect(dirctl!.federation.map((edge) => [edge.trustDomain, edge.bundle])).toEqual([['dir.example', seedBundle(cas['dir.example']!, 300)]]);
    expect(dir!.td.server.upstreamAuthority?.type).toBe('disk');
    expect(dir!.upstreamCaDir).toBe('/ca/dir.example');
  });

  it('registers the apiserver by its own Node binary and dirctl by the user in both domains, each federating with the peer', () => {
    const { plans } = examplePlan();
    const [dir, dirctl] = plans;
    const user = `unix:uid:${UID}`;
    expect(dir!.entries).toEqual([
      {
        parentId: 'spiffe://dir.example/local/node',
        spiffeId: 'spiffe://dir.example/ns/dir/sa/dir-apiserver',
        selectors: [user, `unix:path:${APISERVER_NODE}`],
        dnsNames: ['localhost'],
        hint: 'apiserver',
        federatesWith: ['dirctl.example'],
      },
      { parentId: 'spiffe://dir.example/local/node', spiffeId: 'spiffe://dir.example/ns/dir/sa/dirctl', selectors: [user], hint: 'dirctl', federatesWith: ['dirctl.example'] },
    ]);
    expect(dirctl!.entries).toEqual([
      {
        parentId: 'spiffe://dirctl.example/local/node',
        spiffeId: 'spiffe://dirctl.example/ns/dir/sa/dir-apiserver',
        selectors: [user, `unix:path:${APISERVER_NODE}`],
        dnsNames: ['localhost'],
        hint: 'apiserver',
        federatesWith: ['dir.example'],
      },
      { parentId: 'spiffe://dirctl.example/local/node', spiffeId: 'spiffe://dirctl.example/ns/dir/sa/dirctl', selectors: [user], hint: 'dirctl', federatesWith: ['dir.example'] },
    ]);
    expect(dir!.nodeId).toBe('spiffe://dir.example/local/node');
  });

  it('runs each apiserver where the topology puts it, from the binary its entry selects, with its own ID as JWT audience, on its own registry, syncing from the other', () => {
    const { plans } = examplePlan();
    expect(plans[0]!.apiserver).toEqual({
      dir: '/state/run/dir.example/apiserver',
      executable: APISERVER_NODE,
      spiffeId: 'spiffe://dir.example/ns/dir/sa/dir-apiserver',
      tlsServerName: 'localhost',
      grpcPort: 10005,
      httpPort: 10006,
      svidHint: 'apiserver',
      jwtAudience: 'spiffe://dir.example/ns/dir/sa/dir-apiserver',
      registryTokenKeyFile: '/state/run/dir.example/apiserver/registry-token.key',
      registry: {
        dir: '/state/run/dir.example/registry',
        address: '127.0.0.1:10007',
        url: 'http://127.0.0.1:10007',
        tokenRealm: 'http://127.0.0.1:10006/registry/token',
        service: 'dirtk-registry.dir.example',
      },
      syncPeers: ['127.0.0.1:20005=spiffe://dirctl.example/ns/dir/sa/dir-apiserver'],
    });
    expect(plans[1]!.apiserver).toEqual({
      dir: '/state/run/dirctl.example/apiserver',
      executable: APISERVER_NODE,
      spiffeId: 'spiffe://dirctl.example/ns/dir/sa/dir-apiserver',
      tlsServerName: 'localhost',
      grpcPort: 20005,
      httpPort: 20006,
      svidHint: 'apiserver',
      jwtAudience: 'spiffe://dirctl.example/ns/dir/sa/dir-apiserver',
      registryTokenKeyFile: '/state/run/dirctl.example/apiserver/registry-token.key',
      registry: {
        dir: '/state/run/dirctl.example/registry',
        address: '127.0.0.1:20007',
        url: 'http://127.0.0.1:20007',
        tokenRealm: 'http://127.0.0.1:20006/registry/token',
        service: 'dirtk-registry.dirctl.example',
      },
      syncPeers: ['127.0.0.1:10005=spiffe://dir.example/ns/dir/sa/dir-apiserver'],
    });
  });

  it('lists as sync peers only the federated domains that run a Directory', async () => {
    const spec: TopologySpec = {
      trustDomains: [
        { name: 'dir.example', clusterName: 'dir', federatesWith: [{ trustDomain: 'dirctl.example' }, { trustDomain: 'third.example' }], apiserver: {} },
        { name: 'dirctl.example', clusterName: 'dirctl', federatesWith: [{ trustDomain: 'dir.example' }] },
        { name: 'third.example', clusterName: 'third', federatesWith: [{ trustDomain: 'dir.example' }], apiserver: { serviceAccount: 'third-apiserver' } },
      ],
    };
    const ports: Record<string, LocalDomainPorts> = {
      ...PORTS,
      'dirctl.example': { server: 20001, serverHealth: 20002, bundleEndpoint: 20003, agentHealth: 20004 },
      'third.example': { server: 30001, serverHealth: 30002, bundleEndpoint: 30003, agentHealth: 30004, apiserver: { grpc: 30005, http: 30006, registry: 30007 } },
    };
    const topology = bootstrapFederation(localTopology(resolveTopology(spec), ports), { ...cas, 'third.example': await createUpstreamCa('third.example') });
    const layout = localStateLayout('/state', ['dir.example', 'dirctl.example', 'third.example']);
    const upstreamCaDirs = { 'dir.example': '/ca/dir', 'dirctl.example': '/ca/dirctl', 'third.example': '/ca/third' };
    const plans = planLocalFederation(topology, { layout, ports, upstreamCaDirs, uid: UID, apiserverExecutable: APISERVER_NODE });
    expect(plans.map((plan) => [plan.td.name, plan.apiserver?.syncPeers])).toEqual([
      ['dir.example', ['127.0.0.1:30005=spiffe://third.example/ns/dir/sa/third-apiserver']],
      ['dirctl.example', undefined],
      ['third.example', ['127.0.0.1:10005=spiffe://dir.example/ns/dir/sa/dir-apiserver']],
    ]);
  });
});

describe('the state folder', () => {
  it('keeps sockets in the state folder when the path allows', () => {
    const layout = localStateLayout('/work/main/.local', ['dir.example', 'dirctl.example']);
    expect(layout).toEqual({
      root: '/work/main/.local',
      lockFile: '/work/main/.local/local.lock',
      endpointsFile: '/work/main/.local/endpoints.json',
      upstreamCaDir: '/work/main/.local/upstream-ca',
      runDir: '/work/main/.local/run',
      apiserverExecutable: '/work/main/.local/run/apiserver-bin/node',
      socketDir: '/work/main/.local/run/sockets',
    });
    expect(examplePlan('/work/main/.local').plans[0]!.socketDir).toBe('/work/main/.local/run/sockets/dir.example');
  });

  it('moves the sockets to a short folder under /tmp, one per state folder, when its path is too long', () => {
    const deep = `/home/someone/${'projects/'.repeat(8)}dirtk/.local`;
    const layout = localStateLayout(deep, ['dir.example', 'dirctl.example']);
    expect(layout.socketDir).toMatch(/^\/tmp\/dirtk-[0-9a-f]{12}$/);
    expect(localStateLayout(deep, ['dir.example']).socketDir).toBe(layout.socketDir);
    expect(localStateLayout(`${deep}2`, ['dir.example']).socketDir).not.toBe(layout.socketDir);
    expect(layout.runDir).toBe(`${deep}/run`);
  });
});

describe('startLocalFederation on a topology it cannot run', () => {
  it.each([
    ['invalid', { trustDomains: [{ name: 'dir.example', clusterName: 'Dir' }] }, /clusterName: cluster name "Dir" must be a DNS label/],
    [
      'federated with a peer outside it',
      { trustDomains: [{ name: 'dir.example', clusterName: 'dir', federatesWith: [{ trustDomain: 'partner.example', bundleEndpointUrl: 'https://partner.example' }] }] },
      /"partner.example" is not in the topology/,
    ],
  ] as const)('fails before writing anything when the topology is %s', async (_case, spec, message) => {
    const stateDir = path.join(scratch, 'never-written');
    const failure = startLocalFederation({ spec, stateDir });
    await expect(failure).rejects.toThrow(TopologyError);
    await expect(failure).rejects.toThrow(message);
    expect(existsSync(stateDir)).toBe(false);
  });
});
