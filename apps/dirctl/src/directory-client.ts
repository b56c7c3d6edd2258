/** The Directory API as dirctl calls it: one request per call, JSON in and out, one deadline for all. */
import type { CallOptions, ChannelCredentials } from '@grpc/grpc-js';
import type { JsonObject } from '@dirtk/directory-api/cid';
import { MAX_RECEIVE_MESSAGE_BYTES } from '@dirtk/directory-api/contract';
import {
  type CreateSyncRequest,
  type CreateSyncResponse,
  type DeleteSyncResponse,
  type Empty,
  type GetSyncResponse,
  type ListSyncsItem,
  type ListSyncsRequest,
  type PushReferrerRequest,
  type PushReferrerResponse,
  type RecordMeta,
  type RecordReferrer,
  type RequestRegistryCredentialsResponse,
  storeServiceClient,
  type StoreServiceClient,
  structToJson,
  syncServiceClient,
  type SyncServiceClient,
} from '@dirtk/directory-api/grpc';
import { exchange, onlyResponse, readAll, requiredField, single } from './calls';

export interface ReferrerInput {
  readonly type: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly data: JsonObject;
}

export class DirectoryClient {
  private readonly store: StoreServiceClient;
  private readonly sync: SyncServiceClient;

  constructor(address: string, credentials: ChannelCredentials, private readonly deadline: Date) {
    // A pulled record may be as large as the server accepts.
    const options = { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES };
    this.store = storeServiceClient(address, credentials, options);
    this.sync = syncServiceClient(address, credentials, options);
  }

  async push(record: JsonObject): Promise<string> {
    return onlyResponse(await exchange(this.store.push(this.options()), [{ data: record }]), 'record reference').cid;
  }

  async pull(cid: string): Promise<JsonObject> {
    const record = onlyResponse(await exchange(this.store.pull(this.options()), [{ cid }]), 'record');
    return structToJson(record.data, 'record.data');
  }

  async lookup(cid: string): Promise<RecordMeta> {
    return onlyResponse(await exchange(this.store.lookup(this.options()), [{ cid }]), 'record meta');
  }

  /** Deletes in order; the first failure ends the call, and the records before it stay deleted. */
  async delete(cids: readonly string[]): Promise<void> {
    await single<Empty>((callback) => {
      const call = this.store.delete(this.options(), callback);
      for (const cid of cids) call.write({ cid });
      call.end();
    });
  }

  async pushReferrer(recordCid: string, referrer: ReferrerInput): Promise<PushReferrerResponse> {
    const request: PushReferrerRequest = {
      record_ref: { cid: recordCid },
      type: referrer.type,
      annotations: { ...referrer.annotations },
      created_at: '',
      data: referrer.data,
    };
    return onlyResponse(await exchange(this.store.pushReferrer(this.options()), [request]), 'referrer reference');
  }

  /** The record's referrers, oldest first; all of them, or those of `type`. */
  async pullReferrers(recordCid: string, type?: string): Promise<RecordReferrer[]> {
    const request = { record_ref: { cid: recordCid }, ...(type !== undefined && { referrer_type: type }) };
    return (await exchange(this.store.pullReferrer(this.options()), [request])).map((response) => requiredField(response.referrer, 'referrer'));
  }

  /** Deletes the record's referrers (all, or those of `type`) and returns their CIDs. */
  async deleteReferrers(recordCid: string, type?: string): Promise<string[]> {
    const request = { record: { cid: recordCid }, ...(type !== undefined && { referrer_type: type }) };
    return onlyResponse(await exchange(this.store.deleteReferrer(this.options()), [request]), 'delete result').referrer_refs.map((ref) => ref.cid);
  }

  async createSync(request: CreateSyncRequest): Promise<string> {
    return (await single<CreateSyncResponse>((callback) => this.sync.createSync(request, this.options(), callback))).sync_id;
  }

  getSync(id: string): Promise<GetSyncResponse> {
    return single((callback) => this.sync.getSync({ sync_id: id }, this.options(), callback));
  }

  listSyncs(page: ListSyncsRequest): Promise<ListSyncsItem[]> {
    return readAll(this.sync.listSyncs(page, this.options()));
  }

  async deleteSync(id: string): Promise<void> {
    await single<DeleteSyncResponse>((callback) => this.sync.deleteSync({ sync_id: id }, this.options(), callback));
  }

  requestRegistryCredentials(): Promise<RequestRegistryCredentialsResponse> {
    return single((callback) => this.sync.requestRegistryCredentials({}, this.options(), callback));
  }

  close(): void {
    this.store.close();
    this.sync.close();
  }

  private options(): CallOptions {
    return { deadline: this.deadline };
  }
}
