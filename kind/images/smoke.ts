/**
 * `npx tsx kind/images/smoke.ts [--keep]`: proves the locally built images on one throwaway
 * Kind cluster. It ensures the engine and the images, creates the cluster `dirtk-images-smoke` with the
 * built kind and node image and KIND_HOST_PATCHES, waits until every kube-system pod runs, starts a
 * SPIRE server from `ghcr.io/spiffe/spire-server:1.15.3` (imagePullPolicy IfNotPresent, uid 1000,
 * fsGroup 1000) on a volume claim of the default StorageClass, checks its health and the pod network
 * (cluster DNS, the kubernetes Service), checks that a missing image fails at the node's refusing proxy, then deletes the cluster (`--keep` leaves it).
 *
 * The kubeconfig is `<cache>/kind/smoke/kubeconfig`; `~/.kube/config` is never read or written. The
 * host only talks to the API server on 127.0.0.1 (kind's published port).
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CACHE_ROOT } from '../../tools/paths';
import { elapsed, run, timed } from '../engine/progress';
import { withHostPatches } from './cluster-config';
import { ensureKindImages } from './ensure';
import { CLUSTER_WORKLOAD_IMAGES, loadImages } from './load';
import { WORKLOAD_IMAGES } from './versions';
import { useModuleProxyOnly } from '../../tools/go-env';

useModuleProxyOnly();

const PREFIX = '[kind:smoke]';
const CLUSTER = 'dirtk-images-smoke';
const NAMESPACE = 'smoke';

export function smokeClusterConfig(nodeImage: string) {
  return withHostPatches({
    kind: 'Cluster',
    apiVersion: 'kind.x-k8s.io/v1alpha4',
    name: CLUSTER,
    networking: { podSubnet: '10.110.0.0/16', serviceSubnet: '10.115.0.0/16' },
    nodes: [{ role: 'control-plane', image: nodeImage }],
  } as const);
}

const SERVER_CONF = `server {
  bind_address = "0.0.0.0"
  bind_port = "8081"
  trust_domain = "smoke.example"
  data_dir = "/run/spire/data"
  log_level = "INFO"
}
plugins {
  DataStore "sql" {
    plugin_data {
      database_type = "sqlite3"
      connection_string = "/run/spire/data/datastore.sqlite3"
    }
  }
  KeyManager "disk" {
    plugin_data {
      keys_path = "/run/spire/data/keys.json"
    }
  }
  NodeAttestor "join_token" {
    plugin_data {}
  }
}
health_checks {
  listener_enabled = true
  bind_address = "0.0.0.0"
  bind_port = "8080"
  live_path = "/live"
  ready_path = "/ready"
}
`;

/** The smoke workload: a SPIRE server on a claim of the default StorageClass, non-root, as the real StatefulSet runs it. */
export function smokeManifest(): string {
  const docs = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: NAMESPACE } },
    { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'spire-server', namespace: NAMESPACE }, data: { 'server.conf': SERVER_CONF } },
    {
      apiVersion: 'v1',
      kind: 'PersistentVolumeClaim',
      metadata: { name: 'spire-data', namespace: NAMESPACE },
      spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
    },
    {
      apiVersion: 'v1',
      kind: 'Pod',
      metadata: { name: 'spire-server', namespace: NAMESPACE },
      spec: {
        securityContext: { runAsUser: 1000, runAsGroup: 1000, runAsNonRoot: true, fsGroup: 1000, fsGroupChangePolicy: 'OnRootMismatch' },
        containers: [
          {
            name: 'spire-server',
            image: WORKLOAD_IMAGES.spireServer,
            imagePullPolicy: 'IfNotPresent',
            args: ['-config', '/run/spire/config/server.conf'],
            securityContext: { allowPrivilegeEscalation: false, capabilities: { drop: ['ALL'] } },
            readinessProbe: { httpGet: { path: '/ready', port: 8080 }, periodSeconds: 5 },
            volumeMounts: [
              { name: 'config', mountPath: '/run/spire/config', readOnly: true },
              { name: 'data', mountPath: '/run/spire/data' },
            ],
          },
        ],
        volumes: [
          { name: 'config', configMap: { name: 'spire-server' } },
          { name: 'data', persistentVolumeClaim: { claimName: 'spire-data' } },
        ],
      },
    },
  ];
  return docs.map((doc) => JSON.stringify(doc)).join('\n---\n') + '\n';
}

