/**
 * The architecture as rules over the source: which folders each layer may import from (libraries at the
 * bottom, entry points at the top), no casts through `unknown`, and facts written in one place only.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const ROOT = path.resolve(__dirname, '../..');

/** Source folders, most specific first, each with the folders it may import from (its own always allowed). */
const SPIFFE = 'packages/spiffe';
const API = 'packages/directory-api';
const SPIRE_FACTS = ['spire/versions.ts', 'spire/crds.ts'];
const LAYERS: ReadonlyArray<{ readonly folder: string; readonly mayImport: readonly string[] }> = [
  { folder: 'packages/spiffe/src', mayImport: [`${SPIFFE}/gen`] },
  { folder: 'packages/directory-api/src', mayImport: [`${API}/gen`] },
  { folder: 'topology', mayImport: [SPIFFE, API] },
  { folder: 'federation', mayImport: ['topology', SPIFFE] },
  { folder: 'spire/config', mayImport: ['topology'] },
  { folder: 'spire/kubernetes', mayImport: ['topology', 'spire/config'] },
  { folder: 'spire/build', mayImport: ['tools/paths.ts', 'tools/go-tool-install.ts', ...SPIRE_FACTS] },
  { folder: 'spire/process', mayImport: ['topology', 'spire/config', 'spire/build', ...SPIRE_FACTS, SPIFFE] },
  // The OCI registry: its build, config and process (supervised like SPIRE's).
  { folder: 'registry', mayImport: ['tools/paths.ts', 'tools/go-tool-install.ts', 'spire/process/supervised-process.ts', API] },
  // The registry's config is rendered in one place (registry/config.ts), locally and in the registry's ConfigMap.
  { folder: 'constructs', mayImport: ['topology', 'spire/config', 'spire/kubernetes', ...SPIRE_FACTS, 'registry/config.ts', API] },
  { folder: 'stacks', mayImport: ['topology', 'constructs', 'spire/kubernetes'] },
  { folder: 'apps/apiserver/src', mayImport: [SPIFFE, API] },
  { folder: 'apps/dirctl/src', mayImport: [SPIFFE, API] },
  { folder: 'apps/synth', mayImport: ['topology', 'federation', 'constructs'] },
  // Local mode runs the apps (the tour drives dirctl in-process) and each Directory's registry.
  { folder: 'local', mayImport: ['topology', 'federation', 'spire', 'registry', 'tools/paths.ts', 'apps/dirctl/src', SPIFFE, API] },
  { folder: 'kind', mayImport: ['topology', 'federation', 'spire', 'registry', 'constructs', 'stacks', 'apps/synth', 'tools', SPIFFE, API] },
];

/** Workspace packages by name, as the folder their imports resolve to. */
const PACKAGES: Readonly<Record<string, string>> = { '@dirtk/spiffe': SPIFFE, '@dirtk/directory-api': API };

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const full = path.join(dir, entry);
    if (entry === 'node_modules' || entry === 'gen' || entry === 'imports') return [];
    if (statSync(full).isDirectory()) return sourceFiles(full);
    return /\.(ts|mts)$/.test(entry) && !entry.endsWith('.d.ts') ? [full] : [];
  });
}

/** The repository-relative targets of a file's imports of the repository: relative ones and the workspace packages. */
function relativeImports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  const specifiers = [...text.matchAll(/(?:from|import)\s*\(?\s*'([^']+)'/g)].map((match) => match[1]!);
  return specifiers.flatMap((specifier) => {
    if (specifier.startsWith('.')) return [path.relative(ROOT, path.resolve(path.dirname(file), specifier))];
    const pkg = Object.keys(PACKAGES).find((name) => specifier === name || specifier.startsWith(`${name}/`));
    return pkg ? [PACKAGES[pkg]!] : [];
  });
}

const within = (target: string, folder: string) => target === folder || target.startsWith(`${folder}/`) || `${target}.ts` === folder;

describe('layers', () => {
  it.each(LAYERS.map((layer) => [layer.folder, layer] as const))('%s imports only from the layers below it', (_folder, layer) => {
    const violations = sourceFiles(path.join(ROOT, layer.folder)).flatMap((file) =>
      relativeImports(file)
        .filter((target) => !within(target, layer.folder) && !layer.mayImport.some((allowed) => within(target, allowed)))
        .map((target) => `${path.relative(ROOT, file)} → ${target}`),
    );
    expect(violations).toEqual([]);
  });

  it('finds the imports it judges (a rule that sees nothing proves nothing)', () => {
    expect(relativeImports(path.join(ROOT, 'constructs/directory-api-server.ts'))).toEqual(expect.arrayContaining(['topology/model', API]));
    expect(within('topology/model', 'topology')).toBe(true);
    expect(within('topology-extra/x', 'topology')).toBe(false);
  });
});

describe('types', () => {
  it('never casts through unknown (`as unknown as`) outside tests and generated code', () => {
    const folders = ['apps', 'bench', 'constructs', 'federation', 'kind', 'local', 'packages', 'scripts', 'spire', 'stacks', 'tools', 'topology'];
    const casts = folders
      .flatMap((folder) => sourceFiles(path.join(ROOT, folder)))
      .filter((file) => !file.includes(`${path.sep}test${path.sep}`))
      .filter((file) => readFileSync(file, 'utf8').includes('as unknown as'))
      .map((file) => path.relative(ROOT, file));
    expect(casts).toEqual([]);
  });
});
