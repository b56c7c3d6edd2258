/**
 * The project's own build of the OCI registry (CNCF Distribution) and of an OCI client (the oras
 * CLI): `go install -trimpath tool` of the versions the Go modules in `registry/build/` pin, through
 * the Go module proxy. The build lives outside the clone, in `~/.cache/dirtk/registry/<key>` (key: a
 * hash of the build modules and flags), like SPIRE's (`spire/build/install.ts`).
 */
import path from 'node:path';
import { GoToolInstall, goToolDigest } from '../../tools/go-tool-install';
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

const DIGEST = goToolDigest(Object.values(BUILD_MODULES), BUILD_FLAGS.join(' ') + JSON.stringify(BUILD_ENV));
const INSTALL = new GoToolInstall(path.join(CACHE_ROOT, 'registry', DIGEST.slice(0, 16)), `distribution ${DISTRIBUTION_VERSION}, oras ${ORAS_VERSION}, ${DIGEST}`);

export interface RegistryInstall {
  /** Distribution's `registry serve <config.yml>`. */
  readonly registryBin: string;
  readonly orasBin: string;
}

export const REGISTRY_INSTALL: RegistryInstall = {
  registryBin: path.join(INSTALL.dir, 'bin', 'registry'),
  orasBin: path.join(INSTALL.dir, 'bin', 'oras'),
};

export class RegistrySetupError extends Error {
  override name = 'RegistrySetupError';
}

export interface EnsureOptions {
  readonly log?: (line: string) => void;
}

/** Makes sure the pinned registry and oras builds are in the cache, doing no work when they are. */
export async function ensureRegistry({ log = () => {} }: EnsureOptions = {}): Promise<RegistryInstall> {
  if (INSTALL.isComplete([REGISTRY_INSTALL.registryBin, REGISTRY_INSTALL.orasBin])) {
    log(`Distribution registry ${DISTRIBUTION_VERSION} and oras ${ORAS_VERSION}: ready in ${INSTALL.dir}`);
    return REGISTRY_INSTALL;
  }
  await requireGo();
  await INSTALL.build(
    [
      { what: `the Distribution registry ${DISTRIBUTION_VERSION}`, moduleDir: BUILD_MODULES.distribution, flags: [], env: BUILD_ENV, outputs: { registry: REGISTRY_INSTALL.registryBin } },
      { what: `oras ${ORAS_VERSION}`, moduleDir: BUILD_MODULES.oras, flags: [], env: BUILD_ENV, outputs: { oras: REGISTRY_INSTALL.orasBin } },
    ],
    log,
    (message) => new RegistrySetupError(message),
  );
  return REGISTRY_INSTALL;
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
