/**
 * The apiserver image recipe: `npm run build:apiserver` bundles what the Dockerfile ships, and the
 * Dockerfile runs it the way `DirectoryApiServer` expects. The image itself is not built here (no Docker
 * daemon in tests); the bundle is, once the entry points exist.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_API_SERVER, DIRECTORY_IMAGE } from '../../constructs';
import { PROJECT_ROOT } from '../../tools/paths';

const OUT = path.join(PROJECT_ROOT, 'dist', 'apiserver');

interface Instruction {
  readonly keyword: string;
  readonly args: string;
}

/** The Dockerfile's instructions by stage, with comments dropped and continuation lines joined. */
function dockerfileStages(): Instruction[][] {
  const text = readFileSync(path.join(PROJECT_ROOT, 'apps/apiserver/Dockerfile'), 'utf8');
  const logical = text
    .split('\n')
    .filter((line) => !line.trimStart().startsWith('#'))
    .join('\n')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
  const stages: Instruction[][] = [];
  for (const line of logical) {
    const [, keyword = '', args = ''] = /^(\S+)\s*(.*)$/.exec(line) ?? [];
    if (keyword.toUpperCase() === 'FROM') stages.push([]);
    stages.at(-1)?.push({ keyword: keyword.toUpperCase(), args: args.replace(/\s+/g, ' ') });
  }
  return stages;
}

const args = (stage: Instruction[], keyword: string): string[] => stage.filter((i) => i.keyword === keyword).map((i) => i.args);

describe('apiserver image recipe', () => {
  const [build = [], runtime = [], ...rest] = dockerfileStages();

  it('builds on node:20-bookworm-slim with npm ci and npm run build:apiserver', () => {
    expect(rest).toEqual([]);
    expect(args(build, 'FROM')).toEqual(['node:20-bookworm-slim AS build']);
    const runs = args(build, 'RUN').join(' && ');
    expect(runs).toMatch(/\bnpm ci\b/);
    expect(runs).toMatch(/\bnpm run build:apiserver\b/);
    expect(args(build, 'COPY')[0]).toBe('package.json package-lock.json ./');
  });

  it('runs on distroless nodejs20 nonroot as uid 65532, with only the bundle and the data directory', () => {
    expect(args(runtime, 'FROM')).toEqual(['gcr.io/distroless/nodejs20-debian12:nonroot']);
    expect(args(runtime, 'USER')).toHaveLength(1);
    expect(args(runtime, 'USER')[0]).toMatch(new RegExp(`^${DIRECTORY_IMAGE.uid}(:${DIRECTORY_IMAGE.uid})?$`));
    expect(args(runtime, 'RUN')).toEqual([]);
    expect(args(runtime, 'COPY')).toEqual([
      '--from=build /src/dist/apiserver/ /app/',
      `--from=build --chown=${DIRECTORY_IMAGE.uid}:${DIRECTORY_IMAGE.uid} /out/var/lib/dirtk ${DIRECTORY_API_SERVER.dataDir}`,
    ]);
  });

  it('starts the apiserver by default and has dirctl at the path the constructs use', () => {
    expect(args(runtime, 'ENTRYPOINT')).toEqual(['["/nodejs/bin/node"]']);
    expect(args(runtime, 'CMD')).toEqual([JSON.stringify([DIRECTORY_IMAGE.apiserverEntry])]);
    expect(DIRECTORY_IMAGE.dirctlEntry).toBe('/app/dirctl.js');
    expect(args(runtime, 'ENV').join(' ')).toMatch(/PATH=\/nodejs\/bin:/);
    expect(args(runtime, 'EXPOSE')).toEqual([`8888 ${DIRECTORY_API_SERVER.httpPort}`]);
  });

  it('keeps node_modules, dist, caches and git out of the build context', () => {
    const ignored = readFileSync(path.join(PROJECT_ROOT, '.dockerignore'), 'utf8')
      .split('\n')
      .map((line) => line.trim())
      .filter((line) => line !== '' && !line.startsWith('#'));
    expect(ignored).toEqual(expect.arrayContaining(['node_modules', 'dist', '.cache', '.git', '.local']));
  });

  it('pins esbuild to the version installed, and bundles for node20', () => {
    const pkg = JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'package.json'), 'utf8')) as {
      devDependencies: Record<string, string>;
      scripts: Record<string, string>;
    };
    const installed = (JSON.parse(readFileSync(path.join(PROJECT_ROOT, 'node_modules/esbuild/package.json'), 'utf8')) as { version: string }).version;
    expect(pkg.devDependencies.esbuild).toBe(installed);
    expect(pkg.scripts['build:apiserver']).toBe('tsx scripts/build-apiserver.ts');
    const script = readFileSync(path.join(PROJECT_ROOT, 'scripts/build-apiserver.ts'), 'utf8');
    expect(script).toMatch(/bundle: true,\s+platform: 'node',\s+target: 'node20',\s+sourcemap: true/);
  });

  it(
    'npm run build:apiserver writes both bundles, which run without any proto file',
    async () => {
      await execa('npm', ['run', 'build:apiserver'], { cwd: PROJECT_ROOT });
      for (const file of [
        'apiserver.js',
        'dirctl.js',
        'lib/bundle/apiserver.js',
        'lib/bundle/apiserver.js.map',
        'lib/bundle/dirctl.js',
        'lib/bundle/dirctl.js.map',
      ]) {
        expect([file, existsSync(path.join(OUT, file))]).toEqual([file, true]);
      }
      // The service descriptors (the Directory API's, reflection's and the Workload API's) are compiled in: no proto ships.
      expect(existsSync(path.join(OUT, 'proto'))).toBe(false);
      const shipped = readdirSync(OUT, { recursive: true, encoding: 'utf8' });
      expect(shipped.filter((file) => file.endsWith('.proto'))).toEqual([]);
      // From elsewhere, as in the image: nothing may be looked up relative to the working directory.
      const help = await execa('node', [path.join(OUT, 'dirctl.js'), '--help'], { cwd: tmpdir(), reject: false });
      expect(help.stderr).not.toMatch(/ENOENT|Cannot find module/);
      expect(help.exitCode).toBe(0);
      // The apiserver loads every module (reflection included) before it rejects a configuration without authentication.
      const apiserver = await execa('node', [path.join(OUT, 'apiserver.js')], { cwd: tmpdir(), reject: false, env: { DIRTK_APISERVER_X509: 'false' } });
      expect(apiserver.stderr).not.toMatch(/ENOENT|Cannot find module/);
      expect(apiserver.stderr).toContain('no authentication left');
    },
    120_000,
  );
});
