import { describe, expect, it } from 'vitest';
import { parseJson } from '../src/internal/json';

describe('parseJson', () => {
  it('parses what JSON.parse parses', () => {
    const text = '{"a":[1,-2.5,3e2,true,false,null,"x\\u00e9\\n"],"b":{"c":{}}, "d" : [ ] }';
    expect(parseJson(text)).toEqual(JSON.parse(text));
  });

  it('rejects duplicate member names at any depth, which JSON.parse silently resolves', () => {
    expect(JSON.parse('{"a":1,"a":2}')).toEqual({ a: 2 });
    expect(() => parseJson('{"a":1,"a":2}')).toThrow('duplicate member "a"');
    expect(() => parseJson('{"x":[{"kid":"1","kid":"2"}]}')).toThrow('duplicate member "kid"');
    expect(() => parseJson('{"a":1,"\\u0061":2}')).toThrow('duplicate member "a"');
  });

  it('keeps integers beyond 2^53 exact as bigint and safe integers as numbers', () => {
    expect(parseJson('18446744073709551615')).toBe(18446744073709551615n);
    expect(parseJson('-9007199254740993')).toBe(-9007199254740993n);
    expect(parseJson('9007199254740991')).toBe(9007199254740991);
    expect(parseJson('1.5')).toBe(1.5);
  });

  it('stores "__proto__" as a member instead of replacing the prototype', () => {
    const value = parseJson('{"__proto__":{"polluted":true}}') as Record<string, unknown>;
    expect(Object.getPrototypeOf(value)).toBe(Object.prototype);
    expect(Object.hasOwn(value, '__proto__')).toBe(true);
    expect((value as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it.each([
    ['', /expected a value/],
    ['{"a":1} x', /unexpected text/],
    ['{"a":1,}', /expected a member name/],
    ['[1,]', /expected a value/],
    ["{'a':1}", /expected a member name/],
    ['01', /unexpected text/],
    ['+1', /expected a value/],
    ['NaN', /expected a value/],
    ['1e400', /out of range/],
    ['"a\u0001"', /control character/],
    ['"\\x"', /invalid escape/],
    ['"abc', /unterminated string/],
    ['{"a" 1}', /expected ":"/],
  ])('rejects %j', (text, message) => {
    expect(() => parseJson(text)).toThrow(message);
  });

  it('limits nesting depth', () => {
    expect(parseJson('['.repeat(64) + ']'.repeat(64))).toBeDefined();
    expect(() => parseJson('['.repeat(100) + ']'.repeat(100))).toThrow(/nested deeper than 64/);
  });
});
