/**
 * Records and their referrers, content-addressed on disk.
 *
 *   <records dir>/<record cid>                      the record's canonical JSON
 *   <referrers dir>/<record cid>/<referrer cid>     a referrer envelope's canonical JSON
 *   <legacy-cids dir>/<previous record cid>         the record's CID (see legacy-migration.ts)
 *
 * CIDs are the Directory's (@dirtk/directory-api/cid). Every record and referrer file is named by
 * the CID of its own bytes and is re-hashed on read, so a damaged file is reported, never served.
 * A record's previous dirtk CID (codec 0x200) still names it, through its alias. Writes are atomic
 * (see durable-fs.ts); operations that change one record or its referrers run one at a time per record.
 */
import { readdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import { ensureDirectory, fileExists, isTempFile, removeFileDurably, writeFileAtomic } from './durable-fs';
import { cidOf, codecOfCid, isJsonObject, type JsonObject, LEGACY_JSON_CODEC, parseCid, RAW_CODEC } from '@dirtk/directory-api/cid';
import { StoreError } from './errors';
import { KeyedLock } from './keyed-lock';
import type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from './records-api';
import {
  checkReferrerCid,
  codecMismatch,
  encodeReferrer,
  encodeStoredObject,
  notFound,
  oldestFirst,
  referrerFromEnvelope,
  referrerNotFound,
  toReferrer,
} from './stored-objects';


export type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from './records-api';

export interface RecordStoreDirectories {
  readonly records: string;
  readonly referrers: string;
  readonly legacyCids: string;
}

/** The filesystem implementation of `Records`, the default. */
export class RecordStore implements Records {
  private readonly lock = new KeyedLock();

  constructor(private readonly dirs: RecordStoreDirectories, private readonly now: () => Date) {}

  /** Stores a record (idempotently) and returns its CID. */
  async put(data: JsonObject): Promise<string> {
    if (Object.keys(data).length === 0) throw new StoreError('invalid-argument', 'record data is empty: a record needs at least one field');
    const bytes = encodeStoredObject(data, 'record');
    const cid = cidOf(bytes);
    await this.lock.run(cid, async () => {
      const file = this.recordFile(cid);
      if (!(await fileExists(file))) await writeFileAtomic(file, bytes);
    });
    return cid;
  }

  async get(cid: string): Promise<JsonObject> {
    const current = await this.resolve(cid);
    return readVerified(this.recordFile(current), current, `record ${cid}`);
  }

  /** The record's metadata; its `cid` is the record's Directory CID, also when asked by its previous CID. */
  async meta(cid: string): Promise<RecordMeta> {
    const current = await this.resolve(cid);
    const data = await this.get(current);
    const annotations = isJsonObject(data.annotations)
      ? Object.fromEntries(Object.entries(data.annotations).filter((entry): entry is [string, string] => typeof entry[1] === 'string'))
      : {};
    return {
      cid: current,
      annotations,
      schemaVersion: typeof data.schema_version === 'string' ? data.schema_version : '',
      createdAt: typeof data.created_at === 'string' ? data.created_at : '',
    };
  }

  /** Deletes a record and its referrers. */
  async delete(requested: string): Promise<void> {
    const cid = await this.resolve(requested);
    await this.lock.run(cid, async () => {
      // The record file is the commit point; referrers left by a crash right after it are swept at open.
      if (!(await removeFileDurably(this.recordFile(cid)))) throw notFound(`record ${cid}`);
      await rm(this.referrerDir(cid), { recursive: true, force: true });
    });
  }

  async putReferrer(requestedRecordCid: string, input: ReferrerInput): Promise<Referrer> {
    const recordCid = await this.resolve(requestedRecordCid);
    const { cid, bytes, envelope } = encodeReferrer(recordCid, input, this.now);
    await this.lock.run(recordCid, async () => {
      await this.requireRecord(recordCid);
      await ensureDirectory(this.referrerDir(recordCid));
      const file = path.join(this.referrerDir(recordCid), cid);
      if (!(await fileExists(file))) await writeFileAtomic(file, bytes);
    });
    return toReferrer(cid, envelope);
  }

  /** The record's referrers matching `filter`, oldest first. A filter naming one CID that does not match is NOT_FOUND. */
  async referrers(requestedRecordCid: string, filter: ReferrerFilter = {}): Promise<Referrer[]> {
    const recordCid = await this.resolve(requestedRecordCid);
    await this.requireRecord(recordCid);
    if (filter.cid !== undefined) {
      checkReferrerCid(filter.cid);
      const referrer = await this.readReferrer(recordCid, filter.cid);
      if (filter.type !== undefined && referrer.type !== filter.type) throw referrerNotFound(filter.cid, filter.type, recordCid);
      return [referrer];
    }
    const names = await readdir(this.referrerDir(recordCid)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const all = await Promise.all(names.filter((name) => !isTempFile(name)).map((name) => this.readReferrer(recordCid, name)));
    return oldestFirst(all, filter);
  }

  /** Deletes the record's referrers matching `filter` and returns their CIDs. */
  async deleteReferrers(requestedRecordCid: string, filter: ReferrerFilter = {}): Promise<string[]> {
    const recordCid = await this.resolve(requestedRecordCid);
    return this.lock.run(recordCid, async () => {
      const doomed = await this.referrers(recordCid, filter);
      for (const referrer of doomed) await removeFileDurably(path.join(this.referrerDir(recordCid), referrer.cid));
      return doomed.map((referrer) => referrer.cid);
    });
  }

  /**
   * The Directory CID that `cid` names: itself, or for a previous dirtk CID the one its alias
   * holds. Malformed CIDs (which also keeps every file name inside its directory) and CIDs of
   * other codecs are invalid arguments.
   */
  private async resolve(cid: string): Promise<string> {
    const { codec } = parseCid(cid);
    if (codec === RAW_CODEC) return cid;
    if (codec !== LEGACY_JSON_CODEC) throw new StoreError('invalid-argument', codecMismatch(cid, codec));
    let alias: string;
    try {
      alias = await readFile(path.join(this.dirs.legacyCids, cid), 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(`record ${cid}`);
      throw error;
    }
    if (codecOfCid(alias) !== RAW_CODEC) throw new StoreError('corrupt', `the alias of record ${cid} is damaged on disk (${JSON.stringify(alias)} is not a Directory CID)`);
    return alias;
  }

  private async requireRecord(cid: string): Promise<void> {
    if (!(await fileExists(this.recordFile(cid)))) throw notFound(`record ${cid}`);
  }

  private async readReferrer(recordCid: string, cid: string): Promise<Referrer> {
    const what = `referrer ${cid} of record ${recordCid}`;
    return referrerFromEnvelope(cid, await readVerified(path.join(this.referrerDir(recordCid), cid), cid, what), recordCid, what);
  }

  private recordFile(cid: string): string {
    return path.join(this.dirs.records, cid);
  }

  private referrerDir(recordCid: string): string {
    return path.join(this.dirs.referrers, recordCid);
  }
}

async function readVerified(file: string, cid: string, what: string): Promise<JsonObject> {
  let bytes: Buffer;
  try {
    bytes = await readFile(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(what);
    throw error;
  }
  const actual = cidOf(bytes);
  if (actual !== cid) throw new StoreError('corrupt', `${what} is damaged on disk (${file} hashes to ${actual})`);
  const value: unknown = JSON.parse(bytes.toString('utf8'));
  if (!isJsonObject(value)) throw new StoreError('corrupt', `${what} on disk is not a JSON object`);
  return value;
}
