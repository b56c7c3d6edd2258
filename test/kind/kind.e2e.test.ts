/**
 * The real two-cluster run (`npm run test:kind`, not part of `npm test`): `kind:up`, `kind:test` and
 * `kind:down` with `--local-images`, as on a machine without registry access: every image, kind and
 * kubectl are built here (cached outside the clone; the first build takes long), the Docker engine is
 * started when none answers, and stopped again by `kind:down`. Skipped, saying why, where no engine
 * answers and none can be started (not root).
 */
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { EngineError, ensureDockerEngine } from '../../kind/engine/engine';
import { PROJECT_ROOT } from '../../tools/paths';

function whyNotRun(): string | undefined {
  const info = spawnSync('docker', ['info'], { encoding: 'utf8', timeout: 30_000 });
  if (!info.error && info.status === 0) return undefined;
  if (process.getuid?.() === 0) return undefined;
  return 'no Docker engine answers and only root can start one (kind:up --local-images starts it as root)';
}

let skipReason = whyNotRun();

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

/** Runs `kind/main.ts <command>`, its output passed through; resolves with its exit code and output. */
function kindScript(command: 'up' | 'test' | 'down'): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['kind/main.ts', command, '--local-images'], {
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

/**
 * Datagrams the host has routed from one interface to another (`Ip: ForwDatagrams`). Traffic between the
 * Kind nodes is bridged on their Docker network and traffic to the host is delivered locally, so neither
 * counts; a packet leaving a cluster for anywhere else would have to be forwarded, and would.
 */
function forwardedDatagrams(): number {
  const lines = readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((line) => line.startsWith('Ip:'));
  const [names, values] = lines.map((line) => line.split(/\s+/).slice(1));
  return Number(values![names!.indexOf('ForwDatagrams')]);
}

describe('two Kind clusters', () => {
  const forwardedBefore = forwardedDatagrams();

  // An engine that cannot start here (e.g. a sandbox without the kernel features dockerd needs) is a reason
  // to skip, said out loud; anything failing after that is a failure.
  beforeAll(async () => {
    if (!skipReason) {
      try {
        await ensureDockerEngine({ log: (line) => console.log(line) });
      } catch (error) {
        if (!(error instanceof EngineError)) throw error;
        skipReason = `the Docker engine cannot start here: ${error.message}`;
      }
    }
    if (skipReason) {
      console.warn(`SKIPPING the two-Kind-cluster run: ${skipReason}`);
      return;
    }
    // Start from nothing: clusters an interrupted run left behind would make kind:up fail.
    await kindScript('down');
  }, 10 * MINUTE);

  afterAll(async () => {
    if (!skipReason) expect((await kindScript('down')).code).toBe(0);
  }, 10 * MINUTE);

  it('come up with both trust domains deployed and federated', async (context) => {
    skipIfUnavailable(context);
    const up = await kindScript('up');
    expect(up.code, up.output.split('\n').slice(-40).join('\n')).toBe(0);
  }, 150 * MINUTE);

  it('give every cross-domain call the outcome the matrix expects', async (context) => {
    skipIfUnavailable(context);
    const test = await kindScript('test');
    expect(test.code, test.output.split('\n').slice(-60).join('\n')).toBe(0);
    const allRows = test.output.split('\n').filter((line) => /^(dir|dirctl)\.example +(dir|dirctl)\.example /.test(line));
    expect(allRows.every((row) => row.endsWith(' ok'))).toBe(true);
    // The sync proof: dirctl.example's Directory synced the record dir.example's dirctl pushed (COMPLETED) and serves it under the same CID.
    const syncRows = allRows.filter((row) => / (push-for-sync|sync-from-dir-example|pull-synced) /.test(row)).map((row) => row.split(/ {2,}/).slice(0, 4));
    expect(syncRows).toEqual([
      ['dir.example', 'dir.example', 'push-for-sync', 'allowed (exit 0)'],
      ['dirctl.example', 'dirctl.example', 'sync-from-dir-example', 'allowed (exit 0)'],
      ['dirctl.example', 'dirctl.example', 'pull-synced', 'allowed (exit 0)'],
    ]);
    // Per apiserver (both domains run one): 5 calls of its own domain, 5 of the federated one, 2 of the image tie.
    const rows = allRows.filter((row) => !/ (push-for-sync|sync-from-dir-example|pull-synced) /.test(row));
    expect(rows).toHaveLength(24);
    // Each apiserver's identity is tied to its image: the same call from another image under its service account gets no SVID.
    expect(rows.filter((row) => / (genuine|impostor)-image /.test(row)).map((row) => row.split(/ {2,}/).slice(1, 4))).toEqual([
      ['dir.example', 'genuine-image', 'allowed (exit 0)'],
      ['dir.example', 'impostor-image', 'no SVID or no connection (exit 3)'],
      ['dirctl.example', 'genuine-image', 'allowed (exit 0)'],
      ['dirctl.example', 'impostor-image', 'no SVID or no connection (exit 3)'],
    ]);
  }, 15 * MINUTE);

  it('kept every packet on the machine: the host forwarded none and does not forward', (context) => {
    skipIfUnavailable(context);
    expect(readFileSync('/proc/sys/net/ipv4/ip_forward', 'utf8').trim()).toBe('0');
    expect(forwardedDatagrams()).toBe(forwardedBefore);
  });
});
