/**
 * The parts of an X.509 certificate that SPIFFE verification decides on, parsed from DER by us.
 *
 * Node's X509Certificate hides or misreports them: `ca` folds keyCertSign into cA (P2), `keyUsage`
 * is the EKU list (P3), `subjectAltName` is an escaped display string (P4), and there is no list of
 * critical extensions. It is also slow to make (about 130 µs, more than two ECDSA signature checks),
 * so a peer's certificates are verified from our parse alone and Node's object is made only when
 * asked for.
 *
 * Why a hand-written reader rather than @peculiar/asn1-x509 (which the tests use as an independent
 * reference, see der-reference.test.ts): parsing one certificate with @peculiar/asn1-schema takes
 * about 380 µs and re-encoding it (the only way to prove DER, not BER) 340 µs more, against about
 * 50 µs here; on the TLS handshake path that would cost several times the signature checks it guards.
 * This reader enforces the same rules directly: definite minimal lengths, exact element boundaries,
 * no trailing bytes, DER booleans, minimal integers and OIDs, and no duplicate extensions.
 */
import { createHash, type KeyObject, X509Certificate } from 'node:crypto';
import { DerError, DerReader, DerTag, readBoolean, readOid, readSmallUnsigned, singleDer, splitDer, type DerElement } from './der';
import { readGeneralName, type GeneralName } from './generalname';
import { parseNameConstraints, type NameConstraints } from './nameconstraints';

export const KeyUsageBit = { digitalSignature: 0, keyCertSign: 5, cRLSign: 6 } as const;

export interface ParsedCertificate {
  /** The certificate's DER. */
  readonly der: Buffer;
  /** Node's view of it, made on first use. */
  readonly cert: X509Certificate;
  /** The DER TBSCertificate: the signed bytes. */
  readonly tbsDer: Buffer;
  /** The signature, without the BIT STRING's unused-bits octet. */
  readonly signatureValue: Buffer;
  readonly subjectDer: Buffer;
  readonly issuerDer: Buffer;
  /** The DER SubjectPublicKeyInfo: with the subject, what makes two CA certificates the same signer. */
  readonly subjectPublicKeyInfoDer: Buffer;
  readonly notBefore: Date;
  readonly notAfter: Date;
  /** OID of the signature algorithm (the same in the TBS and outside it). */
  readonly signatureAlgorithm: string;
  /** Subject alternative names; empty without the extension. */
  readonly sans: readonly GeneralName[];
  /** Absent without the extension. */
  readonly basicConstraints?: { readonly ca: boolean; readonly pathLen?: number };
  /** Bit i is KeyUsage bit i (see KeyUsageBit); absent without the extension. */
  readonly keyUsage?: number;
  readonly nameConstraints?: NameConstraints;
  /** The subjectKeyIdentifier; absent without the extension. */
  readonly subjectKeyId?: Buffer;
  /** The keyIdentifier of the authorityKeyIdentifier; absent without it. */
  readonly authorityKeyId?: Buffer;
  readonly unknownCriticalExtensions: readonly string[];
}

const OID = {
  subjectKeyIdentifier: '2.5.29.14',
  keyUsage: '2.5.29.15',
  subjectAltName: '2.5.29.17',
  basicConstraints: '2.5.29.19',
  nameConstraints: '2.5.29.30',
  authorityKeyIdentifier: '2.5.29.35',
  extKeyUsage: '2.5.29.37',
} as const;

/** Extensions we process; EKU counts as processed because SPIFFE says not to enforce it. */
const KNOWN_EXTENSIONS: ReadonlySet<string> = new Set(Object.values(OID));

const byNodeCertificate = new WeakMap<X509Certificate, ParsedCertificate>();
/**
 * Recently parsed certificates by DER. Peers present the same intermediates on every connection and
 * the same leaf until it rotates; a bounded cache keeps that from being parsed again, and holds at
 * most CACHE_SIZE entries whatever a peer sends.
 */
const byDer = new Map<string, ParsedCertificate>();
const CACHE_SIZE = 256;

/** Parses one certificate; `der` must be exactly one DER element. */
export function parseCertificate(der: Buffer, what = 'certificate'): ParsedCertificate {
  const exact = singleDer(der, what);
  const key = exact.toString('base64');
  const cached = byDer.get(key);
  if (cached) {
    byDer.delete(key);
    byDer.set(key, cached);
    return cached;
  }
  const parsed = parseFields(Buffer.from(exact), what);
  byDer.set(key, parsed);
  if (byDer.size > CACHE_SIZE) byDer.delete(byDer.keys().next().value as string);
  return parsed;
}

/** Parses concatenated DER certificates, strictly split by their lengths (P5). */
export function parseCertificates(concatenated: Buffer, what: string): ParsedCertificate[] {
  return splitDer(concatenated, what).map((der, i) => parseCertificate(der, `${what}[${i}]`));
}

