/**
 * The plans of `kind:up`, `kind:test` and `kind:down`, built from the topology without touching anything:
 * `--dry-run` prints them, `run.ts` executes them.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { Yaml } from 'cdk8s';
import { stringify } from 'yaml';
import { DIRECTORY_API_SERVER, DIRECTORY_REGISTRY } from '../constructs';
import { ensureRegistryTokenKey } from '../registry/token-key';
import type { PinnedApiServerImage } from './images/pinned-apiserver';
import { upstreamCaSecret } from '../federation/bootstrap';
import { DEFAULT_REGISTRY_TOKEN_KEY_SECRET, TOPOLOGY_FILE_ENV, type Topology, type TrustDomain } from '../topology';
import { SERVER } from '../spire/kubernetes/layout';
import { KIND_VERSION, kindClusters, type KindCluster, type KindClusterConfig } from './clusters';
import { kubectl, type ClusterAccess, type Deployer } from './commands';
import { domainWorkloads, splitSynthFile } from './manifests';
import { pulumiDeploySteps, writePulumiProject } from './pulumi';
import { resultTable } from './report';
import { kindState, type KindState } from './state';
import { PlanFailure, type CommandStep, type Plan, type Step, type TaskStep } from './steps';
import { toolCheck } from './tools';
import { parseNodeAddress, withApiserverNodePort, withHostPathSockets, withPinnedApiServerImage, withRegistryStore, writeKindTopology } from './topology';
import {
  apiserverAddress,
  checkResults,
  imageTieJob,
  imageTieManifests,
  SYNC_PROOF,
  syncJobName,
  syncManifests,
  syncProofs,
  syncPushManifests,
  type SyncProof,
  VERIFICATION,
  verificationJobName,
  verificationJobs,
  verificationManifests,
  verificationPodProgress,
  type VerificationJob,
} from './verification';

export interface PlanOptions {
  /** The topology before the Kind settings (apiserver node port, addresses) and the bootstrap: the example federation. */
  readonly base: Topology;
  /** Absolute path of the state folder (`state.ts`). */
  readonly stateDir: string;
  /** The repository root, where every command runs. */
  readonly projectRoot: string;
  readonly deployer: Deployer;
  /**
   * Per-cluster deployers, by cluster name, overriding `deployer` (e.g. one cluster with `pulumi up` and the
   * other with kubectl, so that both documented paths run).
   * @default every cluster with `deployer`
   */
  readonly deployers?: Readonly<Record<string, Deployer>>;
  /**
   * Images built on this machine (`npm run kind:images`) instead of kind's and the registries': the node
   * image, the host's cluster-config patches and the workload images to load. The SPIFFE CSI driver is not
   * among them (its modules are not served here), so workloads mount the agent socket by hostPath.
   * @default the official images
   */
  readonly localImages?: {
    readonly nodeImage: string;
    readonly patch: (config: KindClusterConfig) => KindClusterConfig;
    readonly workloadImages: readonly string[];
    /**
     * The apiserver image by its ID: the apiserver runs it with its identity tied to the ID, and the test
     * shows that its impostor gets no identity.
     * @default the apiserver image of `base`, identity not tied to it
     */
    readonly apiserver?: PinnedApiServerImage;
  };
}

interface Setting {
  readonly options: PlanOptions;
  /** `options.base` with the apiserver on its node port (and the local images); node addresses and the bootstrap come when the nodes exist. */
  readonly topology: Topology;
  readonly clusters: readonly KindCluster[];
  readonly state: KindState;
  readonly access: (cluster: KindCluster) => ClusterAccess;
  readonly domain: (cluster: KindCluster) => TrustDomain;
}

function setting(options: PlanOptions): Setting {
  const local = options.localImages;
  const nodePorts = withRegistryStore(withApiserverNodePort(options.base));
  const topology = local ? withPinnedApiServerImage(withHostPathSockets(nodePorts), local.apiserver) : nodePorts;
  const state = kindState(options.stateDir);
  return {
    options,
    topology,
    clusters: kindClusters(topology, options.localImages && { image: options.localImages.nodeImage, patch: options.localImages.patch }),
    state,
    access: (cluster) => ({ cluster: cluster.name, kubeconfig: state.kubeconfig, context: cluster.context }),
    domain: (cluster) => topology.trustDomains.find((td) => td.name === cluster.trustDomain)!,
  };
}

