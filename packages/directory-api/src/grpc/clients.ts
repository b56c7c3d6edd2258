/**
 * Typed clients of the Directory API's services, for dirctl, the benchmarks and the tests. Each
 * method takes the form grpc-js gives it for its streaming kind, with the generated message types
 * (ts-proto's own client constructors are casts through `unknown`, so they are not generated).
 */
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientDuplexStream,
  type ClientReadableStream,
  type ClientUnaryCall,
  type ClientWritableStream,
  makeGenericClientConstructor,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { HealthService } from '../../gen/grpc/health/v1/health';
import { StoreServiceService } from '../../gen/agntcy/dir/store/v1/store_service';
import { SyncServiceService } from '../../gen/agntcy/dir/store/v1/sync_service';

export type Callback<T> = (error: ServiceError | null, response?: T) => void;

/** What every generated method definition has: its path, streaming kind and message codecs. */
interface MethodDefinition<Req, Res, RequestStream extends boolean, ResponseStream extends boolean> {
  readonly path: string;
  readonly requestStream: RequestStream;
  readonly responseStream: ResponseStream;
  requestSerialize(value: Req): Buffer;
  responseDeserialize(bytes: Buffer): Res;
}

export interface UnaryMethod<Req, Res> {
  (request: Req, callback: Callback<Res>): ClientUnaryCall;
  (request: Req, metadata: Metadata, callback: Callback<Res>): ClientUnaryCall;
  (request: Req, options: CallOptions, callback: Callback<Res>): ClientUnaryCall;
}

export interface ClientStreamingMethod<Req, Res> {
  (callback: Callback<Res>): ClientWritableStream<Req>;
  (options: CallOptions, callback: Callback<Res>): ClientWritableStream<Req>;
}

export type ServerStreamingMethod<Req, Res> = (request: Req, options?: CallOptions) => ClientReadableStream<Res>;

export type BidiStreamingMethod<Req, Res> = (options?: CallOptions) => ClientDuplexStream<Req, Res>;

type ClientMethod<M> =
  M extends MethodDefinition<infer Req, infer Res, false, false> ? UnaryMethod<Req, Res>
  : M extends MethodDefinition<infer Req, infer Res, true, false> ? ClientStreamingMethod<Req, Res>
  : M extends MethodDefinition<infer Req, infer Res, false, true> ? ServerStreamingMethod<Req, Res>
  : M extends MethodDefinition<infer Req, infer Res, true, true> ? BidiStreamingMethod<Req, Res>
  : never;

/** A grpc-js client with one typed method per method of the service definition `D`. */
export type ServiceClient<D> = Client & { readonly [Name in keyof D]: ClientMethod<D[Name]> };

export type StoreServiceClient = ServiceClient<StoreServiceService>;
export type SyncServiceClient = ServiceClient<SyncServiceService>;
export type HealthClient = ServiceClient<HealthService>;

/**
 * A client of `definition`. grpc-js builds each method for its streaming kind from the path and
 * codecs in the definition; it types them loosely, so this is the one place that states their types.
 */
function serviceClient<D extends ServiceDefinition>(definition: D, address: string, credentials: ChannelCredentials, options?: ChannelOptions): ServiceClient<D> {
  const Constructor = makeGenericClientConstructor(definition, '');
  return new Constructor(address, credentials, options) as ServiceClient<D>;
}

export function storeServiceClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): StoreServiceClient {
  return serviceClient(StoreServiceService, address, credentials, options);
}

export function syncServiceClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): SyncServiceClient {
  return serviceClient(SyncServiceService, address, credentials, options);
}

export function healthClient(address: string, credentials: ChannelCredentials, options?: ChannelOptions): HealthClient {
  return serviceClient(HealthService, address, credentials, options);
}
