/**
 * SPIFFE IDs and trust domain names, parsed strictly per the SPIFFE-ID standard.
 *
 * One parser serves every caller: authorization compares parsed values, never raw strings.
 */

const SCHEME = 'spiffe://';
const MAX_ID_BYTES = 2048;
const MAX_TRUST_DOMAIN_BYTES = 255;

/** Raised when a string is not a valid SPIFFE ID or trust domain; `rule` names the rule that failed. */
export class SpiffeIdError extends Error {
  constructor(readonly input: string, readonly rule: string) {
    super(`invalid SPIFFE ID or trust domain ${JSON.stringify(truncate(input))}: ${rule}`);
    this.name = 'SpiffeIdError';
  }
}

/** A validated trust domain name such as `dir.example`. */
export class TrustDomain {
  private constructor(readonly name: string) {}

  /** Parses `example.org` or `spiffe://example.org` (the forms the Workload API and federatesWith use). */
  static parse(input: string): TrustDomain {
    if (!input.startsWith(SCHEME) && input.includes('://')) {
      throw new SpiffeIdError(input, `a trust domain ID must start with the lowercase scheme "${SCHEME}"`);
    }
    const name = input.startsWith(SCHEME) ? stripIdOfTrustDomainForm(input) : input;
    checkTrustDomainName(input, name);
    return new TrustDomain(name);
  }

  /** The trust domain's own ID, `spiffe://<name>`. */
  get id(): string {
    return `${SCHEME}${this.name}`;
  }

  /** An ID in this trust domain with the given path (empty, or starting with `/`). */
  withPath(path: string): SpiffeId {
    if (path !== '' && !path.startsWith('/')) {
      throw new SpiffeIdError(path, 'a path must be empty or start with "/"');
    }
    return SpiffeId.parse(`${this.id}${path}`);
  }

  equals(other: TrustDomain): boolean {
    return this.name === other.name;
  }

  toString(): string {
    return this.name;
  }
}

/** A validated SPIFFE ID: a trust domain and an optional path. */
export class SpiffeId {
  private constructor(readonly trustDomain: TrustDomain, readonly path: string) {}

  static parse(input: string): SpiffeId {
    if (Buffer.byteLength(input, 'utf8') > MAX_ID_BYTES) {
      throw new SpiffeIdError(input, `longer than ${MAX_ID_BYTES} bytes`);
    }
    if (!input.startsWith(SCHEME)) {
      throw new SpiffeIdError(input, `must start with the lowercase scheme "${SCHEME}"`);
    }
    const rest = input.slice(SCHEME.length);
    const slash = rest.indexOf('/');
    const name = slash === -1 ? rest : rest.slice(0, slash);
    const path = slash === -1 ? '' : rest.slice(slash);
    checkTrustDomainName(input, name);
    checkPath(input, path);
    return new SpiffeId(TrustDomain.parse(name), path);
  }

  /** Whether `input` parses; for validation code that collects problems instead of throwing. */
  static isValid(input: string): boolean {
    try {
      SpiffeId.parse(input);
      return true;
    } catch {
      return false;
    }
  }

  /** The path split into segments; empty for a trust domain's own ID. */
  get segments(): readonly string[] {
    return this.path === '' ? [] : this.path.slice(1).split('/');
  }

  equals(other: SpiffeId): boolean {
    return this.trustDomain.equals(other.trustDomain) && this.path === other.path;
  }

  isMemberOf(trustDomain: TrustDomain): boolean {
    return this.trustDomain.equals(trustDomain);
  }

  toString(): string {
    return `${SCHEME}${this.trustDomain.name}${this.path}`;
  }
}

function stripIdOfTrustDomainForm(input: string): string {
  const name = input.slice(SCHEME.length);
  if (name.includes('/')) {
    throw new SpiffeIdError(input, 'a trust domain ID has no path');
  }
  return name;
}

function checkTrustDomainName(input: string, name: string): void {
  if (name.length === 0) {
    throw new SpiffeIdError(input, 'trust domain is empty');
  }
  if (name.length > MAX_TRUST_DOMAIN_BYTES) {
    throw new SpiffeIdError(input, `trust domain is longer than ${MAX_TRUST_DOMAIN_BYTES} bytes`);
  }
  for (const char of name) {
    if (!isTrustDomainChar(char)) {
      throw new SpiffeIdError(input, `trust domain has ${describeChar(char)}; only a-z, 0-9, ".", "_" and "-" are allowed`);
    }
  }
}

function checkPath(input: string, path: string): void {
  if (path === '') return;
  const segments = path.slice(1).split('/');
  for (const segment of segments) {
    if (segment === '') {
      throw new SpiffeIdError(input, 'path has an empty segment or a trailing "/"');
    }
    if (segment === '.' || segment === '..') {
      throw new SpiffeIdError(input, `path has a "${segment}" segment`);
    }
    for (const char of segment) {
      if (!isPathChar(char)) {
        throw new SpiffeIdError(input, `path has ${describeChar(char)}; only a-z, A-Z, 0-9, ".", "_" and "-" are allowed in segments`);
      }
    }
  }
}

function isTrustDomainChar(char: string): boolean {
  return (char >= 'a' && char <= 'z') || (char >= '0' && char <= '9') || char === '.' || char === '_' || char === '-';
}

function isPathChar(char: string): boolean {
  return isTrustDomainChar(char) || (char >= 'A' && char <= 'Z');
}

function describeChar(char: string): string {
  const meaning: Record<string, string> = {
    ':': ' (a port is not allowed)',
    '@': ' (userinfo is not allowed)',
    '?': ' (a query is not allowed)',
    '#': ' (a fragment is not allowed)',
    '%': ' (percent-encoding is not allowed)',
  };
  return `the character ${JSON.stringify(char)}${meaning[char] ?? ''}`;
}

function truncate(input: string): string {
  return input.length > 120 ? `${input.slice(0, 117)}...` : input;
}
