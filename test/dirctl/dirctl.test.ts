/**
 * dirctl in-process (`runDirctl`) against a real apiserver (`startApiServer`) whose identity, like
 * dirctl's, comes from fake Workload APIs serving certificates made in the test:
 *
 * - dir.example: the apiserver and dirctl (two SVIDs, hints "dirctl" and "admin");
 * - partner.example: federated with dir.example both ways;
 * - rogue.example: trusts dir.example, but dir.example does not trust it.
 *
 * A server that fails dirctl's pin exits 3 (setup failure), not 114: it would not pass on retry.
 */
import { EXIT_FAILED, registryUsername } from '@dirtk/directory-api/contract';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type RunningApiServer, startApiServer } from '../../apps/apiserver/src/apiserver';
import { loadConfig } from '../../apps/apiserver/src/config';
import { COMMANDS, runDirctl } from '../../apps/dirctl/src/cli';
import { createJsonLogger } from '../../apps/apiserver/src/observability/logger';
import { objectCid } from '@dirtk/directory-api/cid';
import { freePorts } from '../../spire/process/ports';
import { FakeWorkloadApi } from '../../packages/spiffe/test/support/fake-workload-api';
import { jwtClaims, jwtKey, type JwtKey, signJwt, TestCa } from '../../packages/spiffe/test/support/test-ca';

const SERVER_ID = 'spiffe://dir.example/apiserver';
const DIRCTL_ID = 'spiffe://dir.example/dirctl';
const ADMIN_ID = 'spiffe://dir.example/admin';
const AUDIENCE = 'dir.example/apiserver';
const RECORD = { name: 'agent-a', schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'blue' }, skills: [{ id: 1 }] };
/** A CID of nothing stored. */
const SIGNATURE = 'agntcy.dir.sign.v1.Signature';
const SCAN_REPORT = 'agntcy.dir.security.v1.ScanReport';
const ABSENT_CID = objectCid({ name: 'absent' });

let roots: Record<'dir' | 'partner' | 'rogue', TestCa>;
let signingKey: JwtKey;
let server: RunningApiServer;
let serverAddress: string;
let closedAddress: string;
const serverLog: Array<Record<string, unknown>> = [];
const fakes: FakeWorkloadApi[] = [];
let dataDir: string;
let files: string;
let own: FakeWorkloadApi;
let partner: FakeWorkloadApi;

async function svid(ca: TestCa, id: string, hint = '') {
  const leaf = await ca.leaf({ uris: [id] });
  return { spiffeId: id, x509Svid: leaf.der, x509SvidKey: leaf.privateKeyDer, bundle: ca.der, hint };
}

