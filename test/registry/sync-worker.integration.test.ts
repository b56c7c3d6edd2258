/**
 * The sync worker between two real Distribution registries, each behind token authentication:
 *
 *   peer:  a registry trusting only the peer's token key; its token service is the apiserver's real
 *          RegistryTokenService on 127.0.0.1, exchanging credentials from a real RegistryCredentialIssuer
 *   here:  a registry holding this side's records (the OCI record store with tokens signed for itself)
 *
 * The peer Directory's RequestRegistryCredentials is the issuer called in-process (the SPIFFE mTLS
 * leg is proven in local mode, test/local/sync.integration.test.ts). What is proven here: the pull
 * through the token flow, verification against CIDs, idempotence, expiring credentials, the peer's
 * registry restarting or down, DeleteSync, and resuming after a stop.
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { canonicalJsonBytes, cidOf, type JsonObject } from '@dirtk/directory-api/cid';
import { REGISTRY_TOKEN_PATH, syncPeerEntry } from '@dirtk/directory-api/contract';
import { createJsonLogger } from '../../apps/apiserver/src/observability/logger';
import { RegistryCredentialIssuer } from '../../apps/apiserver/src/services/registry-credentials';
import { type RegistryTokenKey, registryTokenKey, RegistryTokenService, signRegistryToken } from '../../apps/apiserver/src/services/registry-token-service';
import { OciRecordStore, sha256Digest } from '../../apps/apiserver/src/store/oci/oci-records';
import { signedTokens } from '../../apps/apiserver/src/store/oci/token-sources';
import type { Records } from '../../apps/apiserver/src/store/records-api';
import { openStore, type Store } from '../../apps/apiserver/src/store/store';
import type { Sync } from '../../apps/apiserver/src/store/syncs';
import type { RequestPeerCredentials } from '../../apps/apiserver/src/sync/remote-directory';
import { SyncPeers } from '../../apps/apiserver/src/sync/sync-peers';
import { type SyncRetry, SyncWorker } from '../../apps/apiserver/src/sync/worker';
import { ensureRegistry } from '../../registry/build/install';
import { RegistryProcess } from '../../registry/process';
import { freePorts } from '../../spire/process/ports';

const REPOSITORY = 'dir';
const PEER_ADDRESS = '127.0.0.1:1';
const PEER_APISERVER = 'spiffe://peer.example/ns/dir/sa/dir-apiserver';
const ME = 'spiffe://here.example/ns/dir/sa/dir-apiserver';
const PEERS = SyncPeers.parse([syncPeerEntry(PEER_ADDRESS, PEER_APISERVER)]).peers;
const FAST_RETRY: SyncRetry = { maxAttempts: 3, baseDelayMs: 100 };

interface Side {
  readonly registry: RegistryProcess;
  readonly records: OciRecordStore;
  readonly host: string;
  readonly dir: string;
  readonly key: RegistryTokenKey;
}

let skipReason: string | undefined;
let root: string;
let peer: Side;
let here: Side;
let tokenServer: Server;
let tokenService: RegistryTokenService;
let tokenRealm: string;
const secret = randomBytes(32);
let credentialsTtlSeconds = 600;
let credentialRequests = 0;
const PEER_SERVICE = 'peer-registry';
const HERE_SERVICE = 'here-registry';

/** The peer Directory's RequestRegistryCredentials, as the worker would get it over mTLS. */
const requestCredentials: RequestPeerCredentials = async (asked) => {
  expect(asked.apiserverId.toString()).toBe(PEER_APISERVER);
  credentialRequests++;
  const issued = new RegistryCredentialIssuer({ secret, repository: REPOSITORY, ttlSeconds: credentialsTtlSeconds }).issue(ME);
  return { registryUrl: peer.registry.url, repository: issued.repository, username: issued.username, password: issued.password };
};

