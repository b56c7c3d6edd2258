/** Labels, probes and the Workload API socket shared by the workloads. */
import { k8s } from 'cdk8s-plus-28';
import type { TrustDomain } from '../topology/model';
import { AGENT, CSI, WORKLOAD_SOCKET_DIR } from '../spire/kubernetes/layout';

/** Selector labels of a workload's pods, keyed by its well-known name. */
export function appLabels(name: string): Record<string, string> {
  return { 'app.kubernetes.io/name': name, 'app.kubernetes.io/part-of': 'dirtk' };
}

/** HTTP liveness and readiness probes against the container port named `port`. */
export function httpProbes(port: string, livePath: string, readyPath: string): Pick<k8s.Container, 'livenessProbe' | 'readinessProbe'> {
  const get = (path: string) => ({ path, port: k8s.IntOrString.fromString(port) });
  return {
    livenessProbe: { httpGet: get(livePath), initialDelaySeconds: 15, periodSeconds: 30, timeoutSeconds: 3, failureThreshold: 3 },
    readinessProbe: { httpGet: get(readyPath), initialDelaySeconds: 5, periodSeconds: 5, timeoutSeconds: 3 },
  };
}

/** What a pod needs to reach the SPIRE agent's Workload API: a volume, a read-only mount and the endpoint variable. */
export interface WorkloadApiSocket {
  /** The agent's socket directory: an inline `csi.spiffe.io` volume, or the host directory itself. */
  readonly volume: k8s.Volume;
  /** Mounts `volume` read-only at `WORKLOAD_SOCKET_DIR`. */
  readonly volumeMount: k8s.VolumeMount;
  /** `SPIFFE_ENDPOINT_SOCKET`, the variable SPIFFE libraries read the endpoint from. */
  readonly env: k8s.EnvVar;
}

/**
 * The Workload API socket of `td`'s agents as a pod sees it. With `agent.socket: 'csi'` the directory comes
 * from the SPIFFE CSI driver (allowed by Pod Security `restricted`); with `'hostPath'` it is the agent's host
 * directory, of type `Directory` so that a workload never creates it (the agent does).
 */
export function workloadApiSocket(td: TrustDomain, volumeName = 'spiffe-workload-api'): WorkloadApiSocket {
  const volume: k8s.Volume =
    td.agent.socket === 'csi'
      ? { name: volumeName, csi: { driver: CSI.driverName, readOnly: true } }
      : { name: volumeName, hostPath: { path: td.agent.socketHostDir, type: 'Directory' } };
  return {
    volume,
    volumeMount: { name: volumeName, mountPath: WORKLOAD_SOCKET_DIR, readOnly: true },
    env: { name: 'SPIFFE_ENDPOINT_SOCKET', value: `unix://${WORKLOAD_SOCKET_DIR}/${AGENT.socketName}` },
  };
}
