import { existsSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { parseAllDocuments } from 'yaml';
import { synthesize, UPSTREAM_CA_DIR_ENV } from '../../apps/synth/main';
import { trustDomainManifests } from '../../constructs';
import { PROJECT_ROOT } from '../../tools/paths';
import { EXAMPLE } from './fixtures';
import { TOPOLOGY_FILE_ENV } from '../../topology';
import { isBootstrapped, withFederationBootstrap } from '../../federation/bootstrap';

function readManifests(file: string): unknown[] {
  return parseAllDocuments(readFileSync(file, 'utf8')).map((d) => d.toJSON() as unknown);
}

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'dirtk-synth-'));


describe('apps/synth', () => {
  it('writes one file per trust domain, each holding that domain’s manifests', () => {
    const outdir = path.join(tempDir(), 'dist');
    const files = synthesize(EXAMPLE, outdir);
    expect(readdirSync(outdir).sort()).toEqual(['dir.example.k8s.yaml', 'dirctl.example.k8s.yaml']);
    expect(files.map((f) => path.basename(f))).toEqual(['dir.example.k8s.yaml', 'dirctl.example.k8s.yaml']);
    for (const td of EXAMPLE.trustDomains) {
      expect(readManifests(path.join(outdir, `${td.name}.k8s.yaml`))).toEqual(trustDomainManifests(EXAMPLE, td.name));
    }
  });

  it('writes nothing for an invalid topology file, and says what is wrong', async () => {
    const scratch = tempDir();
    const outdir = path.join(scratch, 'dist');
    const file = path.join(scratch, 'topology.json');
    writeFileSync(file, JSON.stringify({ trustDomains: [{ name: 'loop.example', clusterName: 'loop', federatesWith: [{ trustDomain: 'loop.example' }] }] }));
    const run = await execa(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['apps/synth/main.ts'], {
      cwd: PROJECT_ROOT,
      env: { [TOPOLOGY_FILE_ENV]: file, CDK8S_OUTDIR: outdir, [UPSTREAM_CA_DIR_ENV]: path.join(scratch, 'ca') },
      reject: false,
    });
    expect(run.exitCode).toBe(1);
    expect(run.stderr).toMatch(/invalid topology \(1 problem\):\n {2}- .*topology\.json \(DIRTK_TOPOLOGY\): trustDomains\[0\] \(loop\.example\)\.federatesWith\[0\]\.trustDomain: .*cannot federate with itself/);
    expect(existsSync(outdir)).toBe(false);
    expect(existsSync(path.join(scratch, 'ca'))).toBe(false);
  }, 60_000);

  it('`cdk8s synth` writes the bootstrapped example into its output directory, keeping the CA keys out of it, with no Go on PATH and an empty cache', async () => {
    const caFolder = path.join(tempDir(), 'ca');
    const outdir = path.join(tempDir(), 'dist');
    const emptyCache = path.join(tempDir(), 'cache');
    // Node, and the system's own tools; no Go anywhere on it.
    const PATH = [path.dirname(process.execPath), '/usr/bin', '/bin'].join(path.delimiter);
    expect((await execa('sh', ['-c', 'command -v go || echo none'], { env: { PATH } })).stdout).toBe('none');
    const run = await execa(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'cdk8s'), ['synth', '--no-check-upgrade', '--output', outdir], {
      cwd: PROJECT_ROOT,
      env: { [UPSTREAM_CA_DIR_ENV]: caFolder, PATH, DIRTK_CACHE_DIR: emptyCache },
    });
    expect(existsSync(emptyCache)).toBe(false);
    // The CAs synth made are in the folder now; bootstrapping again reuses them, so the output matches.
    const { topology } = await withFederationBootstrap(EXAMPLE, caFolder);
    expect(isBootstrapped(topology)).toBe(true);
    expect((await withFederationBootstrap(topology, caFolder)).topology).toBe(topology);
    const expected = path.join(tempDir(), 'dist');
    synthesize(topology, expected);
    expect(run.stderr).toContain(`kubectl -n spire-system create secret generic spire-upstream-ca --from-file=${path.join(caFolder, 'dir.example')}`);
    for (const file of readdirSync(outdir)) {
      const text = readFileSync(path.join(outdir, file), 'utf8');
      expect(text).not.toContain('PRIVATE KEY');
      expect(text).toContain('trustDomainBundle');
    }
    expect(readdirSync(outdir).sort()).toEqual(readdirSync(expected).sort());
    for (const file of readdirSync(expected)) {
      expect(readFileSync(path.join(outdir, file), 'utf8')).toBe(readFileSync(path.join(expected, file), 'utf8'));
    }
  }, 60_000);
});
