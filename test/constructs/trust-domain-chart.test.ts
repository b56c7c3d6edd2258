import { Testing } from 'cdk8s';
import { k8s } from 'cdk8s-plus-28';
import { describe, expect, it } from 'vitest';
import { DIRECTORY_API_SERVER, SpireCrdsChart, TrustDomainChart } from '../../constructs';
import { AGENT, BUNDLE, CONTROLLER_MANAGER, CSI, SERVER } from '../../spire/kubernetes/layout';
import { parse } from 'yaml';
import { DIRECTORY_CLIENT_SERVICE_ACCOUNT, type Topology } from '../../topology';
import { containers, EXAMPLE, find, ofKind, VARIANT, volume, type Manifest } from './fixtures';

const CLUSTER_SCOPED = new Set([
  'Namespace',
  'ClusterRole',
  'ClusterRoleBinding',
  'ValidatingWebhookConfiguration',
  'CSIDriver',
  'ClusterFederatedTrustDomain',
  'ClusterSPIFFEID',
]);

function build(topology: Topology, trustDomain: string): Manifest[] {
  return Testing.synth(new TrustDomainChart(Testing.app(), trustDomain, { topology, trustDomain })) as Manifest[];
}

const DOMAINS: Array<[string, Topology]> = [
  ['dir.example', EXAMPLE],
  ['dirctl.example', EXAMPLE],
  ['variant.example', VARIANT],
];

