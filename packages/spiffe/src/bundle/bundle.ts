/**
 * Trust bundles: the X.509 roots and JWT keys of one trust domain, the SPIFFE bundle (JWKS) format
 * that carries both, and an immutable per-trust-domain set of bundles for verifiers.
 *
 * Bundles of different trust domains are never merged: a verifier asks for the bundle of the
 * trust domain named by the identity it checks, and nothing else.
 */
import { createPublicKey, type JsonWebKey, type KeyObject, type X509Certificate } from 'node:crypto';
import { parseCertificate, parseCertificates, parsedCertificate } from '../internal/certificate';
import { TrustDomain } from '../spiffeid/id';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../internal/json';

/** Raised for a malformed or inconsistent bundle; the message names the trust domain and the entry. */
export class BundleError extends Error {
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'BundleError';
  }
}

/** The X.509 authorities (root CAs) of one trust domain. */
export class X509Bundle {
  readonly authorities: readonly X509Certificate[];

  constructor(readonly trustDomain: TrustDomain, authorities: readonly X509Certificate[]) {
    authorities.forEach((cert, i) => {
      try {
        parsedCertificate(cert, `X.509 authority ${i}`);
      } catch (error) {
        throw new BundleError(`X.509 bundle of "${trustDomain}": ${(error as Error).message}`, { cause: error });
      }
    });
    this.authorities = Object.freeze([...authorities]);
  }

  /**
   * From concatenated DER certificates (the Workload API form); empty input means "trust nothing".
   * Rejected as a whole when any element is malformed: past a bad length the rest cannot be split.
   */
  static fromDer(trustDomain: TrustDomain, concatenatedDer: Buffer): X509Bundle {
    const what = `X.509 bundle of "${trustDomain}"`;
    return new X509Bundle(trustDomain, wrap(what, () => parseCertificates(concatenatedDer, 'DER').map((c) => c.cert)));
  }

  /**
   * From PEM; only CERTIFICATE blocks are allowed, text outside blocks is ignored (RFC 7468). A bad
   * block rejects the whole file: PEM bundles are operator input, and a typo must be seen, not skipped.
   */
  static fromPem(trustDomain: TrustDomain, pem: string): X509Bundle {
    const what = `X.509 bundle of "${trustDomain}"`;
    return new X509Bundle(trustDomain, wrap(what, () => pemCertificates(pem).map((der, i) => parseCertificate(der, `PEM block ${i}`).cert)));
  }

  toPem(): string {
    return this.authorities.map((cert) => cert.toString()).join('');
  }
}

/** A JWT-SVID signing key. `jwk` holds only the public key members. */
export interface JwtAuthority {
  readonly keyId?: string;
  readonly jwk: JsonWebKey;
}

/** The JWT authorities (signing keys) of one trust domain. */
export class JwtBundle {
  readonly authorities: readonly JwtAuthority[];

  constructor(readonly trustDomain: TrustDomain, authorities: readonly JwtAuthority[]) {
    const what = `JWT bundle of "${trustDomain}"`;
    const keyIds = new Set<string>();
    this.authorities = Object.freeze(
      authorities.map((authority, i) => {
        const label = `${what}: authority ${i}${authority.keyId === undefined ? '' : ` (kid ${JSON.stringify(authority.keyId)})`}`;
        if (authority.keyId !== undefined) {
          if (authority.keyId === '') throw new BundleError(`${label}: empty key ID`);
          if (keyIds.has(authority.keyId)) throw new BundleError(`${label}: key ID appears more than once`);
          keyIds.add(authority.keyId);
        }
        const jwk = Object.freeze(publicJwk(wrap(label, () => importPublicJwk(authority.jwk))));
        return Object.freeze(authority.keyId === undefined ? { jwk } : { keyId: authority.keyId, jwk });
      }),
    );
  }

  /** From a JWKS: its `jwt-svid` entries, each read on its own (see KeySetOptions and readKeys). */
  static fromJwks(trustDomain: TrustDomain, json: string | object, options: KeySetOptions = {}): JwtBundle {
    const what = `JWT bundle of "${trustDomain}"`;
    const document = typeof json === 'string' ? wrap(what, () => parseJson(json)) : (json as JsonValue);
    return new JwtBundle(trustDomain, readKeys(document, what, options).jwt);
  }
}

/** A SPIFFE bundle: both kinds of authority of one trust domain, plus sequence and refresh hint. */
export class SpiffeBundle {
  readonly trustDomain: TrustDomain;
  readonly x509: X509Bundle;
  readonly jwt: JwtBundle;
  readonly sequence?: bigint;
  readonly refreshHintSeconds?: number;

