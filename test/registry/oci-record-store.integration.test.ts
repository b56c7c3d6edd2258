/**
 * The OCI record store against the real CNCF Distribution registry built by the project, with
 * token auth on (test-registry.ts). The store's token source signs a token for exactly the scope the
 * store asks, so the registry itself proves each request asks for enough and nothing more. oras is
 * the independent reader proving the layout is plain OCI: records tagged by CID, referrers as
 * manifests whose subject is the record, found through the referrers tag schema. The Records
 * contract (records-contract.ts) runs here too, each test in a repository of its own.
 */
import { describe, expect, it } from 'vitest';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { canonicalJsonBytes, cidOf, objectCid } from '@dirtk/directory-api/cid';
import { StoreError } from '../../apps/apiserver/src/store/errors';
import {
  DEFAULT_REFERRER_LAYER_MEDIA_TYPE,
  DIR_ANNOTATIONS,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_INDEX_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  OciRecordStore,
  RECORD_LAYER_MEDIA_TYPE,
  REFERRER_ANNOTATIONS,
  referrersTag,
  sha256Digest,
} from '../../apps/apiserver/src/store/oci/oci-records';
import { describeRecordsContract } from '../../apps/apiserver/test/records-contract';
import { type RegistryAction, type TestRegistry, useTestRegistry } from './test-registry';

const SERVICE = 'dirtk-oci-store-test';
const REPOSITORY = 'dir';

let registry: TestRegistry;
let store: OciRecordStore;
const scopesAsked: string[] = [];
let contractRepositories = 0;

const RECORD = {
  name: 'example.org/agents/weather',
  version: 'v1.0.0',
  description: 'Tells the weather',
  schema_version: '0.7.0',
  created_at: '2026-01-02T03:04:05Z',
  annotations: { team: 'platform', stars: 3 },
  skills: [{ name: 'natural_language_processing/text_completion', id: 10201 }],
};

const suite = useTestRegistry('dirtk-oci-store-', async (prepared) => {
  registry = prepared;
  await registry.start({ service: SERVICE, adminAccess: { [REPOSITORY]: ['pull', 'push', 'delete'] }, deleteEnabled: true });
  store = openStore(REPOSITORY);
});

/** A store whose token source grants exactly the scope asked (`repository:<name>:<actions>`), recording it. */
function openStore(repository: string, now?: () => Date): OciRecordStore {
  return new OciRecordStore({
    registryUrl: registry.url,
    repository,
    now,
    tokens: async (scope) => {
      scopesAsked.push(scope);
      const [type, name, actions] = scope.split(':');
      if (type !== 'repository' || name === undefined || actions === undefined) throw new Error(`unexpected scope ${scope}`);
      return registry.signToken({ [name]: actions.split(',') as RegistryAction[] });
    },
  });
}

describeRecordsContract('OCI registry store on the Distribution registry', {
  open: async (now) => openStore(`contract-${++contractRepositories}`, now),
  skipReason: suite.skipReason,
});

