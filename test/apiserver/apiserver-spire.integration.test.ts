/**
 * The apiserver and dirctl with real SPIRE in one trust domain, dir.example: a SPIRE server and
 * agent as local processes, the apiserver in this process, dirctl as a child process. Both
 * workloads run as this uid, so each has its own entry, told apart by hint ("apiserver", "dirctl").
 */
import { registryUsername } from '@dirtk/directory-api/contract';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync } from 'node:fs';
import { get } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { type RunningApiServer, startApiServer } from '../../apps/apiserver/src/apiserver';
import { loadConfig } from '../../apps/apiserver/src/config';
import { createJsonLogger } from '../../apps/apiserver/src/observability/logger';
import { X509Bundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { X509Source } from '@dirtk/spiffe/workloadapi';
import { objectCid } from '@dirtk/directory-api/cid';
import { SpireAgentProcess } from '../../spire/process/agent-process';
import { SpireServerProcess } from '../../spire/process/server-process';
import { PROJECT_ROOT } from '../../tools/paths';
import { whySpireIsUnavailable } from '../support/spire-available';
import { resolveTopology } from '../../topology';
import { FakeWorkloadApi } from '../../packages/spiffe/test/support/fake-workload-api';
import { TestCa } from '../../packages/spiffe/test/support/test-ca';

const TD = 'dir.example';
const SERVER_ID = `spiffe://${TD}/apiserver`;
const DIRCTL_ID = `spiffe://${TD}/dirctl`;
const AUDIENCE = `${TD}/apiserver`;
const NOBODY = 65534;
const ABSENT_CID = objectCid({ name: 'absent' });
const TSX = path.join(PROJECT_ROOT, 'node_modules/.bin/tsx');
const DIRCTL = path.join(PROJECT_ROOT, 'apps/dirctl/src/main.ts');

const td = resolveTopology({ trustDomains: [{ name: TD, clusterName: 'dir' }] }).trustDomains[0]!;

let skipReason: string | undefined;
let dir: string;
let spireServer: SpireServerProcess;
let agent: SpireAgentProcess;
let apiserver: RunningApiServer;
let rogueWorkloadApi: FakeWorkloadApi | undefined;
const serverLog: Array<Record<string, unknown>> = [];
const children = new Set<ChildProcess>();

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

interface Run {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs dirctl as a child process, as `uid` when given, with the agent's socket and the apiserver's address. */
function dirctl(args: readonly string[], options: { env?: Record<string, string>; stdin?: string; uid?: number } = {}): Promise<Run> {
  const child = spawn(TSX, [DIRCTL, ...args], {
    cwd: PROJECT_ROOT,
    env: {
      PATH: process.env.PATH,
      HOME: tmpdir(),
      SPIFFE_ENDPOINT_SOCKET: agent.endpoint,
      DIRCTL_SERVER: `127.0.0.1:${apiserver.port}`,
      DIRCTL_SVID_HINT: 'dirctl',
      ...options.env,
    },
    ...(options.uid !== undefined && { uid: options.uid, gid: options.uid }),
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdin.end(options.stdin ?? '');
  return new Promise((resolve, reject) => {
    child.once('error', reject);
    child.once('close', (code) => {
      children.delete(child);
      resolve({ code, stdout, stderr });
    });
  });
}

async function ok(args: readonly string[], options?: Parameters<typeof dirctl>[1]): Promise<string> {
  const run = await dirctl(args, options);
  expect(run, run.stderr).toMatchObject({ code: 0, stderr: '' });
  return run.stdout;
}

function httpGet(urlPath: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    get({ host: '127.0.0.1', port: apiserver.httpPort, path: urlPath }, (response) => {
      let body = '';
      response.on('data', (chunk: Buffer) => (body += chunk.toString()));
      response.on('end', () => resolve({ status: response.statusCode ?? 0, body }));
    }).on('error', reject);
  });
}

function rpcCount(metrics: string, method: string): number {
  const line = metrics.split('\n').find((l) => l.startsWith(`dirtk_apiserver_rpcs_total{method="/agntcy.dir.store.v1.StoreService/${method}",code="OK",trust_domain="${TD}"}`));
  return line === undefined ? 0 : Number(line.split(' ').at(-1));
}

/** Resolves once the agent serves this process both SVIDs; the apiserver picks its own by hint. */
async function bothSvidsIssued(): Promise<void> {
  const source = await X509Source.create({ endpoint: agent.endpoint, readyTimeoutMs: 30_000 });
  const hints = () => source.getX509Svids().map((svid) => svid.hint).sort().join(',');
  try {
    if (hints() !== 'apiserver,dirctl') {
      await new Promise<void>((resolve) =>
        source.on('update', () => {
          if (hints() === 'apiserver,dirctl') resolve();
        }),
      );
    }
  } finally {
    source.close();
  }
}

describe('apiserver and dirctl with real SPIRE', () => {
  beforeAll(async () => {
    skipReason = await whySpireIsUnavailable();
    if (skipReason) {
      console.warn(`SKIPPING the apiserver tests with real SPIRE: ${skipReason}`);
      return;
    }

    dir = mkdtempSync(path.join(tmpdir(), 'dirtk-as-'));
    // Lets the unregistered workload (another uid) reach the agent's socket, so that SPIRE, not the file system, refuses it.
    chmodSync(dir, 0o755);
    spireServer = await SpireServerProcess.start({ td, dir: path.join(dir, 'server') });
    const selectors = [`unix:uid:${process.getuid!()}`];
    for (const [spiffeId, hint] of [
      [SERVER_ID, 'apiserver'],
      [DIRCTL_ID, 'dirctl'],
    ] as const) {
      await spireServer.createEntry({ parentId: `spiffe://${TD}/node`, spiffeId, selectors, hint });
    }
    agent = await SpireAgentProcess.start({
      td,
      dir: path.join(dir, 'agent'),
      serverPort: spireServer.placement.bindPort,
      trustBundlePem: await spireServer.bundleShow('pem'),
      joinToken: await spireServer.generateJoinToken(`spiffe://${TD}/node`),
    });
    chmodSync(path.join(dir, 'agent'), 0o755);
    await bothSvidsIssued();

    const config = loadConfig({
      DIRTK_APISERVER_LISTEN: '127.0.0.1:0',
      DIRTK_APISERVER_HTTP_LISTEN: '127.0.0.1:0',
      SPIFFE_ENDPOINT_SOCKET: agent.endpoint,
      DIRTK_APISERVER_SVID_HINT: 'apiserver',
      DIRTK_APISERVER_JWT_AUDIENCES: AUDIENCE,
      DIRTK_APISERVER_DATA_DIR: path.join(dir, 'data'),
    });
    apiserver = await startApiServer(config, createJsonLogger({ write: (line) => serverLog.push(JSON.parse(line) as Record<string, unknown>) }));
  }, 1_800_000);

  afterAll(async () => {
    for (const child of children) child.kill('SIGKILL');
    await apiserver?.close();
    await rogueWorkloadApi?.stop();
    await Promise.all([agent?.kill(), spireServer?.kill()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves with the SVID hinted "apiserver"', (context) => {
    skipIfUnavailable(context);
    expect(apiserver.spiffeId).toBe(SERVER_ID);
  });

  it('dirctl pushes and pulls a record over mutual TLS, as its own SPIFFE ID', async (context) => {
    skipIfUnavailable(context);
    const record = { name: 'over-mtls', schema_version: '0.7.0' };
    const cid = (await ok(['push', '-'], { stdin: JSON.stringify(record) })).trim();
    expect(cid).toMatch(/^b[a-z2-7]+$/);
    expect(JSON.parse(await ok(['pull', cid, '--json']))).toEqual(record);
    expect(JSON.parse(await ok(['credentials', '--json', '--server-id', SERVER_ID]))).toMatchObject({ username: registryUsername(DIRCTL_ID) });
  });

  it('dirctl pushes and pulls a record with a JWT-SVID', async (context) => {
    skipIfUnavailable(context);
    const jwt = ['--auth', 'jwt', '--jwt-audience', AUDIENCE];
    const cid = (await ok(['push', '-', ...jwt], { stdin: '{"name":"over-jwt"}' })).trim();
    expect(JSON.parse(await ok(['pull', cid, '--json', ...jwt]))).toEqual({ name: 'over-jwt' });
    const refused = await dirctl(['lookup', cid, '--auth', 'jwt', '--jwt-audience', 'another-service']);
    expect(refused.code).toBe(116);
    expect(refused.stderr).toMatch(/^error: UNAUTHENTICATED: invalid or expired token/);
  });

  it('answers /readyz with 200 and counts the calls in /metrics', async (context) => {
    skipIfUnavailable(context);
    expect(await httpGet('/readyz')).toEqual({ status: 200, body: 'ready\n' });
    const before = (await httpGet('/metrics')).body;
    const cid = (await ok(['push', '-'], { stdin: '{"name":"counted"}' })).trim();
    await ok(['lookup', cid]);
    const after = (await httpGet('/metrics')).body;
    expect(rpcCount(after, 'Push')).toBe(rpcCount(before, 'Push') + 1);
    expect(rpcCount(after, 'Lookup')).toBe(rpcCount(before, 'Lookup') + 1);
  });

  it('gives an unregistered workload (uid 65534) no SVID: dirctl exits 3 saying so', async (context) => {
    skipIfUnavailable(context);
    if (process.getuid!() !== 0) {
      const reason = `running dirctl as uid ${NOBODY} needs root; this suite runs as uid ${process.getuid!()}`;
      console.warn(`SKIPPING: ${reason}`);
      context.skip(reason);
    }
    const run = await dirctl(['pull', ABSENT_CID, '--timeout', '3'], { uid: NOBODY, env: { DIRCTL_SVID_HINT: '' } });
    expect(run.code, run.stderr).toBe(3);
    expect(run.stderr).toContain(`error: no identity: no X.509-SVID from the Workload API at ${agent.endpoint}`);
    expect(run.stderr).toContain('PERMISSION_DENIED: no identity issued');
    expect(run.stderr).toContain(`selector unix:uid:${NOBODY}`);
  });

  it('refuses a workload whose SVID is from an unfederated trust domain at TLS', async (context) => {
    skipIfUnavailable(context);
    const rogue = await TestCa.root('rogue.example');
    const leaf = await rogue.leaf({ uris: ['spiffe://rogue.example/dirctl'] });
    const dirBundle = X509Bundle.fromPem(TrustDomain.parse(TD), await spireServer.bundleShow('pem'));
    rogueWorkloadApi = await FakeWorkloadApi.start();
    rogueWorkloadApi.x509Svid.push({
      svids: [{ spiffeId: 'spiffe://rogue.example/dirctl', x509Svid: leaf.der, x509SvidKey: leaf.privateKeyDer, bundle: rogue.der, hint: '' }],
      crl: [],
      // It trusts dir.example, so that it is the apiserver that refuses, not dirctl.
      federatedBundles: { [`spiffe://${TD}`]: Buffer.concat(dirBundle.authorities.map((cert) => cert.raw)) },
    });
    const logged = serverLog.length;
    const run = await dirctl(['pull', ABSENT_CID, '--server-trust-domain', TD], { env: { SPIFFE_ENDPOINT_SOCKET: rogueWorkloadApi.endpoint, DIRCTL_SVID_HINT: '' } });
    expect(run.code, run.stderr).toBe(114);
    expect(run.stderr).toMatch(/^error: UNAVAILABLE: .*closed the connection after the TLS handshake/);
    const refusals = serverLog.slice(logged).filter((line) => line.msg === 'connection refused');
    expect(refusals.map((line) => String(line.reason))).toContainEqual(expect.stringContaining('no X.509 bundle for trust domain "rogue.example"'));
    expect(serverLog.slice(logged).filter((line) => line.msg === 'authz')).toEqual([]);
  });
});
