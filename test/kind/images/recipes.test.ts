/** The image recipes as data: pins, keys, tags and image configs. Pure: no Docker, no Go, no network. */
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTRY_IMAGE } from '../../../constructs/directory-registry';
import { IMAGES } from '../../../spire/versions';
import { changeArgs } from '../../../kind/images/docker';
import { BUILD_MODULES_DIR, GO_BUILDS, goBuildKey, goInstallArgs, moduleFiles, type GoBuild } from '../../../kind/images/go-builds';
import { contentHash, IMAGE_SPECS, imageKey, type SourceResolver } from '../../../kind/images/images';
import { checkKubeadmImages, KIND_BASE_FILES, NODE_BINARIES } from '../../../kind/images/node-image';
import { debootstrapArgs, pruneScript, ROOTFS_PACKAGES, rootfsKey } from '../../../kind/images/rootfs';
import {
  baseImageTag,
  CONTROL_PLANE_IMAGES,
  KUBERNETES_VERSION,
  nodeImageTag,
  UNSERVED_IMAGES,
  WORKLOAD_IMAGES,
} from '../../../kind/images/versions';

const goMod = (dir: string) => readFileSync(path.join(BUILD_MODULES_DIR, dir, 'go.mod'), 'utf8');

/** What `kubeadm config images list --kubernetes-version v1.36.1` printed for the kubeadm built here. */
const KUBEADM_LIST = `registry.k8s.io/kube-apiserver:v1.36.1
registry.k8s.io/kube-controller-manager:v1.36.1
registry.k8s.io/kube-scheduler:v1.36.1
registry.k8s.io/kube-proxy:v1.36.1
registry.k8s.io/coredns/coredns:v1.14.2
registry.k8s.io/pause:3.10.2
registry.k8s.io/etcd:3.6.8-0
`;