describe('OCI record store on the Distribution registry', () => {
  it('round-trips put, get, meta and delete, asking each request for the least access', async (context) => {
    suite.skipIfUnavailable(context);
    scopesAsked.length = 0;
    const cid = await store.put(RECORD);
    expect(cid).toBe(cidOf(canonicalJsonBytes(RECORD)));
    expect(await store.put(RECORD)).toBe(cid);
    expect(await store.get(cid)).toEqual(RECORD);
    expect(await store.meta(cid)).toEqual({ cid, annotations: { team: 'platform' }, schemaVersion: '0.7.0', createdAt: '2026-01-02T03:04:05Z' });
    await store.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '', data: { s: 1 } });
    await store.delete(cid);
    await expect(store.get(cid)).rejects.toMatchObject({ reason: 'not-found' });
    expect(new Set(scopesAsked)).toEqual(new Set([`repository:${REPOSITORY}:pull`, `repository:${REPOSITORY}:pull,push`, `repository:${REPOSITORY}:delete`]));
  });

  it('lays the record out as the Directory does, readable by oras', async (context) => {
    suite.skipIfUnavailable(context);
    const record = { name: 'example.org/agents/oras', version: 'v2', schema_version: '0.7.0' };
    const cid = await store.put(record);
    const bytes = canonicalJsonBytes(record);

    const manifest = await orasManifest(cid);
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, size: 2 },
      layers: [{ mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length }],
      annotations: { [DIR_ANNOTATIONS.type]: 'record', [DIR_ANNOTATIONS.cid]: cid, [DIR_ANNOTATIONS.name]: record.name, [DIR_ANNOTATIONS.version]: 'v2' },
    });
    expect(await orasBlob(manifest.layers[0].digest)).toEqual(bytes);
  });

  it('lays referrers out as the Directory does: manifests whose subject is the record, which oras discovers', async (context) => {
    suite.skipIfUnavailable(context);
    const cid = await store.put({ name: 'example.org/agents/signed' });
    const recordManifestDigest = await manifestDigest(cid);
    const signature = await store.putReferrer(cid, { type: 'agntcy.dir.sign.v1.Signature', annotations: { tool: 'dirctl' }, createdAt: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' } });
    const note = await store.putReferrer(cid, { type: 'example.org/note', annotations: {}, createdAt: '2026-03-05T00:00:00Z', data: { text: 'hi' } });

    const manifest = await orasManifest(signature.cid);
    const envelope = canonicalJsonBytes({ annotations: { tool: 'dirctl' }, created_at: '2026-03-04T05:06:07Z', data: { signature: 'c2ln' }, record_ref: { cid }, type: signature.type });
    expect(manifest).toEqual({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      artifactType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: sha256Digest(Buffer.from('{}')), size: 2, data: 'e30=' },
      layers: [{ mediaType: 'application/vnd.dev.cosign.simplesigning.v1+json', digest: sha256Digest(envelope), size: envelope.length }],
      subject: { mediaType: OCI_MANIFEST_MEDIA_TYPE, digest: recordManifestDigest, size: expect.any(Number) },
      annotations: {
        [DIR_ANNOTATIONS.cid]: signature.cid,
        'org.opencontainers.image.created': '2026-03-04T05:06:07Z',
        [REFERRER_ANNOTATIONS.type]: 'agntcy.dir.sign.v1.Signature',
        [REFERRER_ANNOTATIONS.createdAt]: '2026-03-04T05:06:07Z',
        [`${REFERRER_ANNOTATIONS.customPrefix}tool`]: 'dirctl',
      },
    });
    expect(signature.cid).toBe(cidOf(envelope));
    expect(await orasBlob(manifest.layers[0].digest)).toEqual(envelope);
    expect((await orasManifest(note.cid)).layers[0].mediaType).toBe(DEFAULT_REFERRER_LAYER_MEDIA_TYPE);

    // A referrer another tool attaches shares the index: oras sees all three, the store its own two, in order.
    const attach = await registry.oras(['attach', '--artifact-type', 'application/vnd.example.sbom', '--annotation', 'tool=example', `${registry.host}/${REPOSITORY}:${cid}`, '--registry-config', registry.adminConfig]);
    expect(attach.exitCode, attach.all).toBe(0);
    const third = await store.putReferrer(cid, { type: 'example.org/note', annotations: {}, createdAt: '2026-03-06T00:00:00Z', data: { text: 'again' } });
    const discovered = await orasDiscover(cid);
    expect(discovered.map((referrer) => referrer.annotations?.[DIR_ANNOTATIONS.cid]).sort()).toEqual([signature.cid, note.cid, third.cid, undefined].sort());
    expect(discovered.find((referrer) => referrer.annotations?.[DIR_ANNOTATIONS.cid] === note.cid)).toMatchObject({
      artifactType: OCI_MANIFEST_MEDIA_TYPE,
      annotations: { [REFERRER_ANNOTATIONS.type]: 'example.org/note' },
    });
    expect(await store.referrers(cid)).toEqual([signature, note, third]);

    // Deleted referrers leave the index and lose their tags; deleting the record takes the rest, the other tool's too.
    expect(await store.deleteReferrers(cid, { type: 'example.org/note' })).toEqual([note.cid, third.cid]);
    expect((await orasDiscover(cid)).map((referrer) => referrer.annotations?.[DIR_ANNOTATIONS.cid])).toEqual(expect.arrayContaining([signature.cid, undefined]));
    expect(await orasDiscover(cid)).toHaveLength(2);
    expect(await tags()).not.toContain(note.cid);
    await store.delete(cid);
    const left = await tags();
    expect(left).not.toContain(signature.cid);
    expect(left).not.toContain(referrersTag(recordManifestDigest));
    const foreign = discovered.find((referrer) => referrer.artifactType === 'application/vnd.example.sbom')!;
    expect(await registryStatus(`/manifests/${foreign.digest}`)).toBe(404);
  });

  it('refuses a record whose blob does not match its CID', async (context) => {
    suite.skipIfUnavailable(context);
    const claimed = { name: 'example.org/agents/claimed' };
    const claimedCid = objectCid(claimed);
    const other = Buffer.from('{"name":"example.org/agents/impostor"}');
    // Pushed behind the store's back: the claimed CID's tag on a manifest whose layer is other bytes.
    await pushRaw('blobs', other);
    await pushRaw('manifests', Buffer.from(JSON.stringify(recordManifest(claimedCid, other))), claimedCid);

    const refusal = await store.get(claimedCid).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ reason: 'corrupt' });
    await expect(store.meta(claimedCid)).rejects.toMatchObject({ reason: 'corrupt' });
  });

  it('refuses a listed referrer whose blob does not match its CID', async (context) => {
    suite.skipIfUnavailable(context);
    const cid = await store.put({ name: 'example.org/agents/forged-referrer' });
    const genuine = await store.putReferrer(cid, { type: 'sig', annotations: {}, createdAt: '2026-01-01T00:00:00Z', data: { s: 1 } });
    const index = await registryJson(`/manifests/${referrersTag(await manifestDigest(cid))}`, OCI_INDEX_MEDIA_TYPE);
    const genuineManifest = await registryJson(`/manifests/${genuine.cid}`, OCI_MANIFEST_MEDIA_TYPE);

    // A second manifest claiming the genuine CID, its layer other bytes, listed in the index in place of the genuine one.
    const impostor = Buffer.from('{"data":{"s":2},"record_ref":{"cid":"x"},"type":"sig"}');
    await pushRaw('blobs', impostor);
    const forged = Buffer.from(JSON.stringify({ ...genuineManifest, layers: [{ ...genuineManifest.layers[0], digest: sha256Digest(impostor), size: impostor.length }] }));
    await pushRaw('manifests', forged, sha256Digest(forged));
    const listing = { ...index, manifests: [{ ...index.manifests[0], digest: sha256Digest(forged), size: forged.length }] };
    await pushRaw('manifests', Buffer.from(JSON.stringify(listing)), referrersTag(await manifestDigest(cid)), OCI_INDEX_MEDIA_TYPE);
    await expect(store.referrers(cid)).rejects.toMatchObject({ reason: 'corrupt', message: expect.stringContaining('is damaged in the registry') });
  });
});

