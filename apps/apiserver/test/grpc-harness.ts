/** A real apiserver on 127.0.0.1 (insecure transport) with its own store, and small client helpers. */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { type ClientDuplexStream, type ClientReadableStream, credentials, Metadata, ServerCredentials, status as Status } from '@grpc/grpc-js';
import {
  type Callback,
  type HealthClient,
  healthClient,
  type StoreServiceClient,
  storeServiceClient,
  type SyncServiceClient,
  syncServiceClient,
} from '@dirtk/directory-api/grpc';
import { createJsonLogger } from '../src/observability/logger';
import { DirectoryMetrics } from '../src/observability/metrics';
import { allowAll, type AuthorizeCall, type CallerContext } from '../src/services/caller';
import { RegistryCredentialIssuer } from '../src/services/registry-credentials';
import { createDirectoryServer, type DirectoryServer } from '../src/server';
import type { AdvertisedRegistry } from '../src/services/sync-service';
import { openStore, type Store } from '../src/store/store';

export const TEST_CALLER: CallerContext = { spiffeId: 'spiffe://dir.example/ns/dir/sa/dirctl', trustDomain: 'dir.example' };
export const REGISTRY_SECRET = Buffer.alloc(32, 7);
export const REGISTRY_ADDRESS = 'dir-zot.dir.svc.cluster.local:5000';

export interface TestServer extends DirectoryServer {
  readonly address: string;
  readonly store: Store;
  readonly metrics: DirectoryMetrics;
  readonly logLines: () => Record<string, unknown>[];
  readonly storeClient: StoreServiceClient;
  readonly syncClient: SyncServiceClient;
  readonly healthClient: HealthClient;
  close(): Promise<void>;
}

/** The registry the test server advertises unless told otherwise: an address only, with credentials under REGISTRY_SECRET. */
const TEST_REGISTRY: AdvertisedRegistry = { address: REGISTRY_ADDRESS, insecure: true, credentials: new RegistryCredentialIssuer({ secret: REGISTRY_SECRET, repository: 'dir' }) };

export async function startTestServer(authorize: AuthorizeCall = allowAll(TEST_CALLER), registry: AdvertisedRegistry = TEST_REGISTRY): Promise<TestServer> {
  const root = await mkdtemp(path.join(tmpdir(), 'dirtk-apiserver-'));
  const store = await openStore(root);
  const metrics = new DirectoryMetrics();
  const lines: string[] = [];
  const logger = createJsonLogger({ level: 'debug', write: (line) => lines.push(line) });
  const composed = createDirectoryServer({
    store,
    logger,
    metrics,
    authorize,
    registry,
  });
  const port = await new Promise<number>((resolve, reject) =>
    composed.server.bindAsync('127.0.0.1:0', ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  const address = `127.0.0.1:${port}`;
  const channel = credentials.createInsecure();
  const clients = [storeServiceClient(address, channel), syncServiceClient(address, channel), healthClient(address, channel)] as const;
  return {
    ...composed,
    address,
    store,
    metrics,
    logLines: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>),
    storeClient: clients[0],
    syncClient: clients[1],
    healthClient: clients[2],
    async close() {
      for (const client of clients) client.close();
      composed.server.forceShutdown();
      await composed.syncWorker.close();
      await rm(root, { recursive: true, force: true });
    },
  };
}

export interface StreamResult<T> {
  readonly responses: T[];
  readonly code: Status;
  readonly details: string;
}

/** Sends `requests` on a bidi stream, half-closes, and collects every response and the final status. */
export function exchange<Req, Res>(call: ClientDuplexStream<Req, Res>, requests: readonly Req[]): Promise<StreamResult<Res>> {
  const result = collect<Res>(call);
  for (const request of requests) call.write(request);
  call.end();
  return result;
}

/** Collects a response stream's messages and its final status. */
export function collect<Res>(call: ClientReadableStream<Res>): Promise<StreamResult<Res>> {
  return new Promise((resolve) => {
    const responses: Res[] = [];
    let status: { code: Status; details: string } | undefined;
    let ended = false;
    const settle = (): void => {
      if (status && ended) resolve({ responses, ...status });
    };
    call.on('data', (message: Res) => responses.push(message));
    call.on('error', () => {
      ended = true;
      settle();
    });
    call.on('end', () => {
      ended = true;
      settle();
    });
    call.on('status', (received: { code: Status; details: string }) => {
      status = { code: received.code, details: received.details };
      settle();
    });
  });
}

/** Calls a unary or client-streaming method; resolves with the response or the error's status. */
export function unary<Res>(start: (callback: Callback<Res>) => unknown): Promise<{ response?: Res; code: Status; details: string }> {
  return new Promise((resolve) => {
    start((error, response) => resolve(error ? { code: error.code, details: error.details } : { response, code: Status.OK, details: '' }));
  });
}

export function metadataWith(entries: Record<string, string>): Metadata {
  const metadata = new Metadata();
  for (const [key, value] of Object.entries(entries)) metadata.set(key, value);
  return metadata;
}
