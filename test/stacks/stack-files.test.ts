import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';
import { runStack } from './harness';

const ROOT = path.resolve(__dirname, '../..');
const EXAMPLE = resolveTopology(EXAMPLE_FEDERATION);
const DIY_PREFIX = 'organization/dirtk/';

interface StackFile {
  readonly stack: string;
  readonly config: Record<string, any>;
}

const project = parse(readFileSync(path.join(ROOT, 'Pulumi.yaml'), 'utf8'));
const stackFiles: StackFile[] = readdirSync(ROOT)
  .map((file) => /^Pulumi\.(.+)\.yaml$/.exec(file)?.[1])
  .filter((stack): stack is string => stack !== undefined)
  .map((stack) => ({ stack, config: parse(readFileSync(path.join(ROOT, `Pulumi.${stack}.yaml`), 'utf8')).config }));


describe('Pulumi.yaml', () => {
  it('runs the TypeScript program in stacks/ with npm', () => {
    expect(project).toMatchObject({
      name: 'dirtk',
      runtime: { name: 'nodejs', options: { typescript: true, packagemanager: 'npm' } },
      main: 'stacks/',
    });
    expect(existsSync(path.join(ROOT, project.main, 'index.ts'))).toBe(true);
  });
});

describe('the stack files', () => {
  it('hold one stack per trust domain of the topology', () => {
    expect(stackFiles.map((file) => file.config['dirtk:trustDomain']).sort()).toEqual(EXAMPLE.trustDomains.map((td) => td.name).sort());
  });

  it('point each peer at the stack that deploys it, for every peer in the topology', () => {
    for (const { stack, config } of stackFiles) {
      const td = EXAMPLE.trustDomains.find((candidate) => candidate.name === config['dirtk:trustDomain'])!;
      const peerStacks: Record<string, string> = config['dirtk:peerStacks'];
      expect(Object.keys(peerStacks).sort(), stack).toEqual(td.federatesWith.map((edge) => edge.trustDomain).sort());
      for (const [peer, reference] of Object.entries(peerStacks)) {
        expect(reference.startsWith(DIY_PREFIX), `${stack}: ${reference}`).toBe(true);
        const target = stackFiles.find((file) => file.stack === reference.slice(DIY_PREFIX.length));
        expect(target?.config['dirtk:trustDomain'], `${stack}: ${reference}`).toBe(peer);
      }
    }
  });

  it('turn off the ambient Kubernetes provider', () => {
    for (const { stack, config } of stackFiles) {
      expect(config['pulumi:disable-default-providers'], stack).toEqual(['kubernetes']);
    }
  });

  it.each(stackFiles.map((file) => [file.stack, file] as const))('%s deploys its trust domain to its Kind cluster', async (_stack, { config }) => {
    const td = EXAMPLE.trustDomains.find((candidate) => candidate.name === config['dirtk:trustDomain'])!;
    const run = await runStack({ config });
    expect(run.one('pulumi:providers:kubernetes').inputs.context).toBe(`kind-${td.clusterName}`);
    expect(run.outputs.trustDomain).toBe(td.name);
  });
});
