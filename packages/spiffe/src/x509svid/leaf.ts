import { describeCertificate, hasKeyUsage, KeyUsageBit, type ParsedCertificate } from '../internal/certificate';
import { SpiffeId } from '../spiffeid/id';
import { guard, X509SvidError } from './errors';

/**
 * The leaf rules, for our own SVID and for a peer's alike: exactly one URI SAN holding a SPIFFE ID
 * with a path, not a CA, no keyCertSign or cRLSign (X509-SVID §5.2), and digitalSignature set.
 *
 * digitalSignature: X509-SVID §4.3 and Appendix A say a leaf MUST set it, and RFC 5280 §4.2.1.3 says a
 * key whose key usage lacks it must not be used to verify signatures, which is exactly what a peer's
 * leaf key does in the TLS handshake (CertificateVerify). go-spiffe checks it only on its own SVID
 * (ParseRaw), not on peers; we check both, so a certificate its CA did not issue for signing never
 * authenticates anyone. SPIRE always sets it.
 */
export function checkLeaf(leaf: ParsedCertificate): SpiffeId {
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
  if (!hasKeyUsage(leaf, KeyUsageBit.digitalSignature)) {
    throw new X509SvidError('key-usage', `leaf ${id} lacks the digitalSignature key usage`);
  }
  return id;
}
