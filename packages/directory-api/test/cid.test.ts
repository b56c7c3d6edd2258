import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Base32Error, decodeBase32, encodeBase32 } from '../src/cid/base32';
import { CidError, cidOf, LEGACY_JSON_CODEC, parseCid, RAW_CODEC } from '../src/cid/cid';
import { decodeVarint, encodeVarint, VarintError } from '../src/cid/varint';

// Vectors derived independently with Python's hashlib and base64.b32encode (lowercased, unpadded).
const CID_OF_EMPTY_OBJECT = 'bagaaieraiqjw7i2vwntyuekgvulpp2det2kpwt6cd7tx5ayqybqpmhfk76fa';
const CID_OF_SAMPLE = 'bagaaiera5sum7my2w5cthyplf5ghjuwvlx7dy6nmobdypzkl5bsh5j3xp2yq';
const RAW_CODEC_CID_OF_EMPTY_OBJECT = 'bafkreicecnx2gvntm6fbcrvnc336qze6st5u7qq7457igegamd3bzkx7ri';

describe('varint', () => {
  it.each([
    [0, [0x00]],
    [1, [0x01]],
    [127, [0x7f]],
    [128, [0x80, 0x01]],
    [300, [0xac, 0x02]],
    [0x0200, [0x80, 0x04]],
    [16384, [0x80, 0x80, 0x01]],
    [2 ** 53 - 1, [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f]],
  ])('encodes %i and decodes it back', (value, bytes) => {
    expect([...encodeVarint(value)]).toEqual(bytes);
    expect(decodeVarint(Uint8Array.from(bytes))).toEqual({ value, next: bytes.length });
  });

  it('decodes at an offset', () => {
    expect(decodeVarint(Uint8Array.from([0xff, 0xac, 0x02, 0x05]), 1)).toEqual({ value: 300, next: 3 });
  });

  it.each([
    [[0x80], 'truncated'],
    [[], 'truncated'],
    [[0x80, 0x00], 'not minimally encoded'],
    [[0x81, 0x80, 0x00], 'not minimally encoded'],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01], 'longer than 9 bytes'],
    [[0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f], 'exceeds 2^53-1'],
  ])('rejects %j (%s)', (bytes, reason) => {
    expect(() => decodeVarint(Uint8Array.from(bytes))).toThrow(VarintError);
    expect(() => decodeVarint(Uint8Array.from(bytes))).toThrow(reason);
  });

  it('refuses to encode negatives, fractions and unsafe integers', () => {
    for (const value of [-1, 1.5, 2 ** 53]) expect(() => encodeVarint(value)).toThrow(VarintError);
  });
});

describe('base32 (RFC 4648, lowercase, unpadded)', () => {
  it.each([
    ['', ''],
    ['f', 'my'],
    ['fo', 'mzxq'],
    ['foo', 'mzxw6'],
    ['foob', 'mzxw6yq'],
    ['fooba', 'mzxw6ytb'],
    ['foobar', 'mzxw6ytboi'],
  ])('%j <-> %j', (text, encoded) => {
    expect(encodeBase32(Buffer.from(text))).toBe(encoded);
    expect(Buffer.from(decodeBase32(encoded)).toString()).toBe(text);
  });

  it('round-trips every byte value', () => {
    const bytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    expect([...decodeBase32(encodeBase32(bytes))]).toEqual([...bytes]);
  });

  it.each([
    ['MZXW6', 'not lowercase base32'],
    ['mzxw6===', 'not lowercase base32'],
    ['mzx1', 'not lowercase base32'],
    ['m', 'not a valid unpadded base32 length'],
    ['mzx', 'not a valid unpadded base32 length'],
    ['mzxw6y', 'not a valid unpadded base32 length'],
    ['mz', 'trailing bits are not zero'],
  ])('rejects %j (%s)', (text, reason) => {
    expect(() => decodeBase32(text)).toThrow(Base32Error);
    expect(() => decodeBase32(text)).toThrow(reason);
  });
});

