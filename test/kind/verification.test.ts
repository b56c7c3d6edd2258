import { App, Chart } from 'cdk8s';
import { objectCid } from '@dirtk/directory-api/cid';
import { Job } from 'kubernetes-models/batch/v1';
import { ConfigMap } from 'kubernetes-models/v1';
import { describe, expect, it } from 'vitest';
import { AuthzEngine, parseYamlPolicy } from '../../apps/apiserver/src/authz';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { openStore } from '../../apps/apiserver/src/store/store';
import { ApiServerPolicy, DIRECTORY_IMAGE, DirectoryClientIdentity } from '../../constructs';
import { resultTable } from '../../kind/report';
import { withApiserverNodePort, withHostPathSockets, withPinnedApiServerImage, withRegistryStore } from '../../kind/topology';
import { DirectoryApiServer } from '../../constructs/directory-api-server';
import {
  apiserverAddress,
  checkResults,
  describeExit,
  imageTieManifests,
  syncManifests,
  syncProofs,
  syncPushManifests,
  syncRecord,
  VERIFICATION_RECORD,
  VERIFICATION_RECORD_CID,
  verificationJobs,
  verificationManifests,
  verificationPodProgress,
  type VerificationJob,
} from '../../kind/verification';
import { EXAMPLE_FEDERATION, resolveTopology } from '../../topology';
import { podList, tempDir } from './fixtures';

type Manifest = Record<string, any>;

const EXAMPLE = withApiserverNodePort(resolveTopology(EXAMPLE_FEDERATION));
const JOBS = verificationJobs(EXAMPLE);
const NODE = '172.18.0.2';
const manifestsOf = (job: VerificationJob) => verificationManifests(job, apiserverAddress(job, NODE)) as Manifest[];
const jobOf = (job: VerificationJob) => manifestsOf(job).find((object) => object.kind === 'Job')!;
const podSpec = (job: VerificationJob) => jobOf(job).spec.template.spec;
const allContainers = (job: VerificationJob): Manifest[] => [...(podSpec(job).initContainers ?? []), ...podSpec(job).containers];

/** The gRPC method each dirctl call makes, written out rather than taken from the scripts. */
const METHOD: Record<string, string> = {
  push: '/agntcy.dir.store.v1.StoreService/Push',
  pull: '/agntcy.dir.store.v1.StoreService/Pull',
  lookup: '/agntcy.dir.store.v1.StoreService/Lookup',
  credentials: '/agntcy.dir.store.v1.SyncService/RequestRegistryCredentials',
  'sync-list': '/agntcy.dir.store.v1.SyncService/ListSyncs',
};

