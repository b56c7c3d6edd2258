/**
 * `npm run kind:up|kind:test|kind:down [-- --dry-run]`: two Kind clusters, one per trust domain of the
 * example federation, deployed, federated and checked end to end. See scripts/kind/README.md.
 */
import { PROJECT_ROOT } from '../../spire/install';
import { EXAMPLE_FEDERATION } from '../../topology';
import { planDown, planTest, planUp, type PlanOptions } from './plan';
import { printPlan, runPlan } from './run';
import { DEFAULT_STATE_DIR } from './state';
import type { Plan } from './steps';
import { findOnPath } from './tools';

const PLANS: Record<string, (options: PlanOptions) => Plan> = { up: planUp, test: planTest, down: planDown };
const USAGE = 'usage: tsx scripts/kind/main.ts up|test|down [--dry-run]';

async function main(argv: readonly string[]): Promise<number> {
  const dryRun = argv.includes('--dry-run');
  const [command, ...rest] = argv.filter((arg) => arg !== '--dry-run');
  const planner = command === undefined ? undefined : PLANS[command];
  if (planner === undefined || rest.length > 0) {
    console.error(USAGE);
    return 2;
  }
  const plan = planner({
    base: EXAMPLE_FEDERATION,
    stateDir: DEFAULT_STATE_DIR,
    projectRoot: PROJECT_ROOT,
    deployer: findOnPath('pulumi') === undefined ? 'kubectl' : 'pulumi',
  });
  if (dryRun) {
    printPlan(plan, (line) => console.log(line));
    return 0;
  }
  return (await runPlan(plan, PROJECT_ROOT, (line) => console.log(line))) ? 0 : 1;
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
