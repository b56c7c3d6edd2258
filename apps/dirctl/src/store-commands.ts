/** Records: push, pull, lookup, delete. */
import { cidArgument, type Command, defineCommand, readJsonObject } from './command';

export const STORE_COMMANDS: readonly Command[] = [
  defineCommand({
    words: ['push'],
    synopsis: '<file|->',
    summary: 'store a record (a JSON object; "-" reads stdin) and print its CID',
    positionals: { min: 1, max: 1 },
    prepare: (args) => readJsonObject(args.positionals[0]!, 'record', args),
    async execute(client, record) {
      const cid = await client.push(record);
      return { text: cid, json: { cid } };
    },
  }),
  defineCommand({
    words: ['pull'],
    synopsis: '<cid>',
    summary: 'print a record',
    positionals: { min: 1, max: 1 },
    prepare: (args) => cidArgument(args.positionals[0]!, args.command),
    async execute(client, cid) {
      const record = await client.pull(cid);
      return { text: JSON.stringify(record, null, 2), json: record };
    },
  }),
  defineCommand({
    words: ['lookup'],
    synopsis: '<cid>',
    summary: "print a record's metadata: schema version, creation time, annotations",
    positionals: { min: 1, max: 1 },
    prepare: (args) => cidArgument(args.positionals[0]!, args.command),
    async execute(client, cid) {
      const meta = await client.lookup(cid);
      const annotations = Object.entries(meta.annotations).map(([key, value]) => `\n  ${key}: ${value}`);
      return {
        text: `cid: ${meta.cid}\nschema_version: ${meta.schema_version}\ncreated_at: ${meta.created_at}\nannotations:${annotations.join('')}`,
        json: { cid: meta.cid, schema_version: meta.schema_version, created_at: meta.created_at, annotations: meta.annotations },
      };
    },
  }),
  defineCommand({
    words: ['delete'],
    synopsis: '<cid>...',
    summary: 'delete records and their referrers, in order; on a failure the records before it stay deleted',
    positionals: { min: 1, max: Infinity },
    prepare: (args) => args.positionals.map((cid) => cidArgument(cid, args.command)),
    async execute(client, cids) {
      await client.delete(cids);
      return { text: cids.map((cid) => `deleted ${cid}`).join('\n'), json: { deleted: cids } };
    },
  }),
];