describe('CID', () => {
  it('matches the independently derived CID of {}', () => {
    expect(cidOf(Buffer.from('{}'), LEGACY_JSON_CODEC)).toBe(CID_OF_EMPTY_OBJECT);
    expect(cidOf(Buffer.from('{"a":1,"b":[true,null,"x"]}'), LEGACY_JSON_CODEC)).toBe(CID_OF_SAMPLE);
    expect(cidOf(Buffer.from('{}'), 0x55)).toBe(RAW_CODEC_CID_OF_EMPTY_OBJECT);
  });

  it("uses the raw codec by default and matches the Directory's own vector (agntcy/dir cid tests)", () => {
    const cid = cidOf(Buffer.from('Hello, World!'));
    expect(cid).toBe('baeareig77vqcdozl2wyk6z3cscaj5q5fggi53aoh64fewkdiri3cdauyn4');
    expect(parseCid(cid).codec).toBe(RAW_CODEC);
  });

  it('parses back to the codec and the sha2-256 digest', () => {
    const parsed = parseCid(CID_OF_EMPTY_OBJECT);
    expect(parsed.codec).toBe(LEGACY_JSON_CODEC);
    expect(Buffer.from(parsed.digest).toString('hex')).toBe(createHash('sha256').update('{}').digest('hex'));
    expect(parseCid(RAW_CODEC_CID_OF_EMPTY_OBJECT).codec).toBe(0x55);
  });

  const digestOfEmpty = createHash('sha256').update('{}').digest();
  const build = (bytes: number[]): string => `b${encodeBase32(Uint8Array.from(bytes))}`;

  it.each([
    ['', 'empty'],
    ['QmdfTbBqBPQ7VNxZEYEj14VmRuZBkqFbiwReogJgS1zR1n', 'CIDv0 is not supported'],
    [`z${CID_OF_EMPTY_OBJECT.slice(1)}`, 'multibase prefix "z" is not supported'],
    [CID_OF_EMPTY_OBJECT.toUpperCase(), 'multibase prefix "B" is not supported'],
    [`B${CID_OF_EMPTY_OBJECT.slice(1)}`, 'multibase prefix "B" is not supported'],
    [`${CID_OF_EMPTY_OBJECT.slice(0, 10)}A${CID_OF_EMPTY_OBJECT.slice(11)}`, 'not lowercase base32'],
    [`${CID_OF_EMPTY_OBJECT} `, 'not lowercase base32'],
    [CID_OF_EMPTY_OBJECT.slice(0, -1), 'not a valid unpadded base32 length'],
    [CID_OF_EMPTY_OBJECT.slice(0, -4), 'digest has 30 bytes'],
    [`${CID_OF_EMPTY_OBJECT}aaaa`, 'digest has 35 bytes'],
    [`b${'a'.repeat(200)}`, 'longer than 128 characters'],
    ['../../etc/passwd', 'multibase prefix "." is not supported'],
    ['b../etc/x', 'not lowercase base32'],
    [build([0x02, 0x80, 0x04, 0x12, 0x20, ...digestOfEmpty]), 'CID version 2 is not supported'],
    [build([0x01, 0x80, 0x04, 0x13, 0x20, ...digestOfEmpty]), 'hash function 0x13 is not supported'],
    [build([0x01, 0x80, 0x04, 0x12, 0x1f, ...digestOfEmpty.subarray(1)]), 'digest length is 31'],
    [build([0x01, 0x80, 0x84, 0x00, 0x12, 0x20, ...digestOfEmpty]), 'not minimally encoded'],
  ])('rejects %j (%s)', (text, reason) => {
    expect(() => parseCid(text)).toThrow(CidError);
    expect(() => parseCid(text)).toThrow(reason);
  });

  it('rejects a CID whose last character leaves non-zero trailing bits', () => {
    // 36 bytes encode to 58 characters with 2 spare bits; flipping them gives another spelling of the same bytes.
    const last = CID_OF_EMPTY_OBJECT.at(-1) as string;
    const alphabet = 'abcdefghijklmnopqrstuvwxyz234567';
    const sibling = CID_OF_EMPTY_OBJECT.slice(0, -1) + alphabet.charAt(alphabet.indexOf(last) + 1);
    expect(() => parseCid(sibling)).toThrow('trailing bits are not zero');
  });
});
