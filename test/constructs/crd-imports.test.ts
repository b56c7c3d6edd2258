import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cdk8sImport, CrdSourceError, expectedImports, moduleCrdDir, readCdk8sImportConfig } from '../../scripts/import-crds';
import { CRD_FILES, PINNED_CRD_DIR, SERVED_CRD_FILES } from '../../spire/crds';
import { CONTROLLER_MANAGER_VERSION } from '../../spire/versions';
import { PROJECT_ROOT } from '../../tools/paths';

const readFolder = (dir: string) => Object.fromEntries(readdirSync(dir).sort().map((file) => [file, readFileSync(path.join(dir, file), 'utf8')]));

describe('the committed CRDs', () => {
  it('are byte for byte the pinned controller manager module’s config/crd/bases', async (context) => {
    let source: string;
    try {
      source = await moduleCrdDir({ offline: true });
    } catch (error) {
      if (!(error instanceof CrdSourceError)) throw error;
      return context.skip(error.message);
    }
    const pinned = Object.values(CRD_FILES).sort();
    expect(readFolder(PINNED_CRD_DIR)).toEqual(Object.fromEntries(pinned.map((file) => [file, readFileSync(path.join(source, file), 'utf8')])));
  });
});

describe('cdk8s.yaml', () => {
  it('imports exactly the served CRDs from the pinned folder, each named after its plural', () => {
    const folder = `crds/spire-controller-manager-v${CONTROLLER_MANAGER_VERSION}`;
    expect(expectedImports()).toEqual([
      `clusterspiffeids:=${folder}/spire.spiffe.io_clusterspiffeids.yaml`,
      `clusterfederatedtrustdomains:=${folder}/spire.spiffe.io_clusterfederatedtrustdomains.yaml`,
      `clusterstaticentries:=${folder}/spire.spiffe.io_clusterstaticentries.yaml`,
    ]);
    expect(readCdk8sImportConfig().imports).toEqual(expectedImports());
  });
});

describe('the generated constructs', () => {
  it('equal a fresh `cdk8s import` of the committed CRDs', async () => {
    const fresh = mkdtempSync(path.join(tmpdir(), 'dirtk-cdk8s-import-'));
    await cdk8sImport(fresh);
    const committed = readFolder(path.join(PROJECT_ROOT, readCdk8sImportConfig().importDirectory));
    expect(Object.keys(committed)).toHaveLength(SERVED_CRD_FILES.length);
    expect(committed).toEqual(readFolder(fresh));
  });
});
