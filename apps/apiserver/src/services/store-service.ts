/**
 * StoreService handlers. Every stream is handled in order, one request at a time: request N gets
 * response N (PullReferrer: every referrer matching request N), and the first error ends the
 * stream with its status. Requests already answered stay done; the failing one changes nothing.
 */
import { status as Status, type ServerDuplexStream, type ServerReadableStream } from '@grpc/grpc-js';
import {
  type DeleteReferrerRequest,
  type DeleteReferrerResponse,
  type Empty,
  type PullReferrerRequest,
  type PullReferrerResponse,
  type PushReferrerRequest,
  type PushReferrerResponse,
  type Record as RecordMessage,
  type RecordMeta,
  type RecordReferrer,
  type RecordRef,
  structToJson,
} from '@dirtk/directory-api/grpc';
import type { Referrer, RecordStore } from '../store/records';
import { messages, send } from './streams';
import { StatusError } from './status';

export type StoreServiceHandlers = {
  push(call: ServerDuplexStream<RecordMessage, RecordRef>): Promise<void>;
  pull(call: ServerDuplexStream<RecordRef, RecordMessage>): Promise<void>;
  lookup(call: ServerDuplexStream<RecordRef, RecordMeta>): Promise<void>;
  delete(call: ServerReadableStream<RecordRef, Empty>): Promise<Empty>;
  pushReferrer(call: ServerDuplexStream<PushReferrerRequest, PushReferrerResponse>): Promise<void>;
  pullReferrer(call: ServerDuplexStream<PullReferrerRequest, PullReferrerResponse>): Promise<void>;
  deleteReferrer(call: ServerDuplexStream<DeleteReferrerRequest, DeleteReferrerResponse>): Promise<void>;
};

export function storeServiceHandlers(records: RecordStore): StoreServiceHandlers {
  return {
    async push(call) {
      for await (const record of messages<RecordMessage>(call)) {
        await send(call, { cid: await records.put(structToJson(record.data, 'record.data')) });
      }
    },

    async pull(call) {
      for await (const ref of messages<RecordRef>(call)) {
        await send(call, { data: await records.get(requireRef(ref, 'record_ref')) });
      }
    },

    async lookup(call) {
      for await (const ref of messages<RecordRef>(call)) {
        const meta = await records.meta(requireRef(ref, 'record_ref'));
        await send(call, { cid: meta.cid, annotations: meta.annotations, schema_version: meta.schemaVersion, created_at: meta.createdAt });
      }
    },

    async delete(call) {
      for await (const ref of messages<RecordRef>(call)) await records.delete(requireRef(ref, 'record_ref'));
      return {};
    },

    async pushReferrer(call) {
      for await (const request of messages<PushReferrerRequest>(call)) {
        const recordCid = requireRef(request.record_ref, 'record_ref');
        if (!request.referrer) throw new StatusError(Status.INVALID_ARGUMENT, 'referrer is missing');
        const referrer = await records.putReferrer(recordCid, {
          type: request.referrer.type,
          annotations: request.referrer.annotations,
          createdAt: request.referrer.created_at,
          data: request.referrer.data ? structToJson(request.referrer.data, 'referrer.data') : {},
        });
        await send(call, { success: true, referrer_ref: { cid: referrer.cid } });
      }
    },

    async pullReferrer(call) {
      for await (const request of messages<PullReferrerRequest>(call)) {
        const found = await records.referrers(requireRef(request.record_ref, 'record_ref'), {
          type: request.referrer_type,
          cid: request.referrer_ref ? requireRef(request.referrer_ref, 'referrer_ref') : undefined,
        });
        for (const referrer of found) await send(call, { referrer: referrerMessage(referrer) });
      }
    },

    async deleteReferrer(call) {
      for await (const request of messages<DeleteReferrerRequest>(call)) {
        const deleted = await records.deleteReferrers(requireRef(request.record, 'record'), {
          type: request.referrer_type,
          cid: request.referrer_ref ? requireRef(request.referrer_ref, 'referrer_ref') : undefined,
        });
        await send(call, { referrer_refs: deleted.map((cid) => ({ cid })) });
      }
    },
  };
}

/** The CID of a required reference field; the store parses it. */
function requireRef(ref: RecordRef | undefined, field: string): string {
  if (!ref || ref.cid === '') throw new StatusError(Status.INVALID_ARGUMENT, `${field} is missing: set ${field}.cid to a CID`);
  return ref.cid;
}

function referrerMessage(referrer: Referrer): RecordReferrer {
  return {
    type: referrer.type,
    annotations: referrer.annotations,
    record_ref: { cid: referrer.recordCid },
    data: referrer.data,
    created_at: referrer.createdAt,
    referrer_ref: { cid: referrer.cid },
  };
}
