/**
 * Loading the workload images into a Kind cluster. The node image holds only the control-plane
 * images; SPIRE's and the apiserver's come from the local Docker engine with `kind load docker-image`
 * (one call for all, so their shared base layer is sent once), and the manifests' IfNotPresent pull
 * policy then finds them on the node.
 */
import { run } from '../engine/progress';
import { WORKLOAD_IMAGES } from './versions';

/** The images every dirtk cluster runs besides the control plane (no SPIFFE CSI images: see UNSERVED_IMAGES). */
export const CLUSTER_WORKLOAD_IMAGES: readonly string[] = Object.values(WORKLOAD_IMAGES);

export function kindLoadArgs(cluster: string, images: readonly string[] = CLUSTER_WORKLOAD_IMAGES): string[] {
  return ['load', 'docker-image', ...images, '--name', cluster];
}

/** `kind load docker-image` of `images` into `cluster`, with `kind` the binary to use. */
export async function loadImages(kind: string, cluster: string, images: readonly string[] = CLUSTER_WORKLOAD_IMAGES, env?: Readonly<Record<string, string>>): Promise<void> {
  await run(kind, kindLoadArgs(cluster, images), { ...(env !== undefined && { env }) });
}
