import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { shellLine } from '../../kind/commands';
import { planDown, planTest, planUp } from '../../kind/plan';
import { printPlan } from '../../kind/run';
import { DEFAULT_STATE_DIR, kindState } from '../../kind/state';
import type { Plan, Step } from '../../kind/steps';
import { findOnPath } from '../../kind/tools';
import { PROJECT_ROOT } from '../../tools/paths';
import { commands, planOptions } from './fixtures';

const CLUSTERS = ['dir-example', 'dirctl-example'] as const;
const DOMAINS = { 'dir-example': 'dir.example', 'dirctl-example': 'dirctl.example' } as const;

const line = (step: Step) => (step.kind === 'task' ? step.title : step.argv.join(' '));

/** Index of the one step whose command line (or task title) matches `pattern`; fails unless exactly one does. */
function indexOf(plan: Plan, pattern: RegExp): number {
  const found = plan.steps.flatMap((step, index) => (pattern.test(line(step)) ? [index] : []));
  if (found.length !== 1) throw new Error(`${found.length} steps of kind:${plan.name} match ${pattern}:\n${plan.steps.map(line).join('\n')}`);
  return found[0]!;
}

const inCluster = (cluster: string, rest: string) => new RegExp(`^kubectl --kubeconfig \\S+ --context kind-${cluster} ${rest}`);

