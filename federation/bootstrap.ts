import { parseGoDuration } from '../topology/duration';
import { resolveTopology } from '../topology/resolve';
import type { TopologySpec } from '../topology/spec';
import { loadOrCreateUpstreamCas } from './ca-folder';
import { seedBundle } from './seed-bundle';
import { checkUpstreamRoot, type UpstreamRoot } from './upstream-ca';

/**
 * Zero-touch federation bootstrap: with one upstream CA per trust domain, made before anything is
 * deployed, returns `spec` with
 * - `server.upstreamAuthority` (`disk`) on every trust domain, so each domain's trust bundle is its
 *   upstream root, and
 * - every federation edge to a peer in the topology seeded (`trustDomainBundle`) with that peer's root.
 *
 * Each SPIRE server therefore holds its peers' bundles from its first start: no `bundle set`, no
 * deploy order between domains, and entries with `federatesWith` are created at once. Only the public
 * root of each domain is read, so a deployment that holds only its own CA key can use it.
 *
 * Throws a `TopologyError` for an invalid spec, and an error naming the domains whose root is missing
 * or wrong; edges to peers outside the topology keep whatever bundle they carry.
 */
export function bootstrapFederation(spec: TopologySpec, roots: Readonly<Record<string, UpstreamRoot>>): TopologySpec {
  const topology = resolveTopology(spec);
  const problems: string[] = [];
  const seeded = new Map<string, string>();
  for (const td of topology.trustDomains) {
    const root = roots[td.name];
    if (!root) {
      problems.push(`${td.name}: no upstream CA`);
    } else if (root.trustDomain !== td.name) {
      problems.push(`${td.name}: the upstream CA given is that of ${root.trustDomain}`);
    } else {
      try {
        // Only a domain that serves a bundle endpoint has peers to seed.
        if (td.bundleEndpoint) seeded.set(td.name, seedBundle(root, Math.round(parseGoDuration(td.bundleEndpoint.refreshHint)! / 1000)));
        else checkUpstreamRoot(root);
      } catch (error) {
        problems.push(`${td.name}: ${(error as Error).message}`);
      }
    }
  }
  spec.trustDomains.forEach((td, index) =>
    (td.federatesWith ?? []).forEach((edge, i) => {
      if (seeded.has(edge.trustDomain) && edge.trustDomainBundle !== undefined) {
        problems.push(
          `trustDomains[${index}] (${td.name}).federatesWith[${i}]: already carries a trustDomainBundle for ${edge.trustDomain}; ` +
            'remove it, the bootstrap seeds it from the upstream CA',
        );
      }
    }),
  );
  if (problems.length > 0) {
    throw new Error(`cannot bootstrap federation:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }

  return {
    ...spec,
    trustDomains: spec.trustDomains.map((td) => ({
      ...td,
      server: { ...td.server, upstreamAuthority: { ...td.server?.upstreamAuthority, type: 'disk' } },
      ...(td.federatesWith && {
        federatesWith: td.federatesWith.map((edge) => {
          const bundle = seeded.get(edge.trustDomain);
          return bundle === undefined ? edge : { ...edge, trustDomainBundle: bundle };
        }),
      }),
    })),
  };
}

/**
 * Whether `spec` already has the bootstrap applied: every server reads a `disk` upstream CA and every
 * edge to a peer in the topology carries a seeded bundle. Such a spec (the Kind scripts write one) is
 * deployed as it is.
 */
export function isBootstrapped(spec: TopologySpec): boolean {
  const names = new Set(spec.trustDomains.map((td) => td.name));
  return spec.trustDomains.every(
    (td) =>
      td.server?.upstreamAuthority?.type === 'disk' &&
      (td.federatesWith ?? []).every((edge) => !names.has(edge.trustDomain) || edge.trustDomainBundle !== undefined),
  );
}

/**
 * `spec` ready to deploy: as it is when it is bootstrapped already, else with the zero-touch bootstrap
 * applied from the upstream CAs in `caFolder` (made there when missing). The CA keys stay in that folder;
 * each server reads its own from the Secret its `disk` UpstreamAuthority names.
 */
export async function withFederationBootstrap(spec: TopologySpec, caFolder: string): Promise<{ spec: TopologySpec; caDirs: Record<string, string> }> {
  if (isBootstrapped(spec)) return { spec, caDirs: {} };
  resolveTopology(spec);
  const stored = await loadOrCreateUpstreamCas(
    caFolder,
    spec.trustDomains.map((td) => td.name),
  );
  return {
    spec: bootstrapFederation(spec, Object.fromEntries(Object.entries(stored).map(([td, { ca }]) => [td, ca]))),
    caDirs: Object.fromEntries(Object.entries(stored).map(([td, { dir }]) => [td, dir])),
  };
}
