/**
 * How dirctl fails: each kind of failure has its exit code, and is reported on stderr as one
 * `error: ...` line, or as one JSON object with `--json`.
 */
import { type ServiceError, status as Status } from '@grpc/grpc-js';
import { EXIT_FAILED, EXIT_GRPC_BASE, EXIT_SETUP, EXIT_USAGE } from '@dirtk/directory-api/contract';
import { statusName } from '@dirtk/directory-api/grpc';

/** The command line (or an input file it names) cannot run as given. */
export class UsageError extends Error {
  /** `command` is the command whose help to point to, e.g. "referrers push"; undefined for the top level. */
  constructor(message: string, readonly command?: string) {
    super(message);
    this.name = 'UsageError';
  }
}

/** No identity from the Workload API, or no trustworthy connection to the server. */
export class SetupError extends Error {
  override name = 'SetupError';
}

/** The call succeeded, but the server said `success: false` in its response. */
export class ServerReportedError extends Error {
  override name = 'ServerReportedError';
}

export interface Failure {
  readonly exitCode: number;
  readonly message: string;
  /** gRPC failures only. */
  readonly status?: string;
  readonly code?: number;
  /** Where to read about the right usage, for usage errors. */
  readonly hint?: string;
}

export function isServiceError(error: unknown): error is ServiceError {
  const candidate = error as Partial<ServiceError> | null;
  return error instanceof Error && typeof candidate?.code === 'number' && candidate.code in Status && typeof candidate.details === 'string';
}

export function describeFailure(error: unknown): Failure {
  if (error instanceof UsageError) {
    return { exitCode: EXIT_USAGE, message: error.message, hint: `Run 'dirctl ${error.command ? `${error.command} ` : ''}--help' for usage.` };
  }
  if (error instanceof SetupError) return { exitCode: EXIT_SETUP, message: error.message };
  if (isServiceError(error)) {
    return { exitCode: EXIT_GRPC_BASE + error.code, message: error.details, status: statusName(error.code), code: error.code };
  }
  if (error instanceof ServerReportedError) return { exitCode: EXIT_FAILED, message: error.message };
  const detail = error instanceof Error ? (error.stack ?? error.message) : String(error);
  return { exitCode: EXIT_FAILED, message: `unexpected failure (a dirctl bug): ${detail}` };
}

/** The stderr text of a failure: `error: <STATUS>: <details>` for gRPC failures. */
export function formatFailure(failure: Failure, json: boolean): string {
  if (json) {
    // undefined members (status and code of non-gRPC failures) are left out.
    return `${JSON.stringify({ exit_code: failure.exitCode, message: failure.message, status: failure.status, code: failure.code })}\n`;
  }
  const status = failure.status ? `${failure.status}: ` : '';
  return `error: ${status}${failure.message}\n${failure.hint ? `${failure.hint}\n` : ''}`;
}
