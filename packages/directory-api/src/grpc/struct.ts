/**
 * The JSON in a `google.protobuf.Struct` field. The generated decoder hands such a field over as a
 * plain object of unchecked values; `structToJson` is the strict check: a Value without a kind, a
 * number that JSON cannot hold, or nesting deeper than MAX_DEPTH is an error naming the path, never
 * silently null. Encoding needs no help: a JsonObject is what the generated encoder takes.
 */
import type { JsonObject, JsonValue } from '../cid/canonical-json';

/** A Struct field as the generated code types it: a Value without a kind decodes to `undefined`. */
export type StructData = { readonly [key: string]: unknown };

/**
 * Deeper than any OASF record; bounds recursion on untrusted input. The generated decoder stops at
 * 100 nested messages, three per JSON level (Struct, map entry, Value), so a referrer's data can
 * nest 32 levels before the decoder itself fails, with a less helpful error than this check's.
 */
export const MAX_DEPTH = 32;

export class StructError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'StructError';
  }
}

/** Checks a required Struct field named `path` (e.g. `record.data`) and returns it as JSON. */
export function structToJson(struct: StructData | undefined, path: string): JsonObject {
  if (!struct) throw new StructError(path, 'missing');
  return objectToJson(struct, path, 1);
}

function objectToJson(struct: StructData, path: string, depth: number): JsonObject {
  if (depth > MAX_DEPTH) throw new StructError(path, `nested deeper than ${MAX_DEPTH} levels`);
  // A null prototype keeps a "__proto__" key an ordinary member.
  const out: JsonObject = Object.create(null);
  for (const [key, value] of Object.entries(struct)) out[key] = valueToJson(value, `${path}.${key}`, depth);
  return out;
}

function valueToJson(value: unknown, path: string, depth: number): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return value;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new StructError(path, `${value} is not a JSON number`);
    return value;
  }
  if (Array.isArray(value)) {
    if (depth + 1 > MAX_DEPTH) throw new StructError(path, `nested deeper than ${MAX_DEPTH} levels`);
    return value.map((item: unknown, i) => valueToJson(item, `${path}[${i}]`, depth + 1));
  }
  if (isStructData(value)) return objectToJson(value, path, depth + 1);
  throw new StructError(path, 'value has no kind (set one of null, number, string, bool, struct or list)');
}

function isStructData(value: unknown): value is StructData {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
