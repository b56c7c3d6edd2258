/**
 * The git-ignored folder the Kind scripts keep everything in: the clusters' kubeconfig, the Kind configs,
 * the upstream CAs and registry token keys (private keys, mode 0600), the topology file, the manifests and the Pulumi state.
 * `npm run kind:down` deletes it with the clusters.
 */
import path from 'node:path';
import { DIRECTORY_REGISTRY } from '../constructs/directory-registry';
import { PROJECT_ROOT } from '../tools/paths';

export const DEFAULT_STATE_DIR = path.join(PROJECT_ROOT, '.cache', 'kind');

export interface KindState {
  readonly root: string;
  /** A kubeconfig of the Kind clusters only, so the user's own kubeconfig and current context are never touched. */
  readonly kubeconfig: string;
  readonly clusterConfig: (cluster: string) => string;
  /** One subfolder per trust domain holding the files of its upstream CA Secret. */
  readonly caFolder: string;
  readonly caFiles: (trustDomain: string) => string;
  /** The EC P-256 key (PEM, mode 0600) that signs the registry tokens of a trust domain's Directory, the file of its Secret. */
  readonly registryTokenKeyFile: (trustDomain: string) => string;
  /** The topology synth and Pulumi deploy (`DIRTK_TOPOLOGY`). */
  readonly topologyFile: string;
  /** Where `npm run synth` writes `<trust domain>.k8s.yaml`. */
  readonly manifestsDir: string;
  readonly synthFile: (trustDomain: string) => string;
  readonly crdsFile: (trustDomain: string) => string;
  readonly namespacesFile: (trustDomain: string) => string;
  /** The synthesized manifests without the SPIRE custom resources, which wait for the controller manager. */
  readonly workloadsFile: (trustDomain: string) => string;
  /** The SPIRE custom resources (ClusterSPIFFEID, ClusterFederatedTrustDomain, ...). */
  readonly spireResourcesFile: (trustDomain: string) => string;
  /** The verification Job of dirctl in `caller` calling the apiserver of `server`. */
  readonly verificationFile: (caller: string, server: string) => string;
  /** A Job of the sync proof, in the cluster of a trust domain. */
  readonly syncProofFile: (job: string, trustDomain: string) => string;
  /** The image-tie Job of the apiserver of a trust domain. */
  readonly imageTieFile: (trustDomain: string) => string;
  /** A Pulumi project folder of the Kind stacks' config files (see `pulumi.ts`). */
  readonly pulumiProject: string;
  readonly pulumiStackConfig: (stack: string) => string;
  readonly pulumiBackend: string;
}

export function kindState(root: string): KindState {
  const under = (...parts: string[]) => path.join(root, ...parts);
  const manifestsDir = under('manifests');
  const pulumiProject = under('pulumi', 'project');
  return {
    root,
    kubeconfig: under('kubeconfig'),
    clusterConfig: (cluster) => under('clusters', `${cluster}.yaml`),
    caFolder: under('ca'),
    caFiles: (td) => under('ca', td),
    registryTokenKeyFile: (td) => under('registry-token', td, DIRECTORY_REGISTRY.tokenKeyFile),
    topologyFile: under('topology.json'),
    manifestsDir,
    synthFile: (td) => path.join(manifestsDir, `${td}.k8s.yaml`),
    crdsFile: (td) => path.join(manifestsDir, `${td}.crds.yaml`),
    namespacesFile: (td) => path.join(manifestsDir, `${td}.namespaces.yaml`),
    workloadsFile: (td) => path.join(manifestsDir, `${td}.workloads.yaml`),
    spireResourcesFile: (td) => path.join(manifestsDir, `${td}.spire-resources.yaml`),
    verificationFile: (caller, server) => under('verification', `${caller}.calls.${server}.yaml`),
    imageTieFile: (td) => under('verification', `${td}.image-tie.yaml`),
    syncProofFile: (job, td) => under('verification', `${td}.${job}.yaml`),
    pulumiProject,
    pulumiStackConfig: (stack) => path.join(pulumiProject, `Pulumi.${stack}.yaml`),
    pulumiBackend: under('pulumi', 'state'),
  };
}
