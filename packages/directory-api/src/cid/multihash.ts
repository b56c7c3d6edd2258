/** Multihashes restricted to sha2-256, the only hash dirtk addresses content with. */
import { createHash } from 'node:crypto';
import { decodeVarint, encodeVarint } from './varint';

const SHA2_256 = 0x12;
const SHA2_256_LENGTH = 32;

export class MultihashError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MultihashError';
  }
}

export function sha256Multihash(content: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(content).digest();
  return Uint8Array.from([...encodeVarint(SHA2_256), ...encodeVarint(SHA2_256_LENGTH), ...digest]);
}

/** Checks that `bytes` from `offset` to the end are exactly one sha2-256 multihash; returns the digest. */
export function decodeSha256Multihash(bytes: Uint8Array, offset: number): Uint8Array {
  const code = decodeVarint(bytes, offset);
  if (code.value !== SHA2_256) throw new MultihashError(`hash function 0x${code.value.toString(16)} is not supported; only sha2-256 (0x12) is`);
  const length = decodeVarint(bytes, code.next);
  if (length.value !== SHA2_256_LENGTH) throw new MultihashError(`sha2-256 digest length is ${length.value}, expected ${SHA2_256_LENGTH}`);
  const digest = bytes.subarray(length.next);
  if (digest.length !== SHA2_256_LENGTH) {
    throw new MultihashError(`sha2-256 digest has ${digest.length} bytes, expected ${SHA2_256_LENGTH}`);
  }
  return digest;
}
