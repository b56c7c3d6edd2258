/**
 * The Kind node image, assembled as `kind build node-image` does but without contacting any registry
 * (kind's builder always pulls its base image and `ctr content fetch`es etcd, coredns, pause, kindnetd
 * and local-path images, even when they are present): run the base image, copy in kind's base files
 * (from the kind module the Go proxy serves), the Kubernetes, containerd, runc, crictl and CNI binaries
 * built here and the generated files, finish the node as kind's base Dockerfile does, `ctr import` the
 * control-plane images (tagged as kubeadm lists them, pinned), and `docker commit` with kind's
 * entrypoint.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, timed, type Log } from '../engine/progress';
import { changeArgs, copyTreeInto, imageRecipeKey, pipeCommands } from './docker';
import type { BuiltGo, GoBuildName } from './go-builds';
import {
  CNI_TEMPLATE,
  CNI_TEMPLATE_PATH,
  CONTAINERD_OFFLINE_DROPIN,
  CONTAINERD_OFFLINE_DROPIN_PATH,
  DEFAULT_CNI_MANIFEST,
  defaultStorageManifest,
  nodeContainerdConfig,
  nodeSetupScript,
} from './node-files';
import { CONTROL_PLANE_IMAGES, KIND_VERSION, KUBERNETES_VERSION, nodeImageTag, RECIPE_KEY_LABEL } from './versions';

/** kind's base image files this node takes (images/base/files in the kind module), and their modes. */
export const KIND_BASE_FILES: readonly { readonly path: string; readonly mode: number }[] = [
  { path: 'usr/local/bin/entrypoint', mode: 0o755 },
  { path: 'usr/local/bin/clean-install', mode: 0o755 },
  { path: 'kind/README.txt', mode: 0o644 },
  { path: 'kind/bin/create-kubelet-cgroup-v2.sh', mode: 0o755 },
  { path: 'kind/bin/mount-product-files.sh', mode: 0o755 },
  { path: 'kind/bin/undo-mount-hacks.sh', mode: 0o755 },
  { path: 'etc/crictl.yaml', mode: 0o644 },
  { path: 'etc/default/kubelet', mode: 0o644 },
  { path: 'etc/sysctl.d/10-network-magic.conf', mode: 0o644 },
  { path: 'etc/sysctl.d/10-network-security.conf', mode: 0o644 },
  { path: 'etc/systemd/system/containerd.service', mode: 0o644 },
  { path: 'etc/systemd/system/kubelet.service', mode: 0o644 },
  { path: 'etc/systemd/system/kubelet.slice', mode: 0o644 },
  { path: 'etc/systemd/system/undo-mount-hacks.service', mode: 0o644 },
  { path: 'etc/systemd/system/kubelet.service.d/10-kubeadm.conf', mode: 0o644 },
  { path: 'etc/systemd/system/kubelet.service.d/11-kind.conf', mode: 0o644 },
];

/** Where each built binary goes in the node (kind's layout: Kubernetes in /usr/bin, the runtime in /usr/local). */
export const NODE_BINARIES: readonly { readonly build: GoBuildName; readonly binary: string; readonly to: string }[] = [
  { build: 'kubernetes', binary: 'kubeadm', to: '/usr/bin/kubeadm' },
  { build: 'kubernetes', binary: 'kubelet', to: '/usr/bin/kubelet' },
  { build: 'kubernetes', binary: 'kubectl', to: '/usr/bin/kubectl' },
  { build: 'containerd', binary: 'containerd', to: '/usr/local/bin/containerd' },
  { build: 'containerd', binary: 'ctr', to: '/usr/local/bin/ctr' },
  { build: 'containerd', binary: 'containerd-shim-runc-v2', to: '/usr/local/bin/containerd-shim-runc-v2' },
  { build: 'runc', binary: 'runc', to: '/usr/local/sbin/runc' },
  { build: 'criTools', binary: 'crictl', to: '/usr/local/bin/crictl' },
  ...['bridge', 'ptp', 'loopback', 'host-local', 'portmap'].map((binary) => ({ build: 'cniPlugins' as const, binary, to: `/opt/cni/bin/${binary}` })),
];

