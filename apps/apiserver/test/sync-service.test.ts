import { registryUsername } from '@dirtk/directory-api/contract';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CreateSyncRequest, CreateSyncResponse, GetSyncResponse, ListSyncsRequest, RequestRegistryCredentialsResponse } from '@dirtk/directory-api/grpc';
import type { CallerContext } from '../src/services/caller';
import { verifyRegistryCredentials } from '../src/services/registry-credentials';
import { objectCid } from '@dirtk/directory-api/cid';
import { collect, metadataWith, REGISTRY_ADDRESS, REGISTRY_SECRET, startTestServer, type TestServer, unary } from './grpc-harness';

const CALLERS: Record<string, CallerContext> = {
  a: { spiffeId: 'spiffe://dir.example/ns/dir/sa/peer-a', trustDomain: 'dir.example' },
  b: { spiffeId: 'spiffe://partner.example/ns/dir/sa/peer-b', trustDomain: 'partner.example' },
};

let server: TestServer;
beforeAll(async () => {
  // A test hook that takes the caller from metadata, so one server sees several identities.
  server = await startTestServer(async (call) => CALLERS[String(call.metadata.get('x-test-caller')[0] ?? 'a')] as CallerContext);
});
afterAll(async () => {
  await server.close();
});

/** The fields left out are sent as their defaults, as on the wire. */
const createSync = (request: Partial<CreateSyncRequest>) =>
  unary<CreateSyncResponse>((callback) =>
    server.syncClient.createSync({ remote_directory_url: '', cids: [], remote_registry_url: '', repository_name: '', ...request }, callback),
  );
const getSync = (syncId: string) => unary<GetSyncResponse>((callback) => server.syncClient.getSync({ sync_id: syncId }, callback));
const listSyncs = (request: ListSyncsRequest) => collect(server.syncClient.listSyncs(request));
const requestCredentials = (caller: string) =>
  unary<RequestRegistryCredentialsResponse>((callback) => server.syncClient.requestRegistryCredentials({}, metadataWith({ 'x-test-caller': caller }), callback));

describe('SyncService syncs', () => {
  it('creates a sync, gets it, lists it and deletes it; the worker FAILs a sync from a peer nobody configured', async () => {
    const cid = objectCid({ a: 1 });
    const created = await createSync({ remote_directory_url: 'https://dir.peer.example:8888', cids: [cid], remote_registry_url: '', repository_name: '' });
    expect(created.code).toBe(Status.OK);
    const syncId = created.response?.sync_id as string;
    expect(syncId).toMatch(/^[0-9a-f-]{36}$/);

    const got = await getSync(syncId);
    expect(got.code).toBe(Status.OK);
    expect(got.response).toMatchObject({
      sync_id: syncId,
      status: expect.stringMatching(/^SYNC_STATUS_(PENDING|FAILED)$/),
      remote_directory_url: 'https://dir.peer.example:8888',
      remote_registry_url: '',
      repository_name: '',
    });
    expect(Date.parse(got.response?.created_time as string)).not.toBeNaN();
    await server.syncWorker.idle();
    expect((await getSync(syncId)).response?.status).toBe('SYNC_STATUS_FAILED');
    expect((await server.store.syncs.get(syncId)).failureReason).toBe('remote_directory_url "https://dir.peer.example:8888" is not a configured sync peer (none is configured)');

    const listed = await listSyncs({});
    expect(listed.code).toBe(Status.OK);
    expect(listed.responses.map((item) => item.sync_id)).toContain(syncId);

    expect(await unary((callback) => server.syncClient.deleteSync({ sync_id: syncId }, callback))).toMatchObject({ code: Status.OK, response: {} });
    expect((await getSync(syncId)).response?.status).toBe('SYNC_STATUS_DELETED');
  });

  it('accepts a registry-only sync and pages ListSyncs oldest first', async () => {
    const ids: string[] = [];
    for (const name of ['page/one', 'page/two', 'page/three']) {
      const created = await createSync({ remote_registry_url: 'zot.peer.example:5000', repository_name: name });
      expect(created.code).toBe(Status.OK);
      ids.push(created.response?.sync_id as string);
    }
    const all = (await listSyncs({})).responses.map((item) => item.sync_id);
    const mine = all.filter((id) => ids.includes(id));
    expect(mine).toEqual(ids);

    await server.syncWorker.idle();
    const page = await listSyncs({ offset: all.indexOf(ids[1] as string), limit: 1 });
    expect(page.responses).toEqual([
      { sync_id: ids[1], status: 'SYNC_STATUS_FAILED', remote_directory_url: '', remote_registry_url: 'zot.peer.example:5000', repository_name: 'page/two' },
    ]);
  });

  it.each([
    [{ remote_directory_url: '', remote_registry_url: '  ' }, 'needs remote_directory_url or remote_registry_url'],
    [{ remote_directory_url: 'https://peer', cids: ['not-a-cid'] }, 'invalid CID "not-a-cid"'],
    [{ remote_registry_url: 'zot:5000', repository_name: 'UPPER' }, 'not an OCI repository name'],
  ])('rejects CreateSync %j with INVALID_ARGUMENT', async (request, details) => {
    const before = (await listSyncs({})).responses.length;
    const result = await createSync(request);
    expect(result.code).toBe(Status.INVALID_ARGUMENT);
    expect(result.details).toContain(details);
    expect((await listSyncs({})).responses.length).toBe(before);
  });

  it('answers malformed sync IDs with INVALID_ARGUMENT and unknown ones with NOT_FOUND', async () => {
    expect(await getSync('../../etc')).toMatchObject({ code: Status.INVALID_ARGUMENT, details: 'sync_id "../../etc" is not a sync ID (a lowercase UUID)' });
    const unknown = '00000000-0000-4000-8000-000000000000';
    expect(await getSync(unknown)).toMatchObject({ code: Status.NOT_FOUND, details: `sync ${unknown} not found` });
    expect((await unary((callback) => server.syncClient.deleteSync({ sync_id: unknown }, callback))).code).toBe(Status.NOT_FOUND);
  });
});