  constructor(init: { x509: X509Bundle; jwt: JwtBundle; sequence?: bigint; refreshHintSeconds?: number }) {
    const { x509, jwt, sequence, refreshHintSeconds } = init;
    const what = `SPIFFE bundle of "${x509.trustDomain}"`;
    if (!x509.trustDomain.equals(jwt.trustDomain)) {
      throw new BundleError(`${what}: the JWT bundle is for "${jwt.trustDomain}"`);
    }
    if (jwt.authorities.some((authority) => authority.keyId === undefined)) {
      throw new BundleError(`${what}: every JWT authority needs a key ID (kid)`);
    }
    if (sequence !== undefined && sequence < 0n) throw new BundleError(`${what}: spiffe_sequence is negative`);
    if (refreshHintSeconds !== undefined && !(Number.isSafeInteger(refreshHintSeconds) && refreshHintSeconds >= 0)) {
      throw new BundleError(`${what}: spiffe_refresh_hint must be a non-negative integer number of seconds`);
    }
    this.trustDomain = x509.trustDomain;
    this.x509 = x509;
    this.jwt = jwt;
    if (sequence !== undefined) this.sequence = sequence;
    if (refreshHintSeconds !== undefined) this.refreshHintSeconds = refreshHintSeconds;
  }

  /**
   * Parses the SPIFFE bundle JSON of `trustDomain` (SPIFFE Trust Domain and Bundle §4). Entries are
   * read one by one (see readKeys); the document is rejected when it is not one JSON object with
   * unique member names and a `keys` array, or when `spiffe_sequence` or `spiffe_refresh_hint` is
   * present but not a non-negative integer (§4.1.1, §4.1.2): neither can be ignored without
   * misordering updates or polling at a rate the publisher did not ask for.
   */
  static parse(trustDomain: TrustDomain, text: string, options: Pick<KeySetOptions, 'onIgnoredKey'> = {}): SpiffeBundle {
    const what = `SPIFFE bundle of "${trustDomain}"`;
    return bundleFromJson(trustDomain, wrap(what, () => parseJson(text)), what, options);
  }

  /** JSON that `parse` reads back to an equal bundle; `spiffe_sequence` is written as an exact integer. */
  serialize(): string {
    const keys = [
      ...this.x509.authorities.map((cert) => ({ use: 'x509-svid', ...cert.publicKey.export({ format: 'jwk' }), x5c: [cert.raw.toString('base64')] })),
      ...this.jwt.authorities.map((authority) => ({ use: 'jwt-svid', kid: authority.keyId, ...authority.jwk })),
    ];
    const members = [`"keys":${JSON.stringify(keys)}`];
    if (this.sequence !== undefined) members.push(`"spiffe_sequence":${this.sequence.toString()}`);
    if (this.refreshHintSeconds !== undefined) members.push(`"spiffe_refresh_hint":${this.refreshHintSeconds}`);
    return `{${members.join(',')}}`;
  }
}

export interface X509BundleSource {
  getX509Bundle(trustDomain: TrustDomain): X509Bundle | undefined;
}

export interface JwtBundleSource {
  getJwtBundle(trustDomain: TrustDomain): JwtBundle | undefined;
}

/** An immutable set of bundles, at most one of each kind per trust domain. */
export class BundleSet implements X509BundleSource, JwtBundleSource {
  private readonly x509: ReadonlyMap<string, X509Bundle>;
  private readonly jwt: ReadonlyMap<string, JwtBundle>;

  constructor(bundles: { readonly x509?: readonly X509Bundle[]; readonly jwt?: readonly JwtBundle[] }) {
    this.x509 = byTrustDomain(bundles.x509 ?? [], 'X.509');
    this.jwt = byTrustDomain(bundles.jwt ?? [], 'JWT');
  }

  static fromSpiffeBundles(bundles: readonly SpiffeBundle[]): BundleSet {
    return new BundleSet({ x509: bundles.map((b) => b.x509), jwt: bundles.map((b) => b.jwt) });
  }

  getX509Bundle(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.x509.get(trustDomain.name);
  }

  getJwtBundle(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.jwt.get(trustDomain.name);
  }

  /** Every trust domain with a bundle of either kind, sorted by name. */
  trustDomains(): TrustDomain[] {
    return [...new Set([...this.x509.keys(), ...this.jwt.keys()])].sort().map((name) => TrustDomain.parse(name));
  }
}

/**
 * Parses `{"trust_domains": {"<td>": <SPIFFE bundle>, ...}}`. Keys may be `td` or `spiffe://td`;
 * a trust domain named twice (in either form) is an error rather than "the last one wins".
 */
