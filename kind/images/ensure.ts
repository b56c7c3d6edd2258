/**
 * `ensureKindImages()`: everything two single-node Kind clusters need, built on this machine from the
 * Go module proxy and Debian's mirror only, each piece cached under `<cache>/kind/` (or in the Docker
 * engine, labelled with its key) and skipped when its key matches:
 *
 * - the kind v0.32.0 binary and a kubectl v1.36.1 for the host;
 * - the Debian bookworm base image (debootstrap);
 * - the control-plane images, tagged as `kubeadm config images list` prints them;
 * - the node image `dirtk.local/kind-node:v1.36.1-<key>` with those images inside;
 * - the SPIRE server, agent and controller-manager images from `npm run setup`'s binaries, tagged as the
 *   manifests name them, and the apiserver image `dirtk/apiserver:dev`, also tagged by its image ID, with
 *   its impostor (pinned-apiserver.ts), and the registry image `dirtk/registry:dev` from the project's
 *   Distribution build (registry-image.ts).
 */
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { ensureRegistry } from '../../registry/build/install';
import { ensureSpire, SPIRE_INSTALL } from '../../spire/build/install';
import { CACHE_ROOT, PROJECT_ROOT } from '../../tools/paths';
import { ensureDockerEngine, type DockerEngine } from '../engine/engine';
import { elapsed, run, timed, type Log } from '../engine/progress';
import { BUILD_MODULES_DIR, ensureGoBuild, GO_BUILDS, goVersion, type BuiltGo, type GoBuildName } from './go-builds';
import { ensureHostTools } from './host-tools';
import { contentHash, ensureImage, IMAGE_SPECS, imageKey, type FileSource, type SourceResolver } from './images';
import { ensureNodeImage } from './node-image';
import { ensureRegistryImage } from './registry-image';
import { pinApiServerImage, prunePinnedApiServerImages, type PinnedApiServerImage } from './pinned-apiserver';
import { ensureBaseImage } from './rootfs';
import { baseImageTag, KIND_VERSION, LOCAL_REPOSITORY, RECIPE_KEY_LABEL, UNSERVED_IMAGES, WORKLOAD_IMAGES } from './versions';

export const PREFIX = '[kind:images]';

export interface SummaryRow {
  readonly what: string;
  /** Image tag or file path. */
  readonly result: string;
  readonly status: 'built' | 'cached';
  readonly seconds: number;
}

export interface KindImages {
  readonly engine: DockerEngine;
  /** The kind binary built here. */
  readonly kind: string;
  /** A kubectl matching the clusters (v1.36.1). */
  readonly kubectl: string;
  /** The node image to pass to `kind create cluster --image`. */
  readonly nodeImage: string;
  /** The apiserver image under its content-addressed tag, its image ID and its impostor. */
  readonly apiserver: PinnedApiServerImage;
  /** Every image by its id (IMAGE_SPECS ids, plus `base` and `node`). */
  readonly images: Readonly<Record<string, string>>;
  readonly summary: readonly SummaryRow[];
  /** Things to know: images that cannot be built here, and why. */
  readonly notes: readonly string[];
  readonly seconds: number;
}

export interface EnsureKindImagesOptions {
  readonly log?: Log;
  readonly cacheRoot?: string;
}

/** The Go builds, in the order they run (the long ones first, so their progress shows early). */
const BUILD_ORDER: readonly GoBuildName[] = ['kubernetes', 'kind', 'containerd', 'runc', 'criTools', 'cniPlugins', 'etcd', 'coredns', 'pause'];

