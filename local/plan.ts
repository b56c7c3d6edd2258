/**
 * Local mode, planned without touching anything: the topology adapted to run on 127.0.0.1, and for each
 * trust domain its folders, ports, seeded federation relationships, registration entries, and its Directory:
 * the apiserver and the OCI registry that stores its records.
 */
import path from 'node:path';
import { REGISTRY_TOKEN_PATH } from '@dirtk/directory-api/contract';
import type { Topology, TrustDomain } from '../topology/model';
import { mapTrustDomains, withBundleEndpoints } from '../topology/adjust';
import { registryService, syncPeersOf } from '../topology/sync-peers';
import { bundleEndpointUrlOf, TopologyError, type TopologyProblem } from '../topology/resolve';
import { LOCAL_APISERVER_TLS_SERVER_NAME, localNodeId, localWorkloadEntries, SVID_HINTS } from './entries';
import { LOOPBACK } from '../spire/process/ports';
import type { EntrySpec, FederationRelationship } from '../spire/process/server-process';
import type { LocalStateLayout } from './state';

export interface LocalDomainPorts {
  readonly server: number;
  readonly serverHealth: number;
  readonly bundleEndpoint: number;
  readonly agentHealth: number;
  /** Present when the domain runs an apiserver: its listeners and its registry's. */
  readonly apiserver?: { readonly grpc: number; readonly http: number; readonly registry: number };
}

export interface SeededRelationship extends FederationRelationship {
  /** The content of `trustDomainBundlePath`. */
  readonly bundle: string;
}

export interface LocalApiServerPlan {
  readonly dir: string;
  /** The Node binary it runs from: its own copy, which its registration entry selects by path. */
  readonly executable: string;
  readonly spiffeId: string;
  /** The DNS name its SVID carries, for clients that verify the host name. */
  readonly tlsServerName: string;
  readonly grpcPort: number;
  readonly httpPort: number;
  readonly svidHint: string;
  /** The audience JWT-SVIDs for this apiserver carry: its own SPIFFE ID. */
  readonly jwtAudience: string;
  /** The EC P-256 key (PEM) that signs the registry's bearer tokens: made when the run starts (its folder starts empty), mode 0600, kept across apiserver restarts within the run. */
  readonly registryTokenKeyFile: string;
  /** The OCI registry the apiserver stores its records in. */
  readonly registry: LocalRegistryPlan;
  /**
   * The Directories this one may sync from: of each federated domain that runs one, its apiserver's gRPC
   * address and SPIFFE ID, as `<host:port>=<SPIFFE ID>` (the apiserver's `syncPeers`).
   */
  readonly syncPeers: readonly string[];
}

export interface LocalRegistryPlan {
  /** Its config, JWKS, log and storage. */
  readonly dir: string;
  /** `127.0.0.1:<port>`: where it listens, and the apiserver's `registryAddress`. */
  readonly address: string;
  /** `http://127.0.0.1:<port>`: the apiserver's `storeRegistryUrl`. */
  readonly url: string;
  /** The apiserver's token service, where the registry sends clients for a bearer token. */
  readonly tokenRealm: string;
  /** The registry's `auth.token.service`, the `aud` of its tokens: one name per trust domain. */
  readonly service: string;
}

export interface LocalDomainPlan {
  readonly td: TrustDomain;
  readonly serverDir: string;
  readonly agentDir: string;
  readonly socketDir: string;
  readonly upstreamCaDir: string;
  readonly ports: LocalDomainPorts;
  /** The SPIFFE ID the domain's agent is aliased to by its join token. */
  readonly nodeId: string;
  readonly federation: readonly SeededRelationship[];
  readonly entries: readonly EntrySpec[];
  readonly apiserver?: LocalApiServerPlan;
}

function bundleEndpointUrl(port: number): string {
  return `https://${LOOPBACK}:${port}`;
}

/**
 * Reports what a valid topology cannot do as local processes: federate with a peer outside it (local
 * mode runs every peer itself) or serve a bundle with `https_web` (no Web-PKI certificate on 127.0.0.1).
 */
export function checkRunsLocally(topology: Topology): void {
  const names = new Set(topology.trustDomains.map((td) => td.name));
  const problems: TopologyProblem[] = [];
  topology.trustDomains.forEach((td, index) => {
    const at = `trustDomains[${index}] (${td.name})`;
    td.federatesWith.forEach((edge, i) => {
      if (!names.has(edge.trustDomain)) {
        problems.push({ path: `${at}.federatesWith[${i}]`, message: `local mode runs every peer itself, and "${edge.trustDomain}" is not in the topology` });
      }
    });
    if (td.bundleEndpoint?.profile === 'https_web') {
      problems.push({ path: `${at}.bundleEndpoint.profile`, message: 'local mode serves bundles with https_spiffe only' });
    }
  });
  if (problems.length > 0) throw new TopologyError(problems);
}

