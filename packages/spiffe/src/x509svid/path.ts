/**
 * Path building for a peer's X509-SVID (RFC 5280 §6, design doc §6 step 7), bounded so that hostile
 * input costs milliseconds: a chain is rejected, never explored at length.
 *
 * The bounds, each closing one way to make the search expensive:
 * - a certificate whose subject and public key already appear on the path is never a candidate
 *   (Go's `alreadyInChain`): CA certificates sharing one subject and one key all sign each other, so
 *   without this rule the search visits every ordering of them;
 * - each (certificate, issuer key) signature is checked at most once per verification (a memo);
 * - at most `maxSignatureChecks` signatures are checked in all (Go: `maxChainSignatureChecks`, 100),
 *   after which verification fails with rule `chain-limit`;
 * - paths hold at most `MAX_PATH_LENGTH` certificates, and the caller caps how many the peer presents.
 */
import { describeCertificate, displayName, hasKeyUsage, KeyUsageBit, publicKeyOf, type ParsedCertificate } from '../internal/certificate';
import { nameConstraintsViolation } from '../internal/nameconstraints';
import { acceptedSignatureScheme, signatureVerifies } from '../internal/signature';
import { SpiffeId, type TrustDomain } from '../spiffeid/id';
import { X509SvidError } from './errors';

/** Longest accepted path, leaf and root included. */
export const MAX_PATH_LENGTH = 8;

interface Candidate {
  readonly cert: ParsedCertificate;
  readonly isRoot: boolean;
}

/** One verification's search: from the leaf through presented intermediates to a root of the bundle. */
export class PathSearch {
  private signatureChecks = 0;
  private readonly signatureResults = new Map<ParsedCertificate, Map<string, boolean>>();
  private readonly failures: string[] = [];
  private readonly candidates: readonly Candidate[];

  constructor(
    roots: readonly ParsedCertificate[],
    intermediates: readonly ParsedCertificate[],
    private readonly trustDomain: TrustDomain,
    private readonly now: Date,
    private readonly maxSignatureChecks: number,
  ) {
    this.candidates = [...roots.map((cert) => ({ cert, isRoot: true })), ...intermediates.map((cert) => ({ cert, isRoot: false }))];
  }

  /** The path, leaf first and a root of the bundle last; throws with every dead end when there is none. */
  find(leaf: ParsedCertificate): ParsedCertificate[] {
    const leafProblem = certificateProblem(leaf, this.now);
    if (leafProblem) throw new X509SvidError('chain', `leaf ${describeCertificate(leaf)} ${leafProblem}`);
    const path = this.extend([leaf]);
    if (!path) throw new X509SvidError('chain', `no valid path to a root of "${this.trustDomain}": ${this.failures.join('; ')}`);
    return path;
  }

  private extend(path: readonly ParsedCertificate[]): ParsedCertificate[] | undefined {
    const child = path[path.length - 1] as ParsedCertificate;
    const issuers = this.issuersOf(child, path);
    if (issuers.length === 0) {
      this.failures.push(`no root of "${this.trustDomain}" or presented intermediate is the issuer ${issuerOf(child)} of ${describeCertificate(child)}`);
    }
    for (const { cert: issuer, isRoot } of issuers) {
      const problem = this.issuerProblem(issuer, path);
      if (problem) {
        this.failures.push(`${isRoot ? 'root' : 'intermediate'} ${describeCertificate(issuer)} ${problem}`);
      } else if (isRoot) {
        return [...path, issuer];
      } else if (path.length + 1 >= MAX_PATH_LENGTH) {
        this.failures.push(`the path through ${describeCertificate(issuer)} would exceed ${MAX_PATH_LENGTH} certificates`);
      } else {
        const found = this.extend([...path, issuer]);
        if (found) return found;
      }
    }
    return undefined;
  }

  /**
   * Certificates named as the issuer of `child` (exact subject DER, as Go matches), not already
   * signers on the path; roots first, and within each kind those whose subjectKeyIdentifier matches
   * the child's authorityKeyIdentifier before those without one, and mismatches last (as Go orders them).
   */
  private issuersOf(child: ParsedCertificate, path: readonly ParsedCertificate[]): Candidate[] {
    const rank = (cert: ParsedCertificate): number => {
      if (!child.authorityKeyId || !cert.subjectKeyId) return 1;
      return child.authorityKeyId.equals(cert.subjectKeyId) ? 0 : 2;
    };
    return this.candidates
      .filter(({ cert }) => cert.subjectDer.equals(child.issuerDer) && !path.some((onPath) => sameSigner(onPath, cert)))
      .map((candidate, order) => ({ candidate, order, rank: rank(candidate.cert) }))
      .sort((a, b) => Number(b.candidate.isRoot) - Number(a.candidate.isRoot) || a.rank - b.rank || a.order - b.order)
      .map(({ candidate }) => candidate);
  }

  /** Whether `issuer` may issue the last certificate of `path` (leaf first); the signature is checked last. */
  private issuerProblem(issuer: ParsedCertificate, path: readonly ParsedCertificate[]): string | undefined {
    const child = path[path.length - 1] as ParsedCertificate;
    const general = certificateProblem(issuer, this.now);
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
    if (issuer.nameConstraints) {
      for (const cert of path) {
        const violation = nameConstraintsViolation(issuer.nameConstraints, cert.sans);
        if (violation) return `has name constraints that ${describeCertificate(cert)} violates: ${violation}`;
      }
    }
    const algorithm = acceptedSignatureScheme(child);
    if (!algorithm) return `signed ${describeCertificate(child)} with signature algorithm ${child.signatureAlgorithm}, which is not allowed`;
    if (!this.signatureVerifies(child, issuer)) return `did not sign ${describeCertificate(child)} (the ${algorithm} signature does not verify)`;
    return undefined;
  }

  private signatureVerifies(child: ParsedCertificate, issuer: ParsedCertificate): boolean {
    let byKey = this.signatureResults.get(child);
    if (!byKey) this.signatureResults.set(child, (byKey = new Map()));
    const key = issuer.subjectPublicKeyInfoDer.toString('latin1');
    const known = byKey.get(key);
    if (known !== undefined) return known;
    if (this.signatureChecks >= this.maxSignatureChecks) {
      throw new X509SvidError(
        'chain-limit',
        `gave up after ${this.signatureChecks} signature checks without a path to a root of "${this.trustDomain}"; ` +
          `a valid chain needs one per certificate (dead ends so far: ${this.failures.join('; ') || 'none'})`,
      );
    }
    this.signatureChecks++;
    const verifies = signatureVerifies(child, publicKeyOf(issuer));
    byKey.set(key, verifies);
    return verifies;
  }
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

/** Two CA certificates with the same subject and key sign exactly the same certificates. */
function sameSigner(a: ParsedCertificate, b: ParsedCertificate): boolean {
  return a === b || (a.subjectDer.equals(b.subjectDer) && a.subjectPublicKeyInfoDer.equals(b.subjectPublicKeyInfoDer));
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

/** The issuer's name as Node prints it, for messages. */
function issuerOf(child: ParsedCertificate): string {
  try {
    return JSON.stringify(displayName(child.cert.issuer));
  } catch {
    return 'of unreadable name';
  }
}
