/**
 * The Directory's published Python SDK against the real local-mode apiserver, the way a Python client
 * outside dirtk would connect: ordinary gRPC TLS (`grpc.ssl_channel_credentials`, no SPIFFE library),
 * the server verified against dir.example's trust bundle *and* its host name (`localhost`, the DNS name
 * in the apiserver's SVID), and an X.509-SVID from real SPIRE as client certificate, fetched with
 * SPIRE's own CLI (`spire-agent api fetch x509 -write`) into an owner-only temporary folder.
 *
 * From dir.example's agent the Python process is dir.example's dirctl (its entry selects the user
 * alone): every call is allowed. From dirctl.example's agent it is a federated caller: reads and
 * registry credentials only, Push and ListSyncs PERMISSION_DENIED by the apiserver's policy.
 */
import { registryUsername } from '@dirtk/directory-api/contract';
import { execFile } from 'node:child_process';
import { X509Certificate } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type JsonObject, objectCid } from '@dirtk/directory-api/cid';
import { type LocalFederation, startLocalFederation } from '../../local/federation';
import { SPIRE_INSTALL } from '../../spire/build/install';
import { whySpireIsUnavailable } from '../support/spire-available';
import { ensureDirectorySdk, PythonSdkUnavailable, runDirectorySdk } from './python-sdk';

const OWN = 'dir.example';
const PEER = 'dirctl.example';
const SIGNATURE = 'agntcy.dir.sign.v1.Signature';
const REMOTE_DIRECTORY = 'https://remote-directory.invalid:8888';

/** What `spire-agent api fetch x509 -write` wrote for the first (here: the only) SVID. */
interface FetchedSvid {
  readonly dir: string;
  readonly spiffeId: string;
  readonly certificateChain: string;
  readonly privateKey: string;
  readonly bundle: string;
  /** Trust domain name → the file holding its federated bundle. */
  readonly federatedBundles: Readonly<Record<string, string>>;
}

/** One call as the helper's `calls-over-tls` takes it. */
type Call =
  | { call: 'push'; record: JsonObject }
  | { call: 'pull' | 'lookup'; cid: string }
  | { call: 'pull_referrer'; cid: string; type: string }
  | { call: 'push_referrer'; cid: string; type: string; annotations: Record<string, string>; created_at: string; data: JsonObject }
  | { call: 'create_sync'; remote_directory_url: string }
  | { call: 'list_syncs' | 'request_registry_credentials' };
type Result = { call: string; ok: unknown; code?: undefined; details?: undefined } | { call: string; ok?: undefined; code: string; details: string };

let skipReason: string | undefined;
let python: string;
let stateDir: string;
let svidRoot: string;
let federation: LocalFederation;
const svids = new Map<string, FetchedSvid>();

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

function apiserver() {
  return federation.endpoints.trustDomains[OWN]!.apiserver!;
}

/** `localhost:<port>`: the name gRPC verifies is the target's host, the DNS name in the apiserver's SVID. */
function target(host = apiserver().tlsServerName): string {
  return `${host}:${apiserver().address.split(':')[1]}`;
}

