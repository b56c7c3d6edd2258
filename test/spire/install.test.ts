import { readFileSync } from 'node:fs';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { PROJECT_ROOT } from '../../tools/paths';
import { CONTROLLER_MANAGER_VERSION, IMAGES, SPIRE_VERSION } from '../../spire/versions';

describe('pinned versions', () => {
  it('the Go build modules require exactly the versions the manifests deploy', () => {
    const spireMod = readFileSync(path.join(PROJECT_ROOT, 'spire/build/spire/go.mod'), 'utf8');
    const cmMod = readFileSync(path.join(PROJECT_ROOT, 'spire/build/controller-manager/go.mod'), 'utf8');
    expect(spireMod).toMatch(new RegExp(`^require github\\.com/spiffe/spire v${SPIRE_VERSION.replace(/\./g, '\\.')} `, 'm'));
    expect(cmMod).toMatch(
      new RegExp(`^require github\\.com/spiffe/spire-controller-manager v${CONTROLLER_MANAGER_VERSION.replace(/\./g, '\\.')} `, 'm'),
    );
    expect(IMAGES.spireServer.endsWith(`:${SPIRE_VERSION}`)).toBe(true);
    expect(IMAGES.spireAgent.endsWith(`:${SPIRE_VERSION}`)).toBe(true);
    expect(IMAGES.controllerManager.endsWith(`:${CONTROLLER_MANAGER_VERSION}`)).toBe(true);
  });
});

describe('npm run setup', () => {
  it('names what is missing when Go is not installed', async () => {
    const result = await execa(path.join(PROJECT_ROOT, 'node_modules/.bin/tsx'), ['scripts/setup-spire.ts'], {
      cwd: PROJECT_ROOT,
      env: { PATH: path.dirname(process.execPath), DIRTK_CACHE_DIR: mkdtempSync(path.join(tmpdir(), 'dirtk-nogo-')) },
      extendEnv: false,
      reject: false,
    });
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Go is not installed \(or not on PATH\).*Install Go 1\.26 or later, then run `npm run setup` again/);
  });
});
