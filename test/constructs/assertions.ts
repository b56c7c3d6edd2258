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

/**
 * What the controller manager renders from a ClusterSPIFFEID's `spiffeIDTemplate` for one pod: the Go
 * template subset `{{ .Field.Field }}` over `.TrustDomain`, `.PodMeta.Namespace` and `.PodSpec.ServiceAccountName`.
 * Anything else in braces fails, so a template using other fields cannot pass unnoticed.
 */
export function renderSpiffeIdTemplate(template: string, pod: { trustDomain: string; namespace: string; serviceAccount: string }): string {
  const data: Manifest = { TrustDomain: pod.trustDomain, PodMeta: { Namespace: pod.namespace }, PodSpec: { ServiceAccountName: pod.serviceAccount } };
  const rendered = template.replace(/\{\{\s*\.([A-Za-z]+(?:\.[A-Za-z]+)*)\s*\}\}/g, (_, path: string) => {
    const value = path.split('.').reduce<unknown>((node, key) => (node as Manifest | undefined)?.[key], data);
    if (typeof value !== 'string') throw new Error(`template field .${path} is not one this helper renders`);
    return value;
  });
  if (rendered.includes('{{')) throw new Error(`unrendered template syntax in ${template}`);
  return rendered;
}

/** Whether a label selector (`matchLabels` and `matchExpressions` with In/NotIn/Exists/DoesNotExist) selects `labels`. */
export function selects(selector: Manifest | undefined, labels: Record<string, string>): boolean {
  if (!selector) return true;
  const byLabels = Object.entries((selector.matchLabels ?? {}) as Record<string, string>).every(([key, value]) => labels[key] === value);
  const byExpressions = ((selector.matchExpressions ?? []) as Manifest[]).every((e) => {
    const value = labels[e.key as string];
    switch (e.operator) {
      case 'In':
        return value !== undefined && (e.values as string[]).includes(value);
      case 'NotIn':
        return value === undefined || !(e.values as string[]).includes(value);
      case 'Exists':
        return value !== undefined;
      case 'DoesNotExist':
        return value === undefined;
      default:
        throw new Error(`unknown operator ${e.operator}`);
    }
  });
  return byLabels && byExpressions;
}
