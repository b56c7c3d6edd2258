import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { DIRECTORY_METHODS } from '../../apps/apiserver/src/api/services';
import { defaultPolicy, parseCsvPolicy, parseYamlPolicy, validatePolicy, type Policy } from '../../apps/apiserver/src/authz';
import {
  ApiServerPolicy,
  ApiServerStorage,
  DIRECTORY_API_SERVER,
  DIRECTORY_IMAGE,
  DirectoryApiServer,
  SpireAgent,
  SpireControllerManager,
  type DirectoryApiServerProps,
} from '../../constructs';
import { AGENT, CONTROLLER_MANAGER, CSI, WORKLOAD_SOCKET_DIR } from '../../spire/kubernetes/layout';
import { resolveTopology, type TrustDomain } from '../../topology';
import { expectNonRoot, hostPaths, renderSpiffeIdTemplate, selects } from './assertions';
import { containers, DIR, DIRCTL, find, ofKind, SOLO, synth, VARIANT_TD, volume, type Manifest } from './fixtures';
import { crdSchemaError, kubernetesSchemaError } from './schemas';

function build(td: TrustDomain = DIR, props: Omit<DirectoryApiServerProps, 'trustDomain'> = {}) {
  let construct!: DirectoryApiServer;
  const objects = synth((chart) => {
    construct = new DirectoryApiServer(chart, 'ApiServer', { ...props, trustDomain: td });
  });
  const deployment = find(objects, 'Deployment', DIRECTORY_API_SERVER.name);
  const pod = deployment.spec.template.spec as Manifest;
  const container = containers(deployment)[DIRECTORY_API_SERVER.containerName]!;
  const env = Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e.value]));
  const mounts: Record<string, Manifest> = Object.fromEntries((container.volumeMounts as Manifest[]).map((m) => [m.name, m]));
  const identity = ofKind(objects, 'ClusterSPIFFEID')[0]!;
  return { construct, objects, deployment, pod, container, env, mounts, identity };
}

/** The controller manager's rendered config for `td`, as the SPIRE server pod reads it. */
function controllerManagerConfig(td: TrustDomain): Manifest {
  const objects = synth((chart) => new SpireControllerManager(chart, 'ControllerManager', { trustDomain: td }));
  return parse(find(objects, 'ConfigMap', CONTROLLER_MANAGER.configMap).data[CONTROLLER_MANAGER.configFile]) as Manifest;
}

/** A policy as comparable data: effect, subject and method patterns of each rule, without origins. */
function rulesOf(policy: Policy): unknown[] {
  return policy.rules.map((rule) => ({ effect: rule.effect, subject: rule.subject, methods: rule.methods.map(String) }));
}

const WITH_APISERVER: TrustDomain[] = [DIR, VARIANT_TD];

/** A domain whose apiserver the topology puts on a fixed node port. */
const ON_NODE_PORT = resolveTopology({
  trustDomains: [{ name: 'nodeport.example', clusterName: 'nodeport', apiserver: { serviceType: 'NodePort', nodePort: 32088 } }],
}).trustDomains[0]!;


