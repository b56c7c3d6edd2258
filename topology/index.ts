export * from './spec';
export * from './model';
export {
  DEFAULT_APISERVER_IMAGE,
  DEFAULT_UPSTREAM_CA_SECRET,
  DIRECTORY_CLIENT_SERVICE_ACCOUNT,
  resolveTopology,
  serviceAccountSpiffeId,
  TopologyError,
  type TopologyProblem,
} from './resolve';
export { EXAMPLE_FEDERATION } from './example';
export { loadTopologySpec, TOPOLOGY_FILE_ENV } from './load';
