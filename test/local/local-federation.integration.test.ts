/**
 * Local mode with real SPIRE: the example federation started by `startLocalFederation`, proving the
 * zero-touch bootstrap (each server holds its peer's bundle from the first start, entries federate at
 * once, no `bundle set`), the tour, that no other process of the user gets the apiserver's identity, that
 * a client verifying host names reaches the apiserver, and that a stopped peer takes no identity from a
 * domain's own workloads.
 */
import { registryUsername } from '@dirtk/directory-api/contract';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, readlinkSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { credentials as grpcCredentials, type ServiceError } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type RequestRegistryCredentialsResponse, syncServiceClient } from '@dirtk/directory-api/grpc';
import { X509Bundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { X509Source } from '@dirtk/spiffe/workloadapi';
import { verifyX509Svid, x509SvidToPem } from '@dirtk/spiffe/x509svid';
import { readEndpoints } from '../../local/endpoints';
import { type LocalFederation, startLocalFederation } from '../../local/federation';
import { AlreadyRunningError, readLock } from '../../local/instance-lock';
import { isAlive } from '../../local/recorded-processes';
import { formatTourTable, runTour } from '../../local/tour';
import { PROJECT_ROOT } from '../../tools/paths';
import { whySpireIsUnavailable } from '../support/spire-available';

const DOMAINS = ['dir.example', 'dirctl.example'] as const;
const PEER = { 'dir.example': 'dirctl.example', 'dirctl.example': 'dir.example' } as const;
const PEER_LISTS = { 'dir.example': ['dirctl.example'], 'dirctl.example': ['dir.example'] };
/** Audit-logged server API methods that store a foreign bundle by hand, as `spire-server bundle set` does. */
const BUNDLE_SET_METHODS = /"method":"(BatchSetFederatedBundle|BatchUpdateFederatedBundle|SetFederatedBundle|AppendBundle)"/;

let skipReason: string | undefined;
let stateDir: string;
let federation: LocalFederation;
const sources: X509Source[] = [];

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

function upstreamRoot(td: string): X509Certificate {
  return new X509Certificate(readFileSync(federation.endpoints.trustDomains[td]!.upstreamCaCertificate));
}

function fingerprints(td: string, pem: string): string[] {
  return X509Bundle.fromPem(TrustDomain.parse(td), pem).authorities.map((cert) => cert.fingerprint256);
}

async function source(td: string): Promise<X509Source> {
  const created = await X509Source.create({ endpoint: federation.endpoints.trustDomains[td]!.workloadApi, readyTimeoutMs: 30_000 });
  sources.push(created);
  return created;
}

async function eventually<T>(what: string, attempt: () => T | undefined, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(250);
  }
}

/**
 * RequestRegistryCredentials over ordinary gRPC TLS, as the Python SDK makes it: `tlsServerName`
 * verified against the server certificate by grpc-js's default check, dir.example's upstream root as the
 * only trusted root, dir.example's dirctl SVID as client certificate. Resolves to the username the
 * apiserver issued (the caller's SPIFFE ID), rejects with the gRPC error.
 */
async function callVerifyingHostName(tlsServerName: string | undefined, workload: X509Source): Promise<string> {
  const { apiserver, upstreamCaCertificate } = federation.endpoints.trustDomains['dir.example']!;
  const { certChainPem, keyPem } = x509SvidToPem(workload.getX509Svid());
  const tls = grpcCredentials.createSsl(readFileSync(upstreamCaCertificate), Buffer.from(keyPem), Buffer.from(certChainPem));
  const client = syncServiceClient(apiserver!.address, tls, tlsServerName === undefined ? {} : { 'grpc.ssl_target_name_override': tlsServerName });
  try {
    const response = await new Promise<RequestRegistryCredentialsResponse>((resolve, reject) =>
      client.requestRegistryCredentials({}, { deadline: Date.now() + 15_000 }, (error: ServiceError | null, value?: RequestRegistryCredentialsResponse) =>
        error ? reject(error) : resolve(value!),
      ),
    );
    return response.basic_auth!.username;
  } finally {
    client.close();
  }
}

beforeAll(async () => {
  skipReason = await whySpireIsUnavailable();
  if (skipReason) {
    console.warn(`SKIPPING the local-mode tests: ${skipReason}`);
    return;
  }
  stateDir = mkdtempSync(path.join(tmpdir(), 'dirtk-local-'));
  federation = await startLocalFederation({ stateDir });
}, 1_800_000);

