/**
 * `google.protobuf.Struct` ↔ JSON. Decoding is strict: a Value without a kind, a number that JSON
 * cannot hold, or nesting deeper than MAX_DEPTH is an error naming the path, never silently null.
 */
import type { JsonObject, JsonValue } from '../store/canonical-json';
import type { StructMessage, ValueMessage } from './messages';

/** Deeper than any OASF record; bounds recursion on untrusted input. */
export const MAX_DEPTH = 64;

export class StructError extends Error {
  constructor(readonly path: string, reason: string) {
    super(`${path}: ${reason}`);
    this.name = 'StructError';
  }
}

/** Decodes a required Struct field named `path` (e.g. `record.data`). */
export function structToJson(struct: StructMessage | null | undefined, path: string): JsonObject {
  if (!struct) throw new StructError(path, 'missing');
  return fieldsToJson(struct, path, 1);
}

export function jsonToStruct(object: JsonObject): StructMessage {
  return { fields: Object.fromEntries(Object.entries(object).map(([key, value]) => [key, jsonToValue(value)])) };
}

function fieldsToJson(struct: StructMessage, path: string, depth: number): JsonObject {
  if (depth > MAX_DEPTH) throw new StructError(path, `nested deeper than ${MAX_DEPTH} levels`);
  // A null prototype keeps a "__proto__" key an ordinary member.
  const out = Object.create(null) as JsonObject;
  for (const [key, value] of Object.entries(struct.fields)) out[key] = valueToJson(value, `${path}.${key}`, depth);
  return out;
}

function valueToJson(value: ValueMessage, path: string, depth: number): JsonValue {
  switch (value.kind) {
    case 'nullValue':
      return null;
    case 'boolValue':
      return value.boolValue ?? false;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'numberValue': {
      const number = value.numberValue ?? 0;
      if (!Number.isFinite(number)) throw new StructError(path, `${number} is not a JSON number`);
      return number;
    }
    case 'structValue':
      return fieldsToJson(value.structValue ?? { fields: {} }, path, depth + 1);
    case 'listValue':
      if (depth + 1 > MAX_DEPTH) throw new StructError(path, `nested deeper than ${MAX_DEPTH} levels`);
      return (value.listValue?.values ?? []).map((item, i) => valueToJson(item, `${path}[${i}]`, depth + 1));
    default:
      throw new StructError(path, 'value has no kind (set one of null, number, string, bool, struct or list)');
  }
}

function jsonToValue(value: JsonValue): ValueMessage {
  if (value === null) return { nullValue: 'NULL_VALUE' };
  if (typeof value === 'boolean') return { boolValue: value };
  if (typeof value === 'number') return { numberValue: value };
  if (typeof value === 'string') return { stringValue: value };
  if (Array.isArray(value)) return { listValue: { values: value.map(jsonToValue) } };
  return { structValue: jsonToStruct(value) };
}