describe('Go build modules', () => {
  const pinned: Record<string, [string, string]> = {
    kind: ['sigs.k8s.io/kind', 'v0.32.0'],
    kubernetes: ['k8s.io/kubernetes', 'v1.36.1'],
    containerd: ['github.com/containerd/containerd/v2', 'v2.3.1'],
    runc: ['github.com/opencontainers/runc', 'v1.4.2'],
    criTools: ['sigs.k8s.io/cri-tools', 'v1.36.0'],
    cniPlugins: ['github.com/containernetworking/plugins', 'v1.9.1'],
    etcd: ['go.etcd.io/etcd/server/v3', 'v3.6.8'],
    coredns: ['github.com/coredns/coredns', 'v1.14.2'],
  };

  it.each(Object.entries(pinned))('%s: go.mod requires exactly the version the recipe names', (name, [module, version]) => {
    const build = GO_BUILDS[name as keyof typeof GO_BUILDS];
    expect(build.version).toBe(version);
    expect(goMod(build.dir)).toMatch(new RegExp(`^\\s*(require )?${module.replace(/[.]/g, '\\.')} ${version.replace(/[.]/g, '\\.')}( // indirect)?$`, 'm'));
    // go.sum pins the module graph, so `go install -mod=readonly` never resolves anything new.
    expect(readFileSync(path.join(BUILD_MODULES_DIR, build.dir, 'go.sum'), 'utf8')).toContain(`${module} ${version} h1:`);
  });

  it('the Kubernetes module pins every k8s.io staging module k8s.io/kubernetes requires at v0.0.0 to v0.36.1', () => {
    const mod = goMod('kubernetes');
    const replaced = [...mod.matchAll(/^\s*(k8s\.io\/[a-z-]+) => (k8s\.io\/[a-z-]+) (v\S+)$/gm)];
    expect(replaced.length).toBeGreaterThanOrEqual(30);
    for (const [, from, to, version] of replaced) {
      expect(to).toBe(from);
      expect(version).toBe('v0.36.1');
    }
    for (const staging of ['api', 'apimachinery', 'client-go', 'kubelet', 'kubectl', 'cri-api', 'cri-client', 'cri-streaming', 'streaming', 'externaljwt']) {
      expect(replaced.map(([, from]) => from)).toContain(`k8s.io/${staging}`);
    }
    for (const tool of ['kubeadm', 'kubelet', 'kubectl', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
      expect(mod).toContain(`k8s.io/kubernetes/cmd/${tool}\n`);
    }
  });

  it('stamps the Kubernetes version into both version packages, as a release build does', () => {
    const flags = GO_BUILDS.kubernetes.ldflags.join(' ');
    for (const pkg of ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version']) {
      expect(flags).toContain(`-X '${pkg}.gitVersion=${KUBERNETES_VERSION}'`);
      expect(flags).toContain(`-X '${pkg}.gitMinor=36'`);
    }
    expect(goInstallArgs(GO_BUILDS.kubernetes)).toEqual(['install', '-trimpath', `-ldflags=${GO_BUILDS.kubernetes.ldflags.join(' ')}`, 'tool']);
  });

  it('builds runc with cgo and seccomp, everything else static', () => {
    const cgo = Object.values(GO_BUILDS).filter((build) => build.cgo).map((build) => build.name);
    expect(cgo).toEqual(['runc']);
    expect(goInstallArgs(GO_BUILDS.runc)).toContain('-tags=seccomp,urfave_cli_no_docs');
    expect(goInstallArgs(GO_BUILDS.containerd)).toContain('-tags=no_aufs,no_zfs,no_btrfs,no_devmapper');
  });

  it('names the etcd binary etcd (go install names a /v3 package after its parent, "server")', () => {
    expect(GO_BUILDS.etcd.binaries).toEqual({ server: 'etcd' });
    expect(GO_BUILDS.pause.binaries).toEqual({ 'kind-pause': 'pause' });
    expect(goMod('pause')).toMatch(/^module dirtk\.local\/kind-pause$/m);
  });

  describe('keys', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-gobuild-'));
    afterAll(() => rmSync(scratch, { recursive: true, force: true }));
    cpSync(path.join(BUILD_MODULES_DIR, 'pause'), path.join(scratch, 'pause'), { recursive: true });
    const build: GoBuild = GO_BUILDS.pause;

    it('depend on the module files, the settings and the Go version, and nothing else', () => {
      const key = goBuildKey(build, 'go1.26.8', scratch);
      expect(key).toMatch(/^[0-9a-f]{16}$/);
      expect(goBuildKey(build, 'go1.26.8', scratch)).toBe(key);
      expect(goBuildKey(build, 'go1.26.9', scratch)).not.toBe(key);
      expect(goBuildKey({ ...build, ldflags: ['-s'] }, 'go1.26.8', scratch)).not.toBe(key);
      writeFileSync(path.join(scratch, 'pause', 'main.go'), `${readFileSync(path.join(scratch, 'pause', 'main.go'), 'utf8')}\n// changed\n`);
      expect(goBuildKey(build, 'go1.26.8', scratch)).not.toBe(key);
      writeFileSync(path.join(scratch, 'pause', 'README'), 'not part of the recipe');
      expect(moduleFiles(build, scratch).map((file) => path.basename(file))).toEqual(['go.mod', 'main.go']);
    });
  });
});

