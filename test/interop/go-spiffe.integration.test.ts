/**
 * Interoperability with go-spiffe, the reference SPIFFE SDK, with SVIDs from real SPIRE: one server and
 * one agent as local processes on 127.0.0.1 (join token, unix workload attestor with path discovery).
 * The Go peer (`go-spiffe-peer/`, go-spiffe + grpc-go) and this Node process run as the same uid, so
 * each gets its own SPIFFE ID by the path of its executable (`unix:path`): an ID mix-up fails the tests.
 *
 * Both directions of mTLS, JWT-SVID bearer tokens both ways, and a hostile server chain (one key, one
 * subject, seven CAs that all sign each other) that our client must reject with few signature checks.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import crypto, { X509Certificate } from 'node:crypto';
import { mkdtempSync, realpathSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createInterface } from 'node:readline';
import * as grpc from '@grpc/grpc-js';
import { execa } from 'execa';
import { afterAll, beforeAll, beforeEach, describe, expect, it, type TestContext, vi } from 'vitest';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import {
  authenticateBearer,
  authorizeId,
  authorizeMemberOf,
  type Authorizer,
  jwtBearerCallCredentials,
  type PeerIdentity,
  SpiffeServer,
  spiffeChannelCredentials,
} from '@dirtk/spiffe/spiffetls';
import { JwtSource, X509Source } from '@dirtk/spiffe/workloadapi';
import { SpireAgentProcess } from '../../spire/process/agent-process';
import { SpireServerProcess } from '../../spire/process/server-process';
import { resolveTopology } from '../../topology';
import { whySpireIsUnavailable } from '../support/spire-available';
import { ensureGoSpiffePeer, GoPeerBuildError } from './go-spiffe-peer';

const {
  trustDomains: [tdModel],
} = resolveTopology({ trustDomains: [{ name: 'interop.test', clusterName: 'interop' }] });
const TD = TrustDomain.parse('interop.test');
/** This Node process (the vitest worker, by the path of `process.execPath`). */
const NODE_ID = 'spiffe://interop.test/node-workload';
/** The go-spiffe peer, by the path of its binary. */
const GO_ID = 'spiffe://interop.test/go-spiffe-peer';
/** Registered for nobody: authorizing it must refuse the real peer. */
const OTHER_ID = 'spiffe://interop.test/someone-else';
const AUDIENCE = 'dirtk-interop';
/** Bound on the signature checks for the hostile chain (the shared X.509-SVID verifier's budget). */
const SIGNATURE_CHECK_BOUND = 100;
const CALL_DEADLINE_MS = 10_000;

let skipReason: string | undefined;
let dir: string;
let goPeer: string;
let server: SpireServerProcess;
let agent: SpireAgentProcess;
let endpoint: string;
let x509: X509Source;
let jwt: JwtSource;
const goServers: GoServer[] = [];
/** What the running test has done so far, with ms since it started; printed when it fails (a timeout says nothing of where it stood). */
const steps: string[] = [];
let stepsSince = Date.now();
function step(what: string): void {
  steps.push(`+${Date.now() - stepsSince} ms ${what}`);
}

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

// ---------------------------------------------------------------------------------------------------
// grpc.health.v1.Health/Check, by hand: two tiny messages, so the test needs no proto files.

interface HealthCheckRequest {
  readonly service: string;
}
interface HealthCheckResponse {
  /** 1 = SERVING. */
  readonly status: number;
}

/** Field number → last value (varints as numbers, length-delimited fields as buffers). */
function decodeFields(buffer: Buffer): Map<number, number | Buffer> {
  const fields = new Map<number, number | Buffer>();
  let offset = 0;
  const varint = (): number => {
    let value = 0;
    let shift = 0;
    for (;;) {
      const byte = buffer[offset++];
      if (byte === undefined) throw new Error('truncated protobuf varint');
      value += (byte & 0x7f) * 2 ** shift;
      if ((byte & 0x80) === 0) return value;
      shift += 7;
    }
  };
  while (offset < buffer.length) {
    const key = varint();
    const field = Math.floor(key / 8);
    switch (key % 8) {
      case 0:
        fields.set(field, varint());
        break;
      case 2: {
        const length = varint();
        fields.set(field, buffer.subarray(offset, offset + length));
        offset += length;
        break;
      }
      default:
        throw new Error(`unexpected protobuf wire type ${key % 8}`);
    }
  }
  return fields;
}

