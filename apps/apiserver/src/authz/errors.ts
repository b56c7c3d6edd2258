import { SpiffeIdError } from '@dirtk/spiffe/spiffeid';

/** A malformed method or SPIFFE ID pattern; the message says what is wrong with which text. */
export class PatternError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PatternError';
  }
}

/** A policy that cannot be used; `problems` lists every problem found, each with its line or rule. */
export class PolicyError extends Error {
  constructor(readonly source: string, readonly problems: readonly string[]) {
    super(`invalid authorization policy ${source} (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'PolicyError';
  }
}

/** Runs `parse`, recording a pattern or SPIFFE ID error in `problems` (prefixed with `where`) instead of throwing it. */
export function collectProblem<T>(problems: string[], where: string, parse: () => T): T | undefined {
  try {
    return parse();
  } catch (error) {
    if (error instanceof PatternError || error instanceof SpiffeIdError) {
      problems.push(`${where}: ${error.message}`);
      return undefined;
    }
    throw error;
  }
}