describe('the verification Jobs', () => {
  it('run per apiserver, in its own domain first, then in the federated one', () => {
    expect(JOBS.map((job) => [job.caller.name, job.server.name, job.relation])).toEqual([
      ['dir.example', 'dir.example', 'own'],
      ['dirctl.example', 'dir.example', 'federated'],
      ['dirctl.example', 'dirctl.example', 'own'],
      ['dir.example', 'dirctl.example', 'federated'],
    ]);
  });

  it('name each Job after the apiserver it calls, so that a caller’s Jobs in one namespace stay apart', () => {
    expect(JOBS.map((job) => [job.caller.name, jobOf(job).metadata.name])).toEqual([
      ['dir.example', 'dirtk-verify-dir-example'],
      ['dirctl.example', 'dirtk-verify-dir-example'],
      ['dirctl.example', 'dirtk-verify-dirctl-example'],
      ['dir.example', 'dirtk-verify-dirctl-example'],
    ]);
  });

  it('refuse a topology without an apiserver', () => {
    expect(() => verificationJobs(resolveTopology({ trustDomains: [{ name: 'solo.example', clusterName: 'solo' }] }))).toThrow(
      'the Kind verification needs a trust domain with an apiserver; the topology has none',
    );
  });

  const labelled = JOBS.map((job) => [`${job.caller.name} → ${job.server.name}`, job] as const);

  it.each(labelled)('%s: a ConfigMap and a Job, valid for the Kubernetes schema', (_, job) => {
    const manifests = manifestsOf(job);
    expect(manifests.map((object) => object.kind)).toEqual(['ConfigMap', 'Job']);
    expect(() => new ConfigMap(manifests[0] as never).validate()).not.toThrow();
    expect(() => new Job(manifests[1] as never).validate()).not.toThrow();
  });

  it.each(labelled)('%s: runs as dirctl with the client identity’s Workload API mount, and only node and dirctl', (_, job) => {
    const client = new DirectoryClientIdentity(new Chart(new App(), 'expected'), 'DirectoryClient', { trustDomain: job.caller });
    const asJson = (value: unknown) => JSON.parse(JSON.stringify(value));
    const spec = podSpec(job);
    expect(jobOf(job).metadata.namespace).toBe(job.caller.namespaces.directory);
    expect(spec.serviceAccountName).toBe('dirctl');
    expect(spec.restartPolicy).toBe('Never');
    expect(jobOf(job).spec.backoffLimit).toBe(0);
    expect(spec.volumes).toContainEqual(asJson(client.workloadApi.volume));
    for (const container of allContainers(job)) {
      expect(container.image).toBe(job.server.apiserver!.image);
      expect(container.command).toEqual(['node', DIRECTORY_IMAGE.dirctlEntry]);
      expect(container.env).toEqual([asJson(client.workloadApi.env)]);
      expect(container.volumeMounts).toContainEqual(asJson(client.workloadApi.volumeMount));
      expect(container.args).toEqual(expect.arrayContaining(['--server-trust-domain', job.server.name, '--json']));
    }
  });

  it('dials the apiserver Service in its own cluster and the node port of the apiserver’s node from the peer cluster', () => {
    const server = (job: VerificationJob) => allContainers(job).map((container) => container.args[container.args.indexOf('--server') + 1]);
    expect(new Set(server(JOBS[0]!))).toEqual(new Set(['dir-apiserver.dir.svc:8888']));
    expect(new Set(server(JOBS[1]!))).toEqual(new Set([`${NODE}:30888`]));
    expect(new Set(server(JOBS[2]!))).toEqual(new Set(['dir-apiserver.dir.svc:8888']));
    expect(new Set(server(JOBS[3]!))).toEqual(new Set([`${NODE}:30888`]));
  });

  it('refuses to send the peer cluster to an apiserver without a fixed node port', () => {
    const federated = verificationJobs(resolveTopology(EXAMPLE_FEDERATION))[1]!;
    expect(() => apiserverAddress(federated, NODE)).toThrow('the apiserver of dir.example has no fixed node port, so dirctl in dirctl.example cannot reach it');
  });

  it('expects exactly what the deployed default policy decides for each call', () => {
    const rows = JOBS.flatMap((job) => {
      const engine = new AuthzEngine(parseYamlPolicy(ApiServerPolicy.default().text, 'policy.yaml'), TrustDomain.parse(job.server.name));
      return job.checks.map((check) => {
        const caller = SpiffeId.parse(`spiffe://${job.caller.name}/ns/${job.caller.namespaces.directory}/sa/dirctl`);
        return [job.caller.name, job.server.name, check.name, check.expected, engine.decide(caller, METHOD[check.name]!).allowed ? 'allowed' : 'denied'];
      });
    });
    expect(rows.map(([caller, server, call, expected]) => [caller, server, call, expected])).toEqual([
      ['dir.example', 'dir.example', 'push', 'allowed'],
      ['dir.example', 'dir.example', 'pull', 'allowed'],
      ['dir.example', 'dir.example', 'lookup', 'allowed'],
      ['dir.example', 'dir.example', 'credentials', 'allowed'],
      ['dir.example', 'dir.example', 'sync-list', 'allowed'],
      ['dirctl.example', 'dir.example', 'pull', 'allowed'],
      ['dirctl.example', 'dir.example', 'lookup', 'allowed'],
      ['dirctl.example', 'dir.example', 'credentials', 'allowed'],
      ['dirctl.example', 'dir.example', 'sync-list', 'denied'],
      ['dirctl.example', 'dir.example', 'push', 'denied'],
      ['dirctl.example', 'dirctl.example', 'push', 'allowed'],
      ['dirctl.example', 'dirctl.example', 'pull', 'allowed'],
      ['dirctl.example', 'dirctl.example', 'lookup', 'allowed'],
      ['dirctl.example', 'dirctl.example', 'credentials', 'allowed'],
      ['dirctl.example', 'dirctl.example', 'sync-list', 'allowed'],
      ['dir.example', 'dirctl.example', 'pull', 'allowed'],
      ['dir.example', 'dirctl.example', 'lookup', 'allowed'],
      ['dir.example', 'dirctl.example', 'credentials', 'allowed'],
      ['dir.example', 'dirctl.example', 'sync-list', 'denied'],
      ['dir.example', 'dirctl.example', 'push', 'denied'],
    ]);
    for (const [caller, server, call, expected, decided] of rows) expect(decided, `${caller} → ${server} ${call}`).toBe(expected);
  });

  it('has one container per call, named after it, the own domain’s push first as an init container', () => {
    expect(podSpec(JOBS[0]!).initContainers.map((c: Manifest) => c.name)).toEqual(['push']);
    expect(podSpec(JOBS[0]!).containers.map((c: Manifest) => c.name)).toEqual(['pull', 'lookup', 'credentials', 'sync-list']);
    expect(podSpec(JOBS[1]!).initContainers).toBeUndefined();
    expect(podSpec(JOBS[1]!).containers.map((c: Manifest) => [c.name, ...c.args.slice(0, c.args.indexOf('--server'))])).toEqual([
      ['pull', 'pull', VERIFICATION_RECORD_CID],
      ['lookup', 'lookup', VERIFICATION_RECORD_CID],
      ['credentials', 'credentials'],
      ['sync-list', 'sync', 'list'],
      ['push', 'push', '/etc/dirtk-verify/record.json'],
    ]);
  });

  it('pulls and looks up the CID the apiserver’s store gives the record pushed from the ConfigMap', async () => {
    const record = JSON.parse(manifestsOf(JOBS[0]!)[0]!.data['record.json']);
    expect(record).toEqual(VERIFICATION_RECORD);
    const store = await openStore(tempDir());
    expect(await store.records.put(record)).toBe(VERIFICATION_RECORD_CID);
  });
});

