/**
 * A test CA for SPIFFE verification tests: real EC P-256 / RSA-2048 keys made in the test, root CAs
 * per trust domain, intermediates and leaves, each with options that break one rule at a time, and a
 * JWT signer that is independent of the library under test (node:crypto, not jose).
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { constants, createHmac, generateKeyPairSync, randomBytes, sign, webcrypto, X509Certificate, type JsonWebKey, type KeyObject } from 'node:crypto';

type CryptoKey = webcrypto.CryptoKey;
type CryptoKeyPair = webcrypto.CryptoKeyPair;

x509.cryptoProvider.set(webcrypto);

export const KeyUsage = x509.KeyUsageFlags;

export type KeyAlgorithm = 'ec' | 'ec-p521' | 'rsa';

const KEY_PARAMS: Record<KeyAlgorithm, webcrypto.RsaHashedKeyGenParams | webcrypto.EcKeyGenParams> = {
  ec: { name: 'ECDSA', namedCurve: 'P-256' },
  'ec-p521': { name: 'ECDSA', namedCurve: 'P-521' },
  rsa: { name: 'RSASSA-PKCS1-v1_5', modulusLength: 2048, publicExponent: new Uint8Array([1, 0, 1]), hash: 'SHA-256' },
};

export interface CertOptions {
  /** RFC 4514-style subject; '' for an empty subject. */
  readonly subject?: string;
  /** URI SANs; defaults: `spiffe://<td>` for CAs, `spiffe://<td>/workload` for leaves. */
  readonly uris?: readonly string[];
  /** SANs of other forms, after the URIs. */
  readonly otherSans?: readonly { readonly type: 'dns' | 'ip' | 'email'; readonly value: string }[];
  readonly sanCritical?: boolean;
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number } | 'omit';
  /** KeyUsage flags (see KeyUsage), or 'omit' for no extension. */
  readonly keyUsage?: number | 'omit';
  readonly extendedKeyUsages?: readonly string[];
  readonly notBefore?: Date;
  readonly notAfter?: Date;
  readonly extraExtensions?: readonly x509.Extension[];
  /** Sign with this key instead of the issuer's (while still naming the issuer). */
  readonly signingKey?: CryptoKey;
  readonly signingHash?: 'SHA-1' | 'SHA-256';
  readonly keyAlgorithm?: KeyAlgorithm;
}

export interface Issued {
  readonly cert: X509Certificate;
  readonly der: Buffer;
  readonly keys: CryptoKeyPair;
  /** Unencrypted PKCS#8 DER, as the Workload API delivers it. */
  readonly privateKeyDer: Buffer;
}

let serial = 1;
const DAY = 24 * 3_600_000;

export async function generateKeys(algorithm: KeyAlgorithm = 'ec'): Promise<CryptoKeyPair> {
  return (await webcrypto.subtle.generateKey(KEY_PARAMS[algorithm], true, ['sign', 'verify'])) as CryptoKeyPair;
}

async function issue(
  keys: CryptoKeyPair,
  subject: string,
  issuer: { readonly name: string; readonly keys: CryptoKeyPair },
  defaults: { uris: readonly string[]; basicConstraints: { ca: boolean; pathLen?: number }; keyUsage: number },
  options: CertOptions,
): Promise<Issued> {
  const now = Date.now();
  const extensions: x509.Extension[] = [];
  const basicConstraints = options.basicConstraints ?? defaults.basicConstraints;
  if (basicConstraints !== 'omit') extensions.push(new x509.BasicConstraintsExtension(basicConstraints.ca, basicConstraints.pathLen, true));
  const keyUsage = options.keyUsage ?? defaults.keyUsage;
  if (keyUsage !== 'omit') extensions.push(new x509.KeyUsagesExtension(keyUsage, true));
  const names = [
    ...(options.uris ?? defaults.uris).map((value) => ({ type: 'url' as const, value })),
    ...(options.otherSans ?? []),
  ];
  if (names.length > 0) extensions.push(new x509.SubjectAlternativeNameExtension(names, options.sanCritical ?? false));
  if (options.extendedKeyUsages) extensions.push(new x509.ExtendedKeyUsageExtension([...options.extendedKeyUsages], false));
  extensions.push(...(options.extraExtensions ?? []));
  const signingKey = options.signingKey ?? issuer.keys.privateKey;
  const signingAlgorithm =
    signingKey.algorithm.name === 'ECDSA'
      ? { name: 'ECDSA', hash: options.signingHash ?? 'SHA-256' }
      : { name: signingKey.algorithm.name, hash: options.signingHash ?? 'SHA-256' };
  const cert = await x509.X509CertificateGenerator.create({
    serialNumber: (serial++).toString(16).padStart(2, '0'),
    subject,
    issuer: issuer.name,
    notBefore: options.notBefore ?? new Date(now - DAY),
    notAfter: options.notAfter ?? new Date(now + DAY),
    publicKey: keys.publicKey,
    signingKey,
    signingAlgorithm,
    extensions,
  });
  const der = Buffer.from(cert.rawData);
  const privateKeyDer = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return { cert: new X509Certificate(der), der, keys, privateKeyDer };
}

