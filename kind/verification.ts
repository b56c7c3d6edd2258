/**
 * The verification run in each cluster: dirctl, as the domain's `dirctl` service account, calls the
 * apiserver once per entry of the cross-domain matrix, and each call's exit code is the result.
 *
 * The image is distroless (no shell), so every call is its own container of one Job and the script reads
 * the exit codes from the pod status. The own domain's push runs first, as an init container, because the
 * other calls of both domains read the record it stores. That record's CID is known in advance (content
 * addressing), so every container's command line is fixed.
 */
import { status as grpcStatus } from '@grpc/grpc-js';
import { App, Chart } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { objectCid } from '@dirtk/directory-api/cid';
import { type CallerRelation, defaultPolicyAllows, EXIT_FAILED, EXIT_GRPC_BASE, EXIT_SETUP, EXIT_USAGE } from '@dirtk/directory-api/contract';
import { StoreServiceService, SyncServiceService } from '@dirtk/directory-api/grpc';
import { DIRECTORY_API_SERVER, DIRECTORY_IMAGE, DirectoryClientIdentity } from '../constructs';
import { appLabels, workloadApiSocket, type WorkloadApiSocket } from '../constructs/workload';
import { IMAGE_PULL_POLICY, nonRootPodSecurityContext, nonRootSecurityContext, resources } from '../constructs/hardening';
import type { Topology, TrustDomain } from '../topology';

export const VERIFICATION = {
  job: 'dirtk-verify',
  imageTieJob: 'dirtk-verify-image-tie',
  recordConfigMap: 'dirtk-verify-record',
  recordDir: '/etc/dirtk-verify',
  recordFile: 'record.json',
  /** dirctl's `--timeout`, which includes waiting for the pod's first SVID. */
  dirctlTimeoutSeconds: 120,
  /** dirctl's `--timeout` in the image-tie Job, whose impostor waits all of it for an SVID that never comes. */
  imageTieTimeoutSeconds: 45,
  /** The Job's `activeDeadlineSeconds`: the pod is stopped after this, so the poll for it always ends. */
  deadlineSeconds: 300,
} as const;

/** The record the verification Job pushes from its ConfigMap. */
export const VERIFICATION_RECORD = {
  name: 'dirtk-kind-verification',
  version: 'v1',
  description: 'Pushed by the verification Job of the Kind clusters (kind/)',
} as const;

/** The CID the apiserver (and the real Directory) gives `VERIFICATION_RECORD`. */
export const VERIFICATION_RECORD_CID = objectCid(VERIFICATION_RECORD);

export type Relation = CallerRelation;
/** `unidentified`: the workload got no SVID (dirctl exits 3). */
export type Outcome = 'allowed' | 'denied' | 'unidentified';

export interface Check {
  /** The container name, and the call's name in the summary table. */
  readonly name: string;
  /** dirctl's command words and arguments. */
  readonly dirctl: readonly string[];
  readonly expected: Outcome;
  /** Runs before the others (as an init container), which need what it does. */
  readonly first?: boolean;
}

/** A check before its expected outcome is known: the dirctl call and the method it calls. */
type Call = Omit<Check, 'expected'> & { readonly method: string };

const RECORD_PATH = `${VERIFICATION.recordDir}/${VERIFICATION.recordFile}`;
const push: Call = { name: 'push', dirctl: ['push', RECORD_PATH], method: StoreServiceService.push.path };
const pull: Call = { name: 'pull', dirctl: ['pull', VERIFICATION_RECORD_CID], method: StoreServiceService.pull.path };
const lookup: Call = { name: 'lookup', dirctl: ['lookup', VERIFICATION_RECORD_CID], method: StoreServiceService.lookup.path };
const credentials: Call = { name: 'credentials', dirctl: ['credentials'], method: SyncServiceService.requestRegistryCredentials.path };
const syncList: Call = { name: 'sync-list', dirctl: ['sync', 'list'], method: SyncServiceService.listSyncs.path };

/** `calls` made by a caller of `relation`, each expecting what the default policy says of its method. */
function checks(relation: Relation, calls: readonly Call[]): Check[] {
  return calls.map(({ method, ...call }) => ({ ...call, expected: defaultPolicyAllows(relation, method) ? 'allowed' : 'denied' }));
}

