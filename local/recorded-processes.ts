/**
 * Processes known only by a record (pid and command line) another process wrote: whether they still
 * run, and stopping them without ever signalling an unrelated process that reused the pid.
 */
import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import type { ProcessRecord } from '../spire/process/supervised-process';

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** The command line of a running process as `ps` shows it, or undefined when there is no such process. */
export function commandLineOf(pid: number): string | undefined {
  try {
    return execFileSync('ps', ['-ww', '-o', 'args=', '-p', String(pid)], { encoding: 'utf8' }).trim();
  } catch {
    return undefined;
  }
}

/** Whether `record`'s process still runs with the command line it was recorded with. */
export function stillRunning(record: Pick<ProcessRecord, 'pid' | 'commandLine'>): boolean {
  return isAlive(record.pid) && commandLineOf(record.pid) === record.commandLine;
}

/** SIGTERM to each recorded process still running, SIGKILL to any left after `graceMs`; returns those signalled. */
export async function stopRecordedProcesses(records: readonly ProcessRecord[], graceMs = 5_000): Promise<ProcessRecord[]> {
  const running = records.filter(stillRunning);
  for (const record of running) signal(record.pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (running.some((record) => isAlive(record.pid)) && Date.now() < deadline) await sleep(100);
  for (const record of running.filter(stillRunning)) signal(record.pid, 'SIGKILL');
  return running;
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name);
  } catch {
    // It exited in between.
  }
}
