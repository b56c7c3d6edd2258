/**
 * The registration entries of local mode. Every local workload runs as the current user and is a Node
 * process, so the user and the program name no workload: the apiserver runs from its own copy of the
 * Node binary (`apiserver-executable.ts`) and its entry adds `unix:path:<that copy>` to the user's
 * `unix:uid`. dirctl's entry selects the user alone: any other process of the user (dirctl, an SDK, the
 * tour) gets the client identity and nothing else, hint or no hint. The apiserver matches both entries
 * and serves with the SVID its hint names.
 */
import type { TrustDomain } from '../topology/model';
import type { EntrySpec } from '../spire/process/server-process';

/** The SVID hints of the local workloads, as `DIRTK_APISERVER_SVID_HINT` and dirctl take them. */
export const SVID_HINTS = { apiserver: 'apiserver', dirctl: 'dirctl' } as const;

/**
 * The DNS name in the local apiserver's SVID, for clients that verify the host name (ordinary gRPC TLS,
 * the Python SDK): the one name that reaches the loopback listener on every host without an /etc/hosts
 * entry. SPIRE puts no IP address in an SVID, so a client dialling `127.0.0.1` verifies against this name.
 */
export const LOCAL_APISERVER_TLS_SERVER_NAME = 'localhost';

/** The ID a join-token agent is aliased to; the parent of every workload entry of its domain. */
export function localNodeId(td: TrustDomain): string {
  return `${td.id}/local/node`;
}

export interface LocalEntryOptions {
  readonly uid: number;
  /** The real path of the apiserver's own Node binary, as the attestor reads it from `/proc/<pid>/exe`. */
  readonly apiserverExecutable: string;
  /** Lifetime of the workloads' X.509-SVIDs in seconds. @default the server's x509SvidTtl */
  readonly x509SvidTtl?: number;
}

/** The apiserver (where the domain runs one) and dirctl, each federating with every peer of the domain. */
export function localWorkloadEntries(td: TrustDomain, { uid, apiserverExecutable, x509SvidTtl }: LocalEntryOptions): EntrySpec[] {
  const common = {
    parentId: localNodeId(td),
    federatesWith: td.federatesWith.map((edge) => edge.trustDomain),
    ...(x509SvidTtl !== undefined && { x509SvidTtl }),
  };
  const user = `unix:uid:${uid}`;
  return [
    ...(td.apiserver
      ? [
          {
            ...common,
            spiffeId: td.apiserver.spiffeId,
            selectors: [user, `unix:path:${apiserverExecutable}`],
            dnsNames: [LOCAL_APISERVER_TLS_SERVER_NAME],
            hint: SVID_HINTS.apiserver,
          },
        ]
      : []),
    { ...common, spiffeId: td.directoryClient.spiffeId, selectors: [user], hint: SVID_HINTS.dirctl },
  ];
}
