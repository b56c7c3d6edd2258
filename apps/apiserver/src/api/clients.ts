/**
 * The Directory API's clients, typed: proto-loader builds untyped constructors, so the one cast to
 * these shapes lives here, for dirctl, the benchmarks and the tests alike.
 */
import type {
  CallOptions,
  ChannelCredentials,
  ChannelOptions,
  Client,
  ClientDuplexStream,
  ClientReadableStream,
  ClientUnaryCall,
  ClientWritableStream,
  Metadata,
  ServiceError,
} from '@grpc/grpc-js';
import type {
  CreateSyncRequest,
  CreateSyncResponse,
  DeleteReferrerRequest,
  DeleteReferrerResponse,
  Empty,
  GetSyncResponse,
  HealthCheckRequest,
  HealthCheckResponse,
  ListSyncsItem,
  ListSyncsRequest,
  PullReferrerRequest,
  PullReferrerResponse,
  PushReferrerRequest,
  PushReferrerResponse,
  RecordMessage,
  RecordMetaMessage,
  RecordRef,
  RequestRegistryCredentialsResponse,
  SyncIdRequest,
} from './messages';
import { HealthClient, StoreServiceClient, SyncServiceClient } from './services';

export type Callback<T> = (error: ServiceError | null, response?: T) => void;

/** A unary method; requests may leave fields out (the wire fills in defaults). */
export interface Unary<Req, Res> {
  (request: Partial<Req>, callback: Callback<Res>): ClientUnaryCall;
  (request: Partial<Req>, metadata: Metadata, callback: Callback<Res>): ClientUnaryCall;
  (request: Partial<Req>, options: CallOptions, callback: Callback<Res>): ClientUnaryCall;
}

export interface StoreServiceStub extends Client {
  Push(options?: CallOptions): ClientDuplexStream<RecordMessage, RecordRef>;
  Pull(options?: CallOptions): ClientDuplexStream<RecordRef, RecordMessage>;
  Lookup(options?: CallOptions): ClientDuplexStream<RecordRef, RecordMetaMessage>;
  Delete(callback: Callback<Empty>): ClientWritableStream<RecordRef>;
  Delete(options: CallOptions, callback: Callback<Empty>): ClientWritableStream<RecordRef>;
  PushReferrer(options?: CallOptions): ClientDuplexStream<Partial<PushReferrerRequest>, PushReferrerResponse>;
  PullReferrer(options?: CallOptions): ClientDuplexStream<Partial<PullReferrerRequest>, PullReferrerResponse>;
  DeleteReferrer(options?: CallOptions): ClientDuplexStream<Partial<DeleteReferrerRequest>, DeleteReferrerResponse>;
}

export interface SyncServiceStub extends Client {
  CreateSync: Unary<CreateSyncRequest, CreateSyncResponse>;
  ListSyncs(request: Partial<ListSyncsRequest>, options?: CallOptions): ClientReadableStream<ListSyncsItem>;
  GetSync: Unary<SyncIdRequest, GetSyncResponse>;
  DeleteSync: Unary<SyncIdRequest, Empty>;
  RequestRegistryCredentials: Unary<Empty, RequestRegistryCredentialsResponse>;
}

export interface HealthStub extends Client {
  Check: Unary<HealthCheckRequest, HealthCheckResponse>;
  Watch(request: HealthCheckRequest): ClientReadableStream<HealthCheckResponse>;
}

export function storeServiceClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): StoreServiceStub {
  return new StoreServiceClient(address, credentials, options) as unknown as StoreServiceStub;
}

export function syncServiceClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): SyncServiceStub {
  return new SyncServiceClient(address, credentials, options) as unknown as SyncServiceStub;
}

export function healthClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): HealthStub {
  return new HealthClient(address, credentials, options) as unknown as HealthStub;
}
