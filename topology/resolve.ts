import { DEFAULT_GRPC_PORT } from '@dirtk/directory-api/contract';
import { SpiffeId, TrustDomain as TrustDomainName } from '@dirtk/spiffe/spiffeid';
import { parseGoDuration } from './duration';
import type { ApiServer, ApiServerRegistry, BundleEndpoint, FederationEdge, Topology, TrustDomain } from './model';
import type { ApiServerRegistrySpec, ApiServerSpec, BundleEndpointProfile, FederationEdgeSpec, TopologySpec, TrustDomainSpec } from './spec';

/** One thing wrong with a topology: where (a path into the spec) and what. */
export interface TopologyProblem {
  readonly path: string;
  readonly message: string;
}

/** A topology that cannot be deployed; lists every problem found, not just the first. */
export class TopologyError extends Error {
  constructor(readonly problems: readonly TopologyProblem[]) {
    super(
      `invalid topology (${problems.length} problem${problems.length === 1 ? '' : 's'}):\n` +
        problems.map((p) => `  - ${p.path}: ${p.message}`).join('\n'),
    );
    this.name = 'TopologyError';
  }
}

/**
 * Every federation edge of `topology` without a bundle endpoint URL, as problems: a deployment to
 * clusters needs each peer's URL (a local run sets them itself).
 */
export function missingBundleEndpointUrls(topology: Topology): TopologyProblem[] {
  return topology.trustDomains.flatMap((td, index) =>
    td.federatesWith.flatMap((edge, i) =>
      edge.bundleEndpointUrl !== undefined
        ? []
        : [{ path: `trustDomains[${index}] (${td.name}).federatesWith[${i}].bundleEndpointUrl`, message: noUrlMessage(edge.trustDomain) }],
    ),
  );
}

/** The URL of the bundle endpoint `edge` of `td` fetches from; throws when no target has set it. */
export function bundleEndpointUrlOf(td: TrustDomain, edge: FederationEdge): string {
  if (edge.bundleEndpointUrl === undefined) throw new Error(`${td.name} → ${edge.trustDomain}: ${noUrlMessage(edge.trustDomain)}`);
  return edge.bundleEndpointUrl;
}

function noUrlMessage(peer: string): string {
  return `no URL for the bundle endpoint of "${peer}": set this edge's bundleEndpointUrl or that domain's bundleEndpoint.url`;
}

/**
 * The SPIFFE ID of a workload running as `serviceAccount` in `namespace` of the domain `trustDomainId`
 * (`spiffe://<td>`): `spiffe://<td>/ns/<namespace>/sa/<serviceAccount>`, the ID dirtk's ClusterSPIFFEIDs
 * render and local mode registers.
 */
export function serviceAccountSpiffeId(trustDomainId: string, namespace: string, serviceAccount: string): string {
  return `${trustDomainId}/ns/${namespace}/sa/${serviceAccount}`;
}

/** The Secret a `disk` UpstreamAuthority reads unless the spec names another. */
export const DEFAULT_UPSTREAM_CA_SECRET = 'spire-upstream-ca';
/** The service account of Directory clients (dirctl) in every domain's directory namespace. */
export const DIRECTORY_CLIENT_SERVICE_ACCOUNT = 'dirctl';

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;
const MIN_NODE_PORT = 30000;
const MAX_NODE_PORT = 32767;

/**
 * Validates a topology and applies its defaults. Throws a `TopologyError` listing every problem,
 * so nothing is ever rendered from a topology that is wrong in any part.
 */
export function resolveTopology(spec: TopologySpec): Topology {
  const problems: TopologyProblem[] = [];
  const report = (path: string, message: string) => problems.push({ path, message });

  if (spec.trustDomains.length === 0) {
    report('trustDomains', 'at least one trust domain is required');
  }
  const byName = new Map<string, TrustDomainSpec>();
  spec.trustDomains.forEach((td, index) => {
    const path = domainPath(td, index);
    checkTrustDomainName(td.name, `${path}.name`, report);
    if (byName.has(td.name)) {
      report(`${path}.name`, `trust domain "${td.name}" is declared more than once`);
    }
    byName.set(td.name, td);
  });

  const federatedBy = new Set(spec.trustDomains.flatMap((td) => (td.federatesWith ?? []).map((edge) => edge.trustDomain)));
  const trustDomains = spec.trustDomains.map((td, index) =>
    resolveTrustDomain(td, domainPath(td, index), byName, federatedBy.has(td.name), report),
  );

  if (problems.length > 0) {
    throw new TopologyError(problems);
  }
  return { trustDomains };
}

