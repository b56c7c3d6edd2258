/**
 * The zero-touch bootstrap against real SPIRE: a server federates before its peer exists at all, and a
 * SPIRE CA rotation changes nothing its peers rely on. The rotation is SPIRE's own, with a one-minute CA
 * lifetime: SPIRE prepares the next CA at half-life and activates it at five sixths, about 50 s in.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:tls';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { SpiffeBundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { X509Source } from '@dirtk/spiffe/workloadapi';
import { verifyX509Svid } from '@dirtk/spiffe/x509svid';
import { type LocalFederation, seedFederation, startLocalFederation, startPlannedServer } from '../../local/federation';
import { localTopology, type LocalDomainPorts, planLocalFederation } from '../../local/plan';
import { freePorts } from '../../spire/process/ports';
import type { SpireServerProcess } from '../../spire/process/server-process';
import { localStateLayout } from '../../local/state';
import { EXAMPLE_FEDERATION, resolveTopology, type TopologySpec } from '../../topology';
import { bootstrapFederation } from '../../federation/bootstrap';
import { loadOrCreateUpstreamCas } from '../../federation/ca-folder';
import { whySpireIsUnavailable } from '../support/spire-available';

let skipReason: string | undefined;
let scratch: string;

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(1_000);
  }
}

beforeAll(async () => {
  skipReason = await whySpireIsUnavailable();
  if (skipReason) console.warn(`SKIPPING the bootstrap tests with real SPIRE: ${skipReason}`);
  scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-bootstrap-'));
}, 1_800_000);

afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('a SPIRE server bootstrapped with its peer upstream root', () => {
  let server: SpireServerProcess | undefined;
  afterAll(async () => server?.kill());

  it('federates, and registers workloads that federate, before the peer has ever run', async (context) => {
    skipIfUnavailable(context);
    const names = ['dir.example', 'dirctl.example'];
    const layout = localStateLayout(path.join(scratch, 'alone'), names);
    // Nothing will ever listen on dirctl.example's ports.
    const [server1, health1, bundle1, agent1, grpc1, http1, registry1, server2, health2, bundle2, agent2, grpc2, http2, registry2] = await freePorts(14);
    const ports: Record<string, LocalDomainPorts> = {
      'dir.example': { server: server1!, serverHealth: health1!, bundleEndpoint: bundle1!, agentHealth: agent1!, apiserver: { grpc: grpc1!, http: http1!, registry: registry1! } },
      'dirctl.example': { server: server2!, serverHealth: health2!, bundleEndpoint: bundle2!, agentHealth: agent2!, apiserver: { grpc: grpc2!, http: http2!, registry: registry2! } },
    };
    const cas = await loadOrCreateUpstreamCas(layout.upstreamCaDir, names);
    const topology = bootstrapFederation(localTopology(resolveTopology(EXAMPLE_FEDERATION), ports), {
      'dir.example': cas['dir.example']!.ca,
      'dirctl.example': cas['dirctl.example']!.ca,
    });
    const upstreamCaDirs = { 'dir.example': cas['dir.example']!.dir, 'dirctl.example': cas['dirctl.example']!.dir };
    const [plan] = planLocalFederation(topology, { layout, ports, upstreamCaDirs, uid: process.getuid!(), apiserverExecutable: layout.apiserverExecutable });
    server = await startPlannedServer(plan!);
    const entry = { parentId: plan!.nodeId, spiffeId: 'spiffe://dir.example/ns/dir/sa/dirctl', selectors: ['unix:uid:1'] };

    // Without the relationship this is the outage seeding prevents: SPIRE refuses the entry.
    await expect(server.createEntry({ ...entry, federatesWith: ['dirctl.example'] })).rejects.toThrow(/unable to find federated bundle/);

    await seedFederation(server, plan!);
    await expect(server.createEntry({ ...entry, federatesWith: ['dirctl.example'] })).resolves.toMatch(/\S/);
    await expect(server.cli(['federation', 'refresh', '-id', 'spiffe://dirctl.example'])).rejects.toThrow(/federation refresh/);
  });
});

describe('SPIRE CA rotation in a bootstrapped federation', () => {
  const ROTATING: TopologySpec = {
    trustDomains: [
      {
        name: 'a.test',
        clusterName: 'a',
        federatesWith: [{ trustDomain: 'b.test' }],
        // SPIRE recommends SVID lifetimes of at most a sixth of the CA's.
        server: { caTtl: '1m', x509SvidTtl: '10s', jwtSvidTtl: '10s' },
      },
      { name: 'b.test', clusterName: 'b', federatesWith: [{ trustDomain: 'a.test' }] },
    ],
  };
  let federation: LocalFederation | undefined;
  const sources: X509Source[] = [];
  afterAll(async () => {
    for (const source of sources) source.close();
    await federation?.stop();
  });

  it("keeps the peers' bundles valid and the federation refreshing after SPIRE activates a new CA", async (context) => {
    skipIfUnavailable(context);
    federation = await startLocalFederation({ spec: ROTATING, stateDir: path.join(scratch, 'rotating') });
    const a = federation.domain('a.test');
    const b = federation.domain('b.test');
    const A = TrustDomain.parse('a.test');
    const activeAuthority = async () =>
      (JSON.parse(await a.server.cli(['localauthority', 'x509', 'show', '-output', 'json'])) as { active?: { authority_id?: string } }).active?.authority_id;
    const bundleOf = async (server: SpireServerProcess, args: readonly string[]) => SpiffeBundle.parse(A, await server.cli(['bundle', ...args, '-format', 'spiffe']));
    const x509Roots = (bundle: SpiffeBundle) => bundle.x509.authorities.map((cert) => cert.fingerprint256);
    const aSource = await X509Source.create({ endpoint: a.agent.endpoint });
    const bSource = await X509Source.create({ endpoint: b.agent.endpoint });
    sources.push(aSource, bSource);
    const aCa = () => aSource.getX509Svid('dirctl').certificates[1]!.fingerprint256;

    const firstAuthority = await activeAuthority();
    const firstCa = aCa();
    const endpoint = federation.endpoints.trustDomains['a.test']!.bundleEndpoint!;
    const firstEndpointCa = await bundleEndpointCa(endpoint);
    const seededRoots = x509Roots(await bundleOf(b.server, ['list', '-id', 'spiffe://a.test']));

    await eventually('a new active X.509 authority of a.test', async () => ((await activeAuthority()) !== firstAuthority ? true : undefined), 80_000);
    // The workload's SVID and the bundle endpoint's certificate now come from the new CA.
    await eventually('an SVID issued by the new CA', async () => (aCa() !== firstCa ? true : undefined), 20_000);
    await eventually('the bundle endpoint served by the new CA', async () => ((await bundleEndpointCa(endpoint)) !== firstEndpointCa ? true : undefined), 20_000);

    // a.test's trust bundle is still just its upstream root, and b.test's copy has not needed a change.
    const own = await bundleOf(a.server, ['show']);
    expect(x509Roots(own)).toEqual(seededRoots);
    expect(x509Roots(await bundleOf(b.server, ['list', '-id', 'spiffe://a.test']))).toEqual(seededRoots);
    // b.test authenticates a.test's endpoint under the new CA with the seeded root, and so learns a.test's new JWT keys.
    await b.server.cli(['federation', 'refresh', '-id', 'spiffe://a.test']);
    const refreshed = await bundleOf(b.server, ['list', '-id', 'spiffe://a.test']);
    expect(refreshed.jwt.authorities.map((key) => key.keyId).sort()).toEqual(own.jwt.authorities.map((key) => key.keyId).sort());
    // A b.test workload verifies an a.test SVID issued by the new CA.
    const rotated = aSource.getX509Svid('dirctl');
    expect(verifyX509Svid(rotated.certificates.map((cert) => cert.raw), bSource).id.toString()).toBe('spiffe://a.test/ns/dir/sa/dirctl');
  }, 150_000);
});

/** The fingerprint of the CA certificate that issued the certificate a bundle endpoint serves. */
async function bundleEndpointCa(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    // Only the presented chain is read here; SPIRE's own peers authenticate it.
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      const issuer = socket.getPeerCertificate(true).issuerCertificate;
      socket.destroy();
      if (issuer?.fingerprint256) resolve(issuer.fingerprint256);
      else reject(new Error(`the bundle endpoint ${url} presented no issuer certificate`));
    });
    socket.once('error', reject);
  });
}
