/**
 * The files the node image adds to kind's own base files: containerd's config (kind's, with the pause
 * image kubeadm 1.36 lists and a CNI config template), the pod network, the default storage, and the
 * script that finishes the node as kind's base image Dockerfile does.
 */
import { CONTROL_PLANE_IMAGES } from './versions';

/** Where containerd finds the CNI template (it writes /etc/cni/net.d/10-containerd-net.conflist from it). */
export const CNI_TEMPLATE_PATH = '/etc/containerd/cni-ptp.conflist.template';

/**
 * kind's /etc/containerd/config.toml with two changes:
 * - the sandbox (pause) image is the one kubeadm v1.36.1 lists, the only pause image in the node;
 * - `conf_template`: when the kubelet reports the node's pod CIDR (the controller manager allocates it
 *   from the cluster's podSubnet), containerd writes the CNI config from CNI_TEMPLATE. This replaces
 *   kindnetd, which no registry here serves, and works for any podSubnet the cluster config sets.
 */
export function nodeContainerdConfig(kindConfig: string): string {
  const sandbox = /sandbox_image = "registry\.k8s\.io\/pause:[^"]+"/;
  if (!sandbox.test(kindConfig)) throw new Error('kind\'s containerd config no longer sets sandbox_image; update nodeContainerdConfig');
  if (kindConfig.includes('conf_template')) throw new Error('kind\'s containerd config already sets a CNI conf_template; update nodeContainerdConfig');
  return (
    kindConfig.replace(sandbox, `sandbox_image = "${CONTROL_PLANE_IMAGES.pause}"`).trimEnd() +
    '\n\n' +
    '# dirtk: the pod network comes from this template, filled with the node\'s pod CIDR (no kindnetd).\n' +
    '[plugins."io.containerd.grpc.v1.cri".cni]\n' +
    `  conf_template = "${CNI_TEMPLATE_PATH}"\n`
  );
}

/** The systemd drop-in that keeps the node's containerd from pulling (see CONTAINERD_OFFLINE_DROPIN). */
export const CONTAINERD_OFFLINE_DROPIN_PATH = '/etc/systemd/system/containerd.service.d/10-dirtk-offline.conf';

/**
 * Every image this node runs is in it or loaded with `kind load`; a missing one must fail at once, not
 * go looking for a registry (and ask the host's DNS for its name). containerd's pulls honour
 * HTTP(S)_PROXY, so both point at a port on the node's own loopback where nothing listens; the
 * unit's Environment wins over proxy settings kind may put in systemd's DefaultEnvironment.
 */
export const CONTAINERD_OFFLINE_DROPIN = `# dirtk: an offline node. Image pulls go to a port where nothing listens and fail at once.
[Service]
Environment="HTTP_PROXY=http://127.0.0.1:9" "HTTPS_PROXY=http://127.0.0.1:9" "http_proxy=http://127.0.0.1:9" "https_proxy=http://127.0.0.1:9" "NO_PROXY=" "no_proxy="
`;

/**
 * The pod network: ptp (a veth per pod, routed through the node, so service traffic between pods of
 * the node always crosses the node's iptables, without br_netfilter) with host-local addresses from the
 * node's pod CIDR, masquerading what leaves the pod CIDR (pods reach the other cluster's node by its
 * address on the kind network), and portmap for hostPort. The same plugins kindnetd configures.
 */
export const CNI_TEMPLATE = `${JSON.stringify(
  {
    cniVersion: '1.0.0',
    name: 'dirtk-ptp',
    plugins: [
      {
        type: 'ptp',
        ipMasq: true,
        mtu: 1500,
        ipam: { type: 'host-local', dataDir: '/run/cni-ipam-state', ranges: [[{ subnet: '{{.PodCIDR}}' }]], routes: [{ dst: '0.0.0.0/0' }] },
      },
      { type: 'portmap', capabilities: { portMappings: true } },
    ],
  },
  null,
  2,
)}\n`;

/**
 * kind applies /kind/manifests/default-cni.yaml unless the config sets `disableDefaultCNI`; the network
 * needs no objects (containerd writes it), so this is only a note for whoever looks.
 */
