/**
 * What the locally built Kind images contain, and the names they carry. Every version is the one kind
 * v0.32.0 builds its node image with (images/base/Dockerfile and pkg/build/nodeimage at that tag) or
 * the one kubeadm v1.36.1 lists (`kubeadm config images list --kubernetes-version v1.36.1`, checked
 * against the built kubeadm during the build), and each is served by the Go module proxy at exactly
 * that version.
 */
import { IMAGES, SPIRE_VERSION, CONTROLLER_MANAGER_VERSION } from '../../spire/versions';
import { KIND_VERSION } from '../clusters';
import { REGISTRY_IMAGE } from '../../constructs/directory-registry';

export { KIND_VERSION };

/** The Kubernetes release kind v0.32.0's default node image carries. */
export const KUBERNETES_VERSION = 'v1.36.1';

/** The Debian release of the base image (debootstrap), and the mirror's name for it. */
export const DEBIAN_SUITE = 'bookworm';

/** Versions of the node's components (kind v0.32.0's images/base/Dockerfile, and kubeadm v1.36.1's constants). */
export const NODE_COMPONENTS = {
  containerd: 'v2.3.1',
  runc: 'v1.4.2',
  criTools: 'v1.36.0',
  cniPlugins: 'v1.9.1',
  /** kubeadm's `DefaultEtcdVersion` for 1.36 is 3.6.8-0: etcd 3.6.8, image revision 0. */
  etcd: '3.6.8',
  coredns: 'v1.14.2',
  pause: '3.10.2',
} as const;

/** The control-plane images, tagged exactly as `kubeadm config images list --kubernetes-version v1.36.1` prints them. */
export const CONTROL_PLANE_IMAGES = {
  kubeApiserver: `registry.k8s.io/kube-apiserver:${KUBERNETES_VERSION}`,
  kubeControllerManager: `registry.k8s.io/kube-controller-manager:${KUBERNETES_VERSION}`,
  kubeScheduler: `registry.k8s.io/kube-scheduler:${KUBERNETES_VERSION}`,
  kubeProxy: `registry.k8s.io/kube-proxy:${KUBERNETES_VERSION}`,
  coredns: `registry.k8s.io/coredns/coredns:${NODE_COMPONENTS.coredns}`,
  pause: `registry.k8s.io/pause:${NODE_COMPONENTS.pause}`,
  etcd: `registry.k8s.io/etcd:${NODE_COMPONENTS.etcd}-0`,
} as const;

/** The workload images, named as the manifests name them (`spire/versions.ts`, `constructs/directory-api-server.ts`). */
export const WORKLOAD_IMAGES = {
  spireServer: IMAGES.spireServer,
  spireAgent: IMAGES.spireAgent,
  controllerManager: IMAGES.controllerManager,
  apiserver: 'dirtk/apiserver:dev',
  registry: REGISTRY_IMAGE.tag,
} as const;

/**
 * Images the manifests name whose source the Go module proxy refuses (403 "not available" for every
 * version asked; asked again at most once a day). They are not built, and nothing stands in for them:
 * clusters made from these images mount the agent socket by hostPath (`kind:up --local-images`).
 */
export const UNSERVED_IMAGES = [
  { image: IMAGES.csiDriver, module: 'github.com/spiffe/spiffe-csi', version: 'v0.2.7' },
  { image: IMAGES.csiNodeDriverRegistrar, module: 'github.com/kubernetes-csi/node-driver-registrar', version: 'v2.15.0' },
] as const;

/** The repository of our own images (base, node); never pushed anywhere. */
export const LOCAL_REPOSITORY = 'dirtk.local';

export function baseImageTag(key: string): string {
  return `${LOCAL_REPOSITORY}/debian:${DEBIAN_SUITE}-${key}`;
}

export function nodeImageTag(key: string): string {
  return `${LOCAL_REPOSITORY}/kind-node:${KUBERNETES_VERSION}-${key}`;
}

/** The label every image we build carries: the key of the inputs it was built from. */
export const RECIPE_KEY_LABEL = 'dev.dirtk.recipe-key';

export { SPIRE_VERSION, CONTROLLER_MANAGER_VERSION };
