/**
 * Progress lines with elapsed seconds, and running programs with their output kept for the error. The
 * Docker engine and the image builds take minutes on two cores, so every long step says what it does,
 * keeps saying it while it runs, and says how long it took.
 */
import type { Options } from 'execa';

export type Log = (line: string) => void;

/** Seconds since `started` (a `Date.now()` value), rounded. */
export function elapsed(started: number, now = Date.now()): number {
  return Math.round((now - started) / 1000);
}

/** How often a running step repeats its line, in ms. */
export const HEARTBEAT_MS = 60_000;

/**
 * Runs `work`, logging `<prefix> <what> ...` at the start, `<what> ... <n> s` every minute while it
 * runs and `<what>: done in <n> s` (or `failed after <n> s`) at the end.
 */
export async function timed<T>(log: Log, prefix: string, what: string, work: () => Promise<T>): Promise<T> {
  const started = Date.now();
  log(`${prefix} ${what} ...`);
  const heartbeat = setInterval(() => log(`${prefix} ${what} ... ${elapsed(started)} s`), HEARTBEAT_MS);
  heartbeat.unref();
  try {
    const result = await work();
    log(`${prefix} ${what}: done in ${elapsed(started)} s`);
    return result;
  } catch (error) {
    log(`${prefix} ${what}: failed after ${elapsed(started)} s`);
    throw error;
  } finally {
    clearInterval(heartbeat);
  }
}

export class CommandError extends Error {
  override name = 'CommandError';
}

export interface RunOptions {
  readonly cwd?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Replace the environment instead of extending it. */
  readonly extendEnv?: boolean;
  readonly input?: string | Buffer;
  readonly inputFile?: string;
  /** Return a failed result instead of throwing. */
  readonly allowFailure?: boolean;
  readonly timeoutMs?: number;
}

export interface RunResult {
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
  readonly failed: boolean;
}

/** The last `lines` lines of `text`. */
export function tail(text: string, lines = 40): string {
  const all = text.trimEnd().split('\n');
  return all.slice(-lines).join('\n');
}

/** Runs `file args`, throwing a CommandError with the command line and the tail of its output when it fails. */
export async function run(file: string, args: readonly string[], options: RunOptions = {}): Promise<RunResult> {
  // execa is an ES module; this project is CommonJS, so it is imported on first use.
  const { execa } = await import('execa');
  const execaOptions: Options = {
    cwd: options.cwd,
    env: options.env as Record<string, string | undefined> | undefined,
    extendEnv: options.extendEnv ?? true,
    reject: false,
    stripFinalNewline: true,
    ...(options.input !== undefined && { input: options.input }),
    ...(options.inputFile !== undefined && { inputFile: options.inputFile }),
    ...(options.timeoutMs !== undefined && { timeout: options.timeoutMs }),
    maxBuffer: 256 * 1024 * 1024,
  };
  const result = await execa(file, [...args], execaOptions);
  const outcome: RunResult = {
    exitCode: result.exitCode ?? -1,
    stdout: String(result.stdout ?? ''),
    stderr: String(result.stderr ?? ''),
    failed: result.failed,
  };
  if (outcome.failed && !options.allowFailure) {
    const output = tail([outcome.stdout, outcome.stderr].filter(Boolean).join('\n'));
    const why = result.timedOut ? `timed out after ${options.timeoutMs} ms` : `exit code ${outcome.exitCode}`;
    throw new CommandError(`${[file, ...args].join(' ')} failed (${why})${output ? `:\n${output}` : ''}`);
  }
  return outcome;
}
