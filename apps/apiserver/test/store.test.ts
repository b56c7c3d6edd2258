import { readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, CidError, cidOf, objectCid } from '@dirtk/directory-api/cid';
import { StoreError } from '../src/store/errors';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { openStore } from '../src/store/store';
import { useTempDirs } from './store-helpers';

const RECORD = { name: 'agent-a', schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'x', n: 1 }, skills: [{ id: 1 }] };
const UNKNOWN_CID = objectCid({ never: 'stored' });
const UNKNOWN_SYNC = '00000000-0000-4000-8000-000000000000';

const newDir = useTempDirs();

async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

describe('record store', () => {
  it('stores a record under the CID of its canonical JSON and returns it intact', async () => {
    const store = await openStore(await newDir());
    const cid = await store.records.put(RECORD);
    expect(cid).toBe(objectCid(RECORD));
    expect(await store.records.get(cid)).toEqual(RECORD);
  });

  it('is idempotent: the same content in any key order is one record', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const reordered = { skills: [{ id: 1 }], annotations: { n: 1, team: 'x' }, created_at: RECORD.created_at, schema_version: '0.7.0', name: 'agent-a' };
    const cids = await Promise.all([store.records.put(RECORD), store.records.put(reordered), store.records.put(RECORD)]);
    expect(new Set(cids).size).toBe(1);
    expect(await readdir(path.join(root, 'records'))).toEqual([cids[0]]);
  });

  it('derives metadata from the record (string annotations only)', async () => {
    const store = await openStore(await newDir());
    const cid = await store.records.put(RECORD);
    expect(await store.records.meta(cid)).toEqual({ cid, annotations: { team: 'x' }, schemaVersion: '0.7.0', createdAt: '2026-01-02T03:04:05Z' });
    const bare = await store.records.put({ name: 'bare' });
    expect(await store.records.meta(bare)).toEqual({ cid: bare, annotations: {}, schemaVersion: '', createdAt: '' });
  });

  it('rejects an empty record and stores nothing', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const error = await storeError(store.records.put({}));
    expect(error.reason).toBe('invalid-argument');
    expect(error.message).toContain('record data is empty');
    expect(await readdir(path.join(root, 'records'))).toEqual([]);
  });

  it('accepts a record of exactly 4 MiB and rejects one byte more, storing nothing', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const overhead = canonicalJson({ x: '' }).length;
    const atLimit = { x: 'a'.repeat(MAX_OBJECT_BYTES - overhead) };
    const overLimit = { x: 'a'.repeat(MAX_OBJECT_BYTES - overhead + 1) };
    expect(Buffer.byteLength(canonicalJson(overLimit))).toBe(MAX_OBJECT_BYTES + 1);

    const error = await storeError(store.records.put(overLimit));
    expect(error.reason).toBe('too-large');
    expect(error.message).toContain(`${MAX_OBJECT_BYTES + 1} bytes`);
    expect(await readdir(path.join(root, 'records'))).toEqual([]);

    const cid = await store.records.put(atLimit);
    expect(await readdir(path.join(root, 'records'))).toEqual([cid]);
  });

  it('counts the limit in UTF-8 bytes, not characters', async () => {
    const store = await openStore(await newDir());
    const overhead = canonicalJson({ x: '' }).length;
    const error = await storeError(store.records.put({ x: 'é'.repeat((MAX_OBJECT_BYTES - overhead) / 2 + 1) }));
    expect(error.reason).toBe('too-large');
  });

  it('rejects malformed CIDs and CIDs of another codec', async () => {
    const store = await openStore(await newDir());
    for (const op of [store.records.get.bind(store.records), store.records.meta.bind(store.records), store.records.delete.bind(store.records)]) {
      await expect(op('not-a-cid')).rejects.toThrow(CidError);
      await expect(op('../records')).rejects.toThrow(CidError);
      const error = await storeError(op(cidOf(Buffer.from('{}'), 0x55)));
      expect(error.reason).toBe('invalid-argument');
      expect(error.message).toContain('codec 0x55');
    }
  });

  it('reports unknown records as not found', async () => {
    const store = await openStore(await newDir());
    // Each rejection gets its handler at once: awaiting them one by one would leave the others unhandled meanwhile.
    const errors = await Promise.all([store.records.get(UNKNOWN_CID), store.records.meta(UNKNOWN_CID), store.records.delete(UNKNOWN_CID)].map(storeError));
    for (const error of errors) {
      expect(error.reason).toBe('not-found');
      expect(error.message).toBe(`record ${UNKNOWN_CID} not found`);
    }
  });

  it('deletes a record together with its referrers', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const cid = await store.records.put(RECORD);
    await store.records.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '', data: { s: 1 } });
    await store.records.delete(cid);
    expect((await storeError(store.records.get(cid))).reason).toBe('not-found');
    expect(await readdir(path.join(root, 'referrers'))).toEqual([]);
  });

  it('reports a damaged record file as corrupt instead of serving it', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const cid = await store.records.put(RECORD);
    await writeFile(path.join(root, 'records', cid), '{"name":"tampered"}');
    const error = await storeError(store.records.get(cid));
    expect(error.reason).toBe('corrupt');
    expect(error.message).toContain(`record ${cid} is damaged on disk`);
  });
});

