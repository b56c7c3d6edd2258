/**
 * The project's own build of SPIRE: `go install` of the pinned versions through the Go module proxy.
 * The build lives outside the clone, in `~/.cache/dirtk/spire/<key>` (key: a hash of the build modules
 * and flags), so fresh clones and CI reuse it and two pin sets never share a folder. The controller
 * manager's CRDs need no build: they are committed (`crds.ts`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';
import { CONTROLLER_MANAGER_VERSION, SPIRE_VERSION } from '../versions';

/** The Go modules that pin what `go install` builds. */
export const BUILD_MODULES = {
  spire: path.join(__dirname, 'spire'),
  controllerManager: path.join(__dirname, 'controller-manager'),
};
/** Stamps the release version, as SPIRE's own release build does, so `--version` reports it. */
const SPIRE_BUILD_FLAGS = [`-ldflags=-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}`];

const INSTALL_DIR = path.join(CACHE_ROOT, 'spire', desiredStamp().key);

export interface SpireInstall {
  readonly serverBin: string;
  readonly agentBin: string;
  readonly controllerManagerBin: string;
}

export const SPIRE_INSTALL: SpireInstall = {
  serverBin: path.join(INSTALL_DIR, 'bin', 'spire-server'),
  agentBin: path.join(INSTALL_DIR, 'bin', 'spire-agent'),
  controllerManagerBin: path.join(INSTALL_DIR, 'bin', 'spire-controller-manager'),
};
const BINARIES = [SPIRE_INSTALL.serverBin, SPIRE_INSTALL.agentBin, SPIRE_INSTALL.controllerManagerBin];

const STAMP_FILE = path.join(INSTALL_DIR, 'install.json');

export class SpireSetupError extends Error {
  override name = 'SpireSetupError';
}

export interface EnsureOptions {
  readonly log?: (line: string) => void;
}

/** Makes sure the pinned SPIRE build is in the cache, doing no work when it is. */
export async function ensureSpire({ log = () => {} }: EnsureOptions = {}): Promise<SpireInstall> {
  const wanted = desiredStamp();
  if (readStamp()?.modules === wanted.modules && BINARIES.every((f) => existsSync(f))) {
    log(`SPIRE ${SPIRE_VERSION} and controller manager ${CONTROLLER_MANAGER_VERSION}: ready in ${INSTALL_DIR}`);
    return SPIRE_INSTALL;
  }
  await requireGo();
  mkdirSync(path.join(INSTALL_DIR, 'bin'), { recursive: true });
  await installBinaries(log);
  writeFileSync(STAMP_FILE, JSON.stringify({ modules: wanted.modules }, null, 2));
  return SPIRE_INSTALL;
}

/** The install, or an error telling how to make it. For code that needs the binaries but must not build them. */
export function installedSpire(): SpireInstall {
  const missing = BINARIES.filter((f) => !existsSync(f));
  if (missing.length > 0) {
    throw new SpireSetupError(`SPIRE is not built yet (missing ${missing.join(', ')}); run \`npm run setup\``);
  }
  return SPIRE_INSTALL;
}

interface Stamp {
  readonly modules: string;
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

/** Go, and the C compiler cgo uses: SPIRE's sqlite datastore needs cgo. */
async function requireGo(): Promise<void> {
  const { execa } = await import('execa');
  const go = await execa('go', ['env', 'GOVERSION', 'CC'], { reject: false });
  if (go.failed) {
    throw new SpireSetupError(
      'Go is not installed (or not on PATH): dirtk builds SPIRE from source with `go install` through the Go module proxy. ' +
        'Install Go 1.26 or later, then run `npm run setup` again.',
    );
  }
  const cc = go.stdout.split('\n')[1]?.trim() || 'gcc';
  const compiler = await execa(cc, ['--version'], { reject: false });
  if (compiler.failed) {
    throw new SpireSetupError(
      `the C compiler "${cc}" is missing: SPIRE's sqlite datastore needs cgo. Install gcc (e.g. \`apt-get install gcc\`), then run \`npm run setup\` again.`,
    );
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
