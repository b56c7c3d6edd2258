import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Testing } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { SpireCrdsChart } from '../../constructs';
import type { Manifest } from './fixtures';


describe('SpireCrdsChart', () => {
  it('includes the three served spire.spiffe.io CRDs, cluster-scoped, with no namespace', () => {
    const objects = Testing.synth(new SpireCrdsChart(Testing.app(), 'spire-crds')) as Manifest[];
    expect(objects.map((o) => `${o.kind} ${o.metadata.name}`)).toMatchSnapshot();
    for (const crd of objects) {
      expect(crd.apiVersion).toBe('apiextensions.k8s.io/v1');
      expect(crd.metadata).not.toHaveProperty('namespace');
      expect(crd.spec.group).toBe('spire.spiffe.io');
      expect(crd.spec.scope).toBe('Cluster');
      expect(crd.spec.versions.map((v: Manifest) => v.name)).toEqual(['v1alpha1']);
    }
  });

  it('reads the CRDs from the directory it is given', () => {
    const empty = mkdtempSync(path.join(tmpdir(), 'dirtk-crds-'));
    expect(() => new SpireCrdsChart(Testing.app(), 'spire-crds', { crdDir: empty })).toThrow(/ENOENT.*spire\.spiffe\.io_clusterspiffeids\.yaml/);
  });
});
