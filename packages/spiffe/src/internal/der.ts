/**
 * Strict DER reading: single-octet tags, definite minimal lengths, no truncation and no leftovers.
 *
 * Node's `new X509Certificate(buf)` ignores trailing bytes (pitfall P5), so every certificate and key
 * we accept is first cut out of its buffer here by its own encoded length.
 */

export const DerTag = {
  boolean: 0x01,
  integer: 0x02,
  bitString: 0x03,
  octetString: 0x04,
  oid: 0x06,
  utcTime: 0x17,
  generalizedTime: 0x18,
  sequence: 0x30,
} as const;

/** Raised when bytes are not the DER encoding that was expected; the message says where and why. */
export class DerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'DerError';
  }
}

export interface DerElement {
  readonly tag: number;
  /** The content octets. */
  readonly contents: Buffer;
  /** The whole element: identifier, length and contents. */
  readonly encoded: Buffer;
}

/** Reads consecutive DER elements from `bytes`; `what` names the structure in error messages. */
export class DerReader {
  private offset = 0;

  constructor(private readonly bytes: Buffer, private readonly what: string) {}

  get done(): boolean {
    return this.offset >= this.bytes.length;
  }

  /** Reads the next element, requiring `tag` when given. */
  read(tag?: number): DerElement {
    const start = this.offset;
    const element = this.readAt(start);
    if (tag !== undefined && element.tag !== tag) {
      throw new DerError(`${this.what}: expected tag 0x${hex(tag)} at byte ${start}, found 0x${hex(element.tag)}`);
    }
    this.offset += element.encoded.length;
    return element;
  }

  /** Reads the next element only if it carries `tag`. */
  readOptional(tag: number): DerElement | undefined {
    return !this.done && this.bytes[this.offset] === tag ? this.read(tag) : undefined;
  }

  /** Requires that every byte was consumed. */
  end(): void {
    if (!this.done) {
      throw new DerError(`${this.what}: ${this.bytes.length - this.offset} unexpected byte(s) after byte ${this.offset}`);
    }
  }

  private readAt(start: number): DerElement {
    const bytes = this.bytes;
    const tag = bytes[start];
    if (tag === undefined) throw new DerError(`${this.what}: truncated at byte ${start}, expected an element`);
    if ((tag & 0x1f) === 0x1f) throw new DerError(`${this.what}: multi-byte tag at byte ${start} is not supported`);
    const first = bytes[start + 1];
    if (first === undefined) throw new DerError(`${this.what}: truncated at byte ${start + 1}, expected a length`);
    let length = first;
    let header = 2;
    if (first & 0x80) {
      const count = first & 0x7f;
      if (count === 0) throw new DerError(`${this.what}: indefinite length at byte ${start + 1} is not DER`);
      if (count > 4) throw new DerError(`${this.what}: length at byte ${start + 1} uses ${count} octets`);
      if (start + 2 + count > bytes.length) throw new DerError(`${this.what}: truncated length at byte ${start + 1}`);
      length = 0;
      for (let i = 0; i < count; i++) length = length * 256 + (bytes[start + 2 + i] as number);
      if (bytes[start + 2] === 0 || length < 0x80) {
        throw new DerError(`${this.what}: length at byte ${start + 1} is not minimally encoded`);
      }
      header += count;
    }
    const end = start + header + length;
    if (end > bytes.length) {
      throw new DerError(`${this.what}: element at byte ${start} declares ${length} content bytes but only ${bytes.length - start - header} remain`);
    }
    return { tag, contents: bytes.subarray(start + header, end), encoded: bytes.subarray(start, end) };
  }
}

/**
 * Splits concatenated DER SEQUENCEs (such as certificates) by their encoded lengths.
 * Empty input gives an empty list; anything that is not a whole SEQUENCE is an error.
 */
export function splitDer(bytes: Buffer, what: string): Buffer[] {
  const reader = new DerReader(bytes, what);
  const elements: Buffer[] = [];
  while (!reader.done) elements.push(reader.read(DerTag.sequence).encoded);
  return elements;
}

/** Requires `bytes` to be exactly one DER SEQUENCE. */
export function singleDer(bytes: Buffer, what: string): Buffer {
  const elements = splitDer(bytes, what);
  if (elements.length !== 1) throw new DerError(`${what}: expected exactly one DER element, found ${elements.length}`);
  return elements[0] as Buffer;
}

/** Reads a non-negative INTEGER that fits in 31 bits (path lengths, distances). */
export function readSmallUnsigned(element: DerElement, what: string): number {
  const bytes = element.contents;
  const first = bytes[0];
  if (first === undefined) throw new DerError(`${what}: empty INTEGER`);
  if (first & 0x80) throw new DerError(`${what}: negative INTEGER`);
  if (bytes.length > 1 && first === 0 && !((bytes[1] as number) & 0x80)) {
    throw new DerError(`${what}: INTEGER is not minimally encoded`);
  }
  if (bytes.length > 4) throw new DerError(`${what}: INTEGER is too large`);
  return bytes.readUIntBE(0, bytes.length);
}

/** Reads a DER BOOLEAN (0x00 or 0xff). */
export function readBoolean(element: DerElement, what: string): boolean {
  const bytes = element.contents;
  if (bytes.length !== 1 || (bytes[0] !== 0x00 && bytes[0] !== 0xff)) {
    throw new DerError(`${what}: BOOLEAN must be one octet 0x00 or 0xff`);
  }
  return bytes[0] === 0xff;
}

/** Decodes an OBJECT IDENTIFIER to dotted form. */
export function readOid(element: DerElement, what: string): string {
  const bytes = element.contents;
  if (bytes.length === 0) throw new DerError(`${what}: empty OBJECT IDENTIFIER`);
  const arcs: number[] = [];
  let value = 0;
  let started = false;
  for (const byte of bytes) {
    if (!started && byte === 0x80) throw new DerError(`${what}: OBJECT IDENTIFIER arc is not minimally encoded`);
    started = true;
    value = value * 128 + (byte & 0x7f);
    if (value > Number.MAX_SAFE_INTEGER / 128) throw new DerError(`${what}: OBJECT IDENTIFIER arc is too large`);
    if (!(byte & 0x80)) {
      arcs.push(value);
      value = 0;
      started = false;
    }
  }
  if (started) throw new DerError(`${what}: truncated OBJECT IDENTIFIER`);
  const head = arcs[0] as number;
  const split = head < 40 ? [0, head] : head < 80 ? [1, head - 40] : [2, head - 80];
  return [...split, ...arcs.slice(1)].join('.');
}

function hex(byte: number): string {
  return byte.toString(16).padStart(2, '0');
}
