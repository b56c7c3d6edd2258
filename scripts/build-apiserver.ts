/**
 * `npm run build:apiserver`: bundles the apiserver and dirctl with esbuild into `dist/apiserver/`,
 * the layout the container image copies. Every proto is compiled into the bundles as generated code
 * (@dirtk/directory-api's and @dirtk/spiffe's), so no .proto file is read at run time or ships.
 */
import { rmSync, writeFileSync } from 'node:fs';
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
  for (const name of Object.keys(ENTRY_POINTS)) {
    writeFileSync(path.join(OUT, `${name}.js`), `require('./lib/bundle/${name}.js');\n`);
  }
}

main().catch((error: unknown) => {
  console.error(error instanceof Error ? error.message : error);
  process.exit(1);
});
