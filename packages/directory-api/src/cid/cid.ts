/**
 * CIDv1 text form as the AGNTCY Directory uses it: multibase base32 lower (`b…`), version 1, a
 * multicodec content type, and a sha2-256 multihash. Records use the raw codec (0x01) over their
 * canonical JSON (see object-cid.ts), as agntcy/dir's Record.GetCid does.
 */
import { Base32Error, decodeBase32, encodeBase32 } from './base32';
import { decodeSha256Multihash, MultihashError, sha256Multihash } from './multihash';
import { decodeVarint, encodeVarint, VarintError } from './varint';

/** The codec of every Directory CID (agntcy/dir api/core/v1/cid.go: cid.NewCidV1(1, …)). */
export const RAW_CODEC = 0x01;
/**
 * The json codec dirtk named records with before it computed the Directory's CIDs (over RFC 8785
 * canonical JSON). Only the store's migration of such records, and their old names, still use it.
 */
export const LEGACY_JSON_CODEC = 0x0200;
const BASE32_PREFIX = 'b';
const CID_VERSION = 1;
/** Generous bound on text length, checked before decoding untrusted input. */
const MAX_TEXT_LENGTH = 128;

export interface Cid {
  readonly codec: number;
  readonly digest: Uint8Array;
}

export class CidError extends Error {
  constructor(readonly input: string, readonly reason: string) {
    super(`invalid CID ${JSON.stringify(input.length > MAX_TEXT_LENGTH ? `${input.slice(0, MAX_TEXT_LENGTH)}…` : input)}: ${reason}`);
    this.name = 'CidError';
  }
}

export function cidOf(content: Uint8Array, codec = RAW_CODEC): string {
  return BASE32_PREFIX + encodeBase32(Uint8Array.from([...encodeVarint(CID_VERSION), ...encodeVarint(codec), ...sha256Multihash(content)]));
}

export function parseCid(text: string): Cid {
  if (text === '') throw new CidError(text, 'empty');
  if (text.length > MAX_TEXT_LENGTH) throw new CidError(text, `longer than ${MAX_TEXT_LENGTH} characters`);
  if (text.startsWith('Qm')) throw new CidError(text, 'CIDv0 is not supported; use the CIDv1 base32 form (b…)');
  if (!text.startsWith(BASE32_PREFIX)) {
    throw new CidError(text, `multibase prefix ${JSON.stringify(text.charAt(0))} is not supported; only base32 lower ("b") is`);
  }
  try {
    const bytes = decodeBase32(text.slice(BASE32_PREFIX.length));
    const version = decodeVarint(bytes, 0);
    if (version.value !== CID_VERSION) throw new CidError(text, `CID version ${version.value} is not supported; only version 1 is`);
    const codec = decodeVarint(bytes, version.next);
    return { codec: codec.value, digest: decodeSha256Multihash(bytes, codec.next) };
  } catch (error) {
    if (error instanceof Base32Error || error instanceof VarintError || error instanceof MultihashError) throw new CidError(text, error.message);
    throw error;
  }
}

/** The codec of `text` when it is a well-formed CID, else undefined: for telling names apart, not for checking input. */
export function codecOfCid(text: string): number | undefined {
  try {
    return parseCid(text).codec;
  } catch (error) {
    if (error instanceof CidError) return undefined;
    throw error;
  }
}
