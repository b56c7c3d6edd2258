/**
 * The OCI record store against the real CNCF Distribution registry built by the project, with
 * token auth on: the registry trusts only a test-only admin key (the pattern of
 * registry-token.integration.test.ts), whose tokens grant pull, push and delete; the store gets
 * them from its token source, oras from its config's `registrytoken`. oras is the independent
 * reader proving the layout is a plain OCI artifact tagged by the record's CID.
 */
import { generateKeyPairSync, type KeyObject } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { canonicalJsonBytes, cidOf } from '@dirtk/directory-api/cid';
import { REGISTRY_TOKEN_ISSUER, registryTokenKeyId, type RegistryTokenPublicJwk } from '@dirtk/directory-api/contract';
import { StoreError } from '../../apps/apiserver/src/store/errors';
import {
  DIR_ANNOTATIONS,
  OCI_EMPTY_MEDIA_TYPE,
  OCI_MANIFEST_MEDIA_TYPE,
  OciRecordStore,
  RECORD_LAYER_MEDIA_TYPE,
  sha256Digest,
} from '../../apps/apiserver/src/store/oci/oci-records';
import { ensureRegistry, type RegistryInstall } from '../../registry/build/install';
import { RegistryProcess } from '../../registry/process';
import { freePorts } from '../../spire/process/ports';

const SERVICE = 'dirtk-oci-store-test';
const REPOSITORY = 'dir';

let install: RegistryInstall | undefined;
let skipReason: string | undefined;
let dir: string;
let registry: RegistryProcess;
let host: string;
let adminToken: string;
let adminConfig: string;
let store: OciRecordStore;
const scopesAsked: string[] = [];

const RECORD = {
  name: 'example.org/agents/weather',
  version: 'v1.0.0',
  description: 'Tells the weather',
  schema_version: '0.7.0',
  created_at: '2026-01-02T03:04:05Z',
  annotations: { team: 'platform', stars: 3 },
  skills: [{ name: 'natural_language_processing/text_completion', id: 10201 }],
};

beforeAll(async () => {
  try {
    install = await ensureRegistry({ log: (line) => console.log(`[registry build] ${line}`) });
  } catch (error) {
    skipReason = `the Distribution registry and oras could not be built: ${(error as Error).message.split('\n')[0]}`;
    return;
  }
  dir = mkdtempSync(path.join(tmpdir(), 'dirtk-oci-store-'));
  const adminKey = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  const [port] = await freePorts(1);
  host = `127.0.0.1:${port}`;
  registry = await RegistryProcess.start({
    dir: path.join(dir, 'registry'),
    listen: host,
    // Never asked: the store and oras present ready-made tokens.
    tokenRealm: 'http://127.0.0.1:9/registry/token',
    service: SERVICE,
    trustedKeys: [publicJwk(adminKey)],
    deleteEnabled: true,
  });
  adminToken = await signAdminToken(adminKey);
  adminConfig = path.join(dir, 'oras-admin.json');
  writeFileSync(adminConfig, JSON.stringify({ auths: { [host]: { registrytoken: adminToken } } }));
  store = new OciRecordStore({
    registryUrl: registry.url,
    repository: REPOSITORY,
    tokens: async (scope) => {
      scopesAsked.push(scope);
      return adminToken;
    },
  });
}, 300_000);

