/**
 * The cross-domain proof (design §7) on local mode with real SPIRE. `dir.example` runs the apiserver;
 * `dirctl.example` and the lookalikes `dir.example.evil` and `evil-dir.example` federate with it both
 * ways; `outsider.example` federates one way only, so its dirctl trusts the apiserver but the apiserver
 * holds no bundle for it. After the expectation matrix come the faults, destructive ones last: SVID
 * rotation under continuous calls, the agent killed, the apiserver SIGKILLed during pushes, the peer's
 * SPIRE server stopped.
 */
import { registryUsername } from '@dirtk/directory-api/contract';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { connect } from 'node:tls';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { DirectoryClient } from '../../apps/dirctl/src/directory-client';
import { isServiceError } from '../../apps/dirctl/src/errors';
import { authorizeId, spiffeChannelCredentials } from '@dirtk/spiffe/spiffetls';
import { SpiffeId } from '@dirtk/spiffe/spiffeid';
import { X509Source } from '@dirtk/spiffe/workloadapi';
import { x509SvidToPem } from '@dirtk/spiffe/x509svid';
import { canonicalJson, type JsonObject, objectCid } from '@dirtk/directory-api/cid';
import { SVID_HINTS } from '../../local/entries';
import { type LocalFederation, startLocalFederation } from '../../local/federation';
import { dirctl, type Outcome } from '../../local/tour';
import { EXAMPLE_FEDERATION } from '../../topology/example';
import type { TopologySpec, TrustDomainSpec } from '../../topology/spec';
import { localRegistryRecords } from '../support/local-registry';
import { whySpireIsUnavailable } from '../support/spire-available';

const OWN = 'dir.example';
const PEER = 'dirctl.example';
const LOOKALIKES = ['dir.example.evil', 'evil-dir.example'] as const;
const OUTSIDER = 'outsider.example';
/** Short enough for two rotations within the rotation test, long enough to outlast the agent's outage. */
const SVID_TTL_SECONDS = 30;

const REFERRER_TYPE = 'agntcy.dir.sign.v1.Signature';
const REMOTE_DIRECTORY = 'https://remote-directory.invalid:8888';

function crossDomainSpec(): TopologySpec {
  const example = (name: string): TrustDomainSpec => EXAMPLE_FEDERATION.trustDomains.find((td) => td.name === name)!;
  const own = example(OWN);
  const federatingWithOwn = (name: string): TrustDomainSpec => ({ name, clusterName: name.replaceAll('.', '-'), federatesWith: [{ trustDomain: OWN }] });
  return {
    trustDomains: [
      { ...own, federatesWith: [...(own.federatesWith ?? []), ...LOOKALIKES.map((trustDomain) => ({ trustDomain }))] },
      example(PEER),
      ...LOOKALIKES.map(federatingWithOwn),
      federatingWithOwn(OUTSIDER),
    ],
  };
}

/** What the methods are called on: a record with a referrer, a sync, and a record never pushed. */
interface Fixture {
  readonly record: JsonObject;
  readonly cid: string;
  readonly referrerCid: string;
  readonly syncId: string;
  readonly unpushedFile: string;
  readonly unpushedCid: string;
}

/** Every StoreService and SyncService method, as dirctl calls it, in an order the own domain can run them in. */
const METHODS: ReadonlyArray<{ readonly method: string; readonly argv: (f: Fixture) => string[]; readonly federated: Outcome }> = [
  { method: 'Push', argv: (f) => ['push', f.unpushedFile], federated: 'PERMISSION_DENIED' },
  { method: 'Pull', argv: (f) => ['pull', f.cid], federated: 'OK' },
  { method: 'Lookup', argv: (f) => ['lookup', f.cid], federated: 'OK' },
  { method: 'PushReferrer', argv: (f) => ['referrers', 'push', f.cid, '--type', 'agntcy.dir.sign.v1.PublicKey'], federated: 'PERMISSION_DENIED' },
  { method: 'PullReferrer', argv: (f) => ['referrers', 'pull', f.cid], federated: 'OK' },
  { method: 'DeleteReferrer', argv: (f) => ['referrers', 'delete', f.cid], federated: 'PERMISSION_DENIED' },
  { method: 'CreateSync', argv: () => ['sync', 'create', '--remote-directory-url', REMOTE_DIRECTORY], federated: 'PERMISSION_DENIED' },
  { method: 'ListSyncs', argv: () => ['sync', 'list'], federated: 'PERMISSION_DENIED' },
  { method: 'GetSync', argv: (f) => ['sync', 'get', f.syncId], federated: 'PERMISSION_DENIED' },
  { method: 'DeleteSync', argv: (f) => ['sync', 'delete', f.syncId], federated: 'PERMISSION_DENIED' },
  { method: 'RequestRegistryCredentials', argv: () => ['credentials'], federated: 'OK' },
  { method: 'Delete', argv: (f) => ['delete', f.cid], federated: 'PERMISSION_DENIED' },
];