export function parseBundleMap(text: string, options: Pick<KeySetOptions, 'onIgnoredKey'> = {}): SpiffeBundle[] {
  const what = 'bundle map';
  const document = wrap(what, () => parseJson(text));
  const map = isJsonObject(document) ? document['trust_domains'] : undefined;
  if (!isJsonObject(map)) throw new BundleError(`${what}: expected an object with a "trust_domains" object`);
  const seen = new Set<string>();
  return Object.entries(map).map(([key, value]) => {
    const trustDomain = wrap(`${what}: key ${JSON.stringify(key)}`, () => TrustDomain.parse(key));
    if (seen.has(trustDomain.name)) throw new BundleError(`${what}: trust domain "${trustDomain}" appears more than once`);
    seen.add(trustDomain.name);
    return bundleFromJson(trustDomain, value, `${what}: SPIFFE bundle of "${trustDomain}"`, options);
  });
}

function bundleFromJson(trustDomain: TrustDomain, document: JsonValue, what: string, options: Pick<KeySetOptions, 'onIgnoredKey'>): SpiffeBundle {
  const { x509, jwt } = readKeys(document, what, { ...options, allowMissingUse: false });
  const object = document as JsonObject;
  return new SpiffeBundle({
    x509: new X509Bundle(trustDomain, x509),
    jwt: new JwtBundle(trustDomain, jwt),
    ...optional('sequence', readSequence(object['spiffe_sequence'], what)),
    ...optional('refreshHintSeconds', readRefreshHint(object['spiffe_refresh_hint'], what)),
  });
}

/** How to read the `keys` of a JWKS; `onIgnoredKey` hears why each entry grants nothing. */
export interface KeySetOptions {
  /**
   * Treat an entry without `use` as a JWT authority: the Workload API's JWT bundles, where SPIRE omits it.
   * @default false
   */
  readonly allowMissingUse?: boolean;
  /** Told about every entry that is ignored, with its index and the reason (for logs). */
  readonly onIgnoredKey?: (reason: string) => void;
}

/**
 * The authorities of a JWKS. Every entry decides for itself: an entry that is unknown, incomplete or
 * malformed is ignored (it grants nothing), and the others still count. Only a document without a
 * `keys` array is rejected as a whole (Trust Domain and Bundle §4.1.3: "keys" MUST be present).
 *
 * Ignored, as the standards say:
 * - an unknown or missing `kty` (Trust Domain and Bundle §4.2.1, §4.1.3);
 * - an unknown or missing `use` (§4.2.2); `use` is case-sensitive;
 * - an `x509-svid` entry without `x5c` or with an empty one (X509-SVID §6.2); of several `x5c`
 *   values all but the first (§6.2).
 * Ignored by our choice, where the standards are silent, because refusing the whole bundle would let
 * one bad entry withdraw every key of a trust domain, and ignoring an entry only ever trusts less:
 * - an entry that is not an object;
 * - an `x509-svid` entry whose first `x5c` value is not base64 of exactly one DER certificate, or
 *   whose key members are not the certificate's public key (which of the two would be meant?);
 * - a `jwt-svid` entry without `kid` (JWT-SVID §6.1 requires publishers to set it);
 * - an entry whose key members do not form a valid public key, or that carries private key members
 *   (a published private key is a compromised one);
 * - every `jwt-svid` entry of a `kid` that names two different keys (a token could not say which).
 */
function readKeys(document: JsonValue, what: string, options: KeySetOptions): { x509: X509Certificate[]; jwt: JwtAuthority[] } {
  const keys = isJsonObject(document) ? document['keys'] : undefined;
  if (!Array.isArray(keys)) throw new BundleError(`${what}: "keys" must be an array (it may be empty)`);
  const x509: X509Certificate[] = [];
  const jwt: { authority: JwtAuthority; label: string }[] = [];
  const ignore = (label: string, reason: string) => options.onIgnoredKey?.(`${label} ignored: ${reason}`);
  keys.forEach((key, i) => {
    const label = `${what}: keys[${i}]`;
    if (!isJsonObject(key)) return ignore(label, 'not an object');
    if (!KEY_TYPES.includes(key['kty'] as string)) return ignore(label, `key type ${JSON.stringify(key['kty'])} is not EC, RSA or OKP`);
    const use = key['use'] ?? (options.allowMissingUse ? 'jwt-svid' : undefined);
    try {
      if (use === 'x509-svid') {
        const cert = readX509Authority(key);
        if (cert) x509.push(cert);
        else ignore(label, 'an x509-svid entry without x5c values');
      } else if (use === 'jwt-svid') {
        jwt.push({ authority: readJwtAuthority(key), label });
      } else {
        ignore(label, `use ${JSON.stringify(use)} is not "x509-svid" or "jwt-svid"`);
      }
    } catch (error) {
      ignore(label, (error as Error).message);
    }
  });
  return { x509, jwt: unambiguous(jwt, ignore) };
}

const KEY_TYPES = ['EC', 'RSA', 'OKP'];

