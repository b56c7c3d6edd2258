/**
 * Deploying a trust domain with the Pulumi CLI: the project's stacks program, a DIY backend in the Kind
 * state folder, and stack config files of the Kind state's own.
 *
 * The committed `Pulumi.<stack>.yaml` files set `dirtk:peerStacks`, with which the program replaces the
 * bootstrap-seeded ClusterFederatedTrustDomain by one seeded from the peer stack's export, and creates none
 * while the peer has not exported yet (README: "Deploying with Pulumi"). The Kind stacks therefore use config files without
 * it, in a project folder of their own so that `pulumi stack init` records its encryption salt there rather
 * than in the committed files; `pulumi up --config-file` then reads that file.
 */
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { TOPOLOGY_FILE_ENV, type TrustDomain } from '../topology';
import type { KindCluster } from './clusters';
import type { KindState } from './state';
import type { CommandStep } from './steps';

/**
 * The passphrase secrets provider needs a passphrase even without secrets, and these stacks have none: no
 * config is secret and the upstream CA keys never reach Pulumi. So a fixed one is enough.
 */
const PASSPHRASE = 'dirtk-kind';

export function pulumiEnv(state: KindState): Record<string, string> {
  return {
    PULUMI_BACKEND_URL: `file://${state.pulumiBackend}`,
    PULUMI_CONFIG_PASSPHRASE: PASSPHRASE,
    PULUMI_SKIP_UPDATE_CHECK: 'true',
    // kubectl creates the CRDs and Namespaces first (the CA Secret needs its namespace before the server
    // starts); since @pulumi/kubernetes 4.29 creating an object that exists fails unless the provider adopts it.
    PULUMI_K8S_UPSERT_EXISTING_OBJECTS: 'true',
    KUBECONFIG: state.kubeconfig,
    [TOPOLOGY_FILE_ENV]: state.topologyFile,
  };
}

/** The Kind stacks' project folder and config files, and the (empty) backend folder. */
export function writePulumiProject(projectRoot: string, state: KindState, domains: readonly TrustDomain[]): void {
  const project = parse(readFileSync(path.join(projectRoot, 'Pulumi.yaml'), 'utf8')) as { name: string };
  mkdirSync(state.pulumiBackend, { recursive: true });
  mkdirSync(state.pulumiProject, { recursive: true });
  writeFileSync(path.join(state.pulumiProject, 'Pulumi.yaml'), stringify({ name: project.name, runtime: 'nodejs' }));
  for (const td of domains) {
    writeFileSync(
      state.pulumiStackConfig(td.clusterName),
      stringify({ config: { 'dirtk:trustDomain': td.name, 'pulumi:disable-default-providers': ['kubernetes'] } }),
    );
  }
}

/** `pulumi stack init` and `pulumi up` of the stack named after the domain's cluster. */
export function pulumiDeploySteps(projectRoot: string, state: KindState, td: TrustDomain, cluster: KindCluster): CommandStep[] {
  const stack = cluster.name;
  const env = pulumiEnv(state);
  return [
    {
      kind: 'command',
      title: `Create Pulumi stack ${stack}`,
      argv: ['pulumi', 'stack', 'init', '--stack', stack, '--no-select', '--non-interactive', '--cwd', state.pulumiProject],
      env,
      timeoutSeconds: 120,
      hint: `the stack already exists in ${state.pulumiBackend}: run npm run kind:down, which removes that state, and start again`,
    },
    {
      kind: 'command',
      title: `Deploy ${td.name} with pulumi up (stack ${stack})`,
      argv: [
        'pulumi', 'up', '--yes', '--non-interactive', '--cwd', projectRoot, '--stack', stack,
        '--config-file', state.pulumiStackConfig(stack), '--config', `dirtk:kubeContext=${cluster.context}`,
      ],
      env,
      timeoutSeconds: 1200,
      hint: 'pulumi waits for every workload; the failed pods below usually say why one is not ready',
    },
  ];
}