type Report = (path: string, message: string) => void;

function resolveTrustDomain(
  td: TrustDomainSpec,
  path: string,
  byName: ReadonlyMap<string, TrustDomainSpec>,
  isFederatedByPeer: boolean,
  report: Report,
): TrustDomain {
  const id = `spiffe://${td.name}`;
  checkDnsLabel(td.clusterName, `${path}.clusterName`, 'cluster name', report);
  const namespaces = {
    spire: td.namespaces?.spire ?? 'spire-system',
    agent: td.namespaces?.agent ?? 'spire-agent',
    directory: td.namespaces?.directory ?? 'dir',
  };
  checkDnsLabel(namespaces.spire, `${path}.namespaces.spire`, 'namespace', report);
  checkDnsLabel(namespaces.agent, `${path}.namespaces.agent`, 'namespace', report);
  checkDnsLabel(namespaces.directory, `${path}.namespaces.directory`, 'namespace', report);
  if (namespaces.agent === namespaces.spire || namespaces.agent === namespaces.directory) {
    report(
      `${path}.namespaces.agent`,
      `"${namespaces.agent}" is also the ${namespaces.agent === namespaces.spire ? 'server' : 'directory'} namespace; the agents' namespace is ` +
        'Pod Security privileged (host network, PID and paths), so it must hold nothing else',
    );
  }

  const server = {
    replicas: td.server?.replicas ?? 1,
    caKeyType: td.server?.caKeyType ?? 'ec-p256',
    caTtl: td.server?.caTtl ?? '24h',
    x509SvidTtl: td.server?.x509SvidTtl ?? '1h',
    jwtSvidTtl: td.server?.jwtSvidTtl ?? '5m',
    datastore: td.server?.datastore ?? { type: 'sqlite' as const },
    keyManager: td.server?.keyManager ?? 'disk',
    upstreamAuthority: td.server?.upstreamAuthority && {
      type: td.server.upstreamAuthority.type,
      secretName: td.server.upstreamAuthority.secretName ?? DEFAULT_UPSTREAM_CA_SECRET,
    },
    attestedClusters: td.server?.attestedClusters ?? [td.clusterName],
    logLevel: td.server?.logLevel ?? 'INFO',
    spiffeId: `${id}/spire/server`,
  };
  checkPositiveInteger(server.replicas, `${path}.server.replicas`, report);
  if (server.datastore.type === 'sqlite' && server.replicas > 1) {
    report(
      `${path}.server.replicas`,
      `${server.replicas} replicas cannot share a sqlite datastore; use one replica or datastore { type: 'postgres' }`,
    );
  }
  const caTtl = checkDuration(server.caTtl, `${path}.server.caTtl`, report);
  for (const key of ['x509SvidTtl', 'jwtSvidTtl'] as const) {
    const ttl = checkDuration(server[key], `${path}.server.${key}`, report);
    if (ttl !== undefined && caTtl !== undefined && ttl >= caTtl) {
      report(`${path}.server.${key}`, `${server[key]} must be shorter than the CA lifetime caTtl (${server.caTtl})`);
    }
  }
  server.attestedClusters.forEach((name, i) => checkDnsLabel(name, `${path}.server.attestedClusters[${i}]`, 'cluster name', report));

  const agent = {
    socket: td.agent?.socket ?? 'csi',
    socketHostDir: td.agent?.socketHostDir ?? '/run/spire/agent-sockets',
    clusterName: td.agent?.clusterName ?? td.clusterName,
    logLevel: td.agent?.logLevel ?? 'INFO',
  };
  if (!agent.socketHostDir.startsWith('/')) {
    report(`${path}.agent.socketHostDir`, `"${agent.socketHostDir}" must be an absolute path`);
  }

  const controllerManager = {
    className: td.controllerManager?.className ?? 'dir-spire',
    clusterName: td.controllerManager?.clusterName ?? td.clusterName,
    entryIdPrefix: td.controllerManager?.entryIdPrefix ?? `${td.clusterName}.`,
  };
  checkDnsLabel(controllerManager.className, `${path}.controllerManager.className`, 'class name', report);
  if (controllerManager.entryIdPrefix.trim() === '') {
    report(
      `${path}.controllerManager.entryIdPrefix`,
      'must not be empty: without a prefix the controller manager deletes every entry it did not create',
    );
  }
  checkClusterNamesAgree(path, server.attestedClusters, agent.clusterName, controllerManager.clusterName, report);

  const federatesWith = (td.federatesWith ?? []).flatMap((edge, i) => {
    const resolved = resolveEdge(td, edge, `${path}.federatesWith[${i}]`, byName, report);
    return resolved ? [resolved] : [];
  });
  const peers = new Set<string>();
  (td.federatesWith ?? []).forEach((edge, i) => {
    if (peers.has(edge.trustDomain)) {
      report(`${path}.federatesWith[${i}].trustDomain`, `federates with "${edge.trustDomain}" more than once`);
    }
    peers.add(edge.trustDomain);
  });

  const federates = federatesWith.length > 0 || isFederatedByPeer;
  const bundleEndpoint = federates ? resolveBundleEndpoint(td, `${path}.bundleEndpoint`, report) : undefined;
  const apiserver = td.apiserver ? resolveApiServer(td, id, namespaces.directory, bundleEndpoint, `${path}.apiserver`, report) : undefined;
  const directoryClient = {
    serviceAccount: DIRECTORY_CLIENT_SERVICE_ACCOUNT,
    spiffeId: serviceAccountSpiffeId(id, namespaces.directory, DIRECTORY_CLIENT_SERVICE_ACCOUNT),
  };
  if (apiserver?.serviceAccount === directoryClient.serviceAccount) {
    report(
      `${path}.apiserver.serviceAccount`,
      `"${apiserver.serviceAccount}" is the Directory clients' service account; the apiserver and its clients would share one SPIFFE ID`,
    );
  }

  return {
    name: td.name,
    id,
    clusterName: td.clusterName,
    namespaces,
    server,
    agent,
    controllerManager,
    ...(bundleEndpoint && { bundleEndpoint }),
    federatesWith,
    ...(apiserver && { apiserver }),
    directoryClient,
  };
}

