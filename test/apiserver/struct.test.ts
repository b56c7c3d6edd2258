import { describe, expect, it } from 'vitest';
import type { StructMessage, ValueMessage } from '../../apps/apiserver/src/api/messages';
import { jsonToStruct, MAX_DEPTH, StructError, structToJson } from '../../apps/apiserver/src/api/struct';
import { canonicalJson, type JsonObject } from '../../apps/apiserver/src/store/canonical-json';

/** What proto-loader produces on decode: every Value carries `kind`. */
function decoded(struct: StructMessage): StructMessage {
  const value = (v: ValueMessage): ValueMessage => {
    const kind = (Object.keys(v) as (keyof ValueMessage)[]).find((key) => key !== 'kind') as ValueMessage['kind'];
    if (kind === 'structValue') return { kind, structValue: decoded(v.structValue as StructMessage) };
    if (kind === 'listValue') return { kind, listValue: { values: (v.listValue?.values ?? []).map(value) } };
    return { ...v, kind };
  };
  return { fields: Object.fromEntries(Object.entries(struct.fields).map(([k, v]) => [k, value(v)])) };
}

describe('Struct <-> JSON', () => {
  it('round-trips every JSON type', () => {
    const json: JsonObject = { s: 'x', n: -1.5, z: 0, t: true, f: false, nil: null, list: [1, 'two', [3], { four: 4 }], obj: { nested: { empty: {} } }, empty: [] };
    expect(structToJson(decoded(jsonToStruct(json)), 'data')).toEqual(json);
  });

  it('keeps a "__proto__" key as an ordinary member', () => {
    const json = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as JsonObject;
    const back = structToJson(decoded(jsonToStruct(json)), 'data');
    expect(canonicalJson(back)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each<[string, StructMessage | null, string]>([
    ['a missing struct', null, 'record.data: missing'],
    ['a value without kind', { fields: { a: { kind: 'structValue', structValue: { fields: { b: {} } } } } }, 'record.data.a.b: value has no kind'],
    ['NaN', { fields: { n: { kind: 'numberValue', numberValue: NaN } } }, 'record.data.n: NaN is not a JSON number'],
    ['-Infinity in a list', { fields: { l: { kind: 'listValue', listValue: { values: [{ kind: 'numberValue', numberValue: -Infinity }] } } } }, 'record.data.l[0]: -Infinity'],
  ])('rejects %s, naming the path', (_label, struct, message) => {
    expect(() => structToJson(struct, 'record.data')).toThrow(StructError);
    expect(() => structToJson(struct, 'record.data')).toThrow(message);
  });

  it(`accepts nesting up to ${MAX_DEPTH} levels and rejects deeper`, () => {
    const nest = (levels: number): JsonObject => (levels === 1 ? { leaf: 1 } : { d: nest(levels - 1) });
    expect(structToJson(decoded(jsonToStruct(nest(MAX_DEPTH))), 'data')).toEqual(nest(MAX_DEPTH));
    expect(() => structToJson(decoded(jsonToStruct(nest(MAX_DEPTH + 1))), 'data')).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
    const nestLists = (levels: number): JsonObject => {
      let value: unknown = 1;
      for (let i = 1; i < levels; i++) value = [value];
      return { l: value } as JsonObject;
    };
    expect(() => structToJson(decoded(jsonToStruct(nestLists(MAX_DEPTH))), 'data')).not.toThrow();
    expect(() => structToJson(decoded(jsonToStruct(nestLists(MAX_DEPTH + 1))), 'data')).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
  });
});
