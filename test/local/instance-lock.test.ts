/** One local mode per state folder: the lock, its takeover when stale, and never signalling a stranger. */
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AlreadyRunningError, InstanceLock, type LockRecord, readLock } from '../../local/instance-lock';
import { commandLineOf, isAlive } from '../../local/recorded-processes';
import type { ProcessRecord } from '../../spire/process/supervised-process';

let dir: string;
const children: ChildProcess[] = [];

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'dirtk-lock-'));
});
afterAll(() => {
  for (const child of children) child.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

/** A pid that no process has any more. */
async function deadPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', '']);
  await once(child, 'exit');
  return child.pid!;
}

/** A long-running process that is not a child we would reap: the test checks that it is stopped. */
async function sleeper(): Promise<ProcessRecord> {
  const child = spawn('sleep', ['60'], { stdio: 'ignore' });
  children.push(child);
  await once(child, 'spawn');
  return { name: 'sleeper', pid: child.pid!, commandLine: commandLineOf(child.pid!)!, logFile: '/dev/null' };
}

function staleLock(file: string, processes: readonly ProcessRecord[], pid: number): void {
  const record: LockRecord = { pid, commandLine: 'node local/main.ts', startedAt: '2026-01-01T00:00:00.000Z', processes };
  writeFileSync(file, JSON.stringify(record));
}

describe('InstanceLock', () => {
  it('records the holder and its processes, refuses a second holder with the pid and how to stop it, and is released', async () => {
    const file = path.join(dir, 'held', 'local.lock');
    const lock = await InstanceLock.acquire(file);
    expect(readLock(file)).toMatchObject({ pid: process.pid, commandLine: commandLineOf(process.pid), processes: [] });

    const second = InstanceLock.acquire(file);
    await expect(second).rejects.toThrow(AlreadyRunningError);
    await expect(second).rejects.toThrow(new RegExp(`already running in ${path.dirname(file)} \\(pid ${process.pid}, started .*\\); stop it with \`npm run local:down\``));

    const record = { name: 'spire-server', pid: 1234, commandLine: 'spire-server run', logFile: '/x/server.log' };
    lock.update([record]);
    expect(readLock(file)?.processes).toEqual([record]);
    lock.release();
    expect(existsSync(file)).toBe(false);
    lock.update([record]);
    expect(existsSync(file)).toBe(false);
  });

  it('takes over a lock whose holder is gone, stopping the processes it left running', async () => {
    const file = path.join(dir, 'stale', 'local.lock');
    await InstanceLock.acquire(file).then((lock) => lock.release());
    const leftover = await sleeper();
    const holder = await deadPid();
    staleLock(file, [leftover], holder);

    const takeovers: Array<{ stale: LockRecord; stopped: readonly ProcessRecord[] }> = [];
    const lock = await InstanceLock.acquire(file, (stale, stopped) => takeovers.push({ stale, stopped }));
    expect(takeovers).toEqual([{ stale: expect.objectContaining({ pid: holder }), stopped: [leftover] }]);
    expect(isAlive(leftover.pid)).toBe(false);
    expect(readLock(file)?.pid).toBe(process.pid);
    lock.release();
  });

  it('treats a live pid with another command line as stale: the pid was reused, by a process it must not signal', async () => {
    const file = path.join(dir, 'reused', 'local.lock');
    await InstanceLock.acquire(file).then((lock) => lock.release());
    const stranger = await sleeper();
    staleLock(file, [{ ...stranger, commandLine: 'spire-server run -config /elsewhere' }], stranger.pid);

    const stopped: ProcessRecord[][] = [];
    const lock = await InstanceLock.acquire(file, (_stale, processes) => stopped.push([...processes]));
    expect(stopped).toEqual([[]]);
    expect(isAlive(stranger.pid)).toBe(true);
    lock.release();
  });
});
