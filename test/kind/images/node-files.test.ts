/** The files the node image generates: containerd config, pod network, default storage, the setup script. */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { KIND_HOST_PATCHES, withHostPatches } from '../../../kind/images/cluster-config';
import { generatedNodeFiles } from '../../../kind/images/node-image';
import {
  CNI_TEMPLATE,
  CNI_TEMPLATE_PATH,
  CONTAINERD_OFFLINE_DROPIN,
  CONTAINERD_OFFLINE_DROPIN_PATH,
  DEFAULT_CNI_MANIFEST,
  defaultStorageManifest,
  LOCAL_VOLUMES,
  localVolumePath,
  nodeContainerdConfig,
  nodeSetupScript,
} from '../../../kind/images/node-files';
import { smokeClusterConfig, smokeManifest } from '../../../kind/images/smoke';
import { KIND_V1ALPHA4_CLUSTER_SCHEMA } from '../kind-v1alpha4-schema';

/** kind v0.32.0's images/base/files/etc/containerd/config.toml, verbatim. */
const KIND_CONTAINERD_CONFIG = readFileSync(path.join(__dirname, 'fixtures', 'kind-v0.32.0-containerd-config.toml'), 'utf8');

describe('containerd config', () => {
  const config = nodeContainerdConfig(KIND_CONTAINERD_CONFIG);

  it('uses the pause image kubeadm v1.36.1 lists, the only one in the node', () => {
    expect(config).toContain('sandbox_image = "registry.k8s.io/pause:3.10.2"');
    expect(config).not.toContain('pause:3.10"');
  });

  it('fills the CNI config from the template when the kubelet reports the pod CIDR', () => {
    expect(config).toContain(`[plugins."io.containerd.grpc.v1.cri".cni]\n  conf_template = "${CNI_TEMPLATE_PATH}"\n`);
    // Everything else is kind's, including restrict_oom_score_adj (the host quirk is a cluster config patch).
    expect(config).toContain('restrict_oom_score_adj = false');
    expect(config).toContain('base_runtime_spec = "/etc/containerd/cri-base.json"');
  });

  it('refuses a kind config it does not understand instead of writing a broken one', () => {
    expect(() => nodeContainerdConfig(KIND_CONTAINERD_CONFIG.replace(/sandbox_image.*\n/, ''))).toThrow(/sandbox_image/);
    expect(() => nodeContainerdConfig(config)).toThrow(/conf_template/);
  });
});

describe('pod network template', () => {
  it('is a ptp + host-local conflist on {{.PodCIDR}}, masquerading what leaves the pod CIDR', () => {
    const conflist = JSON.parse(CNI_TEMPLATE) as { cniVersion: string; plugins: Record<string, unknown>[] };
    expect(conflist.cniVersion).toBe('1.0.0');
    expect(conflist.plugins.map((plugin) => plugin.type)).toEqual(['ptp', 'portmap']);
    expect(conflist.plugins[0]).toMatchObject({ ipMasq: true, ipam: { type: 'host-local', ranges: [[{ subnet: '{{.PodCIDR}}' }]] } });
  });

  it('default-cni.yaml is a valid manifest (kind applies it unless disableDefaultCNI)', () => {
    const docs = parseAllDocuments(DEFAULT_CNI_MANIFEST).map((doc) => doc.toJS() as { kind: string });
    expect(docs.map((doc) => doc.kind)).toEqual(['ConfigMap']);
  });
});

describe('default storage', () => {
  const docs = parseAllDocuments(defaultStorageManifest()).map((doc) => doc.toJS() as Record<string, any>);

  it('is the default StorageClass "standard", binding when the pod is scheduled', () => {
    expect(docs[0]).toMatchObject({
      kind: 'StorageClass',
      metadata: { name: 'standard', annotations: { 'storageclass.kubernetes.io/is-default-class': 'true' } },
      provisioner: 'kubernetes.io/no-provisioner',
      volumeBindingMode: 'WaitForFirstConsumer',
    });
  });

  it('offers local volumes (fsGroup applies, unlike hostPath) on folders the setup script creates', () => {
    const volumes = docs.slice(1);
    expect(volumes).toHaveLength(LOCAL_VOLUMES.count);
    const script = nodeSetupScript();
    volumes.forEach((pv, index) => {
      expect(pv).toMatchObject({
        kind: 'PersistentVolume',
        spec: { storageClassName: 'standard', accessModes: ['ReadWriteOnce'], local: { path: localVolumePath(index) }, capacity: { storage: '10Gi' } },
      });
      expect(pv.spec.nodeAffinity.required.nodeSelectorTerms).toHaveLength(1);
      expect(script).toContain(`mkdir -p ${localVolumePath(index)}`);
    });
  });
});

