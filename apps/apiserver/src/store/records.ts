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
import { canonicalJsonBytes, cidOf, codecOfCid, isJsonObject, type JsonObject, LEGACY_JSON_CODEC, parseCid, RAW_CODEC } from '@dirtk/directory-api/cid';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { compareKeys } from './compare';
import { StoreError } from './errors';
import { KeyedLock } from './keyed-lock';
import type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from './records-api';


export type { RecordMeta, Records, Referrer, ReferrerFilter, ReferrerInput } from './records-api';

export interface RecordStoreDirectories {
  readonly records: string;
  readonly referrers: string;
  readonly legacyCids: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/** The filesystem implementation of `Records`, the default. */
export class RecordStore implements Records {
  private readonly lock = new KeyedLock();

  constructor(private readonly dirs: RecordStoreDirectories, private readonly now: () => Date) {}

  /** Stores a record (idempotently) and returns its CID. */
  async put(data: JsonObject): Promise<string> {
    if (Object.keys(data).length === 0) throw new StoreError('invalid-argument', 'record data is empty: a record needs at least one field');
    const bytes = encode(data, 'record');
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
    if (input.type === '') throw new StoreError('invalid-argument', 'referrer type is empty: name what the referrer is, e.g. "agntcy.dir.sign.v1.Signature"');
    if (input.createdAt !== '' && !RFC3339.test(input.createdAt)) {
      throw new StoreError('invalid-argument', `referrer created_at ${JSON.stringify(input.createdAt)} is not an RFC 3339 timestamp`);
    }
    const envelope: ReferrerEnvelope = {
      annotations: { ...input.annotations },
      created_at: input.createdAt === '' ? this.now().toISOString() : input.createdAt,
      data: input.data,
      record_cid: recordCid,
      type: input.type,
    };
    const bytes = encode(envelope, 'referrer');
    const cid = cidOf(bytes);
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
      if (filter.type !== undefined && referrer.type !== filter.type) {
        throw notFound(`referrer ${filter.cid} of type ${JSON.stringify(filter.type)} on record ${recordCid}`);
      }
      return [referrer];
    }
    const names = await readdir(this.referrerDir(recordCid)).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return [];
      throw error;
    });
    const all = await Promise.all(names.filter((name) => !isTempFile(name)).map((name) => this.readReferrer(recordCid, name)));
    return all
      .filter((referrer) => filter.type === undefined || referrer.type === filter.type)
      .sort((a, b) => compareKeys([a.createdAt, a.cid], [b.createdAt, b.cid]));
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
    const envelope = await readVerified(path.join(this.referrerDir(recordCid), cid), cid, what);
    const { annotations, created_at: createdAt, data, record_cid: storedRecordCid, type } = envelope;
    if (
      typeof type !== 'string' ||
      typeof createdAt !== 'string' ||
      storedRecordCid !== recordCid ||
      !isJsonObject(data) ||
      !isJsonObject(annotations) ||
      !Object.values(annotations).every((value) => typeof value === 'string')
    ) {
      throw new StoreError('corrupt', `${what} is not a referrer envelope`);
    }
    return toReferrer(cid, { annotations: annotations as Record<string, string>, created_at: createdAt, data, record_cid: recordCid, type });
  }

  private recordFile(cid: string): string {
    return path.join(this.dirs.records, cid);
  }

  private referrerDir(recordCid: string): string {
    return path.join(this.dirs.referrers, recordCid);
  }
}

/** What a referrer file holds (a type alias, so it is assignable to JsonObject). */
type ReferrerEnvelope = {
  readonly annotations: Record<string, string>;
  readonly created_at: string;
  readonly data: JsonObject;
  readonly record_cid: string;
  readonly type: string;
};

function toReferrer(cid: string, envelope: ReferrerEnvelope): Referrer {
  return { cid, recordCid: envelope.record_cid, type: envelope.type, annotations: envelope.annotations, createdAt: envelope.created_at, data: envelope.data };
}

/** Rejects malformed referrer CIDs (which also keeps every file name inside its directory) and codecs other than raw. */
function checkReferrerCid(cid: string): void {
  const { codec } = parseCid(cid);
  if (codec === LEGACY_JSON_CODEC) {
    throw new StoreError('invalid-argument', `${codecMismatch(cid, codec)}; referrers were renamed when the store moved to Directory CIDs: list the record's referrers for their CIDs`);
  }
  if (codec !== RAW_CODEC) throw new StoreError('invalid-argument', codecMismatch(cid, codec));
}

function codecMismatch(cid: string, codec: number): string {
  return `CID ${cid} has codec 0x${codec.toString(16)}; Directory objects use the raw codec (0x1)`;
}

function encode(value: JsonObject, what: string): Buffer {
  const bytes = canonicalJsonBytes(value);
  if (bytes.length > MAX_OBJECT_BYTES) {
    throw new StoreError('too-large', `${what} is ${bytes.length} bytes as canonical JSON; the limit is ${MAX_OBJECT_BYTES} bytes (4 MiB)`);
  }
  return bytes;
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

function notFound(what: string): StoreError {
  return new StoreError('not-found', `${what} not found`);
}