export async function ensureKindImages(options: EnsureKindImagesOptions = {}): Promise<KindImages> {
  const log = options.log ?? ((line: string) => console.log(line));
  const started = Date.now();
  const cacheDir = path.join(options.cacheRoot ?? CACHE_ROOT, 'kind');
  const stagingRoot = path.join(cacheDir, 'staging');
  mkdirSync(stagingRoot, { recursive: true });
  const summary: SummaryRow[] = [];

  const engine = await ensureDockerEngine({ log, ...(options.cacheRoot !== undefined && { cacheRoot: options.cacheRoot }) });
  const docker = engine.docker;
  const go = await goVersion();
  const tools = await ensureHostTools(cacheDir, engine.layout.aptDir, log, PREFIX);

  const builds = {} as Record<GoBuildName, BuiltGo>;
  for (const name of BUILD_ORDER) {
    const build = GO_BUILDS[name];
    const built = await ensureGoBuild(build, cacheDir, go, log, PREFIX, build.cgo ? tools.seccompEnv : {});
    builds[name] = built;
    summary.push({ what: `${build.name} ${build.version} (Go)`, result: built.binDir, status: built.cached ? 'cached' : 'built', seconds: built.seconds });
  }

  const spireStarted = Date.now();
  const spireReady = existsSync(SPIRE_INSTALL.serverBin) && existsSync(SPIRE_INSTALL.agentBin) && existsSync(SPIRE_INSTALL.controllerManagerBin);
  await ensureSpire({ log: (line) => log(`${PREFIX} ${line}`) });
  summary.push({ what: 'SPIRE binaries (npm run setup)', result: path.dirname(SPIRE_INSTALL.serverBin), status: spireReady ? 'cached' : 'built', seconds: elapsed(spireStarted) });

  const registryStarted = Date.now();
  const registry = await ensureRegistry({ log: (line) => log(`${PREFIX} ${line}`) });
  summary.push({ what: 'Distribution registry binary (npm run setup)', result: registry.registryBin, status: 'cached', seconds: elapsed(registryStarted) });

  // Bundled on every run (seconds): the apiserver image's key is the bundle's content, so an unchanged
  // bundle leaves the image alone.
  const bundleStarted = Date.now();
  const bundleDir = path.join(PROJECT_ROOT, 'dist', 'apiserver');
  const bundleBefore = existsSync(bundleDir) ? contentHash(bundleDir) : undefined;
  await timed(log, PREFIX, 'bundling the apiserver (npm run build:apiserver)', () => run('npm', ['run', '--silent', 'build:apiserver'], { cwd: PROJECT_ROOT }));
  const bundleChanged = contentHash(bundleDir) !== bundleBefore;
  summary.push({ what: 'apiserver bundle', result: bundleDir, status: bundleChanged ? 'built' : 'cached', seconds: elapsed(bundleStarted) });

  const base = await ensureBaseImage(docker, cacheDir, tools, log, PREFIX);
  summary.push({ what: 'base image (debootstrap)', result: base.tag, status: base.cached ? 'cached' : 'built', seconds: base.seconds });

  const sources = sourceResolver(builds);
  const images: Record<string, string> = { base: base.tag };
  const keys: Record<string, string> = {};
  for (const spec of IMAGE_SPECS) {
    const key = imageKey(spec, base.key, sources);
    const imageStarted = Date.now();
    const built = await timedIf(log, `image ${spec.tag}`, () => ensureImage(docker, spec, base.tag, key, stagingRoot, sources));
    images[spec.id] = spec.tag;
    keys[spec.tag] = key;
    summary.push({ what: `${spec.group} image ${spec.id}`, result: spec.tag, status: built ? 'built' : 'cached', seconds: built ? elapsed(imageStarted) : 0 });
  }

  const registryImageStarted = Date.now();
  const registryImageBuilt = await timedIf(log, `image ${WORKLOAD_IMAGES.registry}`, () => ensureRegistryImage(docker, base, registry.registryBin, stagingRoot));
  images.registry = WORKLOAD_IMAGES.registry;
  summary.push({ what: 'workload image registry', result: WORKLOAD_IMAGES.registry, status: registryImageBuilt ? 'built' : 'cached', seconds: registryImageBuilt ? elapsed(registryImageStarted) : 0 });

  const kindModuleDir = await goModuleDir('kind', `sigs.k8s.io/kind@${KIND_VERSION}`);
  const controlPlaneKeys = Object.fromEntries(IMAGE_SPECS.filter((spec) => spec.group === 'control-plane').map((spec) => [spec.tag, keys[spec.tag]!]));
  const node = await ensureNodeImage(docker, { baseTag: base.tag, baseKey: base.key, kindModuleDir, builds, controlPlaneKeys }, stagingRoot, log, PREFIX);
  images.node = node.tag;
  summary.push({ what: 'node image', result: node.tag, status: node.cached ? 'cached' : 'built', seconds: node.seconds });

  const apiserver = await pinApiServerImage(docker);
  summary.push({ what: 'apiserver image by ID, and its impostor', result: `${apiserver.image}, ${apiserver.impostor}`, status: 'cached', seconds: 0 });

  const notes = await unservedNotes(cacheDir);
  await prunePinnedApiServerImages(docker, apiserver);
  await pruneStale(docker, cacheDir, builds, base.key, node.tag, log);

  const result: KindImages = {
    engine,
    kind: builds.kind.binaries.kind!,
    kubectl: builds.kubernetes.binaries.kubectl!,
    nodeImage: node.tag,
    apiserver,
    images,
    summary,
    notes,
    seconds: elapsed(started),
  };
  writeFileSync(
    path.join(cacheDir, 'images.json'),
    `${JSON.stringify({ kind: result.kind, kubectl: result.kubectl, nodeImage: result.nodeImage, images, keys, at: new Date().toISOString() }, null, 2)}\n`,
  );
  return result;
}

/**
 * Removes what earlier keys left behind: Go builds and rootfs tars of other keys, our base and node
 * images of other keys, and dangling images carrying our label (an image rebuilt under the same tag
 * leaves its predecessor untagged). An image a container still uses stays.
 */
