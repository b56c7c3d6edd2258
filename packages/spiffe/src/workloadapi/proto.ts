/**
 * The Workload API as the client uses it: a grpc-js client typed from the generated service definition
 * (`gen/workload.ts`, from `proto/workload.proto`; no .proto file is read at run time), and the JWT
 * claims Struct as JSON. The generated messages have camelCase fields, bytes as Buffer, maps as
 * objects and every scalar, list and map filled in, as proto-loader decoded them before.
 */
import {
  type CallOptions,
  type ChannelCredentials,
  type ChannelOptions,
  type Client,
  type ClientReadableStream,
  type ClientUnaryCall,
  makeGenericClientConstructor,
  type Metadata,
  type ServiceDefinition,
  type ServiceError,
} from '@grpc/grpc-js';
import { SpiffeWorkloadAPIService } from '../../gen/workload';
import type { JsonValue } from '../internal/json';

export type UnaryCallback<Response> = (error: ServiceError | null, response?: Response) => void;

/** What every generated method definition has: its streaming kind and message codecs. */
interface MethodDefinition<Request, Response, ResponseStream extends boolean> {
  readonly requestStream: false;
  readonly responseStream: ResponseStream;
  requestSerialize(value: Request): Buffer;
  responseDeserialize(bytes: Buffer): Response;
}

/** A unary call as grpc-js makes it, in the form this client calls it. */
export type UnaryMethod<Request, Response> = (
  request: Request,
  metadata: Metadata,
  options: CallOptions,
  callback: UnaryCallback<Response>,
) => ClientUnaryCall;

export type ServerStreamingMethod<Request, Response> = (request: Request, metadata: Metadata, options?: CallOptions) => ClientReadableStream<Response>;

/** The Workload API has only unary and server-streaming methods. */
type ClientMethod<M> =
  M extends MethodDefinition<infer Request, infer Response, false> ? UnaryMethod<Request, Response>
  : M extends MethodDefinition<infer Request, infer Response, true> ? ServerStreamingMethod<Request, Response>
  : never;

/** A grpc-js client with one typed method per method of the service definition `D`. */
export type ServiceClient<D> = Client & { readonly [Name in keyof D]: ClientMethod<D[Name]> };

/** A client of `SpiffeWorkloadAPI`, one typed method per RPC (`fetchX509Svid`, `validateJwtsvid`, …). */
export type WorkloadApiStub = ServiceClient<SpiffeWorkloadAPIService>;

/**
 * A client of `definition`. grpc-js builds each method for its streaming kind from the path and codecs
 * in the definition; it types them loosely, so this is the one place that states their types.
 */
function serviceClient<D extends ServiceDefinition>(definition: D, target: string, credentials: ChannelCredentials, options?: ChannelOptions): ServiceClient<D> {
  const Constructor = makeGenericClientConstructor(definition, '');
  return new Constructor(target, credentials, options) as ServiceClient<D>;
}

/** A client of the Workload API at `target` (a grpc-js target: `unix:/path` or `host:port`). */
export function workloadApiStub(target: string, credentials: ChannelCredentials, options?: ChannelOptions): WorkloadApiStub {
  return serviceClient(SpiffeWorkloadAPIService, target, credentials, options);
}

/** A `google.protobuf.Struct` as the generated decoder hands it over: a plain object of unchecked values. */
export type StructData = { readonly [key: string]: unknown };

/**
 * The claims of ValidateJWTSVID as JSON (an absent Struct is no claims). The generated decoder leaves
 * out an object member whose Value has no kind and turns one in a list into `undefined`, which, like
 * any value that is not JSON, becomes null.
 */
export function structToJson(struct: StructData | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(struct ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: unknown): JsonValue {
  if (value === null || typeof value === 'boolean' || typeof value === 'number' || typeof value === 'string') return value;
  if (Array.isArray(value)) return value.map((item: unknown) => valueToJson(item));
  if (isStructData(value)) return structToJson(value);
  return null;
}

function isStructData(value: unknown): value is StructData {
  return typeof value === 'object' && value !== null;
}
