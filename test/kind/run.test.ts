/**
 * The runner against fake `kind` and `kubectl` programs on PATH: it runs each step's argv as given, passes
 * captured output to later tasks, prints the summary table, and on a failure prints the hint and the failed
 * containers' logs.
 */
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { planDown, planTest } from '../../kind/plan';
import { runPlan } from '../../kind/run';
import { kindState } from '../../kind/state';
import { PROJECT_ROOT } from '../../tools/paths';
import { planOptions, podList, tempDir } from './fixtures';

/**
 * Records its argv in $FAKE_LOG, then answers like a cluster: node addresses, the pod of each verification
 * Job from $FAKE_PODS/<context>.<job name>.json (all of the context's without a Job selector), and everything
 * else with success.
 */
const FAKE = `#!/usr/bin/env node
const fs = require('fs');
const path = require('path');
const args = process.argv.slice(2);
fs.appendFileSync(process.env.FAKE_LOG, JSON.stringify([path.basename(process.argv[1]), ...args]) + '\\n');
const context = args[args.indexOf('--context') + 1];
const has = (word) => args.includes(word);
if (has('nodes')) process.stdout.write(context === 'kind-dir-example' ? '172.18.0.2' : '172.18.0.3');
else if (has('pods') && has('json')) {
  const selector = args.find((arg) => arg.startsWith('batch.kubernetes.io/job-name='));
  const files = selector
    ? [context + '.' + selector.split('=')[1] + '.json']
    : fs.readdirSync(process.env.FAKE_PODS).filter((file) => file.startsWith(context + '.')).sort();
  const items = files.flatMap((file) => JSON.parse(fs.readFileSync(path.join(process.env.FAKE_PODS, file), 'utf8')).items);
  process.stdout.write(JSON.stringify({ items }));
}
else if (has('logs')) process.stdout.write('error: PERMISSION_DENIED: push is not allowed for spiffe://dirctl.example/ns/dir/sa/dirctl\\n');
`;

const saved = { PATH: process.env.PATH, FAKE_LOG: process.env.FAKE_LOG, FAKE_PODS: process.env.FAKE_PODS };
let dir: string;
let output: string[];

beforeEach(() => {
  dir = tempDir();
  mkdirSync(path.join(dir, 'bin'));
  mkdirSync(path.join(dir, 'pods'));
  for (const program of ['kind', 'kubectl']) {
    writeFileSync(path.join(dir, 'bin', program), FAKE);
    chmodSync(path.join(dir, 'bin', program), 0o755);
  }
  process.env.PATH = `${path.join(dir, 'bin')}${path.delimiter}${saved.PATH}`;
  process.env.FAKE_LOG = path.join(dir, 'calls.jsonl');
  process.env.FAKE_PODS = path.join(dir, 'pods');
  output = [];
});
afterEach(() => Object.assign(process.env, saved));

