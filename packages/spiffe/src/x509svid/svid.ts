/**
 * X509-SVIDs: the self-check of our own SVID on receipt, and verification of a peer's SVID
 * (design doc §6) against the bundle of the peer's own trust domain only.
 */
import { createPrivateKey, type KeyObject, type X509Certificate } from 'node:crypto';
import type { X509BundleSource } from '../bundle/bundle';
import { describeCertificate, hasKeyUsage, KeyUsageBit, parseCertificate, parseCertificates, parsedCertificate } from '../internal/certificate';
import { singleDer } from '../internal/der';
import type { SpiffeId } from '../spiffeid/id';
import { guard, X509SvidError } from './errors';
import { checkLeaf } from './leaf';
import { MAX_PATH_LENGTH, PathSearch } from './path';

export interface X509Svid {
  readonly id: SpiffeId;
  /** Leaf first, then any intermediates. */
  readonly certificates: readonly X509Certificate[];
  readonly privateKey: KeyObject;
  readonly hint?: string;
  readonly expiresAt: Date;
}

export interface VerifyOptions {
  /**
   * The time the chain must be valid at.
   * @default the current time
   */
  readonly now?: Date;
  /**
   * At most this many signatures are checked before the chain is rejected (rule `chain-limit`). A
   * valid chain needs one per certificate below its root.
   * @default 100, as Go's crypto/x509
   */
  readonly maxSignatureChecks?: number;
}

/** Most certificates a peer may present (leaf included): a valid path is never longer. */
const MAX_PRESENTED_CERTIFICATES = MAX_PATH_LENGTH;
const DEFAULT_MAX_SIGNATURE_CHECKS = 100;

/**
 * Parses and self-checks an SVID received from the Workload API (as go-spiffe's ParseRaw): the leaf
 * passes the leaf rules, every later certificate is a CA with keyCertSign, and the PKCS#8 private
 * key belongs to the leaf.
 */
export function parseX509Svid(certificatesDer: Buffer, privateKeyDer: Buffer, hint?: string): X509Svid {
  const certificates = guard('der', () => parseCertificates(certificatesDer, 'x509_svid'));
  const [leaf, ...signers] = certificates;
  if (!leaf) throw new X509SvidError('der', 'x509_svid holds no certificate');
  const id = checkLeaf(leaf);
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
 * design doc §6, and returns its ID and the path (DER, leaf first) to a root of the ID's own trust
 * domain. The caller then runs its authorizer on the result. The work is bounded whatever the peer
 * sends (see path.ts). Only the DER is returned: making Node certificates costs more than the
 * verification itself, so callers that want them make them.
 */
export function verifyX509Svid(
  chainDer: readonly Buffer[],
  bundles: X509BundleSource,
  options: VerifyOptions = {},
): { id: SpiffeId; verifiedChain: readonly Buffer[] } {
  if (chainDer.length === 0) throw new X509SvidError('der', 'the peer presented no certificate');
  if (chainDer.length > MAX_PRESENTED_CERTIFICATES) {
    throw new X509SvidError('chain-limit', `the peer presented ${chainDer.length} certificates; at most ${MAX_PRESENTED_CERTIFICATES} are accepted`);
  }
  const [leafDer, ...intermediatesDer] = chainDer as [Buffer, ...Buffer[]];
  const leaf = guard('der', () => parseCertificate(leafDer, 'peer certificate 0'));
  const id = checkLeaf(leaf);
  const bundle = bundles.getX509Bundle(id.trustDomain);
  if (!bundle) throw new X509SvidError('bundle', `no X.509 bundle for trust domain "${id.trustDomain}" of ${id}`);
  if (!bundle.trustDomain.equals(id.trustDomain)) {
    throw new X509SvidError('bundle', `the bundle source returned the bundle of "${bundle.trustDomain}" for "${id.trustDomain}"`);
  }
  const intermediates = distinct(intermediatesDer).map((der, i) => guard('der', () => parseCertificate(der, `peer certificate ${i + 1}`)));
  const roots = bundle.authorities.map((cert) => parsedCertificate(cert));
  const search = new PathSearch(roots, intermediates, id.trustDomain, options.now ?? new Date(), options.maxSignatureChecks ?? DEFAULT_MAX_SIGNATURE_CHECKS);
  return { id, verifiedChain: Object.freeze(search.find(leaf).map((c) => c.der)) };
}

/** PEM for Node TLS options (`cert`, `key`). */
export function x509SvidToPem(svid: X509Svid): { certChainPem: string; keyPem: string } {
  return {
    certChainPem: svid.certificates.map((cert) => cert.toString()).join(''),
    keyPem: svid.privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
  };
}

function distinct(ders: readonly Buffer[]): Buffer[] {
  return ders.filter((der, i) => ders.findIndex((other) => other.equals(der)) === i);
}
