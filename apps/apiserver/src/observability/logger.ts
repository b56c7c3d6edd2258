/**
 * Structured logs: one JSON object per line with `time` (ISO 8601), `level`, `msg`, then the
 * event's fields. Errors in fields are written as {name, message}. The reserved keys always win
 * over fields of the same name, so a field can never forge them.
 */

export const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export type LogFields = Readonly<Record<string, unknown>>;

export interface Logger {
  debug(msg: string, fields?: LogFields): void;
  info(msg: string, fields?: LogFields): void;
  warn(msg: string, fields?: LogFields): void;
  error(msg: string, fields?: LogFields): void;
  /** A logger that adds `fields` to every line. */
  child(fields: LogFields): Logger;
}

export interface JsonLoggerOptions {
  /** Lines below this level are dropped. @default 'info' */
  readonly level?: LogLevel;
  /** Receives each line, newline included. @default process.stdout */
  readonly write?: (line: string) => void;
  readonly now?: () => Date;
}

export function createJsonLogger(options: JsonLoggerOptions = {}): Logger {
  const threshold = LOG_LEVELS.indexOf(options.level ?? 'info');
  const write = options.write ?? ((line: string) => void process.stdout.write(line));
  const now = options.now ?? (() => new Date());

  const make = (bound: LogFields): Logger => {
    const log = (level: LogLevel) => (msg: string, fields: LogFields = {}) => {
      if (LOG_LEVELS.indexOf(level) < threshold) return;
      const line = { ...bound, ...fields, time: now().toISOString(), level, msg };
      write(`${JSON.stringify(line, replaceErrors)}\n`);
    };
    return {
      debug: log('debug'),
      info: log('info'),
      warn: log('warn'),
      error: log('error'),
      child: (fields) => make({ ...bound, ...fields }),
    };
  };
  return make({});
}

function replaceErrors(_key: string, value: unknown): unknown {
  return value instanceof Error ? { name: value.name, message: value.message } : value;
}
