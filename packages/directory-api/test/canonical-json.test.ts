import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, type JsonValue } from '../src/cid/canonical-json';

describe('canonical JSON', () => {
  it.each<[JsonValue, string]>([
    [{}, '{}'],
    [[], '[]'],
    [null, 'null'],
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: [3, { d: true, c: null }], x: 'é' } }, '{"z":{"x":"é","y":[3,{"c":null,"d":true}]}}'],
    [{ 'a b': 'line\nbreak "quoted"' }, '{"a b":"line\\nbreak \\"quoted\\""}'],
    [[1e21, 1e-7, -0, 0.1, 100, 2 ** 53], '[1e+21,1e-7,0,0.1,100,9007199254740992]'],
    [{ '\u00e9': 1, z: 2, A: 3, '10': 4, '9': 5 }, '{"10":4,"9":5,"A":3,"z":2,"é":1}'],
  ])('%j -> %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 does (not by code point)', () => {
    // U+FB33 sorts after U+1F600 by code point but before it by UTF-16 code unit (0xD83D < 0xFB33).
    expect(canonicalJson({ '\ufb33': 1, '\u{1f600}': 2 })).toBe('{"\u{1f600}":2,"\ufb33":1}');
  });

  it('is independent of key insertion order', () => {
    expect(canonicalJson({ a: 1, b: { c: 2, d: 3 } })).toBe(canonicalJson({ b: { d: 3, c: 2 }, a: 1 }));
  });

  it('keeps a "__proto__" key as data', () => {
    expect(canonicalJson(JSON.parse('{"__proto__":{"x":1},"a":0}') as JsonValue)).toBe('{"__proto__":{"x":1},"a":0}');
  });

  it.each([NaN, Infinity, -Infinity])('rejects %s with the path', (number) => {
    expect(() => canonicalJson({ a: [1, number] })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ a: [1, number] })).toThrow('$.a[1]');
  });

  it('rejects values that are not JSON', () => {
    expect(() => canonicalJson({ a: undefined } as unknown as JsonValue)).toThrow('$.a: a undefined is not a JSON value');
    expect(() => canonicalJson({ d: new Date(0) } as unknown as JsonValue)).toThrow('$.d: a object is not a JSON value');
  });
});
