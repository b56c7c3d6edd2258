/**
 * Rewrites referrers stored before their envelope took the Directory's `RecordReferrer` form
 * (`record_cid: <cid>` became `record_ref: {cid}`; see stored-objects.ts), once, when the store opens.
 *
 * Why: a referrer envelope is also the blob of a referrer in a registry, which the Directory reads with
 * protojson, and protojson refuses the unknown `record_cid`. A referrer's CID is the CID of its
 * envelope, so each migrated referrer is renamed; its old CID is not aliased (list the record's
 * referrers for the new ones), as with the record migration (legacy-migration.ts).
 *
 * Crash safety: per referrer, the new file is written (atomically, skipped when already there) before
 * the old one is removed, so a crash leaves at most both, and the next open finishes the job. The
 * store's format file is written once every referrer has the new form; until then each open scans the
 * referrers again. A file that does not hash to its name is damaged: it is left where it is, and
 * reading it reports it.
 */
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { canonicalJsonBytes, cidOf, codecOfCid, isJsonObject, type JsonObject, RAW_CODEC } from '@dirtk/directory-api/cid';
import { fileExists, removeFileDurably, writeFileAtomic } from './durable-fs';

/** `<root>/<FORMAT_FILE>` names the referrer envelope form every stored referrer has. */
export const FORMAT_FILE = 'referrer-envelope';
const CURRENT_FORM = 'record_ref\n';

/** Migrates every referrer under `referrersDir` still in the `record_cid` form; returns how many it migrated. */
export async function migrateReferrerEnvelopes(root: string, referrersDir: string): Promise<number> {
  const formatFile = path.join(root, FORMAT_FILE);
  if ((await readFile(formatFile, 'utf8').catch(() => undefined)) === CURRENT_FORM) return 0;
  let migrated = 0;
  // Runs after the open's sweep: every folder here is a stored record's.
  for (const record of await readdir(referrersDir)) {
    const dir = path.join(referrersDir, record);
    for (const name of await readdir(dir)) {
      if (codecOfCid(name) === RAW_CODEC && (await migrateReferrer(dir, name))) migrated++;
    }
  }
  await writeFileAtomic(formatFile, Buffer.from(CURRENT_FORM, 'utf8'));
  return migrated;
}

/** A referrer envelope of the previous form (`record_cid`) in today's, naming the record `recordCid`. */
export function inDirectoryForm(previous: JsonObject, recordCid: string): JsonObject {
  const { record_cid: _previousRecordCid, ...rest } = previous;
  return { ...rest, record_ref: { cid: recordCid } };
}

async function migrateReferrer(dir: string, cid: string): Promise<boolean> {
  const file = path.join(dir, cid);
  const bytes = await readFile(file);
  if (cidOf(bytes) !== cid) return false;
  const envelope: unknown = JSON.parse(bytes.toString('utf8'));
  if (!isJsonObject(envelope) || typeof envelope['record_cid'] !== 'string') return false;
  const moved = canonicalJsonBytes(inDirectoryForm(envelope, envelope['record_cid']));
  const movedFile = path.join(dir, cidOf(moved));
  if (!(await fileExists(movedFile))) await writeFileAtomic(movedFile, moved);
  await removeFileDurably(file);
  return true;
}
