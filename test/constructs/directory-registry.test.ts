import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { registryTokenKeyId } from '@dirtk/directory-api/contract';
import { DIRECTORY_API_SERVER, DIRECTORY_REGISTRY, DirectoryApiServer, DirectoryRegistry, REGISTRY_IMAGE, TrustDomainChart } from '../../constructs';
import { resolveTopology, TopologyError, type TrustDomain } from '../../topology';
import { expectNonRoot } from './assertions';
import { containers, DIR, DIR_ON_REGISTRY, DIRCTL_ON_REGISTRY, find, REGISTRY, synth, TOKEN_KEYS, volume, type Manifest } from './fixtures';
import { kubernetesSchemaError } from './schemas';
import { Testing } from 'cdk8s';
import { loadConfig } from '../../apps/apiserver/src/config';

function buildRegistry(td: TrustDomain = DIR_ON_REGISTRY) {
  const objects = synth((chart) => new DirectoryRegistry(chart, 'Registry', { trustDomain: td }));
  const deployment = find(objects, 'Deployment', DIRECTORY_REGISTRY.name);
  const configMap = find(objects, 'ConfigMap', DIRECTORY_REGISTRY.configMap);
  return { objects, deployment, configMap, container: containers(deployment)[DIRECTORY_REGISTRY.containerName]!, config: parse(configMap.data[DIRECTORY_REGISTRY.configFile]) as Manifest };
}

function buildApiServer(td: TrustDomain, syncPeers: readonly string[] = []) {
  const objects = synth((chart) => new DirectoryApiServer(chart, 'ApiServer', { trustDomain: td, syncPeers }));
  const deployment = find(objects, 'Deployment', DIRECTORY_API_SERVER.name);
  const container = containers(deployment)[DIRECTORY_API_SERVER.containerName]!;
  const env = Object.fromEntries((container.env as Manifest[]).map((e) => [e.name, e.value]));
  return { objects, deployment, container, env };
}

describe('DirectoryRegistry', () => {
  it('matches the snapshot for dir.example', () => {
    expect(buildRegistry().objects).toMatchSnapshot();
  });

  it('conforms to the Kubernetes schemas', () => {
    const errors = buildRegistry().objects.flatMap((o) => {
      const error = kubernetesSchemaError(o);
      return error ? [`${o.kind} ${o.metadata.name}: ${error}`] : [];
    });
    expect(errors).toEqual([]);
  });

  it('runs hardened: non-root, read-only root, no token, no service links', () => {
    const { deployment, container } = buildRegistry();
    const pod = deployment.spec.template.spec as Manifest;
    expectNonRoot(container);
    expect(pod.securityContext).toMatchObject({ runAsNonRoot: true, runAsUser: REGISTRY_IMAGE.uid, seccompProfile: { type: 'RuntimeDefault' } });
    expect(pod.automountServiceAccountToken).toBe(false);
    expect(pod.enableServiceLinks).toBe(false);
    expect(pod.hostNetwork).toBeUndefined();
    expect(container.image).toBe(REGISTRY_IMAGE.tag);
    expect(container.args).toEqual(['serve', `${DIRECTORY_REGISTRY.configDir}/${DIRECTORY_REGISTRY.configFile}`]);
  });

  it('sends clients to the apiserver token realm on the node address and trusts only the topology’s public keys', () => {
    const { config, configMap } = buildRegistry();
    expect(config.auth.token).toMatchObject({
      realm: 'http://172.18.0.2:30880/registry/token',
      service: 'dirtk-registry.dir.example',
      jwks: `${DIRECTORY_REGISTRY.configDir}/${DIRECTORY_REGISTRY.jwksFile}`,
    });
    const jwks = JSON.parse(configMap.data[DIRECTORY_REGISTRY.jwksFile]) as { keys: Manifest[] };
    expect(jwks.keys.map((key) => key.kid)).toEqual([registryTokenKeyId(TOKEN_KEYS[0])]);
    expect(JSON.stringify(configMap.data)).not.toContain('"d"');
  });

  it('is reachable from other clusters on its node port', () => {
    const { objects } = buildRegistry();
    const service = find(objects, 'Service', DIRECTORY_REGISTRY.name);
    expect(service.spec.type).toBe('NodePort');
    expect(service.spec.ports).toEqual([{ name: 'registry', port: 5000, targetPort: 'registry', protocol: 'TCP', nodePort: 30500 }]);
  });

  it('refuses a domain whose apiserver has no registry in the topology, as a topology problem', () => {
    const withoutRegistry = resolveTopology({
      trustDomains: [{ name: 'registry.example', clusterName: 'registry', apiserver: { store: 'registry', replicas: 2 } }],
    }).trustDomains[0]!;
    for (const td of [withoutRegistry, DIR]) {
      let failure: unknown;
      try {
        buildRegistry(td);
      } catch (error) {
        failure = error;
      }
      expect(failure).toBeInstanceOf(TopologyError);
      expect((failure as TopologyError).problems).toEqual([{ path: `trust domain ${td.name}: apiserver.registry`, message: expect.stringContaining('externalHost') }]);
    }
  });
});

