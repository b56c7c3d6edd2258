import { UPSTREAM_CA_FILES, type TrustDomain } from '../../topology/model';
import type { ControllerManagerPlacement } from '../config/controller-manager-config';
import type { AgentPlacement, ServerPlacement } from '../config/placement';
import { AGENT, BUNDLE, CONTROLLER_MANAGER, SERVER } from './layout';

/** Where a trust domain's SPIRE server runs on Kubernetes: in a pod, attesting agents with `k8s_psat`. */
export function kubernetesServerPlacement(td: TrustDomain): ServerPlacement {
  return {
    bindAddress: '0.0.0.0',
    bindPort: SERVER.grpcPort,
    socketPath: `${SERVER.socketDir}/api.sock`,
    dataDir: SERVER.dataDir,
    healthAddress: '0.0.0.0',
    healthPort: SERVER.healthPort,
    metricsPort: SERVER.metricsPort,
    bundleEndpointAddress: '0.0.0.0',
    nodeAttestor: {
      type: 'k8s_psat',
      agentServiceAccount: `${td.namespaces.agent}:${AGENT.serviceAccount}`,
      audience: AGENT.tokenAudience,
    },
    // Published where the agents mount it from.
    bundleConfigMap: { namespace: td.namespaces.agent, name: BUNDLE.configMap, key: BUNDLE.key },
    ...(td.server.upstreamAuthority && {
      upstreamAuthority: {
        certFile: `${SERVER.upstreamCaDir}/${UPSTREAM_CA_FILES.certificate}`,
        keyFile: `${SERVER.upstreamCaDir}/${UPSTREAM_CA_FILES.key}`,
        bundleFile: `${SERVER.upstreamCaDir}/${UPSTREAM_CA_FILES.bundle}`,
      },
    }),
    ...(td.bundleEndpoint?.profile === 'https_web' && {
      bundleEndpointServingCert: { certFile: `${SERVER.servingCertDir}/tls.crt`, keyFile: `${SERVER.servingCertDir}/tls.key` },
    }),
    ...(td.server.datastore.type === 'postgres' && { postgresConnectionString: `\${${SERVER.postgresEnv}}` }),
    federationRelationships: 'dynamic',
  };
}

/** Where a trust domain's SPIRE agents run on Kubernetes: a DaemonSet on the host network. */
export function kubernetesAgentPlacement(td: TrustDomain): AgentPlacement {
  return {
    serverAddress: `${SERVER.name}.${td.namespaces.spire}`,
    serverPort: SERVER.servicePort,
    socketPath: `${AGENT.socketDir}/${AGENT.socketName}`,
    dataDir: AGENT.dataDir,
    trustBundlePath: `${BUNDLE.mountDir}/${BUNDLE.key}`,
    trustBundleFormat: 'spiffe',
    healthAddress: '0.0.0.0',
    healthPort: AGENT.healthPort,
    metricsPort: AGENT.metricsPort,
    nodeAttestor: { type: 'k8s_psat', tokenPath: `${AGENT.tokenDir}/${AGENT.tokenFile}` },
    workloadAttestor: { type: 'k8s' },
    keyManager: 'memory',
  };
}

/** The controller manager runs as a sidecar of the server and talks to it over the shared socket. */
export function kubernetesControllerManagerPlacement(td: TrustDomain): ControllerManagerPlacement {
  return {
    spireServerSocketPath: `${SERVER.socketDir}/api.sock`,
    validatingWebhookConfigurationName: CONTROLLER_MANAGER.webhookConfiguration,
    leaderElection: { namespace: td.namespaces.spire, resourceName: CONTROLLER_MANAGER.leaderElectionResource },
    metricsPort: CONTROLLER_MANAGER.metricsPort,
    healthPort: CONTROLLER_MANAGER.healthPort,
    webhookPort: CONTROLLER_MANAGER.webhookPort,
  };
}
