/** Linear retry delays (1 s, 2 s, … capped at 30 s by default), back to the first step after any good message. */
export interface BackoffOptions {
  readonly stepMs: number;
  readonly maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffOptions = { stepMs: 1_000, maxMs: 30_000 };

export class LinearBackoff {
  private attempts = 0;

  constructor(private readonly options: BackoffOptions = DEFAULT_BACKOFF) {
    if (!(options.stepMs > 0) || !(options.maxMs >= options.stepMs)) {
      throw new RangeError(`backoff needs 0 < stepMs <= maxMs, got stepMs=${options.stepMs} maxMs=${options.maxMs}`);
    }
  }

  /** The delay before the next attempt; never zero, so a failing stream cannot hot-loop. */
  next(): number {
    this.attempts += 1;
    return Math.min(this.options.stepMs * this.attempts, this.options.maxMs);
  }

  reset(): void {
    this.attempts = 0;
  }
}