describe('the image-tie Job', () => {
  const imageId = `sha256:${'5a'.repeat(32)}`;
  const pinned = withPinnedApiServerImage(withHostPathSockets(EXAMPLE), { image: 'dirtk/apiserver:5a5a5a5a5a5a5a5a', imageId });
  const server = pinned.trustDomains[0]!;
  const job = (imageTieManifests(server, 'dirtk/apiserver-impostor:5a5a5a5a5a5a5a5a') as Manifest[])[0]!;
  const pod = job.spec.template.spec;

  it('is valid for the Kubernetes schema', () => {
    expect(() => new Job(job as never).validate()).not.toThrow();
  });

  it('is a pod the apiserver’s ClusterSPIFFEID selects, in its namespace and as its service account', () => {
    const chart = new Chart(new App(), 'apiserver');
    const apiserver = new DirectoryApiServer(chart, 'ApiServer', { trustDomain: server });
    const identity = (chart.toJson() as Manifest[]).find((object) => object.kind === 'ClusterSPIFFEID')!;
    expect(job.metadata.namespace).toBe(server.namespaces.directory);
    expect(pod.serviceAccountName).toBe(apiserver.apiserver.serviceAccount);
    for (const [key, value] of Object.entries(identity.spec.podSelector.matchLabels as Record<string, string>)) expect(job.spec.template.metadata.labels[key]).toBe(value);
    expect(identity.spec.workloadSelectorTemplates).toContain(`k8s:container-image:${imageId}`);
  });

  it('runs the same call from the apiserver’s image and from the impostor, neither ever Ready for the Service', () => {
    const [genuine, impostor] = pod.containers as Manifest[];
    expect([genuine!.image, impostor!.image]).toEqual(['dirtk/apiserver:5a5a5a5a5a5a5a5a', 'dirtk/apiserver-impostor:5a5a5a5a5a5a5a5a']);
    expect(impostor!.args).toEqual(genuine!.args);
    for (const container of [genuine!, impostor!]) expect(container.readinessProbe.tcpSocket.port).toBe(1);
  });

  it('refuses an apiserver whose identity is not tied to an image', () => {
    expect(() => imageTieManifests(EXAMPLE.trustDomains[0]!, 'x')).toThrow(/not tied to an image ID/);
  });
});

