import { registryUsername } from '@dirtk/directory-api/contract';
import { readdir } from 'node:fs/promises';
import path from 'node:path';
import { type ClientDuplexStream, credentials, makeGenericClientConstructor, ServerCredentials, status as Status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { syncServiceClient } from '@dirtk/directory-api/grpc';
import { DIRECTORY_METHODS, HEALTH_METHODS } from '../src/api/services';
import type { RequestRegistryCredentialsResponse } from '@dirtk/directory-api/grpc';
import type { AuthorizeCall, CallerContext } from '../src/services/caller';
import { StatusError } from '../src/services/status';
import { createInsecureDirectoryServer, INSECURE_CALLER } from '../src/server';
import { DirectoryMetrics } from '../src/observability/metrics';
import { createJsonLogger } from '../src/observability/logger';
import { RegistryCredentialIssuer } from '../src/services/registry-credentials';
import { openStore } from '../src/store/store';
import { collect, exchange, REGISTRY_SECRET, startTestServer, type TestServer, unary } from './grpc-harness';
import { STORE_SYNC_METHODS } from './authz-fixtures';
import { useTempDirs } from './store-helpers';

const STORE = '/agntcy.dir.store.v1.StoreService';
const SYNC = '/agntcy.dir.store.v1.SyncService';
const CALLER: CallerContext = { spiffeId: 'spiffe://partner.example/ns/dir/sa/peer', trustDomain: 'partner.example' };

const servers: TestServer[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((server) => server.close()));
});
async function serve(authorize?: AuthorizeCall): Promise<TestServer> {
  const server = await startTestServer(authorize);
  servers.push(server);
  return server;
}

const newDir = useTempDirs();

describe('DIRECTORY_METHODS', () => {
  it('names the 12 Store and Sync methods exactly, plus health and reflection', () => {
    expect(DIRECTORY_METHODS.filter((method) => method.startsWith('/agntcy.'))).toEqual(STORE_SYNC_METHODS);
    expect([...DIRECTORY_METHODS].sort()).toEqual(
      [
        ...STORE_SYNC_METHODS,
        '/grpc.health.v1.Health/Check',
        '/grpc.health.v1.Health/Watch',
        '/grpc.reflection.v1.ServerReflection/ServerReflectionInfo',
        '/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo',
      ].sort(),
    );
    expect(HEALTH_METHODS).toEqual(['/grpc.health.v1.Health/Check', '/grpc.health.v1.Health/Watch']);
  });

  it('is exactly what the composition registers', async () => {
    const server = await serve();
    expect([...server.methods].sort()).toEqual([...DIRECTORY_METHODS].sort());
  });
});

describe('the authorize hook', () => {
  it('sees every non-health call once, with its full method name, and hands its caller to the handler', async () => {
    const seen: string[] = [];
    const server = await serve(async (call, method) => {
      expect(call.getPath()).toBe(method);
      seen.push(method);
      return CALLER;
    });
    await exchange(server.storeClient.push(), [{ data: { name: 'a' } }, { data: { name: 'b' } }]);
    await unary((callback) => server.syncClient.getSync({ sync_id: '00000000-0000-4000-8000-000000000000' }, callback));
    const issued = await unary<RequestRegistryCredentialsResponse>((callback) => server.syncClient.requestRegistryCredentials({}, callback));
    await unary((callback) => server.healthClient.check({ service: '' }, callback));
    expect(seen).toEqual([`${STORE}/Push`, `${SYNC}/GetSync`, `${SYNC}/RequestRegistryCredentials`]);
    expect(issued.response?.basic_auth?.username).toBe(registryUsername(CALLER.spiffeId));
  });

  it('refuses with the status it throws, before a stream is read, and nothing is stored', async () => {
    const server = await serve(async (_call, method) => {
      throw Object.assign(new StatusError(Status.PERMISSION_DENIED, `not allowed to access ${method}`), { caller: CALLER });
    });
    const push = await exchange(server.storeClient.push(), [{ data: { name: 'denied' } }]);
    expect(push).toMatchObject({ code: Status.PERMISSION_DENIED, details: `not allowed to access ${STORE}/Push`, responses: [] });
    const deleted = await unary((callback) => server.storeClient.delete(callback).end());
    expect(deleted).toMatchObject({ code: Status.PERMISSION_DENIED, details: `not allowed to access ${STORE}/Delete` });
    const list = await collect(server.syncClient.listSyncs({}));
    expect(list.code).toBe(Status.PERMISSION_DENIED);
    const create = await unary((callback) => server.syncClient.createSync({ remote_directory_url: 'https://x', cids: [], remote_registry_url: '', repository_name: '' }, callback));
    expect(create.code).toBe(Status.PERMISSION_DENIED);
    expect(await server.store.syncs.list()).toEqual([]);
    expect(await readdir(path.join(server.store.root, 'records'))).toEqual([]);
    // Refusals are counted against the refused caller's trust domain.
    expect(await server.metrics.registry.getSingleMetricAsString('dirtk_apiserver_rpcs_total')).toContain(
      `dirtk_apiserver_rpcs_total{method="${STORE}/Push",code="PERMISSION_DENIED",trust_domain="partner.example"} 1`,
    );
  });

  it('turns an unexpected hook failure into INTERNAL without leaking its message, and logs the cause', async () => {
    const server = await serve(async () => {
      throw new Error('policy file /etc/secret unreadable');
    });
    const result = await unary((callback) => server.syncClient.getSync({ sync_id: 'x' }, callback));
    expect(result.code).toBe(Status.INTERNAL);
    expect(result.details).not.toContain('/etc/secret');
    const line = server.logLines().find((entry) => entry.method === `${SYNC}/GetSync`);
    expect(line).toMatchObject({ level: 'error', msg: 'rpc failed', code: 'INTERNAL', cause: { name: 'Error', message: 'policy file /etc/secret unreadable' } });
  });

  it('guards reflection but never health', async () => {
    const server = await serve(async () => {
      throw new StatusError(Status.UNAUTHENTICATED, 'not authenticated');
    });
    expect(await unary((callback) => server.healthClient.check({ service: '' }, callback))).toMatchObject({ code: Status.OK, response: { status: 'SERVING' } });
    const reflection = await exchange(reflectionClient(server.address).ServerReflectionInfo(), [{ list_services: '*' }]);
    expect(reflection.code).toBe(Status.UNAUTHENTICATED);
  });
});

