/**
 * `runDirctl(argv, io)`: the whole CLI, returning the exit code, so that tests run it in-process.
 *
 * Options may come before or after the command words: a first, lenient pass over the global
 * options finds the words, then the rest is parsed strictly with the command's own options.
 */
import { parseArgs } from 'node:util';
import { type Command, commandName, type CommandArgs, type DirctlIo, type Output } from './command';
import { connect } from './connection';
import { EXIT_OK } from '@dirtk/directory-api/contract';
import { describeFailure, formatFailure, UsageError } from './errors';
import { commandHelp, groupHelp, mainHelp } from './help';
import { GLOBAL_OPTIONS, parseArgsOptions, resolveSettings } from './options';
import { REFERRER_COMMANDS } from './referrer-commands';
import { STORE_COMMANDS } from './store-commands';
import { SYNC_COMMANDS } from './sync-commands';

export type { DirctlIo } from './command';

export const COMMANDS: readonly Command[] = [...STORE_COMMANDS, ...REFERRER_COMMANDS, ...SYNC_COMMANDS];

type Invocation = { readonly help: string } | { readonly command: Command; readonly args: CommandArgs };

export async function runDirctl(argv: readonly string[], io: DirctlIo): Promise<number> {
  const scan = parseArgs({ args: [...argv], options: parseArgsOptions(GLOBAL_OPTIONS), strict: false, allowPositionals: true, tokens: true });
  const json = scan.values.json === true;
  try {
    const invocation = parse(argv, scan.tokens ?? [], io);
    if ('help' in invocation) {
      io.stdout.write(`${invocation.help}\n`);
      return EXIT_OK;
    }
    const { command, args } = invocation;
    const settings = resolveSettings(args.values, io.env, args.command);
    const execute = await command.prepare(args);
    const connection = await connect(settings, new Date(Date.now() + settings.timeoutMs));
    let output: Output;
    try {
      output = await execute(connection.client).catch((error: unknown) => {
        throw connection.explain(error);
      });
    } finally {
      connection.close();
    }
    const text = json ? JSON.stringify(output.json) : output.text;
    if (text !== '') io.stdout.write(`${text}\n`);
    return EXIT_OK;
  } catch (error) {
    const failure = describeFailure(error);
    io.stderr.write(formatFailure(failure, json));
    return failure.exitCode;
  }
}

type Token = ReturnType<typeof parseArgs>['tokens'] extends (infer T)[] | undefined ? T : never;

function parse(argv: readonly string[], tokens: readonly Token[], io: DirctlIo): Invocation {
  const positionals = tokens.filter((token) => token.kind === 'positional');
  const wantsHelp = tokens.some((token) => token.kind === 'option' && token.name === 'help');
  const [first, second] = positionals;
  if (!first) {
    if (wantsHelp) return { help: mainHelp(COMMANDS) };
    throw new UsageError('no command given');
  }
  const members = COMMANDS.filter((command) => command.words[0] === first.value);
  if (members.length === 0) {
    throw new UsageError(`unknown command "${first.value}"; the commands are ${[...new Set(COMMANDS.map((c) => c.words[0]))].join(', ')}`);
  }
  const single = members.find((command) => command.words.length === 1);
  const command = single ?? members.find((member) => member.words[1] === second?.value);
  if (!command) {
    if (!second && wantsHelp) return { help: groupHelp(first.value, members) };
    const known = members.map((member) => member.words[1]).join(', ');
    const problem = second ? `unknown command "${first.value} ${second.value}"; try one of ${known}` : `"${first.value}" needs a command: ${known}`;
    throw new UsageError(problem, first.value);
  }

  const name = commandName(command);
  const wordIndexes = new Set(positionals.slice(0, command.words.length).map((token) => token.index));
  const rest = argv.filter((_, index) => !wordIndexes.has(index));
  let parsed;
  try {
    parsed = parseArgs({ args: rest, options: parseArgsOptions({ ...GLOBAL_OPTIONS, ...command.options }), strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message, name);
  }
  if (parsed.values.help === true) return { help: commandHelp(command) };
  const count = parsed.positionals.length;
  const { min, max } = command.positionals;
  if (count < min || count > max) {
    const argumentsText = `${min} argument${min === 1 ? '' : 's'}`;
    const expected = max === 0 ? 'no arguments' : min === max ? argumentsText : `at least ${argumentsText}`;
    throw new UsageError(`${name} takes ${expected} (${command.synopsis || 'none'}), got ${count}`, name);
  }
  return { command, args: { values: parsed.values, positionals: parsed.positionals, command: name, io } };
}
