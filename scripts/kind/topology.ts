/**
 * The topology the Kind clusters run: the base spec with the apiserver on a node port, each bundle endpoint
 * at its node's address and the zero-touch federation bootstrap applied. It is written to a file that synth
 * and Pulumi read through `DIRTK_TOPOLOGY`, so all three deploy the same thing.
 */
import { isIPv4 } from 'node:net';
import { writeFileSync } from 'node:fs';
import { resolveTopology, type TopologySpec } from '../../topology';
import { withFederationBootstrap } from '../../topology/federation-bootstrap/bootstrap';

/**
 * The Secret each SPIRE server's `disk` UpstreamAuthority reads. The scripts create it from the CA folder
 * before the server starts; the key never enters the synthesized YAML or the Pulumi state.
 */
export const UPSTREAM_CA_SECRET = 'spire-upstream-ca';

/**
 * `base` with every apiserver behind a NodePort Service on node port 30888, which dirctl in the peer
 * cluster dials on the node's address over the Docker network.
 */
export function withApiserverNodePort(base: TopologySpec): TopologySpec {
  return {
    ...base,
    trustDomains: base.trustDomains.map((td) =>
      td.apiserver ? { ...td, apiserver: { ...td.apiserver, serviceType: 'NodePort', nodePort: 30888 } } : td,
    ),
  };
}

/**
 * `base` with every domain's workloads mounting the agent socket by hostPath, for clusters without the
 * SPIFFE CSI driver's images; their namespace is then Pod Security `privileged` (see TrustDomainChart).
 */
export function withHostPathSockets(base: TopologySpec): TopologySpec {
  return { ...base, trustDomains: base.trustDomains.map((td) => ({ ...td, agent: { ...td.agent, socket: 'hostPath' } })) };
}

/** `base` with every apiserver running `pinned.image`, its identity tied to `pinned.imageId`; `base` itself without `pinned`. */
export function withPinnedApiServerImage(base: TopologySpec, pinned: { readonly image: string; readonly imageId: string } | undefined): TopologySpec {
  if (pinned === undefined) return base;
  return {
    ...base,
    trustDomains: base.trustDomains.map((td) => (td.apiserver ? { ...td, apiserver: { ...td.apiserver, image: pinned.image, imageId: pinned.imageId } } : td)),
  };
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
 * `base` with every bundle endpoint at `https://<its node's address>:<node port>` (peers in other clusters
 * dial the node over the Docker network) and every server set to read its upstream CA from
 * `UPSTREAM_CA_SECRET`. `nodeAddresses` is keyed by cluster name.
 */
export function withNodeAddresses(base: TopologySpec, nodeAddresses: Readonly<Record<string, string>>): TopologySpec {
  const resolved = resolveTopology(base);
  return {
    ...base,
    trustDomains: base.trustDomains.map((td, index) => {
      const endpoint = resolved.trustDomains[index]!.bundleEndpoint;
      const address = nodeAddresses[td.clusterName];
      if (endpoint && address === undefined) throw new Error(`no node address for cluster ${td.clusterName} of ${td.name}`);
      return {
        ...td,
        server: { ...td.server, upstreamAuthority: { type: 'disk', secretName: UPSTREAM_CA_SECRET } },
        ...(endpoint && { bundleEndpoint: { ...td.bundleEndpoint, url: `https://${address}:${endpoint.nodePort}` } }),
      };
    }),
  };
}

/**
 * The zero-touch bootstrap (topology/federation-bootstrap): makes or reuses one upstream CA per trust domain
 * in `caFolder` and seeds every federation edge with the peer's upstream root. The only place the Kind
 * scripts depend on it.
 */
export async function bootstrapKindFederation(spec: TopologySpec, caFolder: string): Promise<TopologySpec> {
  return (await withFederationBootstrap(spec, caFolder)).spec;
}

/** Builds the Kind topology and writes it, validated, to `file`; returns it. */
export async function writeKindTopology(
  base: TopologySpec,
  nodeAddresses: Readonly<Record<string, string>>,
  caFolder: string,
  file: string,
): Promise<TopologySpec> {
  const spec = await bootstrapKindFederation(withNodeAddresses(base, nodeAddresses), caFolder);
  resolveTopology(spec);
  writeFileSync(file, `${JSON.stringify(spec, null, 2)}\n`);
  return spec;
}