function checkClusterNamesAgree(
  path: string,
  attestedClusters: readonly string[],
  agentCluster: string,
  controllerManagerCluster: string,
  report: Report,
): void {
  if (!attestedClusters.includes(agentCluster)) {
    report(
      `${path}.agent.clusterName`,
      `the agent attests as cluster "${agentCluster}" but the server's k8s_psat only accepts [${attestedClusters.join(', ')}]; agents would fail node attestation`,
    );
  }
  if (controllerManagerCluster !== agentCluster) {
    report(
      `${path}.controllerManager.clusterName`,
      `"${controllerManagerCluster}" differs from the agent's cluster "${agentCluster}"; entries would get the wrong parent ID and workloads no identity`,
    );
  }
}

function resolveEdge(
  td: TrustDomainSpec,
  edge: FederationEdgeSpec,
  path: string,
  byName: ReadonlyMap<string, TrustDomainSpec>,
  report: Report,
): FederationEdge | undefined {
  let ok = true;
  const fail = (where: string, message: string) => {
    ok = false;
    report(where, message);
  };
  checkTrustDomainName(edge.trustDomain, `${path}.trustDomain`, fail);
  if (edge.trustDomain === td.name) {
    fail(`${path}.trustDomain`, `trust domain "${td.name}" cannot federate with itself`);
  }
  const peer = byName.get(edge.trustDomain);
  const url = edge.bundleEndpointUrl ?? peer?.bundleEndpoint?.url;
  if (url === undefined && !peer) {
    fail(`${path}.bundleEndpointUrl`, `"${edge.trustDomain}" is not in this topology, so its bundle endpoint URL must be given`);
  } else if (url !== undefined) {
    checkBundleEndpointUrl(url, `${path}.bundleEndpointUrl`, fail);
  }
  const profile: BundleEndpointProfile = edge.profile ?? peer?.bundleEndpoint?.profile ?? 'https_spiffe';
  if (profile === 'https_web' && edge.endpointSpiffeId !== undefined) {
    fail(`${path}.endpointSpiffeId`, 'an https_web bundle endpoint is authenticated by Web PKI; remove endpointSpiffeId');
  }
  const endpointSpiffeId = edge.endpointSpiffeId ?? `spiffe://${edge.trustDomain}/spire/server`;
  if (profile === 'https_spiffe' && !SpiffeId.isValid(endpointSpiffeId)) {
    fail(`${path}.endpointSpiffeId`, describeSpiffeIdError(endpointSpiffeId));
  }
  if (edge.trustDomainBundle !== undefined) {
    checkSpiffeBundle(edge.trustDomainBundle, `${path}.trustDomainBundle`, fail);
  }
  if (!ok) return undefined;
  const base = {
    trustDomain: edge.trustDomain,
    ...(url !== undefined && { bundleEndpointUrl: url }),
    ...(edge.trustDomainBundle !== undefined && { trustDomainBundle: edge.trustDomainBundle }),
  };
  return profile === 'https_spiffe' ? { ...base, profile, endpointSpiffeId } : { ...base, profile };
}

