import type { TrustDomain } from '../../topology/model';

export interface ControllerManagerPlacement {
  readonly spireServerSocketPath: string;
  readonly validatingWebhookConfigurationName: string;
  readonly leaderElection: { readonly namespace: string; readonly resourceName: string };
  readonly metricsPort: number;
  readonly healthPort: number;
  readonly webhookPort: number;
}

/** Namespaces whose pods never get identities from the controller manager. */
export const IGNORED_NAMESPACES = ['kube-system', 'kube-public', 'local-path-storage'];

/**
 * Renders `controller-manager-config.yaml` (as an object). className, clusterName and entryIDPrefix
 * always come from the model: an empty prefix would let the controller delete every entry it did not create.
 */
export function renderControllerManagerConfig(td: TrustDomain, placement: ControllerManagerPlacement): Record<string, unknown> {
  const cm = td.controllerManager;
  return {
    apiVersion: 'spire.spiffe.io/v1alpha1',
    kind: 'ControllerManagerConfig',
    metadata: { name: 'spire-controller-manager' },
    metrics: { bindAddress: `0.0.0.0:${placement.metricsPort}` },
    health: { healthProbeBindAddress: `0.0.0.0:${placement.healthPort}` },
    webhook: { port: placement.webhookPort },
    leaderElection: {
      leaderElect: true,
      resourceName: placement.leaderElection.resourceName,
      resourceNamespace: placement.leaderElection.namespace,
    },
    logLevel: 'info',
    logEncoding: 'json',
    trustDomain: td.name,
    clusterName: cm.clusterName,
    clusterDomain: 'cluster.local',
    className: cm.className,
    watchClassless: false,
    entryIDPrefix: cm.entryIdPrefix,
    parentIDTemplate: 'spiffe://{{ .TrustDomain }}/spire/agent/k8s_psat/{{ .ClusterName }}/{{ .NodeMeta.UID }}',
    spireServerSocketPath: placement.spireServerSocketPath,
    validatingWebhookConfigurationName: placement.validatingWebhookConfigurationName,
    ignoreNamespaces: IGNORED_NAMESPACES,
    reconcile: { clusterSPIFFEIDs: true, clusterFederatedTrustDomains: true, clusterStaticEntries: true },
  };
}