/** The parsed view of a Node certificate, memoized because bundle roots are checked on every handshake. */
export function parsedCertificate(cert: X509Certificate, what = 'certificate'): ParsedCertificate {
  let parsed = byNodeCertificate.get(cert);
  if (!parsed) {
    parsed = parseFields(cert.raw, what, cert);
    byNodeCertificate.set(cert, parsed);
  }
  return parsed;
}

const publicKeys = new WeakMap<ParsedCertificate, KeyObject>();

/** The certificate's public key; made once per certificate, since making one costs about 150 µs. */
export function publicKeyOf(certificate: ParsedCertificate): KeyObject {
  let key = publicKeys.get(certificate);
  if (!key) publicKeys.set(certificate, (key = certificate.cert.publicKey));
  return key;
}

export function hasKeyUsage(certificate: ParsedCertificate, bit: number): boolean {
  return certificate.keyUsage !== undefined && (certificate.keyUsage & (1 << bit)) !== 0;
}

/** The subject (or, if empty, the serial number) for error messages; the digest if OpenSSL cannot read it. */
export function describeCertificate(certificate: ParsedCertificate): string {
  let cert: X509Certificate;
  try {
    cert = certificate.cert;
  } catch {
    return `sha256:${createHash('sha256').update(certificate.der).digest('hex')}`;
  }
  const subject = displayName(cert.subject);
  return subject === '' ? `serial ${cert.serialNumber}` : JSON.stringify(subject);
}

/** Node's multi-line DN as one line; Node reports an empty DN as undefined despite its typings. */
export function displayName(name: string | undefined): string {
  return (name ?? '').replace(/\n/g, ', ');
}

function parseFields(der: Buffer, what: string, known?: X509Certificate): ParsedCertificate {
  const certificate = new DerReader(new DerReader(der, what).read(DerTag.sequence).contents, what);
  const tbsElement = certificate.read(DerTag.sequence);
  const tbs = new DerReader(tbsElement.contents, `${what} TBSCertificate`);
  const outerAlgorithm = certificate.read(DerTag.sequence);
  const signatureBits = certificate.read(DerTag.bitString).contents;
  certificate.end();
  if (signatureBits[0] !== 0) throw new DerError(`${what}: the signature BIT STRING does not hold whole octets`);

  tbs.readOptional(0xa0); // version
  tbs.read(DerTag.integer); // serialNumber
  const tbsAlgorithm = tbs.read(DerTag.sequence);
  const issuer = tbs.read(DerTag.sequence);
  const validity = new DerReader(tbs.read(DerTag.sequence).contents, `${what} validity`);
  const subject = tbs.read(DerTag.sequence);
  const subjectPublicKeyInfo = tbs.read(DerTag.sequence);
  tbs.readOptional(0x81); // issuerUniqueID
  tbs.readOptional(0x82); // subjectUniqueID
  const extensions = tbs.readOptional(0xa3);
  tbs.end();

  if (!tbsAlgorithm.encoded.equals(outerAlgorithm.encoded)) {
    throw new DerError(`${what}: the signature algorithm inside the TBSCertificate differs from the one outside it`);
  }
  const notBefore = readTime(validity.read(), `${what} notBefore`);
  const notAfter = readTime(validity.read(), `${what} notAfter`);
  validity.end();

  let cert = known;
  return {
    der,
    get cert(): X509Certificate {
      cert ??= nodeCertificate(der, what);
      return cert;
    },
    tbsDer: tbsElement.encoded,
    signatureValue: signatureBits.subarray(1),
    subjectDer: subject.encoded,
    issuerDer: issuer.encoded,
    subjectPublicKeyInfoDer: subjectPublicKeyInfo.encoded,
    notBefore,
    notAfter,
    signatureAlgorithm: readOid(new DerReader(outerAlgorithm.contents, what).read(DerTag.oid), `${what} signatureAlgorithm`),
    ...parseExtensions(extensions, what),
  };
}

function nodeCertificate(der: Buffer, what: string): X509Certificate {
  let cert: X509Certificate;
  try {
    cert = new X509Certificate(der);
  } catch (error) {
    throw new DerError(`${what}: not an X.509 certificate (${(error as Error).message})`);
  }
  if (!cert.raw.equals(der)) throw new DerError(`${what}: OpenSSL re-encoded the certificate, so it is not DER`);
  return cert;
}

type ExtensionFields = Pick<
  ParsedCertificate,
  'sans' | 'basicConstraints' | 'keyUsage' | 'nameConstraints' | 'subjectKeyId' | 'authorityKeyId' | 'unknownCriticalExtensions'
>;

