/**
 * Directory apiserver throughput and latency: Push and Pull through SPIFFE mTLS + authz, against the
 * same server with authn/authz off (plain gRPC, allow-all), in the same run; and authz decisions per second.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ChannelCredentials, type ClientDuplexStream, credentials, ServerCredentials, type ServiceError } from '@grpc/grpc-js';
import { type StoreServiceClient, storeServiceClient } from '@dirtk/directory-api/grpc';
import { AuthzEngine, defaultPolicy } from '../apps/apiserver/src/authz';
import { createJsonLogger } from '../apps/apiserver/src/observability/logger';
import { DirectoryMetrics } from '../apps/apiserver/src/observability/metrics';
import { spiffeCallAuthorizer } from '../apps/apiserver/src/security/call-authorizer';
import { createDirectoryServer, createInsecureDirectoryServer, type DirectoryServerOptions } from '../apps/apiserver/src/server';
import { RegistryCredentialIssuer } from '../apps/apiserver/src/services/registry-credentials';
import { authorizeMemberOf, spiffeChannelCredentials, SpiffeServer } from '@dirtk/spiffe/spiffetls';
import { BundleSet, X509Bundle } from '@dirtk/spiffe/bundle';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { parseX509Svid } from '@dirtk/spiffe/x509svid';
import type { JsonObject } from '@dirtk/directory-api/cid';
import { openStore } from '../apps/apiserver/src/store/store';
import { TestCa } from '../packages/spiffe/test/support/test-ca';

const PUSHES = 400;
const PULLS = 1_000;
const DECISION_LOOPS = 200_000;

type Operation = (client: StoreServiceClient) => Promise<void>;

export async function apiserverBench(): Promise<Record<string, unknown>> {
  const td = TrustDomain.parse('dir.example');
  const root = await TestCa.root(td.name);
  const svid = async (id: string) => {
    const leaf = await root.leaf({ uris: [id] });
    return parseX509Svid(leaf.der, leaf.privateKeyDer);
  };
  const bundles = new BundleSet({ x509: [X509Bundle.fromDer(td, root.der)] });
  const serverSource = { svid: await svid('spiffe://dir.example/ns/dir/sa/dir-apiserver'), getX509Svid() { return this.svid; }, getX509Bundle: (t: TrustDomain) => bundles.getX509Bundle(t) };
  const clientSource = { svid: await svid('spiffe://dir.example/ns/dir/sa/dirctl'), getX509Svid() { return this.svid; }, getX509Bundle: (t: TrustDomain) => bundles.getX509Bundle(t) };

  const secure = await measure(async (options) => {
    let tls: SpiffeServer | undefined;
    const metrics = options.metrics;
    const { server } = createDirectoryServer({
      ...options,
      authorize: spiffeCallAuthorizer({ peerOf: (call) => tls?.peerOf(call), policy: new AuthzEngine(defaultPolicy(), td), logger: options.logger, metrics }),
    });
    tls = new SpiffeServer(server, { source: serverSource });
    const port = await tls.listen(0);
    const running = tls;
    return { port, credentials: spiffeChannelCredentials({ source: clientSource, authorizer: authorizeMemberOf(td) }), close: () => running.close() };
  });
  const baseline = await measure(async (options) => {
    const { server } = createInsecureDirectoryServer(options);
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    return { port, credentials: credentials.createInsecure(), close: () => new Promise<void>((resolve) => server.tryShutdown(() => resolve())) };
  });

  const engine = new AuthzEngine(defaultPolicy(), td);
  const own = SpiffeId.parse('spiffe://dir.example/ns/dir/sa/dirctl');
  const federated = SpiffeId.parse('spiffe://dirctl.example/ns/dir/sa/dirctl');
  const started = process.hrtime.bigint();
  for (let i = 0; i < DECISION_LOOPS; i++) {
    engine.decide(own, '/agntcy.dir.store.v1.StoreService/Push');
    engine.decide(federated, '/agntcy.dir.store.v1.StoreService/Push');
  }
  const decisionsPerSecond = Math.round((2 * DECISION_LOOPS) / (Number(process.hrtime.bigint() - started) / 1e9));

  return {
    description: `one Push or Pull stream per call (as dirctl does), ${PUSHES} pushes then ${PULLS} pulls of ~1 KiB records, sequential, on 127.0.0.1`,
    spiffeMtlsAndAuthz: secure,
    baselineAuthnAuthzOff: baseline,
    authzDecisionsPerSecond: decisionsPerSecond,
  };
}

interface Target {
  readonly port: number;
  readonly credentials: ChannelCredentials;
  close(): Promise<void>;
}

async function measure(start: (options: Omit<DirectoryServerOptions, 'authorize'>) => Promise<Target>): Promise<Record<string, unknown>> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-api-'));
  const target = await start({
    store: await openStore(dir),
    logger: createJsonLogger({ level: 'error', write: () => {} }),
    metrics: new DirectoryMetrics(),
    registry: { address: '127.0.0.1:5000', insecure: true, credentials: new RegistryCredentialIssuer({ secret: Buffer.alloc(32, 1), repository: 'dir' }) },
  });
  const client = storeServiceClient(`127.0.0.1:${target.port}`, target.credentials);
  try {
    const cids: string[] = [];
    const push = await timeSequentialCalls(client, PUSHES, async (c) => {
      cids.push((await exchange(c.push(), { data: sampleRecord(cids.length) })).cid);
    });
    let next = 0;
    const pull = await timeSequentialCalls(client, PULLS, async (c) => {
      await exchange(c.pull(), { cid: cids[next++ % cids.length]! });
    });
    return { push, pull };
  } finally {
    client.close();
    await target.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** `count` sequential calls of `operation` after one warm-up call: calls per second, p50 and p99 latency. */
export async function timeSequentialCalls(client: StoreServiceClient, count: number, operation: Operation) {
  await operation(client);
  const latenciesMs: number[] = [];
  const started = process.hrtime.bigint();
  for (let i = 0; i < count; i++) {
    const begin = process.hrtime.bigint();
    await operation(client);
    latenciesMs.push(Number(process.hrtime.bigint() - begin) / 1e6);
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  latenciesMs.sort((a, b) => a - b);
  const percentile = (p: number) => Math.round(latenciesMs[Math.min(count - 1, Math.floor((p / 100) * count))]! * 100) / 100;
  return { callsPerSecond: Math.round(count / seconds), p50Ms: percentile(50), p99Ms: percentile(99) };
}

/** Sends one message on a bidi stream and resolves with the one response. */
export function exchange<Req, Res>(stream: ClientDuplexStream<Req, Res>, request: Req): Promise<Res> {
  return new Promise<Res>((resolve, reject) => {
    stream.once('data', (response: Res) => resolve(response));
    stream.once('error', (error: ServiceError) => reject(error));
    stream.write(request);
    stream.end();
  });
}

export function sampleRecord(index: number): JsonObject {
  return { name: `agent-${index}`, version: '1.0.0', description: 'x'.repeat(900), skills: [{ id: index, name: 'summarize' }] };
}
