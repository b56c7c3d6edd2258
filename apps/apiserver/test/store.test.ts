import { readdir, writeFile, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJson, CidError, objectCid } from '@dirtk/directory-api/cid';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { openStore } from '../src/store/store';
import { describeRecordsContract, storeError } from './records-contract';
import { useTempDirs } from './store-helpers';

const RECORD = { name: 'agent-a', schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'x', n: 1 }, skills: [{ id: 1 }] };
const UNKNOWN_CID = objectCid({ never: 'stored' });
const UNKNOWN_SYNC = '00000000-0000-4000-8000-000000000000';

const newDir = useTempDirs();

describeRecordsContract('filesystem store', { open: async (now) => (await openStore(await newDir(), { now })).records });

describe('record store on disk', () => {
  it('keeps one file per record, named by its CID, whatever the key order', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const reordered = { skills: [{ id: 1 }], annotations: { n: 1, team: 'x' }, created_at: RECORD.created_at, schema_version: '0.7.0', name: 'agent-a' };
    await Promise.all([store.records.put(RECORD), store.records.put(reordered), store.records.put(RECORD)]);
    expect(await readdir(path.join(root, 'records'))).toEqual([objectCid(RECORD)]);
  });

  it('writes nothing for an empty record', async () => {
    const root = await newDir();
    const store = await openStore(root);
    expect((await storeError(store.records.put({}))).reason).toBe('invalid-argument');
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

  it('keeps CIDs that are not file names out of the file system', async () => {
    const store = await openStore(await newDir());
    await expect(store.records.referrers(await store.records.put(RECORD), { cid: '../records' })).rejects.toThrow(CidError);
  });

  it("removes a deleted record's referrer directory", async () => {
    const root = await newDir();
    const store = await openStore(root);
    const cid = await store.records.put(RECORD);
    await store.records.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '', data: { s: 1 } });
    await store.records.delete(cid);
    expect(await readdir(path.join(root, 'referrers'))).toEqual([]);
  });

  it('writes nothing for a rejected referrer', async () => {
    const root = await newDir();
    const store = await openStore(root);
    const record = await store.records.put(RECORD);
    await storeError(store.records.putReferrer(record, { type: '', annotations: {}, createdAt: '', data: {} }));
    await storeError(store.records.putReferrer(UNKNOWN_CID, { type: 'sig', annotations: {}, createdAt: '', data: {} }));
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