function parseExtensions(explicit: DerElement | undefined, what: string): ExtensionFields {
  const fields: { -readonly [K in keyof ExtensionFields]: ExtensionFields[K] } = { sans: [], unknownCriticalExtensions: [] };
  if (!explicit) return fields;
  const outer = new DerReader(explicit.contents, `${what} extensions`);
  const list = new DerReader(outer.read(DerTag.sequence).contents, `${what} extensions`);
  outer.end();
  const seen = new Set<string>();
  const unknownCritical: string[] = [];
  while (!list.done) {
    const extension = new DerReader(list.read(DerTag.sequence).contents, `${what} extension`);
    const oid = readOid(extension.read(DerTag.oid), `${what} extnID`);
    const criticalElement = extension.readOptional(DerTag.boolean);
    const critical = criticalElement ? readBoolean(criticalElement, `${what} extension ${oid} critical`) : false;
    const value = extension.read(DerTag.octetString).contents;
    extension.end();
    if (seen.has(oid)) throw new DerError(`${what}: extension ${oid} appears more than once`);
    seen.add(oid);
    const context = `${what} extension ${oid}`;
    switch (oid) {
      case OID.subjectAltName:
        fields.sans = readGeneralNames(value, context);
        break;
      case OID.basicConstraints:
        fields.basicConstraints = readBasicConstraints(value, context);
        break;
      case OID.keyUsage:
        fields.keyUsage = readKeyUsage(value, context);
        break;
      case OID.nameConstraints:
        fields.nameConstraints = parseNameConstraints(value);
        break;
      case OID.subjectKeyIdentifier:
        fields.subjectKeyId = readSubjectKeyId(value, context);
        break;
      case OID.authorityKeyIdentifier: {
        const keyId = readAuthorityKeyId(value, context);
        if (keyId) fields.authorityKeyId = keyId;
        break;
      }
      default:
        if (critical && !KNOWN_EXTENSIONS.has(oid)) unknownCritical.push(oid);
    }
  }
  fields.unknownCriticalExtensions = unknownCritical;
  return fields;
}

function readGeneralNames(value: Buffer, what: string): GeneralName[] {
  const outer = new DerReader(value, what);
  const list = new DerReader(outer.read(DerTag.sequence).contents, what);
  outer.end();
  const names: GeneralName[] = [];
  while (!list.done) names.push(readGeneralName(list.read(), what));
  return names;
}

function readBasicConstraints(value: Buffer, what: string): { ca: boolean; pathLen?: number } {
  const outer = new DerReader(value, what);
  const fields = new DerReader(outer.read(DerTag.sequence).contents, what);
  outer.end();
  const ca = fields.readOptional(DerTag.boolean);
  const pathLen = fields.readOptional(DerTag.integer);
  fields.end();
  return {
    ca: ca ? readBoolean(ca, `${what} cA`) : false,
    ...(pathLen && { pathLen: readSmallUnsigned(pathLen, `${what} pathLenConstraint`) }),
  };
}

function readSubjectKeyId(value: Buffer, what: string): Buffer {
  const outer = new DerReader(value, what);
  const keyId = outer.read(DerTag.octetString).contents;
  outer.end();
  return keyId;
}

/** The [0] keyIdentifier of AuthorityKeyIdentifier; the issuer-and-serial form is read past, not used. */
function readAuthorityKeyId(value: Buffer, what: string): Buffer | undefined {
  const outer = new DerReader(value, what);
  const fields = new DerReader(outer.read(DerTag.sequence).contents, what);
  outer.end();
  const keyId = fields.readOptional(0x80);
  fields.readOptional(0xa1); // authorityCertIssuer
  fields.readOptional(0x82); // authorityCertSerialNumber
  fields.end();
  return keyId?.contents;
}

function readKeyUsage(value: Buffer, what: string): number {
  const outer = new DerReader(value, what);
  const bits = outer.read(DerTag.bitString).contents;
  outer.end();
  const unused = bits[0];
  if (unused === undefined || unused > 7 || (bits.length === 1 && unused !== 0)) {
    throw new DerError(`${what}: malformed BIT STRING`);
  }
  let mask = 0;
  const count = (bits.length - 1) * 8 - unused;
  for (let bit = 0; bit < Math.min(count, 16); bit++) {
    if (((bits[1 + (bit >> 3)] as number) >> (7 - (bit & 7))) & 1) mask |= 1 << bit;
  }
  return mask;
}

function readTime(element: DerElement, what: string): Date {
  const text = element.contents.toString('latin1');
  const match =
    element.tag === DerTag.utcTime
      ? /^(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
      : element.tag === DerTag.generalizedTime
        ? /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})Z$/.exec(text)
        : null;
  if (!match) throw new DerError(`${what}: ${JSON.stringify(text)} is not a UTCTime or GeneralizedTime of the form RFC 5280 requires`);
  const [year, month, day, hour, minute, second] = match.slice(1) as [string, string, string, string, string, string];
  const fullYear = element.tag === DerTag.utcTime ? (Number(year) >= 50 ? '19' : '20') + year : year;
  const iso = `${fullYear}-${month}-${day}T${hour}:${minute}:${second}.000Z`;
  const date = new Date(iso);
  if (Number.isNaN(date.getTime()) || date.toISOString() !== iso) {
    throw new DerError(`${what}: ${JSON.stringify(text)} is not a valid date`);
  }
  return date;
}
