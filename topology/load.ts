import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { EXAMPLE_FEDERATION } from './example';
import { resolveTopology, TopologyError } from './resolve';
import type { TopologySpec } from './spec';

/** The environment variable naming a topology spec file (JSON, or YAML by a `.yaml`/`.yml` name). */
export const TOPOLOGY_FILE_ENV = 'DIRTK_TOPOLOGY';

/**
 * The topology that synth, the Pulumi stacks and the Kind scripts deploy: the spec in the file named by
 * `DIRTK_TOPOLOGY`, else `EXAMPLE_FEDERATION`. A file is validated with `resolveTopology`; every
 * problem, including one that keeps the file from being read, is a `TopologyError` whose paths start
 * with the file name.
 */
export function loadTopologySpec(env: Readonly<Record<string, string | undefined>> = process.env): TopologySpec {
  const file = env[TOPOLOGY_FILE_ENV];
  if (file === undefined || file === '') return EXAMPLE_FEDERATION;
  const where = `${file} (${TOPOLOGY_FILE_ENV})`;
  const fail = (message: string): never => {
    throw new TopologyError([{ path: where, message }]);
  };

  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail(`cannot read the topology file: ${(error as Error).message}`);
  }
  const yaml = ['.yaml', '.yml'].includes(path.extname(file).toLowerCase());
  let spec: unknown;
  try {
    spec = yaml ? parse(text) : JSON.parse(text);
  } catch (error) {
    fail(`not valid ${yaml ? 'YAML' : 'JSON (name the file .yaml or .yml for YAML)'}: ${(error as Error).message}`);
  }
  const trustDomains = (spec as { trustDomains?: unknown } | null)?.trustDomains;
  if (typeof spec !== 'object' || spec === null || !Array.isArray(trustDomains)) {
    fail('a topology spec is an object with a "trustDomains" list');
  } else if (!trustDomains.every((td) => typeof td === 'object' && td !== null && !Array.isArray(td))) {
    fail('every entry of "trustDomains" must be an object with at least "name" and "clusterName"');
  }

  try {
    resolveTopology(spec as TopologySpec);
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    throw new TopologyError(error.problems.map((problem) => ({ ...problem, path: `${where}: ${problem.path}` })));
  }
  return spec as TopologySpec;
}