/**
 * The cross-domain matrix as dirctl calls, from the default policy: its own trust domain may call
 * everything; a federated one may read records (Pull, Lookup) and ask for registry credentials, and is
 * denied the rest (Push, ListSyncs). The own domain pushes first, for the others to read.
 */
export const CROSS_DOMAIN_MATRIX: Readonly<Record<Relation, readonly Check[]>> = {
  own: checks('own', [{ ...push, first: true }, pull, lookup, credentials, syncList]),
  federated: checks('federated', [pull, lookup, credentials, syncList, push]),
};

/** One Job: dirctl in `caller`'s cluster calling the apiserver of `server`. */
export interface VerificationJob {
  readonly caller: TrustDomain;
  readonly server: TrustDomain;
  readonly relation: Relation;
  readonly checks: readonly Check[];
}

/**
 * Per trust domain with an apiserver, in topology order: the apiserver's own domain first (it stores the
 * record), then every domain federated with it both ways (its clients must trust the apiserver's bundle and
 * the apiserver theirs).
 */
export function verificationJobs(topology: Topology): VerificationJob[] {
  const servers = topology.trustDomains.filter((td) => td.apiserver);
  if (servers.length === 0) throw new Error('the Kind verification needs a trust domain with an apiserver; the topology has none');
  const federates = (from: TrustDomain, to: TrustDomain) => from.federatesWith.some((edge) => edge.trustDomain === to.name);
  return servers.flatMap((server) => [
    { caller: server, server, relation: 'own' as const, checks: CROSS_DOMAIN_MATRIX.own },
    ...topology.trustDomains
      .filter((caller) => caller !== server && federates(caller, server) && federates(server, caller))
      .map((caller) => ({ caller, server, relation: 'federated' as const, checks: CROSS_DOMAIN_MATRIX.federated })),
  ]);
}

/**
 * The Job's name: one per apiserver it calls, so that a caller's Jobs against different apiservers, in one
 * namespace, neither replace each other nor mix their pods.
 */
export function verificationJobName(job: VerificationJob): string {
  return `${VERIFICATION.job}-${job.server.clusterName}`;
}

/**
 * Where the Job's dirctl dials the apiserver: its Service inside the server's own cluster, else the Service's
 * node port on the server cluster's node (`serverNodeAddress`).
 */
export function apiserverAddress(job: VerificationJob, serverNodeAddress: string): string {
  const { server } = job;
  const { port, nodePort } = server.apiserver!;
  if (job.relation === 'own') return `${DIRECTORY_API_SERVER.name}.${server.namespaces.directory}.svc:${port}`;
  if (nodePort === undefined) {
    throw new Error(`the apiserver of ${server.name} has no fixed node port, so dirctl in ${job.caller.name} cannot reach it from its cluster`);
  }
  return `${serverNodeAddress}:${nodePort}`;
}

/** One dirctl call of `check` against `serverAddress`, as a container of `image`. */
function dirctlContainer(
  check: Check,
  image: string,
  server: TrustDomain,
  serverAddress: string,
  socket: WorkloadApiSocket,
  { extraMounts = [], timeoutSeconds = VERIFICATION.dirctlTimeoutSeconds }: { extraMounts?: k8s.VolumeMount[]; timeoutSeconds?: number } = {},
): k8s.Container {
  return {
    name: check.name,
    image,
    imagePullPolicy: IMAGE_PULL_POLICY,
    command: ['node', DIRECTORY_IMAGE.dirctlEntry],
    args: [...check.dirctl, '--server', serverAddress, '--server-trust-domain', server.name, '--timeout', String(timeoutSeconds), '--json'],
    env: [socket.env],
    volumeMounts: [socket.volumeMount, ...extraMounts],
    securityContext: nonRootSecurityContext(),
    resources: resources(['10m', '500m'], ['64Mi', '256Mi']),
  };
}

/** A Job that runs once, stops at the deadline, and has no API token or service links. */
function oneShotJob(chart: Chart, id: string, name: string, namespace: string, labels: Record<string, string>, pod: k8s.PodSpec): k8s.KubeJob {
  return new k8s.KubeJob(chart, id, {
    metadata: { name, namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: VERIFICATION.deadlineSeconds,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: 'Never',
          automountServiceAccountToken: false,
          enableServiceLinks: false,
          securityContext: nonRootPodSecurityContext(DIRECTORY_IMAGE.uid),
          ...pod,
        },
      },
    },
  });
}

