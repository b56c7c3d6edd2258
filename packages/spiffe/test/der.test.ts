import { X509Certificate } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { DerError, singleDer, splitDer } from '../src/internal/der';
import { TestCa } from './support/test-ca';

describe('splitDer', () => {
  let first: Buffer;
  let second: Buffer;

  beforeAll(async () => {
    const root = await TestCa.root('der.example');
    first = root.der;
    second = (await root.leaf()).der;
  });

  it('splits concatenated certificates by their encoded lengths', () => {
    const parts = splitDer(Buffer.concat([first, second]), 'chain');
    expect(parts.map((p) => p.toString('hex'))).toEqual([first.toString('hex'), second.toString('hex')]);
    expect(splitDer(Buffer.alloc(0), 'chain')).toEqual([]);
  });

  it('rejects trailing bytes that Node itself would ignore (P5)', () => {
    const withTrailer = Buffer.concat([first, Buffer.from([0x00, 0x00])]);
    expect(new X509Certificate(withTrailer).raw.equals(first)).toBe(true);
    expect(() => singleDer(withTrailer, 'cert')).toThrow(DerError);
    expect(() => splitDer(withTrailer, 'chain')).toThrow(/expected tag 0x30 at byte \d+, found 0x00/);
    expect(() => splitDer(Buffer.concat([first, Buffer.from([0x30])]), 'chain')).toThrow(/truncated/);
  });

  it('rejects a truncated element', () => {
    expect(() => splitDer(first.subarray(0, first.length - 1), 'chain')).toThrow(/declares \d+ content bytes but only \d+ remain/);
  });

  it('requires exactly one element where one is expected', () => {
    expect(singleDer(first, 'cert').equals(first)).toBe(true);
    expect(() => singleDer(Buffer.concat([first, second]), 'cert')).toThrow('cert: expected exactly one DER element, found 2');
  });

  it.each([
    ['an indefinite length', [0x30, 0x80, 0x00, 0x00], /indefinite length/],
    ['a non-minimal short length', [0x30, 0x81, 0x01, 0x05], /not minimally encoded/],
    ['a non-minimal long length', [0x30, 0x82, 0x00, 0x81, ...new Array(0x81).fill(0)], /not minimally encoded/],
    ['a multi-byte tag', [0x3f, 0x01, 0x00], /multi-byte tag/],
    ['something other than a SEQUENCE', [0x04, 0x01, 0x00], /expected tag 0x30/],
  ])('rejects %s', (_, bytes, message) => {
    expect(() => splitDer(Buffer.from(bytes), 'input')).toThrow(message);
  });

  it('accepts a minimal long-form length', () => {
    const element = Buffer.from([0x30, 0x81, 0x80, ...new Array(0x80).fill(0)]);
    expect(splitDer(element, 'input')).toHaveLength(1);
  });
});
