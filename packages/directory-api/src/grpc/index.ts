/**
 * The Directory API on the wire: the generated messages and service definitions (keepCase field
 * names, camelCase method keys), typed clients, Struct checking and the descriptor set.
 */
export * from '../../gen/agntcy/dir/core/v1/record';
export * from '../../gen/agntcy/dir/core/v1/referrer';
export * from '../../gen/agntcy/dir/store/v1/store_service';
export * from '../../gen/agntcy/dir/store/v1/sync_service';
export * from '../../gen/grpc/health/v1/health';
export { Empty } from '../../gen/google/protobuf/empty';
export * from './clients';
export { directoryPackageDefinition } from './descriptors';
export { statusName } from './status-name';
export { HEALTH_SERVICE, STORE_SERVICE, SYNC_SERVICE } from './service-names';
export { MAX_DEPTH, type StructData, StructError, structToJson } from './struct';
