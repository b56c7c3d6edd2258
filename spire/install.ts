/**
 * The project's own build of SPIRE: `go install` of the pinned versions through the Go module proxy,
 * plus the controller manager's CRDs read from its Go module. The build lives outside the clone, in
 * `~/.cache/dirtk/spire/<key>` (key: a hash of the build modules and flags), so fresh clones and CI
 * reuse it and two pin sets never share a folder.
 */
import { createHash } from 'node:crypto';
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import path from 'node:path';
import { CONTROLLER_MANAGER_VERSION, SPIRE_VERSION } from './versions';

export const PROJECT_ROOT = path.resolve(__dirname, '..');
/** The Go modules that pin what `go install` builds. */
export const BUILD_MODULES = {
  spire: path.join(__dirname, 'build', 'spire'),
  controllerManager: path.join(__dirname, 'build', 'controller-manager'),
};
const CONTROLLER_MANAGER_MODULE = 'github.com/spiffe/spire-controller-manager';
/** Stamps the release version, as SPIRE's own release build does, so `--version` reports it. */
const SPIRE_BUILD_FLAGS = [`-ldflags=-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}`];

/** `DIRTK_CACHE_DIR` moves the cache; by default it is `$XDG_CACHE_HOME/dirtk` or `~/.cache/dirtk`. */
export const CACHE_ROOT = process.env.DIRTK_CACHE_DIR ?? path.join(process.env.XDG_CACHE_HOME ?? path.join(homedir(), '.cache'), 'dirtk');
const INSTALL_DIR = path.join(CACHE_ROOT, 'spire', desiredStamp().key);

/** The CRDs the controller manager serves, plus the schema of its own config file. */
export const CRD_FILES = {
  clusterSpiffeIds: 'spire.spiffe.io_clusterspiffeids.yaml',
  clusterFederatedTrustDomains: 'spire.spiffe.io_clusterfederatedtrustdomains.yaml',
  clusterStaticEntries: 'spire.spiffe.io_clusterstaticentries.yaml',
  controllerManagerConfigs: 'spire.spiffe.io_controllermanagerconfigs.yaml',
} as const;

export interface SpireInstall {
  readonly serverBin: string;
  readonly agentBin: string;
  readonly controllerManagerBin: string;
  readonly crdDir: string;
}

export const SPIRE_INSTALL: SpireInstall = {
  serverBin: path.join(INSTALL_DIR, 'bin', 'spire-server'),
  agentBin: path.join(INSTALL_DIR, 'bin', 'spire-agent'),
  controllerManagerBin: path.join(INSTALL_DIR, 'bin', 'spire-controller-manager'),
  crdDir: path.join(INSTALL_DIR, 'crds'),
};

const STAMP_FILE = path.join(INSTALL_DIR, 'install.json');

export class SpireSetupError extends Error {
  override name = 'SpireSetupError';
}

export interface EnsureOptions {
  /** Build the binaries too, not only the CRDs. */
  readonly binaries: boolean;
  readonly log?: (line: string) => void;
}

/** Makes sure the pinned SPIRE build (or only its CRDs) is in the cache, doing no work when it is. */
export async function ensureSpire({ binaries, log = () => {} }: EnsureOptions): Promise<SpireInstall> {
  const wanted = desiredStamp();
  const current = readStamp();
  const crdsReady = current?.modules === wanted.modules && Object.values(CRD_FILES).every((f) => existsSync(path.join(SPIRE_INSTALL.crdDir, f)));
  const binariesReady =
    current?.modules === wanted.modules &&
    current.binaries === true &&
    [SPIRE_INSTALL.serverBin, SPIRE_INSTALL.agentBin, SPIRE_INSTALL.controllerManagerBin].every((f) => existsSync(f));

  if (crdsReady && (!binaries || binariesReady)) {
    log(`SPIRE ${SPIRE_VERSION} and controller manager ${CONTROLLER_MANAGER_VERSION}: ready in ${INSTALL_DIR}`);
    return SPIRE_INSTALL;
  }
  await requireGo(binaries);
  mkdirSync(path.join(INSTALL_DIR, 'bin'), { recursive: true });
  if (!crdsReady) await installCrds(log);
  if (binaries && !binariesReady) await installBinaries(log);
  writeFileSync(STAMP_FILE, JSON.stringify({ modules: wanted.modules, binaries: binaries || binariesReady }, null, 2));
  return SPIRE_INSTALL;
}

/** The install, or an error telling how to make it. For code that needs the binaries but must not build them. */
export function installedSpire(): SpireInstall {
  const missing = [SPIRE_INSTALL.serverBin, SPIRE_INSTALL.agentBin, SPIRE_INSTALL.controllerManagerBin, SPIRE_INSTALL.crdDir].filter(
    (f) => !existsSync(f),
  );
  if (missing.length > 0) {
    throw new SpireSetupError(`SPIRE is not built yet (missing ${missing.join(', ')}); run \`npm run setup\``);
  }
  return SPIRE_INSTALL;
}

