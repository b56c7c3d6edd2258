/**
 * Keeps one Workload API server stream subscribed for as long as the caller wants it: every valid
 * message is a complete new state, malformed ones are reported and dropped, and the stream is opened
 * again after it ends or fails, except after errors that retrying cannot fix.
 */
import { type ClientReadableStream, type StatusObject, status as Status } from '@grpc/grpc-js';
import { type BackoffOptions, LinearBackoff } from './backoff';
import { WorkloadApiError, WorkloadResponseError } from './errors';

export interface StreamWatcher<T> {
  /**
   * A complete new state; it replaces the previous one. `withdrawn` marks the empty state that follows
   * PermissionDenied, as opposed to one the endpoint sent.
   */
  onUpdate(state: T, withdrawn: boolean): void;
  /** A failed stream (`WorkloadApiError`) or a discarded message (`WorkloadResponseError`). */
  onError(error: WorkloadApiError | WorkloadResponseError): void;
}

export interface Subscription {
  /** Stops the stream for good; no callback runs afterwards. */
  cancel(): void;
}

export interface StreamSpec<Raw, T> {
  readonly rpc: string;
  readonly open: () => ClientReadableStream<Raw>;
  /** Converts a message into a state, throwing `WorkloadResponseError` when the message is unusable. */
  readonly parse: (raw: Raw) => T;
  /** The state after PermissionDenied: the workload is entitled to nothing. */
  readonly empty: () => T;
  readonly backoff: BackoffOptions;
}

/** Errors that retrying cannot fix: a malformed request, or an endpoint that lacks the call. */
const FATAL = new Set<Status>([Status.INVALID_ARGUMENT, Status.UNIMPLEMENTED]);

export function watchStream<Raw, T>(spec: StreamSpec<Raw, T>, watcher: StreamWatcher<T>): Subscription {
  const backoff = new LinearBackoff(spec.backoff);
  let call: ClientReadableStream<Raw> | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let stopped = false;

  const subscribe = () => {
    retryTimer = undefined;
    const current = spec.open();
    call = current;
    current.on('data', (raw: Raw) => {
      if (stopped) return;
      let state: T;
      try {
        state = spec.parse(raw);
      } catch (error) {
        watcher.onError(
          error instanceof WorkloadResponseError ? error : new WorkloadResponseError(spec.rpc, (error as Error).message, { cause: error }),
        );
        return;
      }
      backoff.reset();
      watcher.onUpdate(state, false);
    });
    // Every outcome, including a clean end, arrives as 'status'; 'error' repeats the failures.
    current.on('error', () => {});
    current.on('status', (status: StatusObject) => {
      if (call !== current) return;
      call = undefined;
      if (!stopped) ended(status);
    });
  };

  const ended = (status: StatusObject) => {
    const fatal = FATAL.has(status.code);
    if (fatal) stopped = true;
    if (status.code !== Status.OK) watcher.onError(new WorkloadApiError(spec.rpc, status.code, status.details, !fatal));
    if (status.code === Status.PERMISSION_DENIED && !stopped) watcher.onUpdate(spec.empty(), true);
    if (!stopped) retryTimer = setTimeout(subscribe, backoff.next());
  };

  subscribe();
  return {
    cancel() {
      stopped = true;
      clearTimeout(retryTimer);
      retryTimer = undefined;
      call?.cancel();
    },
  };
}
