export * from './spec';
export * from './model';
export { resolveTopology, TopologyError, type TopologyProblem } from './resolve';
export { EXAMPLE_FEDERATION } from './example';
export { loadTopologySpec, TOPOLOGY_FILE_ENV } from './load';
