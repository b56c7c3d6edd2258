/**
 * The real two-cluster run: `kind:up`, `kind:test`, `kind:down`, each as the npm script runs it. Needs a
 * Docker engine; without one (`docker info` fails) the suite is skipped and says why. It is also skipped
 * when kind or kubectl is missing, and when clusters of its names exist: it never deletes clusters it did
 * not create.
 */
import { spawn, spawnSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findOnPath } from '../../scripts/kind/tools';
import { PROJECT_ROOT } from '../../spire/install';

const CLUSTERS = ['dir-example', 'dirctl-example'];

function whyNotRun(): string | undefined {
  const info = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 30_000 });
  if (info.error) return `docker info could not run (${info.error.message})`;
  if (info.status !== 0) return `docker info failed: ${(info.stderr || info.stdout).trim().split('\n').at(-1)}`;
  const missing = ['kind', 'kubectl'].filter((program) => findOnPath(program) === undefined);
  if (missing.length > 0) return `not on PATH: ${missing.join(', ')}`;
  const existing = spawnSync('kind', ['get', 'clusters'], { encoding: 'utf8', timeout: 30_000 }).stdout.split('\n').filter((name) => CLUSTERS.includes(name));
  if (existing.length > 0) return `Kind clusters ${existing.join(', ')} already exist; run npm run kind:down to let this suite make its own`;
  return undefined;
}

const skipReason = whyNotRun();
if (skipReason) console.warn(`Skipping the two-Kind-cluster run: ${skipReason}`);

/** Runs `scripts/kind/main.ts <command>`, its output passed through; resolves with its exit code and output. */
function kindScript(command: 'up' | 'test' | 'down'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['scripts/kind/main.ts', command], {
      cwd: PROJECT_ROOT,
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      process.stdout.write(chunk);
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, output }));
  });
}

const MINUTE = 60_000;

describe.skipIf(skipReason !== undefined)(`two Kind clusters${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  afterAll(async () => {
    expect((await kindScript('down')).code).toBe(0);
  }, 10 * MINUTE);

  it('come up with both trust domains deployed and federated', async () => {
    const up = await kindScript('up');
    expect(up.code, up.output.split('\n').slice(-40).join('\n')).toBe(0);
  }, 45 * MINUTE);

  it('give every cross-domain call the outcome the matrix expects', async () => {
    const test = await kindScript('test');
    expect(test.code, test.output.split('\n').slice(-60).join('\n')).toBe(0);
    const rows = test.output.split('\n').filter((line) => /^(dir|dirctl)\.example +dir\.example /.test(line));
    expect(rows).toHaveLength(10);
    expect(rows.every((row) => row.endsWith(' ok'))).toBe(true);
  }, 15 * MINUTE);
});