const KIND_VERSION_OUTPUT = 'kind-version';
const nodeAddressOutput = (cluster: string) => `node-address:${cluster}`;
const verificationOutput = (job: VerificationJob) => `verification:${job.caller.name}:${job.server.name}`;
const imageTieOutput = (server: TrustDomain) => `verification:image-tie:${server.name}`;
const syncPushOutput = (proof: SyncProof) => `verification:sync-push:${proof.source.name}`;
const syncOutput = (proof: SyncProof) => `verification:sync:${proof.source.name}:${proof.target.name}`;

/** Creates both clusters, loads the image, federates the domains with the zero-touch bootstrap and deploys them. */
export function planUp(options: PlanOptions): Plan {
  const s = setting(options);
  const { state, clusters } = s;
  const steps: Step[] = [
    {
      kind: 'command',
      title: 'Check that the Docker engine answers',
      argv: ['docker', 'info', '--format', '{{.ServerVersion}}'],
      timeoutSeconds: 30,
      hint: 'start Docker (Docker Desktop, or `sudo systemctl start docker`)',
    },
    { kind: 'command', title: 'Read the kind version', argv: ['kind', 'version'], timeoutSeconds: 30, capture: KIND_VERSION_OUTPUT },
    writeKindConfigs(s),
    ...clusters.map(
      (cluster): CommandStep => ({
        kind: 'command',
        title: `Create Kind cluster ${cluster.name} (${cluster.trustDomain})`,
        argv: ['kind', 'create', 'cluster', '--config', state.clusterConfig(cluster.name), '--name', cluster.name, '--kubeconfig', state.kubeconfig, '--wait', '2m'],
        timeoutSeconds: 600,
        hint: `if a cluster named ${cluster.name} already exists, run npm run kind:down first`,
      }),
    ),
    ...loadImages(s),
    ...clusters.map((cluster) => readNodeAddress(s, cluster)),
    writeTopology(s),
    {
      kind: 'command',
      title: `Synthesize each trust domain's manifests from ${path.basename(state.topologyFile)}`,
      argv: ['npm', 'run', 'synth'],
      env: { [TOPOLOGY_FILE_ENV]: state.topologyFile, CDK8S_OUTDIR: state.manifestsDir },
      timeoutSeconds: 300,
    },
    prepareDeployment(s),
    ...clusters.flatMap((cluster) => deployDomain(s, cluster)),
    ...clusters.flatMap((cluster) =>
      domainWorkloads(s.domain(cluster)).map(
        (workload): CommandStep => ({
          kind: 'command',
          title: `Wait for ${workload.kind} ${workload.name} in ${cluster.name}`,
          argv: kubectl(s.access(cluster), '--namespace', workload.namespace, 'rollout', 'status', `${workload.kind}/${workload.name}`, '--timeout=5m'),
          timeoutSeconds: 330,
        }),
      ),
    ),
  ];
  return {
    name: 'up',
    preamble: [
      `State folder: ${state.root}`,
      ...clusters.map((cluster) =>
        deployerOf(s, cluster) === 'pulumi'
          ? `Deploying ${cluster.trustDomain} with pulumi up.`
          : `Deploying ${cluster.trustDomain} with kubectl apply --server-side.`,
      ),
    ],
    steps: [toolCheck(steps), ...steps],
    diagnose: clusters.map(s.access),
    epilogue: [
      'Both trust domains are up. Check the cross-domain calls with: npm run kind:test',
      `Inspect them with: kubectl --kubeconfig ${state.kubeconfig} --context ${clusters[0]!.context} get pods -A`,
    ],
  };
}

/**
 * Runs the verification Jobs of every apiserver (its own domain's first, then its federated callers'), the
 * image-tie Job of every apiserver with local images, and prints the summary table.
 */