describe.each(DOMAINS)('TrustDomainChart %s', (name, topology) => {
  const td = topology.trustDomains.find((candidate) => candidate.name === name)!;
  const objects = build(topology, name);
  const serverConf = JSON.parse(find(objects, 'ConfigMap', SERVER.configMap).data[SERVER.configFile]) as Manifest;
  const agentConf = JSON.parse(find(objects, 'ConfigMap', AGENT.configMap).data[AGENT.configFile]) as Manifest;
  const cmConfig = parse(find(objects, 'ConfigMap', CONTROLLER_MANAGER.configMap).data[CONTROLLER_MANAGER.configFile]) as Manifest;
  const agentSet = find(objects, 'DaemonSet', AGENT.name);
  const plugin = (conf: Manifest, type: string, plugin: string): Manifest => conf.plugins[type].find((p: Manifest) => plugin in p)[plugin].plugin_data;

  it('composes the objects in apply order, namespaces first', () => {
    expect(objects.map((o) => [o.kind, o.metadata.namespace ?? '', o.metadata.name].join(' '))).toMatchSnapshot();
    const namespaces = ofKind(objects, 'Namespace');
    expect(objects.slice(0, namespaces.length)).toEqual(namespaces);
    expect(namespaces.map((n) => n.metadata.name)).toEqual([...new Set([td.namespaces.spire, td.namespaces.agent, td.namespaces.directory])]);
  });

  it('lets only the agents run privileged pods; the server, with the CA keys, and the directory are restricted', () => {
    const level = (namespace: string) => find(objects, 'Namespace', namespace).metadata.labels['pod-security.kubernetes.io/enforce'];
    expect(level(td.namespaces.spire)).toBe('restricted');
    expect(level(td.namespaces.agent)).toBe('privileged');
    // Pod Security `restricted` (and `baseline`) forbid hostPath volumes: only the CSI driver's inline volume keeps the directory restricted.
    expect(level(td.namespaces.directory)).toBe(td.agent.socket === 'csi' ? 'restricted' : 'privileged');
  });

  it('sets no namespace on cluster-scoped objects, the directory namespace on the Directory objects, the agent namespace on the agents and the SPIRE namespace on all others', () => {
    const directoryObjects = [
      `ServiceAccount ${DIRECTORY_CLIENT_SERVICE_ACCOUNT}`,
      ...(td.apiserver
        ? [
            `ServiceAccount ${td.apiserver.serviceAccount}`,
            `ConfigMap ${DIRECTORY_API_SERVER.policyConfigMap}`,
            `Deployment ${DIRECTORY_API_SERVER.name}`,
            `Service ${DIRECTORY_API_SERVER.name}`,
          ]
        : []),
    ];
    const agentObjects = [
      `ServiceAccount ${AGENT.serviceAccount}`,
      `ConfigMap ${AGENT.configMap}`,
      `DaemonSet ${AGENT.name}`,
      // The server publishes the bundle where the agents mount it.
      `Role ${SERVER.name}-bundle`,
      `RoleBinding ${SERVER.name}-bundle`,
      ...(td.agent.socket === 'csi' ? [`ServiceAccount ${CSI.name}`, `DaemonSet ${CSI.name}`] : []),
    ];
    const inDirectory: string[] = [];
    const inAgent: string[] = [];
    for (const object of objects) {
      const key = `${object.kind} ${object.metadata.name}`;
      if (CLUSTER_SCOPED.has(object.kind)) expect(object.metadata).not.toHaveProperty('namespace');
      else if (object.metadata.namespace === td.namespaces.directory && td.namespaces.directory !== td.namespaces.spire) inDirectory.push(key);
      else if (object.metadata.namespace === td.namespaces.agent) inAgent.push(key);
      else expect([key, object.metadata.namespace]).toEqual([key, td.namespaces.spire]);
    }
    expect(inDirectory.sort()).toEqual(directoryObjects.sort());
    expect(inAgent.sort()).toEqual(agentObjects.sort());
  });

  it('registers the Directory identities with the controller manager class, federating with every peer', () => {
    const identities = ofKind(objects, 'ClusterSPIFFEID');
    expect(identities.map((i) => i.metadata.name).sort()).toEqual(
      [`${td.namespaces.directory}-${DIRECTORY_CLIENT_SERVICE_ACCOUNT}`, ...(td.apiserver ? [`${td.namespaces.directory}-${td.apiserver.serviceAccount}`] : [])].sort(),
    );
    for (const identity of identities) {
      expect(identity.spec.className).toBe(cmConfig.className);
      expect(identity.spec.federatesWith ?? []).toEqual(td.federatesWith.map((edge) => edge.trustDomain));
    }
  });

  it('renders the apiserver only where the model has one', () => {
    expect(ofKind(objects, 'Deployment').map((d) => d.metadata.name)).toEqual(td.apiserver ? [DIRECTORY_API_SERVER.name] : []);
  });

  it('uses only the well-known names, never generated ones', () => {
    for (const object of objects) expect(object.metadata.name).not.toMatch(/-c8[0-9a-f]{6}$/);
  });

  it('lets agents dial the server Service named in agent.conf', () => {
    const service = find(objects, 'Service', SERVER.name);
    expect(agentConf.agent.server_address).toBe(`${service.metadata.name}.${service.metadata.namespace}`);
    expect(agentConf.agent.server_port).toBe(service.spec.ports[0].port);
  });

  it('mounts in the agents the bundle ConfigMap the server publishes', () => {
    const publisher = plugin(serverConf, 'BundlePublisher', 'k8s_configmap').clusters[td.clusterName];
    expect(volume(agentSet, 'spire-bundle').configMap.name).toBe(publisher.configmap_name);
    expect(agentSet.metadata.namespace).toBe(publisher.namespace);
    expect(publisher.configmap_key).toBe(BUNDLE.key);
    expect(find(objects, 'Role', `${SERVER.name}-bundle`).rules[0].resourceNames).toEqual([publisher.configmap_name]);
  });

  it('admits exactly the agent service account through k8s_psat, with the audience of its token, for its cluster', () => {
    const psat = plugin(serverConf, 'NodeAttestor', 'k8s_psat').clusters;
    const agentCluster = plugin(agentConf, 'NodeAttestor', 'k8s_psat').cluster;
    const serviceAccount = find(objects, 'ServiceAccount', AGENT.serviceAccount);
    expect(Object.keys(psat)).toContain(agentCluster);
    expect(psat[agentCluster].service_account_allow_list).toEqual([`${serviceAccount.metadata.namespace}:${serviceAccount.metadata.name}`]);
    expect(agentSet.spec.template.spec.serviceAccountName).toBe(serviceAccount.metadata.name);
    const token = volume(agentSet, 'spire-token').projected.sources[0].serviceAccountToken;
    expect(psat[agentCluster].audience).toEqual([token.audience]);
    expect(cmConfig.clusterName).toBe(agentCluster);
  });

  it('gives the controller manager the class of every ClusterFederatedTrustDomain and its webhook configuration', () => {
    const federations = ofKind(objects, 'ClusterFederatedTrustDomain');
    expect(federations).toHaveLength(td.federatesWith.length);
    for (const federation of federations) expect(federation.spec.className).toBe(cmConfig.className);
    find(objects, 'ValidatingWebhookConfiguration', cmConfig.validatingWebhookConfigurationName);
    const server = find(objects, 'StatefulSet', SERVER.name);
    expect(containers(server)[CONTROLLER_MANAGER.name]).toBeDefined();
    expect(cmConfig.spireServerSocketPath).toBe(serverConf.server.socket_path);
  });

  it('runs host namespaces only in the agent and privileged containers only in the CSI driver', () => {
    for (const workload of [...ofKind(objects, 'StatefulSet'), ...ofKind(objects, 'DaemonSet'), ...ofKind(objects, 'Deployment')]) {
      const pod = workload.spec.template.spec as Manifest;
      const isAgent = workload.metadata.name === AGENT.name;
      expect([workload.metadata.name, pod.hostPID ?? false, pod.hostNetwork ?? false]).toEqual([workload.metadata.name, isAgent, isAgent]);
      for (const container of pod.containers as Manifest[]) {
        const isDriver = workload.metadata.name === CSI.name && container.name === CSI.name;
        expect([container.name, container.securityContext.privileged]).toEqual([container.name, isDriver]);
        expect(container.imagePullPolicy).toBe('IfNotPresent');
        expect(container.resources.limits).toBeDefined();
      }
    }
  });

  it('renders the CSI driver only when the agents use it', () => {
    expect(ofKind(objects, 'CSIDriver')).toHaveLength(td.agent.socket === 'csi' ? 1 : 0);
  });
});

describe('TrustDomainChart', () => {

  it('is ordered after the CRD chart it is given', () => {
    const app = Testing.app();
    const crds = new SpireCrdsChart(app, 'spire-crds');
    const chart = new TrustDomainChart(app, 'dir.example', { topology: EXAMPLE, trustDomain: 'dir.example', crds });
    expect(chart.node.dependencies).toContain(crds);
    expect(app.charts).toEqual([crds, chart]);
  });

  it('passes apiServer settings through to the apiserver', () => {
    const chart = new TrustDomainChart(Testing.app(), 'dir.example', {
      topology: EXAMPLE,
      trustDomain: 'dir.example',
      apiServer: { resources: { limits: { cpu: k8s.Quantity.fromString('3') } } },
    });
    const deployment = find(Testing.synth(chart) as Manifest[], 'Deployment', DIRECTORY_API_SERVER.name);
    expect(containers(deployment)[DIRECTORY_API_SERVER.containerName]!.resources).toEqual({ limits: { cpu: '3' } });
  });

  it('rejects a trust domain the topology does not have', () => {
    expect(() => build(EXAMPLE, 'nope.example')).toThrow('trust domain "nope.example" is not in the topology (it has: dir.example, dirctl.example)');
  });
});
