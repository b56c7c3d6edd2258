/**
 * The NameConstraints extension (RFC 5280 §4.2.1.10) for DNS, URI, email and IP names.
 *
 * Like Go's crypto/x509 (which go-spiffe relies on), constraints on other name forms (directoryName,
 * otherName, ...) and subtrees with minimum/maximum are not evaluated; a chain whose CA uses them is
 * rejected rather than accepted unchecked.
 */
import { DerError, DerReader, DerTag, readSmallUnsigned } from './der';
import { describeGeneralName, formatIp, readGeneralName, type GeneralName } from './generalname';

export interface GeneralSubtree {
  readonly base: GeneralName;
  readonly minimum: number;
  readonly maximum?: number;
}

export interface NameConstraints {
  readonly permitted: readonly GeneralSubtree[];
  readonly excluded: readonly GeneralSubtree[];
}

export function parseNameConstraints(extnValue: Buffer): NameConstraints {
  const what = 'nameConstraints';
  const outer = new DerReader(extnValue, what);
  const reader = new DerReader(outer.read(DerTag.sequence).contents, what);
  outer.end();
  const permitted = reader.readOptional(0xa0);
  const excluded = reader.readOptional(0xa1);
  reader.end();
  return {
    permitted: permitted ? readSubtrees(permitted.contents, `${what} permittedSubtrees`) : [],
    excluded: excluded ? readSubtrees(excluded.contents, `${what} excludedSubtrees`) : [],
  };
}

/**
 * Checks `names` against the constraints of one CA; returns why they violate them, or undefined.
 * Constraints apply per name form: a name is only restricted by subtrees of its own form.
 */
export function nameConstraintsViolation(constraints: NameConstraints, names: readonly GeneralName[]): string | undefined {
  for (const subtree of [...constraints.permitted, ...constraints.excluded]) {
    if (subtree.minimum !== 0 || subtree.maximum !== undefined) {
      return 'name constraints with minimum or maximum distances are not supported';
    }
    if (subtree.base.type === 'other') {
      return `name constraints on ${subtree.base.form} names are not supported`;
    }
  }
  try {
    for (const name of names) {
      if (name.type === 'other') continue;
      const excludedBy = constraints.excluded.find((subtree) => matches(name, subtree.base));
      if (excludedBy) {
        return `${describeGeneralName(name)} is in the excluded subtree ${describeGeneralName(excludedBy.base)}`;
      }
      const permitted = constraints.permitted.filter((subtree) => subtree.base.type === name.type);
      if (permitted.length > 0 && !permitted.some((subtree) => matches(name, subtree.base))) {
        return `${describeGeneralName(name)} is outside the permitted subtrees ${permitted.map((s) => describeGeneralName(s.base)).join(', ')}`;
      }
    }
  } catch (error) {
    if (error instanceof UncheckableName) return error.message;
    throw error;
  }
  return undefined;
}

class UncheckableName extends Error {}

function readSubtrees(bytes: Buffer, what: string): GeneralSubtree[] {
  const reader = new DerReader(bytes, what);
  const subtrees: GeneralSubtree[] = [];
  while (!reader.done) {
    const subtree = new DerReader(reader.read(DerTag.sequence).contents, what);
    const baseElement = subtree.read();
    const base = readGeneralName(baseElement, what);
    const minimum = subtree.readOptional(0x80);
    const maximum = subtree.readOptional(0x81);
    subtree.end();
    subtrees.push({
      base: base.type === 'ip' ? checkIpConstraint(base) : base,
      minimum: minimum ? readSmallUnsigned(minimum, `${what} minimum`) : 0,
      ...(maximum && { maximum: readSmallUnsigned(maximum, `${what} maximum`) }),
    });
  }
  if (subtrees.length === 0) throw new DerError(`${what}: empty GeneralSubtrees`);
  return subtrees;
}

function checkIpConstraint(base: GeneralName & { type: 'ip' }): GeneralName {
  const bytes = base.value;
  if (bytes.length !== 8 && bytes.length !== 32) {
    throw new DerError(`nameConstraints: an iPAddress constraint has ${bytes.length} bytes; expected 8 or 32`);
  }
  const mask = bytes.subarray(bytes.length / 2);
  const bits = [...mask].map((byte) => byte.toString(2).padStart(8, '0')).join('');
  if (!/^1*0*$/.test(bits)) throw new DerError(`nameConstraints: iPAddress mask ${formatIp(bytes)} is not contiguous`);
  return base;
}

function matches(name: GeneralName, constraint: GeneralName): boolean {
  if (name.type === 'ip') return constraint.type === 'ip' && ipMatches(name.value, constraint.value);
  if (name.type === 'other' || constraint.type !== name.type) return false;
  switch (name.type) {
    case 'dns':
      return domainMatches(hostName(name.value, name), constraint.value, false);
    case 'uri':
      return domainMatches(uriHost(name.value, name), constraint.value, true);
    case 'email':
      return emailMatches(name.value, name, constraint.value);
  }
}

/**
 * RFC 5280: a leading "." means "strict subdomains of"; otherwise a DNS constraint also covers
 * subdomains, while URI and email constraints name exactly one host.
 */
function domainMatches(domain: string, constraint: string, exactHost: boolean): boolean {
  const host = domain.toLowerCase();
  const wanted = constraint.toLowerCase();
  if (wanted === '') return true;
  if (wanted.startsWith('.')) return host.endsWith(wanted);
  return host === wanted || (!exactHost && host.endsWith(`.${wanted}`));
}

function emailMatches(mailbox: string, name: GeneralName, constraint: string): boolean {
  const at = mailbox.lastIndexOf('@');
  if (at <= 0) throw new UncheckableName(`${describeGeneralName(name)} is not a mailbox, so name constraints cannot be checked`);
  const local = mailbox.slice(0, at);
  const domain = hostName(mailbox.slice(at + 1), name);
  const constraintAt = constraint.lastIndexOf('@');
  if (constraintAt === -1) return domainMatches(domain, constraint, true);
  return local === constraint.slice(0, constraintAt) && domain.toLowerCase() === constraint.slice(constraintAt + 1).toLowerCase();
}

function ipMatches(address: Buffer, constraint: Buffer): boolean {
  if (address.length * 2 !== constraint.length) return false;
  const mask = constraint.subarray(address.length);
  for (let i = 0; i < address.length; i++) {
    const m = mask[i] as number;
    if (((address[i] as number) & m) !== ((constraint[i] as number) & m)) return false;
  }
  return true;
}

function uriHost(uri: string, name: GeneralName): string {
  const authority = /^[A-Za-z][A-Za-z0-9+.-]*:\/\/([^/?#]*)/.exec(uri)?.[1];
  const host = authority?.slice(authority.lastIndexOf('@') + 1).replace(/:\d*$/, '');
  if (!host || host.startsWith('[') || /^\d+\.\d+\.\d+\.\d+$/.test(host)) {
    throw new UncheckableName(`${describeGeneralName(name)} has no host name, so URI name constraints cannot be checked`);
  }
  return hostName(host, name);
}

function hostName(host: string, name: GeneralName): string {
  if (host.split('.').some((label) => label === '')) {
    throw new UncheckableName(`${describeGeneralName(name)} has an empty DNS label, so name constraints cannot be checked`);
  }
  return host;
}
