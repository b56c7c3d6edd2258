/**
 * Certificate signature checks over our own parse (the TBSCertificate bytes and the signature), so
 * a peer's certificate is never handed to OpenSSL's parser just to check its signature.
 */
import crypto, { type KeyObject } from 'node:crypto';
import type { ParsedCertificate } from './certificate';

interface Scheme {
  readonly name: string;
  /** The digest, or null for Ed25519 (which hashes internally). */
  readonly hash: string | null;
  /** The issuer key types this scheme accepts; a key of another type never verifies. */
  readonly keyTypes: readonly string[];
}

/** Signature algorithms accepted on certificates below the root (no SHA-1 or MD5). */
const SCHEMES: ReadonlyMap<string, Scheme> = new Map([
  ['1.2.840.10045.4.3.2', { name: 'ecdsa-with-SHA256', hash: 'sha256', keyTypes: ['ec'] }],
  ['1.2.840.10045.4.3.3', { name: 'ecdsa-with-SHA384', hash: 'sha384', keyTypes: ['ec'] }],
  ['1.2.840.10045.4.3.4', { name: 'ecdsa-with-SHA512', hash: 'sha512', keyTypes: ['ec'] }],
  ['1.2.840.113549.1.1.11', { name: 'sha256WithRSAEncryption', hash: 'sha256', keyTypes: ['rsa'] }],
  ['1.2.840.113549.1.1.12', { name: 'sha384WithRSAEncryption', hash: 'sha384', keyTypes: ['rsa'] }],
  ['1.2.840.113549.1.1.13', { name: 'sha512WithRSAEncryption', hash: 'sha512', keyTypes: ['rsa'] }],
  ['1.2.840.113549.1.1.10', { name: 'RSASSA-PSS', hash: null, keyTypes: ['rsa', 'rsa-pss'] }],
  ['1.3.101.112', { name: 'Ed25519', hash: null, keyTypes: ['ed25519'] }],
]);

const RSASSA_PSS = '1.2.840.113549.1.1.10';

/** The name of the certificate's signature algorithm if it is one we accept. */
export function acceptedSignatureScheme(certificate: ParsedCertificate): string | undefined {
  return SCHEMES.get(certificate.signatureAlgorithm)?.name;
}

/**
 * Whether `issuerKey` made the certificate's signature. RSASSA-PSS carries its digest and salt in
 * algorithm parameters; OpenSSL reads those, so that one scheme is checked through Node's certificate.
 * `crypto.verify` is called through the module object so that tests can count the checks.
 */
export function signatureVerifies(certificate: ParsedCertificate, issuerKey: KeyObject): boolean {
  const scheme = SCHEMES.get(certificate.signatureAlgorithm);
  if (!scheme || !scheme.keyTypes.includes(issuerKey.asymmetricKeyType ?? '')) return false;
  try {
    if (certificate.signatureAlgorithm === RSASSA_PSS) return certificate.cert.verify(issuerKey);
    return crypto.verify(scheme.hash, certificate.tbsDer, issuerKey, certificate.signatureValue);
  } catch {
    return false;
  }
}
