/**
 * The project's own build of Pulumi, for a real `pulumi up` of the stacks with nothing downloaded as a
 * prebuilt binary: the CLI, the Node.js language host and the Kubernetes provider, each built with Go from
 * the module proxy at a pinned version, the provider installed as a local plugin. Everything lives outside
 * the clone, in `${CACHE_ROOT}/pulumi/<key>/` (key: a hash of the versions, the three build modules' go.mod
 * and go.sum, and this file), so fresh clones and CI reuse one build and a second run does nothing.
 *
 *   <key>/bin/pulumi                      the CLI (pkg/v3 cmd/pulumi)
 *   <key>/bin/pulumi-language-nodejs      the language host, next to the CLI, where the CLI looks for it
 *   <key>/home/                           PULUMI_HOME: plugins/resource-kubernetes-v<version>/ (no credentials,
 *                                         no backend state: stacks name their own backend)
 *   <key>/install.json                    what was built; written last
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../paths';

/** `github.com/pulumi/pulumi/pkg/v3` (the CLI); the language host and the SDKs it drives are older, see below. */
export const PULUMI_CLI_VERSION = '3.274.1';
/**
 * The Node.js language host: the last `github.com/pulumi/pulumi/sdk/v3` release that still holds
 * `nodejs/cmd/pulumi-language-nodejs`. Later releases moved it into its own module
 * (`sdk/nodejs/cmd/pulumi-language-nodejs/v3`), which the Go module proxy here refuses at every version.
 */
export const LANGUAGE_NODEJS_VERSION = '3.68.0';
/** The only version of `github.com/pulumi/pulumi-kubernetes/provider/v4` the proxy serves: a commit after v4.24.0. */
export const KUBERNETES_PROVIDER_MODULE_VERSION = 'v4.0.0-20260115033456-f47bc2d6f199';
/**
 * The version the provider is stamped with and installed as, which must equal the `@pulumi/kubernetes`
 * version in package.json: the SDK asks the engine for exactly the plugin version it was generated for.
 * 4.24.1 is the first npm release after the provider commit (4.24.0 itself is not on npm).
 */
export const KUBERNETES_PLUGIN_VERSION = '4.24.1';

const KUBERNETES_PROVIDER_MODULE = 'github.com/pulumi/pulumi-kubernetes/provider/v4';
const KUBERNETES_MAIN_PACKAGE = 'cmd/pulumi-resource-kubernetes';
/** The files of the provider's main package: its source, its generate step, and that step's inputs. */
const KUBERNETES_MAIN_FILES = ['main.go', 'generate.go', 'schema.json', 'terraform-mapping.json'] as const;

export const BUILD_MODULES = {
  cli: path.join(__dirname, 'cli'),
  languageNodejs: path.join(__dirname, 'language-nodejs'),
  kubernetes: path.join(__dirname, 'kubernetes'),
} as const;

/** What `ensurePulumi` returns: run `cli` with `{ ...process.env, ...env }`. */
export interface PulumiInstall {
  /** The `pulumi` executable. */
  readonly cli: string;
  /** `$PULUMI_HOME/plugins`, holding `resource-kubernetes-v<KUBERNETES_PLUGIN_VERSION>/`. */
  readonly pluginDir: string;
  /** What every `pulumi` call needs on top of the caller's environment (PATH already includes the caller's). */
  readonly env: Record<string, string>;
}

export class PulumiBuildError extends Error {
  override name = 'PulumiBuildError';
}

export interface EnsurePulumiOptions {
  readonly log?: (line: string) => void;
  /** Seconds between "still building" lines during a long step. @default 60 */
  readonly heartbeatSeconds?: number;
}

/** The files of one install directory. */
export function installLayout(dir: string) {
  const home = path.join(dir, 'home');
  return {
    dir,
    bin: path.join(dir, 'bin'),
    cli: path.join(dir, 'bin', 'pulumi'),
    languageHost: path.join(dir, 'bin', 'pulumi-language-nodejs'),
    home,
    pluginDir: path.join(home, 'plugins'),
    kubernetesPlugin: path.join(home, 'plugins', `resource-kubernetes-v${KUBERNETES_PLUGIN_VERSION}`, 'pulumi-resource-kubernetes'),
    stamp: path.join(dir, 'install.json'),
  };
}

