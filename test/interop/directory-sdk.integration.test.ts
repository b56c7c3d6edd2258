/**
 * The Directory's published Python SDK against dirtk, in a virtualenv made by `python-sdk.ts`:
 * - it writes the golden fixtures again, and they must equal the committed ones byte for byte;
 * - it reads a referrer as our stores write it, the way the Directory's OCI store reads referrer blobs;
 * - its generated gRPC stubs call our apiserver over the wire (Push, Pull, Lookup, Delete, PushReferrer,
 *   PullReferrer, DeleteReferrer, CreateSync, ListSyncs, GetSync, RequestRegistryCredentials).
 *
 * Authentication: the apiserver runs as in the apiserver's own tests (`grpc-harness.ts`): insecure
 * transport on 127.0.0.1, every call authorized as a caller of the server's own trust domain. SPIFFE
 * mTLS is not what this test is about; the wire format is.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { canonicalJson, objectCid } from '@dirtk/directory-api/cid';
import { REFERRER_TYPES } from '@dirtk/directory-api/contract';
import { encodeReferrer } from '../../apps/apiserver/src/store/stored-objects';
import { REGISTRY_ADDRESS, startTestServer, type TestServer } from '../../apps/apiserver/test/grpc-harness';
import { directorySdkFixturesText, ensureDirectorySdk, PythonSdkUnavailable, runDirectorySdk, WIRE_FIXTURES_FILE } from './python-sdk';

/** A call's outcome as the helper reports it: the response(s) as proto JSON, the status, or why it could not run. */
type Outcome<T> = { ok: T; code?: undefined } | { ok?: undefined; code: string; details: string } | { ok?: undefined; not_run: string };
interface Referrer {
  type: string;
  record_ref: { cid: string };
  annotations: Record<string, string>;
  created_at: string;
  data: Record<string, unknown>;
  referrer_ref: { cid: string };
}
interface Exercise {
  push: Outcome<{ cid: string }[]>;
  pull: Outcome<{ data: Record<string, unknown> }[]>;
  lookup: Outcome<{ cid: string; annotations: Record<string, string>; schema_version: string; created_at: string }[]>;
  push_referrer: Outcome<{ success: boolean; referrer_ref: { cid: string } }[]>;
  pull_referrer: Outcome<{ referrer: Referrer }[]>;
  pull_referrer_by_ref: Outcome<{ referrer: Referrer }[]>;
  push_referrer_unknown_type: Outcome<unknown>;
  delete_referrer: Outcome<{ referrer_refs: { cid: string }[] }[]>;
  delete: Outcome<Record<string, never>>;
  pull_deleted: Outcome<unknown>;
  create_sync: Outcome<{ sync_id: string }>;
  list_syncs: Outcome<{ sync_id: string; status: string; remote_directory_url: string }[]>;
  get_sync: Outcome<{ sync_id: string; status: string; remote_directory_url: string; created_time: string; last_update_time: string }>;
  request_registry_credentials: Outcome<{
    success: boolean;
    registry_address: string;
    repository_name: string;
    insecure: boolean;
    basic_auth?: { username: string; password: string };
  }>;
}

let python: string | undefined;
let skipReason: string | undefined;

beforeAll(async () => {
  try {
    python = await ensureDirectorySdk();
  } catch (error) {
    if (!(error instanceof PythonSdkUnavailable)) throw error;
    skipReason = `the Directory's Python SDK could not be installed here: ${error.message}`;
    process.stderr.write(`[python-sdk] skipping: ${skipReason}\n`);
  }
}, 660_000);

function sdkPython(context: TestContext): string {
  if (skipReason !== undefined || python === undefined) context.skip(skipReason);
  return python!;
}

