/**
 * The CID of a JSON object (a record's data, a referrer envelope): sha2-256 of its canonical JSON
 * as UTF-8, CIDv1 with the raw codec; for a record, exactly what agntcy/dir's Record.GetCid returns.
 */
import { canonicalJson, type JsonObject } from './canonical-json';
import { cidOf } from './cid';

export function canonicalJsonBytes(value: JsonObject): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function objectCid(value: JsonObject): string {
  return cidOf(canonicalJsonBytes(value));
}