describe('SyncService RequestRegistryCredentials', () => {
  it('issues pull credentials for the registry, scoped to the calling identity', async () => {
    const result = await requestCredentials('a');
    expect(result.code).toBe(Status.OK);
    expect(result.response).toMatchObject({
      success: true,
      error_message: '',
      registry_address: REGISTRY_ADDRESS,
      repository_name: 'dir',
      insecure: true,
      // The `credentials` oneof holds basic_auth.
      basic_auth: { username: registryUsername(CALLERS.a!.spiffeId), password: expect.any(String) },
    });
    const { username, password } = result.response?.basic_auth ?? { username: '', password: '' };
    expect(username).toBe(registryUsername(CALLERS.a!.spiffeId));
    const grant = verifyRegistryCredentials(username, password, { secret: REGISTRY_SECRET });
    expect(grant).toMatchObject({ subject: CALLERS.a?.spiffeId, repository: 'dir', actions: ['pull'] });
    const lifetime = grant.expiresAt.getTime() - Date.now();
    expect(lifetime).toBeGreaterThan(0);
    expect(lifetime).toBeLessThanOrEqual(600_000);
  });

  it("gives each caller its own credentials: A's token is not valid as B", async () => {
    const a = (await requestCredentials('a')).response?.basic_auth;
    const b = (await requestCredentials('b')).response?.basic_auth;
    expect(b?.username).toBe(registryUsername(CALLERS.b!.spiffeId));
    expect(a?.password).not.toBe(b?.password);
    expect(() => verifyRegistryCredentials(registryUsername(CALLERS.b!.spiffeId), a?.password as string, { secret: REGISTRY_SECRET })).toThrow(
      `token was issued to ${CALLERS.a?.spiffeId}, not ${registryUsername(CALLERS.b!.spiffeId)}`,
    );
  });

  it('issues credentials that expire', async () => {
    const { username, password } = (await requestCredentials('a')).response?.basic_auth ?? { username: '', password: '' };
    const afterExpiry = Date.now() + 601_000;
    expect(() => verifyRegistryCredentials(username, password, { secret: REGISTRY_SECRET, now: () => afterExpiry })).toThrow('token expired at');
  });
});
