import type { TrustDomain } from '../../topology/model';
import { addPlugin, renderObservability, type PluginBlocks } from './blocks';
import type { AgentPlacement } from './placement';

/** Renders a trust domain's `agent.conf` (in SPIRE's JSON form) for one placement. */
export function renderAgentConfig(td: TrustDomain, placement: AgentPlacement): Record<string, unknown> {
  return {
    agent: {
      trust_domain: td.name,
      server_address: placement.serverAddress,
      server_port: placement.serverPort,
      socket_path: placement.socketPath,
      data_dir: placement.dataDir,
      trust_bundle_path: placement.trustBundlePath,
      trust_bundle_format: placement.trustBundleFormat,
      log_level: td.agent.logLevel,
      log_format: 'json',
    },
    plugins: renderAgentPlugins(td, placement),
    ...renderObservability(placement),
  };
}

function renderAgentPlugins(td: TrustDomain, placement: AgentPlacement): PluginBlocks {
  const plugins: PluginBlocks = {};
  addPlugin(plugins, 'KeyManager', placement.keyManager, placement.keyManager === 'disk' ? { directory: placement.dataDir } : {});

  const attestor = placement.nodeAttestor;
  switch (attestor.type) {
    case 'k8s_psat':
      addPlugin(plugins, 'NodeAttestor', 'k8s_psat', { cluster: td.agent.clusterName, token_path: attestor.tokenPath });
      break;
    case 'join_token':
      addPlugin(plugins, 'NodeAttestor', 'join_token', {});
      break;
    case 'x509pop':
      addPlugin(plugins, 'NodeAttestor', 'x509pop', {
        private_key_path: attestor.privateKeyPath,
        certificate_path: attestor.certificatePath,
      });
      break;
  }

  if (placement.workloadAttestor.type === 'k8s') {
    addPlugin(plugins, 'WorkloadAttestor', 'k8s', {
      skip_kubelet_verification: true,
      use_new_container_locator: true,
      disable_container_selectors: false,
    });
  } else if (placement.workloadAttestor.discoverWorkloadPath) {
    addPlugin(plugins, 'WorkloadAttestor', 'unix', { discover_workload_path: true, workload_size_limit: -1 });
  } else {
    addPlugin(plugins, 'WorkloadAttestor', 'unix', {});
  }
  return plugins;
}