async function pruneStale(docker: string, cacheDir: string, builds: Readonly<Record<GoBuildName, BuiltGo>>, baseKey: string, nodeTag: string, log: Log): Promise<void> {
  const { readdirSync, rmSync } = await import('node:fs');
  const removed: string[] = [];
  const goDir = path.join(cacheDir, 'go');
  const current = new Set(Object.values(builds).map((built) => path.basename(path.dirname(built.binDir))));
  const names = new Set(Object.values(builds).map((built) => built.build.name));
  for (const entry of existsSync(goDir) ? readdirSync(goDir) : []) {
    const name = entry.replace(/-[0-9a-f]{16}$/, '');
    if (names.has(name) && !current.has(entry)) {
      rmSync(path.join(goDir, entry), { recursive: true, force: true });
      removed.push(`go/${entry}`);
    }
  }
  const rootfsDir = path.join(cacheDir, 'rootfs');
  for (const entry of existsSync(rootfsDir) ? readdirSync(rootfsDir) : []) {
    if (!entry.startsWith(baseKey)) {
      rmSync(path.join(rootfsDir, entry), { recursive: true, force: true });
      removed.push(`rootfs/${entry}`);
    }
  }
  const ours = (await run(docker, ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', '--filter', `reference=${LOCAL_REPOSITORY}/*`])).stdout.split('\n').filter(Boolean);
  for (const tag of ours.filter((tag) => tag !== nodeTag && tag !== baseImageTag(baseKey))) {
    if (!(await run(docker, ['image', 'rm', tag], { allowFailure: true })).failed) removed.push(tag);
  }
  await run(docker, ['image', 'prune', '--force', '--filter', `label=${RECIPE_KEY_LABEL}`], { allowFailure: true });
  if (removed.length > 0) log(`${PREFIX} removed what older recipes left: ${removed.join(', ')}`);
}

/** Logs start and end of an image build, but only when it builds (a cached image says nothing). */
async function timedIf(log: Log, what: string, work: () => Promise<boolean>): Promise<boolean> {
  const started = Date.now();
  const built = await work();
  if (built) log(`${PREFIX} ${what}: built in ${elapsed(started)} s`);
  return built;
}

function sourceResolver(builds: Readonly<Record<GoBuildName, BuiltGo>>): SourceResolver {
  const fingerprints = new Map<string, string>();
  const resolve = (source: FileSource): string => {
    switch (source.kind) {
      case 'go':
        return builds[source.build].binaries[source.binary]!;
      case 'spire':
        return { server: SPIRE_INSTALL.serverBin, agent: SPIRE_INSTALL.agentBin, controllerManager: SPIRE_INSTALL.controllerManagerBin }[source.binary];
      case 'node':
        return process.execPath;
      case 'apiserverBundle':
        return path.join(PROJECT_ROOT, 'dist', 'apiserver');
    }
  };
  return {
    path: resolve,
    fingerprint: (source) => {
      // Go builds are identified by their key; everything else by its content.
      if (source.kind === 'go') return `go:${source.build}:${builds[source.build].key}:${source.binary}`;
      const file = resolve(source);
      if (!fingerprints.has(file)) fingerprints.set(file, contentHash(file));
      return fingerprints.get(file)!;
    },
  };
}

/** The folder of `module` in the Go module cache, downloaded through the build module `dir` (which pins it). */
async function goModuleDir(dir: string, module: string): Promise<string> {
  const result = await run('go', ['mod', 'download', '-json', module], { cwd: path.join(BUILD_MODULES_DIR, dir), env: { GOFLAGS: '-mod=readonly' } });
  const info = JSON.parse(result.stdout) as { Dir?: string; Error?: string };
  if (!info.Dir) throw new Error(`go mod download ${module}: ${info.Error ?? result.stderr}`);
  return info.Dir;
}

/**
 * Why some images are not built: the proxy's answer for each upstream module, asked again at most once a day
 * (kept in `<cache>/kind/unserved.json`), so a warm run makes no request.
 */
async function unservedNotes(cacheDir: string): Promise<string[]> {
  const { readFileSync } = await import('node:fs');
  const file = path.join(cacheDir, 'unserved.json');
  let known: Record<string, { at: number; error: string | null }> = {};
  try {
    known = JSON.parse(readFileSync(file, 'utf8')) as typeof known;
  } catch {
    // first run
  }
  const notes: string[] = [];
  for (const entry of UNSERVED_IMAGES) {
    const id = `${entry.module}@${entry.version}`;
    let answer = known[id];
    if (answer === undefined || Date.now() - answer.at > 24 * 3600 * 1000) {
      const result = await run('go', ['mod', 'download', '-json', id], { cwd: cacheDir, allowFailure: true });
      const error = (JSON.parse(result.stdout || '{}') as { Error?: string }).Error ?? (result.failed ? result.stderr : null);
      answer = { at: Date.now(), error: error ?? null };
      known[id] = answer;
    }
    notes.push(
      answer.error === null
        ? `${entry.image} is not built, but the proxy serves ${id} now: add a recipe for it`
        : `${entry.image} is not built: the proxy refuses ${id} (${answer.error.split('\n')[0]!.replace(/^.*: /, '')}); workloads mount the agent socket by hostPath`,
    );
  }
  writeFileSync(file, `${JSON.stringify(known, null, 2)}\n`);
  return notes;
}