/** The record ConfigMap and the Job, in the caller's directory namespace. */
export function verificationManifests(job: VerificationJob, serverAddress: string): Record<string, unknown>[] {
  return dirctlJobManifests(job, verificationJobName(job), serverAddress, { configMap: VERIFICATION.recordConfigMap, record: VERIFICATION_RECORD });
}

/**
 * A Job of dirctl calls (`job.checks`, those marked `first` in order as init containers) as `job.caller`'s
 * client against `serverAddress`, with `record` mounted from its ConfigMap at `VERIFICATION.recordDir`.
 */
function dirctlJobManifests(
  job: VerificationJob,
  name: string,
  serverAddress: string,
  { configMap, record }: { readonly configMap: string; readonly record: object },
): Record<string, unknown>[] {
  const chart = new Chart(new App(), 'verification');
  const namespace = job.caller.namespaces.directory;
  const client = new DirectoryClientIdentity(new Chart(new App(), 'client'), 'DirectoryClient', { trustDomain: job.caller });
  const labels = { 'app.kubernetes.io/name': VERIFICATION.job, 'app.kubernetes.io/part-of': 'dirtk' };

  new k8s.KubeConfigMap(chart, 'Record', {
    metadata: { name: configMap, namespace, labels },
    data: { [VERIFICATION.recordFile]: `${JSON.stringify(record, null, 2)}\n` },
  });
  const image = job.server.apiserver!.image;
  const recordMount = { name: 'record', mountPath: VERIFICATION.recordDir, readOnly: true };
  const container = (check: Check) => dirctlContainer(check, image, job.server, serverAddress, client.workloadApi, { extraMounts: [recordMount] });
  const first = job.checks.filter((check) => check.first);
  oneShotJob(chart, 'Job', name, namespace, labels, {
    serviceAccountName: client.serviceAccountName,
    ...(first.length > 0 && { initContainers: first.map(container) }),
    containers: job.checks.filter((check) => !check.first).map(container),
    volumes: [client.workloadApi.volume, { name: 'record', configMap: { name: configMap } }],
  });
  return chart.toJson() as Record<string, unknown>[];
}

/**
 * The sync proof: the first Directory on a registry (in topology order) is the source; its dirctl pushes a
 * record only it holds, then the dirctl of each peer (federated both ways, also on a registry) has its own
 * Directory sync that record from the source over the clusters' network (`dirctl sync create --wait`, which
 * exits 0 only once the sync is COMPLETED) and pulls it from its own Directory under the same CID.
 */
export interface SyncProof {
  readonly source: TrustDomain;
  readonly target: TrustDomain;
  /** The source's dirctl pushing the record to the source's apiserver. */
  readonly push: VerificationJob;
  /** The target's dirctl syncing it into, and pulling it from, the target's apiserver. */
  readonly sync: VerificationJob;
}

export const SYNC_PROOF = {
  pushJob: 'dirtk-sync-push',
  syncJob: 'dirtk-sync',
  recordConfigMap: 'dirtk-sync-record',
} as const;

/** The record the source's dirctl pushes for the sync proof: only the source holds it before the sync. */
export function syncRecord(source: TrustDomain): { readonly name: string; readonly version: string; readonly description: string } {
  return { name: `dirtk-kind-sync-from-${source.name}`, version: 'v1', description: `Pushed in ${source.name} by the Kind sync proof (kind/), then synced by its peers` };
}

/** The sync proofs of `topology` (see `SyncProof`); none without two Directories on a registry federated both ways. */
export function syncProofs(topology: Topology): SyncProof[] {
  const onRegistry = topology.trustDomains.filter((td) => td.apiserver?.store === 'registry');
  const source = onRegistry[0];
  if (source === undefined) return [];
  const federates = (from: TrustDomain, to: TrustDomain) => from.federatesWith.some((edge) => edge.trustDomain === to.name);
  const cid = objectCid(syncRecord(source));
  return onRegistry
    .filter((target) => target !== source && federates(target, source) && federates(source, target))
    .map((target) => ({
      source,
      target,
      push: { caller: source, server: source, relation: 'own' as const, checks: [{ name: 'push-for-sync', dirctl: ['push', RECORD_PATH], expected: 'allowed' as const }] },
      sync: {
        caller: target,
        server: target,
        relation: 'own' as const,
        checks: [
          { name: `sync-from-${source.clusterName}`, dirctl: ['sync', 'create', '--cid', cid, '--wait'], expected: 'allowed' as const, first: true },
          { name: 'pull-synced', dirctl: ['pull', cid], expected: 'allowed' as const },
        ],
      },
    }));
}