interface DirctlResult {
  readonly outcome: Outcome;
  readonly stdout: string;
  readonly detail?: string;
}

let skipReason: string | undefined;
let stateDir: string;
let federation: LocalFederation;
const sources = new Map<string, X509Source>();

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

function apiserver() {
  return federation.endpoints.trustDomains[OWN]!.apiserver!;
}

/** dirctl of `td` calling the apiserver, which it pins by SPIFFE ID. */
function call(td: string, argv: readonly string[], timeoutSeconds = 30): Promise<DirctlResult> {
  const caller = federation.endpoints.trustDomains[td]!;
  return dirctl([...argv, '--server-id', apiserver().spiffeId, '--json', '--timeout', String(timeoutSeconds)], {
    SPIFFE_ENDPOINT_SOCKET: caller.workloadApi,
    DIRCTL_SERVER: apiserver().address,
    DIRCTL_SVID_HINT: caller.dirctl.svidHint,
  });
}

/** dirctl of `td`, which must succeed; its JSON output. */
async function succeed<T>(td: string, argv: readonly string[]): Promise<T> {
  const result = await call(td, argv);
  if (result.outcome !== 'OK') throw new Error(`dirctl ${argv.join(' ')} as ${td}: ${result.outcome} ${result.detail ?? ''}`);
  return JSON.parse(result.stdout) as T;
}

function writeRecord(name: string): { file: string; record: JsonObject; cid: string } {
  const record = { name: `dirtk-cross-domain-${name}`, schema_version: '0.7.0', created_at: new Date().toISOString(), annotations: { test: name } };
  const file = path.join(stateDir, `${name}.record.json`);
  writeFileSync(file, JSON.stringify(record));
  return { file, record, cid: objectCid(record) };
}

async function pushRecord(name: string): Promise<{ record: JsonObject; cid: string }> {
  const { file, record, cid } = writeRecord(name);
  expect(await succeed<{ cid: string }>(OWN, ['push', file])).toEqual({ cid });
  return { record, cid };
}

/** Made by dirctl of the apiserver's own domain. */
async function fixture(name: string): Promise<Fixture> {
  const { record, cid } = await pushRecord(name);
  const { referrer_cid: referrerCid } = await succeed<{ referrer_cid: string }>(OWN, ['referrers', 'push', cid, '--type', REFERRER_TYPE]);
  const { sync_id: syncId } = await succeed<{ sync_id: string }>(OWN, ['sync', 'create', '--remote-directory-url', REMOTE_DIRECTORY]);
  const unpushed = writeRecord(`${name}-unpushed`);
  return { record, cid, referrerCid, syncId, unpushedFile: unpushed.file, unpushedCid: unpushed.cid };
}

/** Every method of METHODS, in order, by dirctl of `td`. */
async function callEach(td: string, f: Fixture): Promise<Record<string, DirctlResult>> {
  const results: Record<string, DirctlResult> = {};
  for (const { method, argv } of METHODS) results[method] = await call(td, argv(f));
  return results;
}

function outcomes(results: Record<string, DirctlResult>): Record<string, Outcome> {
  return Object.fromEntries(Object.entries(results).map(([method, result]) => [method, result.outcome]));
}

async function sourceOf(td: string): Promise<X509Source> {
  let source = sources.get(td);
  if (!source) {
    source = await X509Source.create({ endpoint: federation.endpoints.trustDomains[td]!.workloadApi, readyTimeoutMs: 30_000 });
    sources.set(td, source);
  }
  return source;
}

/** A client on a connection of its own (credentials are compared by identity, so channels share none), with `source`'s dirctl SVID. */
function directoryClient(source: X509Source, timeoutMs = 15_000): DirectoryClient {
  const credentials = spiffeChannelCredentials({
    source: { getX509Svid: () => source.getX509Svid(SVID_HINTS.dirctl), getX509Bundle: (td) => source.getX509Bundle(td) },
    authorizer: authorizeId(SpiffeId.parse(apiserver().spiffeId)),
  });
  return new DirectoryClient(apiserver().address, credentials, new Date(Date.now() + timeoutMs));
}

