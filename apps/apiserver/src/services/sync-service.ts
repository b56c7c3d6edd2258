/** SyncService handlers: syncs recorded in the store and handed to the sync worker, and caller-scoped registry credentials. */
import type { ServerUnaryCall, ServerWritableStream } from '@grpc/grpc-js';
import type {
  CreateSyncRequest,
  CreateSyncResponse,
  DeleteSyncRequest,
  DeleteSyncResponse,
  GetSyncRequest,
  GetSyncResponse,
  ListSyncsItem,
  ListSyncsRequest,
  RequestRegistryCredentialsRequest,
  RequestRegistryCredentialsResponse,
} from '@dirtk/directory-api/grpc';
import type { Sync, SyncStore } from '../store/syncs';
import type { CallerContext } from './caller';
import type { RegistryCredentialIssuer } from './registry-credentials';
import { send } from './streams';

/** The registry that peers pull synced records from, as advertised to them. */
export interface AdvertisedRegistry {
  /** Address with scheme if any, e.g. `dir-zot.dir.svc.cluster.local:5000`. */
  readonly address: string;
  /** Plain HTTP rather than HTTPS. */
  readonly insecure: boolean;
  readonly credentials: RegistryCredentialIssuer;
}

/** What the handlers need of the sync worker (`../sync/worker.ts`). */
export interface SyncRunner {
  /** Starts working a sync just created. */
  schedule(id: string): void;
  /** Stops a sync and marks it DELETED. */
  delete(id: string): Promise<void>;
}

export type SyncServiceHandlers = {
  createSync(call: ServerUnaryCall<CreateSyncRequest, CreateSyncResponse>): Promise<CreateSyncResponse>;
  listSyncs(call: ServerWritableStream<ListSyncsRequest, ListSyncsItem>): Promise<void>;
  getSync(call: ServerUnaryCall<GetSyncRequest, GetSyncResponse>): Promise<GetSyncResponse>;
  deleteSync(call: ServerUnaryCall<DeleteSyncRequest, DeleteSyncResponse>): Promise<DeleteSyncResponse>;
  requestRegistryCredentials(
    call: ServerUnaryCall<RequestRegistryCredentialsRequest, RequestRegistryCredentialsResponse>,
    caller: CallerContext,
  ): Promise<RequestRegistryCredentialsResponse>;
};

export function syncServiceHandlers(syncs: SyncStore, runner: SyncRunner, registry: AdvertisedRegistry): SyncServiceHandlers {
  return {
    async createSync({ request }) {
      const sync = await syncs.create({
        remoteDirectoryUrl: request.remote_directory_url.trim(),
        remoteRegistryUrl: request.remote_registry_url.trim(),
        repositoryName: request.repository_name.trim(),
        cids: request.cids,
      });
      runner.schedule(sync.id);
      return { sync_id: sync.id };
    },

    async listSyncs(call) {
      for (const sync of await syncs.list({ limit: call.request.limit, offset: call.request.offset })) await send(call, listItem(sync));
    },

    async getSync({ request }) {
      const sync = await syncs.get(request.sync_id);
      return { ...listItem(sync), created_time: sync.createdTime, last_update_time: sync.lastUpdateTime };
    },

    async deleteSync({ request }) {
      await runner.delete(request.sync_id);
      return {};
    },

    async requestRegistryCredentials(_call, caller) {
      const credentials = registry.credentials.issue(caller.spiffeId);
      return {
        success: true,
        error_message: '',
        registry_address: registry.address,
        basic_auth: { username: credentials.username, password: credentials.password },
        repository_name: credentials.repository,
        insecure: registry.insecure,
      };
    },
  };
}

function listItem(sync: Sync): ListSyncsItem {
  return {
    sync_id: sync.id,
    status: sync.status,
    remote_directory_url: sync.remoteDirectoryUrl,
    remote_registry_url: sync.remoteRegistryUrl,
    repository_name: sync.repositoryName,
  };
}