export function planTest(options: PlanOptions): Plan {
  const s = setting(options);
  const jobs = verificationJobs(s.topology);
  const proofs = syncProofs(s.topology);
  const serverClusters = [...new Set([...jobs.map((job) => job.server), ...proofs.map((proof) => proof.source)].map((td) => clusterOf(s, td)))];
  const impostor = s.options.localImages?.apiserver?.impostor;
  const imageTies = impostor === undefined ? [] : [...new Set(jobs.map((job) => job.server))].map((server) => ({ job: imageTieJob(server), impostor }));
  const steps: Step[] = [
    ...serverClusters.map((cluster) => readNodeAddress(s, cluster)),
    {
      kind: 'task',
      title: 'Write the verification Jobs',
      effects: jobs.map((job) => `writes ${s.state.verificationFile(job.caller.name, job.server.name)}`),
      run: ({ captured }) => {
        const nodeAddress = (server: TrustDomain) => {
          const cluster = clusterOf(s, server);
          return parseNodeAddress(captured(nodeAddressOutput(cluster.name)), cluster.name);
        };
        for (const job of jobs) {
          const file = s.state.verificationFile(job.caller.name, job.server.name);
          mkdirSync(path.dirname(file), { recursive: true });
          Yaml.save(file, verificationManifests(job, apiserverAddress(job, nodeAddress(job.server))));
        }
      },
    },
    ...jobs.flatMap((job) =>
      jobSteps(s.access(clusterOf(s, job.caller)), job.caller.namespaces.directory, verificationJobName(job), s.state.verificationFile(job.caller.name, job.server.name),
        verificationOutput(job), `dirctl of ${job.caller.name} calls the apiserver of ${job.server.name}`),
    ),
    ...imageTies.flatMap((imageTie) => imageTieSteps(s, imageTie.job, imageTie.impostor)),
    ...proofs.flatMap((proof) => syncProofSteps(s, proof)),
    {
      kind: 'task',
      title: 'Compare each call with the cross-domain matrix',
      effects: ['prints the summary table; fails on any mismatch'],
      hint:
        'the logs below hold dirctl’s error of each call that exited non-zero. Unexpected exit 3 or UNAVAILABLE: no SVID or no ' +
        `connection (federation, node port); an unexpected PERMISSION_DENIED or OK: the apiserver’s policy (ConfigMap ${DIRECTORY_API_SERVER.policyConfigMap})`,
      run: ({ captured, log }) => {
        const checked = [
          ...jobs.map((job) => ({ job, output: verificationOutput(job) })),
          ...imageTies.map((imageTie) => ({ job: imageTie.job, output: imageTieOutput(imageTie.job.server) })),
          ...proofs.flatMap((proof) => [
            { job: proof.push, output: syncPushOutput(proof) },
            { job: proof.sync, output: syncOutput(proof) },
          ]),
        ];
        const results = checked.flatMap(({ job, output }) => checkResults(job, captured(output)));
        log(resultTable(results));
        const mismatches = results.filter((result) => !result.ok).length;
        if (mismatches > 0) throw new PlanFailure(`${mismatches} of ${results.length} calls did not get the expected outcome`);
      },
    },
  ];
  return {
    name: 'test',
    preamble: [`State folder: ${s.state.root}`],
    steps: [toolCheck(steps), ...steps],
    diagnose: s.clusters.map(s.access),
    epilogue: ['Every call got the outcome the cross-domain matrix expects.'],
  };
}

/** Deletes a previous run's Job, applies `file` and waits for the Job's pod to finish, capturing the pods as `capture`. */
function jobSteps(access: ClusterAccess, namespace: string, job: string, file: string, capture: string, what: string): Step[] {
  return [
    {
      kind: 'command',
      title: `Remove the Job ${job} of a previous run in ${access.cluster}`,
      argv: kubectl(access, '--namespace', namespace, 'delete', 'job', job, '--ignore-not-found', '--cascade=foreground', '--wait', '--timeout=2m'),
      timeoutSeconds: 150,
    },
    {
      kind: 'command',
      title: `Start the Job ${job} in ${access.cluster}: ${what}`,
      argv: kubectl(access, 'apply', '--server-side', '-f', file),
      timeoutSeconds: 120,
    },
    {
      kind: 'poll',
      title: `Wait for the pod of ${job} in ${access.cluster} to finish`,
      argv: kubectl(access, '--namespace', namespace, 'get', 'pods', '--selector', `batch.kubernetes.io/job-name=${job}`, '--output', 'json'),
      everySeconds: 3,
      timeoutSeconds: VERIFICATION.deadlineSeconds + 60,
      until: 'the pod has Succeeded or Failed',
      check: verificationPodProgress,
      capture,
      hint: 'the pod never finished: its events and the failed pods below say why (e.g. an image that was not loaded)',
    },
  ];
}

