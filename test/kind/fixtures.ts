/**
 * Plans made against a temporary state folder, and the offline half of `kind:up`: every task run with the
 * outputs a real run would capture, and the synth step run in-process with the step's own environment.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll } from 'vitest';
import { synthesize } from '../../apps/synth/main';
import type { Deployer } from '../../kind/commands';
import { planUp, type PlanOptions } from '../../kind/plan';
import type { CommandStep, Plan, Step } from '../../kind/steps';
import { PROJECT_ROOT } from '../../tools/paths';
import { EXAMPLE_FEDERATION, loadTopology, resolveTopology } from '../../topology';

/** Node addresses as `kubectl get nodes` would print them for the two clusters. */
export const NODE_ADDRESSES = { 'dir-example': '172.18.0.2', 'dirctl-example': '172.18.0.3' } as const;

export const CAPTURED: Readonly<Record<string, string>> = {
  'kind-version': 'kind v0.32.0 go1.24.4 linux/amd64',
  'node-address:dir-example': `${NODE_ADDRESSES['dir-example']}\n`,
  'node-address:dirctl-example': NODE_ADDRESSES['dirctl-example'],
};

const tempDirs: string[] = [];
afterAll(() => {
  for (const dir of tempDirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** A fresh folder, removed after the test file. */
export function tempDir(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-kind-'));
  tempDirs.push(dir);
  return dir;
}

export function planOptions(deployer: Deployer, stateDir = tempDir()): PlanOptions {
  return { base: resolveTopology(EXAMPLE_FEDERATION), stateDir, projectRoot: PROJECT_ROOT, deployer };
}

export const taskContext = { captured: (name: string) => CAPTURED[name]!, log: () => {} };

export function commands(plan: Plan): Array<Extract<Step, { argv: readonly string[] }>> {
  return plan.steps.filter((step): step is Extract<Step, { argv: readonly string[] }> => step.kind !== 'task');
}

/** Runs what `kind:up` does on this machine, without Docker: its tasks, and synth as its step says. */
export async function prepareUpOffline(options: PlanOptions): Promise<Plan> {
  const plan = planUp(options);
  for (const step of plan.steps) {
    if (step.kind === 'task' && !step.title.startsWith('Check the programs')) await step.run(taskContext);
    if (step.kind === 'command' && step.argv.join(' ') === 'npm run synth') synthesizeAs(step);
  }
  return plan;
}

function synthesizeAs(step: CommandStep): void {
  synthesize(loadTopology(step.env), step.env!.CDK8S_OUTDIR!);
}

/** A pod list as `kubectl get pods -o json` prints it. */
export function podList(phase: string, exits: Record<string, number | string>, init: string[] = []): string {
  const status = (name: string) => {
    const exit = exits[name]!;
    return { name, state: typeof exit === 'number' ? { terminated: { exitCode: exit } } : { waiting: { reason: exit } } };
  };
  const names = Object.keys(exits);
  return JSON.stringify({
    items: [
      {
        metadata: { name: 'dirtk-verify-x7k2p', namespace: 'dir' },
        status: { phase, initContainerStatuses: init.map(status), containerStatuses: names.filter((n) => !init.includes(n)).map(status) },
      },
    ],
  });
}
