/**
 * The Workload API service loaded from our own `workload.proto`, and the shapes its messages take in
 * JavaScript (proto-loader: camelCase fields, bytes as Buffer, maps as objects, defaults filled in).
 */
import path from 'node:path';
import { loadPackageDefinition, type ServiceClientConstructor } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import type { JsonValue } from '../internal/json';

export interface RawX509Svid {
  readonly spiffeId: string;
  readonly x509Svid: Buffer;
  readonly x509SvidKey: Buffer;
  readonly bundle: Buffer;
  readonly hint: string;
}

export interface RawX509SvidResponse {
  readonly svids: readonly RawX509Svid[];
  readonly federatedBundles: Readonly<Record<string, Buffer>>;
}

export interface RawX509BundlesResponse {
  readonly bundles: Readonly<Record<string, Buffer>>;
}

export interface RawJwtSvidRequest {
  readonly audience: readonly string[];
  readonly spiffeId: string;
}

export interface RawJwtSvid {
  readonly spiffeId: string;
  readonly svid: string;
  readonly hint: string;
}

export interface RawJwtSvidResponse {
  readonly svids: readonly RawJwtSvid[];
}

export interface RawJwtBundlesResponse {
  readonly bundles: Readonly<Record<string, Buffer>>;
}

export interface RawValidateJwtSvidRequest {
  readonly audience: string;
  readonly svid: string;
}

export interface RawValidateJwtSvidResponse {
  readonly spiffeId: string;
  readonly claims?: RawStruct | null;
}

/** `google.protobuf.Struct` as proto-loader decodes it (with `oneofs: true`, `kind` names the set member). */
export interface RawStruct {
  readonly fields: Readonly<Record<string, RawValue>>;
}

interface RawValue {
  readonly kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  readonly numberValue?: number;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly structValue?: RawStruct;
  readonly listValue?: { readonly values: readonly RawValue[] };
}

const PROTO_FILE = path.join(__dirname, 'workload.proto');

let loaded: ServiceClientConstructor | undefined;

/** The generated client constructor for `SpiffeWorkloadAPI` (its `.service` is the server-side definition too). */
export function workloadApiService(): ServiceClientConstructor {
  loaded ??= loadPackageDefinition(
    loadSync(PROTO_FILE, { keepCase: false, longs: String, enums: String, defaults: true, arrays: true, objects: true, oneofs: true }),
  ).SpiffeWorkloadAPI as ServiceClientConstructor;
  return loaded;
}

export function structToJson(struct: RawStruct | null | undefined): Record<string, JsonValue> {
  const out: Record<string, JsonValue> = {};
  for (const [key, value] of Object.entries(struct?.fields ?? {})) out[key] = valueToJson(value);
  return out;
}

function valueToJson(value: RawValue): JsonValue {
  switch (value.kind) {
    case 'numberValue':
      return value.numberValue ?? 0;
    case 'stringValue':
      return value.stringValue ?? '';
    case 'boolValue':
      return value.boolValue ?? false;
    case 'structValue':
      return structToJson(value.structValue);
    case 'listValue':
      return (value.listValue?.values ?? []).map(valueToJson);
    default:
      return null;
  }
}
