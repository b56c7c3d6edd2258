/**
 * Hardened defaults shared by every SPIRE workload: least-privilege security contexts and small resource
 * budgets that fit a Kind node. A container gets more only where SPIRE needs it, and says why there.
 */
import { k8s } from 'cdk8s-plus-28';

/** Images are loaded into Kind clusters ahead of time, so never pull what is already on the node. */
export const IMAGE_PULL_POLICY = 'IfNotPresent';

const RUNTIME_DEFAULT_SECCOMP: k8s.SeccompProfile = { type: 'RuntimeDefault' };

/** A container running as a non-root user: read-only root filesystem, no capabilities, no escalation. */
export function nonRootSecurityContext(): k8s.SecurityContext {
  return {
    runAsNonRoot: true,
    privileged: false,
    allowPrivilegeEscalation: false,
    readOnlyRootFilesystem: true,
    capabilities: { drop: ['ALL'] },
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/**
 * A container that must be uid 0 because it owns files in root-owned host directories. It keeps every
 * other restriction: as root without capabilities it can use only what it owns.
 */
export function rootSecurityContext(): k8s.SecurityContext {
  return { ...nonRootSecurityContext(), runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 };
}

/**
 * A pod whose containers all run as `uid`. `fsGroup` makes its volumes writable without a root init
 * container chowning them; `OnRootMismatch` skips the recursive chown when ownership is already right.
 */
export function nonRootPodSecurityContext(uid: number): k8s.PodSecurityContext {
  return {
    runAsNonRoot: true,
    runAsUser: uid,
    runAsGroup: uid,
    fsGroup: uid,
    fsGroupChangePolicy: 'OnRootMismatch',
    seccompProfile: RUNTIME_DEFAULT_SECCOMP,
  };
}

/** CPU and memory, each as `[request, limit]`, e.g. `resources(['50m', '500m'], ['64Mi', '256Mi'])`. */
export function resources(cpu: readonly [string, string], memory: readonly [string, string]): k8s.ResourceRequirements {
  return {
    requests: { cpu: k8s.Quantity.fromString(cpu[0]), memory: k8s.Quantity.fromString(memory[0]) },
    limits: { cpu: k8s.Quantity.fromString(cpu[1]), memory: k8s.Quantity.fromString(memory[1]) },
  };
}
