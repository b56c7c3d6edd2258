/**
 * `npm run kind:up|kind:test|kind:down [-- --dry-run] [-- --local-images]`: two Kind clusters, one per
 * trust domain of the example federation, deployed, federated and checked end to end. With
 * `--local-images` every image is built on this machine first (kind/images), the Docker engine
 * is started when none answers, the built kind and kubectl are used, and so is the Pulumi CLI built by
 * the project (tools/pulumi): the first cluster is deployed with `pulumi up`, the second with kubectl, so
 * both documented paths run. See kind/README.md.
 */
import path from 'node:path';
import { PROJECT_ROOT } from '../tools/paths';
import { EXAMPLE_FEDERATION, resolveTopology, type Topology } from '../topology';
import { ensurePulumi } from '../tools/pulumi/build';
import { stopDockerEngine } from './engine/engine';
import { withHostPatches } from './images/cluster-config';
import { ensureKindImages } from './images/ensure';
import { CLUSTER_WORKLOAD_IMAGES } from './images/load';
import { WORKLOAD_IMAGES } from './images/versions';
import type { KindClusterConfig } from './clusters';
import { planDown, planTest, planUp, type PlanOptions } from './plan';
import { printPlan, runPlan } from './run';
import { DEFAULT_STATE_DIR } from './state';
import type { Plan } from './steps';
import { findOnPath } from './tools';
import { useModuleProxyOnly } from '../tools/go-env';

useModuleProxyOnly();

const PLANS: Record<string, (options: PlanOptions) => Plan> = { up: planUp, test: planTest, down: planDown };
const USAGE = 'usage: tsx kind/main.ts up|test|down [--dry-run] [--local-images]';
const FLAGS = ['--dry-run', '--local-images'];

async function main(argv: readonly string[]): Promise<number> {
  const dryRun = argv.includes('--dry-run');
  const local = argv.includes('--local-images');
  const [command, ...rest] = argv.filter((arg) => !FLAGS.includes(arg));
  const planner = command === undefined ? undefined : PLANS[command];
  if (planner === undefined || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const base = resolveTopology(EXAMPLE_FEDERATION);
  const options: PlanOptions = {
    base,
    stateDir: DEFAULT_STATE_DIR,
    projectRoot: PROJECT_ROOT,
    deployer: findOnPath('pulumi') === undefined ? 'kubectl' : 'pulumi',
    ...(local && { localImages: await localImages(dryRun) }),
    ...(local && command === 'up' && { deployers: await bothDeployers(base, dryRun) }),
  };
  const plan = planner(options);
  if (dryRun) {
    printPlan(plan, (line) => console.log(line));
    return 0;
  }
  const passed = await runPlan(plan, PROJECT_ROOT, (line) => console.log(line));
  if (local && command === 'down') await stopDockerEngine({ log: (line) => console.log(line) });
  return passed ? 0 : 1;
}

/**
 * The first cluster with `pulumi up` (the CLI, language host and provider built by the project, put first
 * on PATH with their environment), the second with kubectl.
 */
async function bothDeployers(topology: Topology, dryRun: boolean): Promise<PlanOptions['deployers']> {
  if (!dryRun) {
    const pulumi = await ensurePulumi({ log: (line) => console.log(line) });
    Object.assign(process.env, pulumi.env);
  }
  const [first, second] = topology.trustDomains;
  return { [first!.clusterName]: 'pulumi', [second!.clusterName]: 'kubectl' };
}

/**
 * Builds (or finds cached) every image and the matching kind and kubectl, starting the Docker engine if
 * needed, and puts those two programs first on PATH; a dry run builds nothing and names the image it would use.
 */
async function localImages(dryRun: boolean): Promise<NonNullable<PlanOptions['localImages']>> {
  const patch = (config: KindClusterConfig): KindClusterConfig => withHostPatches(config);
  if (dryRun) return { nodeImage: '<node image built by kind/images>', patch, workloadImages: CLUSTER_WORKLOAD_IMAGES };
  const built = await ensureKindImages({ log: (line) => console.log(line) });
  process.env.PATH = [path.dirname(built.kind), path.dirname(built.kubectl), process.env.PATH].join(path.delimiter);
  const workloadImages = [...CLUSTER_WORKLOAD_IMAGES.filter((image) => image !== WORKLOAD_IMAGES.apiserver), built.apiserver.image, built.apiserver.impostor];
  return { nodeImage: built.nodeImage, patch, workloadImages, apiserver: built.apiserver };
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exitCode = 1;
  },
);
