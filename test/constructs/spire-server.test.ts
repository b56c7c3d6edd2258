import { describe, expect, it } from 'vitest';
import { SpireControllerManager, SpireServer } from '../../constructs';
import { BUNDLE, CONTROLLER_MANAGER, SERVER } from '../../spire/kubernetes/layout';
import { expectNonRoot, hostPaths } from './assertions';
import { containers, DIR, DIRCTL, find, SOLO, synth, VARIANT_TD, volume, type Manifest } from './fixtures';

function build(td = DIR, withControllerManager = true) {
  const objects = synth((chart) => {
    const controllerManager = withControllerManager ? new SpireControllerManager(chart, 'ControllerManager', { trustDomain: td }) : undefined;
    new SpireServer(chart, 'Server', { trustDomain: td, ...(controllerManager && { controllerManager }) });
  });
  const statefulSet = find(objects, 'StatefulSet', SERVER.name);
  const serverConf = JSON.parse(find(objects, 'ConfigMap', SERVER.configMap).data[SERVER.configFile]) as Manifest;
  return { objects, statefulSet, pod: statefulSet.spec.template.spec as Manifest, serverConf };
}

function plugin(conf: Manifest, type: string, name: string): Manifest {
  return conf.plugins[type].find((p: Manifest) => name in p)[name].plugin_data;
}

function mountOf(container: Manifest, volumeName: string): Manifest | undefined {
  return container.volumeMounts.find((m: Manifest) => m.name === volumeName);
}

