/** The Directory API as dirctl calls it: one request per call, JSON in and out, one deadline for all. */
import type { CallOptions, ChannelCredentials } from '@grpc/grpc-js';
import { type StoreServiceStub, storeServiceClient, type SyncServiceStub, syncServiceClient } from '../api/clients';
import type {
  CreateSyncRequest,
  CreateSyncResponse,
  Empty,
  GetSyncResponse,
  ListSyncsItem,
  ListSyncsRequest,
  PushReferrerRequest,
  PushReferrerResponse,
  RecordMetaMessage,
  RecordReferrerMessage,
  RequestRegistryCredentialsResponse,
} from '../api/messages';
import { jsonToStruct, structToJson } from '../api/struct';
import { MAX_RECEIVE_MESSAGE_BYTES } from '../server';
import type { JsonObject } from '../store/canonical-json';
import { exchange, onlyResponse, readAll, single } from './calls';

export interface ReferrerInput {
  readonly type: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly data: JsonObject;
}

export class DirectoryClient {
  private readonly store: StoreServiceStub;
  private readonly sync: SyncServiceStub;

  constructor(address: string, credentials: ChannelCredentials, private readonly deadline: Date) {
    // A pulled record may be as large as the server accepts.
    const options = { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES };
    this.store = storeServiceClient(address, credentials, options);
    this.sync = syncServiceClient(address, credentials, options);
  }

  async push(record: JsonObject): Promise<string> {
    return onlyResponse(await exchange(this.store.Push(this.options()), [{ data: jsonToStruct(record) }]), 'record reference').cid;
  }

  async pull(cid: string): Promise<JsonObject> {
    const record = onlyResponse(await exchange(this.store.Pull(this.options()), [{ cid }]), 'record');
    return structToJson(record.data, 'record.data');
  }

  async lookup(cid: string): Promise<RecordMetaMessage> {
    return onlyResponse(await exchange(this.store.Lookup(this.options()), [{ cid }]), 'record meta');
  }

  /** Deletes in order; the first failure ends the call, and the records before it stay deleted. */
  async delete(cids: readonly string[]): Promise<void> {
    await single<Empty>((callback) => {
      const call = this.store.Delete(this.options(), callback);
      for (const cid of cids) call.write({ cid });
      call.end();
    });
  }

  async pushReferrer(recordCid: string, referrer: ReferrerInput): Promise<PushReferrerResponse> {
    const request: PushReferrerRequest = {
      record_ref: { cid: recordCid },
      referrer: { type: referrer.type, annotations: referrer.annotations, created_at: '', data: jsonToStruct(referrer.data) },
    };
    return onlyResponse(await exchange(this.store.PushReferrer(this.options()), [request]), 'referrer reference');
  }

  /** The record's referrers, oldest first; all of them, or those of `type`. */
  async pullReferrers(recordCid: string, type?: string): Promise<RecordReferrerMessage[]> {
    const request = { record_ref: { cid: recordCid }, ...(type !== undefined && { referrer_type: type }) };
    return (await exchange(this.store.PullReferrer(this.options()), [request])).map((response) => response.referrer);
  }

  /** Deletes the record's referrers (all, or those of `type`) and returns their CIDs. */
  async deleteReferrers(recordCid: string, type?: string): Promise<string[]> {
    const request = { record: { cid: recordCid }, ...(type !== undefined && { referrer_type: type }) };
    return onlyResponse(await exchange(this.store.DeleteReferrer(this.options()), [request]), 'delete result').referrer_refs.map((ref) => ref.cid);
  }

  async createSync(request: CreateSyncRequest): Promise<string> {
    return (await single<CreateSyncResponse>((callback) => this.sync.CreateSync(request, this.options(), callback))).sync_id;
  }

  getSync(id: string): Promise<GetSyncResponse> {
    return single((callback) => this.sync.GetSync({ sync_id: id }, this.options(), callback));
  }

  listSyncs(page: ListSyncsRequest): Promise<ListSyncsItem[]> {
    return readAll(this.sync.ListSyncs(page, this.options()));
  }

  async deleteSync(id: string): Promise<void> {
    await single<Empty>((callback) => this.sync.DeleteSync({ sync_id: id }, this.options(), callback));
  }

  requestRegistryCredentials(): Promise<RequestRegistryCredentialsResponse> {
    return single((callback) => this.sync.RequestRegistryCredentials({}, this.options(), callback));
  }

  close(): void {
    this.store.close();
    this.sync.close();
  }

  private options(): CallOptions {
    return { deadline: this.deadline };
  }
}
