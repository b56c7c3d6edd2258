/** Labels and probes shared by the SPIRE workloads. */
import { k8s } from 'cdk8s-plus-28';

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
