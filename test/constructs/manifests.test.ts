import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'cdk8s';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { SpireCrdsChart, TrustDomainChart, trustDomainManifests } from '../../constructs';
import { EXAMPLE, type Manifest } from './fixtures';


describe('trustDomainManifests', () => {
  it('returns the CRDs first, then the trust domain chart', () => {
    const objects = trustDomainManifests(EXAMPLE, 'dir.example') as Manifest[];
    const kinds = objects.map((o) => o.kind);
    expect(kinds.slice(0, 3)).toEqual(['CustomResourceDefinition', 'CustomResourceDefinition', 'CustomResourceDefinition']);
    expect(kinds.lastIndexOf('CustomResourceDefinition')).toBe(2);
    expect(objects[3]).toMatchObject({ kind: 'Namespace' });
  });

  it('returns exactly what App.synth writes for the same charts', () => {
    const outdir = mkdtempSync(path.join(tmpdir(), 'dirtk-app-'));
    const app = new App({ outdir });
    const crds = new SpireCrdsChart(app, 'spire-crds');
    new TrustDomainChart(app, 'dirctl.example', { topology: EXAMPLE, trustDomain: 'dirctl.example', crds });
    app.synth();
    const written = readdirSync(outdir)
      .sort()
      .flatMap((file) => parseAllDocuments(readFileSync(path.join(outdir, file), 'utf8')).map((d) => d.toJSON() as Manifest));
    expect(written).toEqual(trustDomainManifests(EXAMPLE, 'dirctl.example'));
  });

  it('returns plain data, the same on every call', () => {
    const objects = trustDomainManifests(EXAMPLE, 'dir.example');
    expect(JSON.parse(JSON.stringify(objects))).toEqual(objects);
    expect(trustDomainManifests(EXAMPLE, 'dir.example')).toEqual(objects);
  });
});
