/**
 * The behaviour every `Records` implementation owes the services, as one suite run against each:
 * the filesystem store (store.test.ts) and the OCI registry store on the real registry
 * (test/registry/oci-record-store.integration.test.ts). What only one store can show (files on
 * disk, the registry layout) stays in that store's own tests.
 */
import { describe, expect, it, type TestContext } from 'vitest';
import { canonicalJson, CidError, cidOf, objectCid } from '@dirtk/directory-api/cid';
import { MAX_OBJECT_BYTES } from '@dirtk/directory-api/contract';
import { StoreError } from '../src/store/errors';
import type { Records, ReferrerInput } from '../src/store/records-api';

export interface RecordsUnderTest {
  /** A store holding nothing yet, stamping referrers without created_at with `now`. */
  open(now: () => Date): Promise<Records>;
  /** Why the store cannot run here (the suite skips saying so), or undefined. */
  skipReason?(): string | undefined;
}

const RECORD = { name: 'agent-a', schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'x', n: 1 }, skills: [{ id: 1 }] };
const UNKNOWN_CID = objectCid({ never: 'stored' });
const CLOCK = () => new Date('2026-05-06T07:08:09.000Z');

export async function storeError(promise: Promise<unknown>): Promise<StoreError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!(error instanceof StoreError)) throw new Error(`expected a StoreError, got ${String(error)}`);
  return error;
}

function referrer(type: string, data: ReferrerInput['data'], createdAt = '', annotations: Record<string, string> = {}): ReferrerInput {
  return { type, annotations, createdAt, data };
}

