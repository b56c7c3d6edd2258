import { spawn } from 'node:child_process';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { openStore, type Store } from '../src/store/store';
import { crashRecord } from './fixtures/crash-records';
import { useTempDirs } from './store-helpers';

const PUSH_LOOP = path.join(__dirname, 'fixtures', 'push-loop.ts');
const REPO_ROOT = path.resolve(__dirname, '../..');

const newDir = useTempDirs();

interface LoopRun {
  /** Index → CID of every push the loop acknowledged. */
  readonly acknowledged: Map<number, string>;
  readonly signal: NodeJS.Signals | null;
  readonly stderr: string;
}

/**
 * Runs the push loop from index `start`; SIGKILLs it once it has acknowledged `killAfter` pushes.
 * `fileSizeLimitKiB` runs it under `ulimit -f`, so the first write that would grow a file past
 * the limit fails part-way through with EFBIG.
 */
function runPushLoop(root: string, start: number, options: { killAfter?: number; fileSizeLimitKiB?: number }): Promise<LoopRun> {
  const node = [process.execPath, '--import', 'tsx', PUSH_LOOP, root, String(start)];
  const [command, ...args] =
    options.fileSizeLimitKiB === undefined ? node : ['bash', '-c', `ulimit -f ${options.fileSizeLimitKiB} && exec "$@"`, 'bash', ...node];
  return new Promise((resolve, reject) => {
    const child = spawn(command as string, args, { cwd: REPO_ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    const acknowledged = new Map<number, string>();
    let pending = '';
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.stdout.on('data', (chunk: Buffer) => {
      const lines = (pending + chunk.toString()).split('\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        const [index, cid] = line.split(' ');
        acknowledged.set(Number(index), cid as string);
      }
      if (options.killAfter !== undefined && acknowledged.size >= options.killAfter) child.kill('SIGKILL');
    });
    child.on('error', reject);
    child.on('close', (_code, signal) => resolve({ acknowledged, signal, stderr }));
  });
}

/** Every acknowledged record is there, whole, with its referrer; every record file on disk is whole. Returns the file count. */
async function expectIntact(store: Store, acknowledged: Map<number, string>): Promise<number> {
  for (const [index, cid] of acknowledged) {
    expect(await store.records.get(cid)).toEqual(crashRecord(index));
    expect((await store.records.referrers(cid)).map((r) => r.data)).toEqual([{ index }]);
  }
  const files = await readdir(path.join(store.root, 'records'));
  expect(files.filter((name) => name.startsWith('.tmp-'))).toEqual([]);
  // get re-hashes each file against its name, so a partial file fails here.
  for (const cid of files) await expect(store.records.get(cid)).resolves.toBeDefined();
  return files.length;
}

describe('store crash safety', () => {
  it('after kill -9 during pushes, every acknowledged record is complete and restart keeps them', async () => {
    const root = await newDir();
    const acknowledged = new Map<number, string>();
    let next = 0;
    for (const [round, killAfter] of [12, 20, 28].entries()) {
      const run = await runPushLoop(root, next, { killAfter });
      expect(run.signal, run.stderr).toBe('SIGKILL');
      expect(run.acknowledged.size).toBeGreaterThanOrEqual(killAfter);
      for (const [index, cid] of run.acknowledged) acknowledged.set(index, cid);
      next = Math.max(...run.acknowledged.keys()) + 1;

      const files = await expectIntact(await openStore(root), acknowledged);
      // At most one push per kill was complete on disk but not yet acknowledged.
      expect(files - acknowledged.size).toBeLessThanOrEqual(round + 1);
    }
  }, 120_000);

  it('a write that fails part-way (file size limit) leaves no partial record, and the store stays usable', async () => {
    const root = await newDir();
    // Payloads grow 128, 192, 256, 320 KiB: the fourth record cannot be written whole under a 300 KiB limit.
    const run = await runPushLoop(root, 0, { fileSizeLimitKiB: 300 });
    expect(run.stderr).toContain('EFBIG');
    expect([...run.acknowledged.keys()]).toEqual([0, 1, 2]);

    const store = await openStore(root);
    expect(await expectIntact(store, run.acknowledged)).toBe(3);
    const cid = await store.records.put(crashRecord(3));
    expect(await store.records.get(cid)).toEqual(crashRecord(3));
  });
});
