/**
 * `npm run import:crds`: copies the pinned controller manager's CRDs from its Go module into the repo
 * (`crds/spire-controller-manager-v<version>/`), then regenerates their constructs with `cdk8s import`,
 * for the imports and into the folder that `cdk8s.yaml` names. Run it after changing the controller
 * manager pin; its output is committed and never edited by hand.
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { CONTROLLER_MANAGER_MODULE, CRD_FILES, MODULE_CRD_DIR, PINNED_CRD_DIR, SERVED_CRD_FILES } from '../spire/crds';
import { BUILD_MODULES } from '../spire/build/install';
import { PROJECT_ROOT } from '../tools/paths';
import { CONTROLLER_MANAGER_VERSION } from '../spire/versions';
import { useModuleProxyOnly } from '../tools/go-env';

useModuleProxyOnly();

export class CrdSourceError extends Error {
  override name = 'CrdSourceError';
}

/** The keys of `cdk8s.yaml` that drive `cdk8s import`. */
export interface Cdk8sImportConfig {
  /** Import specs, `NAME:=file`. */
  readonly imports: readonly string[];
  /** Where the generated constructs go, relative to the project root. */
  readonly importDirectory: string;
}

export function readCdk8sImportConfig(): Cdk8sImportConfig {
  const config = parse(readFileSync(path.join(PROJECT_ROOT, 'cdk8s.yaml'), 'utf8')) as Partial<Cdk8sImportConfig>;
  if (!config.imports?.length || !config.importDirectory) throw new Error('cdk8s.yaml must list `imports` and name an `importDirectory`');
  return { imports: config.imports, importDirectory: config.importDirectory };
}

/** The imports `cdk8s.yaml` must list: each served CRD of the pinned folder, named after its plural. */
export function expectedImports(): string[] {
  const folder = path.relative(PROJECT_ROOT, PINNED_CRD_DIR);
  return SERVED_CRD_FILES.map((file) => `${file.replace(/^spire\.spiffe\.io_(.+)\.yaml$/, '$1')}:=${folder}/${file}`);
}

/**
 * The folder of the pinned controller manager's CRDs in the Go module cache. Unless `offline`, Go first
 * downloads the module through the module proxy; offline, a module missing from the cache is an error.
 */
export async function moduleCrdDir({ offline }: { readonly offline: boolean }): Promise<string> {
  const { execa } = await import('execa');
  const module = `${CONTROLLER_MANAGER_MODULE}@v${CONTROLLER_MANAGER_VERSION}`;
  // Run in the build module, whose go.sum verifies the download.
  const download = await execa('go', ['mod', 'download', '-json', module], {
    cwd: BUILD_MODULES.controllerManager,
    env: offline ? { GOPROXY: 'off' } : {},
    reject: false,
  });
  if (download.exitCode === undefined) {
    throw new CrdSourceError(`Go is not installed (or not on PATH), so the CRDs of ${module} cannot be read: ${download.shortMessage}`);
  }
  const { Dir, Error: problem } = JSON.parse(download.stdout || '{}') as { Dir?: string; Error?: string };
  if (!Dir) {
    const why = problem ?? download.stderr;
    throw new CrdSourceError(offline ? `${module} is not in the Go module cache (\`npm run setup\` downloads it): ${why}` : `could not download ${module}: ${why}`);
  }
  return path.join(Dir, MODULE_CRD_DIR);
}

/** Runs `cdk8s import` for the imports `cdk8s.yaml` lists into `outdir`, without asking the npm registry for upgrades. */
export async function cdk8sImport(outdir: string): Promise<void> {
  const { execa } = await import('execa');
  await execa(
    path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk8s'),
    ['import', '--no-check-upgrade', '--no-save', '--language', 'typescript', '--output', outdir],
    { cwd: PROJECT_ROOT, env: { CDK8S_CHECK_UPGRADE: 'false' } },
  );
}

async function main(): Promise<void> {
  const { imports, importDirectory } = readCdk8sImportConfig();
  const expected = expectedImports();
  if (imports.join('\n') !== expected.join('\n')) {
    throw new Error(`cdk8s.yaml imports other CRDs than the pinned ones; make its \`imports\` list:\n${expected.map((spec) => `  - ${spec}`).join('\n')}`);
  }
  const source = await moduleCrdDir({ offline: false });
  // Only the pinned version's folder stays.
  const crdsRoot = path.dirname(PINNED_CRD_DIR);
  for (const folder of readdirSync(crdsRoot).filter((name) => name.startsWith('spire-controller-manager-v'))) {
    rmSync(path.join(crdsRoot, folder), { recursive: true, force: true });
  }
  mkdirSync(PINNED_CRD_DIR, { recursive: true });
  // Copied by content: the module cache's files are read-only.
  for (const file of Object.values(CRD_FILES)) writeFileSync(path.join(PINNED_CRD_DIR, file), readFileSync(path.join(source, file)));
  console.log(`[import:crds] ${CONTROLLER_MANAGER_MODULE} v${CONTROLLER_MANAGER_VERSION}: CRDs copied to ${path.relative(PROJECT_ROOT, PINNED_CRD_DIR)}/`);

  const outdir = path.join(PROJECT_ROOT, importDirectory);
  rmSync(outdir, { recursive: true, force: true });
  await cdk8sImport(outdir);
  console.log(`[import:crds] constructs generated in ${importDirectory}/`);
}

if (require.main === module) {
  main().catch((error: unknown) => {
    console.error(`[import:crds] ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}