interface PodList {
  items: { metadata: { name: string }; status: { phase?: string; containerStatuses?: { ready: boolean; restartCount: number }[] } }[];
}

async function main(argv: readonly string[]): Promise<number> {
  const keep = argv.includes('--keep');
  const log = (line: string) => console.log(line);
  const started = Date.now();
  const times: [string, number][] = [];
  const step = async <T>(what: string, work: () => Promise<T>): Promise<T> => {
    const stepStarted = Date.now();
    const result = await timed(log, PREFIX, what, work);
    times.push([what, elapsed(stepStarted)]);
    return result;
  };

  const images = await step('ensure engine and images', () => ensureKindImages({ log }));
  const dir = path.join(CACHE_ROOT, 'kind', 'smoke');
  mkdirSync(dir, { recursive: true });
  const kubeconfig = path.join(dir, 'kubeconfig');
  const configFile = path.join(dir, 'kind-config.json');
  writeFileSync(configFile, `${JSON.stringify(smokeClusterConfig(images.nodeImage), null, 2)}\n`);
  const env = { KUBECONFIG: kubeconfig, PATH: `${process.env.PATH ?? ''}:${path.dirname(images.engine.docker)}` };
  const kind = (args: string[]) => run(images.kind, args, { env });
  const kubectl = (args: string[], input?: string) =>
    run(images.kubectl, ['--kubeconfig', kubeconfig, '--context', `kind-${CLUSTER}`, ...args], { env, ...(input !== undefined && { input }) });

  if ((await kind(['get', 'clusters'])).stdout.split('\n').includes(CLUSTER)) {
    await step(`deleting the leftover cluster ${CLUSTER}`, () => kind(['delete', 'cluster', '--name', CLUSTER, '--kubeconfig', kubeconfig]));
  }
  let ok = false;
  try {
    await step(`kind create cluster ${CLUSTER} --image ${images.nodeImage}`, () =>
      kind(['create', 'cluster', '--name', CLUSTER, '--image', images.nodeImage, '--config', configFile, '--kubeconfig', kubeconfig]),
    );
    await step('node Ready', () => kubectl(['wait', '--for=condition=Ready', 'node', '--all', '--timeout=300s']));
    await step('every kube-system pod Running and ready', async () => {
      // The static pods come first; wait for kubeadm's addons to exist and roll out too.
      await kubectl(['-n', 'kube-system', 'rollout', 'status', 'deployment/coredns', '--timeout=300s']);
      await kubectl(['-n', 'kube-system', 'rollout', 'status', 'daemonset/kube-proxy', '--timeout=300s']);
      const deadline = Date.now() + 300_000;
      for (;;) {
        const pods = JSON.parse((await kubectl(['get', 'pods', '-n', 'kube-system', '-o', 'json'])).stdout) as PodList;
        const waiting = pods.items.filter((pod) => pod.status.phase !== 'Running' || !(pod.status.containerStatuses ?? []).every((c) => c.ready));
        if (pods.items.length > 0 && waiting.length === 0) break;
        if (Date.now() > deadline) throw new Error(`kube-system pods not running: ${waiting.map((pod) => `${pod.metadata.name} (${pod.status.phase})`).join(', ')}`);
        await new Promise((resolve) => setTimeout(resolve, 3000));
      }
      log((await kubectl(['get', 'pods', '-n', 'kube-system', '-o', 'wide'])).stdout);
    });
    await step(`kind load docker-image ${CLUSTER_WORKLOAD_IMAGES.join(' ')}`, () => loadImages(images.kind, CLUSTER, CLUSTER_WORKLOAD_IMAGES, env));
    await step(`a pod of ${WORKLOAD_IMAGES.spireServer} on a volume claim, Ready`, async () => {
      await kubectl(['apply', '-f', '-'], smokeManifest());
      await kubectl(['wait', '-n', NAMESPACE, '--for=condition=Ready', 'pod/spire-server', '--timeout=300s']);
      log((await kubectl(['get', 'pvc,pod', '-n', NAMESPACE, '-o', 'wide'])).stdout);
      log((await kubectl(['exec', '-n', NAMESPACE, 'spire-server', '--', '/opt/spire/bin/spire-server', 'healthcheck'])).stdout);
      log((await kubectl(['exec', '-n', NAMESPACE, 'spire-server', '--', 'ls', '-ln', '/run/spire/data'])).stdout);
    });
    await step('pod network: cluster DNS and the kubernetes Service from the pod', async () => {
      log((await kubectl(['exec', '-n', NAMESPACE, 'spire-server', '--', 'getent', 'hosts', 'kubernetes.default.svc.cluster.local'])).stdout);
      log((await kubectl(['exec', '-n', NAMESPACE, 'spire-server', '--', 'curl', '-sS', '-k', '--max-time', '10', 'https://kubernetes.default.svc/livez'])).stdout);
    });
    await step('an image that is nowhere fails at once, without leaving the node', async () => {
      await kubectl(['run', '-n', NAMESPACE, 'absent', '--image=ghcr.io/dirtk/absent:0', '--image-pull-policy=IfNotPresent', '--restart=Never']);
      const deadline = Date.now() + 120_000;
      for (;;) {
        const events = (await kubectl(['get', 'events', '-n', NAMESPACE, '--field-selector', 'involvedObject.name=absent', '-o', 'jsonpath={range .items[*]}{.message}{"\\n"}{end}'])).stdout;
        const failure = events.split('\n').find((line) => line.includes('Failed to pull image'));
        if (failure !== undefined) {
          log(failure);
          if (!failure.includes('127.0.0.1:9')) throw new Error(`the pull did not stop at the node's refusing proxy: ${failure}`);
          break;
        }
        if (Date.now() > deadline) throw new Error('no pull failure reported for ghcr.io/dirtk/absent:0');
        await new Promise((resolve) => setTimeout(resolve, 2000));
      }
      await kubectl(['delete', 'pod', '-n', NAMESPACE, 'absent', '--wait=false']);
    });
    ok = true;
  } finally {
    if (!ok) {
      const events = await kubectl(['get', 'events', '-A', '--sort-by=.lastTimestamp'], undefined).catch((error: unknown) => ({ stdout: String(error) }));
      log(`${PREFIX} events:\n${events.stdout}`);
    }
    if (keep) log(`${PREFIX} keeping ${CLUSTER} (--keep); delete it with: ${images.kind} delete cluster --name ${CLUSTER} --kubeconfig ${kubeconfig}`);
    else {
      await step(`kind delete cluster ${CLUSTER}`, () => kind(['delete', 'cluster', '--name', CLUSTER, '--kubeconfig', kubeconfig]));
      rmSync(kubeconfig, { force: true });
    }
  }
  log(`${PREFIX} passed in ${elapsed(started)} s`);
  for (const [what, seconds] of times) log(`  ${String(seconds).padStart(5)} s  ${what}`);
  return 0;
}

if (require.main === module) {
  main(process.argv.slice(2)).then(
    (code) => {
      process.exitCode = code;
    },
    (error: unknown) => {
      console.error(`${PREFIX} ${error instanceof Error ? error.message : String(error)}`);
      process.exitCode = 1;
    },
  );
}
