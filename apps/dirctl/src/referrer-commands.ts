/** Referrers of a record (signatures, public keys, scan reports...): push, pull, delete. */
import { REFERRER_TYPES } from '@dirtk/directory-api/contract';
import { type RecordReferrer, structToJson } from '@dirtk/directory-api/grpc';
import { cidArgument, type Command, type CommandArgs, defineCommand, optionalString, readJsonObject, requiredString, stringList } from './command';
import { requiredField } from './calls';
import { ServerReportedError, UsageError } from './errors';
import type { OptionSpec } from './options';

const TYPE_FILTER: OptionSpec = { type: 'string', value: 'type', help: 'only the referrers of this type' };

export const REFERRER_COMMANDS: readonly Command[] = [
  defineCommand({
    words: ['referrers', 'push'],
    synopsis: '<cid> --type <type>',
    summary: "attach a referrer to the record <cid> and print the referrer's CID",
    options: {
      type: { type: 'string', value: 'type', help: `what the referrer is: ${REFERRER_TYPES.join(', ')} (required)` },
      data: { type: 'string', value: 'file', help: 'the referrer\'s content, a JSON object ("-" reads stdin); default {}' },
      annotation: { type: 'string', multiple: true, value: 'key=value', help: 'an annotation; repeat for more' },
    },
    positionals: { min: 1, max: 1 },
    async prepare(args) {
      const data = optionalString(args, 'data');
      return {
        recordCid: cidArgument(args.positionals[0]!, args.command),
        referrer: {
          type: requiredString(args, 'type'),
          annotations: annotations(args),
          data: data === undefined ? {} : await readJsonObject(data, 'referrer data', args),
        },
      };
    },
    async execute(client, { recordCid, referrer }) {
      const response = await client.pushReferrer(recordCid, referrer);
      if (!response.success) throw new ServerReportedError(`the server did not store the referrer: ${response.error_message || 'no reason given'}`);
      const cid = requiredField(response.referrer_ref, 'referrer_ref').cid;
      return { text: cid, json: { referrer_cid: cid, record_cid: recordCid } };
    },
  }),
  defineCommand({
    words: ['referrers', 'pull'],
    synopsis: '<cid>',
    summary: "list the record's referrers, oldest first (--json: with their data)",
    options: { type: TYPE_FILTER },
    positionals: { min: 1, max: 1 },
    prepare: (args) => ({ recordCid: cidArgument(args.positionals[0]!, args.command), type: optionalString(args, 'type') }),
    async execute(client, { recordCid, type }) {
      const referrers = (await client.pullReferrers(recordCid, type)).map(referrerJson);
      return {
        text: referrers.map((r) => `${r.referrer_cid}  ${r.type}  ${r.created_at}`).join('\n'),
        json: referrers,
      };
    },
  }),
  defineCommand({
    words: ['referrers', 'delete'],
    synopsis: '<cid>',
    summary: "delete the record's referrers (all, or those of --type) and print their CIDs",
    options: { type: TYPE_FILTER },
    positionals: { min: 1, max: 1 },
    prepare: (args) => ({ recordCid: cidArgument(args.positionals[0]!, args.command), type: optionalString(args, 'type') }),
    async execute(client, { recordCid, type }) {
      const deleted = await client.deleteReferrers(recordCid, type);
      return { text: deleted.join('\n'), json: { deleted } };
    },
  }),
];

function annotations(args: CommandArgs): Record<string, string> {
  const pairs = new Map<string, string>();
  for (const pair of stringList(args, 'annotation')) {
    const separator = pair.indexOf('=');
    if (separator <= 0) throw new UsageError(`--annotation "${pair}" is not key=value`, args.command);
    const key = pair.slice(0, separator);
    if (pairs.has(key)) throw new UsageError(`--annotation ${key} is given twice`, args.command);
    pairs.set(key, pair.slice(separator + 1));
  }
  return Object.fromEntries(pairs);
}

function referrerJson(referrer: RecordReferrer) {
  return {
    referrer_cid: referrer.referrer_ref?.cid ?? '',
    record_cid: referrer.record_ref?.cid ?? '',
    type: referrer.type,
    created_at: referrer.created_at,
    annotations: referrer.annotations,
    data: structToJson(referrer.data ?? {}, 'referrer.data'),
  };
}
