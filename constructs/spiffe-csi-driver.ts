import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { TrustDomain } from '../topology/model';
import { CSI } from '../spire/kubernetes/layout';
import { IMAGES } from '../spire/versions';
import { IMAGE_PULL_POLICY, resources, rootSecurityContext } from './hardening';
import { appLabels } from './workload';

export interface SpiffeCsiDriverProps {
  /** The trust domain whose agents' sockets the driver serves (from the resolved topology). */
  readonly trustDomain: TrustDomain;
  /**
   * The SPIFFE CSI driver image.
   * @default IMAGES.csiDriver
   */
  readonly image?: string;
  /**
   * The CSI node-driver-registrar image.
   * @default IMAGES.csiNodeDriverRegistrar
   */
  readonly registrarImage?: string;
  /**
   * Resources of the driver container; the registrar gets 10m/16Mi requested, 100m/32Mi limit.
   * @default 10m/16Mi requested, 100m/64Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
}

const KUBELET_DIR = '/var/lib/kubelet';
const CSI_SOCKET_DIR = '/spiffe-csi';
const AGENT_SOCKET_DIR = '/spire-agent-socket';

/**
 * The SPIFFE CSI driver (`csi.spiffe.io`): workloads mount the agent's Workload API directory as an inline
 * CSI volume (`csi: { driver: csi.spiffe.io, readOnly: true }`), which Pod Security `restricted` allows,
 * instead of a hostPath, which it does not.
 *
 * The driver container is privileged with `Bidirectional` mount propagation on the kubelet's pod
 * directory, because it bind-mounts the socket directory into pods; it sees the agent's socket directory
 * read-only. The node-driver-registrar registers it with the kubelet and runs unprivileged.
 * Remove the driver last: pods with its volumes cannot terminate without it.
 */
export class SpiffeCsiDriver extends Construct {
  public readonly csiDriver: k8s.KubeCsiDriver;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly daemonSet: k8s.KubeDaemonSet;

  public constructor(scope: Construct, id: string, props: SpiffeCsiDriverProps) {
    super(scope, id);
    const td = props.trustDomain;
    const namespace = td.namespaces.agent;
    const labels = appLabels(CSI.name);

    this.csiDriver = new k8s.KubeCsiDriver(this, 'CSIDriver', {
      metadata: { name: CSI.driverName },
      spec: { attachRequired: false, podInfoOnMount: true, fsGroupPolicy: 'None', volumeLifecycleModes: ['Ephemeral'] },
    });
    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: CSI.name, namespace },
      automountServiceAccountToken: false,
    });

    const driver: k8s.Container = {
      name: CSI.name,
      image: props.image ?? IMAGES.csiDriver,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: [
        '-workload-api-socket-dir', AGENT_SOCKET_DIR,
        '-plugin-name', CSI.driverName,
        '-csi-socket-path', `${CSI_SOCKET_DIR}/csi.sock`,
      ],
      env: [{ name: 'MY_NODE_NAME', valueFrom: { fieldRef: { fieldPath: 'spec.nodeName' } } }],
      resources: props.resources ?? resources(['10m', '100m'], ['16Mi', '64Mi']),
      // Mounting into other pods' volumes needs privilege; privileged containers cannot also forbid escalation.
      securityContext: { privileged: true, runAsUser: 0, readOnlyRootFilesystem: true },
      volumeMounts: [
        { name: 'spire-agent-socket-dir', mountPath: AGENT_SOCKET_DIR, readOnly: true },
        { name: 'spiffe-csi-socket-dir', mountPath: CSI_SOCKET_DIR },
        { name: 'mountpoint-dir', mountPath: `${KUBELET_DIR}/pods`, mountPropagation: 'Bidirectional' },
      ],
    };
    const registrar: k8s.Container = {
      name: 'node-driver-registrar',
      image: props.registrarImage ?? IMAGES.csiNodeDriverRegistrar,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: [
        `--csi-address=${CSI_SOCKET_DIR}/csi.sock`,
        `--kubelet-registration-path=${CSI.pluginDir}/csi.sock`,
        `--http-endpoint=:${CSI.registrarHealthPort}`,
      ],
      ports: [{ name: 'healthz', containerPort: CSI.registrarHealthPort, protocol: 'TCP' }],
      livenessProbe: { httpGet: { path: '/healthz', port: k8s.IntOrString.fromString('healthz') }, initialDelaySeconds: 5, periodSeconds: 30 },
      resources: resources(['10m', '100m'], ['16Mi', '32Mi']),
      // Root only to create its socket in the kubelet's root-owned registration directory.
      securityContext: rootSecurityContext(),
      volumeMounts: [
        { name: 'spiffe-csi-socket-dir', mountPath: CSI_SOCKET_DIR },
        { name: 'kubelet-plugin-registration-dir', mountPath: '/registration' },
      ],
    };

    this.daemonSet = new k8s.KubeDaemonSet(this, 'DaemonSet', {
      metadata: { name: CSI.name, namespace, labels },
      spec: {
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: CSI.name,
            automountServiceAccountToken: false,
            containers: [driver, registrar],
            volumes: [
              { name: 'spire-agent-socket-dir', hostPath: { path: td.agent.socketHostDir, type: 'DirectoryOrCreate' } },
              { name: 'spiffe-csi-socket-dir', hostPath: { path: CSI.pluginDir, type: 'DirectoryOrCreate' } },
              { name: 'mountpoint-dir', hostPath: { path: `${KUBELET_DIR}/pods`, type: 'Directory' } },
              { name: 'kubelet-plugin-registration-dir', hostPath: { path: `${KUBELET_DIR}/plugins_registry`, type: 'Directory' } },
            ],
          },
        },
      },
    });
  }
}
