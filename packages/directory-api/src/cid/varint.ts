/**
 * Unsigned LEB128 varints as multiformats uses them (unsigned-varint): at most 9 bytes, and only
 * the minimal encoding of a value is accepted, so every value has exactly one byte form.
 */

const MAX_BYTES = 9;

export class VarintError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'VarintError';
  }
}

export function encodeVarint(value: number): Uint8Array {
  if (!Number.isSafeInteger(value) || value < 0) throw new VarintError(`cannot encode ${value}: not a non-negative safe integer`);
  const bytes: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    bytes.push((rest % 0x80) | 0x80);
    rest = Math.floor(rest / 0x80);
  }
  bytes.push(rest);
  return Uint8Array.from(bytes);
}

/** Decodes the varint at `offset`; returns its value and the offset just past it. */
export function decodeVarint(bytes: Uint8Array, offset = 0): { value: number; next: number } {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < MAX_BYTES; i++) {
    const byte = bytes[offset + i];
    if (byte === undefined) throw new VarintError(`varint at byte ${offset} is truncated`);
    value += (byte & 0x7f) * scale;
    if ((byte & 0x80) === 0) {
      if (byte === 0 && i > 0) throw new VarintError(`varint at byte ${offset} is not minimally encoded`);
      if (!Number.isSafeInteger(value)) throw new VarintError(`varint at byte ${offset} exceeds 2^53-1`);
      return { value, next: offset + i + 1 };
    }
    scale *= 0x80;
  }
  throw new VarintError(`varint at byte ${offset} is longer than ${MAX_BYTES} bytes`);
}
