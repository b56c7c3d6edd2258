/**
 * What the services need of a record store: records by Directory CID (`@dirtk/directory-api/cid`)
 * and their referrers. Implemented on local disk (`records.ts`, the default) and on an OCI registry
 * (`oci/oci-records.ts`). Failures a caller can act on are `StoreError`s (errors.ts).
 */
import type { JsonObject } from '@dirtk/directory-api/cid';

export interface RecordMeta {
  readonly cid: string;
  /** The record's own `annotations` object, string values only. */
  readonly annotations: Readonly<Record<string, string>>;
  /** The record's `schema_version`, or '' when it has none. */
  readonly schemaVersion: string;
  /** The record's `created_at`, or '' when it has none. */
  readonly createdAt: string;
}

export interface ReferrerInput {
  readonly type: string;
  readonly annotations: Readonly<Record<string, string>>;
  /** RFC 3339; '' stores the current time. */
  readonly createdAt: string;
  readonly data: JsonObject;
}

export interface Referrer extends ReferrerInput {
  readonly cid: string;
  readonly recordCid: string;
}

/** Selects referrers of one record; an empty filter selects all of them. */
export interface ReferrerFilter {
  readonly type?: string;
  readonly cid?: string;
}

export interface Records {
  /** Stores a record (idempotently) and returns its CID. */
  put(data: JsonObject): Promise<string>;
  /** The record, verified against its CID. */
  get(cid: string): Promise<JsonObject>;
  /** The record's metadata; its `cid` is the record's Directory CID. */
  meta(cid: string): Promise<RecordMeta>;
  /** Deletes a record and its referrers. */
  delete(cid: string): Promise<void>;
  putReferrer(recordCid: string, input: ReferrerInput): Promise<Referrer>;
  /** The record's referrers matching `filter`, oldest first. A filter naming one CID that does not match is NOT_FOUND. */
  referrers(recordCid: string, filter?: ReferrerFilter): Promise<Referrer[]>;
  /** Deletes the record's referrers matching `filter` and returns their CIDs. */
  deleteReferrers(recordCid: string, filter?: ReferrerFilter): Promise<string[]>;
}