/** The name of the sync Job of `proof` in the target's cluster. */
export function syncJobName(proof: SyncProof): string {
  return `${SYNC_PROOF.syncJob}-from-${proof.source.clusterName}`;
}

/** The push Job, in the source's directory namespace, against the source's own apiserver Service. */
export function syncPushManifests(proof: SyncProof): Record<string, unknown>[] {
  return dirctlJobManifests(proof.push, SYNC_PROOF.pushJob, ownApiserverAddress(proof.source), { configMap: SYNC_PROOF.recordConfigMap, record: syncRecord(proof.source) });
}

/**
 * The sync Job, in the target's directory namespace, against the target's own apiserver Service; the sync
 * names the source's apiserver at `sourceNodeAddress` and its node port, as the target's `syncPeers` list it.
 */
export function syncManifests(proof: SyncProof, sourceNodeAddress: string): Record<string, unknown>[] {
  const nodePort = proof.source.apiserver!.nodePort;
  if (nodePort === undefined) throw new Error(`the apiserver of ${proof.source.name} has no fixed node port, so ${proof.target.name} cannot sync from it`);
  const remote = `${sourceNodeAddress}:${nodePort}`;
  const checks = proof.sync.checks.map((check) => (check.first ? { ...check, dirctl: [...check.dirctl, '--remote-directory-url', remote] } : check));
  return dirctlJobManifests({ ...proof.sync, checks }, syncJobName(proof), ownApiserverAddress(proof.target), {
    configMap: SYNC_PROOF.recordConfigMap,
    record: syncRecord(proof.source),
  });
}

function ownApiserverAddress(td: TrustDomain): string {
  return `${DIRECTORY_API_SERVER.name}.${td.namespaces.directory}.svc:${td.apiserver!.port}`;
}

/** The image-tie check: the apiserver's own image and its impostor, side by side in one pod. */
export const IMAGE_TIE_CHECKS: readonly Check[] = [
  { ...syncList, name: 'genuine-image', expected: 'allowed' },
  { ...syncList, name: 'impostor-image', expected: 'unidentified' },
];

/** The image-tie checks as a job of `server`'s own domain, for `checkResults`. */
export function imageTieJob(server: TrustDomain): VerificationJob {
  return { caller: server, server, relation: 'own', checks: IMAGE_TIE_CHECKS };
}

/**
 * A Job in the apiserver's namespace, as its service account and with its pod labels, whose containers
 * each ask for the apiserver's identity and call it: the apiserver's image (gets the identity: its call is
 * allowed) and `impostor`, the same files under another image ID (gets none: dirctl exits 3). The pod
 * matches the apiserver's Service selector, so it carries a readiness probe that never passes: the Service
 * never sends it traffic.
 */
export function imageTieManifests(server: TrustDomain, impostor: string): Record<string, unknown>[] {
  const apiserver = server.apiserver;
  if (apiserver?.imageId === undefined) throw new Error(`the apiserver of ${server.name} is not tied to an image ID (apiserver.imageId)`);
  const chart = new Chart(new App(), 'image-tie');
  const socket = workloadApiSocket(server);
  const serverAddress = `${DIRECTORY_API_SERVER.name}.${server.namespaces.directory}.svc:${apiserver.port}`;
  const [genuine, impostorCheck] = IMAGE_TIE_CHECKS as [Check, Check];
  const options = { timeoutSeconds: VERIFICATION.imageTieTimeoutSeconds };
  const neverReady: k8s.Probe = { tcpSocket: { port: k8s.IntOrString.fromNumber(1) }, periodSeconds: 60 };
  oneShotJob(chart, 'Job', VERIFICATION.imageTieJob, server.namespaces.directory, { ...appLabels(DIRECTORY_API_SERVER.name), 'dirtk.io/verification': 'image-tie' }, {
    serviceAccountName: apiserver.serviceAccount,
    containers: [
      { ...dirctlContainer(genuine, apiserver.image, server, serverAddress, socket, options), readinessProbe: neverReady },
      { ...dirctlContainer(impostorCheck, impostor, server, serverAddress, socket, options), readinessProbe: neverReady },
    ],
    volumes: [socket.volume],
  });
  return chart.toJson() as Record<string, unknown>[];
}

