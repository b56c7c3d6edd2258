/**
 * Canonical JSON, the bytes a Directory record's CID is computed over, as the AGNTCY Directory
 * computes them (agntcy/dir api/core/v1 Record.Marshal): the record's Struct through protojson and
 * Go's encoding/json, unmarshalled into a generic value and marshalled again. For JSON data that
 * comes to: object keys sorted byte-wise over their UTF-8 (Go sorts map keys with strings.Compare,
 * which is code point order, not JavaScript's UTF-16 order), no insignificant whitespace, strings
 * escaped as encoding/json does (go-json-string.ts), numbers as float64 in encoding/json's form
 * (go-json-number.ts). The text is meant to be encoded as UTF-8, which turns a lone surrogate into
 * U+FFFD as Go does with invalid UTF-8. Refused: numbers that JSON cannot hold (protojson errors on
 * NaN and the infinities) and two keys of one object that are the same once lone surrogates are
 * replaced (the Directory would keep only one of them).
 */
import { goJsonNumber } from './go-json-number';
import { goJsonString } from './go-json-string';

export type JsonValue = null | boolean | number | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export class CanonicalJsonError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'CanonicalJsonError';
  }
}

export function canonicalJson(value: JsonValue, path = '$'): string {
  if (value === null || typeof value === 'boolean') return JSON.stringify(value);
  if (typeof value === 'string') return goJsonString(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new CanonicalJsonError(path, `${value} is not a JSON number`);
    return goJsonNumber(value);
  }
  if (Array.isArray(value)) return `[${value.map((item, i) => canonicalJson(item, `${path}[${i}]`)).join(',')}]`;
  if (isJsonObject(value)) {
    const keys = Object.keys(value)
      .map((key) => ({ key, utf8: Buffer.from(key, 'utf8') }))
      .sort((a, b) => Buffer.compare(a.utf8, b.utf8));
    keys.forEach(({ key, utf8 }, i) => {
      const previous = keys[i - 1];
      if (previous?.utf8.equals(utf8)) {
        throw new CanonicalJsonError(path, `keys ${JSON.stringify(previous.key)} and ${JSON.stringify(key)} are the same in UTF-8 (a lone surrogate becomes U+FFFD)`);
      }
    });
    const members = keys.map(({ key }) => `${goJsonString(key)}:${canonicalJson(value[key] as JsonValue, `${path}.${key}`)}`);
    return `{${members.join(',')}}`;
  }
  throw new CanonicalJsonError(path, `a ${typeof value} is not a JSON value`);
}

export function isJsonObject(value: unknown): value is JsonObject {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}