afterAll(async () => {
  for (const created of sources) created.close();
  await federation?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('local mode of the example federation', () => {
  it('writes endpoints.json with every socket, bundle endpoint, apiserver and registry, and a lock listing its processes', (context) => {
    skipIfUnavailable(context);
    const endpoints = readEndpoints(path.join(stateDir, 'endpoints.json'));
    expect(endpoints).toEqual(federation.endpoints);
    expect(endpoints.pid).toBe(process.pid);
    for (const td of DOMAINS) {
      const domain = endpoints.trustDomains[td]!;
      expect(existsSync(domain.workloadApi.replace('unix://', ''))).toBe(true);
      expect(existsSync(domain.spireServerSocket)).toBe(true);
      expect(domain.bundleEndpoint).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
      expect(domain.apiserver).toMatchObject({
        address: expect.stringMatching(/^127\.0\.0\.1:\d+$/),
        spiffeId: `spiffe://${td}/ns/dir/sa/dir-apiserver`,
      });
      expect(domain.registry).toMatch(/^http:\/\/127\.0\.0\.1:\d+$/);
    }

    const processes = readLock(path.join(stateDir, 'local.lock'))!.processes;
    const registryOf = (td: string) => `Distribution registry on ${endpoints.trustDomains[td]!.registry!.replace('http://', '')}`;
    expect(processes.map((record) => record.name).sort()).toEqual([
      'SPIRE agent of dir.example',
      'SPIRE agent of dirctl.example',
      'SPIRE server of dir.example',
      'SPIRE server of dirctl.example',
      'apiserver spiffe://dir.example/ns/dir/sa/dir-apiserver',
      'apiserver spiffe://dirctl.example/ns/dir/sa/dir-apiserver',
      registryOf('dir.example'),
      registryOf('dirctl.example'),
    ].sort());
    expect(processes.every((record) => isAlive(record.pid))).toBe(true);
  });

  it("gives each server its peer's upstream root from the first start, through a seeded relationship and never a bundle set", async (context) => {
    skipIfUnavailable(context);
    for (const td of DOMAINS) {
      const { server } = federation.domain(td);
      const peer = PEER[td];
      const relationship = JSON.parse(await server.cli(['federation', 'show', '-trustDomain', peer, '-output', 'json'])) as Record<string, unknown>;
      expect(relationship).toMatchObject({
        trust_domain: peer,
        bundle_endpoint_url: federation.endpoints.trustDomains[peer]!.bundleEndpoint,
        https_spiffe: { endpoint_spiffe_id: `spiffe://${peer}/spire/server` },
      });
      // Its own trust bundle is its upstream root, and so is its copy of the peer's: SPIRE's CAs are intermediates.
      expect(fingerprints(td, await server.bundleShow('pem'))).toEqual([upstreamRoot(td).fingerprint256]);
      expect(fingerprints(peer, await server.cli(['bundle', 'list', '-id', `spiffe://${peer}`, '-format', 'pem']))).toEqual([upstreamRoot(peer).fingerprint256]);

      const audit = readFileSync(server.logFile, 'utf8');
      expect(audit).toContain('"method":"BatchCreateFederationRelationship"');
      expect(audit).not.toMatch(BUNDLE_SET_METHODS);
    }
  });

  it("creates the entries that federate with the peer at once, and workloads get the peer's root as federated bundle", async (context) => {
    skipIfUnavailable(context);
    for (const td of DOMAINS) {
      const peer = PEER[td];
      const { entries } = JSON.parse(await federation.domain(td).server.cli(['entry', 'show', '-output', 'json'])) as {
        entries: Array<{ hint?: string; federates_with?: string[] }>;
      };
      const workloads = entries.filter((entry) => entry.hint === 'dirctl' || entry.hint === 'apiserver');
      expect(workloads.map((entry) => entry.hint).sort()).toEqual(['apiserver', 'dirctl']);
      expect(workloads.every((entry) => entry.federates_with?.join() === peer)).toBe(true);

      const workload = await source(td);
      const svid = workload.getX509Svid('dirctl');
      expect(svid.id.toString()).toBe(`spiffe://${td}/ns/dir/sa/dirctl`);
      expect(workload.getX509Bundle(TrustDomain.parse(peer))?.authorities.map((cert) => cert.fingerprint256)).toEqual([upstreamRoot(peer).fingerprint256]);
      // The leaf's issuer is SPIRE's CA, which the upstream root issued; the path ends at that root.
      expect(svid.certificates[1]!.checkIssued(upstreamRoot(td))).toBe(true);
      const verified = verifyX509Svid(svid.certificates.map((cert) => cert.raw), workload);
      expect(verified.id.toString()).toBe(svid.id.toString());
      expect(verified.verifiedChain).toEqual([svid.certificates[0]!.raw, svid.certificates[1]!.raw, upstreamRoot(td).raw]);
    }
  });

  it('takes dirctl of both domains through the tour of both apiservers as the default policy says', async (context) => {
    skipIfUnavailable(context);
    const rows = await runTour(federation.endpoints, PEER_LISTS, path.join(stateDir, 'tour'));
    const dir = 'spiffe://dir.example/ns/dir/sa/dirctl';
    const dirctl = 'spiffe://dirctl.example/ns/dir/sa/dirctl';
    const own = (caller: string) => ['push', 'pull', 'lookup', 'referrers', 'credentials'].map((call) => [call, caller, 'OK']);
    const federated = (caller: string) => [
      ['push', caller, 'PERMISSION_DENIED'],
      ['pull', caller, 'OK'],
      ['lookup', caller, 'OK'],
      ['referrers', caller, 'PERMISSION_DENIED'],
      ['credentials', caller, 'OK'],
    ];
    // The target's dirctl starts the sync, which completes, pulls the synced record and finds its signature under
    // the CID the source gave it; the source's dirctl may not start a sync.
    const sync = (target: string, source: string) => [
      ['sync', target, 'OK'],
      ['sync', target, 'SYNC_STATUS_COMPLETED'],
      ['pull', target, 'OK'],
      ['signature', target, 'same CID'],
      ['sync', source, 'PERMISSION_DENIED'],
    ];
    expect(rows.map((row) => [row.call.split(' ')[0], row.caller, row.actual]), formatTourTable(rows)).toEqual([
      ...own(dir),
      ...federated(dirctl),
      ...own(dirctl),
      ...federated(dir),
      ...sync(dir, dirctl),
      ...sync(dirctl, dir),
    ]);
    expect(rows.every((row) => row.expected === row.actual)).toBe(true);
  });

  it('keeps each Directory’s records in its own registry, which takes only bearer tokens from its apiserver', async (context) => {
    skipIfUnavailable(context);
    for (const td of DOMAINS) {
      const { registry, apiserver } = federation.endpoints.trustDomains[td]!;
      const challenge = await fetch(`${registry}/v2/`);
      expect(challenge.status).toBe(401);
      expect(challenge.headers.get('www-authenticate')).toBe(
        `Bearer realm="http://${apiserver!.http}/registry/token",service="dirtk-registry.${td}"`,
      );
      // The tour pushed a record to every apiserver: it is a repository of the registry, not a file of the apiserver.
      const repositories = path.join(federation.domain(td).plan.apiserver!.registry.dir, 'storage', 'docker', 'registry', 'v2', 'repositories');
      expect(existsSync(repositories), `${repositories} after the tour`).toBe(true);
    }
  });

  it("gives any other process of the user dirctl's SVID and nothing else, hint or no hint; only the apiserver's own Node binary gets its identity", async (context) => {
    skipIfUnavailable(context);
    const endpoints = federation.endpoints.trustDomains['dir.example']!;
    const { entries } = JSON.parse(await federation.domain('dir.example').server.cli(['entry', 'show', '-output', 'json'])) as {
      entries: Array<{ spiffe_id: { path: string }; selectors: Array<{ type: string; value: string }> }>;
    };
    const selectorsOf = (id: string) =>
      entries.find((entry) => `spiffe://dir.example${entry.spiffe_id.path}` === id)!.selectors.map((selector) => `${selector.type}:${selector.value}`).sort();
    const executable = federation.domain('dir.example').plan.apiserver!.executable;
    expect(selectorsOf(endpoints.apiserver!.spiffeId)).toEqual([`unix:path:${executable}`, `unix:uid:${process.getuid!()}`]);
    expect(selectorsOf(endpoints.dirctl.spiffeId)).toEqual([`unix:uid:${process.getuid!()}`]);
    // The apiserver runs from that copy, which the attestor reads as /proc/<pid>/exe: nothing else does.
    expect(readlinkSync(`/proc/${federation.domain('dir.example').apiserver!.pid}/exe`)).toBe(executable);
    expect(executable).not.toBe(process.execPath);

    // This process (Node, the same user) asks without a hint: its identity set is exactly dirctl's SVID.
    const workload = await source('dir.example');
    expect(workload.getX509Svids().map((svid) => svid.id.toString())).toEqual([endpoints.dirctl.spiffeId]);
    expect(workload.getX509Svid().id.toString()).toBe(endpoints.dirctl.spiffeId);
    expect(workload.getX509Svid(endpoints.dirctl.svidHint).id.toString()).toBe(endpoints.dirctl.spiffeId);

    // The real dirctl as a child process without a hint: the apiserver authorizes it as dirctl.
    const environment = Object.fromEntries(Object.entries(process.env).filter(([name]) => name !== 'DIRCTL_SVID_HINT'));
    const { stdout } = await promisify(execFile)(
      process.execPath,
      [path.join(PROJECT_ROOT, 'apps', 'dirctl', 'bin', 'dirctl.cjs'), 'credentials', '--server-id', endpoints.apiserver!.spiffeId, '--json'],
      { env: { ...environment, SPIFFE_ENDPOINT_SOCKET: endpoints.workloadApi, DIRCTL_SERVER: endpoints.apiserver!.address }, timeout: 60_000 },
    );
    expect((JSON.parse(stdout) as { username: string }).username).toBe(registryUsername(endpoints.dirctl.spiffeId));
  }, 90_000);

  it('lets a client that verifies the host name against tlsServerName call the apiserver, and no other name', async (context) => {
    skipIfUnavailable(context);
    const { apiserver, dirctl } = federation.endpoints.trustDomains['dir.example']!;
    expect(apiserver!.tlsServerName).toBe('localhost');
    const workload = await source('dir.example');
    expect(await callVerifyingHostName(apiserver!.tlsServerName, workload)).toBe(registryUsername(dirctl.spiffeId));

    // The address's own host (127.0.0.1: no IP SAN in an SVID) and any other name fail the host name check.
    for (const wrong of [undefined, 'dir-apiserver.dir.svc', 'localhost.evil.example']) {
      await expect(callVerifyingHostName(wrong, workload), String(wrong)).rejects.toThrow(/UNAVAILABLE.*(altnames|Hostname\/IP does not match)/s);
    }
  }, 60_000);

  it('refuses a second start on the same state folder, naming the running instance, and leaves it alone', async (context) => {
    skipIfUnavailable(context);
    const second = startLocalFederation({ stateDir });
    await expect(second).rejects.toThrow(AlreadyRunningError);
    await expect(second).rejects.toThrow(`(pid ${process.pid},`);
    expect(readEndpoints(path.join(stateDir, 'endpoints.json'))).toEqual(federation.endpoints);
    expect(readLock(path.join(stateDir, 'local.lock'))?.processes).toHaveLength(8);
  });

  // Last: it stops a server.
  it("keeps issuing the domain's own identities, and keeps the federated bundle, with the peer's SPIRE server stopped", async (context) => {
    skipIfUnavailable(context);
    const dir = federation.domain('dir.example');
    await federation.domain('dirctl.example').server.stop();
    await expect(dir.server.cli(['federation', 'refresh', '-id', 'spiffe://dirctl.example'])).rejects.toThrow(/federation refresh/);

    // A workload registered after the peer went away, federating with it, still gets its SVID.
    await dir.server.createEntry({
      parentId: dir.plan.nodeId,
      spiffeId: 'spiffe://dir.example/ns/dir/sa/late',
      selectors: [`unix:uid:${process.getuid!()}`],
      federatesWith: ['dirctl.example'],
      hint: 'late',
    });
    const workload = await source('dir.example');
    const late = await eventually('the SVID of the late entry', () => workload.getX509Svids().find((svid) => svid.hint === 'late'));
    expect(late.id.toString()).toBe('spiffe://dir.example/ns/dir/sa/late');
    expect(workload.getX509Bundle(TrustDomain.parse('dirctl.example'))?.authorities.map((cert) => cert.fingerprint256)).toEqual([
      upstreamRoot('dirctl.example').fingerprint256,
    ]);
    expect(fingerprints('dirctl.example', await dir.server.cli(['bundle', 'list', '-id', 'spiffe://dirctl.example', '-format', 'pem']))).toEqual([
      upstreamRoot('dirctl.example').fingerprint256,
    ]);
  }, 60_000);
});