const CA_KEY_USAGE = x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign;
const LEAF_KEY_USAGE = x509.KeyUsageFlags.digitalSignature | x509.KeyUsageFlags.keyEncipherment | x509.KeyUsageFlags.keyAgreement;

/** A root or intermediate CA of one trust domain. */
export class TestCa implements Issued {
  private children = 0;

  private constructor(
    readonly trustDomain: string,
    readonly name: string,
    private readonly issued: Issued,
    /** DER of the intermediates from this CA up to, not including, the root. */
    readonly intermediatesDer: readonly Buffer[],
  ) {}

  get cert(): X509Certificate {
    return this.issued.cert;
  }
  get der(): Buffer {
    return this.issued.der;
  }
  get keys(): CryptoKeyPair {
    return this.issued.keys;
  }
  get privateKeyDer(): Buffer {
    return this.issued.privateKeyDer;
  }

  static async root(trustDomain: string, options: CertOptions = {}): Promise<TestCa> {
    const keys = await generateKeys(options.keyAlgorithm);
    const name = options.subject ?? `O=${trustDomain}, CN=root`;
    const issued = await issue(keys, name, { name, keys }, caDefaults(trustDomain), options);
    return new TestCa(trustDomain, name, issued, []);
  }

  async intermediate(options: CertOptions = {}): Promise<TestCa> {
    const keys = await generateKeys(options.keyAlgorithm);
    const name = options.subject ?? `O=${this.trustDomain}, CN=intermediate ${++this.children} of ${this.name.replace(/[=,]/g, ' ')}`;
    const issued = await issue(keys, name, this, caDefaults(this.trustDomain), options);
    return new TestCa(this.trustDomain, name, issued, [issued.der, ...this.intermediatesDer]);
  }

  async leaf(options: CertOptions = {}): Promise<Issued> {
    const keys = await generateKeys(options.keyAlgorithm);
    return issue(
      keys,
      options.subject ?? 'CN=workload',
      this,
      { uris: [`spiffe://${this.trustDomain}/workload`], basicConstraints: { ca: false }, keyUsage: LEAF_KEY_USAGE },
      options,
    );
  }

  /** What a TLS peer presents: the leaf, then this CA's intermediates. */
  presented(leaf: Issued): Buffer[] {
    return [leaf.der, ...this.intermediatesDer];
  }
}

/**
 * The hostile chain of the CPU-exhaustion review finding: `count` self-issued CA certificates that
 * share one subject and one key, so each validly signs every other, and a leaf claiming `leafId`
 * issued by that key. No root of any bundle issued them.
 */
export async function sameKeyCaCluster(
  trustDomain: string,
  count: number,
  leafId: string,
  keyAlgorithm: KeyAlgorithm = 'ec',
): Promise<{ cas: Issued[]; leaf: Issued; presented: Buffer[] }> {
  const keys = await generateKeys(keyAlgorithm);
  const signer = { name: `O=${trustDomain}, CN=one subject, one key`, keys };
  const cas: Issued[] = [];
  for (let i = 0; i < count; i++) cas.push(await issue(keys, signer.name, signer, caDefaults(trustDomain), {}));
  const leafKeys = await generateKeys(keyAlgorithm);
  const leaf = await issue(leafKeys, 'CN=workload', signer, { uris: [leafId], basicConstraints: { ca: false }, keyUsage: LEAF_KEY_USAGE }, {});
  return { cas, leaf, presented: [leaf.der, ...cas.map((ca) => ca.der)] };
}

function caDefaults(trustDomain: string) {
  return { uris: [`spiffe://${trustDomain}`], basicConstraints: { ca: true }, keyUsage: CA_KEY_USAGE };
}

/** An extension with an OID nobody knows. */
export function unknownExtension(critical: boolean): x509.Extension {
  return new x509.Extension('1.3.6.1.4.1.55555.1', critical, Buffer.from([0x05, 0x00]));
}

/** A SubjectAltName extension with the given URIs, for certificates that need a second one. */
export function uriSanExtension(uris: readonly string[]): x509.Extension {
  return new x509.SubjectAlternativeNameExtension(uris.map((value) => ({ type: 'url' as const, value })));
}