const HEALTH_SERVICE: grpc.ServiceDefinition = {
  Check: {
    path: '/grpc.health.v1.Health/Check',
    requestStream: false,
    responseStream: false,
    requestSerialize: ({ service }: HealthCheckRequest) => {
      const name = Buffer.from(service);
      if (name.length > 127) throw new Error('service name too long for this encoder');
      return name.length === 0 ? Buffer.alloc(0) : Buffer.concat([Buffer.from([0x0a, name.length]), name]);
    },
    requestDeserialize: (bytes: Buffer): HealthCheckRequest => {
      const service = decodeFields(bytes).get(1);
      return { service: Buffer.isBuffer(service) ? service.toString('utf8') : '' };
    },
    responseSerialize: ({ status }: HealthCheckResponse) => Buffer.from([0x08, status]),
    responseDeserialize: (bytes: Buffer): HealthCheckResponse => {
      const status = decodeFields(bytes).get(1);
      return { status: typeof status === 'number' ? status : 0 };
    },
  },
};
const HealthClient = grpc.makeGenericClientConstructor(HEALTH_SERVICE, 'Health');
const SERVING = 1;

/** One Health/Check over `credentials`; resolves with the response or rejects with the gRPC error. */
async function healthCheck(address: string, credentials: grpc.ChannelCredentials): Promise<HealthCheckResponse> {
  const client = new HealthClient(address, credentials);
  try {
    return await new Promise<HealthCheckResponse>((resolve, reject) => {
      client.makeUnaryRequest<HealthCheckRequest, HealthCheckResponse>(
        HEALTH_SERVICE.Check!.path,
        HEALTH_SERVICE.Check!.requestSerialize,
        HEALTH_SERVICE.Check!.responseDeserialize,
        { service: '' },
        { deadline: Date.now() + CALL_DEADLINE_MS },
        (error, response) => (error ? reject(error) : resolve(response!)),
      );
    });
  } finally {
    client.close();
  }
}

/** The gRPC error of a call that must fail. */
async function failedCheck(address: string, credentials: grpc.ChannelCredentials): Promise<grpc.ServiceError> {
  try {
    const response = await healthCheck(address, credentials);
    throw new Error(`the call was expected to fail, but it succeeded: ${JSON.stringify(response)}`);
  } catch (error) {
    if ((error as Partial<grpc.ServiceError>).code === undefined) throw error;
    return error as grpc.ServiceError;
  }
}

// ---------------------------------------------------------------------------------------------------
// Our server: SpiffeServer + a Health/Check handler that records how each call was authenticated.

interface ObservedCall {
  readonly peer: PeerIdentity | undefined;
  /** The JWT-SVID subject, when the server authenticates bearers. */
  readonly subject?: string;
  readonly error?: string;
}

interface OurServer {
  readonly address: string;
  readonly calls: ObservedCall[];
  readonly rejections: string[];
  close(): Promise<void>;
}

async function startOurServer(options: { authorizer?: Authorizer; bearer?: boolean }): Promise<OurServer> {
  const grpcServer = new grpc.Server();
  const calls: ObservedCall[] = [];
  const rejections: string[] = [];
  const spiffe = new SpiffeServer(grpcServer, {
    source: x509,
    ...(options.authorizer && { authorizer: options.authorizer }),
    allowClientsWithoutCertificate: options.bearer === true,
    onRejected: (reason) => rejections.push(reason),
  });
  grpcServer.addService(HEALTH_SERVICE, {
    Check: (call: grpc.ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>, callback: grpc.sendUnaryData<HealthCheckResponse>) => {
      const peer = spiffe.peerOf(call);
      if (!options.bearer) {
        calls.push({ peer });
        callback(null, { status: SERVING });
        return;
      }
      authenticateBearer(call.metadata, jwt, [AUDIENCE]).then(
        (id) => {
          calls.push({ peer, subject: id.toString() });
          callback(null, { status: SERVING });
        },
        (error: Error) => {
          calls.push({ peer, error: error.message });
          callback({ code: grpc.status.UNAUTHENTICATED, details: error.message });
        },
      );
    },
  });
  const port = await spiffe.listen(0);
  step(`our server listens on ${port}`);
  return {
    address: `127.0.0.1:${port}`,
    calls,
    rejections,
    close: async () => {
      step('closing our server');
      await spiffe.close();
      step('our server closed');
    },
  };
}

