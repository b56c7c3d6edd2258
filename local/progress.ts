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
  return {
    async step(waiting, work, done) {
      // On a terminal the waiting line is overwritten by the result; in a log only results appear.
      if (stream.isTTY) stream.write(`${stamp()} ${waiting} …`);
      const clear = () => {
        if (stream.isTTY) stream.write('\r\x1b[2K');
      };
      try {
        const result = await work();
        clear();
        stream.write(`${stamp()} ${done(result)}\n`);
        return result;
      } catch (error) {
        clear();
        stream.write(`${stamp()} failed: ${waiting}\n`);
        throw error;
      }
    },
    note(line) {
      stream.write(`${stamp()} ${line}\n`);
    },
  };
}
