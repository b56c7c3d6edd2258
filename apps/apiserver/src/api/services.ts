/**
 * The gRPC services the apiserver registers, from @dirtk/directory-api's generated definitions, and
 * gRPC reflection over its descriptor set, and the full method names they define.
 */
import type { ServerDuplexStream, ServiceDefinition, UntypedServiceImplementation } from '@grpc/grpc-js';
import { directoryPackageDefinition, HEALTH_SERVICE, HealthService, STORE_SERVICE, StoreServiceService, SYNC_SERVICE, SyncServiceService } from '@dirtk/directory-api/grpc';
// The implementation behind ReflectionService: its public addToServer reads reflection.proto from
// disk, while the service definition here comes from the descriptor set (the version is pinned).
import { ReflectionV1Implementation } from '@grpc/reflection/build/src/implementations/reflection-v1';
import type { ServerReflectionRequest } from '@grpc/reflection/build/src/generated/grpc/reflection/v1/ServerReflectionRequest';

export interface ServiceRegistration {
  readonly definition: ServiceDefinition;
  readonly implementation: UntypedServiceImplementation;
}

/** Loaded as @grpc/reflection loads its own protos, so its handler gets the message shapes it expects. */
const REFLECTION_LOADER_OPTIONS = { longs: String, enums: String, bytes: Array, defaults: true, oneofs: true };

const REFLECTION_SERVICES = ['grpc.reflection.v1.ServerReflection', 'grpc.reflection.v1alpha.ServerReflection'];

/**
 * Reflection (v1 and v1alpha, one message format) for the Directory services and health, returned
 * rather than added to a server so the composition registers them behind the same authorization as
 * everything else.
 */
export function reflectionServices(): ServiceRegistration[] {
  const packageDefinition = directoryPackageDefinition(REFLECTION_LOADER_OPTIONS);
  const reflection = new ReflectionV1Implementation(packageDefinition, { services: [STORE_SERVICE, SYNC_SERVICE, HEALTH_SERVICE] });
  const implementation: UntypedServiceImplementation = {
    ServerReflectionInfo(stream: ServerDuplexStream<unknown, unknown>) {
      stream.on('end', () => stream.end());
      stream.on('data', (request: unknown) => {
        const response = reflection.handleServerReflectionRequest(renameKeys(request, camelCase) as ServerReflectionRequest);
        stream.write(renameKeys(response, snakeCase));
      });
    },
  };
  return REFLECTION_SERVICES.map((name) => {
    const definition = packageDefinition[name];
    if (!definition || 'format' in definition) throw new Error(`${name} is not a service in the Directory API descriptor set`);
    return { definition, implementation };
  });
}

/**
 * A descriptor set keeps the .proto field names (snake_case), which proto-loader does not rename,
 * while the reflection handler takes and returns the camelCase shapes of its own loader. A oneof's
 * virtual field names the member that is set, so a string naming a sibling key is renamed too.
 */
function renameKeys(value: unknown, rename: (name: string) => string): unknown {
  if (Array.isArray(value)) return value.map((item: unknown) => renameKeys(item, rename));
  if (value === null || typeof value !== 'object' || ArrayBuffer.isView(value)) return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, item]) => [rename(key), typeof item === 'string' && item !== key && item in value ? rename(item) : renameKeys(item, rename)]),
  );
}

const camelCase = (name: string): string => name.replace(/_([a-z0-9])/g, (_, letter: string) => letter.toUpperCase());
const snakeCase = (name: string): string => name.replace(/[A-Z]/g, (letter) => `_${letter.toLowerCase()}`);

function methodsOf(definition: ServiceDefinition): string[] {
  return Object.values(definition).map((method) => method.path);
}

/** Health methods: exempt from authentication and authorization. */
export const HEALTH_METHODS: readonly string[] = methodsOf(HealthService);

/**
 * Every full method name (`/package.Service/Method`) the apiserver serves: StoreService,
 * SyncService, health and reflection. Policies may only name these.
 */
export const DIRECTORY_METHODS: readonly string[] = [
  ...methodsOf(StoreServiceService),
  ...methodsOf(SyncServiceService),
  ...HEALTH_METHODS,
  ...reflectionServices().flatMap(({ definition }) => methodsOf(definition)),
];