/** What dirctl's exit code means for a call: allowed, denied, or something else went wrong. */
export function describeExit(code: number): { readonly outcome: Outcome | 'error'; readonly text: string } {
  if (code === 0) return { outcome: 'allowed', text: 'allowed (exit 0)' };
  if (code === EXIT_GRPC_BASE + grpcStatus.PERMISSION_DENIED) return { outcome: 'denied', text: `denied (exit ${code})` };
  if (code === EXIT_SETUP) return { outcome: 'unidentified', text: `no SVID or no connection (exit ${code})` };
  const meaning = code > EXIT_GRPC_BASE && code <= EXIT_GRPC_BASE + 16 ? grpcStatus[code - EXIT_GRPC_BASE] : { [EXIT_FAILED]: 'server failure or dirctl error', [EXIT_USAGE]: 'usage error' }[code];
  return { outcome: 'error', text: `error (exit ${code}${meaning ? `: ${meaning}` : ''})` };
}

export function expectedText(outcome: Outcome): string {
  if (outcome === 'allowed') return 'allowed (exit 0)';
  return outcome === 'denied' ? `denied (exit ${EXIT_GRPC_BASE + grpcStatus.PERMISSION_DENIED})` : `no SVID or no connection (exit ${EXIT_SETUP})`;
}

interface ContainerStatus {
  readonly name: string;
  readonly state?: { readonly terminated?: { readonly exitCode: number }; readonly waiting?: { readonly reason?: string } };
}
interface Pod {
  readonly metadata: { readonly name: string };
  readonly status?: { readonly phase?: string; readonly initContainerStatuses?: ContainerStatus[]; readonly containerStatuses?: ContainerStatus[] };
}

/** The Job's pods from `kubectl get pods -o json`. */
function jobPods(stdout: string): Pod[] {
  return (JSON.parse(stdout) as { items: Pod[] }).items;
}

/** For the poll of the Job's pod: done once it has Succeeded or Failed; the status names each container's state. */
export function verificationPodProgress(stdout: string): { done: boolean; status: string } {
  const pod = jobPods(stdout)[0];
  if (pod === undefined) return { done: false, status: 'waiting for the pod to be created' };
  const phase = pod.status?.phase ?? 'Unknown';
  const containers = [...(pod.status?.initContainerStatuses ?? []), ...(pod.status?.containerStatuses ?? [])].map(
    (container) =>
      `${container.name}: ${
        container.state?.terminated ? `exit ${container.state.terminated.exitCode}` : (container.state?.waiting?.reason ?? 'running')
      }`,
  );
  return { done: phase === 'Succeeded' || phase === 'Failed', status: `${pod.metadata.name} ${phase}${containers.length > 0 ? ` (${containers.join(', ')})` : ''}` };
}

export interface CheckResult {
  readonly caller: string;
  readonly server: string;
  readonly call: string;
  readonly expected: string;
  readonly actual: string;
  readonly ok: boolean;
}

/** Each check of `job` judged from its container's exit code in the pod list `stdout`. */
export function checkResults(job: VerificationJob, stdout: string): CheckResult[] {
  const pod = jobPods(stdout)[0];
  const statuses = [...(pod?.status?.initContainerStatuses ?? []), ...(pod?.status?.containerStatuses ?? [])];
  return job.checks.map((check) => {
    const state = statuses.find((status) => status.name === check.name)?.state;
    const exit = state?.terminated && describeExit(state.terminated.exitCode);
    return {
      caller: job.caller.name,
      server: job.server.name,
      call: check.name,
      expected: expectedText(check.expected),
      actual: exit?.text ?? `did not run (${pod === undefined ? 'no pod' : (state?.waiting?.reason ?? 'not finished')})`,
      ok: exit?.outcome === check.expected,
    };
  });
}