describe("the Directory's Python SDK", () => {
  it('writes exactly the committed golden fixtures', async (context) => {
    const fresh = await directorySdkFixturesText(sdkPython(context));
    expect(fresh === readFileSync(WIRE_FIXTURES_FILE, 'utf8'), 'the SDK now writes other fixtures: run npx tsx test/interop/python-sdk.ts and review the diff').toBe(true);
  });

  describe("reading a referrer as stored, as the Directory's OCI store reads a referrer blob (proto JSON, unknown fields refused)", () => {
    const recordCid = objectCid({ name: 'signed' });
    const input = { type: 'agntcy.dir.sign.v1.Signature', annotations: { alg: 'ES256' }, createdAt: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' } };

    it('reads what our stores write as the same RecordReferrer', async (context) => {
      const { bytes } = encodeReferrer(recordCid, input, () => new Date());
      const read = await runDirectorySdk<{ referrer?: Referrer; error?: string }>(sdkPython(context), ['read-referrer', bytes.toString('utf8')]);
      expect(read).toEqual({
        referrer: { type: input.type, record_ref: { cid: recordCid }, annotations: input.annotations, created_at: input.createdAt, data: input.data },
      });
    });

    it("refuses the envelope dirtk stored before (record_cid), which is why stores migrate it", async (context) => {
      const previous = canonicalJson({ annotations: input.annotations, created_at: input.createdAt, data: input.data, record_cid: recordCid, type: input.type });
      const read = await runDirectorySdk<{ error?: string }>(sdkPython(context), ['read-referrer', previous]);
      expect(read.error).toMatch(/has no field named "record_cid"/);
    });
  });

  describe('calling our apiserver with its generated gRPC stubs', () => {
    let server: TestServer;
    let result: Exercise;
    beforeAll(async () => {
      if (python === undefined) return;
      server = await startTestServer();
      result = await runDirectorySdk<Exercise>(python, ['exercise', server.address]);
    }, 120_000);
    afterAll(async () => {
      await server?.close();
    });

    it('pushes two records, pulls them back unchanged and looks them up', (context) => {
      sdkPython(context);
      expect(result.push.ok).toHaveLength(2);
      const cids = result.push.ok!.map((ref) => ref.cid);
      expect(new Set(cids).size).toBe(2);
      expect(result.pull.ok?.map((record) => record.data.name)).toEqual(['sdk-agent-1', 'sdk-agent-2']);
      expect(result.pull.ok?.[0]?.data).toMatchObject({ schema_version: '0.7.0', score: 0.75, extensions: null, skills: [{ id: 10201 }] });
      expect(result.lookup.ok?.map((meta) => meta.cid)).toEqual(cids);
      expect(result.lookup.ok?.[0]).toMatchObject({ schema_version: '0.7.0', created_at: '2026-01-02T03:04:05Z', annotations: { team: 'blue' } });
    });

    it('pushes referrers with data and pulls them back, all or by reference', (context) => {
      sdkPython(context);
      const [recordCid] = result.push.ok!.map((ref) => ref.cid);
      expect(result.push_referrer.ok?.map((response) => response.success)).toEqual([true, true]);
      const [signatureCid, publicKeyCid] = result.push_referrer.ok!.map((response) => response.referrer_ref.cid);
      expect(result.pull_referrer.ok?.map((response) => response.referrer.referrer_ref.cid)).toEqual([signatureCid, publicKeyCid]);
      expect(result.pull_referrer.ok?.[0]?.referrer).toEqual({
        type: 'agntcy.dir.sign.v1.Signature',
        record_ref: { cid: recordCid },
        annotations: { alg: 'ES256', issuer: 'dirtk' },
        created_at: '2026-01-02T03:04:06Z',
        data: { annotations: { alg: 'ES256' }, certificate: null, content_bundle: 'MEUCIQ==', signed_at: '2026-01-02T03:04:06Z', verified: true },
        referrer_ref: { cid: signatureCid },
      });
      expect(result.pull_referrer_by_ref.ok?.map((response) => [response.referrer.type, response.referrer.data])).toEqual([
        ['agntcy.dir.sign.v1.PublicKey', { key: 'MCowBQYDK2VwAyEA' }],
      ]);
      expect(result.delete_referrer.ok).toEqual([{ referrer_refs: [{ cid: publicKeyCid }] }]);
    });

    it('gets INVALID_ARGUMENT for a referrer type the Directory does not know', (context) => {
      sdkPython(context);
      expect(result.push_referrer_unknown_type).toEqual({
        code: 'INVALID_ARGUMENT',
        details: `type "agntcy.dir.sign.v1.Certificate" is not a referrer type: use one of ${REFERRER_TYPES.join(', ')}`,
      });
    });

    it('deletes a record, after which pulling it is NOT_FOUND', (context) => {
      sdkPython(context);
      expect(result.delete).toEqual({ ok: {} });
      expect(result.pull_deleted).toMatchObject({ code: 'NOT_FOUND', details: `record ${result.push.ok![1]!.cid} not found` });
    });

    it('creates, lists and gets a sync, and receives registry credentials', (context) => {
      sdkPython(context);
      const syncId = result.create_sync.ok!.sync_id;
      expect(result.list_syncs.ok).toEqual([{ sync_id: syncId, status: 'SYNC_STATUS_PENDING', remote_directory_url: 'https://dir.partner.example:8888' }]);
      expect(result.get_sync.ok).toMatchObject({ sync_id: syncId, status: 'SYNC_STATUS_PENDING', remote_directory_url: 'https://dir.partner.example:8888' });
      expect(Date.parse(result.get_sync.ok!.created_time)).not.toBeNaN();
      const credentials = result.request_registry_credentials.ok!;
      expect(credentials).toMatchObject({ success: true, registry_address: REGISTRY_ADDRESS, repository_name: 'dir', insecure: true });
      expect(credentials.basic_auth?.username).not.toBe('');
      expect(credentials.basic_auth?.password).not.toBe('');
    });
  });
});
