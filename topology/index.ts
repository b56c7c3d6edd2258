export * from './spec';
export * from './model';
export { DEFAULT_APISERVER_IMAGE, resolveTopology, TopologyError, type TopologyProblem } from './resolve';
export { EXAMPLE_FEDERATION } from './example';
export { loadTopologySpec, TOPOLOGY_FILE_ENV } from './load';