const calls = (): string[][] => readFileSync(process.env.FAKE_LOG!, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
const pods = (context: string, job: string, list: string) => writeFileSync(path.join(dir, 'pods', `${context}.${job}.json`), list);
const OWN_PASSES = podList('Succeeded', { push: 0, pull: 0, lookup: 0, credentials: 0, 'sync-list': 0 }, ['push']);
const FEDERATED_PASSES = podList('Failed', { pull: 0, lookup: 0, credentials: 0, 'sync-list': 107, push: 107 });
const SYNC_PUSH_PASSES = podList('Succeeded', { 'push-for-sync': 0 });
const SYNC_PASSES = podList('Succeeded', { 'sync-from-dir-example': 0, 'pull-synced': 0 }, ['sync-from-dir-example']);
/** The sync proof's Jobs, both passing. */
function syncProofPasses(): void {
  pods('kind-dir-example', 'dirtk-sync-push', SYNC_PUSH_PASSES);
  pods('kind-dirctl-example', 'dirtk-sync-from-dir-example', SYNC_PASSES);
}
const write = (line: string) => output.push(line);
/** The output one line each (the table is written in one piece). */
const lines = () => output.join('\n').split('\n');

describe('running a plan', () => {
  it('kind:down runs each command as planned and removes the state folder', async () => {
    const options = planOptions('kubectl');
    const state = kindState(options.stateDir);
    mkdirSync(state.caFolder, { recursive: true });

    expect(await runPlan(planDown(options), PROJECT_ROOT, write)).toBe(true);
    expect(calls()).toEqual(
      ['dir-example', 'dirctl-example'].map((cluster) => ['kind', 'delete', 'cluster', '--name', cluster, '--kubeconfig', state.kubeconfig]),
    );
    expect(existsSync(state.root)).toBe(false);
    expect(output).toContain('==> [1/4] Check the programs on PATH: kind');
    expect(output.at(-1)).toMatch(/^kind:down finished in \d+s\.$/);
  });

  it('kind:test passes each apiserver’s node address to the Jobs calling it and prints the table of matching calls', async () => {
    pods('kind-dir-example', 'dirtk-verify-dir-example', OWN_PASSES);
    pods('kind-dirctl-example', 'dirtk-verify-dir-example', FEDERATED_PASSES);
    pods('kind-dirctl-example', 'dirtk-verify-dirctl-example', OWN_PASSES);
    pods('kind-dir-example', 'dirtk-verify-dirctl-example', FEDERATED_PASSES);
    syncProofPasses();
    const options = planOptions('kubectl');

    expect(await runPlan(planTest(options), PROJECT_ROOT, write)).toBe(true);
    const state = kindState(options.stateDir);
    expect(readFileSync(state.verificationFile('dirctl.example', 'dir.example'), 'utf8')).toContain('- 172.18.0.2:30888\n');
    expect(readFileSync(state.verificationFile('dir.example', 'dirctl.example'), 'utf8')).toContain('- 172.18.0.3:30888\n');
    const job = [
      '--namespace dir',
      'apply --server-side',
      '--namespace dir',
    ];
    expect(calls().map((argv) => argv.slice(4, 7).join(' '))).toEqual([
      'kind-dir-example get nodes',
      'kind-dirctl-example get nodes',
      ...job.map((rest) => `kind-dir-example ${rest}`),
      ...job.map((rest) => `kind-dirctl-example ${rest}`),
      ...job.map((rest) => `kind-dirctl-example ${rest}`),
      ...job.map((rest) => `kind-dir-example ${rest}`),
      ...job.map((rest) => `kind-dir-example ${rest}`),
      ...job.map((rest) => `kind-dirctl-example ${rest}`),
    ]);
    const syncJob = readFileSync(state.syncProofFile('dirtk-sync-from-dir-example', 'dirctl.example'), 'utf8');
    expect(syncJob).toContain('- --remote-directory-url\n');
    expect(syncJob).toContain('- 172.18.0.2:30888\n');
    expect(lines().filter((line) => / ok$/.test(line))).toHaveLength(23);
    expect(output).toContain('Every call got the outcome the cross-domain matrix expects.');
  });

  it('kind:test fails on a mismatch, after the table, with the diagnostics of both clusters', async () => {
    pods('kind-dir-example', 'dirtk-verify-dir-example', OWN_PASSES);
    pods('kind-dirctl-example', 'dirtk-verify-dir-example', podList('Failed', { pull: 0, lookup: 0, credentials: 0, 'sync-list': 107, push: 0 }));
    pods('kind-dirctl-example', 'dirtk-verify-dirctl-example', OWN_PASSES);
    pods('kind-dir-example', 'dirtk-verify-dirctl-example', FEDERATED_PASSES);
    syncProofPasses();

    expect(await runPlan(planTest(planOptions('kubectl')), PROJECT_ROOT, write)).toBe(false);
    expect(lines().filter((line) => line.endsWith('MISMATCH'))).toEqual([
      'dirctl.example  dir.example     push                   denied (exit 107)  allowed (exit 0)   MISMATCH',
    ]);
    expect(output).toContain('1 of 23 calls did not get the expected outcome');
    expect(output).toContain('--- Diagnostics of dir-example ---');
    expect(output).toContain('--- Diagnostics of dirctl-example ---');
    const logCalls = calls().filter((argv) => argv.includes('logs'));
    // Every container that exited non-zero, denied as expected or not: dir.example's Job against dirctl.example's apiserver too.
    expect(logCalls.map((argv) => argv.slice(4).join(' '))).toEqual([
      'kind-dir-example --namespace dir logs dirtk-verify-x7k2p --container sync-list --tail=100',
      'kind-dir-example --namespace dir logs dirtk-verify-x7k2p --container push --tail=100',
      'kind-dirctl-example --namespace dir logs dirtk-verify-x7k2p --container sync-list --tail=100',
    ]);
    expect(output.at(-1)).toMatch(/^kind:test failed after \d+s\.$/);
  });

  it('stops at a failing command, printing its error, the hint and the diagnostics', async () => {
    writeFileSync(path.join(dir, 'bin', 'kubectl'), '#!/bin/sh\necho "Unable to connect to the server" >&2\nexit 1\n');
    expect(await runPlan(planTest(planOptions('kubectl')), PROJECT_ROOT, write)).toBe(false);
    expect(output).toContain('Step 2 failed: kubectl exited with code 1');
    expect(output.filter((line) => line.startsWith('==> '))).toEqual(['==> [1/24] Check the programs on PATH: kubectl', '==> [2/24] Read the node address of dir-example']);
    expect(output.filter((line) => line.startsWith('(cannot list the pods of'))).toEqual([
      '(cannot list the pods of dir-example: kubectl exited with code 1: Unable to connect to the server)',
      '(cannot list the pods of dirctl-example: kubectl exited with code 1: Unable to connect to the server)',
    ]);
  });

  it('names a missing program and how to install it before running anything', async () => {
    rmSync(path.join(dir, 'bin', 'kubectl'));
    process.env.PATH = path.join(dir, 'bin');
    expect(await runPlan(planTest(planOptions('kubectl')), PROJECT_ROOT, write)).toBe(false);
    expect(output).toContain('Step 1 failed: not on PATH: kubectl\n  - kubectl: install kubectl 1.35, 1.36 or 1.37 (https://kubernetes.io/docs/tasks/tools/)');
    expect(existsSync(process.env.FAKE_LOG!)).toBe(false);
  });
});