/** A fake Workload API serving `svids`, plus the bundles of `federated`. */
async function workloadApi(svids: unknown[], federated: TestCa[] = []): Promise<FakeWorkloadApi> {
  const fake = await FakeWorkloadApi.start();
  fakes.push(fake);
  fake.x509Svid.push({ svids, crl: [], federatedBundles: Object.fromEntries(federated.map((ca) => [`spiffe://${ca.trustDomain}`, ca.der])) });
  return fake;
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

async function dirctl(args: readonly string[], options: { env?: Record<string, string | undefined>; stdin?: string } = {}): Promise<Run> {
  let stdout = '';
  let stderr = '';
  const code = await runDirctl(args, {
    stdin: Readable.from([options.stdin ?? '']),
    stdout: { write: (text: string) => (stdout += text) },
    stderr: { write: (text: string) => (stderr += text) },
    env: { SPIFFE_ENDPOINT_SOCKET: own.endpoint, DIRCTL_SERVER: serverAddress, ...options.env },
  });
  return { code, stdout, stderr };
}

/** dirctl that must succeed; returns its stdout. */
async function ok(args: readonly string[], options?: Parameters<typeof dirctl>[1]): Promise<string> {
  const run = await dirctl(args, options);
  expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

function file(name: string, content: unknown): string {
  const full = path.join(files, name);
  writeFileSync(full, typeof content === 'string' ? content : JSON.stringify(content));
  return full;
}

beforeAll(async () => {
  const [dir, partnerCa, rogue] = await Promise.all([TestCa.root('dir.example'), TestCa.root('partner.example'), TestCa.root('rogue.example')]);
  roots = { dir, partner: partnerCa, rogue };
  signingKey = jwtKey('ES256');
  const serverApi = await workloadApi([await svid(dir, SERVER_ID)], [partnerCa]);
  serverApi.jwtBundles.push({ bundles: { 'spiffe://dir.example': Buffer.from(JSON.stringify({ keys: [{ ...signingKey.jwk, kid: signingKey.kid }] })) } });

  own = await workloadApi([await svid(dir, DIRCTL_ID, 'dirctl'), await svid(dir, ADMIN_ID, 'admin')]);
  own.jwtSvid.answer = (request) => {
    const { audience, spiffeId } = request as { audience: string[]; spiffeId: string };
    const id = spiffeId || DIRCTL_ID;
    return { svids: [{ spiffeId: id, svid: signJwt(signingKey, jwtClaims(id, audience)), hint: '' }] };
  };
  partner = await workloadApi([await svid(partnerCa, 'spiffe://partner.example/dirctl')], [dir]);

  dataDir = mkdtempSync(path.join(tmpdir(), 'dirtk-dirctl-'));
  files = path.join(dataDir, 'inputs');
  mkdirSync(files);
  const config = loadConfig({
    DIRTK_APISERVER_LISTEN: '127.0.0.1:0',
    DIRTK_APISERVER_HTTP_LISTEN: '127.0.0.1:0',
    SPIFFE_ENDPOINT_SOCKET: serverApi.endpoint,
    DIRTK_APISERVER_JWT_AUDIENCES: AUDIENCE,
    DIRTK_APISERVER_DATA_DIR: path.join(dataDir, 'store'),
    DIRTK_APISERVER_REGISTRY_ADDRESS: 'registry.dir.example:5000',
    DIRTK_APISERVER_READY_TIMEOUT_MS: '10000',
  });
  server = await startApiServer(config, createJsonLogger({ level: 'debug', write: (line) => serverLog.push(JSON.parse(line) as Record<string, unknown>) }));
  serverAddress = `127.0.0.1:${server.port}`;
  closedAddress = `127.0.0.1:${(await freePorts(1))[0]}`;
});

afterAll(async () => {
  await server?.close();
  await Promise.all(fakes.map((fake) => fake.stop()));
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
});

describe('dirctl help', () => {
  it('prints the usage of dirctl: every command, the global options and the exit codes', async () => {
    const help = await ok(['--help']);
    expect(help).toMatch(/^dirctl: /);
    for (const line of ['push <file|->', 'pull <cid>', 'lookup <cid>', 'delete <cid>...', 'referrers push|pull|delete', 'sync create|get|list|delete', 'credentials']) {
      expect(help).toContain(`  ${line}`);
    }
    for (const option of ['--server <host:port>', '--spiffe-socket', '--auth <x509|jwt>', '--jwt-audience', '--svid-hint', '--server-id', '--server-trust-domain', '--json', '--timeout']) {
      expect(help).toContain(option);
    }
    expect(help).toMatch(/^ {2}3 +identity or connection setup failure/m);
    expect(help).toMatch(/^ {2}100\+N +the call failed with gRPC status code N/m);
  });

  it.each([['referrers'], ['sync']])('prints the usage of the %s commands', async (group) => {
    const help = await ok([group, '-h']);
    expect(help).toMatch(new RegExp(`^Usage: dirctl ${group} <`));
    for (const command of COMMANDS.filter((c) => c.words[0] === group)) expect(help).toContain(`  ${command.words.join(' ')}`);
  });

  it.each(COMMANDS.map((command) => [command.words.join(' '), command] as const))('prints the usage of %s with its own options', async (name, command) => {
    const help = await ok([...command.words, '--help']);
    expect(help.startsWith(`Usage: dirctl ${name} `)).toBe(true);
    for (const option of Object.keys(command.options ?? {})) expect(help).toContain(`--${option} `);
    expect(help).toContain('--server-trust-domain');
  });
});

describe('dirctl usage errors', () => {
  const cid = ABSENT_CID;
  it.each<[string, string[], string, string?]>([
    ['no command', [], 'no command given'],
    ['an unknown command', ['frobnicate'], 'unknown command "frobnicate"'],
    ['a group without its command', ['referrers'], '"referrers" needs a command: push, pull, delete'],
    ['an unknown subcommand', ['sync', 'frob'], 'unknown command "sync frob"'],
    ['a missing argument', ['pull'], 'pull takes 1 argument (<cid>), got 0'],
    ['an extra argument', ['lookup', cid, cid], 'lookup takes 1 argument (<cid>), got 2'],
    ['no CID to delete', ['delete'], 'delete takes at least 1 argument'],
    ['a malformed CID', ['delete', cid, 'Qmfoo'], 'invalid CID "Qmfoo": CIDv0 is not supported'],
    ['an unknown option', ['push', '--bogus', 'x.json'], "Unknown option '--bogus'"],
    ['an option of another command', ['pull', cid, '--type', 'x'], "Unknown option '--type'"],
    ['a missing record file', ['push', '/nonexistent/record.json'], 'cannot read the record from /nonexistent/record.json: ENOENT'],
    ['a record that is not JSON', ['push', '-'], 'the record in stdin is not JSON', 'name: agent'],
    ['a record that is not an object', ['push', '-'], 'the record in stdin must be a JSON object', '[1, 2]'],
    ['a server that is not host:port', ['pull', cid, '--server', 'localhost'], '--server (or DIRCTL_SERVER) "localhost" is not host:port'],
    ['a Workload API address without scheme', ['pull', cid, '--spiffe-socket', '/run/api.sock'], '--spiffe-socket (or SPIFFE_ENDPOINT_SOCKET) is not usable'],
    ['an unknown auth mode', ['pull', cid, '--auth', 'token'], '--auth (or DIRCTL_AUTH) must be x509 or jwt, not "token"'],
    ['jwt without an audience', ['pull', cid, '--auth', 'jwt'], '--jwt-audience (or DIRCTL_JWT_AUDIENCE) is required with --auth jwt'],
    ['two server pins', ['pull', cid, '--server-id', SERVER_ID, '--server-trust-domain', 'dir.example'], 'give --server-id or --server-trust-domain, not both'],
    ['a server ID that is not a SPIFFE ID', ['pull', cid, '--server-id', 'https://dir.example/apiserver'], '--server-id: invalid SPIFFE ID'],
    ['a zero timeout', ['pull', cid, '--timeout', '0'], '--timeout must be a positive number of seconds, not "0"'],
    ['a referrer without type', ['referrers', 'push', cid], '--type is required'],
    ['an annotation without value', ['referrers', 'push', cid, '--type', 't', '--annotation', 'team'], '--annotation "team" is not key=value'],
    ['an annotation given twice', ['referrers', 'push', cid, '--type', 't', '--annotation', 'a=1', '--annotation', 'a=2'], '--annotation a is given twice'],
    ['a sync without source', ['sync', 'create', '--repository', 'dir'], 'give --remote-directory-url or --remote-registry-url'],
    ['a sync of a malformed CID', ['sync', 'create', '--remote-directory-url', 'https://x', '--cid', 'nope'], 'invalid CID "nope"'],
    ['a limit that is not a number', ['sync', 'list', '--limit', 'ten'], '--limit must be a whole number, not "ten"'],
  ])('exits 2 on %s, before asking the Workload API for an identity', async (_, args, message, stdin) => {
    const before = own.x509Svid.calls;
    const run = await dirctl(args, { stdin });
    expect(run.code).toBe(2);
    expect(run.stdout).toBe('');
    expect(run.stderr).toContain(`error: ${message}`);
    expect(run.stderr).toMatch(/\nRun 'dirctl [a-z ]*--help' for usage\.\n$/);
    expect(own.x509Svid.calls).toBe(before);
  });

  it('reads settings from the environment when the flag is absent, and names the variable', async () => {
    const run = await dirctl(['pull', ABSENT_CID], { env: { DIRCTL_AUTH: 'kerberos' } });
    expect(run).toMatchObject({ code: 2, stderr: expect.stringContaining('--auth (or DIRCTL_AUTH) must be x509 or jwt, not "kerberos"') });
  });

  it('reports a usage error as a JSON object on stderr with --json', async () => {
    const run = await dirctl(['--json', 'pull', 'Qmfoo']);
    expect(run.code).toBe(2);
    expect(JSON.parse(run.stderr)).toEqual({ exit_code: 2, message: expect.stringContaining('CIDv0 is not supported') });
  });
});

describe('dirctl identity and connection setup', () => {
  it('exits 3 without a Workload API address, saying how to give one', async () => {
    const run = await dirctl(['pull', ABSENT_CID], { env: { SPIFFE_ENDPOINT_SOCKET: undefined } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('error: no Workload API address to get an identity from: pass --spiffe-socket or set SPIFFE_ENDPOINT_SOCKET');
  });

  it('exits 3 when the Workload API issues no identity, naming the socket and the status', async () => {
    const unregistered = await FakeWorkloadApi.start();
    fakes.push(unregistered);
    unregistered.x509Svid.refuseNext(...Array.from({ length: 5 }, () => ({ code: Status.PERMISSION_DENIED, details: 'no identity issued' })));
    const run = await dirctl(['pull', ABSENT_CID, '--timeout', '1.5'], { env: { SPIFFE_ENDPOINT_SOCKET: unregistered.endpoint } });
    expect(run.code).toBe(3);
    expect(run.stderr).toMatch(/^error: no identity: no X\.509-SVID from the Workload API at unix:\/\/\S+\/api\.sock within \d+ ms/);
    expect(run.stderr).toContain(unregistered.endpoint);
    expect(run.stderr).toContain('PERMISSION_DENIED: no identity issued');
    expect(unregistered.x509Svid.calls).toBeGreaterThan(0);
  });

  it('exits 3 when no SVID has the hint, listing the ones the workload has', async () => {
    const run = await dirctl(['credentials', '--svid-hint', 'root']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('no X.509-SVID with hint "root" is available');
    expect(run.stderr).toContain(`this workload has: ${DIRCTL_ID} (hint "dirctl"), ${ADMIN_ID} (hint "admin")`);
  });

  it('exits 3 when the server is not the pinned SPIFFE ID, and sends it nothing', async () => {
    const record = file('pinned.json', { name: 'never stored' });
    const logged = serverLog.length;
    const run = await dirctl(['push', record, '--server-id', 'spiffe://dir.example/impostor']);
    expect(run.code).toBe(3);
    expect(run.stderr).toBe(
      `error: the server at ${serverAddress} was refused: ${SERVER_ID} is not authorized: expected spiffe://dir.example/impostor\n`,
    );
    expect(serverLog.slice(logged).filter((line) => line.msg === 'authz')).toEqual([]);
    expect(await ok(['push', record, '--server-id', SERVER_ID])).toMatch(/^b[a-z2-7]+\n$/);
    expect(serverLog.slice(logged).filter((line) => line.msg === 'authz').map((line) => line.method)).toEqual(['/agntcy.dir.store.v1.StoreService/Push']);
  });

  it('exits 3 when the server is outside the pinned trust domain', async () => {
    const run = await dirctl(['credentials', '--server-trust-domain', 'partner.example']);
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`was refused: ${SERVER_ID} is not authorized: expected a member of trust domain "partner.example"`);
  });

  it("pins the caller's own trust domain by default: a federated caller must name the server's", async () => {
    const env = { SPIFFE_ENDPOINT_SOCKET: partner.endpoint };
    const run = await dirctl(['credentials'], { env });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`was refused: ${SERVER_ID} is not authorized: expected a member of trust domain "partner.example"`);
    expect(await ok(['credentials', '--server-trust-domain', 'dir.example'], { env })).toContain('username: partner.example/dirctl\n');
  });

  it("exits 3 when the server's trust domain is one the workload holds no bundle for", async () => {
    const isolated = await workloadApi([await svid(roots.rogue, 'spiffe://rogue.example/dirctl')]);
    const run = await dirctl(['credentials', '--server-trust-domain', 'dir.example'], { env: { SPIFFE_ENDPOINT_SOCKET: isolated.endpoint } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain('its SPIFFE ID is in trust domain "dir.example", which this workload holds no bundle for');
  });

  it('exits 114 (UNAVAILABLE) when the server refuses an unfederated client at TLS', async () => {
    const rogue = await workloadApi([await svid(roots.rogue, 'spiffe://rogue.example/dirctl')], [roots.dir]);
    const run = await dirctl(['pull', ABSENT_CID, '--server-trust-domain', 'dir.example'], { env: { SPIFFE_ENDPOINT_SOCKET: rogue.endpoint } });
    expect(run.code).toBe(100 + Status.UNAVAILABLE);
    expect(run.stderr).toMatch(/^error: UNAVAILABLE: /);
    expect(run.stderr).toContain(`(${SERVER_ID} closed the connection after the TLS handshake, as a server does with a client whose identity, here spiffe://rogue.example/dirctl, it does not accept)`);
    const refusals = serverLog.filter((line) => line.msg === 'connection refused');
    expect(refusals.map((line) => String(line.reason))).toContainEqual(expect.stringContaining('no X.509 bundle for trust domain "rogue.example"'));
  });

  it('exits 114 when nothing listens at the server address; the flag wins over DIRCTL_SERVER', async () => {
    const run = await dirctl(['credentials'], { env: { DIRCTL_SERVER: closedAddress } });
    expect(run.code).toBe(114);
    expect(run.stderr).toMatch(/^error: UNAVAILABLE: .*ECONNREFUSED/);
    expect(run.stderr).not.toContain('TLS handshake');
    expect(await ok(['credentials', '--server', serverAddress], { env: { DIRCTL_SERVER: closedAddress } })).toContain(`username: ${registryUsername(DIRCTL_ID)}\n`);
  });
});

describe('dirctl records and referrers', () => {
  let cid: string;

  beforeAll(async () => {
    cid = (await ok(['push', file('record.json', RECORD)])).trim();
  });

  it('pushes a record and prints its CID; the same record from stdin gets the same CID', async () => {
    expect(cid).toMatch(/^b[a-z2-7]{50,}$/);
    expect(await ok(['push', '-'], { stdin: JSON.stringify(RECORD, null, 4) })).toBe(`${cid}\n`);
    expect(JSON.parse(await ok(['--json', 'push', '-'], { stdin: JSON.stringify(RECORD) }))).toEqual({ cid });
  });

  it('pulls the record as JSON', async () => {
    const pulled = await ok(['pull', cid]);
    expect(JSON.parse(pulled)).toEqual(RECORD);
    expect(pulled).toContain('\n  "name": "agent-a"');
    expect(JSON.parse(await ok(['pull', cid, '--json']))).toEqual(RECORD);
  });

  it("looks up the record's metadata", async () => {
    expect(await ok(['lookup', cid])).toBe(`cid: ${cid}\nschema_version: 0.7.0\ncreated_at: 2026-01-02T03:04:05Z\nannotations:\n  team: blue\n`);
    expect(JSON.parse(await ok(['lookup', cid, '--json']))).toEqual({ cid, schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'blue' } });
  });

  it('pushes, pulls (all or by type) and deletes referrers', async () => {
    const signature = (await ok(['referrers', 'push', cid, '--type', SIGNATURE, '--annotation', 'alg=ES256', '--annotation', 'note=a=b', '--data', file('sig.json', { value: 'c2ln' })])).trim();
    const report = JSON.parse(await ok(['referrers', 'push', cid, '--type', SCAN_REPORT, '--json']));
    expect(report).toEqual({ referrer_cid: expect.stringMatching(/^b[a-z2-7]+$/), record_cid: cid });

    const listed = await ok(['referrers', 'pull', cid]);
    expect(listed.trim().split('\n').map((line) => line.split(/ {2}/).slice(0, 2))).toEqual(
      expect.arrayContaining([[signature, SIGNATURE], [report.referrer_cid, SCAN_REPORT]]),
    );
    expect(listed.trim().split('\n')).toHaveLength(2);
    expect(JSON.parse(await ok(['referrers', 'pull', cid, '--type', SIGNATURE, '--json']))).toEqual([
      { referrer_cid: signature, record_cid: cid, type: SIGNATURE, created_at: expect.any(String), annotations: { alg: 'ES256', note: 'a=b' }, data: { value: 'c2ln' } },
    ]);

    expect(await ok(['referrers', 'delete', cid, '--type', SIGNATURE])).toBe(`${signature}\n`);
    expect(JSON.parse(await ok(['referrers', 'pull', cid, '--json'])).map((r: { type: string }) => r.type)).toEqual([SCAN_REPORT]);
  });

  it('deletes records; a pull of a deleted record exits 105 with the status on stderr', async () => {
    const doomed = (await ok(['push', '-'], { stdin: '{"name":"doomed"}' })).trim();
    expect(await ok(['delete', doomed])).toBe(`deleted ${doomed}\n`);
    const run = await dirctl(['pull', doomed]);
    expect(run).toMatchObject({ code: 100 + Status.NOT_FOUND, stdout: '' });
    expect(run.stderr).toMatch(new RegExp(`^error: NOT_FOUND: .*${doomed}.*\\n$`));
  });

  it('reports a gRPC failure as a JSON object on stderr with --json', async () => {
    const run = await dirctl(['--json', 'delete', ABSENT_CID]);
    expect(run.code).toBe(105);
    expect(JSON.parse(run.stderr)).toEqual({ exit_code: 105, status: 'NOT_FOUND', code: 5, message: expect.stringContaining(ABSENT_CID) });
  });
});

describe('dirctl syncs and credentials', () => {
  it('creates, gets, lists and deletes a sync', async () => {
    const id = (await ok(['sync', 'create', '--remote-directory-url', 'https://dir.partner.example', '--cid', ABSENT_CID, '--repository', 'dir'])).trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const got = await ok(['sync', 'get', id]);
    // No peer is configured at that URL, so the worker FAILs the sync as soon as it sees it.
    expect(got).toMatch(new RegExp(`^sync_id: ${id}\nstatus: SYNC_STATUS_(PENDING|FAILED)\nremote_directory_url: https://dir\\.partner\\.example\n`));
    expect(JSON.parse(await ok(['sync', 'get', id, '--json']))).toMatchObject({ sync_id: id, status: expect.stringMatching(/PENDING|FAILED/), repository_name: 'dir' });

    const second = JSON.parse(await ok(['sync', 'create', '--remote-registry-url', 'registry.partner.example:5000', '--json'])).sync_id as string;
    expect(await ok(['sync', 'list'])).toMatch(new RegExp(`${id}  SYNC_STATUS_(PENDING|FAILED)  https://dir\\.partner\\.example, repository dir\n`));
    const listed = JSON.parse(await ok(['sync', 'list', '--json'])) as Array<{ sync_id: string }>;
    expect(listed.map((sync) => sync.sync_id)).toEqual(expect.arrayContaining([id, second]));
    const page = JSON.parse(await ok(['sync', 'list', '--json', '--limit', '1', '--offset', String(listed.length - 1)])) as typeof listed;
    expect(page.map((sync) => sync.sync_id)).toEqual([listed.at(-1)!.sync_id]);

    expect(await ok(['sync', 'delete', id])).toBe(`deleted sync ${id}\n`);
    expect(await ok(['sync', 'get', id])).toContain('status: SYNC_STATUS_DELETED\n');
  });

  it('waits with --wait until the sync ends, failing when it FAILED', async () => {
    // No peer is configured at that URL, so the worker FAILs the sync at once.
    const run = await dirctl(['sync', 'create', '--remote-directory-url', 'https://dir.partner.example', '--cid', ABSENT_CID, '--wait']);
    expect(run).toMatchObject({ code: EXIT_FAILED, stdout: '' });
    expect(run.stderr).toMatch(/^error: sync [0-9a-f-]{36} ended SYNC_STATUS_FAILED; the apiserver's log says why\n$/);
  });

  it('requests registry credentials issued to the calling identity', async () => {
    const text = await ok(['credentials']);
    expect(text).toMatch(/^registry_address: registry\.dir\.example:5000\nrepository_name: dir\ninsecure: false\nusername: dir\.example\/dirctl\npassword: \S+\n$/);
    const json = JSON.parse(await ok(['credentials', '--json', '--svid-hint', 'admin']));
    expect(json).toMatchObject({ registry_address: 'registry.dir.example:5000', username: registryUsername(ADMIN_ID), password: expect.any(String) });
  });

  it('exits 107 with the status on stderr when the policy denies the call', async () => {
    const env = { SPIFFE_ENDPOINT_SOCKET: partner.endpoint };
    const record = file('foreign.json', { name: 'foreign' });
    const run = await dirctl(['push', record, '--server-trust-domain', 'dir.example'], { env });
    expect(run).toEqual({ code: 107, stdout: '', stderr: 'error: PERMISSION_DENIED: not allowed to access /agntcy.dir.store.v1.StoreService/Push\n' });
    const json = await dirctl(['sync', 'list', '--json', '--server-trust-domain', 'dir.example'], { env });
    expect(json.code).toBe(107);
    expect(JSON.parse(json.stderr)).toEqual({ exit_code: 107, status: 'PERMISSION_DENIED', code: 7, message: 'not allowed to access /agntcy.dir.store.v1.SyncService/ListSyncs' });
  });
});

describe('dirctl with --auth jwt', () => {
  const jwt = ['--auth', 'jwt', '--jwt-audience', AUDIENCE];

  it('pushes and pulls with a JWT-SVID bearer token, presenting no certificate', async () => {
    const cid = (await ok(['push', '-', ...jwt], { stdin: '{"name":"by-jwt"}' })).trim();
    expect(JSON.parse(await ok(['pull', cid, ...jwt]))).toEqual({ name: 'by-jwt' });
    expect(await ok(['credentials', ...jwt])).toContain(`username: ${registryUsername(DIRCTL_ID)}\n`);
    // Without a certificate, only the token can have authenticated the calls.
    const refused = await dirctl(['credentials', '--auth', 'jwt', '--jwt-audience', 'another-service']);
    expect(refused.code).toBe(100 + Status.UNAUTHENTICATED);
    expect(refused.stderr).toMatch(/^error: UNAUTHENTICATED: invalid or expired token/);
  });

  it("fetches the JWT-SVID of the hinted SVID's SPIFFE ID", async () => {
    expect(await ok(['credentials', ...jwt, '--svid-hint', 'admin'])).toContain(`username: ${registryUsername(ADMIN_ID)}\n`);
    expect(own.jwtSvid.requests.at(-1)).toMatchObject({ audience: [AUDIENCE], spiffeId: ADMIN_ID });
  });

  it('exits 3 when the Workload API issues no JWT-SVID', async () => {
    const noJwt = await workloadApi([await svid(roots.dir, DIRCTL_ID)]);
    noJwt.jwtSvid.answer = () => ({ code: Status.PERMISSION_DENIED, details: 'no identity issued' });
    const run = await dirctl(['credentials', ...jwt], { env: { SPIFFE_ENDPOINT_SOCKET: noJwt.endpoint } });
    expect(run.code).toBe(3);
    expect(run.stderr).toContain(`error: no JWT-SVID for audience "${AUDIENCE}": Workload API FetchJWTSVID failed with PERMISSION_DENIED`);
  });
});