describe('SpireServer', () => {
  it('matches the snapshot for dir.example', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it('matches the snapshot for a postgres, upstream-CA, https_web LoadBalancer domain without sidecar', () => {
    expect(build(VARIANT_TD, false).objects).toMatchSnapshot();
  });

  it('runs the replicas of the model, each with a persistent data volume at the data dir', () => {
    for (const td of [DIR, VARIANT_TD]) {
      const { statefulSet, serverConf } = build(td);
      expect(statefulSet.spec.replicas).toBe(td.server.replicas);
      expect(statefulSet.spec.volumeClaimTemplates).toEqual([
        {
          metadata: { name: SERVER.dataVolumeClaim },
          spec: { accessModes: ['ReadWriteOnce'], resources: { requests: { storage: '1Gi' } } },
        },
      ]);
      const server = containers(statefulSet)[SERVER.name]!;
      expect(mountOf(server, SERVER.dataVolumeClaim)?.mountPath).toBe(serverConf.server.data_dir);
    }
  });

  it('runs spire-server with the rendered server.conf', () => {
    const { statefulSet, serverConf } = build();
    const server = containers(statefulSet)[SERVER.name]!;
    expect(server.args).toEqual(['-expandEnv', '-config', `${SERVER.configDir}/${SERVER.configFile}`]);
    expect(mountOf(server, 'spire-config')).toEqual({ name: 'spire-config', mountPath: SERVER.configDir, readOnly: true });
    expect(volume(statefulSet, 'spire-config').configMap.name).toBe(SERVER.configMap);
    expect(serverConf.server.trust_domain).toBe(DIR.name);
  });

  it('runs every container as uid 1000 without privileges, host namespaces or host paths', () => {
    const { statefulSet, pod } = build();
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: 1000, runAsGroup: 1000, fsGroup: 1000 });
    expect(Object.keys(containers(statefulSet))).toEqual([SERVER.name, CONTROLLER_MANAGER.name]);
    Object.values(containers(statefulSet)).forEach(expectNonRoot);
    expect(pod).not.toHaveProperty('hostPID');
    expect(pod).not.toHaveProperty('hostNetwork');
    // SPIRE's admin socket identifies callers by process: the controller manager must be visible to the server.
    expect(pod.shareProcessNamespace).toBe(true);
    expect(build(DIR, false).pod).not.toHaveProperty('shareProcessNamespace');
    expect(hostPaths(statefulSet)).toEqual({});
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe(SERVER.serviceAccount);
    expect(Object.values(containers(statefulSet)).map((c) => c.imagePullPolicy)).toEqual(['IfNotPresent', 'IfNotPresent']);
  });

  it('shares the API socket with the controller manager, read-only on its side', () => {
    const { statefulSet } = build();
    const { [SERVER.name]: server, [CONTROLLER_MANAGER.name]: sidecar } = containers(statefulSet);
    expect(mountOf(server!, 'spire-server-socket')).toEqual({ name: 'spire-server-socket', mountPath: SERVER.socketDir });
    expect(mountOf(sidecar!, 'spire-server-socket')).toEqual({ name: 'spire-server-socket', mountPath: SERVER.socketDir, readOnly: true });
    expect(volume(statefulSet, 'spire-server-socket')).toHaveProperty('emptyDir');
  });

  it('probes /live and /ready on the health port server.conf listens on', () => {
    const { statefulSet, serverConf } = build();
    const server = containers(statefulSet)[SERVER.name]!;
    const port = server.ports.find((p: Manifest) => p.name === 'healthz');
    expect(port.containerPort).toBe(Number(serverConf.health_checks.bind_port));
    expect(server.livenessProbe.httpGet).toEqual({ path: serverConf.health_checks.live_path, port: 'healthz' });
    expect(server.readinessProbe.httpGet).toEqual({ path: serverConf.health_checks.ready_path, port: 'healthz' });
  });

  it('serves gRPC behind the spire-server Service on 443', () => {
    const { objects, statefulSet, serverConf } = build();
    const service = find(objects, 'Service', SERVER.name);
    expect(service.spec.type).toBe('ClusterIP');
    expect(service.spec.ports).toEqual([{ name: 'grpc', port: SERVER.servicePort, protocol: 'TCP', targetPort: 'grpc' }]);
    expect(service.spec.selector).toEqual(statefulSet.spec.template.metadata.labels);
    const grpc = containers(statefulSet)[SERVER.name]!.ports.find((p: Manifest) => p.name === 'grpc');
    expect(grpc.containerPort).toBe(serverConf.server.bind_port);
  });

  it('grants TokenReview creation and pod/node reads for k8s_psat, nothing more', () => {
    const { objects } = build();
    const name = `${DIR.namespaces.spire}-${SERVER.name}`;
    expect(find(objects, 'ClusterRole', name).rules).toEqual([
      { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
      { apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['get'] },
    ]);
    expect(find(objects, 'ClusterRoleBinding', name).subjects).toEqual([
      { kind: 'ServiceAccount', name: SERVER.serviceAccount, namespace: DIR.namespaces.spire },
    ]);
  });

  it('lets the bundle publisher create, read and patch the bundle ConfigMap named in server.conf, and no other', () => {
    const { objects, serverConf } = build();
    const publisher = plugin(serverConf, 'BundlePublisher', 'k8s_configmap').clusters[DIR.clusterName];
    const role = find(objects, 'Role', `${SERVER.name}-bundle`);
    expect(role.metadata.namespace).toBe(publisher.namespace);
    expect(role.rules).toEqual([
      { apiGroups: [''], resources: ['configmaps'], resourceNames: [publisher.configmap_name], verbs: ['create', 'get', 'patch'] },
    ]);
    expect(publisher.configmap_name).toBe(BUNDLE.configMap);
    expect(find(objects, 'RoleBinding', `${SERVER.name}-bundle`).subjects).toEqual([
      { kind: 'ServiceAccount', name: SERVER.serviceAccount, namespace: DIR.namespaces.spire },
    ]);
  });

  it('exposes the bundle endpoint on the fixed NodePort of the model', () => {
    for (const td of [DIR, DIRCTL]) {
      const { objects, statefulSet, serverConf } = build(td);
      const endpoint = td.bundleEndpoint!;
      const federation = containers(statefulSet)[SERVER.name]!.ports.find((p: Manifest) => p.name === 'federation');
      expect(federation.containerPort).toBe(serverConf.server.federation.bundle_endpoint.port);
      const service = find(objects, 'Service', SERVER.bundleEndpointService);
      expect(service.spec.type).toBe('NodePort');
      expect(service.spec.ports).toEqual([
        { name: 'federation', nodePort: endpoint.nodePort, port: endpoint.port, protocol: 'TCP', targetPort: 'federation' },
      ]);
    }
  });

  it('has no bundle endpoint when the domain does not federate', () => {
    const { objects, statefulSet } = build(SOLO);
    expect(objects.filter((o) => o.metadata.name === SERVER.bundleEndpointService)).toEqual([]);
    expect(containers(statefulSet)[SERVER.name]!.ports.map((p: Manifest) => p.name)).not.toContain('federation');
  });

  it('wires postgres, the upstream CA and the https_web serving certificate from their Secrets', () => {
    const { objects, statefulSet, serverConf } = build(VARIANT_TD, false);
    const server = containers(statefulSet)[SERVER.name]!;
    expect(server.env).toEqual([
      { name: SERVER.postgresEnv, valueFrom: { secretKeyRef: { name: 'spire-db', key: 'connection-string' } } },
    ]);
    expect(plugin(serverConf, 'DataStore', 'sql').connection_string).toBe(`\${${SERVER.postgresEnv}}`);

    const upstream = plugin(serverConf, 'UpstreamAuthority', 'disk');
    expect(mountOf(server, 'upstream-ca')).toEqual({ name: 'upstream-ca', mountPath: SERVER.upstreamCaDir, readOnly: true });
    expect(upstream.cert_file_path.startsWith(`${SERVER.upstreamCaDir}/`)).toBe(true);
    expect(volume(statefulSet, 'upstream-ca').secret).toEqual({ secretName: 'spire-upstream-ca', defaultMode: 0o440 });

    const tls = serverConf.server.federation.bundle_endpoint.profile[0].https_web.serving_cert_file;
    expect(mountOf(server, 'bundle-endpoint-tls')).toEqual({ name: 'bundle-endpoint-tls', mountPath: SERVER.servingCertDir, readOnly: true });
    expect(tls.cert_file_path.startsWith(`${SERVER.servingCertDir}/`)).toBe(true);
    expect(volume(statefulSet, 'bundle-endpoint-tls').secret).toEqual({ secretName: 'bundle-tls', defaultMode: 0o440 });

    const service = find(objects, 'Service', SERVER.bundleEndpointService);
    expect(service.spec.type).toBe('LoadBalancer');
    expect(service.spec.ports[0]).not.toHaveProperty('nodePort');
    expect(Object.keys(containers(statefulSet))).toEqual([SERVER.name]);
  });

  it('puts namespaced objects in the SPIRE namespace, its bundle grant in the agents’ and cluster-scoped ones in none', () => {
    const { objects } = build(VARIANT_TD);
    for (const object of objects) {
      if (object.kind.startsWith('Cluster') || object.kind === 'ValidatingWebhookConfiguration') {
        expect(object.metadata).not.toHaveProperty('namespace');
      } else if (object.metadata.name === `${SERVER.name}-bundle`) {
        expect(object.metadata.namespace).toBe(VARIANT_TD.namespaces.agent);
      } else {
        expect(object.metadata.namespace).toBe(VARIANT_TD.namespaces.spire);
      }
    }
  });
});
