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

  /** From concatenated DER certificates (the Workload API form); empty input means "trust nothing". */
  static fromDer(trustDomain: TrustDomain, concatenatedDer: Buffer): X509Bundle {
    const what = `X.509 bundle of "${trustDomain}"`;
    return new X509Bundle(trustDomain, wrap(what, () => parseCertificates(concatenatedDer, 'DER').map((c) => c.cert)));
  }

  /** From PEM; only CERTIFICATE blocks are allowed, text outside blocks is ignored (RFC 7468). */
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
        const jwk = Object.freeze(publicJwk(importPublicJwk(authority.jwk, label)));
        return Object.freeze(authority.keyId === undefined ? { jwk } : { keyId: authority.keyId, jwk });
      }),
    );
  }

  /**
   * From a JWKS. Entries with `use` "jwt-svid" are authorities; with `allowMissingUse` (the Workload
   * API's JWT bundles, where SPIRE omits `use`) so are entries without `use`.
   */
  static fromJwks(trustDomain: TrustDomain, json: string | object, options: { allowMissingUse?: boolean } = {}): JwtBundle {
    const what = `JWT bundle of "${trustDomain}"`;
    const document = typeof json === 'string' ? wrap(what, () => parseJson(json)) : (json as JsonValue);
    return new JwtBundle(trustDomain, readKeys(document, what, options.allowMissingUse ?? false).jwt);
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

  /** Parses the SPIFFE bundle JSON of `trustDomain` (SPIFFE Trust Domain and Bundle §4). */
  static parse(trustDomain: TrustDomain, text: string): SpiffeBundle {
    const what = `SPIFFE bundle of "${trustDomain}"`;
    return bundleFromJson(trustDomain, wrap(what, () => parseJson(text)), what);
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
export function parseBundleMap(text: string): SpiffeBundle[] {
  const what = 'bundle map';
  const document = wrap(what, () => parseJson(text));
  const map = isJsonObject(document) ? document['trust_domains'] : undefined;
  if (!isJsonObject(map)) throw new BundleError(`${what}: expected an object with a "trust_domains" object`);
  const seen = new Set<string>();
  return Object.entries(map).map(([key, value]) => {
    const trustDomain = wrap(`${what}: key ${JSON.stringify(key)}`, () => TrustDomain.parse(key));
    if (seen.has(trustDomain.name)) throw new BundleError(`${what}: trust domain "${trustDomain}" appears more than once`);
    seen.add(trustDomain.name);
    return bundleFromJson(trustDomain, value, `${what}: SPIFFE bundle of "${trustDomain}"`);
  });
}

function bundleFromJson(trustDomain: TrustDomain, document: JsonValue, what: string): SpiffeBundle {
  const { x509, jwt } = readKeys(document, what, false);
  const object = document as JsonObject;
  return new SpiffeBundle({
    x509: new X509Bundle(trustDomain, x509),
    jwt: new JwtBundle(trustDomain, jwt),
    ...optional('sequence', readSequence(object['spiffe_sequence'], what)),
    ...optional('refreshHintSeconds', readRefreshHint(object['spiffe_refresh_hint'], what)),
  });
}

function readKeys(document: JsonValue, what: string, allowMissingUse: boolean): { x509: X509Certificate[]; jwt: JwtAuthority[] } {
  const keys = isJsonObject(document) ? document['keys'] : undefined;
  if (!Array.isArray(keys)) throw new BundleError(`${what}: "keys" must be an array (it may be empty)`);
  const x509: X509Certificate[] = [];
  const jwt: JwtAuthority[] = [];
  keys.forEach((key, i) => {
    const label = `${what}: keys[${i}]`;
    if (!isJsonObject(key)) throw new BundleError(`${label} is not an object`);
    // Unknown key types and uses are skipped, as the spec requires; they grant nothing.
    if (!['EC', 'RSA', 'OKP'].includes(key['kty'] as string)) return;
    const use = key['use'];
    if (use === 'x509-svid') {
      const cert = readX509Authority(key, label);
      if (cert) x509.push(cert);
    } else if (use === 'jwt-svid' || (use === undefined && allowMissingUse)) {
      const keyId = key['kid'];
      if (typeof keyId !== 'string' || keyId === '') throw new BundleError(`${label}: a jwt-svid key needs a non-empty "kid"`);
      jwt.push({ keyId, jwk: key as JsonWebKey });
    }
  });
  return { x509, jwt };
}

function readX509Authority(key: JsonObject, label: string): X509Certificate | undefined {
  const chain = key['x5c'];
  if (!Array.isArray(chain)) throw new BundleError(`${label}: an x509-svid key needs an "x5c" array`);
  const first = chain[0];
  if (first === undefined) return undefined;
  if (typeof first !== 'string' || !isBase64(first)) throw new BundleError(`${label}: x5c[0] is not base64`);
  const { cert } = wrap(label, () => parseCertificate(Buffer.from(first, 'base64'), 'x5c[0]'));
  const jwkKey = importPublicJwk(key as JsonWebKey, label);
  if (!spki(jwkKey).equals(spki(cert.publicKey))) {
    throw new BundleError(`${label}: the JWK key members do not match the public key of the x5c certificate`);
  }
  return cert;
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];

function importPublicJwk(jwk: JsonWebKey, label: string): KeyObject {
  const leaked = PRIVATE_MEMBERS.filter((member) => member in jwk);
  if (leaked.length > 0) throw new BundleError(`${label}: has private key members (${leaked.join(', ')}); a bundle holds public keys only`);
  return wrap(label, () => createPublicKey({ key: jwk, format: 'jwk' }));
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
  if (typeof value === 'number') return value;
  throw new BundleError(`${what}: spiffe_refresh_hint must be a number of seconds`);
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