async function startSide(name: string, service: string, realm: string, key = newTokenKey(name)): Promise<Side> {
  const [port] = await freePorts(1);
  const host = `127.0.0.1:${port}`;
  const dir = path.join(root, name);
  const registry = await RegistryProcess.start({ dir, listen: host, tokenRealm: realm, service, trustedKeys: [key.publicJwk], deleteEnabled: true });
  const records = new OciRecordStore({ registryUrl: registry.url, repository: REPOSITORY, tokens: signedTokens({ key, service, repository: REPOSITORY, spiffeId: ME }) });
  return { registry, records, host, dir, key };
}

/** The peer's registry again, on the same port and storage (a restart), trusting `trustedKeys`. */
async function restartPeerRegistry(trustedKeys = [peer.key.publicJwk]): Promise<void> {
  await peer.registry.stop();
  peer = { ...peer, registry: await RegistryProcess.start({ dir: peer.dir, listen: peer.host, tokenRealm, service: PEER_SERVICE, trustedKeys, deleteEnabled: true }) };
}

function newTokenKey(name: string): RegistryTokenKey {
  return registryTokenKey(generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'pem', type: 'pkcs8' }), name);
}

beforeAll(async () => {
  try {
    await ensureRegistry({ log: (line) => console.log(`[registry build] ${line}`) });
  } catch (error) {
    skipReason = `the Distribution registry could not be built: ${(error as Error).message.split('\n')[0]}`;
    return;
  }
  root = mkdtempSync(path.join(tmpdir(), 'dirtk-sync-worker-'));
  const peerKey = newTokenKey('peer key');
  tokenService = new RegistryTokenService({ credentialsSecret: secret, signingKey: peerKey, service: PEER_SERVICE });
  // The peer apiserver's token service; a key rotation replaces it, as restarting the apiserver on the next key does.
  tokenServer = createServer((request, response) => tokenService.handle(request, response));
  const tokenPort = await new Promise<number>((resolve) => tokenServer.listen(0, '127.0.0.1', () => resolve((tokenServer.address() as { port: number }).port)));
  tokenRealm = `http://127.0.0.1:${tokenPort}${REGISTRY_TOKEN_PATH}`;
  peer = await startSide('peer', PEER_SERVICE, tokenRealm, peerKey);
  // Nobody fetches tokens from this side's realm: its store signs its own.
  here = await startSide('here', HERE_SERVICE, 'http://127.0.0.1:9/registry/token');
}, 300_000);

afterAll(async () => {
  await peer?.registry.stop();
  await here?.registry.stop();
  tokenServer?.close();
  if (root) rmSync(root, { recursive: true, force: true });
});

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

let nextRecord = 0;
/** `count` records of ~1 KiB stored in the peer's registry. */
async function peerRecords(count: number): Promise<string[]> {
  const cids: string[] = [];
  for (let i = 0; i < count; i++) {
    cids.push(await peer.records.put({ name: `example.org/agents/sync-${nextRecord++}`, schema_version: '0.7.0', description: 'x'.repeat(1000) }));
  }
  return cids;
}

interface Harness {
  readonly store: Store;
  readonly worker: SyncWorker;
  readonly logs: Array<Record<string, unknown>>;
  sync(request?: Partial<Pick<Sync, 'cids' | 'repositoryName' | 'remoteRegistryUrl'>>): Promise<Sync>;
}

/** A worker storing into `records` (this side's registry unless told), its syncs in a fresh folder. */
async function harness(options: { records?: Records; retry?: SyncRetry; concurrency?: number; dataDir?: string; owner?: string; leaseMs?: number; onCredentials?: (owner: string) => void } = {}): Promise<Harness> {
  const store = await openStore(options.dataDir ?? mkdtempSync(path.join(root, 'syncs-')), { records: options.records ?? here.records });
  const logs: Array<Record<string, unknown>> = [];
  const worker = new SyncWorker({
    syncs: store.syncs,
    records: store.records,
    sources: {
      peers: PEERS,
      requestCredentials: (asked, signal) => {
        options.onCredentials?.(options.owner ?? '');
        return requestCredentials(asked, signal);
      },
    },
    ...(options.owner !== undefined && { owner: options.owner }),
    ...(options.leaseMs !== undefined && { leaseMs: options.leaseMs }),
    logger: createJsonLogger({ level: 'debug', write: (line) => logs.push(JSON.parse(line) as Record<string, unknown>) }),
    retry: options.retry ?? FAST_RETRY,
    ...(options.concurrency !== undefined && { concurrency: options.concurrency }),
  });
  return {
    store,
    worker,
    logs,
    async sync(request = {}) {
      const sync = await store.syncs.create({ remoteDirectoryUrl: PEER_ADDRESS, remoteRegistryUrl: '', repositoryName: '', cids: [], ...request });
      worker.schedule(sync.id);
      await worker.idle();
      return store.syncs.get(sync.id);
    },
  };
}

