import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type PushReferrerRequest, type Record as RecordMessage, type StructData, structToJson } from '@dirtk/directory-api/grpc';
import { canonicalJson, type JsonObject, objectCid } from '@dirtk/directory-api/cid';
import { CID_MAX_LENGTH, MAX_OBJECT_BYTES, MAX_RECEIVE_MESSAGE_BYTES, REFERRER_TYPES } from '@dirtk/directory-api/contract';
import { directoryCidVectors } from '../../../packages/directory-api/test/support/vectors';
import { exchange, startTestServer, type TestServer, unary } from './grpc-harness';

const record = (name: string, extra: JsonObject = {}): JsonObject => ({ name, schema_version: '0.7.0', ...extra });
const message = (data: JsonObject): RecordMessage => ({ data });
const UNKNOWN = objectCid({ never: 'pushed' });
/** CIDs computed by the real Directory's algorithm. */
const DIRECTORY_VECTORS = directoryCidVectors().records;
const SIGNATURE = 'agntcy.dir.sign.v1.Signature';

/** A Struct field as the client receives it, checked as JSON. */
function toJson(struct: StructData | undefined): JsonObject {
  return structToJson(struct, 'data');
}

let server: TestServer;
beforeAll(async () => {
  server = await startTestServer();
});
afterAll(async () => {
  await server.close();
});

const recordFiles = (): Promise<string[]> => readdir(path.join(server.store.root, 'records'));
const push = (records: readonly RecordMessage[]) => exchange(server.storeClient.push(), records);
const pull = (cids: readonly string[]) => exchange(server.storeClient.pull(), cids.map((cid) => ({ cid })));
async function pushOne(data: JsonObject): Promise<string> {
  const result = await push([message(data)]);
  expect(result.code).toBe(Status.OK);
  return result.responses[0]?.cid as string;
}