function resolveBundleEndpoint(td: TrustDomainSpec, path: string, report: Report): BundleEndpoint {
  const spec = td.bundleEndpoint ?? {};
  const endpoint: BundleEndpoint = {
    port: spec.port ?? 8443,
    profile: spec.profile ?? 'https_spiffe',
    ...(spec.servingCertSecret !== undefined && { servingCertSecret: spec.servingCertSecret }),
    refreshHint: spec.refreshHint ?? '5m',
    serviceType: spec.serviceType ?? 'NodePort',
    nodePort: spec.nodePort ?? 32443,
    ...(spec.url !== undefined && { url: spec.url }),
  };
  checkPort(endpoint.port, `${path}.port`, report);
  checkNodePort(endpoint.nodePort, `${path}.nodePort`, report);
  const hint = checkDuration(endpoint.refreshHint, `${path}.refreshHint`, report);
  if (hint !== undefined && (hint < 60_000 || hint >= 24 * 3_600_000)) {
    report(`${path}.refreshHint`, `${endpoint.refreshHint} should be at least 1m and under 24h`);
  }
  if (endpoint.profile === 'https_web' && endpoint.servingCertSecret === undefined) {
    report(`${path}.servingCertSecret`, 'an https_web bundle endpoint needs a Web-PKI serving certificate Secret');
  }
  if (endpoint.profile === 'https_spiffe' && endpoint.servingCertSecret !== undefined) {
    report(`${path}.servingCertSecret`, 'an https_spiffe bundle endpoint serves the SPIRE server SVID; remove servingCertSecret');
  }
  if (endpoint.url !== undefined) checkBundleEndpointUrl(endpoint.url, `${path}.url`, report);
  return endpoint;
}

function resolveApiServer(
  td: TrustDomainSpec,
  id: string,
  namespace: string,
  bundleEndpoint: BundleEndpoint | undefined,
  path: string,
  report: Report,
): ApiServer {
  const serviceAccount = td.apiserver?.serviceAccount ?? 'dir-apiserver';
  const nodePort = td.apiserver?.nodePort;
  const apiserver: ApiServer = {
    serviceAccount,
    store: td.apiserver?.store ?? 'filesystem',
    replicas: td.apiserver?.replicas ?? 1,
    port: td.apiserver?.port ?? DEFAULT_GRPC_PORT,
    serviceType: td.apiserver?.serviceType ?? 'ClusterIP',
    ...(nodePort !== undefined && { nodePort }),
    spiffeId: serviceAccountSpiffeId(id, namespace, serviceAccount),
    ...resolveApiServerImage(td.apiserver ?? {}, path, report),
    ...(td.apiserver?.registry && { registry: resolveApiServerRegistry(td.apiserver.registry, `${path}.registry`, report) }),
  };
  checkDnsSubdomain(serviceAccount, `${path}.serviceAccount`, 'service account name', report);
  checkPositiveInteger(apiserver.replicas, `${path}.replicas`, report);
  if (apiserver.replicas > 1 && apiserver.store === 'filesystem') {
    report(
      `${path}.replicas`,
      `${apiserver.replicas} replicas cannot share the filesystem store, a local directory that one apiserver process owns; use one replica or store: 'registry'`,
    );
  }
  checkPort(apiserver.port, `${path}.port`, report);
  if (nodePort !== undefined) {
    if (apiserver.serviceType !== 'NodePort') {
      report(`${path}.nodePort`, `a node port needs serviceType 'NodePort', not '${apiserver.serviceType}'`);
    }
    checkNodePort(nodePort, `${path}.nodePort`, report);
    if (bundleEndpoint?.serviceType === 'NodePort' && nodePort === bundleEndpoint.nodePort) {
      report(`${path}.nodePort`, `${nodePort} is already the node port of the bundle endpoint (bundleEndpoint.nodePort); give each its own`);
    }
  }
  if (apiserver.registry) {
    if (apiserver.store !== 'registry') report(`${path}.registry`, `a registry needs store: 'registry', not '${apiserver.store}'`);
    const taken = [
      ...(nodePort !== undefined ? [{ port: nodePort, what: 'the apiserver (nodePort)' }] : []),
      ...(bundleEndpoint?.serviceType === 'NodePort' ? [{ port: bundleEndpoint.nodePort, what: 'the bundle endpoint (bundleEndpoint.nodePort)' }] : []),
    ];
    for (const [member, port] of [['nodePort', apiserver.registry.nodePort], ['tokenNodePort', apiserver.registry.tokenNodePort]] as const) {
      const clash = taken.find((used) => used.port === port);
      if (clash) report(`${path}.registry.${member}`, `${port} is already the node port of ${clash.what}; give each its own`);
      taken.push({ port, what: `the registry (registry.${member})` });
    }
  }
  return apiserver;
}

