/**
 * `npm run bench`: prints one JSON document with every measurement, each next to a baseline taken in
 * the same run on the same machine.
 */
import { cpus } from 'node:os';
import path from 'node:path';
import { apiserverBench } from './apiserver';
import { localBench } from './local';
import { registryBench } from './registry';
import { spiffeBench } from './spiffe';

const TSX = path.join(__dirname, '..', 'node_modules', '.bin', 'tsx');

async function synthScenario(domains: number, runs: number): Promise<Record<string, unknown>> {
  const { execa } = await import('execa');
  const { stdout } = await execa(TSX, [path.join(__dirname, 'synth-scenario.ts'), String(domains), String(runs)]);
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
}

async function main(): Promise<void> {
  const baseline = await synthScenario(1, 20);
  const federated = [await synthScenario(2, 20), await synthScenario(20, 5)];
  const report = {
    machine: { cpus: cpus().length, node: process.version },
    synth: {
      description: 'resolve + synthesize + write YAML of a full-mesh federation; wall time per synth, peak RSS of the process',
      baseline: { ...baseline, note: 'one standalone trust domain' },
      federated,
    },
    spiffe: await spiffeBench(),
    apiserver: await apiserverBench(),
    local: await localBench(),
    registry: await registryBench(),
  };
  console.log(JSON.stringify(report, null, 2));
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