export const DEFAULT_CNI_MANIFEST = `# dirtk node image: the pod network is written by containerd from ${CNI_TEMPLATE_PATH}
apiVersion: v1
kind: ConfigMap
metadata:
  name: dirtk-pod-network
  namespace: kube-system
data:
  network: ptp + host-local on the node's pod CIDR, written by containerd (conf_template); no CNI daemon
`;

/** Pre-created local volumes of the default StorageClass: how many, how large, and where on the node. */
export const LOCAL_VOLUMES = { count: 8, capacity: '10Gi', dir: '/var/local-pv' } as const;

export function localVolumePath(index: number): string {
  return `${LOCAL_VOLUMES.dir}/pv-${index}`;
}

/**
 * /kind/manifests/default-storage.yaml, which kind applies on every new cluster: the default
 * StorageClass `standard` (no provisioner, bound when the pod is scheduled) and LOCAL_VOLUMES `local`
 * PersistentVolumes on folders of the node image. rancher/local-path-provisioner is not served here;
 * `local` volumes, unlike hostPath, honour the pod's fsGroup, so non-root servers can write them.
 * Single-node clusters only: every volume is on the one node (any Linux node matches).
 */
export function defaultStorageManifest(): string {
  const docs = [
    {
      apiVersion: 'storage.k8s.io/v1',
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
      reclaimPolicy: 'Retain',
    },
    ...Array.from({ length: LOCAL_VOLUMES.count }, (_, index) => ({
      apiVersion: 'v1',
      kind: 'PersistentVolume',
      metadata: { name: `dirtk-local-pv-${index}`, labels: { 'dirtk.dev/local-volume': 'true' } },
      spec: {
        capacity: { storage: LOCAL_VOLUMES.capacity },
        accessModes: ['ReadWriteOnce'],
        persistentVolumeReclaimPolicy: 'Retain',
        storageClassName: 'standard',
        volumeMode: 'Filesystem',
        local: { path: localVolumePath(index) },
        nodeAffinity: { required: { nodeSelectorTerms: [{ matchExpressions: [{ key: 'kubernetes.io/os', operator: 'In', values: ['linux'] }] }] } },
      },
    })),
  ];
  return docs.map((doc) => JSON.stringify(doc)).join('\n---\n') + '\n';
}

/**
 * Finishes the node inside the build container, as kind v0.32.0's images/base/Dockerfile does after
 * its packages: trims systemd's default units, enables kubelet, containerd and undo-mount-hacks,
 * creates the folders kubeadm and the local volumes need, and derives containerd's base runtime spec
 * from `ctr oci spec` (kind's mount-product-files hook, no rlimits).
 */
export function nodeSetupScript(): string {
  return [
    'set -eu',
    'chmod 755 /kind /kind/bin',
    'find /lib/systemd/system/sysinit.target.wants/ -name "systemd-tmpfiles-setup.service" -delete',
    'rm -f /lib/systemd/system/multi-user.target.wants/*',
    'rm -f /etc/systemd/system/*.wants/*',
    'rm -f /lib/systemd/system/local-fs.target.wants/*',
    'rm -f /lib/systemd/system/sockets.target.wants/*udev*',
    'rm -f /lib/systemd/system/sockets.target.wants/*initctl*',
    'rm -f /lib/systemd/system/basic.target.wants/*',
    'echo "ReadKMsg=no" >> /etc/systemd/journald.conf',
    'ln -sf /usr/lib/systemd/systemd /sbin/init',
    'systemctl enable kubelet.service containerd.service undo-mount-hacks.service',
    'systemctl mask systemd-binfmt.service',
    'mkdir -p /etc/kubernetes/manifests',
    ...Array.from({ length: LOCAL_VOLUMES.count }, (_, index) => `mkdir -p ${localVolumePath(index)}`),
    `ctr oci spec | jq '.hooks.createContainer[.hooks.createContainer| length] |= . + {"path": "/kind/bin/mount-product-files.sh"}' | jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json`,
    'containerd --version',
    'runc --version | head -1',
    'crictl --version',
  ].join('\n');
}