/**
 * The environment of every `pulumi` call: the CLI and its language host first on PATH, the cache's
 * PULUMI_HOME, and nothing fetched from the network — no update check, no automatic plugin download (a
 * missing plugin fails instead), no plugin picked up from elsewhere on PATH.
 */
export function pulumiEnv(dir: string, basePath: string | undefined): Record<string, string> {
  const layout = installLayout(dir);
  return {
    PATH: basePath ? `${layout.bin}${path.delimiter}${basePath}` : layout.bin,
    PULUMI_HOME: layout.home,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
    PULUMI_IGNORE_AMBIENT_PLUGINS: 'true',
  };
}

/** The inputs the cache key is made of. */
export interface KeyInputs {
  readonly versions: Readonly<Record<string, string>>;
  /** Contents of each build module's go.mod and go.sum, by module name. */
  readonly modules: Readonly<Record<string, { goMod: string; goSum: string }>>;
  /** The source of the recipe (this file). */
  readonly recipe: string;
}

/** A hash of everything that determines the build; the first 16 hex digits name the install directory. */
export function cacheKey(inputs: KeyInputs): { digest: string; key: string } {
  const hash = createHash('sha256');
  const feed = (label: string, value: string) => hash.update(`${label}\0${value.length}\0${value}\0`);
  for (const name of Object.keys(inputs.versions).sort()) feed(`version:${name}`, inputs.versions[name] ?? '');
  for (const name of Object.keys(inputs.modules).sort()) {
    const mod = inputs.modules[name];
    feed(`go.mod:${name}`, mod?.goMod ?? '');
    feed(`go.sum:${name}`, mod?.goSum ?? '');
  }
  feed('recipe', inputs.recipe);
  const digest = hash.digest('hex');
  return { digest, key: digest.slice(0, 16) };
}

/** The version a go.mod requires of a module, or undefined. */
export function requiredVersion(goMod: string, modulePath: string): string | undefined {
  const escaped = modulePath.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  return new RegExp(`^\\s*(?:require\\s+)?${escaped}\\s+(v\\S+)`, 'm').exec(goMod)?.[1];
}

export const VERSIONS = {
  cli: PULUMI_CLI_VERSION,
  languageNodejs: LANGUAGE_NODEJS_VERSION,
  kubernetesModule: KUBERNETES_PROVIDER_MODULE_VERSION,
  kubernetesPlugin: KUBERNETES_PLUGIN_VERSION,
} as const;

function currentKey(): { digest: string; key: string } {
  const modules = Object.fromEntries(
    Object.entries(BUILD_MODULES).map(([name, dir]) => [
      name,
      { goMod: readFileSync(path.join(dir, 'go.mod'), 'utf8'), goSum: readFileSync(path.join(dir, 'go.sum'), 'utf8') },
    ]),
  );
  return cacheKey({ versions: VERSIONS, modules, recipe: readFileSync(__filename, 'utf8') });
}

/** The install directory of the current pins. */
export function pulumiInstallDir(): string {
  return path.join(CACHE_ROOT, 'pulumi', currentKey().key);
}

interface Stamp {
  readonly digest: string;
  readonly versions: typeof VERSIONS;
}

function isReady(dir: string, digest: string): boolean {
  const layout = installLayout(dir);
  try {
    const stamp = JSON.parse(readFileSync(layout.stamp, 'utf8')) as Stamp;
    return stamp.digest === digest && [layout.cli, layout.languageHost, layout.kubernetesPlugin].every((f) => existsSync(f));
  } catch {
    return false;
  }
}

/**
 * Makes sure the pinned Pulumi build is in the cache, doing nothing when it is. A cold build takes about
 * half an hour on two cores (the provider most of it); each step prints its elapsed seconds.
 */