describe('health', () => {
  it('reports every service SERVING, NOT_FOUND for unknown services, and follows changes', async () => {
    const server = await serve();
    for (const service of ['', 'agntcy.dir.store.v1.StoreService', 'agntcy.dir.store.v1.SyncService']) {
      expect(await unary((callback) => server.healthClient.check({ service }, callback))).toMatchObject({ code: Status.OK, response: { status: 'SERVING' } });
    }
    expect((await unary((callback) => server.healthClient.check({ service: 'nope' }, callback))).code).toBe(Status.NOT_FOUND);
    server.health.set('', 'NOT_SERVING');
    expect(await unary((callback) => server.healthClient.check({ service: '' }, callback))).toMatchObject({ response: { status: 'NOT_SERVING' } });
  });

  it('streams status changes to Watch until shutdown ends the stream', async () => {
    const server = await serve();
    const watch = server.healthClient.watch({ service: '' });
    const received: string[] = [];
    const done = collect<{ status: string }>(watch);
    watch.on('data', ({ status }: { status: string }) => {
      received.push(status);
      if (received.length === 1) server.health.set('', 'NOT_SERVING');
      if (received.length === 2) server.health.set('', 'SERVING');
      if (received.length === 3) server.health.shutdown();
    });
    const result = await done;
    expect(result.code).toBe(Status.OK);
    expect(received).toEqual(['SERVING', 'NOT_SERVING', 'SERVING', 'NOT_SERVING']);
  });

  it('answers Watch for an unknown service with SERVICE_UNKNOWN', async () => {
    const server = await serve();
    const watch = server.healthClient.watch({ service: 'later' });
    const first = await new Promise<{ status: string }>((resolve) => watch.once('data', resolve));
    expect(first.status).toBe('SERVICE_UNKNOWN');
    const second = new Promise<{ status: string }>((resolve) => watch.once('data', resolve));
    server.health.set('later', 'SERVING');
    expect((await second).status).toBe('SERVING');
    watch.on('error', () => undefined);
    watch.cancel();
  });
});

describe('reflection', () => {
  it('lists the directory services', async () => {
    const server = await serve();
    const result = await exchange(reflectionClient(server.address).ServerReflectionInfo(), [{ list_services: '*' }]);
    expect(result.code).toBe(Status.OK);
    const names = result.responses[0]?.list_services_response?.service.map((s) => s.name);
    expect(names).toEqual(expect.arrayContaining(['agntcy.dir.store.v1.StoreService', 'agntcy.dir.store.v1.SyncService', 'grpc.health.v1.Health']));
  });
});

