/**
 * X509-SVIDs: the self-check of our own SVID on receipt, and verification of a peer's SVID
 * (design doc §6) against the bundle of the peer's own trust domain only.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import type { X509BundleSource } from './bundle';
import {
  describeCertificate,
  displayName,
  hasKeyUsage,
  KeyUsageBit,
  parseCertificate,
  parseCertificates,
  parsedCertificate,
  type ParsedCertificate,
} from './certificate';
import { singleDer } from './der';
import { SpiffeId, type TrustDomain } from './id';
import { nameConstraintsViolation } from './nameconstraints';

export interface X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then any intermediates. */
  readonly certificates: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  readonly hint?: string;
  readonly expiresAt: Date;
}

/** Raised when an X509-SVID is rejected; `rule` names the check that failed. */
export class X509SvidError extends Error {
  constructor(readonly rule: string, detail: string, options?: ErrorOptions) {
    super(`X509-SVID rejected (${rule}): ${detail}`, options);
    this.name = 'X509SvidError';
  }
}

/** Longest accepted path, leaf and root included; bounds path search on hostile input. */
const MAX_PATH_LENGTH = 8;

/** Signature algorithms accepted on certificates below the root (no SHA-1 or MD5). */
const SIGNATURE_ALGORITHMS: ReadonlyMap<string, string> = new Map([
  ['1.2.840.10045.4.3.2', 'ecdsa-with-SHA256'],
  ['1.2.840.10045.4.3.3', 'ecdsa-with-SHA384'],
  ['1.2.840.10045.4.3.4', 'ecdsa-with-SHA512'],
  ['1.2.840.113549.1.1.11', 'sha256WithRSAEncryption'],
  ['1.2.840.113549.1.1.12', 'sha384WithRSAEncryption'],
  ['1.2.840.113549.1.1.13', 'sha512WithRSAEncryption'],
  ['1.2.840.113549.1.1.10', 'RSASSA-PSS'],
  ['1.3.101.112', 'Ed25519'],
]);

/**
 * Parses and self-checks an SVID received from the Workload API (as go-spiffe's ParseRaw): the leaf
 * passes the leaf rules and has digitalSignature, every later certificate is a CA with keyCertSign,
 * and the PKCS#8 private key belongs to the leaf.
 */
export function parseX509Svid(certificatesDer: Buffer, privateKeyDer: Buffer, hint?: string): X509Svid {
  const certificates = guard('der', () => parseCertificates(certificatesDer, 'x509_svid'));
  const [leaf, ...signers] = certificates;
  if (!leaf) throw new X509SvidError('der', 'x509_svid holds no certificate');
  const id = checkLeaf(leaf);
  if (!hasKeyUsage(leaf, KeyUsageBit.digitalSignature)) {
    throw new X509SvidError('key-usage', `leaf ${describeCertificate(leaf)} lacks the digitalSignature key usage`);
  }
  signers.forEach((signer, i) => {
    const which = `certificate ${i + 1} ${describeCertificate(signer)}`;
    if (signer.basicConstraints?.ca !== true) {
      throw new X509SvidError('signing-certificate', `${which} is not a CA (basicConstraints cA is not true)`);
    }
    if (!hasKeyUsage(signer, KeyUsageBit.keyCertSign)) {
      throw new X509SvidError('signing-certificate', `${which} lacks the keyCertSign key usage`);
    }
  });
  const privateKey = guard('private-key', () =>
    createPrivateKey({ key: singleDer(privateKeyDer, 'x509_svid_key'), format: 'der', type: 'pkcs8' }),
  );
  if (!leaf.cert.checkPrivateKey(privateKey)) {
    throw new X509SvidError('private-key', `the private key does not match the public key of leaf ${describeCertificate(leaf)}`);
  }
  return Object.freeze({
    id,
    certificates: Object.freeze(certificates.map((c) => c.cert)),
    privateKey,
    ...(hint !== undefined && { hint }),
    expiresAt: leaf.notAfter,
  });
}

/**
 * Verifies a peer's X509-SVID chain (leaf first, each entry one DER certificate) in the order of
 * design doc §6, and returns its ID and the path to a root of the ID's own trust domain. The caller
 * then runs its authorizer on the result.
 */
