import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv from 'ajv/dist/jtd';
import { parse } from 'yaml';
import { EXAMPLE_FEDERATION } from './example';
import type { Topology } from './model';
import { missingBundleEndpointUrls, resolveTopology, TopologyError, type TopologyProblem } from './resolve';
import { TOPOLOGY_SPEC_SCHEMA } from './schema';
import type { TopologySpec } from './spec';

/** The environment variable naming a topology spec file (JSON, or YAML by a `.yaml`/`.yml` name). */
export const TOPOLOGY_FILE_ENV = 'DIRTK_TOPOLOGY';

const validateSpec = new Ajv({ allErrors: true }).compile(TOPOLOGY_SPEC_SCHEMA);

/**
 * The topology that synth, the Pulumi stacks and the Kind scripts deploy, resolved: the spec in the file
 * named by `DIRTK_TOPOLOGY`, else `EXAMPLE_FEDERATION`. Every problem with a file — unreadable, not
 * JSON/YAML, a member of the wrong type or unknown, a value `resolveTopology` refuses, a peer without a
 * bundle endpoint URL (clusters need them all) — is reported in one `TopologyError` whose paths start with
 * the file name.
 */
export function loadTopology(env: Readonly<Record<string, string | undefined>> = process.env): Topology {
  const file = env[TOPOLOGY_FILE_ENV];
  if (file === undefined || file === '') return resolveTopology(EXAMPLE_FEDERATION);
  const where = `${file} (${TOPOLOGY_FILE_ENV})`;
  const fail = (problems: readonly TopologyProblem[]): never => {
    throw new TopologyError(problems.map((problem) => ({ ...problem, path: problem.path === '' ? where : `${where}: ${problem.path}` })));
  };

  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    fail([{ path: '', message: `cannot read the topology file: ${(error as Error).message}` }]);
  }
  const yaml = ['.yaml', '.yml'].includes(path.extname(file).toLowerCase());
  let document: unknown;
  try {
    document = yaml ? parse(text) : JSON.parse(text);
  } catch (error) {
    fail([{ path: '', message: `not valid ${yaml ? 'YAML' : 'JSON (name the file .yaml or .yml for YAML)'}: ${(error as Error).message}` }]);
  }
  const spec = checkSpecShape(document);
  let topology: Topology;
  try {
    topology = resolveTopology(spec);
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    return fail(error.problems);
  }
  const missing = missingBundleEndpointUrls(topology);
  return missing.length > 0 ? fail(missing) : topology;

  function checkSpecShape(value: unknown): TopologySpec {
    if (validateSpec(value)) return value;
    return fail((validateSpec.errors ?? []).map(shapeProblem));
  }
}

/** An ajv error as a problem at the spec path `resolveTopology` would use (`trustDomains[0].federatesWith`). */
function shapeProblem(error: { instancePath: string; message?: string; params: Record<string, unknown> }): TopologyProblem {
  const at = error.instancePath
    .split('/')
    .slice(1)
    .map((part) => part.replace(/~1/g, '/').replace(/~0/g, '~'))
    .reduce((acc, part) => (/^\d+$/.test(part) ? `${acc}[${part}]` : acc === '' ? part : `${acc}.${part}`), '');
  const params = error.params as { additionalProperty?: string; missingProperty?: string; allowedValues?: unknown[]; tag?: string; tagValue?: unknown };
  const under = (name: string) => (at === '' ? name : `${at}.${name}`);
  if (params.additionalProperty !== undefined) return { path: at, message: 'is not a topology setting (misspelt?)' };
  if (params.missingProperty !== undefined) return { path: under(params.missingProperty), message: 'is required' };
  if (params.allowedValues) return { path: at, message: `must be one of ${params.allowedValues.map((value) => JSON.stringify(value)).join(', ')}` };
  if (params.tag !== undefined) return { path: at, message: `${JSON.stringify(params.tagValue)} is not a known ${params.tag}` };
  return { path: at === '' ? '(the document)' : at, message: error.message ?? 'is invalid' };
}