/** The image-tie Job (verification.ts) in the apiserver's cluster: its image gets the identity, the impostor none. */
function imageTieSteps(s: Setting, job: VerificationJob, impostor: string): Step[] {
  const file = s.state.imageTieFile(job.server.name);
  return [
    {
      kind: 'task',
      title: `Write the image-tie Job of ${job.server.name}`,
      effects: [`writes ${file}`],
      run: () => {
        mkdirSync(path.dirname(file), { recursive: true });
        Yaml.save(file, imageTieManifests(job.server, impostor));
      },
    },
    ...jobSteps(s.access(clusterOf(s, job.server)), job.server.namespaces.directory, VERIFICATION.imageTieJob, file, imageTieOutput(job.server),
      `the apiserver's image and an impostor ask for the apiserver's identity`),
  ];
}

/**
 * The sync proof (verification.ts): the source's dirctl pushes a record, then the target's dirctl has its
 * Directory sync it from the source's and pulls it there under the same CID.
 */
function syncProofSteps(s: Setting, proof: SyncProof): Step[] {
  const pushFile = s.state.syncProofFile(SYNC_PROOF.pushJob, proof.source.name);
  const syncFile = s.state.syncProofFile(syncJobName(proof), proof.target.name);
  const sourceCluster = clusterOf(s, proof.source);
  return [
    {
      kind: 'task',
      title: `Write the sync proof Jobs: ${proof.target.name} syncs a record of ${proof.source.name}`,
      effects: [`writes ${pushFile}`, `writes ${syncFile}`],
      run: ({ captured }) => {
        mkdirSync(path.dirname(pushFile), { recursive: true });
        Yaml.save(pushFile, syncPushManifests(proof));
        Yaml.save(syncFile, syncManifests(proof, parseNodeAddress(captured(nodeAddressOutput(sourceCluster.name)), sourceCluster.name)));
      },
    },
    ...jobSteps(s.access(sourceCluster), proof.source.namespaces.directory, SYNC_PROOF.pushJob, pushFile, syncPushOutput(proof),
      `dirctl of ${proof.source.name} pushes the record ${proof.target.name} will sync`),
    ...jobSteps(s.access(clusterOf(s, proof.target)), proof.target.namespaces.directory, syncJobName(proof), syncFile, syncOutput(proof),
      `dirctl of ${proof.target.name} syncs the record from ${proof.source.name}, waits for COMPLETED and pulls it`),
  ];
}

/** Deletes both clusters and the state folder. */
export function planDown(options: PlanOptions): Plan {
  const s = setting(options);
  const steps: Step[] = [
    ...s.clusters.map(
      (cluster): CommandStep => ({
        kind: 'command',
        title: `Delete Kind cluster ${cluster.name}`,
        argv: ['kind', 'delete', 'cluster', '--name', cluster.name, '--kubeconfig', s.state.kubeconfig],
        timeoutSeconds: 300,
      }),
    ),
    {
      kind: 'task',
      title: 'Remove the state folder (kubeconfig, upstream CAs, manifests, Pulumi state)',
      effects: [`removes ${s.state.root}`],
      run: () => rmSync(s.state.root, { recursive: true, force: true }),
    },
  ];
  return { name: 'down', preamble: [`State folder: ${s.state.root}`], steps: [toolCheck(steps), ...steps], diagnose: [], epilogue: [] };
}

