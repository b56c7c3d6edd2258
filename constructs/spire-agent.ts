import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { TrustDomain } from '../topology/model';
import { renderAgentConfig } from '../spire/config/agent-config';
import { serializeSpireConfig } from '../spire/config/blocks';
import { AGENT, BUNDLE } from '../spire/kubernetes/layout';
import { kubernetesAgentPlacement } from '../spire/kubernetes/placement';
import { IMAGES } from '../spire/versions';
import { IMAGE_PULL_POLICY, resources, rootSecurityContext } from './hardening';
import { grantClusterRole, type ClusterRoleGrant } from './rbac';
import { appLabels, httpProbes } from './workload';

export interface SpireAgentProps {
  /** The trust domain the agents belong to (from the resolved topology). */
  readonly trustDomain: TrustDomain;
  /**
   * The spire-agent image.
   * @default IMAGES.spireAgent
   */
  readonly image?: string;
  /**
   * Resources of the spire-agent container.
   * @default 25m/32Mi requested, 250m/128Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * SPIRE agents: a DaemonSet serving the Workload API on every node.
 *
 * Agents attest their node with `k8s_psat`, presenting a projected service-account token whose audience
 * is the one the server's attestor expects, and bootstrap trust from the `spire-bundle` ConfigMap the
 * server publishes. The `k8s` workload attestor asks the kubelet on 127.0.0.1 about the caller's pod (no
 * node name, so no dependence on node-name DNS), which needs the host network and the host PID
 * namespace. The Workload API socket is
 * created in a host directory, so workloads (or the SPIFFE CSI driver) can reach it.
 *
 * The agent runs as root because it owns that root-owned host directory and inspects other processes;
 * otherwise it is locked down: no capabilities, no privilege escalation, read-only root filesystem.
 */
export class SpireAgent extends Construct {
  /** `agent.conf` as SPIRE reads it. */
  public readonly config: string;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly configMap: k8s.KubeConfigMap;
  /** Read access to pods and nodes and the kubelet API, for the `k8s` workload attestor. */
  public readonly clusterRole: ClusterRoleGrant;
  public readonly daemonSet: k8s.KubeDaemonSet;

  public constructor(scope: Construct, id: string, props: SpireAgentProps) {
    super(scope, id);
    const td = props.trustDomain;
    const namespace = td.namespaces.agent;
    const labels = appLabels(AGENT.name);
    const serviceAccount = { name: AGENT.serviceAccount, namespace };

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: serviceAccount,
      automountServiceAccountToken: false,
    });
    this.config = serializeSpireConfig(renderAgentConfig(td, kubernetesAgentPlacement(td)));
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name: AGENT.configMap, namespace },
      data: { [AGENT.configFile]: this.config },
    });
    this.clusterRole = grantClusterRole(
      this,
      'WorkloadAttestation',
      `${namespace}-${AGENT.name}`,
      [{ apiGroups: [''], resources: ['pods', 'nodes', 'nodes/proxy'], verbs: ['get'] }],
      serviceAccount,
    );

    const agent: k8s.Container = {
      name: AGENT.name,
      image: props.image ?? IMAGES.spireAgent,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: ['-config', `${AGENT.configDir}/${AGENT.configFile}`],
      ports: [
        { name: 'healthz', containerPort: AGENT.healthPort, protocol: 'TCP' },
        { name: 'metrics', containerPort: AGENT.metricsPort, protocol: 'TCP' },
      ],
      ...httpProbes('healthz', '/live', '/ready'),
      resources: props.resources ?? resources(['25m', '250m'], ['32Mi', '128Mi']),
      securityContext: rootSecurityContext(),
      volumeMounts: [
        { name: 'spire-config', mountPath: AGENT.configDir, readOnly: true },
        { name: 'spire-bundle', mountPath: BUNDLE.mountDir, readOnly: true },
        { name: 'spire-token', mountPath: AGENT.tokenDir, readOnly: true },
        { name: 'spire-agent-socket-dir', mountPath: AGENT.socketDir },
        { name: 'spire-agent-data', mountPath: AGENT.dataDir },
      ],
    };

    this.daemonSet = new k8s.KubeDaemonSet(this, 'DaemonSet', {
      metadata: { name: AGENT.name, namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: AGENT.serviceAccount,
            // The kubelet authenticates the workload attestor with the agent's service-account token.
            automountServiceAccountToken: true,
            hostPid: true,
            hostNetwork: true,
            dnsPolicy: 'ClusterFirstWithHostNet',
            containers: [agent],
            volumes: [
              { name: 'spire-config', configMap: { name: AGENT.configMap } },
              { name: 'spire-bundle', configMap: { name: BUNDLE.configMap } },
              {
                name: 'spire-token',
                projected: {
                  sources: [
                    {
                      serviceAccountToken: {
                        path: AGENT.tokenFile,
                        audience: AGENT.tokenAudience,
                        expirationSeconds: AGENT.tokenExpirationSeconds,
                      },
                    },
                  ],
                },
              },
              { name: 'spire-agent-socket-dir', hostPath: { path: td.agent.socketHostDir, type: 'DirectoryOrCreate' } },
              { name: 'spire-agent-data', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
            ],
          },
        },
      },
    });
  }
}
