import { WorkloadApiError, type WorkloadResponseError } from './errors';
import type { StreamWatcher, Subscription } from './stream';

export interface ReadyOptions {
  /** What the first valid state brings, for the timeout message, e.g. "X.509-SVID". */
  readonly what: string;
  /** The endpoint address, for the timeout message. */
  readonly address: string;
  /** How long to wait; `Infinity` waits as long as it takes. */
  readonly timeoutMs: number;
}

/**
 * Subscribes `watcher` and resolves once the endpoint has sent a first valid state. Rejects, with the
 * subscription cancelled, on an error that will not be retried or after the timeout.
 */
export function subscribeUntilReady<T>(
  subscribe: (watcher: StreamWatcher<T>) => Subscription,
  watcher: StreamWatcher<T>,
  { what, address, timeoutMs }: ReadyOptions,
): Promise<Subscription> {
  return new Promise((resolve, reject) => {
    let lastError: WorkloadApiError | WorkloadResponseError | undefined;
    let settled = false;
    const settle = (error?: Error) => {
      if (settled) return;
      settled = true;
      if (timer) clearTimeout(timer);
      if (error) {
        subscription.cancel();
        reject(error);
      } else {
        resolve(subscription);
      }
    };
    const timeout = () =>
      settle(
        new Error(
          `no ${what} from the Workload API at ${address} within ${timeoutMs} ms` +
            `${lastError ? ` (last error: ${lastError.message})` : ''}. ` +
            `Check that the SPIRE agent serves that address and that a registration entry matches this process${uidHint()}.`,
        ),
      );
    const timer = timeoutMs === Infinity ? undefined : setTimeout(timeout, timeoutMs);
    const subscription = subscribe({
      onUpdate(state, withdrawn) {
        watcher.onUpdate(state, withdrawn);
        if (!withdrawn) settle();
      },
      onError(error) {
        lastError = error;
        watcher.onError(error);
        if (error instanceof WorkloadApiError && !error.willRetry) settle(error);
      },
    });
  });
}

/** The selector a unix-attested registration entry needs to match this process. */
function uidHint(): string {
  return typeof process.getuid === 'function' ? ` (for the unix workload attestor: selector unix:uid:${process.getuid()})` : '';
}