/** The SVID of the workload that `td`'s agent attests this child process as, written by SPIRE's CLI. */
async function fetchSvid(td: string): Promise<FetchedSvid> {
  const dir = path.join(svidRoot, td);
  mkdirSync(dir, { mode: 0o700 });
  const socketPath = federation.endpoints.trustDomains[td]!.workloadApi.replace(/^unix:\/\//, '');
  const args = ['api', 'fetch', 'x509', '-socketPath', socketPath, '-write', dir, '-timeout', '10s'];
  const stdout = await retrying(async () => (await promisify(execFile)(SPIRE_INSTALL.agentBin, args, { timeout: 30_000 })).stdout);
  const spiffeIds = [...stdout.matchAll(/^SPIFFE ID:\s+(\S+)$/gm)].map((match) => match[1]!);
  if (spiffeIds.length !== 1) throw new Error(`expected exactly one SVID from ${td}'s agent:\n${stdout}`);
  const federated = [...stdout.matchAll(/^Writing federated bundle #\d+ for trust domain (\S+) to file (.+)\.$/gm)];
  return {
    dir,
    spiffeId: spiffeIds[0]!,
    certificateChain: path.join(dir, 'svid.0.pem'),
    privateKey: path.join(dir, 'svid.0.key'),
    bundle: path.join(dir, 'bundle.0.pem'),
    federatedBundles: Object.fromEntries(federated.map((match) => [match[1]!.replace(/^spiffe:\/\//, ''), match[2]!])),
  };
}

/** `attempt` until it resolves, for up to a minute: an agent answers "no identity issued" until it has synced its entries. */
async function retrying<T>(attempt: () => Promise<T>): Promise<T> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    try {
      return await attempt();
    } catch (error) {
      if (Date.now() > deadline) throw error;
      await sleep(500);
    }
  }
}

interface Connection {
  readonly svid: FetchedSvid;
  /** The PEM file of dir.example's bundle, as this caller holds it. */
  readonly roots: string;
  readonly target?: string;
  readonly targetNameOverride?: string;
}

/** As dirctl of `td`: its SVID as client certificate, dir.example's bundle as the only roots. */
function caller(td: string): Connection {
  const svid = svids.get(td)!;
  return { svid, roots: td === OWN ? svid.bundle : svid.federatedBundles[OWN]! };
}

/** The Python SDK's stubs making `calls` in order on one TLS channel. */
function callsOverTls(connection: Connection, calls: readonly Call[]): Promise<Result[]> {
  const spec = {
    target: connection.target ?? target(),
    root_certificates: connection.roots,
    certificate_chain: connection.svid.certificateChain,
    private_key: connection.svid.privateKey,
    ...(connection.targetNameOverride !== undefined && { target_name_override: connection.targetNameOverride }),
    calls,
  };
  return runDirectorySdk<Result[]>(python, ['calls-over-tls', JSON.stringify(spec)]);
}

/** Each call's outcome: OK or the status code. */
function outcomes(results: readonly Result[]): string[] {
  return results.map((result) => `${result.call} ${result.code ?? 'OK'}`);
}

function okOf<T>(result: Result | undefined): T {
  if (result?.ok === undefined) throw new Error(`call failed: ${JSON.stringify(result)}`);
  return result.ok as T;
}

/** The apiserver's authorization decisions for callers of `td`, in order. */
function decisionsFor(td: string): string[] {
  const lines = readFileSync(federation.domain(OWN).apiserver!.logFile, 'utf8').split('\n');
  return lines
    .filter((line) => line.startsWith('{'))
    .map((line) => JSON.parse(line) as Record<string, unknown>)
    .filter((line) => line.event === 'authz' && line.callerTrustDomain === td)
    .map((line) => `${String(line.method).split('/').pop()} ${String(line.decision)} ${String(line.caller)}`);
}

function fingerprints(file: string): string[] {
  const pem = readFileSync(file, 'utf8');
  return [...pem.matchAll(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g)].map((match) => new X509Certificate(match[0]).fingerprint256);
}

/** An OASF-shaped record, named for this run so the CID is new. */
function oasfRecord(name: string): JsonObject {
  return {
    name: `dirtk-python-sdk-mtls-${name}`,
    version: 'v1.0.0',
    schema_version: '0.7.0',
    description: 'Pushed by the Directory Python SDK over gRPC TLS with a SPIFFE client certificate',
    authors: ['AGNTCY'],
    created_at: new Date().toISOString(),
    annotations: { team: 'blue' },
    skills: [{ id: 10201, name: 'natural_language_processing/text_completion' }],
    locators: [{ type: 'docker_image', url: 'ghcr.io/agntcy/agent-a:v1' }],
    extensions: [],
  };
}

beforeAll(async () => {
  skipReason = await whySpireIsUnavailable();
  if (!skipReason) {
    try {
      python = await ensureDirectorySdk();
    } catch (error) {
      if (!(error instanceof PythonSdkUnavailable)) throw error;
      skipReason = `the Directory's Python SDK could not be installed here: ${error.message}`;
    }
  }
  if (skipReason) {
    console.warn(`SKIPPING the Python SDK over TLS: ${skipReason}`);
    return;
  }
  stateDir = mkdtempSync(path.join(tmpdir(), 'dirtk-sdk-mtls-'));
  // Keys never go into the clone: an owner-only folder of their own, removed afterwards.
  svidRoot = mkdtempSync(path.join(tmpdir(), 'dirtk-sdk-svids-'));
  chmodSync(svidRoot, 0o700);
  federation = await startLocalFederation({ stateDir });
  for (const td of [OWN, PEER]) svids.set(td, await fetchSvid(td));
}, 1_800_000);

afterAll(async () => {
  await federation?.stop();
  if (svidRoot) rmSync(svidRoot, { recursive: true, force: true });
  if (stateDir) rmSync(stateDir, { recursive: true, force: true });
});

describe("the Directory's Python SDK over gRPC TLS with SPIFFE client certificates from real SPIRE", () => {
  const record = oasfRecord('own');
  const deniedRecord = oasfRecord('pushed-by-the-federated-caller');
  let signatureCid: string;

  it("gets each domain's dirctl SVID from SPIRE's CLI, key owner-only, and dir.example's bundle from both agents", (context) => {
    skipIfUnavailable(context);
    for (const td of [OWN, PEER]) {
      const svid = svids.get(td)!;
      expect(svid.spiffeId).toBe(federation.endpoints.trustDomains[td]!.dirctl.spiffeId);
      expect(statSync(svid.dir).mode & 0o777).toBe(0o700);
      expect(statSync(svid.privateKey).mode & 0o777).toBe(0o600);
      // Leaf, SPIRE's CA and the domain's upstream root, which SPIRE's CA chains to: the chain the client presents.
      const chain = fingerprints(svid.certificateChain);
      expect(chain).toHaveLength(3);
      expect(chain.at(-1)).toBe(fingerprints(federation.endpoints.trustDomains[td]!.upstreamCaCertificate)[0]);
      expect(new X509Certificate(readFileSync(svid.certificateChain)).subjectAltName).toBe(`URI:${svid.spiffeId}`);
    }
    const dirRoot = fingerprints(federation.endpoints.trustDomains[OWN]!.upstreamCaCertificate);
    expect(fingerprints(caller(OWN).roots)).toEqual(dirRoot);
    expect(Object.keys(svids.get(PEER)!.federatedBundles)).toEqual([OWN]);
    expect(fingerprints(caller(PEER).roots)).toEqual(dirRoot);
    expect(apiserver().tlsServerName).toBe('localhost');
  });

  it('as dir.example: pushes a record under its CID, pulls, looks up, pushes and pulls a signature, lists syncs', async (context) => {
    skipIfUnavailable(context);
    const cid = objectCid(record);
    const signature = { annotations: { alg: 'ES256' }, content_bundle: 'MEUCIQ==', signed_at: '2026-01-02T03:04:06Z' };
    const results = await callsOverTls(caller(OWN), [
      { call: 'push', record },
      { call: 'pull', cid },
      { call: 'lookup', cid },
      { call: 'push_referrer', cid, type: SIGNATURE, annotations: { issuer: 'dirtk' }, created_at: '2026-01-02T03:04:06Z', data: signature },
      { call: 'pull_referrer', cid, type: SIGNATURE },
      { call: 'create_sync', remote_directory_url: REMOTE_DIRECTORY },
      { call: 'list_syncs' },
      { call: 'request_registry_credentials' },
    ]);
    expect(outcomes(results), JSON.stringify(results, null, 2)).toEqual(results.map((result) => `${result.call} OK`));
    const [push, pull, lookup, pushReferrer, pullReferrer, createSync, listSyncs, credentials] = results;
    expect(okOf(push)).toEqual([{ cid }]);
    expect(okOf(pull)).toEqual([{ data: record }]);
    expect(okOf(lookup)).toEqual([expect.objectContaining({ cid, schema_version: '0.7.0', annotations: { team: 'blue' } })]);
    const [pushed] = okOf<Array<{ success: boolean; referrer_ref: { cid: string } }>>(pushReferrer);
    expect(pushed?.success).toBe(true);
    signatureCid = pushed!.referrer_ref.cid;
    expect(okOf(pullReferrer)).toEqual([
      {
        referrer: {
          type: SIGNATURE,
          record_ref: { cid },
          annotations: { issuer: 'dirtk' },
          created_at: '2026-01-02T03:04:06Z',
          data: signature,
          referrer_ref: { cid: signatureCid },
        },
      },
    ]);
    const { sync_id: syncId } = okOf<{ sync_id: string }>(createSync);
    expect(okOf<Array<{ sync_id: string }>>(listSyncs).map((sync) => sync.sync_id)).toContain(syncId);
    // The apiserver took the caller's identity from the Python client's certificate.
    expect(okOf<{ basic_auth: { username: string } }>(credentials).basic_auth.username).toBe(registryUsername(svids.get(OWN)!.spiffeId));
  });

  it('as dirctl.example (federated): Pull, Lookup, PullReferrer and RequestRegistryCredentials succeed; Push and ListSyncs are PERMISSION_DENIED', async (context) => {
    skipIfUnavailable(context);
    const cid = objectCid(record);
    const before = decisionsFor(PEER).length;
    const results = await callsOverTls(caller(PEER), [
      { call: 'pull', cid },
      { call: 'lookup', cid },
      { call: 'pull_referrer', cid, type: SIGNATURE },
      { call: 'request_registry_credentials' },
      { call: 'push', record: deniedRecord },
      { call: 'list_syncs' },
    ]);
    expect(outcomes(results), JSON.stringify(results, null, 2)).toEqual([
      'pull OK',
      'lookup OK',
      'pull_referrer OK',
      'request_registry_credentials OK',
      'push PERMISSION_DENIED',
      'list_syncs PERMISSION_DENIED',
    ]);
    const [pull, lookup, pullReferrer, credentials] = results;
    expect(okOf(pull)).toEqual([{ data: record }]);
    expect(okOf(lookup)).toEqual([expect.objectContaining({ cid, annotations: { team: 'blue' } })]);
    expect(okOf<Array<{ referrer: { type: string; referrer_ref: { cid: string } } }>>(pullReferrer).map(({ referrer }) => [referrer.type, referrer.referrer_ref.cid])).toEqual([
      [SIGNATURE, signatureCid],
    ]);
    const peerId = svids.get(PEER)!.spiffeId;
    expect(okOf<{ basic_auth: { username: string } }>(credentials).basic_auth.username).toBe(registryUsername(peerId));
    // Denied by the policy, for this caller's SPIFFE ID, one decision per call.
    expect(decisionsFor(PEER).slice(before)).toEqual([
      `Pull allow ${peerId}`,
      `Lookup allow ${peerId}`,
      `PullReferrer allow ${peerId}`,
      `RequestRegistryCredentials allow ${peerId}`,
      `Push deny ${peerId}`,
      `ListSyncs deny ${peerId}`,
    ]);
    // The denied push stored nothing.
    expect(outcomes(await callsOverTls(caller(OWN), [{ call: 'pull', cid: objectCid(deniedRecord) }]))).toEqual(['pull NOT_FOUND']);
  });

  it("fails the handshake when the name gRPC verifies is not the SVID's DNS name", async (context) => {
    skipIfUnavailable(context);
    const credentials: Call[] = [{ call: 'request_registry_credentials' }];
    const attempts = {
      'localhost, override wrong.example': await callsOverTls({ ...caller(OWN), targetNameOverride: 'wrong.example' }, credentials),
      '127.0.0.1, no override': await callsOverTls({ ...caller(OWN), target: apiserver().address }, credentials),
      // The same channel options with the right name: only the name differs.
      '127.0.0.1, override localhost': await callsOverTls({ ...caller(OWN), target: apiserver().address, targetNameOverride: 'localhost' }, credentials),
    };
    expect(Object.fromEntries(Object.entries(attempts).map(([name, results]) => [name, outcomes(results)]))).toEqual({
      'localhost, override wrong.example': ['request_registry_credentials UNAVAILABLE'],
      '127.0.0.1, no override': ['request_registry_credentials UNAVAILABLE'],
      '127.0.0.1, override localhost': ['request_registry_credentials OK'],
    });
    expect(attempts['localhost, override wrong.example'][0]!.details).toMatch(/Hostname Verification Check failed/);
    expect(attempts['127.0.0.1, no override'][0]!.details).toMatch(/Hostname Verification Check failed/);
  });
});