/** Minimal DER encoding for hand-made extension values. */
export function der(tag: number, ...contents: Buffer[]): Buffer {
  const body = Buffer.concat(contents);
  const length = body.length;
  const header =
    length < 0x80 ? Buffer.from([tag, length]) : length < 0x100 ? Buffer.from([tag, 0x81, length]) : Buffer.from([tag, 0x82, length >> 8, length & 0xff]);
  return Buffer.concat([header, body]);
}

export type NameConstraint = { uri: string } | { dns: string } | { email: string } | { ip: string } | { directoryName: Buffer };

/** A critical NameConstraints extension with the given permitted and excluded subtrees. */
export function nameConstraintsExtension(permitted: readonly NameConstraint[], excluded: readonly NameConstraint[] = []): x509.Extension {
  const base = (constraint: NameConstraint): Buffer => {
    if ('uri' in constraint) return der(0x86, Buffer.from(constraint.uri, 'ascii'));
    if ('dns' in constraint) return der(0x82, Buffer.from(constraint.dns, 'ascii'));
    if ('email' in constraint) return der(0x81, Buffer.from(constraint.email, 'ascii'));
    if ('ip' in constraint) {
      const [address, prefix] = constraint.ip.split('/') as [string, string];
      const bytes = Buffer.from(address.split('.').map(Number));
      const mask = Buffer.alloc(4);
      for (let bit = 0; bit < Number(prefix); bit++) mask[bit >> 3] = (mask[bit >> 3] as number) | (0x80 >> (bit & 7));
      return der(0x87, bytes, mask);
    }
    return der(0xa4, constraint.directoryName);
  };
  const subtrees = (tag: number, list: readonly NameConstraint[]): Buffer[] =>
    list.length === 0 ? [] : [der(tag, ...list.map((c) => der(0x30, base(c))))];
  return new x509.Extension('2.5.29.30', true, der(0x30, ...subtrees(0xa0, permitted), ...subtrees(0xa1, excluded)));
}

// ---- JWT ----

export type JwtAlgorithm = 'ES256' | 'ES384' | 'RS256' | 'PS256';

export interface JwtKey {
  readonly alg: JwtAlgorithm;
  readonly kid: string;
  readonly privateKey: KeyObject;
  /** The public JWK, without kid or use. */
  readonly jwk: JsonWebKey;
}

export function jwtKey(alg: JwtAlgorithm, kid = randomBytes(8).toString('hex')): JwtKey {
  const { privateKey, publicKey } = alg.startsWith('ES')
    ? generateKeyPairSync('ec', { namedCurve: alg === 'ES256' ? 'P-256' : 'P-384' })
    : generateKeyPairSync('rsa', { modulusLength: 2048 });
  return { alg, kid, privateKey, jwk: publicKey.export({ format: 'jwk' }) };
}

const base64url = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');

/**
 * Signs a compact JWS. The header defaults to `{alg, kid, typ: "JWT"}` of `key`; `header` entries
 * override it and an `undefined` value removes one. `alg` may be anything: "HS256" is an HMAC keyed
 * with `hmacSecret`, "none" has an empty signature, and algorithms nobody signs with get junk bytes.
 */
export function signJwt(key: JwtKey, claims: Record<string, unknown>, header: Record<string, unknown> = {}, hmacSecret?: Buffer): string {
  const fullHeader = Object.fromEntries(
    Object.entries({ alg: key.alg, kid: key.kid, typ: 'JWT', ...header }).filter(([, value]) => value !== undefined),
  );
  const input = `${base64url(fullHeader)}.${base64url(claims)}`;
  const alg = String(fullHeader['alg']);
  const hash = `sha${alg.slice(2)}`;
  const data = Buffer.from(input);
  let signature: Buffer;
  if (/^HS\d+$/.test(alg)) signature = createHmac(hash, hmacSecret ?? Buffer.alloc(32)).update(input).digest();
  else if (/^ES\d+$/.test(alg)) signature = sign(hash, data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' });
  else if (/^PS\d+$/.test(alg)) signature = sign(hash, data, { key: key.privateKey, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 });
  else if (/^RS\d+$/.test(alg)) signature = sign(hash, data, key.privateKey);
  else signature = alg === 'none' ? Buffer.alloc(0) : Buffer.alloc(16, 0xab);
  return `${input}.${signature.toString('base64url')}`;
}

/** Standard JWT-SVID claims for `sub`, valid for an hour from `now`. */
export function jwtClaims(sub: string, aud: string | string[], now = new Date()): Record<string, unknown> {
  const seconds = Math.floor(now.getTime() / 1000);
  return { sub, aud, exp: seconds + 3600, iat: seconds };
}