describe('DirectoryApiServer on the registry store', () => {
  it('matches the snapshot for dir.example', () => {
    expect(buildApiServer(DIR_ON_REGISTRY, ['172.18.0.3:30888=spiffe://dirctl.example/ns/dir/sa/dir-apiserver']).objects).toMatchSnapshot();
  });

  it('conforms to the Kubernetes schemas', () => {
    const errors = buildApiServer(DIR_ON_REGISTRY)
      .objects.filter((o) => o.kind !== 'ClusterSPIFFEID')
      .flatMap((o) => {
        const error = kubernetesSchemaError(o);
        return error ? [`${o.kind} ${o.metadata.name}: ${error}`] : [];
      });
    expect(errors).toEqual([]);
  });

  it('stores in its registry, advertises it on the node address and signs tokens with the Secret’s key', () => {
    const { env, container, deployment } = buildApiServer(DIR_ON_REGISTRY);
    expect(env).toMatchObject({
      DIRTK_APISERVER_STORE_REGISTRY_URL: 'http://dir-registry.dir.svc:5000',
      DIRTK_APISERVER_REGISTRY_ADDRESS: '172.18.0.2:30500',
      DIRTK_APISERVER_REGISTRY_INSECURE: 'true',
      DIRTK_APISERVER_REGISTRY_SERVICE: 'dirtk-registry.dir.example',
      DIRTK_APISERVER_REGISTRY_TOKEN_KEY_FILE: `${DIRECTORY_API_SERVER.registryTokenKeyDir}/${DIRECTORY_REGISTRY.tokenKeyFile}`,
    });
    expect(env).not.toHaveProperty('DIRTK_APISERVER_SYNC_PEERS');
    expect(container.volumeMounts).toContainEqual({ name: 'registry-token-key', mountPath: DIRECTORY_API_SERVER.registryTokenKeyDir, readOnly: true });
    expect(volume(deployment, 'registry-token-key').secret).toEqual({
      secretName: 'dir-registry-token-key',
      items: [{ key: DIRECTORY_REGISTRY.tokenKeyFile, path: DIRECTORY_REGISTRY.tokenKeyFile }],
      defaultMode: 0o400,
    });
  });

  it('renders settings the apiserver accepts', () => {
    const { env } = buildApiServer(DIR_ON_REGISTRY, ['172.18.0.3:30888=spiffe://dirctl.example/ns/dir/sa/dir-apiserver']);
    const config = loadConfig(env);
    expect(config.storeRegistryUrl).toBe('http://dir-registry.dir.svc:5000');
    expect(config.registry).toMatchObject({ address: '172.18.0.2:30500', insecure: true, service: 'dirtk-registry.dir.example' });
    expect(config.sync.peers.addresses).toEqual(['172.18.0.3:30888']);
  });

  it('puts only the token realm’s HTTP port on a node port, besides the gRPC Service', () => {
    const { objects } = buildApiServer(DIR_ON_REGISTRY);
    const tokenService = find(objects, 'Service', DIRECTORY_API_SERVER.tokenServiceName);
    expect(tokenService.spec.type).toBe('NodePort');
    expect(tokenService.spec.ports).toEqual([{ name: 'http', port: DIRECTORY_API_SERVER.httpPort, targetPort: 'http', protocol: 'TCP', nodePort: 30880 }]);
    expect(find(objects, 'Deployment', DIRECTORY_REGISTRY.name)).toBeDefined();
    expect(objects.filter((o) => o.kind === 'Secret')).toEqual([]);
  });

  it('refuses sync peers on the filesystem store', () => {
    expect(() => buildApiServer(DIR, ['172.18.0.3:30888=spiffe://dirctl.example/ns/dir/sa/dir-apiserver'])).toThrow(/syncPeers need apiserver.store 'registry'/);
  });

  it('syncs, in the trust domain chart, from each federated peer’s apiserver on its node address', () => {
    const chart = new TrustDomainChart(Testing.app(), 'dir', { topology: REGISTRY, trustDomain: 'dir.example' });
    const env = Object.fromEntries((chart.apiServer!.container.env ?? []).map((e) => [e.name, e.value]));
    expect(env.DIRTK_APISERVER_SYNC_PEERS).toBe(`172.18.0.3:30888=${DIRCTL_ON_REGISTRY.apiserver!.spiffeId}`);
  });
});
