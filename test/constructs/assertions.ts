/** Security assertions shared by the workload tests. */
import { expect } from 'vitest';
import type { Manifest } from './fixtures';

const LOCKED_DOWN = {
  privileged: false,
  allowPrivilegeEscalation: false,
  readOnlyRootFilesystem: true,
  capabilities: { drop: ['ALL'] },
  seccompProfile: { type: 'RuntimeDefault' },
};

/** No privileges at all and a non-root user. */
export function expectNonRoot(container: Manifest): void {
  expect(container.securityContext).toEqual({ ...LOCKED_DOWN, runAsNonRoot: true });
}

/** uid 0, but with no capabilities, no escalation and a read-only root filesystem. */
export function expectLockedDownRoot(container: Manifest): void {
  expect(container.securityContext).toEqual({ ...LOCKED_DOWN, runAsNonRoot: false, runAsUser: 0, runAsGroup: 0 });
}

/** The hostPath volumes of a workload's pod, as `{ name: path }`. */
export function hostPaths(workload: Manifest): Record<string, string> {
  const volumes = workload.spec.template.spec.volumes as Manifest[];
  return Object.fromEntries(volumes.filter((v) => v.hostPath).map((v) => [v.name, v.hostPath.path]));
}