export function describeRecordsContract(name: string, subject: RecordsUnderTest): void {
  async function open(context: TestContext, now: () => Date = () => new Date()): Promise<Records> {
    const reason = subject.skipReason?.();
    if (reason !== undefined) context.skip(reason);
    return subject.open(now);
  }

  describe(`Records contract: ${name}`, () => {
    describe('records', () => {
      it('stores a record under the CID of its canonical JSON, once for any key order, and returns it intact', async (context) => {
        const records = await open(context);
        const reordered = { skills: [{ id: 1 }], annotations: { n: 1, team: 'x' }, created_at: RECORD.created_at, schema_version: '0.7.0', name: 'agent-a' };
        const cids = await Promise.all([records.put(RECORD), records.put(reordered), records.put(RECORD)]);
        expect(cids).toEqual([objectCid(RECORD), objectCid(RECORD), objectCid(RECORD)]);
        expect(await records.get(cids[0]!)).toEqual(RECORD);
      });

      it('derives metadata from the record (string annotations only)', async (context) => {
        const records = await open(context);
        const cid = await records.put(RECORD);
        expect(await records.meta(cid)).toEqual({ cid, annotations: { team: 'x' }, schemaVersion: '0.7.0', createdAt: '2026-01-02T03:04:05Z' });
        const bare = await records.put({ name: 'bare' });
        expect(await records.meta(bare)).toEqual({ cid: bare, annotations: {}, schemaVersion: '', createdAt: '' });
      });

      it('rejects an empty record', async (context) => {
        const records = await open(context);
        const error = await storeError(records.put({}));
        expect(error.reason).toBe('invalid-argument');
        expect(error.message).toContain('record data is empty');
      });

      it('rejects malformed CIDs and CIDs of another codec', async (context) => {
        const records = await open(context);
        const operations = [
          (cid: string) => records.get(cid),
          (cid: string) => records.meta(cid),
          (cid: string) => records.delete(cid),
          (cid: string) => records.referrers(cid),
          (cid: string) => records.putReferrer(cid, referrer('sig', {})),
          (cid: string) => records.deleteReferrers(cid),
        ];
        for (const operation of operations) {
          await expect(operation('not-a-cid')).rejects.toThrow(CidError);
          await expect(operation('../records')).rejects.toThrow(CidError);
          const error = await storeError(operation(cidOf(Buffer.from('{}'), 0x55)));
          expect(error.reason).toBe('invalid-argument');
          expect(error.message).toContain('codec 0x55');
        }
      });

      it('reports unknown records as not found, to every operation', async (context) => {
        const records = await open(context);
        // Each rejection gets its handler at once: awaiting them one by one would leave the others unhandled meanwhile.
        const errors = await Promise.all(
          [
            records.get(UNKNOWN_CID),
            records.meta(UNKNOWN_CID),
            records.delete(UNKNOWN_CID),
            records.referrers(UNKNOWN_CID),
            records.putReferrer(UNKNOWN_CID, referrer('sig', {})),
            records.deleteReferrers(UNKNOWN_CID),
          ].map(storeError),
        );
        for (const error of errors) {
          expect(error.reason).toBe('not-found');
          expect(error.message).toBe(`record ${UNKNOWN_CID} not found`);
        }
      });

      it('deletes a record together with its referrers; stored again, it has none', async (context) => {
        const records = await open(context);
        const cid = await records.put(RECORD);
        await records.putReferrer(cid, referrer('sig', { s: 1 }));
        await records.delete(cid);
        expect((await storeError(records.get(cid))).reason).toBe('not-found');
        expect((await storeError(records.referrers(cid))).reason).toBe('not-found');
        expect((await storeError(records.delete(cid))).reason).toBe('not-found');
        expect(await records.put(RECORD)).toBe(cid);
        expect(await records.get(cid)).toEqual(RECORD);
        expect(await records.referrers(cid)).toEqual([]);
      });
    });

    describe('referrers', () => {
      it('names a referrer by the CID of its envelope, the same in every store', async (context) => {
        const records = await open(context);
        const record = await records.put(RECORD);
        const stored = await records.putReferrer(record, referrer('agntcy.dir.sign.v1.Signature', { signature: 'c2ln' }, '2026-03-04T05:06:07Z', { tool: 'dirctl' }));
        const envelope = { annotations: { tool: 'dirctl' }, created_at: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' }, record_ref: { cid: record }, type: 'agntcy.dir.sign.v1.Signature' };
        expect(stored.cid).toBe(objectCid(envelope));
        // Pinned: changing the envelope or its encoding would rename every stored referrer.
        expect(stored.cid).toBe('baeareiddyd4fnhcrnh2hsc3fgfe4zxga4dswijg46pjnqltkoianel7224');
      });

      it('stores referrers with their own CIDs and lists them oldest first, filtered by type or CID', async (context) => {
        const records = await open(context, CLOCK);
        const record = await records.put(RECORD);
        const later = await records.putReferrer(record, referrer('sig', { s: 2 }, '2026-02-01T00:00:00Z', { k: 'v' }));
        const earlier = await records.putReferrer(record, referrer('sig', { s: 1 }, '2026-01-01T00:00:00Z'));
        const key = await records.putReferrer(record, referrer('key', {}));

        expect(new Set([later.cid, earlier.cid, key.cid]).size).toBe(3);
        expect(later).toEqual({ cid: later.cid, recordCid: record, type: 'sig', annotations: { k: 'v' }, createdAt: '2026-02-01T00:00:00Z', data: { s: 2 } });
        expect(key.createdAt).toBe('2026-05-06T07:08:09.000Z');
        expect(await records.referrers(record)).toEqual([earlier, later, key]);
        expect((await records.referrers(record, { type: 'sig' })).map((r) => r.cid)).toEqual([earlier.cid, later.cid]);
        expect(await records.referrers(record, { type: 'none' })).toEqual([]);
        expect(await records.referrers(record, { cid: key.cid })).toEqual([key]);
        expect(await records.referrers(record, { cid: key.cid, type: 'key' })).toEqual([key]);
        const wrongType = await storeError(records.referrers(record, { cid: key.cid, type: 'sig' }));
        expect([wrongType.reason, wrongType.message]).toEqual(['not-found', `referrer ${key.cid} of type "sig" on record ${record} not found`]);
        const unknown = await storeError(records.referrers(record, { cid: UNKNOWN_CID }));
        expect([unknown.reason, unknown.message]).toEqual(['not-found', `referrer ${UNKNOWN_CID} of record ${record} not found`]);
        expect((await storeError(records.referrers(record, { cid: cidOf(Buffer.from('{}'), 0x55) }))).reason).toBe('invalid-argument');
      });

      it('keeps one copy of a referrer pushed twice, and the referrers of each record apart', async (context) => {
        const records = await open(context);
        const record = await records.put(RECORD);
        const other = await records.put({ name: 'agent-b' });
        const input = referrer('sig', { s: 1 }, '2026-01-01T00:00:00Z');
        const [a, b] = [await records.putReferrer(record, input), await records.putReferrer(record, input)];
        expect(a).toEqual(b);
        expect(await records.referrers(record)).toEqual([a]);
        const onOther = await records.putReferrer(other, input);
        expect(onOther.cid).not.toBe(a.cid);
        expect(await records.referrers(other)).toEqual([onOther]);
        expect((await storeError(records.referrers(other, { cid: a.cid }))).reason).toBe('not-found');
      });

      it('validates the type, the timestamp and the size, storing nothing on error', async (context) => {
        const records = await open(context);
        const record = await records.put(RECORD);
        const ok = referrer('sig', {});
        const emptyType = await storeError(records.putReferrer(record, { ...ok, type: '' }));
        expect([emptyType.reason, emptyType.message]).toEqual(['invalid-argument', expect.stringContaining('referrer type is empty')]);
        const badTime = await storeError(records.putReferrer(record, { ...ok, createdAt: 'yesterday' }));
        expect([badTime.reason, badTime.message]).toEqual(['invalid-argument', expect.stringContaining('not an RFC 3339 timestamp')]);
        const overhead = canonicalJson({ annotations: {}, created_at: '2026-01-01T00:00:00Z', data: { x: '' }, record_ref: { cid: record }, type: 'sig' }).length;
        const tooBig = { ...ok, createdAt: '2026-01-01T00:00:00Z', data: { x: 'a'.repeat(MAX_OBJECT_BYTES - overhead + 1) } };
        expect((await storeError(records.putReferrer(record, tooBig))).reason).toBe('too-large');
        expect(await records.referrers(record)).toEqual([]);
      });

      it('deletes referrers by type or CID and returns what it deleted', async (context) => {
        const records = await open(context);
        const record = await records.put(RECORD);
        const sig = await records.putReferrer(record, referrer('sig', { s: 1 }));
        const key = await records.putReferrer(record, referrer('key', { k: 1 }));
        const other = await records.putReferrer(record, referrer('key', { k: 2 }));
        expect(await records.deleteReferrers(record, { cid: key.cid })).toEqual([key.cid]);
        expect(await records.deleteReferrers(record, { type: 'sig' })).toEqual([sig.cid]);
        expect(await records.deleteReferrers(record, { type: 'none' })).toEqual([]);
        expect((await storeError(records.deleteReferrers(record, { cid: key.cid }))).reason).toBe('not-found');
        expect(await records.referrers(record)).toEqual([other]);
        expect(await records.deleteReferrers(record)).toEqual([other.cid]);
        expect(await records.referrers(record)).toEqual([]);
        expect(await records.get(record)).toEqual(RECORD);
        // Deleted referrers can be stored again.
        expect(await records.putReferrer(record, referrer('sig', { s: 1 }, sig.createdAt))).toEqual(sig);
        expect(await records.referrers(record)).toEqual([sig]);
      });
    });
  });
}