/** The CRDs only; enough for `cdk8s synth` and the Pulumi stacks. */
export function installedCrdDir(): string {
  if (!existsSync(path.join(SPIRE_INSTALL.crdDir, CRD_FILES.clusterSpiffeIds))) {
    throw new SpireSetupError(`the SPIRE CRDs are not in ${SPIRE_INSTALL.crdDir} yet; run \`npm run setup -- --crds-only\``);
  }
  return SPIRE_INSTALL.crdDir;
}

interface Stamp {
  readonly modules: string;
  readonly binaries?: boolean;
}

/** Identifies the build by the exact module graph (go.mod and go.sum of both build modules) and flags. */
function desiredStamp(): Stamp & { key: string } {
  const hash = createHash('sha256');
  for (const dir of Object.values(BUILD_MODULES)) {
    hash.update(readFileSync(path.join(dir, 'go.mod'))).update(readFileSync(path.join(dir, 'go.sum')));
  }
  hash.update(SPIRE_BUILD_FLAGS.join(' '));
  const digest = hash.digest('hex');
  return { modules: `spire ${SPIRE_VERSION}, controller-manager ${CONTROLLER_MANAGER_VERSION}, ${digest}`, key: digest.slice(0, 16) };
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

async function requireGo(needCgo: boolean): Promise<void> {
  const { execa } = await import('execa');
  const go = await execa('go', ['env', 'GOVERSION', 'CC'], { reject: false });
  if (go.failed) {
    throw new SpireSetupError(
      'Go is not installed (or not on PATH): dirtk builds SPIRE from source with `go install` through the Go module proxy. ' +
        'Install Go 1.26 or later, then run `npm run setup` again.',
    );
  }
  if (needCgo) {
    const cc = go.stdout.split('\n')[1]?.trim() || 'gcc';
    const compiler = await execa(cc, ['--version'], { reject: false });
    if (compiler.failed) {
      throw new SpireSetupError(
        `the C compiler "${cc}" is missing: SPIRE's sqlite datastore needs cgo. Install gcc (e.g. \`apt-get install gcc\`), then run \`npm run setup\` again.`,
      );
    }
  }
}

async function installCrds(log: (line: string) => void): Promise<void> {
  const { execa } = await import('execa');
  log(`reading the CRDs of ${CONTROLLER_MANAGER_MODULE} v${CONTROLLER_MANAGER_VERSION} from the Go module proxy`);
  const download = await execa('go', ['mod', 'download', '-json', `${CONTROLLER_MANAGER_MODULE}@v${CONTROLLER_MANAGER_VERSION}`], {
    cwd: BUILD_MODULES.controllerManager,
    reject: false,
  });
  const info = parseJson<{ Dir?: string; Error?: string }>(download.stdout);
  if (!info?.Dir) {
    throw new SpireSetupError(`could not download ${CONTROLLER_MANAGER_MODULE}: ${info?.Error ?? download.stderr}`);
  }
  mkdirSync(SPIRE_INSTALL.crdDir, { recursive: true });
  for (const file of Object.values(CRD_FILES)) {
    copyFileSync(path.join(info.Dir, 'config', 'crd', 'bases', file), path.join(SPIRE_INSTALL.crdDir, file));
  }
}

async function installBinaries(log: (line: string) => void): Promise<void> {
  const { execa } = await import('execa');
  // One staging folder per process: parallel test workers may build at once, and each rename is atomic.
  const staging = path.join(INSTALL_DIR, `staging-${process.pid}`);
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true });

  const builds = [
    { what: `spire-server and spire-agent ${SPIRE_VERSION} (cgo, for sqlite)`, dir: BUILD_MODULES.spire, cgo: '1', flags: SPIRE_BUILD_FLAGS },
    { what: `spire-controller-manager ${CONTROLLER_MANAGER_VERSION}`, dir: BUILD_MODULES.controllerManager, cgo: '0', flags: [] },
  ];
  for (const build of builds) {
    log(`building ${build.what} with go install; the first build takes a few minutes`);
    const started = Date.now();
    const result = await execa('go', ['install', '-trimpath', ...build.flags, 'tool'], {
      cwd: build.dir,
      env: { GOBIN: staging, CGO_ENABLED: build.cgo, GOFLAGS: '-mod=readonly' },
      reject: false,
      all: true,
    });
    if (result.failed) {
      throw new SpireSetupError(`go install of ${build.what} failed:\n${result.all}`);
    }
    log(`built ${build.what} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  renameSync(path.join(staging, 'spire-server'), SPIRE_INSTALL.serverBin);
  renameSync(path.join(staging, 'spire-agent'), SPIRE_INSTALL.agentBin);
  renameSync(path.join(staging, 'cmd'), SPIRE_INSTALL.controllerManagerBin);
  rmSync(staging, { recursive: true, force: true });
}

function parseJson<T>(text: string): T | undefined {
  try {
    return JSON.parse(text) as T;
  } catch {
    return undefined;
  }
}