function readX509Authority(key: JsonObject): X509Certificate | undefined {
  const chain = key['x5c'];
  if (chain === undefined) return undefined;
  if (!Array.isArray(chain)) throw new Error('x5c is not an array');
  const first = chain[0];
  if (first === undefined) return undefined;
  if (typeof first !== 'string' || !isBase64(first)) throw new Error('x5c[0] is not base64');
  const { cert } = parseCertificate(Buffer.from(first, 'base64'), 'x5c[0]');
  if (!spki(importPublicJwk(key as JsonWebKey)).equals(spki(cert.publicKey))) {
    throw new Error('the JWK key members do not match the public key of the x5c certificate');
  }
  return cert;
}

function readJwtAuthority(key: JsonObject): JwtAuthority {
  const keyId = key['kid'];
  if (typeof keyId !== 'string' || keyId === '') throw new Error('a jwt-svid key needs a non-empty "kid"');
  return { keyId, jwk: publicJwk(importPublicJwk(key as JsonWebKey)) };
}

/** Drops every authority whose key ID names two different keys; one key listed twice counts once. */
function unambiguous(entries: readonly { authority: JwtAuthority; label: string }[], ignore: (label: string, reason: string) => void): JwtAuthority[] {
  const byKeyId = new Map<string, JwtAuthority[]>();
  for (const { authority } of entries) byKeyId.set(authority.keyId as string, [...(byKeyId.get(authority.keyId as string) ?? []), authority]);
  const kept: JwtAuthority[] = [];
  for (const { authority, label } of entries) {
    const same = byKeyId.get(authority.keyId as string) as JwtAuthority[];
    if (same.some((other) => !sameJwk(other.jwk, authority.jwk))) {
      ignore(label, `key ID ${JSON.stringify(authority.keyId)} names more than one key`);
    } else if (same[0] === authority) {
      kept.push(authority);
    }
  }
  return kept;
}

function sameJwk(a: JsonWebKey, b: JsonWebKey): boolean {
  return spki(importPublicJwk(a)).equals(spki(importPublicJwk(b)));
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function importPublicJwk(jwk: JsonWebKey): KeyObject {
  const leaked = PRIVATE_MEMBERS.filter((member) => member in jwk);
  if (leaked.length > 0) throw new Error(`has private key members (${leaked.join(', ')}); a bundle holds public keys only, and this key is exposed`);
  return createPublicKey({ key: jwk, format: 'jwk' });
}

function publicJwk(key: KeyObject): JsonWebKey {
  return key.export({ format: 'jwk' });
}

function spki(key: KeyObject): Buffer {
  return key.export({ type: 'spki', format: 'der' });
}

function readSequence(value: JsonValue | undefined, what: string): bigint | undefined {
  if (value === undefined) return undefined;
  if ((typeof value === 'number' && Number.isSafeInteger(value)) || typeof value === 'bigint') {
    return BigInt(value);
  }
  throw new BundleError(`${what}: spiffe_sequence must be an integer`);
}

function readRefreshHint(value: JsonValue | undefined, what: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 0) return value;
  throw new BundleError(`${what}: spiffe_refresh_hint must be a non-negative integer number of seconds`);
}

function optional<K extends string, V>(key: K, value: V | undefined): { [P in K]?: V } {
  return (value === undefined ? {} : { [key]: value }) as { [P in K]?: V };
}

function byTrustDomain<B extends { readonly trustDomain: TrustDomain }>(bundles: readonly B[], kind: string): ReadonlyMap<string, B> {
  const map = new Map<string, B>();
  for (const bundle of bundles) {
    if (map.has(bundle.trustDomain.name)) {
      throw new BundleError(`two ${kind} bundles for trust domain "${bundle.trustDomain}"; bundles are never merged`);
    }
    map.set(bundle.trustDomain.name, bundle);
  }
  return map;
}

function pemCertificates(pem: string): Buffer[] {
  const blocks = [...pem.matchAll(/-----BEGIN ([A-Z0-9 ]+)-----([^-]*)-----END ([A-Z0-9 ]+)-----/g)];
  if (blocks.length !== (pem.match(/-----BEGIN /g) ?? []).length) throw new Error('PEM has a BEGIN line without a matching END line');
  return blocks.map(([, label, body, endLabel], i) => {
    if (label !== 'CERTIFICATE' || endLabel !== label) throw new Error(`PEM block ${i} is "${label}"; only CERTIFICATE blocks are allowed`);
    const base64 = (body as string).replace(/\s+/g, '');
    if (!isBase64(base64)) throw new Error(`PEM block ${i} is not base64`);
    return Buffer.from(base64, 'base64');
  });
}

function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** Runs `parse`, turning its failure into a BundleError that says which bundle was being read. */
function wrap<T>(what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof BundleError) throw error;
    throw new BundleError(`${what}: ${(error as Error).message}`, { cause: error });
  }
}