describe('image names', () => {
  it('control-plane images are exactly what kubeadm v1.36.1 lists', () => {
    expect(() => checkKubeadmImages(KUBEADM_LIST)).not.toThrow();
    expect(() => checkKubeadmImages(KUBEADM_LIST.replace('3.10.2', '3.10'))).toThrow(/lists other images/);
    expect(() => checkKubeadmImages(KUBEADM_LIST.split('\n').slice(1).join('\n'))).toThrow(/lists other images/);
  });

  it('workload images are the names the manifests use', () => {
    expect(WORKLOAD_IMAGES.spireServer).toBe(IMAGES.spireServer);
    expect(WORKLOAD_IMAGES.spireAgent).toBe(IMAGES.spireAgent);
    expect(WORKLOAD_IMAGES.controllerManager).toBe(IMAGES.controllerManager);
    expect(WORKLOAD_IMAGES).toMatchObject({ spireServer: 'ghcr.io/spiffe/spire-server:1.15.3', apiserver: 'dirtk/apiserver:dev' });
    expect(UNSERVED_IMAGES.map((entry) => entry.image)).toEqual([IMAGES.csiDriver, IMAGES.csiNodeDriverRegistrar]);
  });

  it('every control-plane and workload image has exactly one recipe, and nothing stands in for an unserved one', () => {
    // The registry's recipe is registry-image.ts, keyed apart from these.
    const tags = [...IMAGE_SPECS.map((spec) => spec.tag), REGISTRY_IMAGE.tag].sort();
    expect(tags).toEqual([...Object.values(CONTROL_PLANE_IMAGES), ...Object.values(WORKLOAD_IMAGES)].sort());
    expect(new Set(IMAGE_SPECS.map((spec) => spec.id)).size).toBe(IMAGE_SPECS.length);
  });

  it('our own images live under dirtk.local, keyed', () => {
    expect(baseImageTag('0123456789abcdef')).toBe('dirtk.local/debian:bookworm-0123456789abcdef');
    expect(nodeImageTag('0123456789abcdef')).toBe('dirtk.local/kind-node:v1.36.1-0123456789abcdef');
  });
});

