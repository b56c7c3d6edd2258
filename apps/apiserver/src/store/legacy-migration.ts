/**
 * Renames records stored under dirtk's previous CIDs (codec 0x200 over RFC 8785 canonical JSON)
 * to the Directory's CIDs (codec 0x01 over Go encoding/json canonical JSON; see
 * @dirtk/directory-api/cid), once, when the store opens.
 *
 * Why migrate rather than read both forms: the Directory's CID is what federated peers and the
 * real Directory compute and ask for, so every record must be reachable by it; reading both forms
 * would leave old records unreachable by their real CID and store a record twice when it is pushed
 * again. What clients hold keeps working: each migrated record leaves an alias,
 * `<legacy-cids dir>/<old cid>` holding its new CID, through which the store resolves old CIDs.
 * Referrers move with their record; their envelopes name the record's new CID (in today's envelope
 * form, stored-objects.ts), so their own CIDs change too (old referrer CIDs are not aliased: list the
 * record's referrers).
 *
 * Crash safety: per record, the new record file, its referrers and the alias are written
 * (atomically, each skipped when already there) before the old record file is removed; that
 * removal is the commit point. A crash before it leaves the old record in place and the next open
 * redoes the record, finding what was already written; a crash after it leaves at most the old
 * referrer directory, which the store's referrer sweep removes. A legacy file that does not hash
 * to its name is damaged: it is left where it is, unmigrated and unserved.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJsonBytes, cidOf, codecOfCid, isJsonObject, type JsonObject, LEGACY_JSON_CODEC } from '@dirtk/directory-api/cid';
import { ensureDirectory, fileExists, removeFileDurably, writeFileAtomic } from './durable-fs';
import { inDirectoryForm } from './referrer-envelope-migration';

export interface MigrationDirectories {
  readonly records: string;
  readonly referrers: string;
  readonly legacyCids: string;
}

/** Migrates every legacy record in `dirs.records`; returns how many it migrated. */
export async function migrateLegacyRecords(dirs: MigrationDirectories): Promise<number> {
  let migrated = 0;
  for (const name of await readdir(dirs.records)) {
    if (isLegacyCid(name) && (await migrateRecord(dirs, name))) migrated++;
  }
  return migrated;
}

function isLegacyCid(name: string): boolean {
  return codecOfCid(name) === LEGACY_JSON_CODEC;
}

async function migrateRecord(dirs: MigrationDirectories, legacyCid: string): Promise<boolean> {
  const oldFile = path.join(dirs.records, legacyCid);
  const record = await readLegacyObject(oldFile, legacyCid);
  if (!record) return false;
  const bytes = canonicalJsonBytes(record);
  const cid = cidOf(bytes);
  const newFile = path.join(dirs.records, cid);
  if (!(await fileExists(newFile))) await writeFileAtomic(newFile, bytes);

  const oldReferrers = path.join(dirs.referrers, legacyCid);
  const referrerNames = await readdir(oldReferrers).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return [];
    throw error;
  });
  if (referrerNames.length > 0) await ensureDirectory(path.join(dirs.referrers, cid));
  // Temporary files are not CIDs, so they are skipped here and removed by the open's sweep.
  for (const name of referrerNames.filter(isLegacyCid)) {
    const envelope = await readLegacyObject(path.join(oldReferrers, name), name);
    if (!envelope) continue;
    const moved = canonicalJsonBytes(inDirectoryForm(envelope, cid));
    const movedFile = path.join(dirs.referrers, cid, cidOf(moved));
    if (!(await fileExists(movedFile))) await writeFileAtomic(movedFile, moved);
  }

  const alias = path.join(dirs.legacyCids, legacyCid);
  if (!(await fileExists(alias))) await writeFileAtomic(alias, Buffer.from(cid, 'utf8'));
  await removeFileDurably(oldFile);
  await rm(oldReferrers, { recursive: true, force: true });
  return true;
}

/** The JSON object in a legacy file, or undefined when the file does not hash to its name. */
async function readLegacyObject(file: string, legacyCid: string): Promise<JsonObject | undefined> {
  const bytes = await readFile(file);
  if (cidOf(bytes, LEGACY_JSON_CODEC) !== legacyCid) return undefined;
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  return isJsonObject(value) ? value : undefined;
}
