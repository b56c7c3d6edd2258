/**
 * RFC 4648 base32 in lowercase without padding: the alphabet of the multibase prefix `b`.
 * Decoding is strict (lowercase only, no padding, zero trailing bits), so one byte string has one text form.
 */

const ALPHABET = 'abcdefghijklmnopqrstuvwxyz234567';

export class Base32Error extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'Base32Error';
  }
}

export function encodeBase32(bytes: Uint8Array): string {
  let out = '';
  let buffer = 0;
  let bits = 0;
  for (const byte of bytes) {
    buffer = (buffer << 8) | byte;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      out += ALPHABET[(buffer >> bits) & 0x1f];
    }
    buffer &= (1 << bits) - 1;
  }
  if (bits > 0) out += ALPHABET[(buffer << (5 - bits)) & 0x1f];
  return out;
}

export function decodeBase32(text: string): Uint8Array {
  // 1, 3 and 6 leftover characters cannot come from whole bytes.
  if ([1, 3, 6].includes(text.length % 8)) throw new Base32Error(`length ${text.length} is not a valid unpadded base32 length`);
  const out = new Uint8Array(Math.floor((text.length * 5) / 8));
  let buffer = 0;
  let bits = 0;
  let index = 0;
  for (let i = 0; i < text.length; i++) {
    const value = ALPHABET.indexOf(text.charAt(i));
    if (value === -1) throw new Base32Error(`character ${JSON.stringify(text.charAt(i))} at position ${i} is not lowercase base32 (a-z, 2-7)`);
    buffer = ((buffer << 5) | value) & 0xfff;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out[index++] = (buffer >> bits) & 0xff;
    }
  }
  if ((buffer & ((1 << bits) - 1)) !== 0) throw new Base32Error('trailing bits are not zero (non-canonical encoding)');
  return out;
}
