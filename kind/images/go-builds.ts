/**
 * The Go programs of the Kind images, each built with `go install` from a small module in `build/<dir>`
 * that pins it at an exact version through the Go module proxy (go.mod and go.sum committed, so the
 * module graph is fixed). Each build lands in `<cache>/kind/go/<name>-<key>/bin`, where the key hashes
 * the module's files, the build settings below and the Go version: a second run finds it and does
 * nothing; a changed pin or flag builds anew beside it.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { run, timed, type Log } from '../engine/progress';
import { KIND_VERSION, KUBERNETES_VERSION, NODE_COMPONENTS } from './versions';

export const BUILD_MODULES_DIR = path.join(__dirname, 'build');

export interface GoBuild {
  /** Name of the build and of its cache folder. */
  readonly name: string;
  /** The module folder under `build/`. */
  readonly dir: string;
  /** The version the module pins (for messages and the summary). */
  readonly version: string;
  /** `go install` target: `tool` (every tool the module declares), the module's package, or its commands. */
  readonly target: 'tool' | '.' | './cmd/...';
  readonly cgo: boolean;
  readonly tags: readonly string[];
  readonly ldflags: readonly string[];
  /** The binaries `go install` writes, and the names they get (go names a `/vN` package after its parent). */
  readonly binaries: Readonly<Record<string, string>>;
}

/** `-X` flags stamping Kubernetes' version, as hack/lib/version.sh does for a release build. */
function kubernetesVersionFlags(): string[] {
  const [major, minor] = KUBERNETES_VERSION.slice(1).split('.');
  const values = { gitVersion: KUBERNETES_VERSION, gitMajor: major!, gitMinor: minor!, gitTreeState: 'clean', buildDate: '2026-05-12T09:51:33Z' };
  return ['k8s.io/client-go/pkg/version', 'k8s.io/component-base/version'].flatMap((pkg) =>
    Object.entries(values).map(([key, value]) => `-X '${pkg}.${key}=${value}'`),
  );
}

const same = (...names: string[]) => Object.fromEntries(names.map((name) => [name, name]));

export const GO_BUILDS = {
  kind: {
    name: 'kind',
    dir: 'kind',
    version: KIND_VERSION,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w'],
    binaries: same('kind'),
  },
  kubernetes: {
    name: 'kubernetes',
    dir: 'kubernetes',
    version: KUBERNETES_VERSION,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w', ...kubernetesVersionFlags()],
    binaries: same('kubeadm', 'kubelet', 'kubectl', 'kube-apiserver', 'kube-controller-manager', 'kube-scheduler', 'kube-proxy'),
  },
  containerd: {
    name: 'containerd',
    dir: 'containerd',
    version: NODE_COMPONENTS.containerd,
    target: 'tool',
    cgo: false,
    // kind's build: no optional snapshotters.
    tags: ['no_aufs', 'no_zfs', 'no_btrfs', 'no_devmapper'],
    ldflags: [
      '-s',
      '-w',
      `-X github.com/containerd/containerd/v2/version.Version=${NODE_COMPONENTS.containerd}`,
      '-X github.com/containerd/containerd/v2/version.Package=github.com/containerd/containerd/v2',
    ],
    binaries: same('containerd', 'ctr', 'containerd-shim-runc-v2'),
  },
  runc: {
    name: 'runc',
    dir: 'runc',
    version: NODE_COMPONENTS.runc,
    target: 'tool',
    // seccomp support links libseccomp (libseccomp-dev here, libseccomp2 in the image: both bookworm).
    cgo: true,
    tags: ['seccomp', 'urfave_cli_no_docs'],
    ldflags: ['-s', '-w'],
    binaries: same('runc'),
  },
  criTools: {
    name: 'cri-tools',
    dir: 'cri-tools',
    version: NODE_COMPONENTS.criTools,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w', `-X sigs.k8s.io/cri-tools/pkg/version.Version=${NODE_COMPONENTS.criTools}`],
    binaries: same('crictl'),
  },
  cniPlugins: {
    name: 'cni-plugins',
    dir: 'cni-plugins',
    version: NODE_COMPONENTS.cniPlugins,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w', `-X github.com/containernetworking/plugins/pkg/utils/buildversion.BuildVersion=${NODE_COMPONENTS.cniPlugins}`],
    binaries: same('bridge', 'ptp', 'loopback', 'host-local', 'portmap'),
  },
  etcd: {
    name: 'etcd',
    dir: 'etcd',
    version: `v${NODE_COMPONENTS.etcd}`,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w'],
    binaries: { server: 'etcd' },
  },
  coredns: {
    name: 'coredns',
    dir: 'coredns',
    version: NODE_COMPONENTS.coredns,
    target: 'tool',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w'],
    binaries: same('coredns'),
  },
  pause: {
    name: 'pause',
    dir: 'pause',
    version: NODE_COMPONENTS.pause,
    target: '.',
    cgo: false,
    tags: [],
    ldflags: ['-s', '-w'],
    binaries: { 'kind-pause': 'pause' },
  },
} as const satisfies Record<string, GoBuild>;

