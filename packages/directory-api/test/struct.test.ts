import { describe, expect, it } from 'vitest';
import { Record as RecordMessage } from '../gen/agntcy/dir/core/v1/record';
import { canonicalJson, type JsonObject } from '../src/cid/canonical-json';
import { MAX_DEPTH, type StructData, StructError, structToJson } from '../src/grpc/struct';

/** `json` as a Struct field through the generated encoder and decoder: what a handler receives. */
function decoded(json: JsonObject): StructData | undefined {
  return RecordMessage.decode(RecordMessage.encode({ data: json }).finish()).data;
}

describe('Struct <-> JSON', () => {
  it('round-trips every JSON type', () => {
    const json: JsonObject = { s: 'x', n: -1.5, z: 0, t: true, f: false, nil: null, list: [1, 'two', [3], { four: 4 }], obj: { nested: { empty: {} } }, empty: [] };
    expect(structToJson(decoded(json), 'data')).toEqual(json);
  });

  it('keeps a "__proto__" key as an ordinary member', () => {
    const json = JSON.parse('{"__proto__":{"polluted":true},"a":1}') as JsonObject;
    // The generated decoder drops such a key (it assigns to a plain object): this checks the conversion.
    const back = structToJson(json, 'data');
    expect(canonicalJson(back)).toBe('{"__proto__":{"polluted":true},"a":1}');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it.each<[string, StructData | undefined, string]>([
    ['a missing struct', undefined, 'record.data: missing'],
    // The generated decoder turns a Value without kind into undefined.
    ['a value without kind', { a: { b: undefined } }, 'record.data.a.b: value has no kind'],
    ['NaN', decoded({ n: NaN }), 'record.data.n: NaN is not a JSON number'],
    ['-Infinity in a list', decoded({ l: [-Infinity] }), 'record.data.l[0]: -Infinity'],
  ])('rejects %s, naming the path', (_label, struct, message) => {
    expect(() => structToJson(struct, 'record.data')).toThrow(StructError);
    expect(() => structToJson(struct, 'record.data')).toThrow(message);
  });

  it(`accepts nesting up to ${MAX_DEPTH} levels and rejects deeper`, () => {
    const nest = (levels: number): JsonObject => (levels === 1 ? { leaf: 1 } : { d: nest(levels - 1) });
    expect(structToJson(decoded(nest(MAX_DEPTH)), 'data')).toEqual(nest(MAX_DEPTH));
    expect(() => structToJson(decoded(nest(MAX_DEPTH + 1)), 'data')).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
    const nestLists = (levels: number): JsonObject => {
      let value: unknown = 1;
      for (let i = 1; i < levels; i++) value = [value];
      return { l: value } as JsonObject;
    };
    expect(() => structToJson(decoded(nestLists(MAX_DEPTH)), 'data')).not.toThrow();
    expect(() => structToJson(decoded(nestLists(MAX_DEPTH + 1)), 'data')).toThrow(`nested deeper than ${MAX_DEPTH} levels`);
  });
});