/**
 * `topology` with every bundle endpoint on 127.0.0.1 at its allocated port, and every edge to a peer in
 * the topology pointing there, whatever URLs the topology gave (they are for Kubernetes); and every
 * apiserver on the registry store, whatever store the topology gave: a Directory syncs from its peers by
 * pulling their records from their OCI registries with credentials the peers' apiservers issue, so only
 * Directories on a registry can be synced from (local mode runs the registry beside each apiserver).
 */
export function localTopology(topology: Topology, ports: Readonly<Record<string, LocalDomainPorts>>): Topology {
  const onLoopback = withBundleEndpoints(topology, (td) => {
    const port = portsOf(ports, td.name).bundleEndpoint;
    return { url: bundleEndpointUrl(port), port };
  });
  return mapTrustDomains(onLoopback, (td) => (td.apiserver ? { ...td, apiserver: { ...td.apiserver, store: 'registry' } } : td));
}

export interface LocalPlanInputs {
  readonly layout: LocalStateLayout;
  readonly ports: Readonly<Record<string, LocalDomainPorts>>;
  readonly upstreamCaDirs: Readonly<Record<string, string>>;
  readonly uid: number;
  /** The real path of the apiserver's own copy of Node (see `prepareApiServerExecutable`). */
  readonly apiserverExecutable: string;
  /** Lifetime of the workloads' X.509-SVIDs in seconds. @default each server's x509SvidTtl */
  readonly x509SvidTtl?: number;
}

/** The plan of a bootstrapped, locally runnable topology (see `bootstrapFederation`, `localTopology`). */
export function planLocalFederation(topology: Topology, inputs: LocalPlanInputs): LocalDomainPlan[] {
  const { layout, ports, upstreamCaDirs, uid, apiserverExecutable, x509SvidTtl } = inputs;
  const syncPeers = (td: TrustDomain) =>
    syncPeersOf(topology, td, (peer) => {
      const peerPorts = ports[peer.name]?.apiserver;
      return peerPorts && `${LOOPBACK}:${peerPorts.grpc}`;
    });
  return topology.trustDomains.map((td) => {
    const dir = path.join(layout.runDir, td.name);
    const domainPorts = portsOf(ports, td.name);
    const upstreamCaDir = upstreamCaDirs[td.name];
    if (upstreamCaDir === undefined) throw new Error(`no upstream CA folder for ${td.name}`);
    const federation = td.federatesWith.map((edge) => {
      if (edge.profile !== 'https_spiffe' || edge.trustDomainBundle === undefined) {
        throw new Error(`${td.name} → ${edge.trustDomain}: local mode needs an https_spiffe edge seeded by bootstrapFederation`);
      }
      return {
        trustDomain: edge.trustDomain,
        bundleEndpointUrl: bundleEndpointUrlOf(td, edge),
        endpointSpiffeId: edge.endpointSpiffeId,
        trustDomainBundlePath: path.join(dir, 'federation', `${edge.trustDomain}.bundle.json`),
        bundle: edge.trustDomainBundle,
      };
    });
    const apiserverPorts = domainPorts.apiserver;
    if (td.apiserver && !apiserverPorts) throw new Error(`no apiserver ports for ${td.name}`);
    return {
      td,
      serverDir: path.join(dir, 'server'),
      agentDir: path.join(dir, 'agent'),
      socketDir: path.join(layout.socketDir, td.name),
      upstreamCaDir,
      ports: domainPorts,
      nodeId: localNodeId(td),
      federation,
      entries: localWorkloadEntries(td, { uid, apiserverExecutable, ...(x509SvidTtl !== undefined && { x509SvidTtl }) }),
      ...(td.apiserver &&
        apiserverPorts && {
          apiserver: {
            dir: path.join(dir, 'apiserver'),
            executable: apiserverExecutable,
            spiffeId: td.apiserver.spiffeId,
            tlsServerName: LOCAL_APISERVER_TLS_SERVER_NAME,
            grpcPort: apiserverPorts.grpc,
            httpPort: apiserverPorts.http,
            svidHint: SVID_HINTS.apiserver,
            jwtAudience: td.apiserver.spiffeId,
            registryTokenKeyFile: path.join(dir, 'apiserver', 'registry-token.key'),
            registry: {
              dir: path.join(dir, 'registry'),
              address: `${LOOPBACK}:${apiserverPorts.registry}`,
              url: `http://${LOOPBACK}:${apiserverPorts.registry}`,
              tokenRealm: `http://${LOOPBACK}:${apiserverPorts.http}${REGISTRY_TOKEN_PATH}`,
              service: registryService(td),
            },
            syncPeers: syncPeers(td),
          },
        }),
    };
  });
}

function portsOf(ports: Readonly<Record<string, LocalDomainPorts>>, td: string): LocalDomainPorts {
  const found = ports[td];
  if (!found) throw new Error(`no ports allocated for ${td}`);
  return found;
}
