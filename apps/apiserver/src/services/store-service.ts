/**
 * StoreService handlers. Every stream is handled in order, one request at a time: request N gets
 * response N (PullReferrer: every referrer matching request N), and the first error ends the
 * stream with its status. Requests already answered stay done; the failing one changes nothing.
 */
import type { ServerDuplexStream, ServerReadableStream } from '@grpc/grpc-js';
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
import type { Records, Referrer } from '../store/records-api';
import { optionalCid, optionalReferrerType, referrerType, requiredCid } from './request-rules';
import { messages, send } from './streams';

export type StoreServiceHandlers = {
  push(call: ServerDuplexStream<RecordMessage, RecordRef>): Promise<void>;
  pull(call: ServerDuplexStream<RecordRef, RecordMessage>): Promise<void>;
  lookup(call: ServerDuplexStream<RecordRef, RecordMeta>): Promise<void>;
  delete(call: ServerReadableStream<RecordRef, Empty>): Promise<Empty>;
  pushReferrer(call: ServerDuplexStream<PushReferrerRequest, PushReferrerResponse>): Promise<void>;
  pullReferrer(call: ServerDuplexStream<PullReferrerRequest, PullReferrerResponse>): Promise<void>;
  deleteReferrer(call: ServerDuplexStream<DeleteReferrerRequest, DeleteReferrerResponse>): Promise<void>;
};

export function storeServiceHandlers(records: Records): StoreServiceHandlers {
  return {
    async push(call) {
      for await (const record of messages<RecordMessage>(call)) {
        await send(call, { cid: await records.put(structToJson(record.data, 'record.data')) });
      }
    },

    async pull(call) {
      for await (const ref of messages<RecordRef>(call)) {
        await send(call, { data: await records.get(requiredCid(ref, 'record_ref')) });
      }
    },

    async lookup(call) {
      for await (const ref of messages<RecordRef>(call)) {
        const meta = await records.meta(requiredCid(ref, 'record_ref'));
        await send(call, { cid: meta.cid, annotations: meta.annotations, schema_version: meta.schemaVersion, created_at: meta.createdAt });
      }
    },

    async delete(call) {
      for await (const ref of messages<RecordRef>(call)) await records.delete(requiredCid(ref, 'record_ref'));
      return {};
    },

    async pushReferrer(call) {
      for await (const request of messages<PushReferrerRequest>(call)) {
        const recordCid = requiredCid(request.record_ref, 'record_ref');
        const referrer = await records.putReferrer(recordCid, {
          type: referrerType(request.type, 'type'),
          annotations: request.annotations,
          createdAt: request.created_at,
          data: request.data ? structToJson(request.data, 'data') : {},
        });
        await send(call, { success: true, referrer_ref: { cid: referrer.cid } });
      }
    },

    async pullReferrer(call) {
      for await (const request of messages<PullReferrerRequest>(call)) {
        const found = await records.referrers(requiredCid(request.record_ref, 'record_ref'), {
          type: optionalReferrerType(request.referrer_type, 'referrer_type'),
          cid: optionalCid(request.referrer_ref, 'referrer_ref'),
        });
        for (const referrer of found) await send(call, { referrer: referrerMessage(referrer) });
      }
    },

    async deleteReferrer(call) {
      for await (const request of messages<DeleteReferrerRequest>(call)) {
        const deleted = await records.deleteReferrers(requiredCid(request.record, 'record'), {
          type: optionalReferrerType(request.referrer_type, 'referrer_type'),
          cid: optionalCid(request.referrer_ref, 'referrer_ref'),
        });
        await send(call, { referrer_refs: deleted.map((cid) => ({ cid })) });
      }
    },
  };
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