describe.each(['kubectl', 'pulumi'] as const)('kind:up deploying with %s', (deployer) => {
  const options = planOptions(deployer);
  const state = kindState(options.stateDir);
  const plan = planUp(options);

  it('names the kubeconfig and context on every kubectl call, and the stack and context on every pulumi call', () => {
    const all = [...commands(plan), ...commands(planTest(options)), ...commands(planDown(options))];
    const kubectlCalls = all.filter((step) => step.argv[0] === 'kubectl');
    expect(kubectlCalls.length).toBeGreaterThan(20);
    const envOf = (step: (typeof all)[number]) => (step.kind === 'command' ? step.env : undefined);
    for (const step of kubectlCalls) {
      const { argv } = step;
      expect(argv.slice(1, 5), argv.join(' ')).toEqual(['--kubeconfig', state.kubeconfig, '--context', expect.stringMatching(/^kind-(dir|dirctl)-example$/)]);
      expect(envOf(step)?.KUBECONFIG).toBeUndefined();
    }
    for (const step of all.filter((candidate) => candidate.argv[0] === 'pulumi')) {
      const { argv } = step;
      expect(envOf(step)?.KUBECONFIG, argv.join(' ')).toBe(state.kubeconfig);
      expect(argv, argv.join(' ')).toContain('--stack');
      const stack = argv[argv.indexOf('--stack') + 1]!;
      expect(CLUSTERS).toContain(stack);
      if (argv[1] === 'up') expect(argv).toContain(`dirtk:kubeContext=kind-${stack}`);
    }
    for (const { argv } of all.filter((step) => step.argv[0] === 'kind' && step.argv[1] !== 'version')) {
      expect(argv[argv.indexOf('--name') + 1]).toMatch(/^(dir|dirctl)-example$/);
    }
  });

  it('creates both clusters, builds the image once and loads it into both, then learns the node addresses', () => {
    const created = CLUSTERS.map((cluster) => indexOf(plan, new RegExp(`^kind create cluster --config \\S+/${cluster}.yaml --name ${cluster} --kubeconfig ${state.kubeconfig}`)));
    const build = indexOf(plan, /^docker build -f apps\/apiserver\/Dockerfile -t dirtk\/apiserver:dev \.$/);
    const loaded = CLUSTERS.map((cluster) => indexOf(plan, new RegExp(`^kind load docker-image dirtk/apiserver:dev --name ${cluster}$`)));
    const addresses = CLUSTERS.map((cluster) => indexOf(plan, inCluster(cluster, 'get nodes --output jsonpath=')));
    const topology = indexOf(plan, /^Make an upstream CA and a registry token key per trust domain/);
    const synth = indexOf(plan, /^npm run synth$/);
    expect(Math.max(...created)).toBeLessThan(build);
    expect(build).toBeLessThan(Math.min(...loaded));
    expect(Math.max(...addresses)).toBeLessThan(topology);
    expect(topology).toBeLessThan(synth);
    expect(indexOf(plan, /^Write the Kind cluster configs$/)).toBeLessThan(Math.min(...created));
  });

  it('synthesizes from the Kind topology file', () => {
    const synth = plan.steps[indexOf(plan, /^npm run synth$/)]!;
    expect(synth.kind === 'command' && synth.env).toEqual({ DIRTK_TOPOLOGY: state.topologyFile, CDK8S_OUTDIR: state.manifestsDir });
  });

  it.each(CLUSTERS)('in %s: CRDs established, then namespaces, then the CA and token key Secrets, then the workloads, then waits for them', (cluster) => {
    const td = DOMAINS[cluster];
    const crds = indexOf(plan, inCluster(cluster, `apply --server-side -f ${state.crdsFile(td)}$`));
    const established = indexOf(plan, inCluster(cluster, `wait --for=condition=Established --timeout=60s -f ${state.crdsFile(td)}$`));
    const namespaces = indexOf(plan, inCluster(cluster, `apply --server-side -f ${state.namespacesFile(td)}$`));
    const secret = indexOf(plan, inCluster(cluster, `--namespace spire-system create secret generic spire-upstream-ca --from-file=${state.caFiles(td)}$`));
    const tokenKeySecret = indexOf(
      plan,
      inCluster(cluster, `--namespace dir create secret generic dir-registry-token-key --from-file=registry-token.key=${state.registryTokenKeyFile(td)}$`),
    );
    const deploy =
      deployer === 'pulumi'
        ? indexOf(plan, new RegExp(`^pulumi up .*--stack ${cluster} `))
        : indexOf(plan, inCluster(cluster, `apply --server-side -f ${state.workloadsFile(td)}$`));
    const rollouts = plan.steps.flatMap((step, index) => (inCluster(cluster, '--namespace \\S+ rollout status ').test(line(step)) ? [index] : []));
    const split = indexOf(plan, /^Split out the CRDs and Namespaces/);
    expect(split).toBeLessThan(crds);
    expect([crds, established, namespaces, secret, tokenKeySecret, deploy]).toEqual([...[crds, established, namespaces, secret, tokenKeySecret, deploy]].sort((a, b) => a - b));
    expect(rollouts.length).toBeGreaterThanOrEqual(2);
    expect(Math.min(...rollouts)).toBeGreaterThan(deploy);
    if (deployer === 'kubectl') {
      // The webhook fails closed: the SPIRE custom resources go in once the server and controller manager serve.
      const server = plan.steps.findIndex((step) => inCluster(cluster, '--namespace spire-system rollout status statefulset/spire-server ').test(line(step)));
      const spireResources = indexOf(plan, inCluster(cluster, `apply --server-side -f ${state.spireResourcesFile(td)}$`));
      expect([deploy, server, spireResources]).toEqual([deploy, server, spireResources].sort((a, b) => a - b));
      expect(server).toBeGreaterThan(deploy);
    }
    if (deployer === 'pulumi') expect(indexOf(plan, new RegExp(`^pulumi stack init --stack ${cluster} `))).toBeLessThan(deploy);
  });

  it.each(CLUSTERS)('in %s: applies only the CRDs, the namespaces and the domain’s own manifests', (cluster) => {
    const td = DOMAINS[cluster];
    const applied = plan.steps.map(line).filter((text) => inCluster(cluster, 'apply ').test(text));
    expect(applied.map((text) => text.slice(text.indexOf(' -f ') + 4))).toEqual([
      state.crdsFile(td),
      state.namespacesFile(td),
      ...(deployer === 'kubectl' ? [state.workloadsFile(td), state.spireResourcesFile(td)] : []),
    ]);
  });

  it('waits for every workload of each domain with a timeout', () => {
    const rollouts = plan.steps.filter((step) => /^Wait for (statefulset|daemonset|deployment) /.test(step.title)).map(line).filter((text) => text.includes(' rollout status '));
    expect(rollouts.map((text) => text.replace(/^.*--context (\S+) --namespace (\S+) rollout status (\S+) --timeout=5m$/, '$1 $2 $3'))).toEqual([
      'kind-dir-example spire-system statefulset/spire-server',
      'kind-dir-example spire-agent daemonset/spire-agent',
      'kind-dir-example spire-agent daemonset/spiffe-csi-driver',
      'kind-dir-example dir deployment/dir-apiserver',
      'kind-dir-example dir deployment/dir-registry',
      'kind-dirctl-example spire-system statefulset/spire-server',
      'kind-dirctl-example spire-agent daemonset/spire-agent',
      'kind-dirctl-example spire-agent daemonset/spiffe-csi-driver',
      'kind-dirctl-example dir deployment/dir-apiserver',
      'kind-dirctl-example dir deployment/dir-registry',
    ]);
  });

  it('checks first that every program it runs is on PATH', () => {
    expect(plan.steps[0]!.title).toBe(`Check the programs on PATH: docker, kind, kubectl, npm${deployer === 'pulumi' ? ', pulumi' : ''}`);
  });
});

