import { parseGoDuration } from '../topology/duration';
import type { Topology, TrustDomain } from '../topology/model';
import { DEFAULT_UPSTREAM_CA_SECRET } from '../topology/resolve';
import { loadOrCreateUpstreamCas } from './ca-folder';
import { seedBundle } from './seed-bundle';
import { checkUpstreamRoot, type UpstreamRoot } from './upstream-ca';

/**
 * Zero-touch federation bootstrap: with one upstream CA per trust domain, made before anything is
 * deployed, returns `topology` with
 * - a `disk` upstream authority on every server (its Secret name kept when the topology names one), so
 *   each domain's trust bundle is its upstream root, and
 * - every federation edge to a peer in the topology seeded (`trustDomainBundle`) with that peer's root.
 *
 * Each SPIRE server therefore holds its peers' bundles from its first start: no `bundle set`, no
 * deploy order between domains, and entries with `federatesWith` are created at once. Only the public
 * root of each domain is read, so a deployment that holds only its own CA key can use it.
 *
 * Throws an error naming every domain whose root is missing or wrong and every edge that already carries
 * a bundle; edges to peers outside the topology keep whatever bundle they carry.
 */
export function bootstrapFederation(topology: Topology, roots: Readonly<Record<string, UpstreamRoot>>): Topology {
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
  topology.trustDomains.forEach((td, index) =>
    td.federatesWith.forEach((edge, i) => {
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
    ...topology,
    trustDomains: topology.trustDomains.map((td) => ({
      ...td,
      server: { ...td.server, upstreamAuthority: { type: 'disk', secretName: upstreamCaSecret(td) } },
      federatesWith: td.federatesWith.map((edge) => {
        const bundle = seeded.get(edge.trustDomain);
        return bundle === undefined ? edge : { ...edge, trustDomainBundle: bundle };
      }),
    })),
  };
}

/** The Secret the bootstrap has the server of `td` read its upstream CA from: the one the topology names, else the default. */
export function upstreamCaSecret(td: TrustDomain): string {
  return td.server.upstreamAuthority?.secretName ?? DEFAULT_UPSTREAM_CA_SECRET;
}

/**
 * Whether `topology` already has the bootstrap applied: every server reads a `disk` upstream CA and every
 * edge to a peer in the topology carries a seeded bundle. Such a topology (the Kind scripts write one) is
 * deployed as it is.
 */
export function isBootstrapped(topology: Topology): boolean {
  const names = new Set(topology.trustDomains.map((td) => td.name));
  return topology.trustDomains.every(
    (td) =>
      td.server.upstreamAuthority?.type === 'disk' &&
      td.federatesWith.every((edge) => !names.has(edge.trustDomain) || edge.trustDomainBundle !== undefined),
  );
}

/**
 * `topology` ready to deploy: as it is when it is bootstrapped already, else with the zero-touch bootstrap
 * applied from the upstream CAs in `caFolder` (made there when missing). The CA keys stay in that folder;
 * each server reads its own from the Secret its `disk` UpstreamAuthority names. `caDirs` names the folder
 * of each CA used, by trust domain.
 */
export async function withFederationBootstrap(topology: Topology, caFolder: string): Promise<{ topology: Topology; caDirs: Record<string, string> }> {
  if (isBootstrapped(topology)) return { topology, caDirs: {} };
  const stored = await loadOrCreateUpstreamCas(
    caFolder,
    topology.trustDomains.map((td) => td.name),
  );
  return {
    topology: bootstrapFederation(topology, Object.fromEntries(Object.entries(stored).map(([td, { ca }]) => [td, ca]))),
    caDirs: Object.fromEntries(Object.entries(stored).map(([td, { dir }]) => [td, dir])),
  };
}