afterAll(async () => {
  await registry?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

describe('OCI record store on the Distribution registry', () => {
  it('round-trips put, get, meta and delete, tagging the record by its CID', async (context) => {
    skipIfUnavailable(context);
    const cid = await store.put(RECORD);
    expect(cid).toBe(cidOf(canonicalJsonBytes(RECORD)));
    expect(await store.put(RECORD)).toBe(cid);
    expect(await store.get(cid)).toEqual(RECORD);
    expect(await store.meta(cid)).toEqual({ cid, annotations: { team: 'platform' }, schemaVersion: '0.7.0', createdAt: '2026-01-02T03:04:05Z' });
    expect(scopesAsked).toContain(`repository:${REPOSITORY}:pull,push,delete`);

    await store.delete(cid);
    await expect(store.get(cid)).rejects.toMatchObject({ reason: 'not-found' });
    await expect(store.meta(cid)).rejects.toMatchObject({ reason: 'not-found' });
    await expect(store.delete(cid)).rejects.toMatchObject({ reason: 'not-found' });
    // Put again after delete: stored anew.
    expect(await store.put(RECORD)).toBe(cid);
    expect(await store.get(cid)).toEqual(RECORD);
  });

  it('lays the record out as the Directory does, readable by oras', async (context) => {
    skipIfUnavailable(context);
    const record = { name: 'example.org/agents/oras', version: 'v2', schema_version: '0.7.0' };
    const cid = await store.put(record);
    const bytes = canonicalJsonBytes(record);

    const fetched = await oras(['manifest', 'fetch', `${host}/${REPOSITORY}:${cid}`, '--registry-config', adminConfig]);
    expect(fetched.exitCode, fetched.all).toBe(0);
    const manifest = JSON.parse(fetched.stdout) as Record<string, any>;
    expect(manifest).toMatchObject({
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, size: 2 },
      layers: [{ mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(bytes), size: bytes.length }],
      annotations: { [DIR_ANNOTATIONS.type]: 'record', [DIR_ANNOTATIONS.cid]: cid, [DIR_ANNOTATIONS.name]: record.name, [DIR_ANNOTATIONS.version]: 'v2' },
    });

    // oras pull writes only titled layers; blob fetch by the layer digest gives the exact record bytes.
    const out = path.join(dir, `blob-${cid}`);
    const blob = await oras(['blob', 'fetch', `${host}/${REPOSITORY}@${manifest.layers[0].digest}`, '--output', out, '--registry-config', adminConfig]);
    expect(blob.exitCode, blob.all).toBe(0);
    expect(readFileSync(out)).toEqual(bytes);
  });

  it('refuses a record whose blob does not match its CID', async (context) => {
    skipIfUnavailable(context);
    const claimed = { name: 'example.org/agents/claimed' };
    const claimedCid = cidOf(canonicalJsonBytes(claimed));
    const other = Buffer.from('{"name":"example.org/agents/impostor"}');
    // Pushed behind the store's back: the claimed CID's tag on a manifest whose layer is other bytes.
    await pushRaw(other);
    const emptyDigest = sha256Digest(Buffer.from('{}'));
    await pushRaw(Buffer.from('{}'));
    const forged = {
      schemaVersion: 2,
      mediaType: OCI_MANIFEST_MEDIA_TYPE,
      config: { mediaType: OCI_EMPTY_MEDIA_TYPE, digest: emptyDigest, size: 2 },
      layers: [{ mediaType: RECORD_LAYER_MEDIA_TYPE, digest: sha256Digest(other), size: other.length }],
      annotations: { [DIR_ANNOTATIONS.type]: 'record', [DIR_ANNOTATIONS.cid]: claimedCid },
    };
    const put = await fetch(`${registry.url}/v2/${REPOSITORY}/manifests/${claimedCid}`, {
      method: 'PUT',
      body: JSON.stringify(forged),
      headers: { 'Content-Type': OCI_MANIFEST_MEDIA_TYPE, Authorization: `Bearer ${adminToken}` },
    });
    expect(put.status, await put.text()).toBe(201);

    const refusal = await store.get(claimedCid).catch((error: unknown) => error);
    expect(refusal).toBeInstanceOf(StoreError);
    expect(refusal).toMatchObject({ reason: 'corrupt' });
    await expect(store.meta(claimedCid)).rejects.toMatchObject({ reason: 'corrupt' });
  });

  it('answers not-found and invalid-argument as the filesystem store does', async (context) => {
    skipIfUnavailable(context);
    await expect(store.get(cidOf(Buffer.from('{"never":"stored"}')))).rejects.toMatchObject({ reason: 'not-found' });
    await expect(store.get(cidOf(Buffer.from('{}'), 0x0200))).rejects.toMatchObject({ reason: 'invalid-argument' });
    await expect(store.put({})).rejects.toMatchObject({ reason: 'invalid-argument' });
  });
});

function publicJwk(key: KeyObject): RegistryTokenPublicJwk {
  const { x, y } = key.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: x as string, y: y as string };
}

/** The test-only admin path: pull, push and delete on the repository, signed with a key only this test's registry trusts. */
function signAdminToken(key: KeyObject): Promise<string> {
  return new SignJWT({ access: [{ type: 'repository', name: REPOSITORY, actions: ['pull', 'push', 'delete'] }] })
    .setProtectedHeader({ alg: 'ES256', typ: 'JWT', kid: registryTokenKeyId(publicJwk(key)) })
    .setIssuer(REGISTRY_TOKEN_ISSUER)
    .setSubject('dirtk-test-admin')
    .setAudience(SERVICE)
    .setIssuedAt()
    .setNotBefore('0s')
    .setExpirationTime('1h')
    .sign(key);
}

async function pushRaw(bytes: Buffer): Promise<void> {
  const auth = { Authorization: `Bearer ${adminToken}` };
  const start = await fetch(`${registry.url}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST', headers: auth });
  expect(start.status).toBe(202);
  const url = new URL(start.headers.get('location')!, registry.url);
  url.searchParams.set('digest', sha256Digest(bytes));
  const put = await fetch(url, { method: 'PUT', body: bytes, headers: { ...auth, 'Content-Type': 'application/octet-stream' } });
  expect(put.status).toBe(201);
}

/** Runs oras against the plain-HTTP registry in a fresh folder. */
async function oras(args: readonly string[]) {
  const cwd = mkdtempSync(path.join(dir, 'oras-'));
  mkdirSync(path.join(cwd, 'home'));
  return execa(install!.orasBin, [...args, '--plain-http'], { cwd, reject: false, all: true, env: { HOME: path.join(cwd, 'home'), DOCKER_CONFIG: path.join(cwd, 'home') }, timeout: 60_000 });
}
