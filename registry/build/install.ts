/**
 * The project's own build of the OCI registry (CNCF Distribution) and of an OCI client (the oras
 * CLI): `go install -trimpath tool` of the versions the Go modules in `registry/build/` pin, through
 * the Go module proxy. The build lives outside the clone, in `~/.cache/dirtk/registry/<key>` (key: a
 * hash of the build modules and flags), like SPIRE's (`spire/build/install.ts`).
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';
import { DISTRIBUTION_VERSION, ORAS_VERSION } from '../versions';

/** The Go modules that pin what `go install` builds. */
export const BUILD_MODULES = {
  distribution: path.join(__dirname, 'distribution'),
  oras: path.join(__dirname, 'oras'),
};
/** Both are pure Go: no cgo, so no C compiler, and static binaries. */
const BUILD_FLAGS = ['-trimpath'];
const BUILD_ENV = { CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' };

const INSTALL_DIR = path.join(CACHE_ROOT, 'registry', desiredStamp().key);

export interface RegistryInstall {
  /** Distribution's `registry serve <config.yml>`. */
  readonly registryBin: string;
  readonly orasBin: string;
}

export const REGISTRY_INSTALL: RegistryInstall = {
  registryBin: path.join(INSTALL_DIR, 'bin', 'registry'),
  orasBin: path.join(INSTALL_DIR, 'bin', 'oras'),
};
const BINARIES = [REGISTRY_INSTALL.registryBin, REGISTRY_INSTALL.orasBin];
const STAMP_FILE = path.join(INSTALL_DIR, 'install.json');

export class RegistrySetupError extends Error {
  override name = 'RegistrySetupError';
}

export interface EnsureOptions {
  readonly log?: (line: string) => void;
}

/** Makes sure the pinned registry and oras builds are in the cache, doing no work when they are. */
export async function ensureRegistry({ log = () => {} }: EnsureOptions = {}): Promise<RegistryInstall> {
  const wanted = desiredStamp();
  if (readStamp()?.modules === wanted.modules && BINARIES.every((file) => existsSync(file))) {
    log(`Distribution registry ${DISTRIBUTION_VERSION} and oras ${ORAS_VERSION}: ready in ${INSTALL_DIR}`);
    return REGISTRY_INSTALL;
  }
  await requireGo();
  mkdirSync(path.join(INSTALL_DIR, 'bin'), { recursive: true });
  await installBinaries(log);
  writeFileSync(STAMP_FILE, JSON.stringify({ modules: wanted.modules }, null, 2));
  return REGISTRY_INSTALL;
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
  hash.update(BUILD_FLAGS.join(' ')).update(JSON.stringify(BUILD_ENV));
  const digest = hash.digest('hex');
  return { modules: `distribution ${DISTRIBUTION_VERSION}, oras ${ORAS_VERSION}, ${digest}`, key: digest.slice(0, 16) };
}

function readStamp(): Stamp | undefined {
  try {
    return JSON.parse(readFileSync(STAMP_FILE, 'utf8')) as Stamp;
  } catch {
    return undefined;
  }
}

async function requireGo(): Promise<void> {
  const { execa } = await import('execa');
  const go = await execa('go', ['env', 'GOVERSION'], { reject: false });
  if (go.failed) {
    throw new RegistrySetupError(
      'Go is not installed (or not on PATH): dirtk builds the Distribution registry and oras from source with `go install` through the Go module proxy. ' +
        'Install Go 1.26 or later, then run `npm run setup` again.',
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
    { what: `the Distribution registry ${DISTRIBUTION_VERSION}`, dir: BUILD_MODULES.distribution, binary: 'registry', target: REGISTRY_INSTALL.registryBin },
    { what: `oras ${ORAS_VERSION}`, dir: BUILD_MODULES.oras, binary: 'oras', target: REGISTRY_INSTALL.orasBin },
  ];
  for (const build of builds) {
    log(`building ${build.what} with go install; the first build takes about two minutes`);
    const started = Date.now();
    const result = await execa('go', ['install', ...BUILD_FLAGS, 'tool'], {
      cwd: build.dir,
      env: { GOBIN: staging, ...BUILD_ENV },
      reject: false,
      all: true,
    });
    if (result.failed) {
      throw new RegistrySetupError(`go install of ${build.what} (in ${build.dir}, GOPROXY=${process.env.GOPROXY ?? 'unset'}) failed:\n${result.all}`);
    }
    log(`built ${build.what} in ${Math.round((Date.now() - started) / 1000)} s`);
  }
  for (const build of builds) renameSync(path.join(staging, build.binary), build.target);
  rmSync(staging, { recursive: true, force: true });
}