export function verifyX509Svid(
  chainDer: readonly Buffer[],
  bundles: X509BundleSource,
  now: Date = new Date(),
): { id: SpiffeId; verifiedChain: readonly X509Certificate[] } {
  if (chainDer.length === 0) throw new X509SvidError('der', 'the peer presented no certificate');
  if (chainDer.length > MAX_PATH_LENGTH) {
    throw new X509SvidError('chain', `the peer presented ${chainDer.length} certificates; at most ${MAX_PATH_LENGTH} are accepted`);
  }
  const [leaf, ...intermediates] = chainDer.map((der, i) => guard('der', () => parseCertificate(der, `peer certificate ${i}`))) as [
    ParsedCertificate,
    ...ParsedCertificate[],
  ];
  const id = checkLeaf(leaf);
  const bundle = bundles.getX509Bundle(id.trustDomain);
  if (!bundle) throw new X509SvidError('bundle', `no X.509 bundle for trust domain "${id.trustDomain}" of ${id}`);
  if (!bundle.trustDomain.equals(id.trustDomain)) {
    throw new X509SvidError('bundle', `the bundle source returned the bundle of "${bundle.trustDomain}" for "${id.trustDomain}"`);
  }
  const roots = bundle.authorities.map((cert) => parsedCertificate(cert));
  const fingerprints = intermediates.map((cert) => cert.cert.fingerprint256);
  const distinct = intermediates.filter((_, i) => fingerprints.indexOf(fingerprints[i] as string) === i);
  const path = buildPath(leaf, distinct, roots, id.trustDomain, now);
  return { id, verifiedChain: Object.freeze(path.map((c) => c.cert)) };
}

