import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths';
import {
  BUILD_MODULES,
  cacheKey,
  installLayout,
  KUBERNETES_PLUGIN_VERSION,
  KUBERNETES_PROVIDER_MODULE_VERSION,
  LANGUAGE_NODEJS_VERSION,
  PULUMI_CLI_VERSION,
  pulumiEnv,
  requiredVersion,
  type KeyInputs,
} from '../../tools/pulumi/build';

const read = (dir: string, file: string) => readFileSync(path.join(dir, file), 'utf8');

describe('pinned Pulumi build', () => {
  it('each build module requires exactly the version the recipe names', () => {
    expect(requiredVersion(read(BUILD_MODULES.cli, 'go.mod'), 'github.com/pulumi/pulumi/pkg/v3')).toBe(`v${PULUMI_CLI_VERSION}`);
    expect(requiredVersion(read(BUILD_MODULES.languageNodejs, 'go.mod'), 'github.com/pulumi/pulumi/sdk/v3')).toBe(`v${LANGUAGE_NODEJS_VERSION}`);
    expect(requiredVersion(read(BUILD_MODULES.kubernetes, 'go.mod'), 'github.com/pulumi/pulumi-kubernetes/provider/v4')).toBe(
      KUBERNETES_PROVIDER_MODULE_VERSION,
    );
  });

  it('the CLI module carries the two replacements of pkg/v3 own go.mod', () => {
    const goMod = read(BUILD_MODULES.cli, 'go.mod');
    expect(goMod).toMatch(/github\.com\/atotto\/clipboard => github\.com\/tgummerer\/clipboard v0\.0\.0-20241001131231-d02d263e614e/);
    expect(goMod).toMatch(/golang\.org\/x\/text => golang\.org\/x\/text v0\.41\.0/);
  });

  it('the Kubernetes plugin is installed at the version @pulumi/kubernetes asks the engine for', () => {
    // The SDK registers its provider with its own package version; the engine looks for exactly that plugin
    // version and, with automatic acquisition off, fails when it is missing.
    const pkg = JSON.parse(read(PROJECT_ROOT, 'package.json')) as { dependencies: Record<string, string> };
    expect(pkg.dependencies['@pulumi/kubernetes']).toBe(KUBERNETES_PLUGIN_VERSION);
  });
});

describe('cacheKey', () => {
  const inputs: KeyInputs = {
    versions: { cli: '3.274.1', kubernetesPlugin: '4.24.1' },
    modules: { cli: { goMod: 'module a\n', goSum: 'x h1:y\n' }, kubernetes: { goMod: 'module b\n', goSum: '' } },
    recipe: 'recipe source',
  };

  it('is stable and independent of key order', () => {
    const reordered: KeyInputs = {
      versions: { kubernetesPlugin: '4.24.1', cli: '3.274.1' },
      modules: { kubernetes: inputs.modules.kubernetes!, cli: inputs.modules.cli! },
      recipe: inputs.recipe,
    };
    expect(cacheKey(reordered)).toEqual(cacheKey(inputs));
    expect(cacheKey(inputs).key).toMatch(/^[0-9a-f]{16}$/);
  });

  it.each([
    ['a version', { ...inputs, versions: { ...inputs.versions, kubernetesPlugin: '4.24.2' } }],
    ['a go.mod', { ...inputs, modules: { ...inputs.modules, cli: { goMod: 'module a\nrequire z v1\n', goSum: 'x h1:y\n' } } }],
    ['a go.sum', { ...inputs, modules: { ...inputs.modules, kubernetes: { goMod: 'module b\n', goSum: 'z h1:w\n' } } }],
    ['the recipe', { ...inputs, recipe: 'recipe source, changed' }],
  ])('changes with %s', (_what, changed: KeyInputs) => {
    expect(cacheKey(changed).key).not.toBe(cacheKey(inputs).key);
  });

  it('does not confuse a value moved between fields', () => {
    const a: KeyInputs = { ...inputs, modules: { m: { goMod: 'ab', goSum: '' } } };
    const b: KeyInputs = { ...inputs, modules: { m: { goMod: 'a', goSum: 'b' } } };
    expect(cacheKey(a).key).not.toBe(cacheKey(b).key);
  });
});

describe('install layout and environment', () => {
  it('puts the language host next to the CLI and the provider in the plugin cache layout', () => {
    const layout = installLayout('/c/pulumi/k');
    expect(layout.cli).toBe('/c/pulumi/k/bin/pulumi');
    expect(layout.languageHost).toBe('/c/pulumi/k/bin/pulumi-language-nodejs');
    expect(layout.kubernetesPlugin).toBe(`/c/pulumi/k/home/plugins/resource-kubernetes-v${KUBERNETES_PLUGIN_VERSION}/pulumi-resource-kubernetes`);
  });

  it('runs the CLI offline: its bin first on PATH, its own PULUMI_HOME, no download, no ambient plugin', () => {
    expect(pulumiEnv('/c/pulumi/k', '/usr/bin:/bin')).toEqual({
      PATH: '/c/pulumi/k/bin:/usr/bin:/bin',
      PULUMI_HOME: '/c/pulumi/k/home',
      PULUMI_SKIP_UPDATE_CHECK: 'true',
      PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: 'true',
      PULUMI_IGNORE_AMBIENT_PLUGINS: 'true',
    });
    expect(pulumiEnv('/c/pulumi/k', undefined).PATH).toBe('/c/pulumi/k/bin');
  });

  it('reads a required version from either go.mod form', () => {
    expect(requiredVersion('require github.com/a/b v1.2.3\n', 'github.com/a/b')).toBe('v1.2.3');
    expect(requiredVersion('require (\n\tgithub.com/a/b v1.2.3 // indirect\n)\n', 'github.com/a/b')).toBe('v1.2.3');
    expect(requiredVersion('require github.com/a/bc v1.2.3\n', 'github.com/a/b')).toBeUndefined();
  });
});
