import { describe, expect, it } from 'vitest';
import { SpireAgent } from '../../constructs';
import { AGENT, BUNDLE } from '../../spire/kubernetes/layout';
import { expectLockedDownRoot, hostPaths } from './assertions';
import { containers, DIR, find, synth, VARIANT_TD, volume, type Manifest } from './fixtures';

function build(td = DIR) {
  const objects = synth((chart) => new SpireAgent(chart, 'Agent', { trustDomain: td }));
  const daemonSet = find(objects, 'DaemonSet', AGENT.name);
  const agentConf = JSON.parse(find(objects, 'ConfigMap', AGENT.configMap).data[AGENT.configFile]) as Manifest;
  const agent = containers(daemonSet)[AGENT.name]!;
  return { objects, daemonSet, pod: daemonSet.spec.template.spec as Manifest, agent, agentConf };
}

function plugin(conf: Manifest, type: string, name: string): Manifest {
  return conf.plugins[type].find((p: Manifest) => name in p)[name].plugin_data;
}

function mountPath(container: Manifest, volumeName: string): string {
  return container.volumeMounts.find((m: Manifest) => m.name === volumeName).mountPath;
}

describe('SpireAgent', () => {
  it('matches the snapshot for dir.example', () => {
    expect(build().objects).toMatchSnapshot();
  });

  it('shares the host network and PID namespace, as the k8s workload attestor needs', () => {
    const { pod } = build();
    expect(pod.hostNetwork).toBe(true);
    expect(pod.hostPID).toBe(true);
    expect(pod.dnsPolicy).toBe('ClusterFirstWithHostNet');
    expect(pod.automountServiceAccountToken).toBe(true);
    expect(pod.serviceAccountName).toBe(AGENT.serviceAccount);
  });

  it('runs as root, otherwise locked down', () => {
    const { agent, pod } = build();
    expectLockedDownRoot(agent);
    expect(pod).not.toHaveProperty('securityContext');
    expect(agent.imagePullPolicy).toBe('IfNotPresent');
  });

  it('mounts exactly one host path: the socket directory of the model, where agent.conf puts the socket', () => {
    for (const td of [DIR, VARIANT_TD]) {
      const { daemonSet, agent, agentConf } = build(td);
      expect(hostPaths(daemonSet)).toEqual({ 'spire-agent-socket-dir': td.agent.socketHostDir });
      expect(volume(daemonSet, 'spire-agent-socket-dir').hostPath.type).toBe('DirectoryOrCreate');
      expect(mountPath(agent, 'spire-agent-socket-dir')).toBe(AGENT.socketDir);
      expect(agentConf.agent.socket_path).toBe(`${AGENT.socketDir}/${AGENT.socketName}`);
    }
  });

  it('presents a projected token with the spire-server audience at the path k8s_psat reads', () => {
    const { daemonSet, agent, agentConf } = build();
    const source = volume(daemonSet, 'spire-token').projected.sources[0].serviceAccountToken;
    expect(source).toEqual({ audience: AGENT.tokenAudience, expirationSeconds: AGENT.tokenExpirationSeconds, path: AGENT.tokenFile });
    const psat = plugin(agentConf, 'NodeAttestor', 'k8s_psat');
    expect(psat.token_path).toBe(`${mountPath(agent, 'spire-token')}/${source.path}`);
    expect(psat.cluster).toBe(DIR.agent.clusterName);
  });

  it('bootstraps trust from the spire-bundle ConfigMap', () => {
    const { daemonSet, agent, agentConf } = build();
    expect(volume(daemonSet, 'spire-bundle').configMap.name).toBe(BUNDLE.configMap);
    expect(agentConf.agent.trust_bundle_path).toBe(`${mountPath(agent, 'spire-bundle')}/${BUNDLE.key}`);
    expect(agentConf.agent.trust_bundle_format).toBe('spiffe');
  });

  it('lets the workload attestor reach the kubelet on 127.0.0.1 of the host network, never by node name', () => {
    const { daemonSet, agent, agentConf } = build();
    const attestor = plugin(agentConf, 'WorkloadAttestor', 'k8s');
    expect(attestor).not.toHaveProperty('node_name_env');
    expect(attestor).not.toHaveProperty('node_name');
    // The attestor falls back to the MY_NODE_NAME variable when it is set; it must not be.
    expect((agent.env ?? []).map((e: Manifest) => e.name)).not.toContain('MY_NODE_NAME');
    expect(daemonSet.spec.template.spec.hostNetwork).toBe(true);
  });

  it('probes /live and /ready on the health port agent.conf listens on', () => {
    const { agent, agentConf } = build();
    const port = agent.ports.find((p: Manifest) => p.name === 'healthz');
    expect(port.containerPort).toBe(AGENT.healthPort);
    expect(Number(agentConf.health_checks.bind_port)).toBe(AGENT.healthPort);
    expect(agent.livenessProbe.httpGet).toEqual({ path: agentConf.health_checks.live_path, port: 'healthz' });
    expect(agent.readinessProbe.httpGet).toEqual({ path: agentConf.health_checks.ready_path, port: 'healthz' });
  });

  it('may only get pods, nodes and the kubelet API', () => {
    const { objects } = build();
    const name = `${DIR.namespaces.agent}-${AGENT.name}`;
    expect(find(objects, 'ClusterRole', name).rules).toEqual([{ apiGroups: [''], resources: ['pods', 'nodes', 'nodes/proxy'], verbs: ['get'] }]);
    expect(find(objects, 'ClusterRoleBinding', name).subjects).toEqual([
      { kind: 'ServiceAccount', name: AGENT.serviceAccount, namespace: DIR.namespaces.agent },
    ]);
  });
});
