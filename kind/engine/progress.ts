/**
 * Running programs with their output kept for the error, and the progress lines (tools/progress.ts) the
 * engine and the image builds print.
 */
import type { Options } from 'execa';

export { elapsed, HEARTBEAT_MS, timed, type Log } from '../../tools/progress';

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