function recordManifest(cid: string, layer: Buffer) {
  return {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST_MEDIA_TYPE,
    config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: sha256Digest(Buffer.from('{}')), size: 2 },
    layers: [{ mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(layer), size: layer.length }],
    annotations: { [DIR_ANNOTATIONS.type]: 'record', [DIR_ANNOTATIONS.cid]: cid },
  };
}

/** Writes behind the store's back with the admin token: a blob, or a manifest under `reference`. */
async function pushRaw(kind: 'blobs' | 'manifests', bytes: Buffer, reference = '', mediaType = OCI_MANIFEST_MEDIA_TYPE): Promise<void> {
  const auth = { Authorization: `Bearer ${registry.adminToken}` };
  const base = `${registry.url}/v2/${REPOSITORY}`;
  if (kind === 'manifests') {
    const put = await fetch(`${base}/manifests/${reference}`, { method: 'PUT', body: bytes, headers: { ...auth, 'Content-Type': mediaType } });
    expect(put.status, await put.text()).toBe(201);
    return;
  }
  const start = await fetch(`${base}/blobs/uploads/`, { method: 'POST', headers: auth });
  expect(start.status).toBe(202);
  const url = new URL(start.headers.get('location')!, registry.url);
  url.searchParams.set('digest', sha256Digest(bytes));
  const put = await fetch(url, { method: 'PUT', body: bytes, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
}

async function registryStatus(target: string): Promise<number> {
  const response = await fetch(`${registry.url}/v2/${REPOSITORY}${target}`, { method: 'HEAD', headers: { Authorization: `Bearer ${registry.adminToken}`, Accept: OCI_MANIFEST_MEDIA_TYPE } });
  return response.status;
}

async function registryJson(target: string, accept: string): Promise<Record<string, any>> {
  const response = await fetch(`${registry.url}/v2/${REPOSITORY}${target}`, { headers: { Authorization: `Bearer ${registry.adminToken}`, Accept: accept } });
  expect(response.status).toBe(200);
  return (await response.json()) as Record<string, any>;
}

async function manifestDigest(reference: string): Promise<string> {
  const response = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${reference}`, { method: 'HEAD', headers: { Authorization: `Bearer ${registry.adminToken}`, Accept: OCI_MANIFEST_MEDIA_TYPE } });
  expect(response.status).toBe(200);
  return response.headers.get('docker-content-digest')!;
}

async function tags(): Promise<string[]> {
  return ((await registryJson('/tags/list', 'application/json')).tags as string[] | null) ?? [];
}

async function orasManifest(reference: string): Promise<Record<string, any>> {
  const fetched = await registry.oras(['manifest', 'fetch', `${registry.host}/${REPOSITORY}:${reference}`, '--registry-config', registry.adminConfig]);
  expect(fetched.exitCode, fetched.all).toBe(0);
  return JSON.parse(fetched.stdout) as Record<string, any>;
}

/** oras pull writes only titled layers; blob fetch by the layer digest gives the exact bytes. */
async function orasBlob(digest: string): Promise<Buffer> {
  const out = path.join(registry.dir, `blob-${digest.slice(7)}`);
  const blob = await registry.oras(['blob', 'fetch', `${registry.host}/${REPOSITORY}@${digest}`, '--output', out, '--registry-config', registry.adminConfig]);
  expect(blob.exitCode, blob.all).toBe(0);
  return readFileSync(out);
}

async function orasDiscover(cid: string): Promise<Array<{ digest: string; artifactType?: string; annotations?: Record<string, string> }>> {
  const discovered = await registry.oras(['discover', `${registry.host}/${REPOSITORY}:${cid}`, '--format', 'json', '--registry-config', registry.adminConfig]);
  expect(discovered.exitCode, discovered.all).toBe(0);
  return (JSON.parse(discovered.stdout) as { referrers: Array<{ digest: string; artifactType?: string; annotations?: Record<string, string> }> }).referrers;
}
