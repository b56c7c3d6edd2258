/**
 * What a Kind cluster config needs to run the node image built here on this kind of host, as fields of
 * kind's `kind.x-k8s.io/v1alpha4` Cluster (merge them into the configs of kind/clusters.ts):
 *
 * - `disableDefaultCNI`: kindnetd is not served by any registry here. The node image's containerd
 *   writes a ptp/host-local CNI config for the node's pod CIDR itself (node-files.ts), so kind must
 *   not try to install its default CNI (with it enabled kind would only apply a harmless ConfigMap).
 * - containerd `restrict_oom_score_adj = true`: the VM lacks CAP_SYS_RESOURCE, so runc cannot lower a
 *   container's oom_score_adj below containerd's own and every CRI pod fails ("can't get final child's
 *   PID from pipe") unless containerd keeps the requested score at or above its own.
 * - kubelet `failCgroupV1: false`: the host is cgroup v1 and cannot switch; Kubernetes 1.36's kubelet
 *   refuses to start on cgroup v1 unless told otherwise.
 *
 * Storage needs nothing here: the node image's default StorageClass `standard` has pre-created local
 * volumes (node-files.ts).
 */

/** The fields, ready to spread into a `kind.x-k8s.io/v1alpha4` Cluster. */
export const KIND_HOST_PATCHES = {
  networking: { disableDefaultCNI: true },
  containerdConfigPatches: ['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n'],
  kubeadmConfigPatches: ['kind: KubeletConfiguration\nfailCgroupV1: false\n'],
} as const;

export interface KindConfigInput {
  readonly kind: 'Cluster';
  readonly apiVersion: 'kind.x-k8s.io/v1alpha4';
  readonly name?: string;
  readonly networking?: Readonly<Record<string, unknown>>;
  readonly nodes?: readonly Readonly<Record<string, unknown>>[];
  readonly containerdConfigPatches?: readonly string[];
  readonly kubeadmConfigPatches?: readonly string[];
}

/** `config` with KIND_HOST_PATCHES merged in (its own networking fields and patches kept). */
export type WithHostPatches<T extends KindConfigInput> = Omit<T, 'networking' | 'containerdConfigPatches' | 'kubeadmConfigPatches'> & {
  readonly networking: NonNullable<T['networking']> & { readonly disableDefaultCNI: true };
  readonly containerdConfigPatches: readonly string[];
  readonly kubeadmConfigPatches: readonly string[];
};

export function withHostPatches<T extends KindConfigInput>(config: T): WithHostPatches<T> {
  return {
    ...config,
    networking: { ...(config.networking as NonNullable<T['networking']>), ...KIND_HOST_PATCHES.networking },
    containerdConfigPatches: [...(config.containerdConfigPatches ?? []), ...KIND_HOST_PATCHES.containerdConfigPatches],
    kubeadmConfigPatches: [...(config.kubeadmConfigPatches ?? []), ...KIND_HOST_PATCHES.kubeadmConfigPatches],
  };
}
