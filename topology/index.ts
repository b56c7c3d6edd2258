export * from './spec';
export * from './model';
export {
  DEFAULT_APISERVER_IMAGE,
  DEFAULT_REGISTRY_TOKEN_KEY_SECRET,
  DEFAULT_UPSTREAM_CA_SECRET,
  DIRECTORY_CLIENT_SERVICE_ACCOUNT,
  bundleEndpointUrlOf,
  missingBundleEndpointUrls,
  resolveTopology,
  serviceAccountSpiffeId,
  TopologyError,
  type TopologyProblem,
} from './resolve';
export { EXAMPLE_FEDERATION } from './example';
export { loadTopology, TOPOLOGY_FILE_ENV } from './load';
export { mapTrustDomains, withBundleEndpoints } from './adjust';
export { specOf } from './spec-of';
export { registryService, syncPeersOf } from './sync-peers';
