/**
 * A long-running child process (a SPIRE server or agent) whose output goes to a log file, which can be
 * waited on until healthy, stopped gracefully or killed, and which never outlives this Node process.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/** Kills every child still running when this process exits, or is told to by a signal. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  const killAll = () => {
    for (const child of live) child.kill('SIGKILL');
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
  }): Promise<SupervisedProcess> {
    installExitHook();
    const log = openSync(spec.logFile, 'a');
    let child: ChildProcess;
    try {
      child = spawn(spec.command, spec.args, { stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    live.add(child);
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