/** `records` whose puts wait `ms` first: a sync slow enough to interfere with. */
function slowed(records: Records, ms: number, onPut: (count: number) => void | Promise<void> = () => {}): Records {
  let puts = 0;
  return Object.assign(Object.create(records) as Records, {
    async put(data: JsonObject) {
      await new Promise((resolve) => setTimeout(resolve, ms));
      const cid = await records.put(data);
      await onPut(++puts);
      return cid;
    },
  });
}

describe('sync worker between two token-authenticated registries', () => {
  it('pulls every record of the peer repository, verified, and a second run changes nothing', async (context) => {
    skipIfUnavailable(context);
    const cids = await peerRecords(12);
    // Referrers are tagged by their CIDs too; the sync must not take them for records.
    await peer.records.putReferrer(cids[0]!, { type: 'agntcy.dir.sign.v1.Signature', annotations: {}, createdAt: '', data: { signature: 'c2ln' } });
    const { sync, store } = await harness();
    const first = await sync();
    expect(first).toMatchObject({ status: 'SYNC_STATUS_COMPLETED', syncedRecords: expect.any(Number) });
    expect(first.failureReason).toBeUndefined();
    for (const cid of cids) expect(cidOf(canonicalJsonBytes(await store.records.get(cid)))).toBe(cid);
    expect((await peer.records.cids()).sort()).toEqual([...cids].sort());

    const before = await here.records.cids();
    const again = await sync();
    expect(again.status).toBe('SYNC_STATUS_COMPLETED');
    expect(await here.records.cids()).toEqual(before);
  });

  it("brings each record's referrers with it under the same CIDs; one added later arrives with the next run", async (context) => {
    skipIfUnavailable(context);
    const [signed, plain] = await peerRecords(2);
    const signature = await peer.records.putReferrer(signed!, { type: 'agntcy.dir.sign.v1.Signature', annotations: { alg: 'ES256' }, createdAt: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' } });
    const unknownType = await peer.records.putReferrer(signed!, { type: 'example.org/note', annotations: {}, createdAt: '2026-03-04T05:06:08Z', data: { text: 'hi' } });
    const { sync, store, logs } = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    const first = await sync({ cids: [signed!, plain!] });
    expect(first.status, first.failureReason).toBe('SYNC_STATUS_COMPLETED');
    expect(await store.records.referrers(signed!)).toEqual([signature]);
    expect(await store.records.referrers(plain!)).toEqual([]);
    expect(logs).toContainEqual(expect.objectContaining({ msg: 'referrer of an unknown type left out of the sync', referrer: unknownType.cid }));

    const publicKey = await peer.records.putReferrer(signed!, { type: 'agntcy.dir.sign.v1.PublicKey', annotations: {}, createdAt: '2026-03-05T00:00:00Z', data: { key: 'a2V5' } });
    expect((await sync({ cids: [signed!, plain!] })).status).toBe('SYNC_STATUS_COMPLETED');
    expect(await store.records.referrers(signed!)).toEqual([signature, publicKey]);
    const again = await sync({ cids: [signed!, plain!] });
    expect(again.status).toBe('SYNC_STATUS_COMPLETED');
    expect(await store.records.referrers(signed!)).toEqual([signature, publicKey]);
  });

  it('completes a sync of a record held here that the peer has deleted since, keeping it', async (context) => {
    skipIfUnavailable(context);
    const [cid] = await peerRecords(1);
    const { sync, store } = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    expect((await sync({ cids: [cid!] })).status).toBe('SYNC_STATUS_COMPLETED');
    await peer.records.delete(cid!);
    const again = await sync({ cids: [cid!] });
    expect(again.status, again.failureReason).toBe('SYNC_STATUS_COMPLETED');
    await expect(store.records.get(cid!)).resolves.toBeDefined();
  });

  it('pulls only the CIDs a sync names', async (context) => {
    skipIfUnavailable(context);
    const [wanted, other] = await peerRecords(2);
    const { sync } = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    const done = await sync({ cids: [wanted!] });
    expect(done).toMatchObject({ status: 'SYNC_STATUS_COMPLETED', syncedRecords: 1 });
    const h = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    await h.sync({ cids: [wanted!] });
    await expect(h.store.records.get(wanted!)).resolves.toBeDefined();
    await expect(h.store.records.get(other!)).rejects.toMatchObject({ reason: 'not-found' });
  });

  it('asks for new credentials when the current ones expire mid-sync, and completes', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(30);
    credentialsTtlSeconds = 1;
    credentialRequests = 0;
    try {
      const fs = (await openStore(mkdtempSync(path.join(root, 'fs-')))).records;
      const { sync, logs } = await harness({ records: slowed(fs, 80), concurrency: 1 });
      const done = await sync();
      expect(done.status, done.failureReason).toBe('SYNC_STATUS_COMPLETED');
      expect(credentialRequests).toBeGreaterThan(1);
      expect(logs.some((line) => line.msg === 'registry credentials refused; requesting new ones')).toBe(true);
    } finally {
      credentialsTtlSeconds = 600;
    }
  });

  it('retries through a restart of the peer registry and completes', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(20);
    const fs = (await openStore(mkdtempSync(path.join(root, 'fs-')))).records;
    let restarted: Promise<void> | undefined;
    const { sync, logs } = await harness({
      records: slowed(fs, 20, (count) => {
        if (count === 5) restarted = restartPeerRegistry();
      }),
      retry: { maxAttempts: 10, baseDelayMs: 200 },
      concurrency: 1,
    });
    const done = await sync();
    await restarted;
    expect(done.status, done.failureReason).toBe('SYNC_STATUS_COMPLETED');
    expect(logs.filter((line) => line.msg === 'sync attempt failed; retrying').length).toBeGreaterThan(0);
  });

  it('FAILs with the reason when the peer registry stays down, then a new sync completes once it is back', async (context) => {
    skipIfUnavailable(context);
    const [cid] = await peerRecords(1);
    const h = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    await peer.registry.stop();
    let failed: Sync;
    try {
      failed = await h.sync({ cids: [cid!] });
    } finally {
      await restartPeerRegistry();
    }
    expect(failed.status).toBe('SYNC_STATUS_FAILED');
    expect(failed.failureReason).toMatch(/fetch failed|ECONNREFUSED/);
    expect(failed.failureReason).toContain('gave up after 3 attempts');
    await expect(h.store.records.get(cid!)).rejects.toMatchObject({ reason: 'not-found' });

    expect((await h.sync({ cids: [cid!] })).status).toBe('SYNC_STATUS_COMPLETED');
    await expect(h.store.records.get(cid!)).resolves.toBeDefined();
  });

  it('FAILs at once when the credentials grant another repository than the sync names', async (context) => {
    skipIfUnavailable(context);
    const done = await (await harness()).sync({ repositoryName: 'elsewhere' });
    expect(done).toMatchObject({ status: 'SYNC_STATUS_FAILED', failureReason: `the sync names repository elsewhere, but ${PEER_ADDRESS} grants pulls of ${REPOSITORY} only` });
  });

  it("FAILs at once when the sync names another registry than the peer advertises: the peer's credentials go nowhere else", async (context) => {
    skipIfUnavailable(context);
    const done = await (await harness()).sync({ remoteRegistryUrl: here.registry.url });
    expect(done).toMatchObject({ status: 'SYNC_STATUS_FAILED', failureReason: expect.stringContaining(`remote_registry_url ${here.registry.url} is not the registry ${PEER_ADDRESS} advertises`) });
    expect((await (await harness()).sync({ remoteRegistryUrl: peer.host })).status).toBe('SYNC_STATUS_COMPLETED');
  });

  it('stops a sync on DeleteSync and marks it DELETED', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(10);
    let stored = 0;
    const fs = (await openStore(mkdtempSync(path.join(root, 'fs-')))).records;
    const h = await harness({ records: slowed(fs, 100, () => void stored++), concurrency: 1 });
    const sync = await h.store.syncs.create({ remoteDirectoryUrl: PEER_ADDRESS, remoteRegistryUrl: '', repositoryName: '', cids: [] });
    h.worker.schedule(sync.id);
    while (stored < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await h.worker.delete(sync.id);
    const atDelete = stored;
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await h.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_DELETED');
    expect(stored).toBeLessThanOrEqual(atDelete + 1);
    expect(stored).toBeLessThan((await peer.records.cids()).length);
  });

  it('leaves a sync IN_PROGRESS when stopped, and a new worker on the same data resumes and completes it', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(10);
    const dataDir = mkdtempSync(path.join(root, 'resume-'));
    const fsRoot = mkdtempSync(path.join(root, 'fs-'));
    let stored = 0;
    const first = await harness({ records: slowed((await openStore(fsRoot)).records, 100, () => void stored++), concurrency: 1, dataDir });
    const sync = await first.store.syncs.create({ remoteDirectoryUrl: PEER_ADDRESS, remoteRegistryUrl: '', repositoryName: '', cids: [] });
    first.worker.schedule(sync.id);
    while (stored < 2) await new Promise((resolve) => setTimeout(resolve, 20));
    await first.worker.close();
    expect((await first.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_IN_PROGRESS');

    const second = await harness({ records: (await openStore(fsRoot)).records, dataDir });
    await second.worker.start();
    await second.worker.idle();
    expect((await second.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_COMPLETED');
    for (const cid of await peer.records.cids()) await expect(second.store.records.get(cid)).resolves.toBeDefined();
  });

  it('has exactly one of two replicas sharing the syncs work a sync', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(5);
    const dataDir = mkdtempSync(path.join(root, 'replicas-'));
    const records = (await openStore(mkdtempSync(path.join(root, 'fs-')))).records;
    const askedBy: string[] = [];
    const replicas = await Promise.all(['replica-a', 'replica-b'].map((owner) => harness({ records, dataDir, owner, onCredentials: (who) => askedBy.push(who) })));
    const sync = await replicas[0]!.store.syncs.create({ remoteDirectoryUrl: PEER_ADDRESS, remoteRegistryUrl: '', repositoryName: '', cids: [] });
    for (const replica of replicas) replica.worker.schedule(sync.id);
    await Promise.all(replicas.map((replica) => replica.worker.idle()));
    expect((await replicas[1]!.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_COMPLETED');
    expect(new Set(askedBy).size).toBe(1);
  });

  it('has a replica take over a sync whose holder stopped renewing its lease', async (context) => {
    skipIfUnavailable(context);
    await peerRecords(3);
    const dataDir = mkdtempSync(path.join(root, 'takeover-'));
    const survivor = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records, dataDir, owner: 'survivor', leaseMs: 300 });
    const sync = await survivor.store.syncs.create({ remoteDirectoryUrl: PEER_ADDRESS, remoteRegistryUrl: '', repositoryName: '', cids: [] });
    // What a replica killed mid-sync leaves: the sync IN_PROGRESS under a lease nobody renews.
    await survivor.store.syncs.transition(sync.id, ['SYNC_STATUS_PENDING'], 'SYNC_STATUS_IN_PROGRESS');
    expect(await survivor.store.syncs.leases.claim(sync.id, 'killed-replica', 1_000)).toBe(true);
    await survivor.worker.start();
    await survivor.worker.idle();
    expect((await survivor.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_IN_PROGRESS');
    const deadline = Date.now() + 10_000;
    while ((await survivor.store.syncs.get(sync.id)).status !== 'SYNC_STATUS_COMPLETED' && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 100));
    await survivor.worker.close();
    expect((await survivor.store.syncs.get(sync.id)).status).toBe('SYNC_STATUS_COMPLETED');
  });

  it("rotates the peer's token-signing key with no failed sync: next key trusted, then signing, then the old one dropped", async (context) => {
    skipIfUnavailable(context);
    const [first, second, third] = (await peerRecords(3)) as [string, string, string];
    const { sync } = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    const previous = { key: peer.key, service: tokenService };
    const next = newTokenKey('next peer key');
    const issuedAt = Math.floor(Date.now() / 1000);
    const oldToken = await signRegistryToken({ key: previous.key, service: PEER_SERVICE, subject: 'rotation', access: [{ type: 'repository', name: REPOSITORY, actions: ['pull'] }], issuedAt, expiresAt: issuedAt + 300 });
    const honours = async (token: string) =>
      (await fetch(`${peer.registry.url}/v2/${REPOSITORY}/manifests/${first}`, { headers: { Authorization: `Bearer ${token}`, Accept: 'application/vnd.oci.image.manifest.v1+json' } })).status;
    try {
      await restartPeerRegistry([previous.key.publicJwk, next.publicJwk]);
      expect((await sync({ cids: [first] })).status).toBe('SYNC_STATUS_COMPLETED');

      tokenService = new RegistryTokenService({ credentialsSecret: secret, signingKey: next, service: PEER_SERVICE });
      expect((await sync({ cids: [second] })).status).toBe('SYNC_STATUS_COMPLETED');
      expect(await honours(oldToken)).toBe(200);

      await restartPeerRegistry([next.publicJwk]);
      expect(await honours(oldToken)).toBe(401);
      expect((await sync({ cids: [third] })).status).toBe('SYNC_STATUS_COMPLETED');
    } finally {
      tokenService = previous.service;
      await restartPeerRegistry([previous.key.publicJwk]);
    }
  });

  it('refuses a peer record that does not match its CID, storing nothing of it', async (context) => {
    skipIfUnavailable(context);
    const claimed = { name: 'example.org/agents/claimed' };
    const cid = cidOf(canonicalJsonBytes(claimed));
    await pushUnderTag(cid, { name: 'example.org/agents/impostor' });
    const { sync, store } = await harness({ records: (await openStore(mkdtempSync(path.join(root, 'fs-')))).records });
    const done = await sync({ cids: [cid] });
    expect(done.status).toBe('SYNC_STATUS_FAILED');
    expect(done.failureReason).toContain(`record ${cid} is damaged in the registry`);
    await expect(store.records.get(cid)).rejects.toMatchObject({ reason: 'not-found' });
  });
});

/** A record manifest in the peer registry tagged `cid` whose layer is other content: what a damaged or lying registry serves. */
async function pushUnderTag(cid: string, content: JsonObject): Promise<void> {
  const realCid = await peer.records.put(content);
  const manifest = await fetchManifest(realCid);
  const token = await signedTokens({ key: peer.key, service: PEER_SERVICE, repository: REPOSITORY, spiffeId: ME })(`repository:${REPOSITORY}:pull,push`);
  const response = await fetch(`${peer.registry.url}/v2/${REPOSITORY}/manifests/${cid}`, {
    method: 'PUT',
    body: manifest.replace(realCid, cid),
    headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/vnd.oci.image.manifest.v1+json' },
  });
  expect(response.status, await response.text()).toBe(201);
  expect(sha256Digest(canonicalJsonBytes(content))).not.toBe(cid);
}

async function fetchManifest(reference: string): Promise<string> {
  const token = await signedTokens({ key: peer.key, service: PEER_SERVICE, repository: REPOSITORY, spiffeId: ME })(`repository:${REPOSITORY}:pull`);
  const response = await fetch(`${peer.registry.url}/v2/${REPOSITORY}/manifests/${reference}`, {
    headers: { Authorization: `Bearer ${token}`, Accept: 'application/vnd.oci.image.manifest.v1+json' },
  });
  return response.text();
}