/** The Secret holding the apiserver's registry token-signing key, unless the topology names another. */
export const DEFAULT_REGISTRY_TOKEN_KEY_SECRET = 'dir-registry-token-key';

function resolveApiServerRegistry(spec: ApiServerRegistrySpec, path: string, report: Report): ApiServerRegistry {
  const registry: ApiServerRegistry = {
    externalHost: spec.externalHost,
    nodePort: spec.nodePort ?? 30500,
    tokenNodePort: spec.tokenNodePort ?? 30880,
    trustedKeys: spec.trustedKeys.map((key) => ({ ...key })),
    tokenKeySecret: spec.tokenKeySecret ?? DEFAULT_REGISTRY_TOKEN_KEY_SECRET,
  };
  if (!/^[A-Za-z0-9.-]+$/.test(registry.externalHost)) {
    report(`${path}.externalHost`, `"${registry.externalHost}" is not a host name or IPv4 address (no scheme, no port)`);
  }
  checkNodePort(registry.nodePort, `${path}.nodePort`, report);
  checkNodePort(registry.tokenNodePort, `${path}.tokenNodePort`, report);
  if (registry.trustedKeys.length === 0) report(`${path}.trustedKeys`, 'is empty: the registry would trust no token; list the public half of the token-signing key');
  checkDnsSubdomain(registry.tokenKeySecret, `${path}.tokenKeySecret`, 'Secret name', report);
  return registry;
}

/** The apiserver image and, when it is known, the image ID the kubelet will report for it. */
function resolveApiServerImage(spec: ApiServerSpec, path: string, report: Report): Pick<ApiServer, 'image' | 'imageId'> {
  const image = spec.image ?? DEFAULT_APISERVER_IMAGE;
  const reference = parseImageReference(image);
  if (reference === undefined) {
    report(`${path}.image`, `"${image}" is not an image reference (name[:tag][@sha256:<64 hex digits>], lower-case name)`);
    return { image };
  }
  const derived = reference.digest && `${reference.repository}@${reference.digest}`;
  const imageId = spec.imageId ?? derived;
  if (spec.imageId !== undefined && !IMAGE_ID.test(spec.imageId)) {
    report(`${path}.imageId`, `"${spec.imageId}" is not an image ID as the kubelet reports it (sha256:<64 hex digits> or <repository>@sha256:<64 hex digits>)`);
  } else if (spec.imageId !== undefined && derived !== undefined && spec.imageId !== derived && !spec.imageId.startsWith('sha256:')) {
    report(`${path}.imageId`, `"${spec.imageId}" contradicts the digest of image "${image}" (${derived})`);
  }
  return { image, ...(imageId !== undefined && { imageId }) };
}

/** The tag of the image `npm run build:apiserver` and the Dockerfile's README build; mutable, for development. */
export const DEFAULT_APISERVER_IMAGE = 'dirtk/apiserver:dev';

