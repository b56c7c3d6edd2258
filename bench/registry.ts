/**
 * The record store backends and directory-to-directory sync, on the real Distribution registry:
 *
 * - Push and Pull through the apiserver's gRPC services (authn/authz off, to isolate the backend),
 *   1 and 32 concurrent streams, filesystem store vs OCI registry store, in the same run.
 * - Sync: the sync worker pulling 1,000 records of ~1 KiB from a peer registry (through its token
 *   flow, verifying every record) into this side's registry store, in records per second; against
 *   `oras copy` of the same artifacts between the same two registries (8 copies at a time) as the floor.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { credentials, ServerCredentials } from '@grpc/grpc-js';
import { storeServiceClient } from '@dirtk/directory-api/grpc';
import { REGISTRY_TOKEN_PATH, syncPeerEntry } from '@dirtk/directory-api/contract';
import { createJsonLogger } from '../apps/apiserver/src/observability/logger';
import { DirectoryMetrics } from '../apps/apiserver/src/observability/metrics';
import { createInsecureDirectoryServer } from '../apps/apiserver/src/server';
import { RegistryCredentialIssuer } from '../apps/apiserver/src/services/registry-credentials';
import { type RegistryTokenKey, registryTokenKey, RegistryTokenService, signRegistryToken } from '../apps/apiserver/src/services/registry-token-service';
import { OciRecordStore } from '../apps/apiserver/src/store/oci/oci-records';
import { signedTokens } from '../apps/apiserver/src/store/oci/token-sources';
import type { Records } from '../apps/apiserver/src/store/records-api';
import { openStore } from '../apps/apiserver/src/store/store';
import { SyncPeers } from '../apps/apiserver/src/sync/sync-peers';
import { SyncWorker } from '../apps/apiserver/src/sync/worker';
import { ensureRegistry } from '../registry/build/install';
import { RegistryProcess } from '../registry/process';
import { freePorts } from '../spire/process/ports';
import { exchange, sampleRecord } from './apiserver';

const REPOSITORY = 'dir';
const SPIFFE_ID = 'spiffe://bench.example/ns/dir/sa/dir-apiserver';
const PUSHES = 400;
const PULLS = 1_000;
const STREAMS = [1, 32] as const;
const SYNC_RECORDS = 1_000;
const ORAS_PARALLEL = 8;

interface Registry {
  readonly process: RegistryProcess;
  readonly host: string;
  readonly key: RegistryTokenKey;
  readonly service: string;
  readonly records: OciRecordStore;
}

export async function registryBench(): Promise<Record<string, unknown>> {
  let orasBin: string;
  try {
    ({ orasBin } = await ensureRegistry());
  } catch (error) {
    return { skipped: `the Distribution registry could not be built: ${(error as Error).message.split('\n')[0]}` };
  }
  const root = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-registry-'));
  const started: Registry[] = [];
  const registry = async (name: string, realm = 'http://127.0.0.1:9/registry/token', key = newKey(name)): Promise<Registry> => {
    const [port] = await freePorts(1);
    const host = `127.0.0.1:${port}`;
    const service = `${name}-registry`;
    const process = await RegistryProcess.start({ dir: path.join(root, name), listen: host, tokenRealm: realm, service, trustedKeys: [key.publicJwk], logLevel: 'error' });
    const records = new OciRecordStore({ registryUrl: process.url, repository: REPOSITORY, tokens: signedTokens({ key, service, repository: REPOSITORY, spiffeId: SPIFFE_ID }) });
    const running = { process, host, key, service, records };
    started.push(running);
    return running;
  };
  try {
    const backends = {
      filesystem: await storeThroughput((await openStore(path.join(root, 'fs'))).records),
      registry: await storeThroughput((await registry('store')).records),
    };
    return {
      description:
        `Push (${PUSHES}) then Pull (${PULLS}) of ~1 KiB records through the apiserver's gRPC services (authn/authz off), one stream per call, ` +
        `1 and 32 streams at once; sync: ${SYNC_RECORDS} records of ~1 KiB from a peer registry (token flow, every record verified, its referrers index read) into a registry store, ` +
        `against \`oras copy\` of the same artifacts between the same registries, ${ORAS_PARALLEL} at a time`,
      store: {
        ...backends,
        registryOverFilesystem: Object.fromEntries(
          STREAMS.map((streams) => [
            `${streams}Streams`,
            {
              push: ratio(backends.registry[`${streams}Streams`].pushPerSecond, backends.filesystem[`${streams}Streams`].pushPerSecond),
              pull: ratio(backends.registry[`${streams}Streams`].pullPerSecond, backends.filesystem[`${streams}Streams`].pullPerSecond),
            },
          ]),
        ),
      },
      sync: await syncThroughput(registry, root, orasBin),
    };
  } finally {
    for (const { process } of started) await process.stop();
    rmSync(root, { recursive: true, force: true });
  }
}

type Throughput = Record<`${(typeof STREAMS)[number]}Streams`, { pushPerSecond: number; pullPerSecond: number }>;

async function storeThroughput(records: Records): Promise<Throughput> {
  const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-bench-syncs-'));
  const { server, syncWorker } = createInsecureDirectoryServer({
    store: await openStore(dir, { records }),
    logger: createJsonLogger({ level: 'error', write: () => {} }),
    metrics: new DirectoryMetrics(),
    registry: { address: '127.0.0.1:5000', insecure: true, credentials: new RegistryCredentialIssuer({ secret: Buffer.alloc(32, 1), repository: REPOSITORY }) },
  });
  const port = await new Promise<number>((resolve, reject) => server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))));
  const client = storeServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
  let offset = 0;
  try {
    const result: Partial<Throughput> = {};
    for (const streams of STREAMS) {
      const cids: string[] = [];
      const base = offset;
      offset += PUSHES + 1;
      await exchange(client.push(), { data: sampleRecord(base) });
      const pushPerSecond = await concurrently(PUSHES, streams, async (i) => {
        cids.push((await exchange(client.push(), { data: sampleRecord(base + 1 + i) })).cid);
      });
      const pullPerSecond = await concurrently(PULLS, streams, async (i) => {
        await exchange(client.pull(), { cid: cids[i % cids.length]! });
      });
      result[`${streams}Streams`] = { pushPerSecond, pullPerSecond };
    }
    return result as Throughput;
  } finally {
    client.close();
    server.forceShutdown();
    await syncWorker.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function syncThroughput(registry: (name: string, realm?: string, key?: RegistryTokenKey) => Promise<Registry>, root: string, orasBin: string): Promise<Record<string, unknown>> {
  const secret = randomBytes(32);
  const peerKey = newKey('peer');
  const tokenService = new RegistryTokenService({ credentialsSecret: secret, signingKey: peerKey, service: 'peer-registry' });
  const http = createServer((request, response) => tokenService.handle(request, response));
  const tokenPort = await new Promise<number>((resolve) => http.listen(0, '127.0.0.1', () => resolve((http.address() as { port: number }).port)));
  try {
    const peer = await registry('peer', `http://127.0.0.1:${tokenPort}${REGISTRY_TOKEN_PATH}`, peerKey);
    const cids: string[] = [];
    await concurrently(SYNC_RECORDS, 8, async (i) => {
      cids.push(await peer.records.put(sampleRecord(1_000_000 + i)));
    });

    const target = await registry('sync-target');
    const syncs = await openStore(path.join(root, 'syncs'), { records: target.records });
    const issuer = new RegistryCredentialIssuer({ secret, repository: REPOSITORY });
    const worker = new SyncWorker({
      syncs: syncs.syncs,
      records: target.records,
      sources: {
        peers: SyncPeers.parse([syncPeerEntry('127.0.0.1:1', SPIFFE_ID)]).peers,
        requestCredentials: async () => {
          const issued = issuer.issue(SPIFFE_ID);
          return { registryUrl: peer.process.url, repository: REPOSITORY, username: issued.username, password: issued.password };
        },
      },
      logger: createJsonLogger({ level: 'error', write: () => {} }),
    });
    const sync = await syncs.syncs.create({ remoteDirectoryUrl: '127.0.0.1:1', remoteRegistryUrl: '', repositoryName: '', cids: [] });
    const syncStarted = process.hrtime.bigint();
    worker.schedule(sync.id);
    await worker.idle();
    const syncSeconds = seconds(syncStarted);
    const done = await syncs.syncs.get(sync.id);
    if (done.status !== 'SYNC_STATUS_COMPLETED') throw new Error(`the benchmark sync ended ${done.status}: ${done.failureReason}`);

    const copyTarget = await registry('oras-target');
    const config = path.join(root, 'oras-config.json');
    writeFileSync(config, JSON.stringify({ auths: { [peer.host]: { registrytoken: await longToken(peer, 'pull') }, [copyTarget.host]: { registrytoken: await longToken(copyTarget, 'pull,push') } } }));
    const { execa } = await import('execa');
    const copyStarted = process.hrtime.bigint();
    await concurrently(cids.length, ORAS_PARALLEL, async (i) => {
      const cid = cids[i]!;
      await execa(orasBin, ['copy', '--from-plain-http', '--to-plain-http', '--from-registry-config', config, '--to-registry-config', config, `${peer.host}/${REPOSITORY}:${cid}`, `${copyTarget.host}/${REPOSITORY}:${cid}`]);
    });
    const copySeconds = seconds(copyStarted);
    const syncPerSecond = Math.round(cids.length / syncSeconds);
    const orasPerSecond = Math.round(cids.length / copySeconds);
    return { records: cids.length, syncRecordsPerSecond: syncPerSecond, orasCopyRecordsPerSecond: orasPerSecond, syncOverOrasCopy: ratio(syncPerSecond, orasPerSecond) };
  } finally {
    http.close();
  }
}

/** A token of an hour for oras, signed with the registry's own trusted key. */
function longToken(registry: Registry, actions: string): Promise<string> {
  const issuedAt = Math.floor(Date.now() / 1000);
  return signRegistryToken({ key: registry.key, service: registry.service, subject: 'bench', access: [{ type: 'repository', name: REPOSITORY, actions: actions.split(',') }], issuedAt, expiresAt: issuedAt + 3600 });
}

/** Runs `count` operations, `lanes` at a time; operations per second. */
async function concurrently(count: number, lanes: number, operation: (index: number) => Promise<void>): Promise<number> {
  let next = 0;
  const started = process.hrtime.bigint();
  await Promise.all(
    Array.from({ length: lanes }, async () => {
      while (next < count) await operation(next++);
    }),
  );
  return Math.round(count / seconds(started));
}

function newKey(name: string): RegistryTokenKey {
  return registryTokenKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), `${name} bench key`);
}

function seconds(since: bigint): number {
  return Number(process.hrtime.bigint() - since) / 1e9;
}

function ratio(value: number, baseline: number): number {
  return Math.round((value / baseline) * 100) / 100;
}

/** This part alone: `tsx bench/registry.ts`. */
if (require.main === module) {
  registryBench().then(
    (report) => console.log(JSON.stringify(report, null, 2)),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