// ---------------------------------------------------------------------------------------------------
// The Go peer.

/** go-spiffe's AuthorizeID error naming the ID it got (grpc-go may quote the message once more). */
function unexpectedId(id: string): RegExp {
  return new RegExp(`unexpected ID \\\\?"${id.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\\\?"`);
}

type GoLine = Record<string, unknown>;

/** A long-running `go-spiffe-peer serve-*`; every stdout line after `{"listening":...}` is an event. */
class GoServer {
  readonly events: GoLine[] = [];
  private readonly waiters = new Set<() => void>();
  private stderr = '';
  private exited = false;

  private constructor(private readonly child: ChildProcess) {}

  static async start(command: string, args: readonly string[]): Promise<{ server: GoServer; address: string; id: string; first: GoLine }> {
    const child = spawn(goPeer, [command, ...args], {
      env: { ...process.env, SPIFFE_ENDPOINT_SOCKET: endpoint },
      // stdin stays open: the peer exits when it closes, so it never outlives this worker.
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const server = new GoServer(child);
    goServers.push(server);
    child.stderr!.on('data', (chunk: Buffer) => (server.stderr += chunk.toString()));
    child.once('exit', () => {
      server.exited = true;
      server.notify();
    });
    createInterface({ input: child.stdout! }).on('line', (line) => {
      try {
        server.events.push(JSON.parse(line) as GoLine);
      } catch {
        server.events.push({ unparsed: line });
      }
      server.notify();
    });
    const first = await server.waitFor((line) => 'listening' in line || 'error' in line, 30_000);
    if (typeof first['listening'] !== 'string') {
      throw new Error(`go-spiffe-peer ${command} did not start: ${JSON.stringify(first)}\n${server.stderr}`);
    }
    server.events.splice(server.events.indexOf(first), 1);
    return { server, address: first['listening'], id: String(first['id']), first };
  }

  /** Resolves with the first event (already seen or to come) that satisfies `predicate`. */
  waitFor(predicate: (line: GoLine) => boolean, timeoutMs = 10_000): Promise<GoLine> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const found = this.events.find(predicate);
        if (found) {
          resolve(found);
          return true;
        }
        if (this.exited) {
          reject(new Error(`go-spiffe-peer exited; events ${JSON.stringify(this.events)}; stderr:\n${this.stderr}`));
          return true;
        }
        return false;
      };
      if (check()) return;
      const timer = setTimeout(() => {
        this.waiters.delete(waiter);
        reject(new Error(`no matching go-spiffe-peer event within ${timeoutMs} ms; events ${JSON.stringify(this.events)}; stderr:\n${this.stderr}`));
      }, timeoutMs);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        this.waiters.delete(waiter);
      };
      this.waiters.add(waiter);
    });
  }

  async kill(): Promise<void> {
    if (this.exited) return;
    const exit = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.kill('SIGKILL');
    await exit;
  }

  private notify(): void {
    for (const waiter of [...this.waiters]) waiter();
  }
}

/** Runs a one-shot `go-spiffe-peer call-*` and returns its JSON result line and exit code. */
async function runGoClient(command: string, args: readonly string[]): Promise<{ exitCode: number | undefined; result: GoLine; stderr: string }> {
  step(`go-spiffe-peer ${command} started`);
  const run = await execa(goPeer, [command, ...args], {
    env: { SPIFFE_ENDPOINT_SOCKET: endpoint },
    reject: false,
    // Past the peer's own 15 s deadline, yet inside the test's timeout, so a stuck run still reports its steps.
    timeout: 40_000,
  });
  step(`go-spiffe-peer ${command} exited ${run.exitCode ?? run.signal}; stderr:\n${run.stderr}`);
  if (run.timedOut) throw new Error(`go-spiffe-peer ${command} did not finish in 40 s; stderr:\n${run.stderr}`);
  const last = run.stdout.trim().split('\n').pop() ?? '';
  let result: GoLine;
  try {
    result = JSON.parse(last) as GoLine;
  } catch {
    throw new Error(`go-spiffe-peer ${command} printed no JSON (exit ${run.exitCode}):\n${run.stdout}\n${run.stderr}`);
  }
  return { exitCode: run.exitCode, result, stderr: run.stderr };
}

