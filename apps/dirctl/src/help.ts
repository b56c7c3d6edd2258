/** The --help texts: of dirctl, of a command group (referrers, sync), and of one command. */
import { type Command, commandName } from './command';
import { GLOBAL_OPTIONS, type OptionSpecs } from './options';

const LINE_WIDTH = 100;

const ABOUT = "dirctl: the Directory apiserver's client, authenticated with the workload's SPIFFE identity.";

const IDENTITY = `Identity: the X.509-SVID (and, with --auth jwt, a JWT-SVID) comes from the SPIFFE Workload API.
The server must prove its SPIFFE ID over TLS: it must be --server-id, or a member of
--server-trust-domain, or by default a member of the caller's own trust domain.`;

const EXIT_CODES = `Exit codes:
  0        success
  1        the server reported a failure in its response, or dirctl failed unexpectedly
  2        usage error: unknown command or option, bad value, unreadable or invalid input file
  3        identity or connection setup failure: no Workload API address, no SVID (e.g. no
           registration entry matches this process), no JWT-SVID, or a server that fails the pin
  100+N    the call failed with gRPC status code N, printed as "error: <STATUS>: <details>"
           (e.g. 103 INVALID_ARGUMENT, 105 NOT_FOUND, 107 PERMISSION_DENIED, 114 UNAVAILABLE,
           116 UNAUTHENTICATED)`;

export function mainHelp(commands: readonly Command[]): string {
  const groups = new Map<string, Command[]>();
  for (const command of commands) groups.set(command.words[0]!, [...(groups.get(command.words[0]!) ?? []), command]);
  const rows = [...groups].map(([word, members]): [string, string] =>
    members.length === 1 && members[0]!.words.length === 1
      ? [`${word} ${members[0]!.synopsis}`.trim(), members[0]!.summary]
      : [`${word} ${members.map((member) => member.words[1]).join('|')}`, `see 'dirctl ${word} --help'`],
  );
  return [
    ABOUT,
    '',
    'Usage: dirctl <command> [arguments] [options]',
    '',
    'Commands:',
    ...table(rows),
    '',
    'Options (every command takes them):',
    ...optionRows(GLOBAL_OPTIONS),
    '',
    IDENTITY,
    '',
    EXIT_CODES,
    '',
    "Run 'dirctl <command> --help' for a command's arguments and options.",
  ].join('\n');
}

export function groupHelp(word: string, members: readonly Command[]): string {
  return [
    `Usage: dirctl ${word} <${members.map((member) => member.words[1]).join('|')}> [arguments] [options]`,
    '',
    'Commands:',
    ...members.flatMap((member) => [
      `  ${commandName(member)} ${member.synopsis}`.trimEnd(),
      ...wrap(member.summary, LINE_WIDTH - 6).map((line) => `      ${line}`),
    ]),
    '',
    `Run 'dirctl ${word} <command> --help' for a command's arguments and options.`,
  ].join('\n');
}

export function commandHelp(command: Command): string {
  const own = Object.keys(command.options ?? {}).length > 0 ? command.options : undefined;
  return [
    ['Usage: dirctl', commandName(command), command.synopsis, own && '[command options]', '[options]'].filter(Boolean).join(' '),
    '',
    `${command.summary[0]!.toUpperCase()}${command.summary.slice(1)}.`,
    ...(own ? ['', 'Command options:', ...optionRows(own)] : []),
    '',
    'Options:',
    ...optionRows(GLOBAL_OPTIONS),
    '',
    "Exit codes: 0 success, 1 failure reported by the server, 2 usage, 3 identity or connection setup, 100+N gRPC status N;",
    "see 'dirctl --help'.",
  ].join('\n');
}

function optionRows(options: OptionSpecs): string[] {
  return table(
    Object.entries(options).map(([name, spec]) => {
      const flag = `${spec.short ? `-${spec.short}, ` : ''}--${name}${spec.value ? ` <${spec.value}>` : ''}`;
      const from = [spec.env && `env ${spec.env}`, spec.fallback && `default ${spec.fallback}`].filter(Boolean).join('; ');
      return [flag, `${spec.help}${from ? ` [${from}]` : ''}`];
    }),
  );
}

/** Two columns, the right one wrapped at LINE_WIDTH. */
function table(rows: ReadonlyArray<readonly [string, string]>): string[] {
  const width = Math.max(...rows.map(([left]) => left.length));
  const indent = ' '.repeat(width + 4);
  return rows.map(([left, right]) =>
    wrap(right, LINE_WIDTH - indent.length)
      .map((line, i) => `${i === 0 ? `  ${left.padEnd(width)}  ` : indent}${line}`)
      .join('\n'),
  );
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === '' ? word : `${line} ${word}`;
    }
  }
  return [...lines, line];
}