describe('image recipes', () => {
  const spec = (id: string) => IMAGE_SPECS.find((candidate) => candidate.id === id)!;

  it('the apiserver image matches apps/apiserver/Dockerfile: uid 65532, entrypoint node, /app, a data dir owned by 65532', () => {
    const apiserver = spec('apiserver');
    expect(apiserver.config).toMatchObject({ user: '65532:65532', entrypoint: ['/nodejs/bin/node'], cmd: ['/app/apiserver.js'], workdir: '/app' });
    expect(apiserver.config.env).toMatchObject({ NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps' });
    expect(apiserver.files.map((file) => file.to)).toEqual(['/nodejs/bin/node', '/app']);
    expect(apiserver.dirs).toEqual([{ path: '/var/lib/dirtk', uid: 65532, gid: 65532, mode: 0o755 }]);
    const dockerfile = readFileSync(path.join(__dirname, '../../../apps/apiserver/Dockerfile'), 'utf8');
    expect(dockerfile).toContain('USER 65532:65532');
    expect(dockerfile).toContain('ENTRYPOINT ["/nodejs/bin/node"]');
    expect(dockerfile).toContain('CMD ["/app/apiserver.js"]');
  });

  it('SPIRE images run the binaries npm run setup builds, with the upstream entrypoints', () => {
    expect(spec('spire-server').config.entrypoint).toEqual(['/opt/spire/bin/spire-server', 'run']);
    expect(spec('spire-agent').config.entrypoint).toEqual(['/opt/spire/bin/spire-agent', 'run']);
    expect(spec('spire-controller-manager').config.entrypoint).toEqual(['/spire-controller-manager']);
    expect(spec('spire-server').files).toEqual([{ from: { kind: 'spire', binary: 'server' }, to: '/opt/spire/bin/spire-server' }]);
  });


  it('control-plane binaries are on PATH under the names kubeadm\'s manifests call', () => {
    for (const id of ['kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy']) {
      expect(spec(id).files).toEqual([{ from: { kind: 'go', build: 'kubernetes', binary: id }, to: `/usr/local/bin/${id}` }]);
    }
    expect(spec('etcd').files[0]!.to).toBe('/usr/local/bin/etcd');
    expect(spec('pause').config).toMatchObject({ entrypoint: ['/pause'], user: '65535:65535' });
  });

  it('an image key changes with its inputs and the base, not with other images', () => {
    const fingerprints: Record<string, string> = {};
    const sources: SourceResolver = { path: () => '/dev/null', fingerprint: (source) => fingerprints[JSON.stringify(source)] ?? JSON.stringify(source) };
    const server = spec('spire-server');
    const key = imageKey(server, 'base1', sources);
    expect(imageKey(server, 'base1', sources)).toBe(key);
    expect(imageKey(server, 'base2', sources)).not.toBe(key);
    fingerprints[JSON.stringify({ kind: 'spire', binary: 'agent' })] = 'changed agent';
    expect(imageKey(server, 'base1', sources)).toBe(key);
    fingerprints[JSON.stringify({ kind: 'spire', binary: 'server' })] = 'changed server';
    expect(imageKey(server, 'base1', sources)).not.toBe(key);
  });

  it('content hashes cover names, modes and bytes of every file in a folder', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-hash-'));
    try {
      writeFileSync(path.join(dir, 'a.js'), 'one');
      const first = contentHash(dir);
      expect(contentHash(dir)).toBe(first);
      writeFileSync(path.join(dir, 'a.js'), 'two');
      expect(contentHash(dir)).not.toBe(first);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('docker --change lines: JSON forms, ENTRYPOINT before CMD (ENTRYPOINT clears an inherited CMD)', () => {
    const args = changeArgs({ entrypoint: ['/a', 'b'], cmd: [], user: '1:2', env: { X: 'y z' }, labels: { k: 'v' }, stopSignal: 'SIGRTMIN+3' });
    const changes = args.filter((_, index) => index % 2 === 1);
    expect(args.filter((_, index) => index % 2 === 0).every((flag) => flag === '--change')).toBe(true);
    expect(changes).toEqual(['ENV X="y z"', 'USER 1:2', 'STOPSIGNAL SIGRTMIN+3', 'LABEL k="v"', 'ENTRYPOINT ["/a","b"]', 'CMD []']);
  });
});

describe('node image contents', () => {
  it('carries every runtime binary from its build, where kind puts them', () => {
    for (const entry of NODE_BINARIES) {
      expect(Object.values(GO_BUILDS[entry.build].binaries)).toContain(entry.binary);
    }
    expect(NODE_BINARIES.map((entry) => entry.to)).toEqual(
      expect.arrayContaining(['/usr/bin/kubeadm', '/usr/bin/kubelet', '/usr/bin/kubectl', '/usr/local/bin/containerd', '/usr/local/sbin/runc', '/usr/local/bin/crictl', '/opt/cni/bin/ptp', '/opt/cni/bin/host-local', '/opt/cni/bin/portmap', '/opt/cni/bin/loopback']),
    );
    // Nothing lands in the usr-merge links, which a copied tree would replace with folders.
    for (const to of [...NODE_BINARIES.map((entry) => entry.to), ...KIND_BASE_FILES.map((file) => `/${file.path}`)]) {
      expect(to.split('/')[1]).not.toMatch(/^(bin|sbin|lib|lib64)$/);
    }
  });

  it('takes kind\'s entrypoint and systemd units, executables 0755 and the rest 0644', () => {
    const modes = Object.fromEntries(KIND_BASE_FILES.map((file) => [file.path, file.mode]));
    expect(modes['usr/local/bin/entrypoint']).toBe(0o755);
    expect(modes['kind/bin/mount-product-files.sh']).toBe(0o755);
    expect(modes['etc/systemd/system/kubelet.service.d/10-kubeadm.conf']).toBe(0o644);
  });
});

describe('base rootfs', () => {
  it('debootstraps minbase bookworm with what kind\'s base image installs', () => {
    const args = debootstrapArgs('/tmp/x', 'http://deb.debian.org/debian');
    expect(args).toEqual(['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, 'bookworm', '/tmp/x', 'http://deb.debian.org/debian']);
    for (const pkg of ['systemd', 'iptables', 'nftables', 'conntrack', 'iproute2', 'mount', 'kmod', 'libseccomp2', 'ca-certificates', 'jq', 'procps', 'libstdc++6']) {
      expect(ROOTFS_PACKAGES).toContain(pkg);
    }
    expect(rootfsKey()).toMatch(/^[0-9a-f]{16}$/);
  });

  it('empties the per-container identity and the caches, never the usr-merge links', () => {
    const script = pruneScript();
    expect(script).toContain(': > "$root/etc/machine-id"');
    expect(script).toContain('find "$root/var/lib/apt/lists" -mindepth 1 -delete');
    expect(script).not.toMatch(/rm -rf? "\$root"\/(bin|sbin|lib)/);
  });
});
