/**
 * The upstream CA of one trust domain: a long-lived, self-signed EC P-256 root that the SPIRE server's
 * `disk` UpstreamAuthority signs its own (short-lived, rotating) CA with. Because it exists before
 * anything is deployed, its certificate can seed every peer's copy of the domain's bundle.
 */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { createPrivateKey, randomBytes, webcrypto, X509Certificate } from 'node:crypto';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { UPSTREAM_CA_FILES } from '../topology/model';

x509.cryptoProvider.set(webcrypto);

export interface UpstreamCa {
  readonly trustDomain: string;
  /** The self-signed root certificate, PEM. */
  readonly certificatePem: string;
  /** Its private key, PKCS#8 PEM. */
  readonly privateKeyPem: string;
}

/** @default 10 years: the root outlives every SPIRE CA rotation and is replaced only deliberately. */
const DEFAULT_VALIDITY_DAYS = 3_650;
const DAY_MS = 24 * 3_600_000;

export interface UpstreamCaOptions {
  /** @default 3650 */
  readonly validityDays?: number;
  /** @default now */
  readonly notBefore?: Date;
}

export async function createUpstreamCa(trustDomain: string, options: UpstreamCaOptions = {}): Promise<UpstreamCa> {
  const td = TrustDomain.parse(trustDomain);
  const notBefore = options.notBefore ?? new Date();
  const keys = (await webcrypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const certificate = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: serialNumber(),
    name: `O=dirtk, CN=${td.name} upstream CA`,
    notBefore,
    notAfter: new Date(notBefore.getTime() + (options.validityDays ?? DEFAULT_VALIDITY_DAYS) * DAY_MS),
    keys,
    signingAlgorithm: { name: 'ECDSA', hash: 'SHA-256' },
    extensions: [
      // No path length limit: SPIRE's own CA sits between this root and every SVID.
      new x509.BasicConstraintsExtension(true, undefined, true),
      new x509.KeyUsagesExtension(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign, true),
      new x509.SubjectAlternativeNameExtension([{ type: 'url', value: td.id }]),
      await x509.SubjectKeyIdentifierExtension.create(keys.publicKey),
    ],
  });
  const pkcs8 = Buffer.from(await webcrypto.subtle.exportKey('pkcs8', keys.privateKey));
  return {
    trustDomain: td.name,
    certificatePem: certificate.toString('pem') + '\n',
    privateKeyPem: createPrivateKey({ key: pkcs8, format: 'der', type: 'pkcs8' }).export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** 16 random bytes as a positive DER INTEGER in minimal form: top bit clear, next bit set. */
function serialNumber(): string {
  const bytes = randomBytes(16);
  bytes[0] = (bytes[0]! & 0x7f) | 0x40;
  return bytes.toString('hex');
}

/** The public half of an upstream CA: all a peer needs to trust the domain. */
export type UpstreamRoot = Pick<UpstreamCa, 'trustDomain' | 'certificatePem'>;

/** Checks that `root` is a CA certificate that names its trust domain and is valid now; returns it parsed. */
export function checkUpstreamRoot(root: UpstreamRoot, now = new Date()): X509Certificate {
  const what = `the upstream CA of ${root.trustDomain}`;
  let certificate: X509Certificate;
  try {
    certificate = new X509Certificate(root.certificatePem);
  } catch (error) {
    throw new Error(`${what}: the certificate is not PEM X.509 (${(error as Error).message})`);
  }
  if (!certificate.ca) throw new Error(`${what}: the certificate is not a CA (basicConstraints cA is false)`);
  const uris = (certificate.subjectAltName ?? '').split(', ').filter((name) => name.startsWith('URI:'));
  if (!uris.includes(`URI:${TrustDomain.parse(root.trustDomain).id}`)) {
    throw new Error(`${what}: the certificate names ${uris.join(', ') || 'no SPIFFE ID'} instead of spiffe://${root.trustDomain}`);
  }
  if (now < new Date(certificate.validFrom) || now > new Date(certificate.validTo)) {
    throw new Error(`${what}: the certificate is valid only from ${certificate.validFrom} to ${certificate.validTo}`);
  }
  return certificate;
}

/** `checkUpstreamRoot`, and that the private key belongs to the certificate. */
export function checkUpstreamCa(ca: UpstreamCa, now = new Date()): X509Certificate {
  const certificate = checkUpstreamRoot(ca, now);
  let key;
  try {
    key = createPrivateKey(ca.privateKeyPem);
  } catch (error) {
    throw new Error(`the upstream CA of ${ca.trustDomain}: the private key is not PEM (${(error as Error).message})`);
  }
  if (!certificate.checkPrivateKey(key)) throw new Error(`the upstream CA of ${ca.trustDomain}: the private key does not belong to the certificate`);
  return certificate;
}

/**
 * The content of each of `UPSTREAM_CA_FILES`, as the SPIRE server's `disk` UpstreamAuthority reads them.
 * The root is self-signed, so it is its own bundle.
 */
export function upstreamCaFiles(ca: UpstreamCa): Readonly<Record<keyof typeof UPSTREAM_CA_FILES, string>> {
  return { certificate: ca.certificatePem, key: ca.privateKeyPem, bundle: ca.certificatePem };
}
