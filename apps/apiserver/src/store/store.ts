/**
 * The embedded directory store: one directory on local disk, no server.
 *
 *   <root>/records/     records by CID
 *   <root>/referrers/   referrers, one directory per record
 *   <root>/syncs/       sync operations
 *   <root>/legacy-cids/ previous dirtk record CIDs and the Directory CIDs they now stand for
 *   <root>/referrer-envelope  the form every stored referrer has (referrer-envelope-migration.ts)
 *
 * With the records in an OCI registry (`records` option), the root holds the syncs only.
 *
 * One process owns a root at a time. Opening migrates records still named by previous dirtk CIDs
 * (legacy-migration.ts) and referrers stored in the previous envelope form, and removes what an
 * interrupted write, delete or migration left behind: temporary files, and referrers of records that
 * no longer exist.
 */
import { readdir, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureDirectory, fileExists, isTempFile, removeTempFiles } from './durable-fs';
import { migrateLegacyRecords } from './legacy-migration';
import { migrateReferrerEnvelopes } from './referrer-envelope-migration';
import { RecordStore } from './records';
import type { Records } from './records-api';
import { SyncStore } from './syncs';

export interface Store {
  readonly root: string;
  readonly records: Records;
  readonly syncs: SyncStore;
}

export interface OpenStoreOptions {
  /** Clock for the timestamps the store assigns. */
  readonly now?: () => Date;
  /** Records kept elsewhere (the OCI registry store); the root then holds the syncs only. @default records on disk under the root */
  readonly records?: Records;
}

export async function openStore(root: string, options: OpenStoreOptions = {}): Promise<Store> {
  const now = options.now ?? (() => new Date());
  const syncsDir = path.join(root, 'syncs');
  if (options.records) {
    await ensureDirectory(syncsDir);
    await removeTempFiles(syncsDir);
    return { root, records: options.records, syncs: new SyncStore(syncsDir, now) };
  }
  const dirs = {
    records: path.join(root, 'records'),
    referrers: path.join(root, 'referrers'),
    syncs: syncsDir,
    legacyCids: path.join(root, 'legacy-cids'),
  };
  for (const dir of Object.values(dirs)) {
    await ensureDirectory(dir);
    await removeTempFiles(dir);
  }
  await migrateLegacyRecords(dirs);
  await sweepReferrers(dirs.referrers, dirs.records);
  await migrateReferrerEnvelopes(root, dirs.referrers);
  return { root, records: new RecordStore(dirs, now), syncs: new SyncStore(dirs.syncs, now) };
}

async function sweepReferrers(referrersDir: string, recordsDir: string): Promise<void> {
  for (const name of await readdir(referrersDir)) {
    const dir = path.join(referrersDir, name);
    if (isTempFile(name) || !(await fileExists(path.join(recordsDir, name)))) {
      await rm(dir, { recursive: true, force: true });
    } else {
      await removeTempFiles(dir);
    }
  }
}