/** The apiserver image built with its Dockerfile and loaded; or, with local images, every workload image loaded. */
function loadImages(s: Setting): CommandStep[] {
  const local = s.options.localImages;
  const apiserverImages = [...new Set(s.topology.trustDomains.flatMap((td) => (td.apiserver ? [td.apiserver.image] : [])))];
  const images = local ? local.workloadImages : apiserverImages;
  const build: CommandStep[] = local
    ? []
    : [
        {
          kind: 'command',
          title: `Build the apiserver and dirctl image ${apiserverImages.join(', ')}`,
          argv: ['docker', 'build', '-f', 'apps/apiserver/Dockerfile', ...apiserverImages.flatMap((image) => ['-t', image]), '.'],
          timeoutSeconds: 1200,
        },
      ];
  return [
    ...build,
    ...s.clusters.flatMap((cluster): CommandStep[] => [
      {
        kind: 'command',
        title: `Load ${images.length === 1 ? images[0] : `${images.length} images`} into ${cluster.name}`,
        argv: ['kind', 'load', 'docker-image', ...images, '--name', cluster.name],
        timeoutSeconds: 600,
      },
      {
        kind: 'command',
        // `kind load` imports the whole saved archive under an `import-<date>@<digest>` name too, a digest that
        // differs from save to save; a kubelet may then report it as a container's image ID instead of
        // `sha256:<config digest>`, which the apiserver's identity is tied to. Without those names, it cannot.
        title: `Drop the archive names kind load left in ${cluster.name}`,
        argv: ['docker', 'exec', `${cluster.name}-control-plane`, 'sh', '-c', "ctr -n k8s.io images ls -q | grep '^import-' | xargs -r ctr -n k8s.io images rm"],
        timeoutSeconds: 60,
      },
    ]),
  ];
}

function deployerOf(s: Setting, cluster: KindCluster): Deployer {
  return s.options.deployers?.[cluster.name] ?? s.options.deployer;
}

function usesPulumi(s: Setting): boolean {
  return s.clusters.some((cluster) => deployerOf(s, cluster) === 'pulumi');
}

function clusterOf(s: Setting, td: TrustDomain): KindCluster {
  return s.clusters.find((cluster) => cluster.trustDomain === td.name)!;
}

function readNodeAddress(s: Setting, cluster: KindCluster): CommandStep {
  return {
    kind: 'command',
    title: `Read the node address of ${cluster.name}`,
    argv: kubectl(s.access(cluster), 'get', 'nodes', '--output', 'jsonpath={.items[0].status.addresses[?(@.type=="InternalIP")].address}'),
    timeoutSeconds: 30,
    capture: nodeAddressOutput(cluster.name),
  };
}

function writeKindConfigs(s: Setting): TaskStep {
  return {
    kind: 'task',
    title: 'Write the Kind cluster configs',
    effects: s.clusters.map((cluster) => `writes ${s.state.clusterConfig(cluster.name)}`),
    run: ({ captured, log }) => {
      const version = captured(KIND_VERSION_OUTPUT);
      if (!version.includes(`${KIND_VERSION} `)) {
        log(`warning: ${version} is not kind ${KIND_VERSION}, the release the pinned node image is built for; install it if a cluster fails to start`);
      }
      for (const cluster of s.clusters) {
        mkdirSync(path.dirname(s.state.clusterConfig(cluster.name)), { recursive: true });
        writeFileSync(s.state.clusterConfig(cluster.name), stringify(cluster.config));
      }
    },
  };
}

function writeTopology(s: Setting): TaskStep {
  return {
    kind: 'task',
    title:
      'Make an upstream CA and a registry token key per trust domain and write the topology: bundle endpoints and registries at the node addresses, ' +
      'peers seeded with each other’s roots',
    effects: [
      ...s.clusters.map((cluster) => `writes ${s.state.caFiles(cluster.trustDomain)}/`),
      ...registryDomains(s).map((td) => `writes ${s.state.registryTokenKeyFile(td.name)}`),
      `writes ${s.state.topologyFile}`,
    ],
    run: async ({ captured }) => {
      const addresses = Object.fromEntries(s.clusters.map((cluster) => [cluster.name, parseNodeAddress(captured(nodeAddressOutput(cluster.name)), cluster.name)]));
      const tokenKeys = Object.fromEntries(registryDomains(s).map((td) => [td.name, ensureRegistryTokenKey(s.state.registryTokenKeyFile(td.name))]));
      await writeKindTopology(s.topology, addresses, tokenKeys, s.state.caFolder, s.state.topologyFile);
    },
  };
}

/** The trust domains whose Directory runs on a registry, with a token-signing key of its own. */
function registryDomains(s: Setting): TrustDomain[] {
  return s.topology.trustDomains.filter((td) => td.apiserver?.store === 'registry');
}

