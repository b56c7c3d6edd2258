import { Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import type { Topology, TrustDomain } from '../topology/model';
import { FederatedTrustDomain } from './federated-trust-domain';
import { SpiffeCsiDriver } from './spiffe-csi-driver';
import { SpireAgent } from './spire-agent';
import { SpireControllerManager } from './spire-controller-manager';
import { SpireServer } from './spire-server';

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
}

/**
 * Everything one trust domain runs in its cluster: its namespaces, the SPIRE server with the controller
 * manager sidecar, one ClusterFederatedTrustDomain per federation edge, the agents, and the SPIFFE CSI
 * driver when the domain's agents serve workloads through it.
 *
 * Objects are ordered namespaces first, then server, federation CRs, agents and CSI driver; all names are
 * the well-known ones from `spire/kubernetes/layout.ts`. The chart sets no namespace, so cluster-scoped
 * objects carry none.
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

  public constructor(scope: Construct, id: string, props: TrustDomainChartProps) {
    super(scope, id);
    const td = props.topology.trustDomains.find((candidate) => candidate.name === props.trustDomain);
    if (!td) {
      const known = props.topology.trustDomains.map((candidate) => candidate.name).join(', ');
      throw new Error(`trust domain "${props.trustDomain}" is not in the topology (it has: ${known})`);
    }
    this.trustDomain = td;
    if (props.crds) this.addDependency(props.crds);

    this.namespaces = [...new Set([td.namespaces.spire, td.namespaces.directory])].map(
      (name) =>
        new k8s.KubeNamespace(this, `Namespace-${name}`, {
          metadata: {
            name,
            // The agent needs hostPID, hostNetwork and a hostPath; a cluster enforcing `baseline` by default would reject it.
            ...(name === td.namespaces.spire && { labels: { 'pod-security.kubernetes.io/enforce': 'privileged' } }),
          },
        }),
    );

    this.controllerManager = new SpireControllerManager(this, 'ControllerManager', { trustDomain: td });
    this.server = new SpireServer(this, 'Server', { trustDomain: td, controllerManager: this.controllerManager });
    this.federatedTrustDomains = td.federatesWith.map(
      (edge) => new FederatedTrustDomain(this, `FederatedTrustDomain-${edge.trustDomain}`, { trustDomain: td, edge }),
    );
    this.agent = new SpireAgent(this, 'Agent', { trustDomain: td });
    if (td.agent.socket === 'csi') this.csiDriver = new SpiffeCsiDriver(this, 'CsiDriver', { trustDomain: td });

    for (const child of this.node.children) {
      if (!this.namespaces.includes(child as k8s.KubeNamespace)) child.node.addDependency(...this.namespaces);
    }
  }
}
