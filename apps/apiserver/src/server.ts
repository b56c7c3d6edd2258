/**
 * Composition of the apiserver's gRPC server: StoreService, SyncService, health and reflection on
 * one grpc.Server. Every method is registered through `guard`, so per-call authorization, metrics
 * and the RPC log live in one place:
 *
 * - Store, Sync and reflection calls first go through `authorize(call, fullMethod)`, the hook the
 *   security layer supplies; its CallerContext is handed to the handler, its rejection status is
 *   the call's status.
 * - Health calls skip the hook (kubelet and load balancers cannot authenticate).
 *
 * The caller binds the server (insecure for tests, behind SPIFFE TLS in production).
 */
import {
  Server,
  type ServerOptions,
  type ServiceDefinition,
  status as Status,
  type UntypedHandleCall,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { MAX_RECEIVE_MESSAGE_BYTES } from '@dirtk/directory-api/contract';
import { HealthService, STORE_SERVICE, StoreServiceService, statusName, SYNC_SERVICE, SyncServiceService } from '@dirtk/directory-api/grpc';
import { reflectionServices } from './api/services';
import type { Logger } from './observability/logger';
import type { DirectoryMetrics } from './observability/metrics';
import { allowAll, type AuthorizeCall, type CallerContext, type IncomingCall } from './services/caller';
import { type CallOutcome, fromAsync, guard, methodKind, type MethodKind } from './services/guard';
import { HealthStatus, healthHandlers } from './services/health';
import { storeServiceHandlers } from './services/store-service';
import { type AdvertisedRegistry, syncServiceHandlers } from './services/sync-service';
import { type SyncRetry, type SyncSources, SyncWorker } from './sync/worker';
import type { Store } from './store/store';

export interface DirectoryServerOptions {
  readonly store: Store;
  /** The peers syncs may pull from, and how to ask them for credentials. @default no peer: every sync FAILs, naming its unknown peer */
  readonly sync?: SyncWorkerPeers;
  readonly logger: Logger;
  readonly metrics: DirectoryMetrics;
  /** Decides every non-health call; see AuthorizeCall. */
  readonly authorize: AuthorizeCall;
  /** Where peers pull synced records from, and the credentials issued for it. */
  readonly registry: AdvertisedRegistry;
  /** grpc-js options, applied over ours. */
  readonly grpcOptions?: ServerOptions;
}

export interface SyncWorkerPeers extends SyncSources {
  readonly retry?: SyncRetry;
}

export interface DirectoryServer {
  readonly server: Server;
  /** Works the syncs CreateSync records; the caller starts it (resuming unfinished syncs) and closes it. */
  readonly syncWorker: SyncWorker;
  /** All services start SERVING; the security layer may hold them NOT_SERVING until it is ready. */
  readonly health: HealthStatus;
  /** Full names of the methods registered (the same set as DIRECTORY_METHODS). */
  readonly methods: readonly string[];
}

type AsyncHandler<C> = (call: never, caller: C) => Promise<unknown>;
type CallerResolver<C> = (call: IncomingCall, fullMethod: string) => Promise<C>;

export function createDirectoryServer(options: DirectoryServerOptions): DirectoryServer {
  const server = new Server({ 'grpc.max_receive_message_length': MAX_RECEIVE_MESSAGE_BYTES, ...options.grpcOptions });
  const health = new HealthStatus();
  const methods: string[] = [];
  const onOutcome = reportOutcome(options.logger, options.metrics);

  const register = <C extends CallerContext | undefined>(
    definition: ServiceDefinition,
    resolveCaller: CallerResolver<C>,
    handlerFor: (name: string, kind: MethodKind) => (caller: C) => UntypedHandleCall,
  ): void => {
    const implementation: UntypedServiceImplementation = {};
    for (const [name, method] of Object.entries(definition)) {
      implementation[name] = guard(method, resolveCaller, handlerFor(name, methodKind(method)), onOutcome);
      methods.push(method.path);
    }
    server.addService(definition, implementation);
  };
  const registerAsync = <C extends CallerContext | undefined>(
    definition: ServiceDefinition,
    resolveCaller: CallerResolver<C>,
    handlers: Readonly<Record<string, AsyncHandler<C>>>,
  ): void =>
    register(definition, resolveCaller, (name, kind) => {
      const handler = handlers[name];
      if (!handler) throw new Error(`no handler for ${name} in ${Object.keys(handlers).join(', ')}`);
      return (caller) => fromAsync(kind, (call) => handler(call, caller));
    });

  registerAsync(StoreServiceService, options.authorize, storeServiceHandlers(options.store.records));
  const syncWorker = new SyncWorker({
    syncs: options.store.syncs,
    records: options.store.records,
    logger: options.logger,
    ...(options.sync && { sources: options.sync }),
    ...(options.sync?.retry && { retry: options.sync.retry }),
  });
  registerAsync(SyncServiceService, options.authorize, syncServiceHandlers(options.store.syncs, syncWorker, options.registry));
  registerAsync(HealthService, async () => undefined, healthHandlers(health));
  for (const { definition, implementation } of reflectionServices()) {
    register(definition, options.authorize, (name) => {
      const handler = implementation[name];
      if (!handler) throw new Error(`no reflection handler for ${name}`);
      return () => handler;
    });
  }

  for (const service of ['', STORE_SERVICE, SYNC_SERVICE]) health.set(service, 'SERVING');
  return { server, health, methods, syncWorker };
}

/** The fixed caller of the insecure composition. */
export const INSECURE_CALLER: CallerContext = { spiffeId: 'spiffe://insecure.invalid/dirtk/anonymous', trustDomain: 'insecure.invalid' };

/** A server that lets every call through as one fixed caller: for tests and local runs without SPIFFE. */
export function createInsecureDirectoryServer(options: Omit<DirectoryServerOptions, 'authorize'> & { readonly caller?: CallerContext }): DirectoryServer {
  return createDirectoryServer({ ...options, authorize: allowAll(options.caller ?? INSECURE_CALLER) });
}

const SERVER_FAULTS = new Set([Status.INTERNAL, Status.UNKNOWN, Status.DATA_LOSS]);

function reportOutcome(logger: Logger, metrics: DirectoryMetrics): (outcome: CallOutcome) => void {
  return ({ method, code, caller, error, durationMs }) => {
    const codeName = statusName(code);
    metrics.recordRpc(method, codeName, caller?.trustDomain);
    const fields = { method, code: codeName, caller: caller?.spiffeId, duration_ms: Math.round(durationMs * 1000) / 1000, error: error?.details };
    if (code === Status.OK) logger.debug('rpc', fields);
    else if (SERVER_FAULTS.has(code)) logger.error('rpc failed', { ...fields, cause: error?.cause, stack: error?.cause instanceof Error ? error.cause.stack : undefined });
    else logger.info('rpc failed', fields);
  };
}