function prepareDeployment(s: Setting): TaskStep {
  const { state } = s;
  return {
    kind: 'task',
    title: 'Split out the CRDs and Namespaces' + (usesPulumi(s) ? ' and write the Pulumi stack configs' : ''),
    effects: [
      ...s.clusters.flatMap((cluster) =>
        [state.crdsFile, state.namespacesFile, state.workloadsFile, state.spireResourcesFile].map((file) => file(cluster.trustDomain)),
      ),
      ...(usesPulumi(s) ? [`${state.pulumiProject}/`, `${state.pulumiBackend}/`] : []),
    ].map((file) => `writes ${file}`),
    run: () => {
      for (const cluster of s.clusters) {
        const td = cluster.trustDomain;
        splitSynthFile(state.synthFile(td), {
          crds: state.crdsFile(td),
          namespaces: state.namespacesFile(td),
          workloads: state.workloadsFile(td),
          spireResources: state.spireResourcesFile(td),
        });
      }
      if (usesPulumi(s)) writePulumiProject(s.options.projectRoot, state, s.topology.trustDomains);
    },
  };
}

/**
 * CRDs (established), Namespaces and the upstream CA Secret first, then the domain's manifests. With kubectl
 * the SPIRE custom resources go last, once the server (with the controller manager, whose webhook fails
 * closed) has rolled out; Pulumi orders them itself (stacks/trust-domain-deployment.ts).
 */
function deployDomain(s: Setting, cluster: KindCluster): Step[] {
  const { state } = s;
  const td = s.domain(cluster);
  const access = s.access(cluster);
  const on = (title: string, args: string[], timeoutSeconds = 120): CommandStep => ({
    kind: 'command',
    title: `${title} in ${cluster.name}`,
    argv: kubectl(access, ...args),
    timeoutSeconds,
  });
  return [
    on('Apply the SPIRE CRDs', ['apply', '--server-side', '-f', state.crdsFile(td.name)]),
    on('Wait until the CRDs are established', ['wait', '--for=condition=Established', '--timeout=60s', '-f', state.crdsFile(td.name)], 90),
    on('Create the namespaces', ['apply', '--server-side', '-f', state.namespacesFile(td.name)]),
    on(`Create Secret ${upstreamCaSecret(td)} from the upstream CA of ${td.name}`, [
      '--namespace', td.namespaces.spire, 'create', 'secret', 'generic', upstreamCaSecret(td), `--from-file=${state.caFiles(td.name)}`,
    ]),
    ...(td.apiserver?.store === 'registry'
      ? [
          on(`Create Secret ${DEFAULT_REGISTRY_TOKEN_KEY_SECRET} from the registry token key of ${td.name}`, [
            '--namespace', td.namespaces.directory, 'create', 'secret', 'generic', DEFAULT_REGISTRY_TOKEN_KEY_SECRET,
            `--from-file=${DIRECTORY_REGISTRY.tokenKeyFile}=${state.registryTokenKeyFile(td.name)}`,
          ]),
        ]
      : []),
    ...(deployerOf(s, cluster) === 'pulumi'
      ? pulumiDeploySteps(s.options.projectRoot, state, td, cluster)
      : [
          on(`Apply the manifests of ${td.name} but the SPIRE custom resources`, ['apply', '--server-side', '-f', state.workloadsFile(td.name)], 300),
          on(
            `Wait for the SPIRE server and controller manager of ${td.name}`,
            ['--namespace', td.namespaces.spire, 'rollout', 'status', `statefulset/${SERVER.name}`, '--timeout=5m'],
            330,
          ),
          // Ready is not yet serving: the webhook's Service may refuse for a few seconds after the rollout.
          {
            kind: 'poll' as const,
            title: `Apply the SPIRE custom resources of ${td.name} in ${cluster.name}`,
            argv: kubectl(access, 'apply', '--server-side', '-f', state.spireResourcesFile(td.name)),
            everySeconds: 5,
            timeoutSeconds: 180,
            until: 'the controller manager’s webhook admits them',
            check: (stdout: string) => ({ done: true, status: stdout.trim().split('\n').join('; ') }),
            capture: `spire-resources:${cluster.name}`,
          },
        ]),
  ];
}