describe('node setup', () => {
  it('finishes the node as kind\'s base Dockerfile does', () => {
    const script = nodeSetupScript();
    expect(script.split('\n')[0]).toBe('set -eu');
    expect(script).toContain('systemctl enable kubelet.service containerd.service undo-mount-hacks.service');
    expect(script).toContain('systemctl mask systemd-binfmt.service');
    expect(script).toContain('ln -sf /usr/lib/systemd/systemd /sbin/init');
    expect(script).toContain('mkdir -p /etc/kubernetes/manifests');
    expect(script).toContain('/kind/bin/mount-product-files.sh');
    expect(script).toContain("jq 'del(.process.rlimits)' > /etc/containerd/cri-base.json");
  });

  it('writes /kind/version, both manifests, containerd\'s config and the CNI template', () => {
    const files = generatedNodeFiles(KIND_CONTAINERD_CONFIG);
    expect(Object.keys(files).sort()).toEqual(
      [
        '/kind/version',
        '/kind/manifests/default-cni.yaml',
        '/kind/manifests/default-storage.yaml',
        '/etc/containerd/config.toml',
        CNI_TEMPLATE_PATH,
        CONTAINERD_OFFLINE_DROPIN_PATH,
      ].sort(),
    );
    expect(files['/kind/version']).toBe('v1.36.1');
  });

  it('keeps the node\'s containerd from pulling: every proxy variable at a refusing port on the node\'s loopback', () => {
    expect(CONTAINERD_OFFLINE_DROPIN_PATH).toBe('/etc/systemd/system/containerd.service.d/10-dirtk-offline.conf');
    expect(CONTAINERD_OFFLINE_DROPIN).toContain('[Service]\n');
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) expect(CONTAINERD_OFFLINE_DROPIN).toContain(`"${name}=http://127.0.0.1:9"`);
    expect(CONTAINERD_OFFLINE_DROPIN).toContain('"NO_PROXY="');
  });
});

describe('Kind config patches for this host', () => {
  const validate = new Ajv({ allErrors: true, strict: true }).compile(KIND_V1ALPHA4_CLUSTER_SCHEMA);

  it('are valid kind.x-k8s.io/v1alpha4 fields, merged without losing the config\'s own', () => {
    const config = withHostPatches({
      kind: 'Cluster',
      apiVersion: 'kind.x-k8s.io/v1alpha4',
      name: 'dir-example',
      networking: { podSubnet: '10.110.0.0/16', serviceSubnet: '10.115.0.0/16' },
      nodes: [{ role: 'control-plane', image: 'dirtk.local/kind-node:v1.36.1-0123456789abcdef' }],
      kubeadmConfigPatches: ['kind: ClusterConfiguration\n'],
    } as const);
    expect(validate(config), JSON.stringify(validate.errors)).toBe(true);
    expect(config.networking).toEqual({ podSubnet: '10.110.0.0/16', serviceSubnet: '10.115.0.0/16', disableDefaultCNI: true });
    expect(config.kubeadmConfigPatches).toEqual(['kind: ClusterConfiguration\n', 'kind: KubeletConfiguration\nfailCgroupV1: false\n']);
    expect(validate(smokeClusterConfig('dirtk.local/kind-node:v1.36.1-x')), JSON.stringify(validate.errors)).toBe(true);
  });

  it('are the three host quirks: no default CNI, clamped oom_score_adj, kubelet on cgroup v1', () => {
    expect(KIND_HOST_PATCHES.networking).toEqual({ disableDefaultCNI: true });
    expect(KIND_HOST_PATCHES.containerdConfigPatches).toEqual(['[plugins."io.containerd.grpc.v1.cri"]\n  restrict_oom_score_adj = true\n']);
    expect(KIND_HOST_PATCHES.kubeadmConfigPatches).toEqual(['kind: KubeletConfiguration\nfailCgroupV1: false\n']);
  });

  it('the smoke workload runs the SPIRE server non-root on a claim of the default class, never pulling', () => {
    const docs = parseAllDocuments(smokeManifest()).map((doc) => doc.toJS() as Record<string, any>);
    const pod = docs.find((doc) => doc.kind === 'Pod')!;
    expect(pod.spec.containers[0]).toMatchObject({ image: 'ghcr.io/spiffe/spire-server:1.15.3', imagePullPolicy: 'IfNotPresent' });
    expect(pod.spec.securityContext).toMatchObject({ runAsUser: 1000, fsGroup: 1000 });
    expect(docs.find((doc) => doc.kind === 'PersistentVolumeClaim')!.spec.storageClassName).toBeUndefined();
  });
});
