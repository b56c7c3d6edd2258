/** Syncs from remote directories, and the registry credentials a remote asks for. */
import type { ListSyncsItem, ListSyncsRequest } from '@dirtk/directory-api/grpc';
import { cidArgument, type Command, type CommandArgs, defineCommand, optionalString, stringList } from './command';
import { requiredField } from './calls';
import type { DirectoryClient } from './directory-client';
import { ServerReportedError, UsageError } from './errors';

const SYNC_ID = { min: 1, max: 1 } as const;

export const SYNC_COMMANDS: readonly Command[] = [
  defineCommand({
    words: ['sync', 'create'],
    synopsis: '(--remote-directory-url <url> | --remote-registry-url <url>) [--wait]',
    summary: 'ask the server to sync records from a remote directory or registry; prints the sync ID',
    options: {
      'remote-directory-url': { type: 'string', value: 'url', help: 'the remote Directory apiserver' },
      'remote-registry-url': { type: 'string', value: 'url', help: 'the remote OCI registry, synced from directly' },
      cid: { type: 'string', multiple: true, value: 'cid', help: 'a record to sync; repeat for more; default: all' },
      repository: { type: 'string', value: 'name', help: 'the repository in the remote registry' },
      wait: { type: 'boolean', help: 'wait (within --timeout) until the sync COMPLETED; exit 1 when it FAILED or was deleted' },
    },
    positionals: { min: 0, max: 0 },
    prepare(args) {
      const remoteDirectoryUrl = optionalString(args, 'remote-directory-url') ?? '';
      const remoteRegistryUrl = optionalString(args, 'remote-registry-url') ?? '';
      if (remoteDirectoryUrl === '' && remoteRegistryUrl === '') {
        throw new UsageError('give --remote-directory-url or --remote-registry-url: where to sync from', args.command);
      }
      return {
        request: {
          remote_directory_url: remoteDirectoryUrl,
          remote_registry_url: remoteRegistryUrl,
          repository_name: optionalString(args, 'repository') ?? '',
          cids: stringList(args, 'cid').map((cid) => cidArgument(cid, args.command)),
        },
        wait: args.values.wait === true,
      };
    },
    async execute(client, { request, wait }) {
      const id = await client.createSync(request);
      if (!wait) return { text: id, json: { sync_id: id } };
      const status = await syncEnd(client, id);
      if (status !== 'SYNC_STATUS_COMPLETED') throw new ServerReportedError(`sync ${id} ended ${status}; the apiserver's log says why`);
      return { text: `${id} ${status}`, json: { sync_id: id, status } };
    },
  }),
  defineCommand({
    words: ['sync', 'get'],
    synopsis: '<sync-id>',
    summary: "print a sync's status and details",
    positionals: SYNC_ID,
    prepare: (args) => args.positionals[0]!,
    async execute(client, id) {
      const sync = await client.getSync(id);
      return { text: Object.entries(sync).map(([key, value]) => `${key}: ${String(value)}`).join('\n'), json: sync };
    },
  }),
  defineCommand({
    words: ['sync', 'list'],
    synopsis: '',
    summary: 'list syncs, oldest first: ID, status, source',
    options: {
      limit: { type: 'string', value: 'n', help: 'at most this many' },
      offset: { type: 'string', value: 'n', help: 'skip this many first' },
    },
    positionals: { min: 0, max: 0 },
    prepare: (args): ListSyncsRequest => ({ ...count(args, 'limit'), ...count(args, 'offset') }),
    async execute(client, page) {
      const syncs = await client.listSyncs(page);
      return { text: syncs.map((sync) => `${sync.sync_id}  ${sync.status}  ${source(sync)}`).join('\n'), json: syncs };
    },
  }),
  defineCommand({
    words: ['sync', 'delete'],
    synopsis: '<sync-id>',
    summary: 'delete a sync',
    positionals: SYNC_ID,
    prepare: (args) => args.positionals[0]!,
    async execute(client, id) {
      await client.deleteSync(id);
      return { text: `deleted sync ${id}`, json: { deleted: id } };
    },
  }),
  defineCommand({
    words: ['credentials'],
    synopsis: '',
    summary: 'request short-lived registry credentials, scoped to the caller, for pulling synced records',
    positionals: { min: 0, max: 0 },
    prepare: () => undefined,
    async execute(client) {
      const response = await client.requestRegistryCredentials();
      if (!response.success) throw new ServerReportedError(`the server issued no credentials: ${response.error_message || 'no reason given'}`);
      const credentials = requiredField(response.basic_auth, 'basic_auth');
      const json = {
        registry_address: response.registry_address,
        repository_name: response.repository_name,
        insecure: response.insecure,
        username: credentials.username,
        password: credentials.password,
      };
      return { text: Object.entries(json).map(([key, value]) => `${key}: ${String(value)}`).join('\n'), json };
    },
  }),
];

const SYNC_POLL_MS = 1_000;
const SYNC_ENDED: ReadonlySet<string> = new Set(['SYNC_STATUS_COMPLETED', 'SYNC_STATUS_FAILED', 'SYNC_STATUS_DELETED']);

/** The status sync `id` ends in, asked every second; the client's deadline bounds the wait. */
async function syncEnd(client: DirectoryClient, id: string): Promise<string> {
  for (;;) {
    const { status } = await client.getSync(id);
    if (SYNC_ENDED.has(status)) return status;
    await new Promise((resolve) => setTimeout(resolve, SYNC_POLL_MS));
  }
}

/** `{ [name]: n }` for a given --limit/--offset, `{}` otherwise. */
function count(args: CommandArgs, name: 'limit' | 'offset'): ListSyncsRequest {
  const text = optionalString(args, name);
  if (text === undefined) return {};
  if (!/^\d{1,9}$/.test(text)) throw new UsageError(`--${name} must be a whole number, not "${text}"`, args.command);
  return { [name]: Number(text) };
}

function source(sync: ListSyncsItem): string {
  const registry = sync.remote_registry_url && `registry ${sync.remote_registry_url}`;
  const repository = sync.repository_name && `repository ${sync.repository_name}`;
  return [sync.remote_directory_url, registry, repository].filter((part) => part !== '').join(', ');
}
