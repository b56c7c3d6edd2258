import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Topology, TrustDomain } from '../topology/model';
import { syncPeersOf } from '../topology/sync-peers';
import { DirectoryApiServer, type DirectoryApiServerProps } from './directory-api-server';
import { DirectoryClientIdentity } from './directory-client-identity';
import { FederatedTrustDomain } from './federated-trust-domain';
import { SpiffeCsiDriver } from './spiffe-csi-driver';
import { SpireAgent } from './spire-agent';
import { SpireControllerManager } from './spire-controller-manager';
import { SpireServer } from './spire-server';

/** Pod Security Standards levels, from most to least restrictive. */
const POD_SECURITY_LEVELS = ['restricted', 'baseline', 'privileged'] as const;
type PodSecurityLevel = (typeof POD_SECURITY_LEVELS)[number];

export interface TrustDomainChartProps {
  /** The resolved topology (see `resolveTopology`). */
  readonly topology: Topology;
  /** Name of the trust domain in `topology` this chart deploys. */
  readonly trustDomain: string;
  /**
   * The chart with the SPIRE CRDs (`SpireCrdsChart`); this chart is ordered after it.
   * @default - none: the CRDs must be applied some other way first
   */
  readonly crds?: Chart;
  /**
   * Settings of the Directory apiserver beyond the model's (image, policy, storage, ...);
   * used only when the trust domain runs an apiserver.
   * @default - the `DirectoryApiServer` defaults
   */
  readonly apiServer?: Omit<DirectoryApiServerProps, 'trustDomain'>;
}

/**
 * Everything one trust domain runs in its cluster: its namespaces, the SPIRE server with the controller
 * manager sidecar, one ClusterFederatedTrustDomain per federation edge, the agents, the SPIFFE CSI
 * driver when the domain's agents serve workloads through it, the Directory client identity (`dirctl`),
 * and the Directory apiserver when the model gives the domain one.
 *
 * Objects are ordered namespaces first, then server, federation CRs, agents, CSI driver, client identity
 * and apiserver; all names are the well-known ones from `spire/kubernetes/layout.ts`,
 * `DIRECTORY_API_SERVER` and the model (`directoryClient`). The chart sets no namespace, so cluster-scoped objects
 * carry none.
 *
 * Every namespace enforces the strictest Pod Security level its pods allow: the server's `restricted`, the
 * agents' `privileged`, the directory's `restricted` with the CSI driver (the default) and `privileged`
 * with hostPath sockets, because `restricted` and `baseline` forbid hostPath volumes.
 */
export class TrustDomainChart extends Chart {
  public readonly trustDomain: TrustDomain;
  public readonly namespaces: k8s.KubeNamespace[];
  public readonly controllerManager: SpireControllerManager;
  public readonly server: SpireServer;
  public readonly federatedTrustDomains: FederatedTrustDomain[];
  public readonly agent: SpireAgent;
  /** Present when the domain's agents use the CSI driver (`agent.socket: 'csi'`). */
  public readonly csiDriver?: SpiffeCsiDriver;
  /** The `dirctl` service account and its SPIFFE ID; every trust domain has one. */
  public readonly directoryClient: DirectoryClientIdentity;
  /** Present when the trust domain runs the Directory apiserver (`apiserver` in the model). */
  public readonly apiServer?: DirectoryApiServer;

  public constructor(scope: Construct, id: string, props: TrustDomainChartProps) {
    super(scope, id);
    const td = props.topology.trustDomains.find((candidate) => candidate.name === props.trustDomain);
    if (!td) {
      const known = props.topology.trustDomains.map((candidate) => candidate.name).join(', ');
      throw new Error(`trust domain "${props.trustDomain}" is not in the topology (it has: ${known})`);
    }
    this.trustDomain = td;
    if (props.crds) this.addDependency(props.crds);

    const levels = new Map<string, PodSecurityLevel>();
    const require = (namespace: string, level: PodSecurityLevel) => {
      const current = levels.get(namespace);
      levels.set(namespace, current && POD_SECURITY_LEVELS.indexOf(current) > POD_SECURITY_LEVELS.indexOf(level) ? current : level);
    };
    // The server and controller manager hold the CA keys and need nothing from the host.
    require(td.namespaces.spire, 'restricted');
    // Agents (and the CSI driver) need the host network, PID namespace and paths.
    require(td.namespaces.agent, 'privileged');
    // Directory workloads reach the Workload API through the CSI driver's inline volume, which `restricted`
    // allows; a hostPath socket is allowed by `privileged` only (even `baseline` forbids hostPath volumes).
    require(td.namespaces.directory, td.agent.socket === 'csi' ? 'restricted' : 'privileged');
    this.namespaces = [...levels].map(
      ([name, level]) =>
        new k8s.KubeNamespace(this, `Namespace-${name}`, { metadata: { name, labels: { 'pod-security.kubernetes.io/enforce': level } } }),
    );

    this.controllerManager = new SpireControllerManager(this, 'ControllerManager', { trustDomain: td });
    this.server = new SpireServer(this, 'Server', { trustDomain: td, controllerManager: this.controllerManager });
    this.federatedTrustDomains = td.federatesWith.map(
      (edge) => new FederatedTrustDomain(this, `FederatedTrustDomain-${edge.trustDomain}`, { trustDomain: td, edge }),
    );
    this.agent = new SpireAgent(this, 'Agent', { trustDomain: td });
    if (td.agent.socket === 'csi') this.csiDriver = new SpiffeCsiDriver(this, 'CsiDriver', { trustDomain: td });
    this.directoryClient = new DirectoryClientIdentity(this, 'DirectoryClient', { trustDomain: td });
    if (td.apiserver) {
      const syncPeers = td.apiserver.store === 'registry' ? syncPeersOf(props.topology, td, reachableApiServer) : [];
      this.apiServer = new DirectoryApiServer(this, 'DirectoryApiServer', { syncPeers, ...props.apiServer, trustDomain: td });
    }

    for (const child of this.node.children) {
      if (!this.namespaces.includes(child as k8s.KubeNamespace)) child.node.addDependency(...this.namespaces);
    }
  }
}

/** Where peers in other clusters reach `peer`'s apiserver: its node port on its external host, when it runs a registry to sync from. */
function reachableApiServer(peer: TrustDomain): string | undefined {
  const apiserver = peer.apiserver;
  return apiserver?.registry && apiserver.nodePort !== undefined ? `${apiserver.registry.externalHost}:${apiserver.nodePort}` : undefined;
}