export type GoBuildName = keyof typeof GO_BUILDS;

/** `go install` arguments of a build. */
export function goInstallArgs(build: GoBuild): string[] {
  return [
    'install',
    '-trimpath',
    ...(build.tags.length > 0 ? [`-tags=${build.tags.join(',')}`] : []),
    `-ldflags=${build.ldflags.join(' ')}`,
    build.target,
  ];
}

/** The files of a build module that make up its recipe (go.mod, go.sum, Go sources in any folder), sorted. */
export function moduleFiles(build: GoBuild, modulesDir = BUILD_MODULES_DIR): string[] {
  const root = path.join(modulesDir, build.dir);
  const files: string[] = [];
  const visit = (dir: string) => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const file = path.join(dir, entry.name);
      if (entry.isDirectory()) visit(file);
      else if (entry.name.endsWith('.go') || (dir === root && (entry.name === 'go.mod' || entry.name === 'go.sum'))) files.push(file);
    }
  };
  visit(root);
  return files;
}

/** Key of a build: its module's files, its settings and the Go version. */
export function goBuildKey(build: GoBuild, goVersion: string, modulesDir = BUILD_MODULES_DIR): string {
  const root = path.join(modulesDir, build.dir);
  const hash = createHash('sha256').update(JSON.stringify({ build, goVersion }));
  for (const file of moduleFiles(build, modulesDir)) hash.update(path.relative(root, file)).update('\0').update(readFileSync(file));
  return hash.digest('hex').slice(0, 16);
}

export interface BuiltGo {
  readonly build: GoBuild;
  readonly key: string;
  readonly binDir: string;
  /** Final binary name → path. */
  readonly binaries: Readonly<Record<string, string>>;
  /** Seconds the build took now; 0 when it was already there. */
  readonly seconds: number;
  readonly cached: boolean;
}

export function goBuildDir(cacheDir: string, build: GoBuild, key: string): string {
  return path.join(cacheDir, 'go', `${build.name}-${key}`);
}

/** The Go version `go` reports (part of every key). */
export async function goVersion(): Promise<string> {
  return (await run('go', ['env', 'GOVERSION'])).stdout.trim();
}

/** Builds `build` unless its keyed folder is complete. */
export async function ensureGoBuild(
  build: GoBuild,
  cacheDir: string,
  go: string,
  log: Log,
  prefix: string,
  extraEnv: Readonly<Record<string, string>> = {},
): Promise<BuiltGo> {
  const key = goBuildKey(build, go);
  const dir = goBuildDir(cacheDir, build, key);
  const binDir = path.join(dir, 'bin');
  const binaries = Object.fromEntries(Object.values(build.binaries).map((name) => [name, path.join(binDir, name)]));
  const stamp = path.join(dir, 'build.json');
  if (existsSync(stamp) && Object.values(binaries).every((file) => existsSync(file))) {
    return { build, key, binDir, binaries, seconds: 0, cached: true };
  }
  const started = Date.now();
  await timed(log, prefix, `building ${build.name} ${build.version} (go install, ${Object.values(build.binaries).join(', ')})`, async () => {
    const staging = path.join(dir, `staging-${process.pid}`);
    rmSync(staging, { recursive: true, force: true });
    mkdirSync(staging, { recursive: true });
    await run('go', goInstallArgs(build), {
      cwd: path.join(BUILD_MODULES_DIR, build.dir),
      env: { ...extraEnv, GOBIN: staging, CGO_ENABLED: build.cgo ? '1' : '0', GOFLAGS: '-mod=readonly -buildvcs=false' },
    });
    mkdirSync(binDir, { recursive: true });
    for (const [built, name] of Object.entries(build.binaries)) renameSync(path.join(staging, built), path.join(binDir, name));
    rmSync(staging, { recursive: true, force: true });
  });
  const seconds = Math.round((Date.now() - started) / 1000);
  writeFileSync(stamp, `${JSON.stringify({ name: build.name, version: build.version, key, go, seconds, builtAt: new Date().toISOString() }, null, 2)}\n`);
  return { build, key, binDir, binaries, seconds, cached: false };
}