export async function ensurePulumi(options: EnsurePulumiOptions = {}): Promise<PulumiInstall> {
  const log = options.log ?? ((line: string) => console.log(`[pulumi] ${line}`));
  const { digest, key } = currentKey();
  const dir = path.join(CACHE_ROOT, 'pulumi', key);
  const result = (): PulumiInstall => ({ cli: installLayout(dir).cli, pluginDir: installLayout(dir).pluginDir, env: pulumiEnv(dir, process.env.PATH) });

  if (isReady(dir, digest)) {
    log(`Pulumi CLI ${PULUMI_CLI_VERSION}, language host ${LANGUAGE_NODEJS_VERSION}, kubernetes ${KUBERNETES_PLUGIN_VERSION}: ready in ${dir}`);
    return result();
  }

  await requireGo();
  // One staging folder per process, renamed into place at the end: concurrent runs never see half a build.
  const staging = path.join(CACHE_ROOT, 'pulumi', `.staging-${key}-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  const layout = installLayout(staging);
  mkdirSync(layout.bin, { recursive: true });
  mkdirSync(layout.home, { recursive: true });
  const step = stepRunner(log, options.heartbeatSeconds ?? 60);
  const total = Date.now();
  try {
    await step(`building the Pulumi CLI ${PULUMI_CLI_VERSION} (cold: about 7 min of CPU)`, () =>
      goInstall(BUILD_MODULES.cli, layout.bin, `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${PULUMI_CLI_VERSION}`),
    );
    await step(`building the Node.js language host ${LANGUAGE_NODEJS_VERSION} (cold: about 1 min)`, () =>
      goInstall(
        BUILD_MODULES.languageNodejs,
        layout.bin,
        `-X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v${LANGUAGE_NODEJS_VERSION}`,
      ),
    );
    const providerBin = path.join(staging, 'build', 'pulumi-resource-kubernetes');
    await step(`building the Kubernetes provider ${KUBERNETES_PLUGIN_VERSION} (cold: 15-25 min)`, () =>
      buildKubernetesProvider(path.join(staging, 'build', 'kubernetes'), providerBin, log),
    );
    await step(`installing the Kubernetes provider as local plugin resource kubernetes v${KUBERNETES_PLUGIN_VERSION}`, async () => {
      await run(
        layout.cli,
        ['plugin', 'install', 'resource', 'kubernetes', KUBERNETES_PLUGIN_VERSION, '--file', providerBin],
        staging,
        pulumiEnv(staging, process.env.PATH),
      );
      if (!existsSync(layout.kubernetesPlugin)) {
        throw new PulumiBuildError(`pulumi plugin install did not create ${layout.kubernetesPlugin}`);
      }
    });
    rmSync(path.join(staging, 'build'), { recursive: true, force: true });
    writeFileSync(layout.stamp, `${JSON.stringify({ digest, versions: VERSIONS } satisfies Stamp, null, 2)}\n`);
    if (isReady(dir, digest)) {
      rmSync(staging, { recursive: true, force: true }); // another run finished first
    } else {
      rmSync(dir, { recursive: true, force: true });
      renameSync(staging, dir);
    }
  } catch (error) {
    rmSync(staging, { recursive: true, force: true });
    throw error;
  }
  log(`ready in ${dir} after ${seconds(total)} s`);
  return result();
}

/**
 * The provider's own generate step (`go generate` runs `go run ./generate.go` with VERSION set): reads the
 * shipped schema.json into pkg/v3's schema.PackageSpec, stamps the version, writes schema-embed.json and
 * terraform-mapping-embed.json. It runs on a copy of the main package staged beside our go.mod and go.sum,
 * then that copy is built, so the module cache stays read-only and the clone untouched.
 */
async function buildKubernetesProvider(stage: string, output: string, log: (line: string) => void): Promise<void> {
  const goMod = readFileSync(path.join(BUILD_MODULES.kubernetes, 'go.mod'), 'utf8');
  if (requiredVersion(goMod, KUBERNETES_PROVIDER_MODULE) !== KUBERNETES_PROVIDER_MODULE_VERSION) {
    throw new PulumiBuildError(`tools/pulumi/kubernetes/go.mod must require ${KUBERNETES_PROVIDER_MODULE} ${KUBERNETES_PROVIDER_MODULE_VERSION}`);
  }
  const download = await run('go', ['mod', 'download', '-json', `${KUBERNETES_PROVIDER_MODULE}@${KUBERNETES_PROVIDER_MODULE_VERSION}`], BUILD_MODULES.kubernetes, {
    GOFLAGS: '-mod=readonly',
  });
  const moduleDir = (JSON.parse(download) as { Dir?: string }).Dir;
  if (!moduleDir) throw new PulumiBuildError(`go mod download gave no directory for ${KUBERNETES_PROVIDER_MODULE}`);

  const pkg = path.join(stage, 'pulumi-resource-kubernetes');
  mkdirSync(pkg, { recursive: true });
  for (const file of ['go.mod', 'go.sum']) copyFileSync(path.join(BUILD_MODULES.kubernetes, file), path.join(stage, file));
  for (const file of KUBERNETES_MAIN_FILES) copyFileSync(path.join(moduleDir, KUBERNETES_MAIN_PACKAGE, file), path.join(pkg, file));

  let started = Date.now();
  await run('go', ['run', 'generate.go'], pkg, { VERSION: KUBERNETES_PLUGIN_VERSION, GOFLAGS: '-mod=readonly' });
  for (const file of ['schema-embed.json', 'terraform-mapping-embed.json']) {
    if (!existsSync(path.join(pkg, file))) throw new PulumiBuildError(`the provider's generate step wrote no ${file}`);
  }
  log(`  generated schema-embed.json (version ${KUBERNETES_PLUGIN_VERSION}) in ${seconds(started)} s`);
  started = Date.now();
  await run(
    'go',
    [
      'build', '-trimpath',
      `-ldflags=-X github.com/pulumi/pulumi-kubernetes/provider/v4/pkg/version.Version=${KUBERNETES_PLUGIN_VERSION}`,
      '-o', output, './pulumi-resource-kubernetes',
    ],
    stage,
    { CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
  );
  log(`  compiled the provider in ${seconds(started)} s`);
}

async function goInstall(moduleDir: string, gobin: string, ldflags: string): Promise<void> {
  await run('go', ['install', '-trimpath', `-ldflags=${ldflags}`, 'tool'], moduleDir, { GOBIN: gobin, CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' });
}

async function run(command: string, args: readonly string[], cwd: string, env: Record<string, string>): Promise<string> {
  const { execa } = await import('execa');
  const result = await execa(command, args, { cwd, env, reject: false, all: true });
  if (result.failed) {
    const output = (result.all ?? '').split('\n').slice(-40).join('\n');
    throw new PulumiBuildError(`${command} ${args.join(' ')} (in ${cwd}) failed:\n${output || result.message}`);
  }
  return result.stdout;
}

async function requireGo(): Promise<void> {
  const { execa } = await import('execa');
  const go = await execa('go', ['env', 'GOVERSION'], { reject: false });
  if (go.failed) {
    throw new PulumiBuildError(
      'Go is not installed (or not on PATH): dirtk builds the Pulumi CLI, its Node.js language host and the Kubernetes provider ' +
        'from source through the Go module proxy. Install Go 1.26 or later and try again.',
    );
  }
}

function stepRunner(log: (line: string) => void, heartbeatSeconds: number) {
  return async (title: string, body: () => Promise<void>): Promise<void> => {
    const started = Date.now();
    log(`${title} ...`);
    const timer = setInterval(() => log(`  ... still ${title.split(' (')[0]} (${seconds(started)} s)`), heartbeatSeconds * 1000);
    try {
      await body();
    } finally {
      clearInterval(timer);
    }
    log(`  done in ${seconds(started)} s`);
  };
}

function seconds(since: number): number {
  return Math.round((Date.now() - since) / 1000);
}
