/**
 * Well-known names, paths and ports of SPIRE on Kubernetes. Everything referenced from more than one
 * object (a Service the agent dials, the ConfigMap the server publishes to, the accounts named in the
 * psat allow list) is named here once, so the SPIRE configs and the manifests cannot disagree.
 */
export const SERVER = {
  name: 'spire-server',
  serviceAccount: 'spire-server',
  configMap: 'spire-server',
  configFile: 'server.conf',
  configDir: '/run/spire/config',
  dataDir: '/run/spire/data',
  dataVolumeClaim: 'spire-data',
  socketDir: '/tmp/spire-server/private',
  grpcPort: 8081,
  servicePort: 443,
  healthPort: 8080,
  metricsPort: 9988,
  bundleEndpointService: 'spire-server-bundle-endpoint',
  upstreamCaDir: '/run/spire/upstream-ca',
  servingCertDir: '/run/spire/bundle-endpoint-tls',
  postgresEnv: 'SPIRE_DATASTORE_CONNECTION_STRING',
} as const;

export const BUNDLE = {
  configMap: 'spire-bundle',
  key: 'bundle.spiffe',
  mountDir: '/run/spire/bundle',
} as const;

export const AGENT = {
  name: 'spire-agent',
  serviceAccount: 'spire-agent',
  configMap: 'spire-agent',
  configFile: 'agent.conf',
  configDir: '/opt/spire/conf/agent',
  dataDir: '/var/lib/spire',
  socketDir: '/tmp/spire-agent/public',
  socketName: 'spire-agent.sock',
  tokenDir: '/var/run/secrets/tokens',
  tokenFile: 'spire-agent',
  tokenAudience: 'spire-server',
  tokenExpirationSeconds: 7200,
  healthPort: 9982,
  metricsPort: 9989,
} as const;

export const CONTROLLER_MANAGER = {
  name: 'spire-controller-manager',
  configMap: 'spire-controller-manager',
  configFile: 'controller-manager-config.yaml',
  configDir: '/run/spire/controller-manager',
  webhookService: 'spire-controller-manager-webhook',
  webhookConfiguration: 'spire-controller-manager-webhook',
  leaderElectionResource: 'spire-controller-manager-leader-election',
  metricsPort: 8082,
  healthPort: 8083,
  webhookPort: 9443,
} as const;

export const CSI = {
  driverName: 'csi.spiffe.io',
  name: 'spiffe-csi-driver',
  pluginDir: '/var/lib/kubelet/plugins/csi.spiffe.io',
  registrarHealthPort: 9809,
} as const;

/** Where a workload finds the Workload API socket when it mounts the agent's socket directory. */
export const WORKLOAD_SOCKET_DIR = '/run/spire/agent-sockets';