describe('judging the pods', () => {
  const [own, federated] = JOBS as [VerificationJob, VerificationJob];

  it('reads allowed and denied calls from exit codes 0 and 107', () => {
    const results = [
      ...checkResults(own, podList('Succeeded', { push: 0, pull: 0, lookup: 0, credentials: 0, 'sync-list': 0 }, ['push'])),
      ...checkResults(federated, podList('Failed', { pull: 0, lookup: 0, credentials: 0, 'sync-list': 107, push: 107 })),
    ];
    expect(results.every((result) => result.ok)).toBe(true);
    expect(resultTable(results).split('\n')).toEqual([
      'caller          apiserver    call         expected           actual             result',
      'dir.example     dir.example  push         allowed (exit 0)   allowed (exit 0)   ok',
      'dir.example     dir.example  pull         allowed (exit 0)   allowed (exit 0)   ok',
      'dir.example     dir.example  lookup       allowed (exit 0)   allowed (exit 0)   ok',
      'dir.example     dir.example  credentials  allowed (exit 0)   allowed (exit 0)   ok',
      'dir.example     dir.example  sync-list    allowed (exit 0)   allowed (exit 0)   ok',
      'dirctl.example  dir.example  pull         allowed (exit 0)   allowed (exit 0)   ok',
      'dirctl.example  dir.example  lookup       allowed (exit 0)   allowed (exit 0)   ok',
      'dirctl.example  dir.example  credentials  allowed (exit 0)   allowed (exit 0)   ok',
      'dirctl.example  dir.example  sync-list    denied (exit 107)  denied (exit 107)  ok',
      'dirctl.example  dir.example  push         denied (exit 107)  denied (exit 107)  ok',
    ]);
  });

  it('reports a wrong outcome, a failure of another kind and a call that never ran as mismatches', () => {
    const results = checkResults(own, podList('Failed', { push: 103, pull: 'PodInitializing', lookup: 'PodInitializing', credentials: 'PodInitializing', 'sync-list': 'PodInitializing' }, ['push']));
    expect(results.map((result) => [result.call, result.actual, result.ok])).toEqual([
      ['push', 'error (exit 103: INVALID_ARGUMENT)', false],
      ['pull', 'did not run (PodInitializing)', false],
      ['lookup', 'did not run (PodInitializing)', false],
      ['credentials', 'did not run (PodInitializing)', false],
      ['sync-list', 'did not run (PodInitializing)', false],
    ]);
    expect(checkResults(federated, podList('Failed', { pull: 0, lookup: 0, credentials: 0, 'sync-list': 0, push: 0 })).filter((r) => !r.ok).map((r) => r.call)).toEqual([
      'sync-list',
      'push',
    ]);
    expect(checkResults(federated, JSON.stringify({ items: [] }))[0]!.actual).toBe('did not run (no pod)');
  });

  it('explains dirctl’s exit codes', () => {
    expect([0, 1, 2, 3, 105, 107, 114, 116, 42].map((code) => describeExit(code).text)).toEqual([
      'allowed (exit 0)',
      'error (exit 1: server failure or dirctl error)',
      'error (exit 2: usage error)',
      'no SVID or no connection (exit 3)',
      'error (exit 105: NOT_FOUND)',
      'denied (exit 107)',
      'error (exit 114: UNAVAILABLE)',
      'error (exit 116: UNAUTHENTICATED)',
      'error (exit 42)',
    ]);
  });

  it('waits until the pod has Succeeded or Failed, showing each container’s state', () => {
    expect(verificationPodProgress(JSON.stringify({ items: [] }))).toEqual({ done: false, status: 'waiting for the pod to be created' });
    expect(verificationPodProgress(podList('Pending', { push: 'ContainerCreating' }, ['push']))).toEqual({
      done: false,
      status: 'dirtk-verify-x7k2p Pending (push: ContainerCreating)',
    });
    expect(verificationPodProgress(podList('Failed', { pull: 0, push: 107 })).done).toBe(true);
    expect(verificationPodProgress(podList('Succeeded', { pull: 0 })).done).toBe(true);
  });
});

describe('the sync proof', () => {
  const onRegistry = withRegistryStore(EXAMPLE);
  const [proof, ...others] = syncProofs(onRegistry);

  it('has dirctl.example sync a record only dir.example holds, and nothing without Directories on a registry', () => {
    expect(others).toEqual([]);
    expect([proof!.source.name, proof!.target.name]).toEqual(['dir.example', 'dirctl.example']);
    expect(objectCid(syncRecord(proof!.source))).not.toBe(VERIFICATION_RECORD_CID);
    expect(syncProofs(EXAMPLE)).toEqual([]);
  });

  it('pushes in the source, then syncs in the target from the source’s node port, waiting for COMPLETED, and pulls the same CID there', () => {
    const cid = objectCid(syncRecord(proof!.source));
    const push = syncPushManifests(proof!).find((o) => o.kind === 'Job') as Manifest;
    expect(push.metadata).toMatchObject({ name: 'dirtk-sync-push', namespace: 'dir' });
    expect(push.spec.template.spec.containers.map((c: Manifest) => c.args.slice(0, 4))).toEqual([
      ['push', `${'/etc/dirtk-verify'}/record.json`, '--server', 'dir-apiserver.dir.svc:8888'],
    ]);
    const objects = syncManifests(proof!, '172.18.0.2');
    const job = objects.find((o) => o.kind === 'Job') as Manifest;
    const record = objects.find((o) => o.kind === 'ConfigMap') as Manifest;
    expect(JSON.parse(record.data['record.json'])).toEqual(syncRecord(proof!.source));
    const pod = job.spec.template.spec as Manifest;
    expect(pod.serviceAccountName).toBe('dirctl');
    expect(pod.initContainers.map((c: Manifest) => c.args)).toEqual([
      ['sync', 'create', '--cid', cid, '--wait', '--remote-directory-url', '172.18.0.2:30888', '--server', 'dir-apiserver.dir.svc:8888', '--server-trust-domain', 'dirctl.example', '--timeout', '120', '--json'],
    ]);
    expect(pod.containers.map((c: Manifest) => c.args.slice(0, 4))).toEqual([['pull', cid, '--server', 'dir-apiserver.dir.svc:8888']]);
  });
});
