/**
 * A long-running child process (a SPIRE server or agent, the apiserver) whose output goes to a log file, which can be
 * waited on until healthy, stopped gracefully or killed, and which never outlives this Node process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/** A running supervised process, as recorded for tools that must find it from another process. */
export interface ProcessRecord {
  readonly name: string;
  readonly pid: number;
  /** The command line, to tell it from an unrelated process that got the same pid later. */
  readonly commandLine: string;
  readonly logFile: string;
}

const live = new Map<ChildProcess, ProcessRecord | undefined>();
const watchers = new Set<(processes: readonly ProcessRecord[]) => void>();
let exitHookInstalled = false;

/** Calls `watcher` with every running supervised process of this Node process now, and whenever one starts or exits. */
export function watchSupervisedProcesses(watcher: (processes: readonly ProcessRecord[]) => void): () => void {
  watchers.add(watcher);
  watcher(liveRecords());
  return () => watchers.delete(watcher);
}

function liveRecords(): ProcessRecord[] {
  return [...live.values()].filter((record): record is ProcessRecord => record !== undefined);
}

function liveChanged(): void {
  const records = liveRecords();
  for (const watcher of watchers) watcher(records);
}

/** Kills every child still running when this process exits, or is told to by a signal. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live.keys()) child.kill('SIGKILL');
  };
  process.once('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(signal, () => {
      killAll();
      // With no other listener, keep the signal's default outcome: terminate.
      if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
    });
  }
}

export interface ProcessExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  /** Why the process could not be started at all. */
  readonly error?: string;
}

export class SupervisedProcess {
  /** Settles when the process has exited. */
  private readonly exited: Promise<ProcessExit>;
  private exit: ProcessExit | undefined;

  private constructor(
    private readonly name: string,
    readonly logFile: string,
    private readonly child: ChildProcess,
  ) {
    this.exited = new Promise((resolve) => {
      const settle = (exit: ProcessExit) => {
        if (this.exit) return;
        live.delete(child);
        this.exit = exit;
        resolve(exit);
        liveChanged();
      };
      child.once('exit', (code, signal) => settle({ code, signal }));
      // A binary that cannot be started emits 'error' and possibly no 'exit'.
      child.once('error', (error) => settle({ code: null, signal: null, error: error.message }));
    });
  }

  /**
   * Starts `command args…` with stdout and stderr appended to `logFile`, and waits until `healthy()`
   * returns true. If the process exits first or the timeout passes, it is killed and the error quotes
   * the end of its log.
   */
  static async start(spec: {
    readonly name: string;
    readonly command: string;
    readonly args: readonly string[];
    readonly logFile: string;
    readonly healthy: () => Promise<boolean>;
    readonly readyTimeoutMs: number;
    /** @default this process's environment */
    readonly env?: NodeJS.ProcessEnv;
    /** @default this process's working directory */
    readonly cwd?: string;
  }): Promise<SupervisedProcess> {
    installExitHook();
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { stdio: ['ignore', log, log], ...(spec.env && { env: spec.env }), ...(spec.cwd && { cwd: spec.cwd }) });
    } finally {
      closeSync(log);
    }
    live.set(child, child.pid === undefined ? undefined : {
      name: spec.name,
      pid: child.pid,
      commandLine: [spec.command, ...spec.args].join(' '),
      logFile: spec.logFile,
    });
    liveChanged();
    const supervised = new SupervisedProcess(spec.name, spec.logFile, child);
    try {
      await supervised.waitUntilHealthy(spec.healthy, spec.readyTimeoutMs);
    } catch (error) {
      await supervised.kill();
      throw error;
    }
    return supervised;
  }

  get running(): boolean {
    return this.exit === undefined;
  }

  get pid(): number | undefined {
    return this.child.pid;
  }

  private async waitUntilHealthy(healthy: () => Promise<boolean>, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (!this.running) {
        throw new Error(`${this.name} exited (${describeExit(this.exit)}) before it became healthy; last log lines of ${this.logFile}:\n${this.logTail()}`);
      }
      if (await healthy()) return;
      await sleep(200);
    }
    throw new Error(`${this.name} was not healthy within ${timeoutMs} ms; last log lines of ${this.logFile}:\n${this.logTail()}`);
  }

  /** SIGTERM, then SIGKILL if the process has not exited after `graceMs`. */
  async stop(graceMs = 5_000): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const timer = setTimeout(() => this.child.kill('SIGKILL'), graceMs);
    await this.exited;
    clearTimeout(timer);
  }

  async kill(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  private logTail(lines = 20): string {
    try {
      return readFileSync(this.logFile, 'utf8').trimEnd().split('\n').slice(-lines).join('\n');
    } catch {
      return '(no log)';
    }
  }
}

function describeExit(exit: ProcessExit | undefined): string {
  if (!exit) return 'running';
  if (exit.error) return `could not start: ${exit.error}`;
  return exit.signal ? `signal ${exit.signal}` : `exit code ${exit.code}`;
}
