/**
 * The registration entries of local mode. Every local workload runs as the current user, so each entry
 * selects `unix:uid:<uid>` and the workloads tell their SVIDs apart by hint.
 */
import type { TrustDomain } from '../topology/model';
import type { EntrySpec } from '../spire/process/server-process';

/** The SVID hints of the local workloads, as `DIRTK_APISERVER_SVID_HINT` and dirctl take them. */
export const SVID_HINTS = { apiserver: 'apiserver', dirctl: 'dirctl' } as const;

/** The ID a join-token agent is aliased to; the parent of every workload entry of its domain. */
export function localNodeId(td: TrustDomain): string {
  return `${td.id}/local/node`;
}

export interface LocalEntryOptions {
  readonly uid: number;
  /** Lifetime of the workloads' X.509-SVIDs in seconds. @default the server's x509SvidTtl */
  readonly x509SvidTtl?: number;
}

/** The apiserver (where the domain runs one) and dirctl, each federating with every peer of the domain. */
export function localWorkloadEntries(td: TrustDomain, { uid, x509SvidTtl }: LocalEntryOptions): EntrySpec[] {
  const common = {
    parentId: localNodeId(td),
    selectors: [`unix:uid:${uid}`],
    federatesWith: td.federatesWith.map((edge) => edge.trustDomain),
    ...(x509SvidTtl !== undefined && { x509SvidTtl }),
  };
  return [
    ...(td.apiserver ? [{ ...common, spiffeId: td.apiserver.spiffeId, hint: SVID_HINTS.apiserver }] : []),
    { ...common, spiffeId: td.directoryClient.spiffeId, hint: SVID_HINTS.dirctl },
  ];
}
