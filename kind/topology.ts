/**
 * The topology the Kind clusters run: the example, resolved once, with the apiserver on a node port, each
 * bundle endpoint at its node's address and the zero-touch federation bootstrap applied (each step
 * `Topology → Topology`). It is written as a spec to a file that synth and Pulumi read through
 * `DIRTK_TOPOLOGY`, so all three deploy the same thing.
 */
import { isIPv4 } from 'node:net';
import { writeFileSync } from 'node:fs';
import { withFederationBootstrap } from '../federation/bootstrap';
import { DEFAULT_REGISTRY_TOKEN_KEY_SECRET, mapTrustDomains, specOf, withBundleEndpoints, type RegistryTokenKeySpec, type Topology } from '../topology';


/**
 * `base` with every apiserver behind a NodePort Service on node port 30888, which dirctl in the peer
 * cluster dials on the node's address over the Docker network.
 */
export function withApiserverNodePort(base: Topology): Topology {
  return mapTrustDomains(base, (td) => (td.apiserver ? { ...td, apiserver: { ...td.apiserver, serviceType: 'NodePort', nodePort: APISERVER_NODE_PORT } } : td));
}

/** The node port of every apiserver in the Kind clusters. */
export const APISERVER_NODE_PORT = 30888;

/** The node ports of every Directory registry, and of its token realm (the apiserver's HTTP port), in the Kind clusters. */
export const REGISTRY_NODE_PORTS = { registry: 30500, tokenRealm: 30880 } as const;

/** `base` with every apiserver on the registry store; where peers reach it comes with the node addresses (`withRegistries`). */
export function withRegistryStore(base: Topology): Topology {
  return mapTrustDomains(base, (td) => (td.apiserver ? { ...td, apiserver: { ...td.apiserver, store: 'registry' } } : td));
}

/**
 * `base` with every registry-store apiserver's registry on the node ports `REGISTRY_NODE_PORTS` at its
 * node's address (which peers in the other cluster dial over the Docker network), trusting the public half
 * of its domain's token-signing key. `nodeAddresses` is keyed by cluster name, `tokenKeys` by trust domain.
 */
export function withRegistries(
  base: Topology,
  nodeAddresses: Readonly<Record<string, string>>,
  tokenKeys: Readonly<Record<string, RegistryTokenKeySpec>>,
): Topology {
  return mapTrustDomains(base, (td) => {
    if (td.apiserver?.store !== 'registry') return td;
    const externalHost = nodeAddresses[td.clusterName];
    if (externalHost === undefined) throw new Error(`no node address for cluster ${td.clusterName} of ${td.name}`);
    const tokenKey = tokenKeys[td.name];
    if (tokenKey === undefined) throw new Error(`no registry token-signing key for ${td.name}`);
    const registry = {
      externalHost,
      nodePort: REGISTRY_NODE_PORTS.registry,
      tokenNodePort: REGISTRY_NODE_PORTS.tokenRealm,
      trustedKeys: [tokenKey],
      tokenKeySecret: DEFAULT_REGISTRY_TOKEN_KEY_SECRET,
    };
    return { ...td, apiserver: { ...td.apiserver, registry } };
  });
}

/**
 * `base` with every domain's workloads mounting the agent socket by hostPath, for clusters without the
 * SPIFFE CSI driver's images; their namespace is then Pod Security `privileged` (see TrustDomainChart).
 */
export function withHostPathSockets(base: Topology): Topology {
  return mapTrustDomains(base, (td) => ({ ...td, agent: { ...td.agent, socket: 'hostPath' } }));
}

/** `base` with every apiserver running `pinned.image`, its identity tied to `pinned.imageId`; `base` itself without `pinned`. */
export function withPinnedApiServerImage(base: Topology, pinned: { readonly image: string; readonly imageId: string } | undefined): Topology {
  if (pinned === undefined) return base;
  return mapTrustDomains(base, (td) => (td.apiserver ? { ...td, apiserver: { ...td.apiserver, image: pinned.image, imageId: pinned.imageId } } : td));
}

/** The node's InternalIP as `kubectl get nodes -o jsonpath=...` printed it; throws unless it is one IPv4 address. */
export function parseNodeAddress(stdout: string, cluster: string): string {
  const address = stdout.trim();
  if (!isIPv4(address)) {
    throw new Error(
      `the node of Kind cluster ${cluster} reported no single InternalIP (got ${JSON.stringify(address)}); ` +
        `check the cluster with: kind get nodes --name ${cluster}`,
    );
  }
  return address;
}

/**
 * `base` with every bundle endpoint at `https://<its node's address>:<node port>`: peers in other clusters
 * dial the node over the Docker network. `nodeAddresses` is keyed by cluster name.
 */
export function withNodeAddresses(base: Topology, nodeAddresses: Readonly<Record<string, string>>): Topology {
  return withBundleEndpoints(base, (td) => {
    const address = nodeAddresses[td.clusterName];
    if (address === undefined) throw new Error(`no node address for cluster ${td.clusterName} of ${td.name}`);
    return { url: `https://${address}:${td.bundleEndpoint!.nodePort}` };
  });
}

/**
 * Builds the Kind topology (node addresses, the registries with their token keys, then the zero-touch
 * bootstrap with the upstream CAs in `caFolder`) and writes it as a spec to `file`, for synth and
 * `pulumi up`; returns it.
 */
export async function writeKindTopology(
  base: Topology,
  nodeAddresses: Readonly<Record<string, string>>,
  tokenKeys: Readonly<Record<string, RegistryTokenKeySpec>>,
  caFolder: string,
  file: string,
): Promise<Topology> {
  const { topology } = await withFederationBootstrap(withRegistries(withNodeAddresses(base, nodeAddresses), nodeAddresses, tokenKeys), caFolder);
  writeFileSync(file, `${JSON.stringify(specOf(topology), null, 2)}\n`);
  return topology;
}
