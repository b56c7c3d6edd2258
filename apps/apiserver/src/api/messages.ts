/**
 * Message shapes as proto-loader hands them to handlers and takes them back (keepCase: field
 * names as in the .proto files; enums as their names; absent sub-messages as null).
 */
import type { SyncStatus } from '../store/syncs';

/**
 * google.protobuf.Value. Its field names stay camelCase despite keepCase: protobufjs brings the
 * well-known types as built-in descriptors with camelCase names.
 */
export interface ValueMessage {
  readonly kind?: 'nullValue' | 'numberValue' | 'stringValue' | 'boolValue' | 'structValue' | 'listValue';
  readonly nullValue?: 'NULL_VALUE';
  readonly numberValue?: number;
  readonly stringValue?: string;
  readonly boolValue?: boolean;
  readonly structValue?: StructMessage | null;
  readonly listValue?: { readonly values: readonly ValueMessage[] } | null;
}

export interface StructMessage {
  readonly fields: Readonly<Record<string, ValueMessage>>;
}

export interface RecordRef {
  readonly cid: string;
}
export type ReferrerRef = RecordRef;

export interface RecordMessage {
  readonly data: StructMessage | null;
}

export interface RecordMetaMessage {
  readonly cid: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly schema_version: string;
  readonly created_at: string;
}

export interface RecordReferrerMessage {
  readonly type: string;
  readonly annotations: Readonly<Record<string, string>>;
  readonly record_ref: RecordRef | null;
  readonly data: StructMessage | null;
  readonly created_at: string;
  readonly referrer_ref: ReferrerRef | null;
}

export interface PushReferrerRequest {
  readonly record_ref: RecordRef | null;
  readonly referrer: Pick<RecordReferrerMessage, 'type' | 'annotations' | 'created_at' | 'data'> | null;
}

export interface PushReferrerResponse {
  readonly success: boolean;
  readonly error_message?: string;
  readonly referrer_ref: ReferrerRef;
}

export interface PullReferrerRequest {
  readonly record_ref: RecordRef | null;
  readonly referrer_type?: string;
  readonly referrer_ref: ReferrerRef | null;
}

export interface PullReferrerResponse {
  readonly referrer: RecordReferrerMessage;
}

export interface DeleteReferrerRequest {
  readonly record: RecordRef | null;
  readonly referrer_ref: ReferrerRef | null;
  readonly referrer_type?: string;
}

export interface DeleteReferrerResponse {
  readonly referrer_refs: readonly ReferrerRef[];
}

export type Empty = Record<string, never>;

export interface CreateSyncRequest {
  readonly remote_directory_url: string;
  readonly cids: readonly string[];
  readonly remote_registry_url: string;
  readonly repository_name: string;
}

export interface CreateSyncResponse {
  readonly sync_id: string;
}

export interface ListSyncsRequest {
  readonly limit?: number;
  readonly offset?: number;
}

export interface ListSyncsItem {
  readonly sync_id: string;
  readonly status: SyncStatus;
  readonly remote_directory_url: string;
  readonly remote_registry_url: string;
  readonly repository_name: string;
}

export interface SyncIdRequest {
  readonly sync_id: string;
}

export interface GetSyncResponse extends ListSyncsItem {
  readonly created_time: string;
  readonly last_update_time: string;
}

export interface RequestRegistryCredentialsResponse {
  readonly success: boolean;
  readonly error_message: string;
  readonly registry_address: string;
  readonly basic_auth: { readonly username: string; readonly password: string };
  readonly repository_name: string;
  readonly insecure: boolean;
  /** Which member of the `credentials` oneof is set, as proto-loader reports it to clients. */
  readonly credentials?: 'basic_auth';
}

export type ServingStatus = 'UNKNOWN' | 'SERVING' | 'NOT_SERVING' | 'SERVICE_UNKNOWN';

export interface HealthCheckRequest {
  readonly service: string;
}

export interface HealthCheckResponse {
  readonly status: ServingStatus;
}