describe('referrers', () => {
  const clock = () => new Date('2026-05-06T07:08:09.000Z');

  it('stores referrers with their own CIDs and lists them oldest first, filtered by type or CID', async () => {
    const store = await openStore(await newDir(), { now: clock });
    const record = await store.records.put(RECORD);
    const later = await store.records.putReferrer(record, { type: 'sig', annotations: { k: 'v' }, createdAt: '2026-02-01T00:00:00Z', data: { s: 2 } });
    const earlier = await store.records.putReferrer(record, { type: 'sig', annotations: {}, createdAt: '2026-01-01T00:00:00Z', data: { s: 1 } });
    const key = await store.records.putReferrer(record, { type: 'key', annotations: {}, createdAt: '', data: {} });

    expect(new Set([later.cid, earlier.cid, key.cid]).size).toBe(3);
    expect(later).toEqual({ cid: later.cid, recordCid: record, type: 'sig', annotations: { k: 'v' }, createdAt: '2026-02-01T00:00:00Z', data: { s: 2 } });
    expect(key.createdAt).toBe('2026-05-06T07:08:09.000Z');
    expect((await store.records.referrers(record)).map((r) => r.cid)).toEqual([earlier.cid, later.cid, key.cid]);
    expect((await store.records.referrers(record, { type: 'sig' })).map((r) => r.cid)).toEqual([earlier.cid, later.cid]);
    expect(await store.records.referrers(record, { type: 'none' })).toEqual([]);
    expect(await store.records.referrers(record, { cid: key.cid })).toEqual([key]);
    expect((await storeError(store.records.referrers(record, { cid: key.cid, type: 'sig' }))).reason).toBe('not-found');
    expect((await storeError(store.records.referrers(record, { cid: UNKNOWN_CID }))).reason).toBe('not-found');
  });

  it('pushing the same referrer twice keeps one copy', async () => {
    const store = await openStore(await newDir());
    const record = await store.records.put(RECORD);
    const input = { type: 'sig', annotations: {}, createdAt: '2026-01-01T00:00:00Z', data: { s: 1 } };
    const [a, b] = [await store.records.putReferrer(record, input), await store.records.putReferrer(record, input)];
    expect(a.cid).toBe(b.cid);
    expect(await store.records.referrers(record)).toHaveLength(1);
  });

  it('validates the record, the type and the timestamp, storing nothing on error', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const record = await store.records.put(RECORD);
    const ok = { type: 'sig', annotations: {}, createdAt: '', data: {} };
    expect((await storeError(store.records.putReferrer(UNKNOWN_CID, ok))).reason).toBe('not-found');
    expect((await storeError(store.records.putReferrer(record, { ...ok, type: '' }))).message).toContain('referrer type is empty');
    expect((await storeError(store.records.putReferrer(record, { ...ok, createdAt: 'yesterday' }))).message).toContain('not an RFC 3339 timestamp');
    const overhead = canonicalJson({ annotations: {}, created_at: '2026-01-01T00:00:00Z', data: { x: '' }, record_cid: record, type: 'sig' }).length;
    const tooBig = { ...ok, createdAt: '2026-01-01T00:00:00Z', data: { x: 'a'.repeat(MAX_OBJECT_BYTES - overhead + 1) } };
    expect((await storeError(store.records.putReferrer(record, tooBig))).reason).toBe('too-large');
    expect(await readdir(path.join(root, 'referrers'))).toEqual([]);
  });

  it('deletes referrers by type or CID and returns what it deleted', async () => {
    const store = await openStore(await newDir());
    const record = await store.records.put(RECORD);
    const sig = await store.records.putReferrer(record, { type: 'sig', annotations: {}, createdAt: '', data: { s: 1 } });
    const key = await store.records.putReferrer(record, { type: 'key', annotations: {}, createdAt: '', data: { k: 1 } });
    const other = await store.records.putReferrer(record, { type: 'key', annotations: {}, createdAt: '', data: { k: 2 } });
    expect(await store.records.deleteReferrers(record, { cid: key.cid })).toEqual([key.cid]);
    expect(await store.records.deleteReferrers(record, { type: 'sig' })).toEqual([sig.cid]);
    expect((await storeError(store.records.deleteReferrers(record, { cid: key.cid }))).reason).toBe('not-found');
    expect(await store.records.deleteReferrers(record)).toEqual([other.cid]);
    expect(await store.records.referrers(record)).toEqual([]);
  });
});