// Every test runs processes against real SPIRE on a machine the rest of the suite loads too: a minute
// each, though they take well under a second alone; a stuck one prints the steps it got through.
describe('go-spiffe interoperability against real SPIRE', { timeout: 60_000 }, () => {
  // The timeout allows for a first run, which builds SPIRE and the Go peer.
  beforeAll(async () => {
    skipReason = await whySpireIsUnavailable();
    if (!skipReason) {
      try {
        goPeer = await ensureGoSpiffePeer();
      } catch (error) {
        if (!(error instanceof GoPeerBuildError) || error.problem === 'compile') throw error;
        skipReason = `the go-spiffe peer cannot be built here: ${error.message}`;
      }
    }
    if (skipReason) {
      console.warn(`SKIPPING the go-spiffe interoperability tests: ${skipReason}`);
      return;
    }

    dir = mkdtempSync(path.join(tmpdir(), 'dirtk-gs-'));
    server = await SpireServerProcess.start({ td: tdModel!, dir: path.join(dir, 'server') });
    const uid = process.getuid!();
    // /proc/<pid>/exe, which the attestor reads, names the real path.
    await server.createEntry({
      parentId: 'spiffe://interop.test/node',
      spiffeId: GO_ID,
      selectors: [`unix:uid:${uid}`, `unix:path:${realpathSync(goPeer)}`],
    });
    await server.createEntry({
      parentId: 'spiffe://interop.test/node',
      spiffeId: NODE_ID,
      selectors: [`unix:uid:${uid}`, `unix:path:${realpathSync(process.execPath)}`],
    });
    agent = await SpireAgentProcess.start({
      td: tdModel!,
      dir: path.join(dir, 'agent'),
      serverPort: server.placement.bindPort,
      trustBundlePem: await server.bundleShow('pem'),
      joinToken: await server.generateJoinToken('spiffe://interop.test/node'),
    });
    endpoint = `unix://${agent.socketPath}`;
    // The agent learns the entries at its first sync with the server, a few seconds after it starts.
    [x509, jwt] = await Promise.all([
      X509Source.create({ endpoint, readyTimeoutMs: 30_000 }),
      JwtSource.create({ endpoint, readyTimeoutMs: 30_000 }),
    ]);
  }, 1_800_000);

  beforeEach((context) => {
    steps.length = 0;
    stepsSince = Date.now();
    context.onTestFailed(() => console.error(`steps of "${context.task.name}":\n${steps.join('\n')}`));
  });

  afterAll(async () => {
    await Promise.all(goServers.map((peer) => peer.kill()));
    x509?.close();
    jwt?.close();
    await Promise.all([agent?.kill(), server?.kill()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('gives this process and the Go peer different IDs, by executable path', async (context) => {
    skipIfUnavailable(context);
    expect(x509.getX509Svid().id.toString()).toBe(NODE_ID);
    const { server: peer, id } = await GoServer.start('serve-mtls', ['--authorize-id', NODE_ID]);
    expect(id).toBe(GO_ID);
    await peer.kill();
  });

  describe('go-spiffe client → our SpiffeServer (mTLS)', () => {
    it('authenticates both ways: the Go client accepts our exact ID, our server sees the Go peer’s exact ID', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ authorizer: authorizeMemberOf(TD) });
      try {
        const { exitCode, result } = await runGoClient('call-mtls', ['--addr', ours.address, '--authorize-id', NODE_ID]);
        expect(result).toMatchObject({ ok: true, id: GO_ID, status: 'SERVING' });
        expect(exitCode).toBe(0);
        expect(ours.calls).toHaveLength(1);
        expect(ours.calls[0]!.peer).toMatchObject({ kind: 'x509' });
        expect(String((ours.calls[0]!.peer as { id: SpiffeId }).id)).toBe(GO_ID);
        expect(ours.rejections).toEqual([]);
      } finally {
        await ours.close();
      }
    });

    it('the Go client refuses our server when it expects another ID', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ authorizer: authorizeMemberOf(TD) });
      try {
        const { exitCode, result } = await runGoClient('call-mtls', ['--addr', ours.address, '--authorize-id', OTHER_ID]);
        expect(result['ok']).toBe(false);
        expect(exitCode).not.toBe(0);
        // go-spiffe's AuthorizeID names the ID it got: ours.
        expect(String(result['error'])).toMatch(unexpectedId(NODE_ID));
        expect(ours.calls).toEqual([]);
      } finally {
        await ours.close();
      }
    });

    it('our server refuses the Go client when it authorizes another ID', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ authorizer: authorizeId(SpiffeId.parse(OTHER_ID)) });
      try {
        const { exitCode, result } = await runGoClient('call-mtls', ['--addr', ours.address, '--authorize-id', NODE_ID, '--timeout', '5s']);
        expect(result['ok']).toBe(false);
        expect(exitCode).not.toBe(0);
        expect(ours.calls).toEqual([]);
        expect(ours.rejections.some((reason) => reason.includes(`${GO_ID} is not authorized`))).toBe(true);
      } finally {
        await ours.close();
      }
    });
  });

  describe('our client → go-spiffe server (mTLS)', () => {
    it('authenticates both ways: we accept the Go server’s exact ID, the Go server sees ours', async (context) => {
      skipIfUnavailable(context);
      const { server: peer, address, id } = await GoServer.start('serve-mtls', ['--authorize-id', NODE_ID]);
      try {
        expect(id).toBe(GO_ID);
        const response = await healthCheck(address, spiffeChannelCredentials({ source: x509, authorizer: authorizeId(SpiffeId.parse(GO_ID)) }));
        expect(response.status).toBe(SERVING);
        const call = await peer.waitFor((line) => line['event'] === 'call');
        expect(call).toMatchObject({ method: '/grpc.health.v1.Health/Check', peer: NODE_ID });
      } finally {
        await peer.kill();
      }
    });

    it('our client refuses the Go server when it expects another ID', async (context) => {
      skipIfUnavailable(context);
      const { server: peer, address } = await GoServer.start('serve-mtls', ['--authorize-id', NODE_ID]);
      try {
        const error = await failedCheck(address, spiffeChannelCredentials({ source: x509, authorizer: authorizeId(SpiffeId.parse(OTHER_ID)) }));
        expect(error.code).toBe(grpc.status.UNAVAILABLE);
        expect(error.details).toContain(`${GO_ID} is not authorized`);
        expect(peer.events.filter((line) => line['event'] === 'call')).toEqual([]);
      } finally {
        await peer.kill();
      }
    });

    it('the Go server refuses our client when it authorizes another ID', async (context) => {
      skipIfUnavailable(context);
      const { server: peer, address } = await GoServer.start('serve-mtls', ['--authorize-id', OTHER_ID]);
      try {
        const error = await failedCheck(address, spiffeChannelCredentials({ source: x509, authorizer: authorizeId(SpiffeId.parse(GO_ID)) }));
        expect(error.code).toBe(grpc.status.UNAVAILABLE);
        const refused = await peer.waitFor((line) => line['event'] === 'handshake-error');
        expect(String(refused['error'])).toMatch(unexpectedId(NODE_ID));
        expect(peer.events.filter((line) => line['event'] === 'call')).toEqual([]);
      } finally {
        await peer.kill();
      }
    });
  });

  describe('JWT-SVID bearer tokens', () => {
    it('go-spiffe client → our server: the bearer’s subject is the Go peer’s exact ID', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ bearer: true });
      try {
        const { exitCode, result } = await runGoClient('call-jwt', ['--addr', ours.address, '--audience', AUDIENCE, '--server-id', NODE_ID]);
        expect(result).toMatchObject({ ok: true, id: GO_ID, status: 'SERVING' });
        expect(exitCode).toBe(0);
        // TLS authenticated only the server; the call was authenticated by the JWT-SVID alone.
        expect(ours.calls).toEqual([{ peer: { kind: 'none' }, subject: GO_ID }]);
      } finally {
        await ours.close();
      }
    });

    it('go-spiffe client → our server: a JWT-SVID for another audience is refused', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ bearer: true });
      try {
        const { exitCode, result } = await runGoClient('call-jwt', ['--addr', ours.address, '--audience', 'another-audience', '--server-id', NODE_ID]);
        expect(result).toMatchObject({ ok: false, id: GO_ID, code: 'Unauthenticated' });
        expect(exitCode).not.toBe(0);
        expect(ours.calls).toHaveLength(1);
        expect(ours.calls[0]!.subject).toBeUndefined();
        expect(ours.calls[0]!.error).toMatch(/audience/i);
      } finally {
        await ours.close();
      }
    });

    it('go-spiffe client → our server: the Go client refuses our server when it expects another ID', async (context) => {
      skipIfUnavailable(context);
      const ours = await startOurServer({ bearer: true });
      try {
        const { result } = await runGoClient('call-jwt', ['--addr', ours.address, '--audience', AUDIENCE, '--server-id', OTHER_ID]);
        expect(result['ok']).toBe(false);
        expect(String(result['error'])).toMatch(unexpectedId(NODE_ID));
        expect(ours.calls).toEqual([]);
      } finally {
        await ours.close();
      }
    });

    it('our client → go-spiffe server: the Go side validates our JWT-SVID and reports our exact ID', async (context) => {
      skipIfUnavailable(context);
      const { server: peer, address } = await GoServer.start('serve-jwt', ['--audience', AUDIENCE]);
      try {
        const credentials = grpc.credentials.combineChannelCredentials(
          spiffeChannelCredentials({ source: x509, authorizer: authorizeId(SpiffeId.parse(GO_ID)), presentCertificate: false }),
          jwtBearerCallCredentials(async () => (await jwt.fetchJwtSvid(AUDIENCE)).token),
        );
        const response = await healthCheck(address, credentials);
        expect(response.status).toBe(SERVING);
        const call = await peer.waitFor((line) => line['event'] === 'call');
        expect(call).toMatchObject({ method: '/grpc.health.v1.Health/Check', subject: NODE_ID });
      } finally {
        await peer.kill();
      }
    });

    it('our client → go-spiffe server: a JWT-SVID for another audience is refused by the Go side', async (context) => {
      skipIfUnavailable(context);
      const { server: peer, address } = await GoServer.start('serve-jwt', ['--audience', AUDIENCE]);
      try {
        const credentials = grpc.credentials.combineChannelCredentials(
          spiffeChannelCredentials({ source: x509, authorizer: authorizeId(SpiffeId.parse(GO_ID)), presentCertificate: false }),
          jwtBearerCallCredentials(async () => (await jwt.fetchJwtSvid('another-audience')).token),
        );
        const error = await failedCheck(address, credentials);
        expect(error.code).toBe(grpc.status.UNAUTHENTICATED);
        const rejected = await peer.waitFor((line) => line['event'] === 'jwt-rejected');
        expect(String(rejected['error'])).toMatch(/audience/i);
        expect(peer.events.filter((line) => line['event'] === 'call')).toEqual([]);
      } finally {
        await peer.kill();
      }
    });
  });

  it('our client rejects a hostile go-spiffe-made chain (one key, one subject, 7 CAs) with few signature checks', async (context) => {
    skipIfUnavailable(context);
    const { server: good, address: goodAddress } = await GoServer.start('serve-mtls', ['--authorize-id', NODE_ID]);
    const { server: hostile, address: hostileAddress, first } = await GoServer.start('serve-hostile', ['--trust-domain', TD.name]);
    // Our verifier checks certificate signatures with crypto.verify over its own parse (RSASSA-PSS
    // through X509Certificate.prototype.verify): count both.
    const spies = [vi.spyOn(crypto, 'verify'), vi.spyOn(X509Certificate.prototype, 'verify')];
    const signatureChecks = (): number => spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
    try {
      expect(first).toMatchObject({ id: `spiffe://${TD.name}/hostile`, chainLength: 8 });

      // The spies see our verifier: a genuine connection checks at least one signature.
      const response = await healthCheck(goodAddress, spiffeChannelCredentials({ source: x509, authorizer: authorizeMemberOf(TD) }));
      expect(response.status).toBe(SERVING);
      const genuineChecks = signatureChecks();
      expect(genuineChecks).toBeGreaterThanOrEqual(1);

      for (const spy of spies) spy.mockClear();
      const started = Date.now();
      const error = await failedCheck(hostileAddress, spiffeChannelCredentials({ source: x509, authorizer: authorizeMemberOf(TD) }));
      const elapsedMs = Date.now() - started;
      const hostileChecks = signatureChecks();
      console.info(
        `hostile chain: ${hostileChecks} signature checks, refused in ${elapsedMs} ms (a genuine connection: ${genuineChecks}); ${error.details}`,
      );
      expect(error.code).toBe(grpc.status.UNAVAILABLE);
      expect(error.details).toContain('server rejected');
      expect(hostileChecks).toBeGreaterThanOrEqual(1);
      expect(hostileChecks).toBeLessThanOrEqual(SIGNATURE_CHECK_BOUND);
    } finally {
      for (const spy of spies) spy.mockRestore();
      await Promise.all([good.kill(), hostile.kill()]);
    }
  }, 120_000);
});
