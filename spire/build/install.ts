/**
 * The project's own build of SPIRE: `go install` of the pinned versions through the Go module proxy.
 * The build lives outside the clone, in `~/.cache/dirtk/spire/<key>` (key: a hash of the build modules
 * and flags), so fresh clones and CI reuse it and two pin sets never share a folder. The controller
 * manager's CRDs need no build: they are committed (`crds.ts`).
 */
import { existsSync } from 'node:fs';
import path from 'node:path';
import { GoToolInstall, goToolDigest } from '../../tools/go-tool-install';
import { CACHE_ROOT } from '../../tools/paths';
import { CONTROLLER_MANAGER_VERSION, SPIRE_VERSION } from '../versions';

/** The Go modules that pin what `go install` builds. */
export const BUILD_MODULES = {
  spire: path.join(__dirname, 'spire'),
  controllerManager: path.join(__dirname, 'controller-manager'),
};
/** Stamps the release version, as SPIRE's own release build does, so `--version` reports it. */
const SPIRE_BUILD_FLAGS = [`-ldflags=-X github.com/spiffe/spire/pkg/common/version.gittag=${SPIRE_VERSION}`];

const DIGEST = goToolDigest(Object.values(BUILD_MODULES), SPIRE_BUILD_FLAGS.join(' '));
const INSTALL = new GoToolInstall(
  path.join(CACHE_ROOT, 'spire', DIGEST.slice(0, 16)),
  `spire ${SPIRE_VERSION}, controller-manager ${CONTROLLER_MANAGER_VERSION}, ${DIGEST}`,
);

export interface SpireInstall {
  readonly serverBin: string;
  readonly agentBin: string;
  readonly controllerManagerBin: string;
}

export const SPIRE_INSTALL: SpireInstall = {
  serverBin: path.join(INSTALL.dir, 'bin', 'spire-server'),
  agentBin: path.join(INSTALL.dir, 'bin', 'spire-agent'),
  controllerManagerBin: path.join(INSTALL.dir, 'bin', 'spire-controller-manager'),
};
const BINARIES = [SPIRE_INSTALL.serverBin, SPIRE_INSTALL.agentBin, SPIRE_INSTALL.controllerManagerBin];

export class SpireSetupError extends Error {
  override name = 'SpireSetupError';
}

export interface EnsureOptions {
  readonly log?: (line: string) => void;
}

/** Makes sure the pinned SPIRE build is in the cache, doing no work when it is. */
export async function ensureSpire({ log = () => {} }: EnsureOptions = {}): Promise<SpireInstall> {
  if (INSTALL.isComplete(BINARIES)) {
    log(`SPIRE ${SPIRE_VERSION} and controller manager ${CONTROLLER_MANAGER_VERSION}: ready in ${INSTALL.dir}`);
    return SPIRE_INSTALL;
  }
  await requireGo();
  await INSTALL.build(
    [
      {
        what: `spire-server and spire-agent ${SPIRE_VERSION} (cgo, for sqlite)`,
        moduleDir: BUILD_MODULES.spire,
        flags: SPIRE_BUILD_FLAGS,
        env: { CGO_ENABLED: '1', GOFLAGS: '-mod=readonly' },
        outputs: { 'spire-server': SPIRE_INSTALL.serverBin, 'spire-agent': SPIRE_INSTALL.agentBin },
      },
      {
        what: `spire-controller-manager ${CONTROLLER_MANAGER_VERSION}`,
        moduleDir: BUILD_MODULES.controllerManager,
        flags: [],
        env: { CGO_ENABLED: '0', GOFLAGS: '-mod=readonly' },
        // The module's main package is `cmd`, so that is the name go install gives the binary.
        outputs: { cmd: SPIRE_INSTALL.controllerManagerBin },
      },
    ],
    log,
    (message) => new SpireSetupError(message),
  );
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