describe('syncs', () => {
  const request = { remoteDirectoryUrl: 'https://dir.peer.example:8888', remoteRegistryUrl: '', repositoryName: '', cids: [] };

  it('creates PENDING syncs, gets and lists them (oldest first, paged)', async () => {
    let tick = 0;
    const store = await openStore(await newDir(), { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
    const first = await store.syncs.create(request);
    const second = await store.syncs.create({ ...request, remoteDirectoryUrl: '', remoteRegistryUrl: 'oci://zot.peer:5000', repositoryName: 'dir/mirror' });
    const third = await store.syncs.create({ ...request, cids: [UNKNOWN_CID] });

    expect(first).toMatchObject({ status: 'SYNC_STATUS_PENDING', createdTime: '2026-01-01T00:00:00.000Z', lastUpdateTime: '2026-01-01T00:00:00.000Z' });
    expect(await store.syncs.get(second.id)).toEqual(second);
    expect((await store.syncs.list()).map((s) => s.id)).toEqual([first.id, second.id, third.id]);
    expect((await store.syncs.list({ limit: 1, offset: 1 })).map((s) => s.id)).toEqual([second.id]);
    expect((await store.syncs.list({ offset: 2 })).map((s) => s.id)).toEqual([third.id]);
    expect((await store.syncs.list({ limit: 0 })).length).toBe(3);
  });

  it('moves a sync only from the statuses named, keeping the latest progress', async () => {
    let tick = 0;
    const store = await openStore(await newDir(), { now: () => new Date(Date.UTC(2026, 0, 1, 0, 0, tick++)) });
    const sync = await store.syncs.create(request);
    expect(await store.syncs.transition(sync.id, ['SYNC_STATUS_IN_PROGRESS'], 'SYNC_STATUS_COMPLETED')).toBeUndefined();
    const retried = await store.syncs.transition(sync.id, ['SYNC_STATUS_PENDING'], 'SYNC_STATUS_IN_PROGRESS', { failureReason: 'attempt 1 of 5: peer down' });
    expect(retried).toMatchObject({ status: 'SYNC_STATUS_IN_PROGRESS', failureReason: 'attempt 1 of 5: peer down', lastUpdateTime: '2026-01-01T00:00:01.000Z' });
    const done = await store.syncs.transition(sync.id, ['SYNC_STATUS_IN_PROGRESS'], 'SYNC_STATUS_COMPLETED', { syncedRecords: 3 });
    expect(done).toMatchObject({ status: 'SYNC_STATUS_COMPLETED', syncedRecords: 3 });
    expect(done).not.toHaveProperty('failureReason');
    expect(await store.syncs.get(sync.id)).toEqual(done);
  });

  it('marks a sync DELETE_PENDING on delete, once, and answers NOT_FOUND for unknown ones', async () => {
    const store = await openStore(await newDir());
    const sync = await store.syncs.create(request);
    expect((await store.syncs.requestDelete(sync.id)).status).toBe('SYNC_STATUS_DELETE_PENDING');
    await store.syncs.transition(sync.id, ['SYNC_STATUS_DELETE_PENDING'], 'SYNC_STATUS_DELETED');
    expect((await store.syncs.requestDelete(sync.id)).status).toBe('SYNC_STATUS_DELETED');
    expect((await storeError(store.syncs.requestDelete(UNKNOWN_SYNC))).reason).toBe('not-found');
  });

  it.each([
    [{ ...request, remoteDirectoryUrl: '' }, 'needs remote_directory_url or remote_registry_url'],
    [{ ...request, remoteDirectoryUrl: 'https://a b' }, 'contains whitespace'],
    [{ ...request, remoteRegistryUrl: `https://${'a'.repeat(2048)}` }, 'longer than 2048'],
    [{ ...request, repositoryName: 'Dir' }, 'not an OCI repository name'],
  ])('rejects an invalid request (%#)', async (invalid, reason) => {
    const root = await newDir();
    const store = await openStore(root);
    const error = await storeError(store.syncs.create(invalid));
    expect(error.reason).toBe('invalid-argument');
    expect(error.message).toContain(reason);
    expect(await readdir(path.join(root, 'syncs'))).toEqual([]);
  });

  it('rejects malformed CIDs in a sync request', async () => {
    const store = await openStore(await newDir());
    await expect(store.syncs.create({ ...request, cids: [UNKNOWN_CID, 'Qmfoo'] })).rejects.toThrow(CidError);
  });

  it('rejects sync IDs that are not UUIDs', async () => {
    const store = await openStore(await newDir());
    for (const id of ['', '../records/x', 'ABCDEF00-0000-4000-8000-000000000000']) {
      const error = await storeError(store.syncs.get(id));
      expect(error.reason).toBe('invalid-argument');
    }
  });
});

describe('store on disk', () => {
  it('keeps records, referrers and syncs across a restart', async () => {
    const root = await newDir();
    const before = await openStore(root);
    const cid = await before.records.put(RECORD);
    const referrer = await before.records.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '', data: { s: 1 } });
    const sync = await before.syncs.create({ remoteDirectoryUrl: 'https://peer', remoteRegistryUrl: '', repositoryName: '', cids: [] });

    const after = await openStore(root);
    expect(await after.records.get(cid)).toEqual(RECORD);
    expect(await after.records.referrers(cid)).toEqual([referrer]);
    expect(await after.syncs.get(sync.id)).toEqual(sync);
  });

  it('removes leftover temporary files and orphaned referrers at open, and never lists them', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const cid = await store.records.put(RECORD);
    await store.records.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '', data: {} });
    await writeFile(path.join(root, 'records', '.tmp-0123'), '{"partial');
    await writeFile(path.join(root, 'referrers', cid, '.tmp-4567'), '{"partial');
    await writeFile(path.join(root, 'syncs', '.tmp-89ab'), '{"partial');
    await mkdir(path.join(root, 'referrers', UNKNOWN_CID));
    await writeFile(path.join(root, 'referrers', UNKNOWN_CID, 'x'), '{}');

    expect(await store.records.referrers(cid)).toHaveLength(1);
    expect(await store.syncs.list()).toEqual([]);

    await openStore(root);
    expect(await readdir(path.join(root, 'records'))).toEqual([cid]);
    expect((await readdir(path.join(root, 'referrers', cid))).some((name) => name.startsWith('.tmp-'))).toBe(false);
    expect(await readdir(path.join(root, 'referrers'))).toEqual([cid]);
    expect(await readdir(path.join(root, 'syncs'))).toEqual([]);
  });
});