/** The serial number of the certificate the apiserver presents to a new connection (from dirctl.example's dirctl). */
async function servingSerial(): Promise<string> {
  const { certChainPem, keyPem } = x509SvidToPem((await sourceOf(PEER)).getX509Svid(SVID_HINTS.dirctl));
  const [host, port] = apiserver().address.split(':');
  const socket = connect({ host, port: Number(port), cert: certChainPem, key: keyPem, rejectUnauthorized: false, ALPNProtocols: ['h2'] });
  try {
    await once(socket, 'secureConnect');
    return socket.getPeerX509Certificate()!.serialNumber;
  } finally {
    socket.destroy();
  }
}

function leafSerial(source: X509Source): string {
  return source.getX509Svid(SVID_HINTS.dirctl).certificates[0]!.serialNumber;
}

async function eventually<T>(what: string, attempt: () => Promise<T | undefined>, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await attempt();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(250);
  }
}

/** The apiserver's log lines, parsed. */
function apiserverLog(): Array<Record<string, unknown>> {
  const lines = readFileSync(federation.domain(OWN).apiserver!.logFile, 'utf8').split('\n');
  return lines.filter((line) => line.startsWith('{')).map((line) => JSON.parse(line) as Record<string, unknown>);
}

beforeAll(async () => {
  skipReason = await whySpireIsUnavailable();
  if (skipReason) {
    console.warn(`SKIPPING the cross-domain tests: ${skipReason}`);
    return;
  }
  stateDir = mkdtempSync(path.join(tmpdir(), 'dirtk-xdomain-'));
  federation = await startLocalFederation({ spec: crossDomainSpec(), stateDir, x509SvidTtl: SVID_TTL_SECONDS });
}, 1_800_000);