const IMAGE_COMPONENT = '[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*';
const IMAGE_REFERENCE = new RegExp(
  `^(?<name>(?:(?<domain>[a-zA-Z0-9-]+(?:\\.[a-zA-Z0-9-]+)*(?::[0-9]+)?)/)?${IMAGE_COMPONENT}(?:/${IMAGE_COMPONENT})*)` +
    `(?::(?<tag>[\\w][\\w.-]{0,127}))?(?:@(?<digest>sha256:[a-f0-9]{64}))?$`,
);
const IMAGE_ID = /^(?:[a-z0-9.:/_-]+@)?sha256:[a-f0-9]{64}$/;

/**
 * An image reference as container runtimes normalize it: `repository` gains Docker Hub's domain and
 * `library/` the way the kubelet reports it (`docker.io/library/busybox`).
 */
function parseImageReference(image: string): { readonly repository: string; readonly digest?: string } | undefined {
  const match = IMAGE_REFERENCE.exec(image);
  if (!match?.groups) return undefined;
  const { name, domain, digest } = match.groups as { name: string; domain?: string; digest?: string };
  const hasDomain = domain !== undefined && (domain.includes('.') || domain.includes(':') || domain === 'localhost');
  const repository = hasDomain ? name : `docker.io/${name.includes('/') ? name : `library/${name}`}`;
  return { repository, ...(digest !== undefined && { digest }) };
}

function domainPath(td: TrustDomainSpec, index: number): string {
  return `trustDomains[${index}]${td.name ? ` (${td.name})` : ''}`;
}

function checkTrustDomainName(name: string, path: string, report: Report): void {
  try {
    const parsed = TrustDomainName.parse(name);
    if (parsed.name !== name) report(path, `give the bare name "${parsed.name}", not a SPIFFE ID`);
  } catch (error) {
    report(path, (error as Error).message);
  }
}

function describeSpiffeIdError(id: string): string {
  try {
    SpiffeId.parse(id);
    return '';
  } catch (error) {
    return (error as Error).message;
  }
}

function checkDuration(value: string, path: string, report: Report): number | undefined {
  const ms = parseGoDuration(value);
  if (ms === undefined || ms <= 0) {
    report(path, `"${value}" is not a positive Go duration such as "90s", "5m" or "24h"`);
    return undefined;
  }
  return ms;
}

function checkDnsLabel(value: string, path: string, what: string, report: Report): void {
  if (!DNS_LABEL.test(value)) {
    report(path, `${what} "${value}" must be a DNS label: lowercase letters, digits and "-", at most 63 characters`);
  }
}

function checkDnsSubdomain(value: string, path: string, what: string, report: Report): void {
  if (!DNS_SUBDOMAIN.test(value)) {
    report(path, `${what} "${value}" must be a DNS subdomain: lowercase letters, digits, "-" and "."`);
  }
}

function checkPositiveInteger(value: number, path: string, report: Report): void {
  if (!Number.isInteger(value) || value < 1) report(path, `${value} must be a whole number of at least 1`);
}

function checkPort(port: number, path: string, report: Report): void {
  if (!Number.isInteger(port) || port < 1 || port > 65535) report(path, `${port} is not a TCP port (1-65535)`);
}

function checkNodePort(port: number, path: string, report: Report): void {
  if (!Number.isInteger(port) || port < MIN_NODE_PORT || port > MAX_NODE_PORT) {
    report(path, `${port} is outside the node port range ${MIN_NODE_PORT}-${MAX_NODE_PORT}`);
  }
}

function checkBundleEndpointUrl(value: string, path: string, report: Report): void {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    report(path, `"${value}" is not a URL`);
    return;
  }
  if (url.protocol !== 'https:') report(path, `"${value}" must use https`);
  if (url.username !== '' || url.password !== '') report(path, `"${value}" must not carry user info`);
}

function checkSpiffeBundle(value: string, path: string, report: Report): void {
  let bundle: unknown;
  try {
    bundle = JSON.parse(value);
  } catch {
    report(path, 'must be a SPIFFE bundle in JSON (the output of `spire-server bundle show -format spiffe`), not PEM');
    return;
  }
  const keys = (bundle as { keys?: unknown }).keys;
  if (typeof bundle !== 'object' || bundle === null || !Array.isArray(keys)) {
    report(path, 'a SPIFFE bundle is a JSON object with a "keys" array');
  }
}