describe('DirectoryApiServer', () => {
  it('matches the snapshot for dir.example (CSI socket)', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it('matches the snapshot for variant.example (CSI socket, own service account and port)', () => {
    expect(build(VARIANT_TD).objects).toMatchSnapshot();
  });

  it.each([...WITH_APISERVER, ON_NODE_PORT].map((td) => [td.name, td] as const))('%s conforms to the Kubernetes and ClusterSPIFFEID schemas', (_name, td) => {
    const variants = [
      build(td).objects,
      build(td, {
        storage: ApiServerStorage.persistentVolumeClaim({ storageClassName: 'standard' }),
        credentialsSecret: { name: 'registry-hmac' },
        jwtAudiences: [td.apiserver!.spiffeId],
      }).objects,
    ];
    for (const objects of variants) {
      const errors = objects.flatMap((o) => {
        const error = o.kind === 'ClusterSPIFFEID' ? crdSchemaError(o, { strictFields: true }) : kubernetesSchemaError(o);
        return error ? [`${o.kind} ${o.metadata.name}: ${error}`] : [];
      });
      expect(errors).toEqual([]);
    }
  });

  it('renders a ServiceAccount, its ClusterSPIFFEID (before any pod), policy ConfigMap, Deployment and Service, named from the model', () => {
    for (const td of WITH_APISERVER) {
      const { objects } = build(td);
      expect(objects.map((o) => `${o.kind} ${o.metadata.namespace ?? ''} ${o.metadata.name}`)).toEqual([
        `ServiceAccount ${td.namespaces.directory} ${td.apiserver!.serviceAccount}`,
        `ClusterSPIFFEID  ${td.namespaces.directory}-${td.apiserver!.serviceAccount}`,
        `ConfigMap ${td.namespaces.directory} ${DIRECTORY_API_SERVER.policyConfigMap}`,
        `Deployment ${td.namespaces.directory} ${DIRECTORY_API_SERVER.name}`,
        `Service ${td.namespaces.directory} ${DIRECTORY_API_SERVER.name}`,
      ]);
    }
  });

  it('runs the pod under Pod Security restricted: non-root, read-only root, no capabilities, RuntimeDefault seccomp, no token', () => {
    for (const td of WITH_APISERVER) {
      const { objects, pod, container } = build(td);
      expect(pod.securityContext).toMatchObject({
        runAsNonRoot: true,
        runAsUser: DIRECTORY_IMAGE.uid,
        runAsGroup: DIRECTORY_IMAGE.uid,
        seccompProfile: { type: 'RuntimeDefault' },
      });
      expectNonRoot(container);
      expect(pod.automountServiceAccountToken).toBe(false);
      expect(find(objects, 'ServiceAccount', td.apiserver!.serviceAccount).automountServiceAccountToken).toBe(false);
      expect(pod.serviceAccountName).toBe(td.apiserver!.serviceAccount);
      expect(pod).not.toHaveProperty('hostNetwork');
      expect(pod).not.toHaveProperty('hostPID');
      expect(pod).not.toHaveProperty('hostIPC');
      expect(pod.enableServiceLinks).toBe(false);
      expect(pod.containers).toHaveLength(1);
      expect(pod).not.toHaveProperty('initContainers');
      expect(container.imagePullPolicy).toBe('IfNotPresent');
      expect(container.image).toBe(td.apiserver!.image);
      expect(container.args).toEqual([DIRECTORY_IMAGE.apiserverEntry]);
      expect(container.resources.limits).toMatchObject({ cpu: expect.anything(), memory: expect.anything() });
    }
  });

  it('mounts the agent host directory read-only as the only hostPath with hostPath sockets', () => {
    const { deployment, mounts, env } = build(VARIANT_TD);
    expect(hostPaths(deployment)).toEqual({ 'spiffe-workload-api': VARIANT_TD.agent.socketHostDir });
    expect(volume(deployment, 'spiffe-workload-api').hostPath.type).toBe('Directory');
    expect(mounts['spiffe-workload-api']).toEqual({ name: 'spiffe-workload-api', mountPath: WORKLOAD_SOCKET_DIR, readOnly: true });
    expect(env.SPIFFE_ENDPOINT_SOCKET).toBe(`unix://${WORKLOAD_SOCKET_DIR}/${AGENT.socketName}`);
    for (const mount of Object.values(mounts)) {
      if (mount.name !== 'data' && mount.name !== 'tmp') expect([mount.name, mount.readOnly]).toEqual([mount.name, true]);
    }
  });

  it('mounts the socket read-only from csi.spiffe.io, with no hostPath at all, with CSI sockets', () => {
    const { deployment, mounts } = build(DIR);
    expect(hostPaths(deployment)).toEqual({});
    expect(volume(deployment, 'spiffe-workload-api').csi).toEqual({ driver: CSI.driverName, readOnly: true });
    expect(mounts['spiffe-workload-api']).toMatchObject({ mountPath: WORKLOAD_SOCKET_DIR, readOnly: true });
  });

  it('dials the socket file the agent creates in the directory it shares', () => {
    for (const td of WITH_APISERVER) {
      const agent = synth((chart) => new SpireAgent(chart, 'Agent', { trustDomain: td }));
      const agentConf = JSON.parse(find(agent, 'ConfigMap', AGENT.configMap).data[AGENT.configFile]) as Manifest;
      const agentSet = find(agent, 'DaemonSet', AGENT.name);
      const shared = (containers(agentSet)[AGENT.name]!.volumeMounts as Manifest[]).find((m) => m.name === 'spire-agent-socket-dir')!;
      expect(volume(agentSet, 'spire-agent-socket-dir').hostPath.path).toBe(td.agent.socketHostDir);
      expect(path.posix.dirname(agentConf.agent.socket_path)).toBe(shared.mountPath);
      const { env } = build(td);
      expect(env.SPIFFE_ENDPOINT_SOCKET).toBe(`unix://${WORKLOAD_SOCKET_DIR}/${path.posix.basename(agentConf.agent.socket_path)}`);
    }
  });

  it('probes /healthz and /readyz on the plain HTTP port, never the mTLS gRPC port', () => {
    for (const td of WITH_APISERVER) {
      const { container, env } = build(td);
      const ports = Object.fromEntries((container.ports as Manifest[]).map((p) => [p.name, p.containerPort]));
      expect(ports).toEqual({ [DIRECTORY_API_SERVER.grpcPortName]: td.apiserver!.port, [DIRECTORY_API_SERVER.httpPortName]: DIRECTORY_API_SERVER.httpPort });
      expect(container.livenessProbe.httpGet).toEqual({ path: '/healthz', port: DIRECTORY_API_SERVER.httpPortName });
      expect(container.readinessProbe.httpGet).toEqual({ path: '/readyz', port: DIRECTORY_API_SERVER.httpPortName });
      for (const probe of [container.livenessProbe, container.readinessProbe]) {
        expect(probe).not.toHaveProperty('grpc');
        expect(probe).not.toHaveProperty('tcpSocket');
      }
      expect(container).not.toHaveProperty('startupProbe');
      expect(env.DIRTK_APISERVER_HTTP_LISTEN).toBe(`0.0.0.0:${DIRECTORY_API_SERVER.httpPort}`);
      expect(env.DIRTK_APISERVER_LISTEN).toBe(`0.0.0.0:${td.apiserver!.port}`);
    }
  });

  it('exposes only the gRPC port through the Service, routed to the pods', () => {
    for (const td of WITH_APISERVER) {
      const { objects, deployment } = build(td);
      const service = find(objects, 'Service', DIRECTORY_API_SERVER.name);
      expect(service.spec.type).toBe('ClusterIP');
      expect(service.spec.ports).toEqual([{ name: 'grpc', port: td.apiserver!.port, targetPort: 'grpc', protocol: 'TCP' }]);
      expect(selects({ matchLabels: service.spec.selector }, deployment.spec.template.metadata.labels)).toBe(true);
      expect(deployment.spec.selector.matchLabels).toEqual(service.spec.selector);
    }
  });

  it('exposes the gRPC port as a NodePort when the model says so, on its node port or one Kubernetes assigns', () => {
    const service = find(build(ON_NODE_PORT).objects, 'Service', DIRECTORY_API_SERVER.name);
    expect(service.spec.type).toBe('NodePort');
    expect(service.spec.ports).toEqual([{ name: 'grpc', port: 8888, targetPort: 'grpc', protocol: 'TCP', nodePort: 32088 }]);

    const assigned = resolveTopology({ trustDomains: [{ name: 'solo.example', clusterName: 'solo', apiserver: { serviceType: 'NodePort' } }] }).trustDomains[0]!;
    const assignedService = find(build(assigned).objects, 'Service', DIRECTORY_API_SERVER.name);
    expect(assignedService.spec.type).toBe('NodePort');
    expect(assignedService.spec.ports).toEqual([{ name: 'grpc', port: 8888, targetPort: 'grpc', protocol: 'TCP' }]);
  });

  it('registers its pods with the ClusterSPIFFEID: template renders the model spiffeId, selectors pin namespace and service account', () => {
    for (const td of WITH_APISERVER) {
      const { identity, deployment, pod } = build(td);
      const namespace = deployment.metadata.namespace as string;
      expect(identity.spec.spiffeIDTemplate).toBe('spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}');
      const rendered = renderSpiffeIdTemplate(identity.spec.spiffeIDTemplate, {
        trustDomain: td.name,
        namespace,
        serviceAccount: pod.serviceAccountName,
      });
      expect(rendered).toBe(td.apiserver!.spiffeId);
      expect(selects(identity.spec.podSelector, deployment.spec.template.metadata.labels)).toBe(true);
      expect(selects(identity.spec.podSelector, { 'app.kubernetes.io/name': 'something-else' })).toBe(false);
      expect(selects(identity.spec.namespaceSelector, { 'kubernetes.io/metadata.name': namespace })).toBe(true);
      expect(selects(identity.spec.namespaceSelector, { 'kubernetes.io/metadata.name': td.namespaces.spire })).toBe(false);
      expect(identity.spec.workloadSelectorTemplates).toEqual([`k8s:ns:${namespace}`, `k8s:sa:${td.apiserver!.serviceAccount}`]);
      expect(identity.metadata).not.toHaveProperty('namespace');
    }
  });

  it('names every host name an in-cluster client may dial, for clients that verify it', () => {
    for (const td of WITH_APISERVER) {
      const { identity } = build(td);
      const namespace = td.namespaces.directory;
      expect(identity.spec.dnsNameTemplates).toEqual([
        `dir-apiserver.${namespace}.svc.cluster.local`,
        `dir-apiserver.${namespace}.svc`,
        `dir-apiserver.${namespace}`,
        'dir-apiserver',
      ]);
    }
  });

  it('ties the identity to the image ID when the model knows it, and runs that image', () => {
    const digest = `sha256:${'ab'.repeat(32)}`;
    const loaded = `sha256:${'cd'.repeat(32)}`;
    const cases = [
      { apiserver: { image: `registry.example:5000/dir/apiserver@${digest}` }, image: `registry.example:5000/dir/apiserver@${digest}`, id: `registry.example:5000/dir/apiserver@${digest}` },
      { apiserver: { image: `dirtk/apiserver:1.0@${digest}` }, image: `dirtk/apiserver:1.0@${digest}`, id: `docker.io/dirtk/apiserver@${digest}` },
      { apiserver: { image: 'dirtk/apiserver:0123abcd', imageId: loaded }, image: 'dirtk/apiserver:0123abcd', id: loaded },
    ];
    for (const { apiserver, image, id } of cases) {
      const td = resolveTopology({ trustDomains: [{ name: 'pinned.example', clusterName: 'pinned', apiserver }] }).trustDomains[0]!;
      const { identity, deployment } = build(td);
      expect(identity.spec.workloadSelectorTemplates).toEqual([`k8s:ns:${td.namespaces.directory}`, `k8s:sa:${td.apiserver!.serviceAccount}`, `k8s:container-image:${id}`]);
      expect(deployment.spec.template.spec.containers[0].image).toBe(image);
    }
  });

  it("uses the controller manager's class, or no controller would reconcile it", () => {
    for (const td of WITH_APISERVER) expect(build(td).identity.spec.className).toBe(controllerManagerConfig(td).className);
  });

  it("federates with exactly the domain's peers, and with nobody in a domain without peers", () => {
    for (const td of WITH_APISERVER) {
      expect(build(td).identity.spec.federatesWith).toEqual(td.federatesWith.map((edge) => edge.trustDomain));
    }
    expect(build(DIR).identity.spec.federatesWith).toEqual([DIRCTL.name]);
    const solo = resolveTopology({ trustDomains: [{ name: 'solo.example', clusterName: 'solo', apiserver: {} }] }).trustDomains[0]!;
    expect(build(solo).identity.spec).not.toHaveProperty('federatesWith');
    expect(build(DIR, { federatesWith: [] }).identity.spec).not.toHaveProperty('federatesWith');
  });

  describe('policy', () => {
    it('mounts the default policy as policy.yaml, a directory mount the apiserver can watch for changes', () => {
      const { objects, deployment, mounts, env } = build();
      const configMap = find(objects, 'ConfigMap', DIRECTORY_API_SERVER.policyConfigMap);
      expect(Object.keys(configMap.data)).toEqual(['policy.yaml']);
      expect(volume(deployment, 'policy').configMap).toEqual({ name: DIRECTORY_API_SERVER.policyConfigMap });
      expect(mounts.policy).toEqual({ name: 'policy', mountPath: DIRECTORY_API_SERVER.policyDir, readOnly: true });
      expect(mounts.policy).not.toHaveProperty('subPath');
      expect(env.DIRTK_APISERVER_POLICY_FILE).toBe(`${DIRECTORY_API_SERVER.policyDir}/policy.yaml`);
    });

    it("is the apiserver's own default policy, valid against the methods it registers", () => {
      const text = find(build().objects, 'ConfigMap', DIRECTORY_API_SERVER.policyConfigMap).data['policy.yaml'] as string;
      const policy = parseYamlPolicy(text, 'policy.yaml');
      expect(() => validatePolicy(policy, DIRECTORY_METHODS)).not.toThrow();
      expect(rulesOf(policy)).toEqual(rulesOf(defaultPolicy()));
    });

    it('takes a CSV or YAML policy instead, and refuses an empty one', () => {
      const csv = 'p,dir.example,*\np,*,/agntcy.dir.store.v1.StoreService/Pull\n';
      const withCsv = build(DIR, { policy: ApiServerPolicy.csv(csv) });
      expect(find(withCsv.objects, 'ConfigMap', DIRECTORY_API_SERVER.policyConfigMap).data).toEqual({ 'policy.csv': csv });
      expect(withCsv.env.DIRTK_APISERVER_POLICY_FILE).toBe(`${DIRECTORY_API_SERVER.policyDir}/policy.csv`);
      expect(() => validatePolicy(parseCsvPolicy(csv, 'policy.csv'), DIRECTORY_METHODS)).not.toThrow();

      const yaml = 'rules:\n  - allow: { trustDomain: own, methods: ["*"] }\n';
      const withYaml = build(DIR, { policy: ApiServerPolicy.yaml(yaml) });
      expect(find(withYaml.objects, 'ConfigMap', DIRECTORY_API_SERVER.policyConfigMap).data).toEqual({ 'policy.yaml': yaml });

      expect(() => ApiServerPolicy.yaml('  \n')).toThrow(/empty/);
    });
  });

  describe('storage', () => {
    it('keeps records on a size-limited emptyDir by default, at the data directory', () => {
      const { deployment, mounts, env, objects } = build();
      expect(volume(deployment, 'data')).toEqual({ name: 'data', emptyDir: { sizeLimit: '1Gi' } });
      expect(mounts.data).toEqual({ name: 'data', mountPath: DIRECTORY_API_SERVER.dataDir });
      expect(env.DIRTK_APISERVER_DATA_DIR).toBe(DIRECTORY_API_SERVER.dataDir);
      expect(ofKind(objects, 'PersistentVolumeClaim')).toEqual([]);
    });

    it('can keep records on a PersistentVolumeClaim it creates', () => {
      const { objects, deployment, construct } = build(DIR, {
        storage: ApiServerStorage.persistentVolumeClaim({ size: '5Gi', storageClassName: 'standard' }),
      });
      const claim = find(objects, 'PersistentVolumeClaim', DIRECTORY_API_SERVER.dataVolumeClaim);
      expect(claim.metadata.namespace).toBe(DIR.namespaces.directory);
      expect(claim.spec).toEqual({ accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '5Gi' } }, storageClassName: 'standard' });
      expect(volume(deployment, 'data')).toEqual({ name: 'data', persistentVolumeClaim: { claimName: DIRECTORY_API_SERVER.dataVolumeClaim } });
      expect(construct.dataVolumeClaim).toBeDefined();
    });

    it('runs one replica with Recreate, since one process owns the store (the topology refuses more)', () => {
      const { deployment } = build();
      expect(deployment.spec.replicas).toBe(1);
      expect(deployment.spec.strategy).toEqual({ type: 'Recreate' });
    });
  });

  it('sets JWT audiences and the registry credential secret only when given', () => {
    const plain = build();
    expect(plain.env).not.toHaveProperty('DIRTK_APISERVER_JWT_AUDIENCES');
    expect(plain.env).not.toHaveProperty('DIRTK_APISERVER_CREDENTIALS_SECRET_FILE');
    expect(plain.mounts).not.toHaveProperty('credentials');

    const audiences = [DIR.apiserver!.spiffeId, 'spiffe://dir.example/other'];
    const full = build(DIR, { jwtAudiences: audiences, credentialsSecret: { name: 'registry-hmac', key: 'secret' } });
    expect(full.env.DIRTK_APISERVER_JWT_AUDIENCES).toBe(audiences.join(','));
    expect(full.env.DIRTK_APISERVER_CREDENTIALS_SECRET_FILE).toBe(`${DIRECTORY_API_SERVER.credentialsDir}/secret`);
    expect(full.mounts.credentials).toEqual({ name: 'credentials', mountPath: DIRECTORY_API_SERVER.credentialsDir, readOnly: true });
    expect(volume(full.deployment, 'credentials').secret).toEqual({
      secretName: 'registry-hmac',
      items: [{ key: 'secret', path: 'secret' }],
      defaultMode: 0o400,
    });
  });

  it('refuses a trust domain without an apiserver', () => {
    expect(() => build(SOLO)).toThrow('trust domain solo.example runs no apiserver');
  });

  it('runs the apiserver of dirctl.example too, under its own trust domain', () => {
    const { construct, identity } = build(DIRCTL);
    expect(construct.spiffeId).toBe('spiffe://dirctl.example/ns/dir/sa/dir-apiserver');
    expect(identity.spec.federatesWith).toEqual(['dir.example']);
  });
});
