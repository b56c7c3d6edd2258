import type { FederationEdge, TrustDomain } from '../../topology/model';
import { bundleEndpointUrlOf } from '../../topology/resolve';
import { addPlugin, labelledBlock, renderObservability, type PluginBlocks } from './blocks';
import type { ServerPlacement } from './placement';

/** Renders a trust domain's `server.conf` (in SPIRE's JSON form) for one placement. */
export function renderServerConfig(td: TrustDomain, placement: ServerPlacement): Record<string, unknown> {
  const server: Record<string, unknown> = {
    trust_domain: td.name,
    bind_address: placement.bindAddress,
    bind_port: placement.bindPort,
    socket_path: placement.socketPath,
    data_dir: placement.dataDir,
    log_level: td.server.logLevel,
    log_format: 'json',
    ca_key_type: td.server.caKeyType,
    ca_ttl: td.server.caTtl,
    ca_subject: { country: ['US'], organization: ['dirtk'], common_name: td.name },
    default_x509_svid_ttl: td.server.x509SvidTtl,
    default_jwt_svid_ttl: td.server.jwtSvidTtl,
    audit_log_enabled: true,
  };
  const federation = renderFederation(td, placement);
  if (federation) server.federation = federation;

  return { server, plugins: renderServerPlugins(td, placement), ...renderObservability(placement) };
}

function renderServerPlugins(td: TrustDomain, placement: ServerPlacement): PluginBlocks {
  const plugins: PluginBlocks = {};
  addPlugin(plugins, 'DataStore', 'sql', renderDatastore(td, placement));
  addPlugin(
    plugins,
    'KeyManager',
    td.server.keyManager,
    td.server.keyManager === 'disk' ? { keys_path: `${placement.dataDir}/keys.json` } : {},
  );

  const attestor = placement.nodeAttestor;
  switch (attestor.type) {
    case 'k8s_psat':
      addPlugin(plugins, 'NodeAttestor', 'k8s_psat', {
        clusters: Object.fromEntries(
          td.server.attestedClusters.map((cluster) => [
            cluster,
            { service_account_allow_list: [attestor.agentServiceAccount], audience: [attestor.audience] },
          ]),
        ),
      });
      break;
    case 'join_token':
      addPlugin(plugins, 'NodeAttestor', 'join_token', {});
      break;
    case 'x509pop':
      addPlugin(plugins, 'NodeAttestor', 'x509pop', { ca_bundle_path: attestor.caBundlePath });
      break;
  }

  if (td.server.upstreamAuthority) {
    const files = placement.upstreamAuthority;
    if (!files) {
      throw new Error(`trust domain ${td.name} has an UpstreamAuthority but its placement gives no certificate files`);
    }
    addPlugin(plugins, 'UpstreamAuthority', 'disk', {
      cert_file_path: files.certFile,
      key_file_path: files.keyFile,
      bundle_file_path: files.bundleFile,
    });
  }

  if (placement.bundleConfigMap) {
    const { namespace, name, key } = placement.bundleConfigMap;
    addPlugin(plugins, 'BundlePublisher', 'k8s_configmap', {
      clusters: {
        [td.clusterName]: { format: 'spiffe', namespace, configmap_name: name, configmap_key: key },
      },
    });
  }
  return plugins;
}

function renderDatastore(td: TrustDomain, placement: ServerPlacement): Record<string, unknown> {
  if (td.server.datastore.type === 'sqlite') {
    return {
      database_type: 'sqlite3',
      connection_string: `${placement.dataDir}/datastore.sqlite3`,
      max_open_conns: 100,
      max_idle_conns: 2,
    };
  }
  if (placement.postgresConnectionString === undefined) {
    throw new Error(`trust domain ${td.name} uses postgres but its placement gives no connection string`);
  }
  return { database_type: 'postgres', connection_string: placement.postgresConnectionString };
}

function renderFederation(td: TrustDomain, placement: ServerPlacement): Record<string, unknown> | undefined {
  const federation: Record<string, unknown> = {};
  const endpoint = td.bundleEndpoint;
  if (endpoint) {
    federation.bundle_endpoint = {
      address: placement.bundleEndpointAddress,
      port: placement.bundleEndpointPort ?? endpoint.port,
      refresh_hint: endpoint.refreshHint,
      profile: endpoint.profile === 'https_spiffe' ? labelledBlock('https_spiffe') : renderHttpsWebProfile(td, placement),
    };
  }
  if (placement.federationRelationships === 'static' && td.federatesWith.length > 0) {
    federation.federates_with = Object.fromEntries(td.federatesWith.map((edge) => [edge.trustDomain, renderRelationship(td, edge)]));
  }
  return Object.keys(federation).length > 0 ? federation : undefined;
}

function renderHttpsWebProfile(td: TrustDomain, placement: ServerPlacement) {
  const cert = placement.bundleEndpointServingCert;
  if (!cert) {
    throw new Error(`trust domain ${td.name} serves its bundle with https_web but its placement gives no serving certificate`);
  }
  return labelledBlock('https_web', {
    // SPIRE 1.15 fails on an absent interval (it parses the empty string) instead of applying its 1h default.
    serving_cert_file: { cert_file_path: cert.certFile, key_file_path: cert.keyFile, file_sync_interval: '1h' },
  });
}

function renderRelationship(td: TrustDomain, edge: FederationEdge): Record<string, unknown> {
  return {
    bundle_endpoint_url: bundleEndpointUrlOf(td, edge),
    bundle_endpoint_profile:
      edge.profile === 'https_spiffe'
        ? labelledBlock('https_spiffe', { endpoint_spiffe_id: edge.endpointSpiffeId })
        : labelledBlock('https_web'),
  };
}
