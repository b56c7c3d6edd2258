/**
 * What every record store keeps, and the rules they share, so that records and referrers behave
 * alike in each: a record and a referrer are stored as canonical JSON (size-limited), and a
 * referrer's CID is the CID of its envelope's canonical JSON, so a referrer has the same CID in
 * every store. Also: validating referrer input, checking envelopes read back, CID codecs,
 * filtering and ordering referrers (oldest first).
 */
import { canonicalJsonBytes, cidOf, isJsonObject, type JsonObject, LEGACY_JSON_CODEC, parseCid, RAW_CODEC } from '@dirtk/directory-api/cid';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { compareKeys } from './compare';
import { StoreError } from './errors';
import type { Referrer, ReferrerFilter, ReferrerInput } from './records-api';

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;

/**
 * The stored form of a referrer: the Directory's `RecordReferrer` in proto JSON, with the proto's field
 * names, which is what the Directory's OCI store writes as a referrer blob and reads back with protojson
 * (which refuses unknown fields). A type alias, so it is assignable to JsonObject.
 */
export type ReferrerEnvelope = {
  readonly annotations: Record<string, string>;
  readonly created_at: string;
  readonly data: JsonObject;
  readonly record_ref: { readonly cid: string };
  readonly type: string;
};

export interface EncodedReferrer {
  readonly cid: string;
  readonly bytes: Buffer;
  readonly envelope: ReferrerEnvelope;
}

/** Validates `input` and encodes its envelope; a referrer without `createdAt` is stamped with `now`. */
export function encodeReferrer(recordCid: string, input: ReferrerInput, now: () => Date): EncodedReferrer {
  if (input.type === '') throw new StoreError('invalid-argument', 'referrer type is empty: name what the referrer is, e.g. "agntcy.dir.sign.v1.Signature"');
  if (input.createdAt !== '' && !RFC3339.test(input.createdAt)) {
    throw new StoreError('invalid-argument', `referrer created_at ${JSON.stringify(input.createdAt)} is not an RFC 3339 timestamp`);
  }
  const envelope: ReferrerEnvelope = {
    annotations: { ...input.annotations },
    created_at: input.createdAt === '' ? now().toISOString() : input.createdAt,
    data: input.data,
    record_ref: { cid: recordCid },
    type: input.type,
  };
  const bytes = encodeStoredObject(envelope, 'referrer');
  return { cid: cidOf(bytes), bytes, envelope };
}

/** The referrer a stored envelope describes; anything else is corrupt. `what` names it in the error. */
export function referrerFromEnvelope(cid: string, stored: JsonObject, recordCid: string, what: string): Referrer {
  const { annotations, created_at: createdAt, data, record_ref: recordRef, type } = stored;
  if (
    typeof type !== 'string' ||
    typeof createdAt !== 'string' ||
    !isJsonObject(recordRef) ||
    recordRef['cid'] !== recordCid ||
    !isJsonObject(data) ||
    !isJsonObject(annotations) ||
    !Object.values(annotations).every((value) => typeof value === 'string')
  ) {
    throw new StoreError('corrupt', `${what} is not a referrer envelope`);
  }
  return toReferrer(cid, { annotations: annotations as Record<string, string>, created_at: createdAt, data, record_ref: { cid: recordCid }, type });
}

export function toReferrer(cid: string, envelope: ReferrerEnvelope): Referrer {
  return { cid, recordCid: envelope.record_ref.cid, type: envelope.type, annotations: envelope.annotations, createdAt: envelope.created_at, data: envelope.data };
}

/** `referrers` of one record narrowed by the filter's type, oldest first (ties by CID). */
export function oldestFirst(referrers: readonly Referrer[], filter: ReferrerFilter): Referrer[] {
  return referrers
    .filter((referrer) => filter.type === undefined || referrer.type === filter.type)
    .sort((a, b) => compareKeys([a.createdAt, a.cid], [b.createdAt, b.cid]));
}

export function referrerNotFound(cid: string, type: string | undefined, recordCid: string): StoreError {
  const what = type === undefined ? `referrer ${cid} of record ${recordCid}` : `referrer ${cid} of type ${JSON.stringify(type)} on record ${recordCid}`;
  return notFound(what);
}

/** Rejects malformed referrer CIDs (which also keeps every file name inside its directory) and codecs other than raw. */
export function checkReferrerCid(cid: string): void {
  const { codec } = parseCid(cid);
  if (codec === LEGACY_JSON_CODEC) {
    throw new StoreError('invalid-argument', `${codecMismatch(cid, codec)}; referrers were renamed when the store moved to Directory CIDs: list the record's referrers for their CIDs`);
  }
  if (codec !== RAW_CODEC) throw new StoreError('invalid-argument', codecMismatch(cid, codec));
}

export function codecMismatch(cid: string, codec: number): string {
  return `CID ${cid} has codec 0x${codec.toString(16)}; Directory objects use the raw codec (0x1)`;
}

/** The canonical JSON of a record or referrer, refused as too large beyond the Directory's limit. */
export function encodeStoredObject(value: JsonObject, what: string): Buffer {
  const bytes = canonicalJsonBytes(value);
  if (bytes.length > MAX_OBJECT_BYTES) {
    throw new StoreError('too-large', `${what} is ${bytes.length} bytes as canonical JSON; the limit is ${MAX_OBJECT_BYTES} bytes (4 MiB)`);
  }
  return bytes;
}

export function notFound(what: string): StoreError {
  return new StoreError('not-found', `${what} not found`);
}