describe('kind:test', () => {
  const options = planOptions('kubectl');
  const plan = planTest(options);

  it('runs per apiserver its own domain’s Job first, each Job after removing the previous run’s, and judges after all finished', () => {
    const steps = plan.steps.map(line);
    const cluster = (c: string, rest: string) => steps.findIndex((text) => inCluster(c, rest).test(text));
    const jobIn = (c: string, caller: string, server: string) => [
      cluster(c, `--namespace dir delete job dirtk-verify-${server.replace('.', '-')} `),
      cluster(c, `apply --server-side -f \\S+/verification/${caller}\\.calls\\.${server}\\.yaml`),
      cluster(c, `--namespace dir get pods --selector batch.kubernetes.io/job-name=dirtk-verify-${server.replace('.', '-')} `),
    ];
    const order = [
      cluster('dir-example', 'get nodes'),
      cluster('dirctl-example', 'get nodes'),
      steps.indexOf('Write the verification Jobs'),
      ...jobIn('dir-example', 'dir.example', 'dir.example'),
      ...jobIn('dirctl-example', 'dirctl.example', 'dir.example'),
      ...jobIn('dirctl-example', 'dirctl.example', 'dirctl.example'),
      ...jobIn('dir-example', 'dir.example', 'dirctl.example'),
      steps.indexOf('Write the sync proof Jobs: dirctl.example syncs a record of dir.example'),
      cluster('dir-example', '--namespace dir delete job dirtk-sync-push '),
      cluster('dir-example', 'apply --server-side -f \\S+/verification/dir\\.example\\.dirtk-sync-push\\.yaml'),
      cluster('dir-example', '--namespace dir get pods --selector batch.kubernetes.io/job-name=dirtk-sync-push '),
      cluster('dirctl-example', '--namespace dir delete job dirtk-sync-from-dir-example '),
      cluster('dirctl-example', 'apply --server-side -f \\S+/verification/dirctl\\.example\\.dirtk-sync-from-dir-example\\.yaml'),
      cluster('dirctl-example', '--namespace dir get pods --selector batch.kubernetes.io/job-name=dirtk-sync-from-dir-example '),
      steps.indexOf('Compare each call with the cross-domain matrix'),
    ];
    expect(order).toEqual([...order.keys()].map((i) => i + 1));
    expect(plan.steps.filter((step) => step.kind === 'poll')).toHaveLength(6);
  });

  it('with local images, runs the image-tie Job of every apiserver after the verification Jobs, then the sync proof', () => {
    const pinned = planTest({
      ...options,
      localImages: {
        nodeImage: 'kindest/node:local',
        patch: (config) => config,
        workloadImages: [],
        apiserver: { image: 'dirtk/apiserver:5a5a', imageId: `sha256:${'5a'.repeat(32)}`, impostor: 'dirtk/apiserver-impostor:5a5a' },
      },
    });
    const applied = pinned.steps.map(line).filter((text) => / apply --server-side -f \S+\/verification\//.test(text));
    expect(applied.map((text) => text.replace(/^.*--context (\S+) apply --server-side -f \S+\/verification\/(\S+)$/, '$1 $2'))).toEqual([
      'kind-dir-example dir.example.calls.dir.example.yaml',
      'kind-dirctl-example dirctl.example.calls.dir.example.yaml',
      'kind-dirctl-example dirctl.example.calls.dirctl.example.yaml',
      'kind-dir-example dir.example.calls.dirctl.example.yaml',
      'kind-dir-example dir.example.image-tie.yaml',
      'kind-dirctl-example dirctl.example.image-tie.yaml',
      'kind-dir-example dir.example.dirtk-sync-push.yaml',
      'kind-dirctl-example dirctl.example.dirtk-sync-from-dir-example.yaml',
    ]);
    expect(pinned.steps.filter((step) => step.kind === 'poll')).toHaveLength(8);
  });
});

describe('kind:down', () => {
  it('deletes both clusters, then the state folder', () => {
    const options = planOptions('kubectl');
    expect(planDown(options).steps.map(line)).toEqual([
      'Check the programs on PATH: kind',
      `kind delete cluster --name dir-example --kubeconfig ${kindState(options.stateDir).kubeconfig}`,
      `kind delete cluster --name dirctl-example --kubeconfig ${kindState(options.stateDir).kubeconfig}`,
      'Remove the state folder (kubeconfig, upstream CAs, manifests, Pulumi state)',
    ]);
  });
});

describe('--dry-run', () => {
  const run = promisify(execFile);

  it.each(['up', 'test', 'down'] as const)('kind:%s prints every step and command in order and runs nothing', async (command) => {
    const { stdout } = await run(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['kind/main.ts', command, '--dry-run'], { cwd: PROJECT_ROOT });
    const options = planOptions(findOnPath('pulumi') === undefined ? 'kubectl' : 'pulumi', DEFAULT_STATE_DIR);
    const plan = { up: planUp, test: planTest, down: planDown }[command](options);
    const expected: string[] = [];
    printPlan(plan, (text) => expected.push(text));
    expect(stdout).toBe(`${expected.join('\n')}\n`);

    const numbered = stdout.split('\n').filter((text) => /^ ?\d+\. /.test(text));
    expect(numbered.map((text) => Number(text.trim().split('.')[0]))).toEqual(plan.steps.map((_, i) => i + 1));
    for (const step of commands(plan)) expect(stdout).toContain(`    $ ${shellLine(step.argv, step.kind === 'command' ? step.env : undefined)}\n`);
    // Including the diagnostics a failure runs: no kubectl line without its kubeconfig and context.
    for (const kubectlLine of stdout.split('\n').filter((text) => /^ +\$ kubectl /.test(text))) {
      expect(kubectlLine).toMatch(/^ +\$ kubectl --kubeconfig \S+ --context kind-(dir|dirctl)-example /);
    }
  }, 30_000);

  it('fails with the usage for an unknown command', async () => {
    await expect(run(path.join(PROJECT_ROOT, 'node_modules', '.bin', 'tsx'), ['kind/main.ts', 'sideways', '--dry-run'], { cwd: PROJECT_ROOT })).rejects.toMatchObject({
      code: 2,
      stderr: expect.stringContaining('usage: tsx kind/main.ts up|test|down [--dry-run]'),
    });
  }, 30_000);
});
