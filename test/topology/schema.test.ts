/** The topology file's shape (topology/schema.ts), as `loadTopology` checks it before resolving. */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadTopology, resolveTopology, TopologyError, type TopologySpec } from '../../topology';

const scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-schema-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function specFile(spec: unknown): string {
  const file = path.join(scratch, `${Math.random().toString(36).slice(2)}.json`);
  writeFileSync(file, JSON.stringify(spec));
  return file;
}

describe('the topology file schema: apiserver.store', () => {
  it('accepts the filesystem and registry stores', () => {
    const spec: TopologySpec = {
      trustDomains: [
        { name: 'a.example', clusterName: 'a', apiserver: { store: 'filesystem' } },
        { name: 'b.example', clusterName: 'b', apiserver: { store: 'registry', replicas: 2 } },
      ],
    };
    expect(loadTopology({ DIRTK_TOPOLOGY: specFile(spec) })).toEqual(resolveTopology(spec));
  });

  it('reports any other store as a problem, naming the allowed ones', () => {
    const file = specFile({ trustDomains: [{ name: 'a.example', clusterName: 'a', apiserver: { store: 'nfs' } }] });
    expect(() => loadTopology({ DIRTK_TOPOLOGY: file })).toThrow(TopologyError);
    expect(() => loadTopology({ DIRTK_TOPOLOGY: file })).toThrow(
      `${file} (DIRTK_TOPOLOGY): trustDomains[0].apiserver.store: must be one of "filesystem", "registry"`,
    );
  });
});