/** PEM for Node TLS options (`cert`, `key`). */
export function x509SvidToPem(svid: X509Svid): { certChainPem: string; keyPem: string } {
  return {
    certChainPem: svid.certificates.map((cert) => cert.toString()).join(''),
    keyPem: svid.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

/** The leaf rules (steps 2–5): one URI SAN holding a SPIFFE ID with a path, not a CA, no CA key usages. */
function checkLeaf(leaf: ParsedCertificate): SpiffeId {
  const uris = leaf.sans.flatMap((name) => (name.type === 'uri' ? [name.value] : []));
  if (uris.length !== 1) {
    throw new X509SvidError('uri-san', `leaf ${describeCertificate(leaf)} has ${uris.length} URI SANs; exactly one is required`);
  }
  const id = guard('spiffe-id', () => SpiffeId.parse(uris[0] as string));
  if (id.path === '') {
    throw new X509SvidError('spiffe-id', `leaf ID ${id} has no path; a trust domain ID never identifies a workload`);
  }
  if (leaf.basicConstraints?.ca === true) {
    throw new X509SvidError('basic-constraints', `leaf ${id} is a CA (basicConstraints cA is true)`);
  }
  for (const usage of ['keyCertSign', 'cRLSign'] as const) {
    if (hasKeyUsage(leaf, KeyUsageBit[usage])) throw new X509SvidError('key-usage', `leaf ${id} has the ${usage} key usage`);
  }
  return id;
}

/**
 * Step 7: a depth-first search from the leaf through the presented intermediates to a root of the
 * bundle, checking every link. Issuers are matched by exact subject/issuer DER, as Go does.
 */
function buildPath(
  leaf: ParsedCertificate,
  intermediates: readonly ParsedCertificate[],
  roots: readonly ParsedCertificate[],
  trustDomain: TrustDomain,
  now: Date,
): ParsedCertificate[] {
  const leafProblem = certificateProblem(leaf, now);
  if (leafProblem) throw new X509SvidError('chain', `leaf ${describeCertificate(leaf)} ${leafProblem}`);
  const failures: string[] = [];

  const extend = (path: readonly ParsedCertificate[]): ParsedCertificate[] | undefined => {
    const child = path[path.length - 1] as ParsedCertificate;
    const candidates = [...roots.map((cert) => ({ cert, isRoot: true })), ...intermediates.map((cert) => ({ cert, isRoot: false }))];
    const issuers = candidates.filter(({ cert }) => cert.subjectDer.equals(child.issuerDer) && !path.includes(cert));
    if (issuers.length === 0) {
      const issuerName = JSON.stringify(displayName(child.cert.issuer));
      failures.push(`no root of "${trustDomain}" or presented intermediate is the issuer ${issuerName} of ${describeCertificate(child)}`);
    }
    for (const { cert: issuer, isRoot } of issuers) {
      const problem = issuerProblem(issuer, path, now);
      if (problem) {
        failures.push(`${isRoot ? 'root' : 'intermediate'} ${describeCertificate(issuer)} ${problem}`);
      } else if (isRoot) {
        return [...path, issuer];
      } else if (path.length + 1 >= MAX_PATH_LENGTH) {
        failures.push(`the path through ${describeCertificate(issuer)} would exceed ${MAX_PATH_LENGTH} certificates`);
      } else {
        const found = extend([...path, issuer]);
        if (found) return found;
      }
    }
    return undefined;
  };

  const path = extend([leaf]);
  if (!path) throw new X509SvidError('chain', `no valid path to a root of "${trustDomain}": ${failures.join('; ')}`);
  return path;
}

/** Checks that apply to every certificate on the path. */
function certificateProblem(cert: ParsedCertificate, now: Date): string | undefined {
  if (now < cert.notBefore) return `is not valid before ${cert.notBefore.toISOString()}`;
  if (now > cert.notAfter) return `expired at ${cert.notAfter.toISOString()}`;
  if (cert.unknownCriticalExtensions.length > 0) {
    return `has unknown critical extension(s) ${cert.unknownCriticalExtensions.join(', ')}`;
  }
  return undefined;
}

/** Whether `issuer` may issue the last certificate of `path` (leaf first). */
function issuerProblem(issuer: ParsedCertificate, path: readonly ParsedCertificate[], now: Date): string | undefined {
  const child = path[path.length - 1] as ParsedCertificate;
  const general = certificateProblem(issuer, now);
  if (general) return general;
  if (issuer.basicConstraints?.ca !== true) return 'is not a CA (basicConstraints cA is not true)';
  if (!hasKeyUsage(issuer, KeyUsageBit.keyCertSign)) return 'lacks the keyCertSign key usage';
  const pathLen = issuer.basicConstraints.pathLen;
  const below = path.length - 1;
  if (pathLen !== undefined && below > pathLen) {
    return `has pathLenConstraint ${pathLen} but ${below} intermediate(s) follow it`;
  }
  const idProblem = signingCertificateIdProblem(issuer);
  if (idProblem) return idProblem;
  const algorithm = SIGNATURE_ALGORITHMS.get(child.signatureAlgorithm);
  if (!algorithm) return `signed ${describeCertificate(child)} with signature algorithm ${child.signatureAlgorithm}, which is not allowed`;
  if (!verifySignature(child, issuer)) return `did not sign ${describeCertificate(child)} (the ${algorithm} signature does not verify)`;
  if (issuer.nameConstraints) {
    for (const cert of path) {
      const violation = nameConstraintsViolation(issuer.nameConstraints, cert.sans);
      if (violation) return `has name constraints that ${describeCertificate(cert)} violates: ${violation}`;
    }
  }
  return undefined;
}

/** A signing certificate may carry a SPIFFE ID only if it is a trust domain ID (no path). */
function signingCertificateIdProblem(issuer: ParsedCertificate): string | undefined {
  for (const name of issuer.sans) {
    if (name.type !== 'uri' || !name.value.toLowerCase().startsWith('spiffe:')) continue;
    try {
      if (SpiffeId.parse(name.value).path !== '') return `is a CA whose SPIFFE ID ${name.value} has a path`;
    } catch (error) {
      return `is a CA with an invalid SPIFFE ID: ${(error as Error).message}`;
    }
  }
  return undefined;
}

function verifySignature(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
  try {
    return child.cert.verify(issuer.cert.publicKey);
  } catch {
    return false;
  }
}

/** Runs `parse`, reporting its failure as an X509SvidError for `rule`. */
function guard<T>(rule: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    if (error instanceof X509SvidError) throw error;
    throw new X509SvidError(rule, (error as Error).message, { cause: error });
  }
}
