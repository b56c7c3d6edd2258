/**
 * Opening a store written before dirtk adopted the Directory's CIDs migrates it (see
 * src/store/legacy-migration.ts). `fixtures/store-before-directory-cids/` is a store the previous
 * code (commit 0499256) wrote, with a manifest of what was pushed and the CIDs it answered.
 */
import { spawn } from 'node:child_process';
import { cp, readdir, readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { type JsonObject, objectCid } from '@dirtk/directory-api/cid';
import { StoreError } from '../src/store/errors';
import { openStore } from '../src/store/store';
import { previousCanonicalJson, previousCid, writePreviousStore } from './fixtures/previous-store';
import { useTempDirs } from './store-helpers';

const FIXTURE = path.join(__dirname, 'fixtures', 'store-before-directory-cids');
const OPEN_STORE = path.join(__dirname, 'fixtures', 'open-store.ts');
const REPO_ROOT = path.resolve(__dirname, '../..');

interface ManifestReferrer {
  readonly cid: string;
  readonly type: string;
  readonly annotations: Record<string, string>;
  readonly createdAt: string;
  readonly data: JsonObject;
}
interface ManifestEntry {
  readonly cid: string;
  readonly record: JsonObject;
  readonly referrers: ManifestReferrer[];
}

const newDir = useTempDirs();

async function manifest(): Promise<ManifestEntry[]> {
  return JSON.parse(await readFile(path.join(FIXTURE, 'manifest.json'), 'utf8')) as ManifestEntry[];
}

async function previousStoreCopy(): Promise<string> {
  const root = await newDir();
  await cp(path.join(FIXTURE, 'store'), root, { recursive: true });
  return root;
}

async function listing(root: string): Promise<Record<string, string[]>> {
  const out: Record<string, string[]> = {};
  for (const dir of ['records', 'referrers', 'legacy-cids']) {
    // The previous code had no legacy-cids directory.
    out[dir] = (await readdir(path.join(root, dir)).catch(() => [])).sort();
  }
  for (const record of out.referrers ?? []) out[`referrers/${record}`] = (await readdir(path.join(root, 'referrers', record))).sort();
  return out;
}

describe('store migration to Directory CIDs', () => {
  it('the test-only previous algorithm reproduces the store the previous code wrote', async () => {
    const root = await newDir();
    const entries = await manifest();
    const cids = await writePreviousStore(root, entries.map(({ record, referrers }) => ({ record, referrers })));
    expect(cids).toEqual(entries.map((entry) => entry.cid));
    expect(await listing(root)).toEqual(await listing(path.join(FIXTURE, 'store')));
  });

  it('serves every record under its Directory CID and its previous CID, with its referrers', async () => {
    const root = await previousStoreCopy();
    const entries = await manifest();
    const store = await openStore(root);
    for (const { cid: previous, record, referrers } of entries) {
      const cid = objectCid(record);
      expect(await store.records.get(cid)).toEqual(record);
      expect(await store.records.get(previous)).toEqual(record);
      expect((await store.records.meta(previous)).cid).toBe(cid);
      const moved = await store.records.referrers(previous);
      expect(moved.map(({ type, annotations, createdAt, data }) => ({ type, annotations, createdAt, data }))).toEqual(
        referrers
          .map(({ type, annotations, createdAt, data }) => ({ type, annotations, createdAt, data }))
          .sort((a, b) => a.createdAt.localeCompare(b.createdAt)),
      );
      expect(moved.every((referrer) => referrer.recordCid === cid)).toBe(true);
      expect(await store.records.referrers(cid)).toEqual(moved);
    }
    const expected = entries.map((entry) => objectCid(entry.record)).sort();
    const after = await listing(root);
    expect(after.records).toEqual(expected);
    expect(after['legacy-cids']).toEqual(entries.map((entry) => entry.cid).sort());
    expect(after.referrers).toEqual(entries.filter((entry) => entry.referrers.length > 0).map((entry) => objectCid(entry.record)).sort());
  });

  it('pushing a migrated record again stores nothing new; reopening changes nothing', async () => {
    const root = await previousStoreCopy();
    const entries = await manifest();
    const store = await openStore(root);
    const before = await listing(root);
    for (const { record } of entries) expect(await store.records.put(record)).toBe(objectCid(record));
    await openStore(root);
    expect(await listing(root)).toEqual(before);
  });

  it("answers a previous referrer CID with INVALID_ARGUMENT that says where referrers went", async () => {
    const store = await openStore(await previousStoreCopy());
    const [entry] = await manifest();
    const error = await store.records.referrers(entry!.cid, { cid: entry!.referrers[0]!.cid }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StoreError);
    expect((error as StoreError).reason).toBe('invalid-argument');
    expect((error as StoreError).message).toContain("has codec 0x200; Directory objects use the raw codec (0x1); referrers were renamed");
  });

  it('a previous CID that named no record is NOT_FOUND; a damaged alias is reported, not followed', async () => {
    const root = await previousStoreCopy();
    const store = await openStore(root);
    const unknown = previousCid({ never: 'stored' });
    await expect(store.records.get(unknown)).rejects.toMatchObject({ reason: 'not-found', message: `record ${unknown} not found` });
    const [entry] = await manifest();
    await writeFile(path.join(root, 'legacy-cids', entry!.cid), '../../etc/passwd');
    await expect(store.records.get(entry!.cid)).rejects.toMatchObject({ reason: 'corrupt' });
  });

  it('leaves a legacy record file that does not hash to its name where it is, unserved', async () => {
    const root = await newDir();
    const [cid] = await writePreviousStore(root, [{ record: { name: 'damaged' }, referrers: [] }]);
    await writeFile(path.join(root, 'records', cid!), previousCanonicalJson({ name: 'tampered' }));
    const store = await openStore(root);
    expect((await listing(root)).records).toEqual([cid]);
    await expect(store.records.get(cid!)).rejects.toMatchObject({ reason: 'not-found' });
    await expect(store.records.get(objectCid({ name: 'tampered' }))).rejects.toMatchObject({ reason: 'not-found' });
  });

  it('after kill -9 at any point of the migration, the next open finishes it and nothing is lost', async () => {
    const root = await newDir();
    const entries = Array.from({ length: 150 }, (_, i) => ({
      record: { name: `record-${i}`, description: `<${i}> & ${'\u{1f600}'.repeat(i % 3)}`, '\ufb33': i, '\u{1f600}': -(i + 1) / 8 },
      referrers: [{ type: 'note', annotations: { i: String(i) }, createdAt: '2026-01-01T00:00:00Z', data: { i, text: '<&>' } }],
    }));
    const previous = await writePreviousStore(root, entries);
    const killedAt: number[] = [];
    for (const killAfter of [10, 60, 110]) {
      const run = await openUntilMigrated(root, killAfter);
      expect(run.signal, run.stderr).toBe('SIGKILL');
      killedAt.push(run.aliases);
      // On disk, each record is under its previous name, its new one, or both: none is lost.
      const records = new Set(await readdir(path.join(root, 'records')));
      for (const [i, { record }] of entries.entries()) expect(records.has(previous[i]!) || records.has(objectCid(record)), `record ${i}`).toBe(true);
    }
    expect(killedAt.every((count, i) => count < entries.length && (i === 0 || count >= (killedAt[i - 1] ?? 0)))).toBe(true);

    const store = await openStore(root);
    for (const [i, { record, referrers }] of entries.entries()) {
      expect(await store.records.get(previous[i]!)).toEqual(record);
      expect((await store.records.referrers(objectCid(record))).map((r) => r.data)).toEqual(referrers.map((r) => r.data));
    }
    const after = await listing(root);
    expect(after.records).toEqual(entries.map(({ record }) => objectCid(record)).sort());
    expect(after.referrers).toHaveLength(entries.length);
    expect(Object.values(after).flat().filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  }, 120_000);
});

/** Opens the store in a child process and SIGKILLs it once `killAfter` records have their alias. */
function openUntilMigrated(root: string, killAfter: number): Promise<{ signal: NodeJS.Signals | null; stderr: string; aliases: number }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', OPEN_STORE, root], { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let aliases = 0;
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    const poll = setInterval(() => {
      readdir(path.join(root, 'legacy-cids')).then(
        (names) => {
          aliases = names.filter((name) => !name.startsWith('.tmp-')).length;
          if (aliases >= killAfter) child.kill('SIGKILL');
        },
        () => undefined,
      );
    }, 2);
    child.on('error', reject);
    child.on('close', (_code, signal) => {
      clearInterval(poll);
      resolve({ signal, stderr, aliases });
    });
  });
}
