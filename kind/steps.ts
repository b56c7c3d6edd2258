/**
 * A plan is data: an ordered list of steps that `--dry-run` prints and `run.ts` executes. Commands are
 * argv arrays, never shell strings; the only values learned while running (node addresses, pod states)
 * pass from a step's captured output to later tasks, never into a later command line.
 */
import type { ClusterAccess } from './commands';

interface StepBase {
  readonly title: string;
  /** What to check or do when the step fails. */
  readonly hint?: string;
}

/** Runs `argv` in the project root with `env` added to the environment. */
export interface CommandStep extends StepBase {
  readonly kind: 'command';
  readonly argv: readonly string[];
  readonly env?: Readonly<Record<string, string>>;
  readonly timeoutSeconds: number;
  /** Keep the trimmed stdout under this name for later tasks (the output is then not shown). */
  readonly capture?: string;
}

/** Runs `argv` every `everySeconds` until `check` says done, showing each new status; fails after `timeoutSeconds`. */
export interface PollStep extends StepBase {
  readonly kind: 'poll';
  readonly argv: readonly string[];
  readonly everySeconds: number;
  readonly timeoutSeconds: number;
  /** What "done" means, for the dry run. */
  readonly until: string;
  readonly check: (stdout: string) => { readonly done: boolean; readonly status: string };
  /** The last output is kept under this name. */
  readonly capture: string;
}

/** In-process work: writing generated files, or judging captured output. */
export interface TaskStep extends StepBase {
  readonly kind: 'task';
  /** What it does, one line each (e.g. "writes <file>"), for the dry run. */
  readonly effects: readonly string[];
  readonly run: (context: TaskContext) => void | Promise<void>;
}

export type Step = CommandStep | PollStep | TaskStep;

export interface TaskContext {
  /** The output a previous step captured under `name`. */
  captured(name: string): string;
  log(line: string): void;
}

export interface Plan {
  readonly name: 'up' | 'test' | 'down';
  /** Lines printed before the steps: the choices the plan was made with. */
  readonly preamble: readonly string[];
  readonly steps: readonly Step[];
  /** Clusters whose failed pods are listed, with their logs and warning events, when a step fails. */
  readonly diagnose: readonly ClusterAccess[];
  /** Printed after the last step succeeded. */
  readonly epilogue: readonly string[];
}

/** A failure whose message is the whole story (e.g. the verification table); the runner prints no stack. */
export class PlanFailure extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PlanFailure';
  }
}
