/** One Kind cluster per trust domain: its name, kube context and `kind.x-k8s.io/v1alpha4` config. */
import type { Topology } from '../topology';

/** The kind release these configs and the node image are for. */
export const KIND_VERSION = 'v0.32.0';

/**
 * kind v0.32.0's default node image (`pkg/apis/config/defaults/image.go` at that tag), pinned by digest:
 * kind supports a node image only with the release that built it, and a tag can be moved.
 */
export const KIND_NODE_IMAGE = 'kindest/node:v1.36.1@sha256:3489c7674813ba5d8b1a9977baea8a6e553784dab7b84759d1014dbd78f7ebd5';

/**
 * Pod and service subnets, one pair per cluster, as in the spire-controller-manager federation demo. They
 * must not overlap: pods of one cluster dial the other cluster's node addresses over the shared `kind`
 * Docker network, and an address inside their own cluster's ranges would never leave the node.
 */
export const CLUSTER_SUBNETS = [
  { podSubnet: '10.110.0.0/16', serviceSubnet: '10.115.0.0/16' },
  { podSubnet: '10.220.0.0/16', serviceSubnet: '10.225.0.0/16' },
] as const;

/** The subset of kind's v1alpha4 `Cluster` these scripts write. */
export interface KindClusterConfig {
  readonly kind: 'Cluster';
  readonly apiVersion: 'kind.x-k8s.io/v1alpha4';
  readonly name: string;
  readonly networking: { readonly podSubnet: string; readonly serviceSubnet: string; readonly disableDefaultCNI?: boolean };
  readonly nodes: readonly { readonly role: 'control-plane'; readonly image: string }[];
  readonly containerdConfigPatches?: readonly string[];
  readonly kubeadmConfigPatches?: readonly string[];
}

/** How the nodes are made: kind's own node image, or one built on this machine with the host's patches. */
export interface KindNodes {
  /** @default KIND_NODE_IMAGE */
  readonly image?: string;
  /** Fields merged into each cluster config (see kind/images/cluster-config.ts). @default none */
  readonly patch?: (config: KindClusterConfig) => KindClusterConfig;
}

export interface KindCluster {
  /** The Kind cluster name: the trust domain's `clusterName`. */
  readonly name: string;
  readonly trustDomain: string;
  /** The kubeconfig context kind creates for it. */
  readonly context: string;
  readonly config: KindClusterConfig;
}

/** The kubeconfig context `kind create cluster` writes for `cluster`. */
export function kindContext(cluster: string): string {
  return `kind-${cluster}`;
}

/**
 * A single-node cluster per trust domain, in topology order. No `extraPortMappings`: the clusters reach
 * each other on the Docker network and nothing is published on the host.
 */
export function kindClusters(topology: Topology, nodes: KindNodes = {}): KindCluster[] {
  if (topology.trustDomains.length > CLUSTER_SUBNETS.length) {
    throw new Error(
      `the topology has ${topology.trustDomains.length} trust domains but only ${CLUSTER_SUBNETS.length} disjoint subnet pairs ` +
        'are defined for Kind clusters; add pairs to CLUSTER_SUBNETS in kind/clusters.ts',
    );
  }
  return topology.trustDomains.map((td, index) => ({
    name: td.clusterName,
    trustDomain: td.name,
    context: kindContext(td.clusterName),
    config: (nodes.patch ?? ((config) => config))({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: td.clusterName,
      networking: { ...CLUSTER_SUBNETS[index]! },
      nodes: [{ role: 'control-plane', image: nodes.image ?? KIND_NODE_IMAGE }],
    }),
  }));
}
