/**
 * How clients in another cluster reach the apiserver: a NodePort Service next to the chart's ClusterIP one.
 *
 * `DirectoryApiServer` can render its Service as a NodePort (`serviceType`, `nodePort`), but
 * `trustDomainManifests` — what synth writes and the stacks deploy — has no way to pass those props. Until
 * it has (see scripts/kind/README.md), the scripts add this Service themselves: the one `DirectoryApiServer`
 * renders with `serviceType: 'NodePort'`, under its own name so that it never fights the chart's Service.
 */
import { App, Chart } from 'cdk8s';
import { DIRECTORY_API_SERVER, DirectoryApiServer } from '../../constructs';
import type { TrustDomain } from '../../topology';

/** The node port clients in peer clusters dial on the apiserver cluster's node. */
export const APISERVER_NODE_PORT = 30888;
export const APISERVER_NODE_PORT_SERVICE = `${DIRECTORY_API_SERVER.name}-nodeport`;

export function apiserverNodePortService(td: TrustDomain): Record<string, unknown> {
  const chart = new Chart(new App(), 'apiserver-access');
  const apiServer = new DirectoryApiServer(chart, 'DirectoryApiServer', { trustDomain: td, serviceType: 'NodePort', nodePort: APISERVER_NODE_PORT });
  const service = apiServer.service.toJson() as { metadata: Record<string, unknown> };
  return { ...service, metadata: { ...service.metadata, name: APISERVER_NODE_PORT_SERVICE } };
}
