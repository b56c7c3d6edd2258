/** The Directory API as dirctl calls it: one request per call, JSON in and out, one deadline for all. */
import type { CallOptions, ChannelCredentials, Client, ClientDuplexStream, ClientReadableStream, ClientWritableStream } from '@grpc/grpc-js';
import type {
  CreateSyncRequest,
  DeleteReferrerRequest,
  DeleteReferrerResponse,
  Empty,
  GetSyncResponse,
  ListSyncsItem,
  ListSyncsRequest,
  PullReferrerRequest,
  PullReferrerResponse,
  PushReferrerRequest,
  PushReferrerResponse,
  RecordMessage,
  RecordMetaMessage,
  RecordReferrerMessage,
  RecordRef,
  RequestRegistryCredentialsResponse,
  SyncIdRequest,
  CreateSyncResponse,
} from '../api/messages';
import { StoreServiceClient, SyncServiceClient } from '../api/services';
import { jsonToStruct, structToJson } from '../api/struct';
import { MAX_RECEIVE_MESSAGE_BYTES } from '../server';
import type { JsonObject } from '../store/canonical-json';
import { type Callback, exchange, onlyResponse, readAll, single } from './calls';

interface StoreStub extends Client {
  Push(options: CallOptions): ClientDuplexStream<RecordMessage, RecordRef>;
  Pull(options: CallOptions): ClientDuplexStream<RecordRef, RecordMessage>;
  Lookup(options: CallOptions): ClientDuplexStream<RecordRef, RecordMetaMessage>;
  Delete(options: CallOptions, callback: Callback<Empty>): ClientWritableStream<RecordRef>;
  PushReferrer(options: CallOptions): ClientDuplexStream<PushReferrerRequest, PushReferrerResponse>;
  PullReferrer(options: CallOptions): ClientDuplexStream<Partial<PullReferrerRequest>, PullReferrerResponse>;
  DeleteReferrer(options: CallOptions): ClientDuplexStream<Partial<DeleteReferrerRequest>, DeleteReferrerResponse>;
}

interface SyncStub extends Client {
  CreateSync(request: CreateSyncRequest, options: CallOptions, callback: Callback<CreateSyncResponse>): void;
  GetSync(request: SyncIdRequest, options: CallOptions, callback: Callback<GetSyncResponse>): void;
  ListSyncs(request: ListSyncsRequest, options: CallOptions): ClientReadableStream<ListSyncsItem>;
  DeleteSync(request: SyncIdRequest, options: CallOptions, callback: Callback<Empty>): void;
  RequestRegistryCredentials(request: Empty, options: CallOptions, callback: Callback<RequestRegistryCredentialsResponse>): void;
}

export interface ReferrerInput {
  readonly type: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly data: JsonObject;
}

export class DirectoryClient {
  private readonly store: StoreStub;
  private readonly sync: SyncStub;

  constructor(address: string, credentials: ChannelCredentials, private readonly deadline: Date) {
    // A pulled record may be as large as the server accepts.
    const options = { 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES };
    this.store = new StoreServiceClient(address, credentials, options) as unknown as StoreStub;
    this.sync = new SyncServiceClient(address, credentials, options) as unknown as SyncStub;
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