describe('StoreService Push / Pull / Lookup', () => {
  it('answers request N with response N, in order, and pulls back exactly what was pushed', async () => {
    const records = Array.from({ length: 20 }, (_, i) =>
      record(`agent-${i}`, { n: i, ratio: i / 3, tags: ['a', i % 2 === 0], nested: { deep: { x: null } }, annotations: { idx: String(i) } }),
    );
    const pushed = await push(records.map(message));
    expect(pushed.code).toBe(Status.OK);
    expect(pushed.responses.map((r) => r.cid)).toEqual(records.map(objectCid));

    const pulled = await pull([...pushed.responses.map((r) => r.cid)].reverse());
    expect(pulled.code).toBe(Status.OK);
    expect(pulled.responses.map((r) => toJson(r.data))).toEqual([...records].reverse());
  });

  it('pushes idempotently: the same record twice has one CID and one file', async () => {
    const data = record('idempotent');
    const result = await push([message(data), message({ schema_version: '0.7.0', name: 'idempotent' })]);
    expect(result.responses.map((r) => r.cid)).toEqual([objectCid(data), objectCid(data)]);
    expect((await recordFiles()).filter((name) => name === objectCid(data))).toHaveLength(1);
  });

  it('looks up metadata from the record', async () => {
    const data = record('meta', { created_at: '2026-03-04T05:06:07Z', annotations: { owner: 'team-a', count: 3 } });
    const cid = await pushOne(data);
    const result = await exchange(server.storeClient.lookup(), [{ cid }]);
    expect(result.code).toBe(Status.OK);
    expect(result.responses).toEqual([{ cid, annotations: { owner: 'team-a' }, schema_version: '0.7.0', created_at: '2026-03-04T05:06:07Z' }]);
  });

  it.each([
    ['empty data', { data: {} }, 'record data is empty'],
    ['no data', {}, 'record.data: missing'],
    // The generated encoder skips an undefined Struct member, and its decoder drops a kindless one; in a list, it stays.
    ['a value without a kind', { data: { name: [undefined] } }, 'record.data.name[0]: value has no kind'],
    ['a non-finite number', { data: { n: Infinity } }, 'record.data.n: Infinity is not a JSON number'],
  ])('rejects a record with %s as INVALID_ARGUMENT and stores nothing', async (_label, invalid: RecordMessage, details) => {
    const before = await recordFiles();
    const result = await push([invalid]);
    expect(result.code).toBe(Status.INVALID_ARGUMENT);
    expect(result.details).toContain(details);
    expect(await recordFiles()).toEqual(before);
  });

  it('ends the stream at the first bad request: earlier ones answered, later ones not processed', async () => {
    const [first, third] = [record('before-error'), record('after-error')];
    const result = await push([message(first), { data: {} }, message(third)]);
    expect(result.responses.map((r) => r.cid)).toEqual([objectCid(first)]);
    expect(result.code).toBe(Status.INVALID_ARGUMENT);
    expect(await recordFiles()).toContain(objectCid(first));
    expect(await recordFiles()).not.toContain(objectCid(third));
  });

  it('rejects a record over 4 MiB of canonical JSON with RESOURCE_EXHAUSTED and stores nothing', async () => {
    // Control characters cost 1 byte on the wire but 6 in JSON (\u0001), so this passes the transport limit.
    const data = { name: 'huge', blob: '\u0001'.repeat(Math.ceil(MAX_OBJECT_BYTES / 6) + 1) };
    expect(Buffer.byteLength(canonicalJson(data))).toBeGreaterThan(MAX_OBJECT_BYTES);
    const before = await recordFiles();
    const result = await push([message(data)]);
    expect(result.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(result.details).toMatch(/record is \d+ bytes as canonical JSON; the limit is 4194304 bytes/);
    expect(await recordFiles()).toEqual(before);
  });

  it('receives a record whose message is over 4 MiB while its canonical JSON is within the limit', async () => {
    // Each "ab" list item costs 6 bytes as a protobuf Value and 5 as JSON: about 4.2 MiB on the wire, 3.5 MiB as JSON.
    const data = { name: 'wire-heavy', items: Array.from({ length: 740_000 }, () => 'ab') };
    expect(Buffer.byteLength(canonicalJson(data))).toBeLessThanOrEqual(MAX_OBJECT_BYTES);
    const result = await push([message(data)]);
    expect(result).toMatchObject({ code: Status.OK, responses: [{ cid: objectCid(data) }] });
  });

  it('refuses a message over the receive limit with RESOURCE_EXHAUSTED before any handler runs', async () => {
    const before = await recordFiles();
    const result = await push([message({ name: 'too-big-for-the-wire', blob: 'x'.repeat(MAX_RECEIVE_MESSAGE_BYTES) })]);
    expect(result.code).toBe(Status.RESOURCE_EXHAUSTED);
    expect(await recordFiles()).toEqual(before);
  });

  it("returns exactly the real Directory's CID for its vector records, and pulls and looks them up by it", async () => {
    const records = DIRECTORY_VECTORS.map((vector) => JSON.parse(vector.recordJson) as JsonObject);
    const pushed = await push(records.map(message));
    expect(pushed.code).toBe(Status.OK);
    expect(pushed.responses.map((r) => r.cid)).toEqual(DIRECTORY_VECTORS.map((vector) => vector.cid));

    const pulled = await pull(DIRECTORY_VECTORS.map((vector) => vector.cid));
    expect(pulled.code).toBe(Status.OK);
    expect(pulled.responses.map((r) => toJson(r.data))).toEqual(records);
    const looked = await exchange(server.storeClient.lookup(), DIRECTORY_VECTORS.map((vector) => ({ cid: vector.cid })));
    expect(looked.responses.map((r) => r.cid)).toEqual(DIRECTORY_VECTORS.map((vector) => vector.cid));
  });

  it.each([
    ['a CID of another codec', objectCid({}).replace(/^baeare/, 'bafkre'), 'has codec 0x55; Directory objects use the raw codec (0x1)'],
    ['a truncated CID', DIRECTORY_VECTORS[0]!.cid.slice(0, -3), 'trailing bits are not zero'],
    ['a CID in base58', 'zb2rhe5P4gXftAwvA4eXQ5HJwsER2owDyS9sKaQRRVQPn93bA', 'multibase prefix "z" is not supported'],
  ])('answers %s with INVALID_ARGUMENT saying what is wrong', async (_, cid, reason) => {
    for (const open of [() => server.storeClient.pull(), () => server.storeClient.lookup()]) {
      const result = await exchange(open(), [{ cid }]);
      expect(result.code).toBe(Status.INVALID_ARGUMENT);
      expect(result.details).toContain(reason);
    }
  });

  it('answers malformed CIDs with INVALID_ARGUMENT and unknown records with NOT_FOUND', async () => {
    const malformed = await pull(['QmYwAPJzv5CZsnA625s3Xf2nemtYgPpHdWEz79ojWnPbdG']);
    expect(malformed.code).toBe(Status.INVALID_ARGUMENT);
    expect(malformed.details).toContain('CIDv0 is not supported');

    const unknown = await exchange(server.storeClient.lookup(), [{ cid: UNKNOWN }]);
    expect(unknown.code).toBe(Status.NOT_FOUND);
    expect(unknown.details).toBe(`record ${UNKNOWN} not found`);

    const missing = await pull(['']);
    expect(missing.code).toBe(Status.INVALID_ARGUMENT);
    expect(missing.details).toContain('record_ref is missing');
  });

  it('stops a Pull stream at the first unknown record', async () => {
    const cid = await pushOne(record('pull-order'));
    const result = await pull([cid, UNKNOWN, cid]);
    expect(result.responses).toHaveLength(1);
    expect(result.code).toBe(Status.NOT_FOUND);
  });
});

describe('StoreService Delete', () => {
  it('deletes every record sent on the stream and answers Empty', async () => {
    const records = [record('delete-1'), record('delete-2')];
    const cids = (await push(records.map(message))).responses.map((r) => r.cid);
    const result = await unary((callback) => {
      const call = server.storeClient.delete(callback);
      for (const cid of cids) call.write({ cid });
      call.end();
    });
    expect(result).toMatchObject({ code: Status.OK, response: {} });
    expect((await pull([cids[0] as string])).code).toBe(Status.NOT_FOUND);
    expect(await recordFiles()).not.toContain(cids[1]);
  });

  it('answers NOT_FOUND for an unknown record and INVALID_ARGUMENT for a malformed CID', async () => {
    const deleteOne = (cid: string) =>
      unary((callback) => {
        const call = server.storeClient.delete(callback);
        call.write({ cid });
        call.end();
      });
    expect(await deleteOne(UNKNOWN)).toMatchObject({ code: Status.NOT_FOUND, details: `record ${UNKNOWN} not found` });
    expect((await deleteOne('bnotacid')).code).toBe(Status.INVALID_ARGUMENT);
  });
});

describe('StoreService referrers', () => {
  it('pushes referrers, pulls them all, by type and by reference, and deletes them', async () => {
    const cid = await pushOne(record('with-referrers'));
    const recordRef = { cid };
    const pushed = await exchange(server.storeClient.pushReferrer(), [
      { record_ref: recordRef, type: 'agntcy.dir.sign.v1.Signature', annotations: { alg: 'ed25519' }, created_at: '2026-01-01T00:00:00Z', data: { sig: 'AAAA' } },
      { record_ref: recordRef, type: 'agntcy.dir.sign.v1.PublicKey', annotations: {}, created_at: '2026-01-02T00:00:00Z', data: { key: 'BBBB' } },
    ]);
    expect(pushed.code).toBe(Status.OK);
    expect(pushed.responses.map((r) => r.success)).toEqual([true, true]);
    const [signature, publicKey] = pushed.responses.map((r) => r.referrer_ref?.cid) as [string, string];

    const all = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef }, { record_ref: recordRef, referrer_type: 'agntcy.dir.sign.v1.PublicKey' }]);
    expect(all.code).toBe(Status.OK);
    expect(all.responses.map((r) => r.referrer?.referrer_ref?.cid)).toEqual([signature, publicKey, publicKey]);
    expect(all.responses[0]?.referrer).toMatchObject({
      type: 'agntcy.dir.sign.v1.Signature',
      annotations: { alg: 'ed25519' },
      record_ref: recordRef,
      created_at: '2026-01-01T00:00:00Z',
    });
    expect(toJson(all.responses[0]?.referrer?.data)).toEqual({ sig: 'AAAA' });

    const byRef = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef, referrer_ref: { cid: publicKey } }]);
    expect(byRef.responses.map((r) => r.referrer?.type)).toEqual(['agntcy.dir.sign.v1.PublicKey']);

    const deleted = await exchange(server.storeClient.deleteReferrer(), [
      { record: recordRef, referrer_type: 'agntcy.dir.sign.v1.Signature' },
      { record: recordRef, referrer_ref: { cid: publicKey } },
    ]);
    expect(deleted.code).toBe(Status.OK);
    expect(deleted.responses.map((r) => r.referrer_refs.map((ref) => ref.cid))).toEqual([[signature], [publicKey]]);
    const none = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef }]);
    expect(none).toMatchObject({ code: Status.OK, responses: [] });
  });

  it('answers referrer errors with clear statuses and stores nothing', async () => {
    const cid = await pushOne(record('referrer-errors'));
    const recordRef = { cid };
    // Fields left out go as their defaults, as on the wire.
    const request = (fields: Partial<PushReferrerRequest>): PushReferrerRequest => ({ type: SIGNATURE, annotations: {}, created_at: '', ...fields });
    const cases: readonly [PushReferrerRequest, Status, string][] = [
      [request({}), Status.INVALID_ARGUMENT, 'record_ref is missing'],
      [request({ record_ref: { cid: UNKNOWN } }), Status.NOT_FOUND, `record ${UNKNOWN} not found`],
      [request({ record_ref: recordRef, type: '' }), Status.INVALID_ARGUMENT, 'referrer type is empty'],
      [request({ record_ref: recordRef, created_at: 'soon' }), Status.INVALID_ARGUMENT, 'not an RFC 3339 timestamp'],
      [request({ record_ref: { cid: 'xyz' } }), Status.INVALID_ARGUMENT, 'invalid CID "xyz"'],
    ];
    for (const [request, code, details] of cases) {
      const result = await exchange(server.storeClient.pushReferrer(), [request]);
      expect(result.code, details).toBe(code);
      expect(result.details).toContain(details);
    }
    expect((await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef }])).responses).toEqual([]);
    const pullUnknown = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef, referrer_ref: { cid: UNKNOWN } }]);
    expect(pullUnknown.code).toBe(Status.NOT_FOUND);
    const deleteMissingRecord = await exchange(server.storeClient.deleteReferrer(), [{}]);
    expect(deleteMissingRecord).toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'record is missing: set record.cid to a CID' });
  });

  it("enforces the Directory's buf.validate rules with INVALID_ARGUMENT before looking anything up", async () => {
    const cid = await pushOne(record('referrer-rules'));
    const recordRef = { cid };
    const tooLong = 'b'.repeat(CID_MAX_LENGTH + 1);
    const longPull = await pull([tooLong]);
    expect(longPull).toMatchObject({ code: Status.INVALID_ARGUMENT, details: `record_ref.cid is ${CID_MAX_LENGTH + 1} characters long: a CID has at most ${CID_MAX_LENGTH}` });

    const push = (request: Partial<PushReferrerRequest>) =>
      exchange(server.storeClient.pushReferrer(), [{ record_ref: recordRef, type: SIGNATURE, annotations: {}, created_at: '', ...request }]);
    const unknownType = await push({ record_ref: { cid: UNKNOWN }, type: 'agntcy.dir.sign.v1.Certificate' });
    expect(unknownType.code).toBe(Status.INVALID_ARGUMENT);
    expect(unknownType.details).toBe(`type "agntcy.dir.sign.v1.Certificate" is not a referrer type: use one of ${REFERRER_TYPES.join(', ')}`);
    expect((await push({ record_ref: { cid: tooLong } })).code).toBe(Status.INVALID_ARGUMENT);
    for (const type of REFERRER_TYPES) expect((await push({ type })).code, type).toBe(Status.OK);

    const badFilter = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef, referrer_type: 'signature' }]);
    expect(badFilter).toMatchObject({ code: Status.INVALID_ARGUMENT, responses: [] });
    expect(badFilter.details).toContain('referrer_type "signature" is not a referrer type');
    const emptyRef = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef, referrer_ref: { cid: '' } }]);
    expect(emptyRef).toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'referrer_ref is missing: set referrer_ref.cid to a CID' });
    const badDelete = await exchange(server.storeClient.deleteReferrer(), [{ record: recordRef, referrer_type: '' }]);
    expect(badDelete.code).toBe(Status.INVALID_ARGUMENT);
    expect(badDelete.details).toContain('referrer type is empty');
    const kept = await exchange(server.storeClient.pullReferrer(), [{ record_ref: recordRef }]);
    expect(kept.responses.map((r) => r.referrer?.type).sort()).toEqual([...REFERRER_TYPES].sort());
  });
});