/** The generated files of the node, by path. */
export function generatedNodeFiles(kindContainerdConfig: string): Record<string, string> {
  return {
    '/kind/version': KUBERNETES_VERSION,
    '/kind/manifests/default-cni.yaml': DEFAULT_CNI_MANIFEST,
    '/kind/manifests/default-storage.yaml': defaultStorageManifest(),
    '/etc/containerd/config.toml': nodeContainerdConfig(kindContainerdConfig),
    [CNI_TEMPLATE_PATH]: CNI_TEMPLATE,
    [CONTAINERD_OFFLINE_DROPIN_PATH]: CONTAINERD_OFFLINE_DROPIN,
  };
}

/** The node image's config: kind's entrypoint, systemd's stop signal, `container=docker` for systemd. */
export const NODE_IMAGE_CONFIG = {
  env: { container: 'docker' },
  stopSignal: 'SIGRTMIN+3',
  entrypoint: ['/usr/local/bin/entrypoint', '/sbin/init'],
} as const;

export interface NodeInputs {
  readonly baseTag: string;
  readonly baseKey: string;
  readonly kindModuleDir: string;
  readonly builds: Readonly<Record<GoBuildName, BuiltGo>>;
  /** Control-plane image tag → its recipe key. */
  readonly controlPlaneKeys: Readonly<Record<string, string>>;
}

export function nodeImageKey(inputs: NodeInputs): string {
  const hash = createHash('sha256').update(
    JSON.stringify({
      kind: KIND_VERSION,
      kubernetes: KUBERNETES_VERSION,
      baseKey: inputs.baseKey,
      builds: Object.fromEntries(NODE_BINARIES.map((entry) => [entry.build, inputs.builds[entry.build].key])),
      controlPlane: inputs.controlPlaneKeys,
      kindFiles: KIND_BASE_FILES,
    }),
  );
  for (const file of ['node-image.ts', 'node-files.ts']) hash.update(readFileSync(path.join(__dirname, file)));
  return hash.digest('hex').slice(0, 16);
}

/** Lines `kubeadm config images list` prints, compared with CONTROL_PLANE_IMAGES. */
export function checkKubeadmImages(listed: string): void {
  const got = listed.split('\n').map((line) => line.trim()).filter(Boolean).sort();
  const want = Object.values(CONTROL_PLANE_IMAGES).sort();
  if (JSON.stringify(got) !== JSON.stringify(want)) {
    throw new Error(`kubeadm ${KUBERNETES_VERSION} lists other images than CONTROL_PLANE_IMAGES (kind/images/versions.ts):\n  kubeadm: ${got.join(', ')}\n  ours:    ${want.join(', ')}`);
  }
}

export interface NodeImage {
  readonly tag: string;
  readonly key: string;
  readonly seconds: number;
  readonly cached: boolean;
}

