/**
 * StoreService handlers. Every stream is handled in order, one request at a time: request N gets
 * response N (PullReferrer: every referrer matching request N), and the first error ends the
 * stream with its status. Requests already answered stay done; the failing one changes nothing.
 */
import { status as Status, type ServerDuplexStream, type ServerReadableStream } from '@grpc/grpc-js';
import type {
  DeleteReferrerRequest,
  DeleteReferrerResponse,
  Empty,
  PullReferrerRequest,
  PullReferrerResponse,
  PushReferrerRequest,
  PushReferrerResponse,
  RecordMessage,
  RecordMetaMessage,
  RecordRef,
} from '../api/messages';
import { jsonToStruct, structToJson } from '../api/struct';
import type { Referrer, RecordStore } from '../store/records';
import { messages, send } from './streams';
import { StatusError } from './status';

export type StoreServiceHandlers = {
  Push(call: ServerDuplexStream<RecordMessage, RecordRef>): Promise<void>;
  Pull(call: ServerDuplexStream<RecordRef, RecordMessage>): Promise<void>;
  Lookup(call: ServerDuplexStream<RecordRef, RecordMetaMessage>): Promise<void>;
  Delete(call: ServerReadableStream<RecordRef, Empty>): Promise<Empty>;
  PushReferrer(call: ServerDuplexStream<PushReferrerRequest, PushReferrerResponse>): Promise<void>;
  PullReferrer(call: ServerDuplexStream<PullReferrerRequest, PullReferrerResponse>): Promise<void>;
  DeleteReferrer(call: ServerDuplexStream<DeleteReferrerRequest, DeleteReferrerResponse>): Promise<void>;
};

export function storeServiceHandlers(records: RecordStore): StoreServiceHandlers {
  return {
    async Push(call) {
      for await (const record of messages<RecordMessage>(call)) {
        await send(call, { cid: await records.put(structToJson(record.data, 'record.data')) });
      }
    },

    async Pull(call) {
      for await (const ref of messages<RecordRef>(call)) {
        await send(call, { data: jsonToStruct(await records.get(requireRef(ref, 'record_ref'))) });
      }
    },

    async Lookup(call) {
      for await (const ref of messages<RecordRef>(call)) {
        const meta = await records.meta(requireRef(ref, 'record_ref'));
        await send(call, { cid: meta.cid, annotations: meta.annotations, schema_version: meta.schemaVersion, created_at: meta.createdAt });
      }
    },

    async Delete(call) {
      for await (const ref of messages<RecordRef>(call)) await records.delete(requireRef(ref, 'record_ref'));
      return {};
    },

    async PushReferrer(call) {
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

    async PullReferrer(call) {
      for await (const request of messages<PullReferrerRequest>(call)) {
        const found = await records.referrers(requireRef(request.record_ref, 'record_ref'), {
          type: request.referrer_type,
          cid: request.referrer_ref ? requireRef(request.referrer_ref, 'referrer_ref') : undefined,
        });
        for (const referrer of found) await send(call, { referrer: referrerMessage(referrer) });
      }
    },

    async DeleteReferrer(call) {
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
function requireRef(ref: RecordRef | null, field: string): string {
  if (!ref || ref.cid === '') throw new StatusError(Status.INVALID_ARGUMENT, `${field} is missing: set ${field}.cid to a CID`);
  return ref.cid;
}

function referrerMessage(referrer: Referrer): PullReferrerResponse['referrer'] {
  return {
    type: referrer.type,
    annotations: referrer.annotations,
    record_ref: { cid: referrer.recordCid },
    data: jsonToStruct(referrer.data),
    created_at: referrer.createdAt,
    referrer_ref: { cid: referrer.cid },
  };
}
