/**
 * Progress lines with elapsed seconds. The builds dirtk makes (SPIRE, the registry, Kubernetes, Pulumi,
 * images) take minutes on two cores, so every long step says what it does, keeps saying it while it
 * runs, and says how long it took.
 */
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
