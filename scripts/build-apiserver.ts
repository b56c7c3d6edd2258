/**
 * `npm run build:apiserver`: bundles the apiserver and dirctl with esbuild into `dist/apiserver/`,
 * the layout the container image copies. The Directory API's descriptors are compiled into the
 * bundles (@dirtk/directory-api's generated code); the one proto read at run time is the Workload
 * API's, which @dirtk/spiffe loads from next to its module.
 */
import { copyFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { build } from 'esbuild';

const ROOT = path.resolve(__dirname, '..');
const OUT = path.join(ROOT, 'dist', 'apiserver');
const BUNDLE_DIR = path.join(OUT, 'lib', 'bundle');
const ENTRY_POINTS = {
  apiserver: 'apps/apiserver/src/main.ts',
  dirctl: 'apps/dirctl/src/main.ts',
};

async function main(): Promise<void> {
  rmSync(OUT, { recursive: true, force: true });
  await build({
    absWorkingDir: ROOT,
    entryPoints: ENTRY_POINTS,
    bundle: true,
    platform: 'node',
    target: 'node20',
    sourcemap: true,
    outdir: BUNDLE_DIR,
    logLevel: 'warning',
  });
  copyFileSync(path.join(ROOT, 'packages/spiffe/src/workloadapi/workload.proto'), path.join(BUNDLE_DIR, 'workload.proto'));
  for (const name of Object.keys(ENTRY_POINTS)) {
    writeFileSync(path.join(OUT, `${name}.js`), `require('./lib/bundle/${name}.js');\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