export async function ensureNodeImage(docker: string, inputs: NodeInputs, stagingRoot: string, log: Log, prefix: string): Promise<NodeImage> {
  const key = nodeImageKey(inputs);
  const tag = nodeImageTag(key);
  if ((await imageRecipeKey(docker, tag)) === key) return { tag, key, seconds: 0, cached: true };
  const started = Date.now();
  const staging = path.join(stagingRoot, `node-${process.pid}`);
  const container = `dirtk-node-build-${process.pid}`;
  await run(docker, ['rm', '-f', container], { allowFailure: true });
  try {
    await timed(log, prefix, `assembling the node image ${tag}`, async () => {
      stageNode(inputs, staging);
      // As kind's builder: a container of the base that sleeps, to exec into; never privileged.
      await run(docker, ['run', '-d', '--entrypoint=sleep', `--name=${container}`, '--security-opt', 'seccomp=unconfined', inputs.baseTag, 'infinity']);
      await copyTreeInto(docker, container, staging);
      const versions = await run(docker, ['exec', container, 'bash', '-c', nodeSetupScript()]);
      log(`${prefix} node runtime: ${versions.stdout.split('\n').filter(Boolean).join('; ')}`);
      const listed = await run(docker, ['exec', container, 'kubeadm', 'config', 'images', 'list', '--kubernetes-version', KUBERNETES_VERSION]);
      checkKubeadmImages(listed.stdout);
    });
    await timed(log, prefix, `importing ${Object.keys(CONTROL_PLANE_IMAGES).length} control-plane images into the node's containerd`, async () => {
      await run(docker, ['exec', container, 'bash', '-c', 'nohup containerd > /tmp/containerd.log 2>&1 &']);
      await run(docker, [
        'exec',
        container,
        'bash',
        '-c',
        'for i in $(seq 1 60); do [ -S /run/containerd/containerd.sock ] && ctr version >/dev/null 2>&1 && exit 0; sleep 0.5; done; cat /tmp/containerd.log; exit 1',
      ]);
      const tags = Object.values(CONTROL_PLANE_IMAGES);
      await pipeCommands(
        [docker, 'save', ...tags],
        [docker, 'exec', '-i', container, 'ctr', '--namespace=k8s.io', 'images', 'import', '--label=io.cri-containerd.pinned=pinned', '--all-platforms', '--no-unpack', '--digests', '-'],
      );
      const present = (await run(docker, ['exec', container, 'ctr', '--namespace=k8s.io', 'images', 'ls', '-q'])).stdout.split('\n');
      const missing = tags.filter((tag) => !present.includes(tag));
      if (missing.length > 0) throw new Error(`after ctr import the node lacks ${missing.join(', ')}`);
      await run(docker, ['exec', container, 'bash', '-c', 'pkill containerd; for i in $(seq 1 40); do pgrep containerd >/dev/null || break; sleep 0.5; done; rm -rf /tmp/* /run/containerd']);
    });
    await timed(log, prefix, `docker commit ${tag}`, async () => {
      await run(docker, ['commit', ...changeArgs({ ...NODE_IMAGE_CONFIG, cmd: [], labels: { [RECIPE_KEY_LABEL]: key } }), container, tag]);
    });
  } finally {
    await run(docker, ['rm', '-f', container], { allowFailure: true });
    rmSync(staging, { recursive: true, force: true });
  }
  return { tag, key, seconds: Math.round((Date.now() - started) / 1000), cached: false };
}

/** Stages kind's base files, the binaries and the generated files under `staging`. */
function stageNode(inputs: NodeInputs, staging: string): void {
  rmSync(staging, { recursive: true, force: true });
  const put = (to: string, mode: number, write: (file: string) => void) => {
    const file = path.join(staging, to);
    mkdirSync(path.dirname(file), { recursive: true, mode: 0o755 });
    write(file);
    chmodSync(file, mode);
  };
  const kindFiles = path.join(inputs.kindModuleDir, 'images', 'base', 'files');
  for (const file of KIND_BASE_FILES) put(file.path, file.mode, (to) => copyFileSync(path.join(kindFiles, file.path), to));
  for (const entry of NODE_BINARIES) put(entry.to, 0o755, (to) => copyFileSync(inputs.builds[entry.build].binaries[entry.binary]!, to));
  const kindConfig = readFileSync(path.join(kindFiles, 'etc', 'containerd', 'config.toml'), 'utf8');
  for (const [to, content] of Object.entries(generatedNodeFiles(kindConfig))) put(to, 0o644, (file) => writeFileSync(file, content));
  // Folders the copies created carry the process umask; make them all 0755 like the image's own.
  const fixDirs = (dir: string) => {
    chmodSync(dir, 0o755);
    for (const entry of readdirSync(dir, { withFileTypes: true })) if (entry.isDirectory()) fixDirs(path.join(dir, entry.name));
  };
  fixDirs(staging);
}