describe('observability of calls', () => {
  it('counts RPCs by method, status code and caller trust domain, and logs one line per call', async () => {
    const server = await serve(async () => CALLER);
    await unary((callback) => server.syncClient.getSync({ sync_id: '00000000-0000-4000-8000-000000000000' }, callback));
    await unary((callback) => server.healthClient.check({ service: '' }, callback));
    const text = await server.metrics.registry.getSingleMetricAsString('dirtk_apiserver_rpcs_total');
    expect(text).toContain(`dirtk_apiserver_rpcs_total{method="${SYNC}/GetSync",code="NOT_FOUND",trust_domain="partner.example"} 1`);
    expect(text).toContain('dirtk_apiserver_rpcs_total{method="/grpc.health.v1.Health/Check",code="OK",trust_domain="none"} 1');
    const lines = server.logLines();
    expect(lines.filter((line) => line.method === `${SYNC}/GetSync`)).toEqual([
      expect.objectContaining({ level: 'info', msg: 'rpc failed', code: 'NOT_FOUND', caller: CALLER.spiffeId, error: expect.stringContaining('not found') }),
    ]);
    expect(lines.filter((line) => line.method === '/grpc.health.v1.Health/Check')).toEqual([expect.objectContaining({ level: 'debug', code: 'OK' })]);
  });
});

describe('cancellation', () => {
  const metric = (server: TestServer) => server.metrics.registry.getSingleMetricAsString('dirtk_apiserver_rpcs_total');

  it('records a Watch the client cancels as CANCELLED', async () => {
    const server = await serve();
    const watch = server.healthClient.watch({ service: '' });
    watch.on('error', () => undefined);
    await new Promise((resolve) => watch.once('data', resolve));
    watch.cancel();
    await vi.waitFor(async () => expect(await metric(server)).toContain('{method="/grpc.health.v1.Health/Watch",code="CANCELLED",trust_domain="none"} 1'));
  });

  it('reports a call cancelled during authorization as CANCELLED and stores nothing', async () => {
    let entered: () => void = () => undefined;
    const inHook = new Promise<void>((resolve) => (entered = resolve));
    let release: () => void = () => undefined;
    const server = await serve(async () => {
      entered();
      await new Promise<void>((resolve) => (release = resolve));
      return CALLER;
    });
    const call = server.storeClient.push();
    call.on('error', () => undefined);
    call.write({ data: { name: 'cancelled-before-handler' } });
    await inHook;
    call.cancel();
    await vi.waitFor(async () => expect(await metric(server)).toContain(`{method="${STORE}/Push",code="CANCELLED",trust_domain="none"} 1`));
    release();
    await new Promise((resolve) => setImmediate(resolve));
    expect(await readdir(path.join(server.store.root, 'records'))).toEqual([]);
    expect(await metric(server)).not.toContain(`code="OK"`);
  });
});

describe('insecure composition', () => {
  it('lets every call through as the fixed insecure caller', async () => {
    const store = await openStore(await newDir());
    const composed = createInsecureDirectoryServer({
      store,
      logger: createJsonLogger({ write: () => undefined }),
      metrics: new DirectoryMetrics(),
      registry: { address: 'r:5000', insecure: false, credentials: new RegistryCredentialIssuer({ secret: REGISTRY_SECRET, repository: 'dir' }) },
    });
    const port = await new Promise<number>((resolve, reject) =>
      composed.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (e, p) => (e ? reject(e) : resolve(p))),
    );
    const client = syncServiceClient(`127.0.0.1:${port}`, credentials.createInsecure());
    const result = await unary<RequestRegistryCredentialsResponse>((callback) => client.requestRegistryCredentials({}, callback));
    expect(result.response?.basic_auth?.username).toBe(registryUsername(INSECURE_CALLER.spiffeId));
    client.close();
    composed.server.forceShutdown();
  });
});

interface ReflectionClient {
  ServerReflectionInfo(): ClientDuplexStream<{ list_services: string }, { list_services_response?: { service: { name: string }[] } }>;
}

/** A reflection client as an outside tool builds it: from @grpc/reflection's own reflection.proto. */
function reflectionClient(address: string): ReflectionClient {
  const protoPath = path.join(require.resolve('@grpc/reflection/package.json'), '..', 'build/proto/grpc/reflection/v1/reflection.proto');
  const definition = loadSync(protoPath, { keepCase: true, oneofs: true, defaults: true })['grpc.reflection.v1.ServerReflection'];
  if (!definition || 'format' in definition) throw new Error(`${protoPath} defines no grpc.reflection.v1.ServerReflection`);
  const client = new (makeGenericClientConstructor(definition, 'ServerReflection'))(address, credentials.createInsecure());
  const open = client.ServerReflectionInfo;
  if (!open) throw new Error('the reflection client has no ServerReflectionInfo');
  return { ServerReflectionInfo: () => open.call(client) };
}
