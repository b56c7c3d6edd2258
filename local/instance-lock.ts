/**
 * The lock of a local-mode state folder: at most one running instance per folder. The lock file names
 * the instance's pid and every process it started, so that `npm run local:down` can stop them, and so
 * that a later start can clean up after an instance that died without doing so (a stale lock).
 */
import { linkSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { commandLineOf, stillRunning, stopRecordedProcesses } from './recorded-processes';
import type { ProcessRecord } from '../spire/process/supervised-process';

export interface LockRecord {
  readonly pid: number;
  /** The holder's command line, to tell it from a process that got the same pid later (after a reboot). */
  readonly commandLine: string;
  readonly startedAt: string;
  /** The processes the instance started that still run, as of the last change. */
  readonly processes: readonly ProcessRecord[];
}

export class AlreadyRunningError extends Error {
  constructor(readonly holder: LockRecord, stateDir: string) {
    super(
      `dirtk local mode is already running in ${stateDir} (pid ${holder.pid}, started ${holder.startedAt}); ` +
        'stop it with `npm run local:down` or Ctrl-C in its terminal, then start again',
    );
    this.name = 'AlreadyRunningError';
  }
}

export function readLock(file: string): LockRecord | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
  try {
    return JSON.parse(text) as LockRecord;
  } catch {
    throw new Error(`the lock file ${file} is not JSON; if no local mode runs, delete it`);
  }
}

export class InstanceLock {
  private released = false;

  private constructor(
    readonly file: string,
    private readonly record: Omit<LockRecord, 'processes'>,
  ) {}

  /**
   * Takes the lock for this process. A lock held by a live process is refused with `AlreadyRunningError`;
   * a stale one is taken over after stopping the processes it lists. `onStale` is told about a takeover.
   */
  static async acquire(file: string, onStale: (stale: LockRecord, stopped: readonly ProcessRecord[]) => void = () => {}): Promise<InstanceLock> {
    mkdirSync(path.dirname(file), { recursive: true });
    const record = { pid: process.pid, commandLine: commandLineOf(process.pid) ?? process.argv.join(' '), startedAt: new Date().toISOString() };
    const lock = new InstanceLock(file, record);
    // One takeover at most: if another instance wins the race for a stale lock, its lock is live.
    for (let attempt = 0; attempt < 2; attempt += 1) {
      const temporary = lock.writeTemporary([]);
      try {
        linkSync(temporary, file);
        return lock;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      } finally {
        rmSync(temporary, { force: true });
      }
      const holder = readLock(file);
      if (holder && stillRunning(holder)) throw new AlreadyRunningError(holder, path.dirname(file));
      if (holder) onStale(holder, await stopRecordedProcesses(holder.processes ?? []));
      rmSync(file, { force: true });
    }
    const holder = readLock(file);
    throw holder ? new AlreadyRunningError(holder, path.dirname(file)) : new Error(`could not take the lock ${file}`);
  }

  /** Records the processes the instance runs now. */
  update(processes: readonly ProcessRecord[]): void {
    if (!this.released) renameSync(this.writeTemporary(processes), this.file);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    const holder = readLock(this.file);
    if (holder?.pid === this.record.pid) rmSync(this.file, { force: true });
  }

  /** Writes the record to a temporary file next to the lock, to be moved or linked into place whole. */
  private writeTemporary(processes: readonly ProcessRecord[]): string {
    const temporary = `${this.file}.${process.pid}.tmp`;
    writeFileSync(temporary, `${JSON.stringify({ ...this.record, processes }, null, 2)}\n`);
    return temporary;
  }
}