afterAll(async () => {
  for (const source of sources.values()) source.close();
  await federation?.stop();
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe('the expectation matrix', () => {
  it('allows dirctl of the own trust domain every StoreService and SyncService method', async (context) => {
    skipIfUnavailable(context);
    const f = await fixture('own');
    const results = await callEach(OWN, f);
    expect(outcomes(results)).toEqual(Object.fromEntries(METHODS.map(({ method }) => [method, 'OK'])));

    expect(JSON.parse(results.Push!.stdout)).toEqual({ cid: f.unpushedCid });
    expect(JSON.parse(results.Pull!.stdout)).toEqual(f.record);
    expect((JSON.parse(results.DeleteReferrer!.stdout) as { deleted: string[] }).deleted).toContain(f.referrerCid);
    expect((JSON.parse(results.ListSyncs!.stdout) as Array<{ sync_id: string }>).map((sync) => sync.sync_id)).toContain(f.syncId);
    expect((await call(OWN, ['pull', f.cid])).outcome).toBe('NOT_FOUND');
    const deleted = await call(OWN, ['sync', 'get', f.syncId, '--json']);
    expect(deleted.outcome).toBe('OK');
    expect(JSON.parse(deleted.stdout)).toMatchObject({ sync_id: f.syncId, status: 'SYNC_STATUS_DELETED' });
  });

  // The lookalikes are federated on purpose: only the exact trust domain name makes a caller own.
  it.for([PEER, ...LOOKALIKES])('gives dirctl of the federated trust domain %s the read and credentials methods only', async (td, context) => {
    skipIfUnavailable(context);
    const f = await fixture(td);
    const syncsBefore = await succeed<unknown[]>(OWN, ['sync', 'list']);
    const results = await callEach(td, f);
    expect(outcomes(results)).toEqual(Object.fromEntries(METHODS.map(({ method, federated }) => [method, federated])));

    expect(JSON.parse(results.Pull!.stdout)).toEqual(f.record);
    expect(JSON.parse(results.Lookup!.stdout)).toMatchObject({ cid: f.cid, annotations: f.record.annotations });
    expect((JSON.parse(results.PullReferrer!.stdout) as Array<{ referrer_cid: string }>).map((r) => r.referrer_cid)).toEqual([f.referrerCid]);
    expect(JSON.parse(results.RequestRegistryCredentials!.stdout)).toMatchObject({ username: registryUsername(federation.endpoints.trustDomains[td]!.dirctl.spiffeId) });
    // The denied calls changed nothing.
    expect((await call(OWN, ['pull', f.unpushedCid])).outcome).toBe('NOT_FOUND');
    expect(await succeed(OWN, ['pull', f.cid])).toEqual(f.record);
    expect((await succeed<Array<{ referrer_cid: string }>>(OWN, ['referrers', 'pull', f.cid])).map((r) => r.referrer_cid)).toEqual([f.referrerCid]);
    expect(await succeed<{ sync_id: string }>(OWN, ['sync', 'get', f.syncId])).toMatchObject({ sync_id: f.syncId });
    expect(await succeed<unknown[]>(OWN, ['sync', 'list'])).toHaveLength(syncsBefore.length);

    const decisions = apiserverLog().filter((line) => line.event === 'authz' && line.callerTrustDomain === td);
    expect(decisions).toHaveLength(METHODS.length);
    const allowedBy = decisions.filter((line) => line.decision === 'allow').map((line) => String(line.rule).split(':')[0]);
    expect(new Set(allowedBy)).toEqual(new Set(['default policy rule 2']));
  });

  it('refuses dirctl of a trust domain it does not federate with at TLS, before any authorization', async (context) => {
    skipIfUnavailable(context);
    const results = await callEach(OUTSIDER, await fixture(OUTSIDER));
    expect(outcomes(results)).toEqual(Object.fromEntries(METHODS.map(({ method }) => [method, 'UNAVAILABLE'])));
    // dirctl verified the apiserver (it holds dir.example's bundle); the apiserver closed the connection.
    for (const result of Object.values(results)) {
      expect(result.detail).toContain(`${apiserver().spiffeId} closed the connection after the TLS handshake`);
    }
    const log = apiserverLog();
    const refusals = log.filter((line) => line.msg === 'connection refused' && String(line.reason).includes(`no X.509 bundle for trust domain "${OUTSIDER}"`));
    expect(refusals.length).toBeGreaterThanOrEqual(METHODS.length);
    expect(log.filter((line) => line.event === 'authz' && line.callerTrustDomain === OUTSIDER)).toEqual([]);
  });
});

describe('faults', () => {
  it('rotates the SVIDs of the apiserver and of both callers under continuous pulls without a failed call', async (context) => {
    skipIfUnavailable(context);
    const { record, cid } = await pushRecord('rotation');
    const callers = [OWN, PEER];
    const serving = new Set<string>();
    const callerSerials = new Map(callers.map((td) => [td, new Set<string>()]));
    const failures: string[] = [];
    const pulls = new Map(callers.map((td) => [td, 0]));
    // Two rotations of the apiserver's SVID: the calls span a whole rotation period.
    const rotated = () => serving.size > 2 && [...callerSerials.values()].every((serials) => serials.size > 1);

    const deadline = Date.now() + 3 * SVID_TTL_SECONDS * 1000;
    while (!rotated() && Date.now() < deadline) {
      serving.add(await servingSerial());
      for (const td of callers) {
        const source = await sourceOf(td);
        callerSerials.get(td)!.add(leafSerial(source));
        // A new connection each time: every handshake uses the SVIDs current at that moment.
        const client = directoryClient(source);
        try {
          expect(await client.pull(cid)).toEqual(record);
          pulls.set(td, pulls.get(td)! + 1);
        } catch (error) {
          failures.push(`${td}: ${(error as Error).message}`);
        } finally {
          client.close();
        }
      }
    }
    expect(failures).toEqual([]);
    const seen = { apiserver: serving.size, ...Object.fromEntries([...callerSerials].map(([td, serials]) => [`${td} dirctl`, serials.size])) };
    expect(rotated(), `distinct SVID serial numbers seen: ${JSON.stringify(seen)}`).toBe(true);
    expect(Math.min(...pulls.values())).toBeGreaterThan(10);
  }, 4 * SVID_TTL_SECONDS * 1000);

  it("keeps serving with its current SVID while dir.example's agent is down, and serves the next one after its restart", async (context) => {
    skipIfUnavailable(context);
    const { record, cid } = await pushRecord('agent-outage');
    const ownSource = await sourceOf(OWN);
    const before = await servingSerial();
    const agent = federation.domain(OWN).agent;

    await agent.kill();
    // The outage is real: a new dir.example workload gets no identity.
    expect(await call(OWN, ['pull', cid], 1)).toMatchObject({ outcome: 'exit 3', detail: expect.stringContaining('no identity') });
    const outage: string[] = [];
    const servingDuringOutage = new Set<string>();
    const outageEnds = Date.now() + 4_000;
    while (Date.now() < outageEnds) {
      const peerPull = await call(PEER, ['pull', cid]);
      outage.push(`${PEER} dirctl: ${peerPull.outcome}`);
      // dir.example's caller kept its SVID too; a new connection with it.
      const client = directoryClient(ownSource);
      outage.push(
        await client.pull(cid).then(
          (pulled) => `${OWN} client: ${canonicalJson(pulled) === canonicalJson(record) ? 'OK' : 'a different record'}`,
          (error: Error) => `${OWN} client: ${error.message}`,
        ),
      );
      client.close();
      servingDuringOutage.add(await servingSerial());
    }
    await agent.restart();
    expect(new Set(outage)).toEqual(new Set([`${PEER} dirctl: OK`, `${OWN} client: OK`]));
    expect(servingDuringOutage).toEqual(new Set([before]));
    await eventually('the apiserver serving a new SVID', async () => ((await servingSerial()) !== before ? true : undefined), SVID_TTL_SECONDS * 1000);
    expect(await succeed(OWN, ['pull', cid])).toEqual(record);
    expect(await succeed(PEER, ['pull', cid])).toEqual(record);
  }, 90_000);

  it('loses no acknowledged push and leaves no half-written record when the apiserver is SIGKILLed during a burst of pushes', async (context) => {
    skipIfUnavailable(context);
    const apiserverProcess = federation.domain(OWN).apiserver!;
    const source = await sourceOf(OWN);
    const workers = 8;
    const killAfter = 40;
    const acknowledged = new Map<string, JsonObject>();
    let killed: Promise<void> | undefined;

    const pushUntilFailure = async (worker: number): Promise<unknown> => {
      const client = directoryClient(source, 60_000);
      try {
        for (let i = 0; ; i++) {
          const record = { name: `burst-${worker}-${i}`, version: '1.0.0', description: 'x'.repeat(4_000) };
          acknowledged.set(await client.push(record), record);
          if (acknowledged.size === killAfter) killed = apiserverProcess.kill();
        }
      } catch (error) {
        return error;
      } finally {
        client.close();
      }
    };
    const endings = await Promise.all(Array.from({ length: workers }, (_, worker) => pushUntilFailure(worker)));
    expect(killed).toBeDefined();
    await killed;
    // Every worker ended on the kill, most with a push in flight.
    expect(endings.map((ending) => (isServiceError(ending) ? Status[ending.code] : String(ending)))).toEqual(Array(workers).fill('UNAVAILABLE'));

    // Straight after the kill, before any recovery: every record in the apiserver's registry verifies against its CID.
    const afterKill = await localRegistryRecords(federation, OWN);
    await apiserverProcess.restart();
    expect([...acknowledged.keys()].filter((cid) => !afterKill.has(cid))).toEqual([]);
    for (const [cid, record] of acknowledged) expect(afterKill.get(cid)).toEqual(record);
    const client = directoryClient(source, 60_000);
    try {
      const pulled = new Map<string, JsonObject>();
      for (const cid of acknowledged.keys()) pulled.set(cid, await client.pull(cid));
      expect(pulled).toEqual(acknowledged);
    } finally {
      client.close();
    }
  }, 90_000);

  // Last: the peer's SPIRE server stays stopped.
  it("keeps serving dirctl.example, already federated, with dirctl.example's SPIRE server stopped", async (context) => {
    skipIfUnavailable(context);
    const { record, cid } = await pushRecord('peer-server-down');
    const connected = directoryClient(await sourceOf(PEER), 60_000);
    try {
      expect(await connected.pull(cid)).toEqual(record);
      await federation.domain(PEER).server.stop();
      await expect(federation.domain(OWN).server.cli(['federation', 'refresh', '-id', `spiffe://${PEER}`])).rejects.toThrow(/federation refresh/);

      expect(await connected.pull(cid)).toEqual(record);
      expect(await succeed(PEER, ['pull', cid])).toEqual(record);
      expect((await call(PEER, ['push', writeRecord('peer-server-down-push').file])).outcome).toBe('PERMISSION_DENIED');
    } finally {
      connected.close();
    }
  });
});
