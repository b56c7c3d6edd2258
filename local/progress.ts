/** One line per step of a long start, with the time elapsed since the start. */

export interface Progress {
  /** Runs `work`, showing `waiting` meanwhile (on a terminal) and then the line `done` makes of its result. */
  step<T>(waiting: string, work: () => Promise<T>, done: (result: T) => string): Promise<T>;
  /** A line that is not a step, e.g. a warning. */
  note(line: string): void;
}

export const SILENT_PROGRESS: Progress = {
  step: (_waiting, work) => work(),
  note: () => {},
};

export function consoleProgress(stream: NodeJS.WriteStream = process.stdout, startedAt = Date.now()): Progress {
  const stamp = () => `[${((Date.now() - startedAt) / 1000).toFixed(1).padStart(5)}s]`;
  /** The waiting line shown on a terminal, until its step is done. */
  let pending: string | undefined;
  const clear = () => {
    if (stream.isTTY && pending !== undefined) stream.write('\r\x1b[2K');
  };
  return {
    async step(waiting, work, done) {
      // On a terminal the waiting line is overwritten by the result; in a log only results appear.
      if (stream.isTTY) {
        pending = `${stamp()} ${waiting} …`;
        stream.write(pending);
      }
      try {
        const result = await work();
        clear();
        stream.write(`${stamp()} ${done(result)}\n`);
        return result;
      } catch (error) {
        clear();
        stream.write(`${stamp()} failed: ${waiting}\n`);
        throw error;
      } finally {
        pending = undefined;
      }
    },
    note(line) {
      // A note in the middle of a step goes above its waiting line, which is shown again below.
      clear();
      stream.write(`${stamp()} ${line}\n`);
      if (stream.isTTY && pending !== undefined) stream.write(pending);
    },
  };
}
