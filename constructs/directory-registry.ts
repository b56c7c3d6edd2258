import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { REGISTRY_TOKEN_PATH } from '@dirtk/directory-api/contract';
import { registryJwks, renderRegistryConfig } from '../registry/config';
import type { ApiServerRegistry, TrustDomain } from '../topology/model';
import { TopologyError } from '../topology/resolve';
import { registryService } from '../topology/sync-peers';
import { IMAGE_PULL_POLICY, nonRootPodSecurityContext, nonRootSecurityContext, resources } from './hardening';
import { appLabels } from './workload';

/** The registry image (`kind/images/registry-image.ts` builds it from the project's Distribution build). */
export const REGISTRY_IMAGE = {
  tag: 'dirtk/registry:dev',
  binary: '/usr/local/bin/registry',
  uid: 65532,
} as const;

/** Well-known names, paths and ports of a Directory's OCI registry. */
export const DIRECTORY_REGISTRY = {
  /** ServiceAccount, Deployment, Service and pod label `app.kubernetes.io/name`. */
  name: 'dir-registry',
  containerName: 'registry',
  configMap: 'dir-registry-config',
  configDir: '/etc/distribution',
  configFile: 'config.yml',
  jwksFile: 'jwks.json',
  storageDir: '/var/lib/registry',
  portName: 'registry',
  port: 5000,
  /** The key of the token-signing Secret (`ApiServerRegistry.tokenKeySecret`) holding the private key. */
  tokenKeyFile: 'registry-token.key',
} as const;

/** Where `td`'s registry serves inside its cluster: the apiserver's `storeRegistryUrl`. */
export function inClusterRegistryUrl(td: TrustDomain): string {
  return `http://${DIRECTORY_REGISTRY.name}.${td.namespaces.directory}.svc:${DIRECTORY_REGISTRY.port}`;
}

/** `host:port` of the registry as peers in other clusters reach it: the apiserver's `registryAddress`. */
export function externalRegistryAddress(registry: ApiServerRegistry): string {
  return `${registry.externalHost}:${registry.nodePort}`;
}

/** The apiserver's token service as the registry names it to every client, in this cluster or another. */
export function externalTokenRealm(registry: ApiServerRegistry): string {
  return `http://${registry.externalHost}:${registry.tokenNodePort}${REGISTRY_TOKEN_PATH}`;
}

/** The registry of `td`'s apiserver; throws a TopologyError naming what the topology lacks. */
export function registryOf(td: TrustDomain): ApiServerRegistry {
  const registry = td.apiserver?.registry;
  if (td.apiserver?.store !== 'registry' || registry === undefined) {
    throw new TopologyError([
      {
        path: `trust domain ${td.name}: apiserver.registry`,
        message:
          "on Kubernetes the registry store needs apiserver.store: 'registry' and apiserver.registry: the externalHost peers reach " +
          'the node ports at, and the trustedKeys (public halves of the token-signing key)',
      },
    ]);
  }
  return registry;
}

export interface DirectoryRegistryProps {
  /** The trust domain whose apiserver stores its records here: `apiserver.store` 'registry' with `apiserver.registry` set. */
  readonly trustDomain: TrustDomain;
  /**
   * Upper bound of the storage volume.
   * @default '1Gi'
   */
  readonly storageSizeLimit?: string;
  /**
   * Resources of the registry container.
   * @default 20m/32Mi requested, 500m/256Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * The OCI registry (CNCF Distribution) a Directory stores its records in, and peers in other clusters sync
 * them from: a ConfigMap with the rendered configuration (`registry/config.ts`) and the JWKS of the
 * token-signing keys it trusts (public halves only, from the topology), a one-replica Deployment and a
 * NodePort Service on `apiserver.registry.nodePort`.
 *
 * Every request needs a bearer token from the apiserver's token service, whose realm
 * (`externalTokenRealm`) is on the node address so that peers in other clusters reach it too.
 *
 * **Pod.** Non-root (uid 65532), read-only root filesystem, no capabilities, no privilege escalation,
 * seccomp `RuntimeDefault`, no service-account token, no service environment links (Distribution reads
 * `REGISTRY_*` variables as settings, and a Service's links would inject some). The storage is a pod-lifetime
 * volume: the records live as long as the pod, as with the apiserver's default storage.
 */
export class DirectoryRegistry extends Construct {
  public readonly registry: ApiServerRegistry;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly configMap: k8s.KubeConfigMap;
  public readonly container: k8s.Container;
  public readonly deployment: k8s.KubeDeployment;
  public readonly service: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: DirectoryRegistryProps) {
    super(scope, id);
    const td = props.trustDomain;
    const registry = registryOf(td);
    this.registry = registry;
    const namespace = td.namespaces.directory;
    const labels = appLabels(DIRECTORY_REGISTRY.name);
    const { configDir, configFile, jwksFile, portName, port, storageDir } = DIRECTORY_REGISTRY;

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: DIRECTORY_REGISTRY.name, namespace },
      automountServiceAccountToken: false,
    });

    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name: DIRECTORY_REGISTRY.configMap, namespace, labels },
      data: {
        [configFile]: renderRegistryConfig({
          listen: `0.0.0.0:${port}`,
          storageDir,
          tokenRealm: externalTokenRealm(registry),
          service: registryService(td),
          jwksFile: `${configDir}/${jwksFile}`,
          trustedKeys: registry.trustedKeys,
          deleteEnabled: true,
        }),
        [jwksFile]: registryJwks(registry.trustedKeys),
      },
    });

    this.container = {
      name: DIRECTORY_REGISTRY.containerName,
      image: REGISTRY_IMAGE.tag,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: ['serve', `${configDir}/${configFile}`],
      ports: [{ name: portName, containerPort: port, protocol: 'TCP' }],
      // Every HTTP path answers 401 without a token, so the probes only check that the port accepts.
      livenessProbe: { tcpSocket: { port: k8s.IntOrString.fromString(portName) }, initialDelaySeconds: 5, periodSeconds: 30, timeoutSeconds: 3, failureThreshold: 3 },
      readinessProbe: { tcpSocket: { port: k8s.IntOrString.fromString(portName) }, initialDelaySeconds: 1, periodSeconds: 5, timeoutSeconds: 3 },
      resources: props.resources ?? resources(['20m', '500m'], ['32Mi', '256Mi']),
      securityContext: nonRootSecurityContext(),
      volumeMounts: [
        { name: 'config', mountPath: configDir, readOnly: true },
        { name: 'storage', mountPath: storageDir },
      ],
    };

    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name: DIRECTORY_REGISTRY.name, namespace, labels },
      spec: {
        replicas: 1,
        // One pod owns the storage volume.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: DIRECTORY_REGISTRY.name,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: nonRootPodSecurityContext(REGISTRY_IMAGE.uid),
            containers: [this.container],
            volumes: [
              { name: 'config', configMap: { name: DIRECTORY_REGISTRY.configMap } },
              { name: 'storage', emptyDir: { sizeLimit: k8s.Quantity.fromString(props.storageSizeLimit ?? '1Gi') } },
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name: DIRECTORY_REGISTRY.name, namespace, labels },
      spec: {
        type: 'NodePort',
        selector: labels,
        ports: [{ name: portName, port, targetPort: k8s.IntOrString.fromString(portName), protocol: 'TCP', nodePort: registry.nodePort }],
      },
    });
  }
}
