/**
 * The gRPC services the apiserver registers, loaded once from `apps/apiserver/proto` (found
 * relative to this file, so any working directory works), and the full method names they define.
 */
import path from 'node:path';
import {
  loadPackageDefinition,
  type GrpcObject,
  type ServiceClientConstructor,
  type ServiceDefinition,
  type UntypedServiceImplementation,
} from '@grpc/grpc-js';
import { loadSync, type Options } from '@grpc/proto-loader';
import { ReflectionService } from '@grpc/reflection';

const PROTO_ROOT = path.resolve(__dirname, '../../proto');

const PROTO_FILES = [
  'agntcy/dir/store/v1/store_service.proto',
  'agntcy/dir/store/v1/sync_service.proto',
  'grpc/health/v1/health.proto',
];

const LOADER_OPTIONS: Options = {
  keepCase: true,
  longs: String,
  enums: String,
  defaults: true,
  oneofs: true,
  includeDirs: [PROTO_ROOT],
};

export const packageDefinition = loadSync(PROTO_FILES, LOADER_OPTIONS);

const grpcObject = loadPackageDefinition(packageDefinition);

function clientConstructor(fullName: string): ServiceClientConstructor {
  const found = fullName.split('.').reduce<unknown>((node, part) => (node as GrpcObject | undefined)?.[part], grpcObject);
  if (typeof found !== 'function') throw new Error(`service ${fullName} is not defined in ${PROTO_ROOT}`);
  return found as ServiceClientConstructor;
}

export const STORE_SERVICE = 'agntcy.dir.store.v1.StoreService';
export const SYNC_SERVICE = 'agntcy.dir.store.v1.SyncService';

/** Client constructors (their `.service` is the server-side definition). */
export const StoreServiceClient = clientConstructor(STORE_SERVICE);
export const SyncServiceClient = clientConstructor(SYNC_SERVICE);
export const HealthClient = clientConstructor('grpc.health.v1.Health');

export interface ServiceRegistration {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/**
 * @grpc/reflection's services (v1 and v1alpha) for our protos, captured rather than added to a
 * server so the composition can register them behind the same authorization as everything else.
 */
export function reflectionServices(): ServiceRegistration[] {
  const captured: ServiceRegistration[] = [];
  new ReflectionService(packageDefinition).addToServer({
    addService: (definition, implementation) => captured.push({ definition, implementation }),
  });
  return captured;
}

function methodsOf(definition: ServiceDefinition): string[] {
  return Object.values(definition).map((method) => method.path);
}

/** Health methods: exempt from authentication and authorization. */
export const HEALTH_METHODS: readonly string[] = methodsOf(HealthClient.service);

/**
 * Every full method name (`/package.Service/Method`) the apiserver serves: StoreService,
 * SyncService, health and reflection. Policies may only name these.
 */
export const DIRECTORY_METHODS: readonly string[] = [
  ...methodsOf(StoreServiceClient.service),
  ...methodsOf(SyncServiceClient.service),
  ...HEALTH_METHODS,
  ...reflectionServices().flatMap(({ definition }) => methodsOf(definition)),
];
