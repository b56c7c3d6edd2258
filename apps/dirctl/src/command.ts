/**
 * What a dirctl command is: its words, synopsis, options and positional arguments, and two steps.
 * `prepare` checks the arguments and reads input files, so that every usage error comes before any
 * identity is fetched; `execute` makes the calls and returns what to print.
 */
import { readFile } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { isJsonObject, type JsonObject, parseCid } from '@dirtk/directory-api/cid';
import type { DirectoryClient } from './directory-client';
import { UsageError } from './errors';
import type { OptionSpecs, OptionValues } from './options';

export interface DirctlIo {
  /** Read by `push -`. */
  readonly stdin: Readable;
  readonly stdout: { write(text: string): unknown };
  readonly stderr: { write(text: string): unknown };
  readonly env: Readonly<Record<string, string | undefined>>;
}

/** What a command prints: `text` for people, `json` with --json. */
export interface Output {
  readonly text: string;
  readonly json: unknown;
}

export interface CommandArgs {
  readonly values: OptionValues;
  readonly positionals: readonly string[];
  /** The command's words, e.g. "referrers push", for error messages. */
  readonly command: string;
  readonly io: DirctlIo;
}

export interface CommandSpec<Input> {
  /** The words after `dirctl`, e.g. ['referrers', 'push']. */
  readonly words: readonly string[];
  /** Positional arguments and required options, as help shows them, e.g. "<cid> --type <type>". */
  readonly synopsis: string;
  readonly summary: string;
  readonly options?: OptionSpecs;
  /** How many positional arguments the command takes. */
  readonly positionals: { readonly min: number; readonly max: number };
  prepare(args: CommandArgs): Input | Promise<Input>;
  execute(client: DirectoryClient, input: Input): Promise<Output>;
}

export interface Command extends Omit<CommandSpec<unknown>, 'prepare' | 'execute'> {
  /** Checks the arguments (throwing UsageError) and returns the calls still to make. */
  prepare(args: CommandArgs): Promise<(client: DirectoryClient) => Promise<Output>>;
}

export function defineCommand<Input>(spec: CommandSpec<Input>): Command {
  return {
    ...spec,
    async prepare(args) {
      const input = await spec.prepare(args);
      return (client) => spec.execute(client, input);
    },
  };
}

export function commandName(command: Pick<Command, 'words'>): string {
  return command.words.join(' ');
}

export function optionalString(args: CommandArgs, name: string): string | undefined {
  const value = args.values[name];
  return typeof value === 'string' ? value : undefined;
}

export function requiredString(args: CommandArgs, name: string): string {
  const value = optionalString(args, name);
  if (value === undefined || value === '') throw new UsageError(`--${name} is required`, args.command);
  return value;
}

export function stringList(args: CommandArgs, name: string): string[] {
  const value = args.values[name];
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

/** Checks that `text` is a CID before any call is made. */
export function cidArgument(text: string, command: string): string {
  try {
    parseCid(text);
  } catch (error) {
    throw new UsageError((error as Error).message, command);
  }
  return text;
}

/** A JSON object from a file, or from stdin for "-". */
export async function readJsonObject(file: string, what: string, args: CommandArgs): Promise<JsonObject> {
  const name = file === '-' ? 'stdin' : file;
  let text: string;
  try {
    text = file === '-' ? await readStream(args.io.stdin) : await readFile(file, 'utf8');
  } catch (error) {
    throw new UsageError(`cannot read the ${what} from ${name}: ${(error as Error).message}`, args.command);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`the ${what} in ${name} is not JSON: ${(error as Error).message}`, args.command);
  }
  if (!isJsonObject(parsed)) throw new UsageError(`the ${what} in ${name} must be a JSON object`, args.command);
  return parsed;
}

async function readStream(stream: Readable): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of stream) chunks.push(typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer));
  return Buffer.concat(chunks).toString('utf8');
}
