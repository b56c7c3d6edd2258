import { describe, expect, it } from 'vitest';
import { renderAgentConfig } from '../../spire/config/agent-config';
import { renderControllerManagerConfig } from '../../spire/config/controller-manager-config';
import { renderServerConfig } from '../../spire/config/server-config';
import {
  kubernetesAgentPlacement,
  kubernetesControllerManagerPlacement,
  kubernetesServerPlacement,
} from '../../spire/kubernetes/placement';
import { EXAMPLE_FEDERATION, resolveTopology, type TrustDomain } from '../../topology';
import { PEER_EDGE, processServerPlacement, rendererVariants } from './config-variants';

const [dir, dirctl] = resolveTopology(EXAMPLE_FEDERATION).trustDomains as [TrustDomain, TrustDomain];

type Json = Record<string, any>;

describe('server.conf', () => {
  it('attests agents of every attested cluster by their service account and token audience', () => {
    const config = renderServerConfig(dir, kubernetesServerPlacement(dir)) as Json;
    expect(config.plugins.NodeAttestor).toEqual([
      {
        k8s_psat: {
          plugin_data: {
            clusters: {
              'dir-example': { service_account_allow_list: ['spire-agent:spire-agent'], audience: ['spire-server'] },
            },
          },
        },
      },
    ]);
  });

  it('publishes the bundle to the ConfigMap agents bootstrap from', () => {
    const config = renderServerConfig(dir, kubernetesServerPlacement(dir)) as Json;
    expect(config.plugins.BundlePublisher[0].k8s_configmap.plugin_data.clusters['dir-example']).toEqual({
      format: 'spiffe',
      namespace: 'spire-agent',
      configmap_name: 'spire-bundle',
      configmap_key: 'bundle.spiffe',
    });
  });

  it('serves an explicit https_spiffe bundle endpoint and leaves relationships to the controller manager on Kubernetes', () => {
    const config = renderServerConfig(dir, kubernetesServerPlacement(dir)) as Json;
    expect(config.server.federation).toEqual({
      bundle_endpoint: { address: '0.0.0.0', port: 8443, refresh_hint: '5m', profile: [{ https_spiffe: {} }] },
    });
  });

  it('writes static relationships with the peer endpoint ID for local processes', () => {
    const config = renderServerConfig(dirctl, processServerPlacement('/tmp/x')) as Json;
    expect(config.server.federation.federates_with).toEqual({
      'dir.example': {
        bundle_endpoint_url: 'https://dir-example-control-plane:32443',
        bundle_endpoint_profile: [{ https_spiffe: { endpoint_spiffe_id: 'spiffe://dir.example/spire/server' } }],
      },
    });
    expect(config.server.federation.bundle_endpoint.port).toBe(18443);
  });

  it('renders no federation section for a domain that does not federate', () => {
    const [, solo] = rendererVariants().find(([name]) => name.startsWith('standalone'))!;
    const config = renderServerConfig(solo, kubernetesServerPlacement(solo)) as Json;
    expect(config.server.federation).toBeUndefined();
  });

  it('reads the postgres connection string from the environment, never from the manifest', () => {
    const [, ha] = rendererVariants().find(([name]) => name.startsWith('postgres'))!;
    const config = renderServerConfig(ha, kubernetesServerPlacement(ha)) as Json;
    expect(config.plugins.DataStore[0].sql.plugin_data).toEqual({
      database_type: 'postgres',
      connection_string: '${SPIRE_DATASTORE_CONNECTION_STRING}',
    });
  });

  it('refuses a model feature the placement cannot serve', () => {
    const [, up] = rendererVariants().find(([name]) => name.startsWith('upstream'))!;
    expect(() => renderServerConfig(up, processServerPlacement('/tmp/x'))).toThrow(
      /trust domain up\.example has an UpstreamAuthority but its placement gives no certificate files/,
    );
    expect(up.federatesWith[0]?.bundleEndpointUrl).toBe(PEER_EDGE.bundleEndpointUrl);
  });

  it('takes TTLs and CA key type from the model', () => {
    const config = renderServerConfig(dir, kubernetesServerPlacement(dir)) as Json;
    expect(config.server).toMatchObject({
      trust_domain: 'dir.example',
      ca_key_type: 'ec-p256',
      ca_ttl: '24h',
      default_x509_svid_ttl: '1h',
      default_jwt_svid_ttl: '5m',
    });
  });
});

describe('agent.conf', () => {
  it('dials the server Service and presents the cluster name the server attests', () => {
    const agent = renderAgentConfig(dir, kubernetesAgentPlacement(dir)) as Json;
    const server = renderServerConfig(dir, kubernetesServerPlacement(dir)) as Json;
    expect(agent.agent.server_address).toBe('spire-server.spire-system');
    const cluster = agent.plugins.NodeAttestor[0].k8s_psat.plugin_data.cluster;
    expect(Object.keys(server.plugins.NodeAttestor[0].k8s_psat.plugin_data.clusters)).toContain(cluster);
  });

  it('bootstraps trust from the bundle the server publishes', () => {
    const agent = renderAgentConfig(dir, kubernetesAgentPlacement(dir)) as Json;
    expect(agent.agent).toMatchObject({ trust_bundle_path: '/run/spire/bundle/bundle.spiffe', trust_bundle_format: 'spiffe' });
  });
});

describe('controller manager config', () => {
  it('always sets className, clusterName and entryIDPrefix from the model', () => {
    const config = renderControllerManagerConfig(dirctl, kubernetesControllerManagerPlacement(dirctl));
    expect(config).toMatchObject({
      trustDomain: 'dirctl.example',
      className: 'dir-spire',
      clusterName: 'dirctl-example',
      entryIDPrefix: 'dirctl-example.',
      watchClassless: false,
    });
  });

  it('renders parent IDs that match the agent IDs k8s_psat gives', () => {
    const config = renderControllerManagerConfig(dir, kubernetesControllerManagerPlacement(dir));
    expect(config.parentIDTemplate).toBe('spiffe://{{ .TrustDomain }}/spire/agent/k8s_psat/{{ .ClusterName }}/{{ .NodeMeta.UID }}');
  });
});
