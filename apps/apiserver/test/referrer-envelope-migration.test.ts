/**
 * Opening a store whose referrers have the previous envelope form (`record_cid`) rewrites them in the
 * Directory's `RecordReferrer` form (`record_ref: {cid}`; see src/store/referrer-envelope-migration.ts).
 * The previous form is written here by hand: canonical JSON named by the CID of its bytes, as the
 * previous code wrote it.
 */
import { mkdir, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { canonicalJsonBytes, cidOf, type JsonObject } from '@dirtk/directory-api/cid';
import { FORMAT_FILE } from '../src/store/referrer-envelope-migration';
import { openStore } from '../src/store/store';
import { useTempDirs } from './store-helpers';

const newDir = useTempDirs();

const SIGNATURE = { type: 'agntcy.dir.sign.v1.Signature', annotations: { alg: 'ES256' }, created_at: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' } };
const NOTE = { type: 'example.org/note', annotations: {}, created_at: '2026-03-05T00:00:00Z', data: { text: 'hi' } };

/** A store with one record whose referrers were written in the previous form; the format file is gone, as before. */
async function previousForm(referrers: readonly JsonObject[]): Promise<{ root: string; record: string; files: string[] }> {
  const root = await newDir();
  const record = await (await openStore(root)).records.put({ name: 'example.org/agents/signed' });
  await rm(path.join(root, FORMAT_FILE));
  const dir = path.join(root, 'referrers', record);
  await mkdir(dir, { recursive: true });
  const files: string[] = [];
  for (const referrer of referrers) {
    const bytes = canonicalJsonBytes({ ...referrer, record_cid: record });
    files.push(cidOf(bytes));
    await writeFile(path.join(dir, cidOf(bytes)), bytes);
  }
  return { root, record, files };
}

function currentCid(record: string, referrer: JsonObject): string {
  return cidOf(canonicalJsonBytes({ ...referrer, record_ref: { cid: record } }));
}

describe('store migration of referrer envelopes to the Directory form', () => {
  it('serves every referrer unchanged under the CID of its new envelope, and leaves only new files', async () => {
    const { root, record, files } = await previousForm([SIGNATURE, NOTE]);
    const store = await openStore(root);
    const referrers = await store.records.referrers(record);
    expect(referrers.map(({ cid, type, annotations, createdAt, data }) => ({ cid, type, annotations, created_at: createdAt, data }))).toEqual([
      { cid: currentCid(record, SIGNATURE), ...SIGNATURE },
      { cid: currentCid(record, NOTE), ...NOTE },
    ]);
    const onDisk = (await readdir(path.join(root, 'referrers', record))).sort();
    expect(onDisk).toEqual([currentCid(record, SIGNATURE), currentCid(record, NOTE)].sort());
    expect(onDisk.some((name) => files.includes(name))).toBe(false);
    const stored = JSON.parse(await readFile(path.join(root, 'referrers', record, currentCid(record, NOTE)), 'utf8')) as JsonObject;
    expect(stored).toEqual({ ...NOTE, record_ref: { cid: record } });
  });

  it('finishes a migration a crash interrupted between writing the new file and removing the old', async () => {
    const { root, record, files } = await previousForm([SIGNATURE]);
    const dir = path.join(root, 'referrers', record);
    await writeFile(path.join(dir, currentCid(record, SIGNATURE)), canonicalJsonBytes({ ...SIGNATURE, record_ref: { cid: record } }));
    expect((await readdir(dir)).sort()).toEqual([files[0], currentCid(record, SIGNATURE)].sort());

    const store = await openStore(root);
    expect((await store.records.referrers(record)).map((referrer) => referrer.cid)).toEqual([currentCid(record, SIGNATURE)]);
    expect(await readdir(dir)).toEqual([currentCid(record, SIGNATURE)]);
  });

  it('leaves a damaged file where it is, and reading it reports it', async () => {
    const { root, record, files } = await previousForm([SIGNATURE]);
    const damaged = path.join(root, 'referrers', record, files[0]!);
    await writeFile(damaged, canonicalJsonBytes({ ...SIGNATURE, data: { signature: 'tampered' }, record_cid: record }));
    const store = await openStore(root);
    expect(await readdir(path.dirname(damaged))).toEqual([files[0]]);
    await expect(store.records.referrers(record)).rejects.toMatchObject({ reason: 'corrupt' });
  });

  it('reopening a migrated store changes nothing', async () => {
    const { root, record } = await previousForm([SIGNATURE, NOTE]);
    await openStore(root);
    const before = (await readdir(path.join(root, 'referrers', record))).sort();
    const store = await openStore(root);
    expect((await readdir(path.join(root, 'referrers', record))).sort()).toEqual(before);
    expect(await store.records.referrers(record)).toHaveLength(2);
  });
});
