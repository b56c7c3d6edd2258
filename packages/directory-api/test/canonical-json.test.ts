import { describe, expect, it } from 'vitest';
import { CanonicalJsonError, canonicalJson, type JsonObject, type JsonValue } from '../src/cid/canonical-json';
import { cidOf } from '../src/cid/cid';
import { goJsonNumber } from '../src/cid/go-json-number';
import { canonicalJsonBytes, objectCid } from '../src/cid/object-cid';
import { directoryCidVectors } from './support/vectors';

const VECTORS = directoryCidVectors();

describe('canonical JSON', () => {
  it.each<[JsonValue, string]>([
    [{}, '{}'],
    [[], '[]'],
    [null, 'null'],
    [{ b: 1, a: 2 }, '{"a":2,"b":1}'],
    [{ z: { y: [3, { d: true, c: null }], x: 'é' } }, '{"z":{"x":"é","y":[3,{"c":null,"d":true}]}}'],
    [{ 'a b': 'line\nbreak "quoted"' }, '{"a b":"line\\nbreak \\"quoted\\""}'],
    [[1e21, 1e-7, -0, 0.1, 100, 2 ** 53], '[1e+21,1e-7,-0,0.1,100,9007199254740992]'],
    [{ '\u00e9': 1, z: 2, A: 3, '10': 4, '9': 5 }, '{"10":4,"9":5,"A":3,"z":2,"é":1}'],
  ])('%j -> %s', (value, expected) => {
    expect(canonicalJson(value)).toBe(expected);
  });

  it('sorts keys byte-wise over UTF-8, as Go does (code point order, not UTF-16 code units)', () => {
    // U+FB33 sorts after U+1F600 by UTF-16 code unit (0xFB33 > 0xD83D) but before it in UTF-8 (EF < F0).
    expect(canonicalJson({ '\u{1f600}': 2, '\ufb33': 1 })).toBe('{"\ufb33":1,"\u{1f600}":2}');
  });

  it('escapes as Go encoding/json does: HTML characters, U+2028/U+2029, named and \\u00XX control escapes', () => {
    expect(canonicalJson('<a href="x">&</a>')).toBe('"\\u003ca href=\\"x\\"\\u003e\\u0026\\u003c/a\\u003e"');
    expect(canonicalJson('\u2028\u2029')).toBe('"\\u2028\\u2029"');
    expect(canonicalJson('\b\f\n\r\t\u0000\u001f\u007f')).toBe('"\\b\\f\\n\\r\\t\\u0000\\u001f\u007f"');
    expect(canonicalJson({ '<k>': '/\'' })).toBe('{"\\u003ck\\u003e":"/\'"}');
  });

  it('writes a lone surrogate as U+FFFD once encoded, as Go does with invalid UTF-8', () => {
    expect(canonicalJsonBytes({ a: 'x\ud800' }).toString('utf8')).toBe('{"a":"x\ufffd"}');
  });

  it('rejects two keys that are one key once lone surrogates become U+FFFD', () => {
    expect(() => canonicalJson({ k: { '\ud800': 1, '\udc00': 2 } })).toThrow(CanonicalJsonError);
    expect(() => canonicalJson({ k: { '\ud800': 1, '\udc00': 2 } })).toThrow('$.k: keys "\\ud800" and "\\udc00" are the same in UTF-8');
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

describe("Go's float formatting (encoding/json)", () => {
  it.each<[number, string]>([
    [0, '0'],
    [-0, '-0'],
    [1, '1'],
    [-1.5, '-1.5'],
    [100, '100'],
    [1e20, '100000000000000000000'],
    [999999999999999900000, '999999999999999900000'],
    [1e21, '1e+21'],
    [-1.2345e25, '-1.2345e+25'],
    [1.7976931348623157e308, '1.7976931348623157e+308'],
    [1e-6, '0.000001'],
    [1.5e-6, '0.0000015'],
    [9.99e-7, '9.99e-7'],
    [1e-7, '1e-7'],
    [1.25e-10, '1.25e-10'],
    [5e-324, '5e-324'],
    [123456.789, '123456.789'],
    [12345678901234567890, '12345678901234567000'],
    [2 ** 53 + 2, '9007199254740994'],
    [0.1 + 0.2, '0.30000000000000004'],
  ])('%s -> %s', (value, expected) => {
    expect(goJsonNumber(value)).toBe(expected);
  });

  it('refuses what JSON cannot hold', () => {
    expect(() => goJsonNumber(NaN)).toThrow('NaN is not a JSON number');
  });
});

describe("the Directory's vectors", () => {
  it('the bytes vector', () => {
    expect(cidOf(Buffer.from(VECTORS.bytesVector.input, 'utf8'))).toBe(VECTORS.bytesVector.cid);
  });

  it.each(VECTORS.records.map((entry, i) => [i, entry] as const))('record %i: exact canonical bytes and CID', (_, entry) => {
    const record = JSON.parse(entry.recordJson) as JsonObject;
    expect(canonicalJsonBytes(record)).toEqual(Buffer.from(entry.canonicalJson, 'utf8'));
    expect(objectCid(record)).toBe(entry.cid);
  });

  it('holds records with every case the algorithm must get right', () => {
    const all = VECTORS.records.map((entry) => entry.canonicalJson).join('');
    for (const needle of ['\\u003c', '\\u0026', '\\u2028', '-0', '1e+21', '1e-7', '0.000001', '12345678901234567000', '😀']) expect(all).toContain(needle);
  });
});
