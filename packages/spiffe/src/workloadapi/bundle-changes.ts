import type { BundleSet, JwtBundle, X509Bundle } from '../bundle/bundle';

/** Trust domains (by name) whose bundles appeared, disappeared or changed between two bundle sets. */
export interface BundleChanges {
  readonly added: readonly string[];
  readonly removed: readonly string[];
  readonly changed: readonly string[];
}

export function bundleChanges(before: BundleSet, after: BundleSet): BundleChanges {
  const old = new Map(before.trustDomains().map((td) => [td.name, fingerprint(before.getX509Bundle(td), before.getJwtBundle(td))]));
  const now = new Map(after.trustDomains().map((td) => [td.name, fingerprint(after.getX509Bundle(td), after.getJwtBundle(td))]));
  return {
    added: [...now.keys()].filter((name) => !old.has(name)),
    removed: [...old.keys()].filter((name) => !now.has(name)),
    changed: [...now.keys()].filter((name) => old.has(name) && old.get(name) !== now.get(name)),
  };
}

export function hasBundleChanges(changes: BundleChanges): boolean {
  return changes.added.length + changes.removed.length + changes.changed.length > 0;
}

function fingerprint(x509: X509Bundle | undefined, jwt: JwtBundle | undefined): string {
  return JSON.stringify([
    x509?.authorities.map((cert) => cert.raw.toString('base64')) ?? null,
    jwt?.authorities.map((authority) => [authority.keyId ?? null, authority.jwk]) ?? null,
  ]);
}
