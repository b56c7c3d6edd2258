import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import type { TrustDomain } from '../topology/model';
import { renderServerConfig } from '../spire/config/server-config';
import { serializeSpireConfig } from '../spire/config/blocks';
import { BUNDLE, SERVER } from '../spire/kubernetes/layout';
import { kubernetesServerPlacement } from '../spire/kubernetes/placement';
import { IMAGES } from '../spire/versions';
import { IMAGE_PULL_POLICY, nonRootPodSecurityContext, nonRootSecurityContext, resources } from './hardening';
import { grantClusterRole, grantRole, type ClusterRoleGrant, type RoleGrant } from './rbac';
import type { SpireControllerManager } from './spire-controller-manager';
import { appLabels, httpProbes } from './workload';

export interface SpireServerProps {
  /** The trust domain this server is the authority of (from the resolved topology). */
  readonly trustDomain: TrustDomain;
  /**
   * A controller manager to run as a sidecar, sharing the server API socket.
   * @default - none
   */
  readonly controllerManager?: SpireControllerManager;
  /**
   * The spire-server image.
   * @default IMAGES.spireServer
   */
  readonly image?: string;
  /**
   * Resources of the spire-server container.
   * @default 50m/64Mi requested, 500m/256Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
  /**
   * Size of each replica's data volume (sqlite datastore and disk keys).
   * @default '1Gi'
   */
  readonly storageSize?: string;
}

/** uid and gid of the server pod, as in SPIRE's hardened chart; the controller manager sidecar shares them to use the socket. */
const SERVER_UID = 1000;
const SOCKET_VOLUME = 'spire-server-socket';
const SECRET_MODE = 0o440;

/**
 * A SPIRE server: a StatefulSet (replicas from the model) with a persistent data volume per replica,
 * `server.conf` rendered from the model, `k8s_psat` node attestation with its TokenReview RBAC, bundle
 * publishing to the `spire-bundle` ConfigMap that agents bootstrap from, and the Service agents dial.
 *
 * When the domain has a bundle endpoint, the pod serves it on the federation port and a NodePort or
 * LoadBalancer Service exposes it to peers in other clusters. The upstream CA Secret, the `https_web`
 * serving certificate Secret and the postgres connection string Secret are wired in when the model uses them.
 *
 * Every container runs as uid 1000 without privileges or capabilities. With the controller manager sidecar
 * the pod shares its process namespace, as the upstream chart does: SPIRE authenticates callers of its
 * admin socket by their process (SO_PEERCRED, then /proc/<pid>), and a caller in another PID namespace
 * shows up as pid 0, so the sidecar's every call would fail ("could not resolve caller information").
 * Without capabilities and under the kernel's default ptrace restrictions the sidecar still cannot read
 * the server's memory.
 */
export class SpireServer extends Construct {
  /** `server.conf` as SPIRE reads it. */
  public readonly config: string;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly configMap: k8s.KubeConfigMap;
  /** TokenReview and pod/node reads for `k8s_psat`. */
  public readonly clusterRole: ClusterRoleGrant;
  /** Creates and updates the `spire-bundle` ConfigMap. */
  public readonly bundleRole: RoleGrant;
  public readonly statefulSet: k8s.KubeStatefulSet;
  /** `spire-server`: the Service agents dial (443 → gRPC). */
  public readonly service: k8s.KubeService;
  /** `spire-server-bundle-endpoint`, present when the domain serves a bundle endpoint. */
  public readonly bundleEndpointService?: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: SpireServerProps) {
    super(scope, id);
    const td = props.trustDomain;
    const namespace = td.namespaces.spire;
    const labels = appLabels(SERVER.name);
    const serviceAccount = { name: SERVER.serviceAccount, namespace };

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: serviceAccount,
      automountServiceAccountToken: false,
    });
    this.config = serializeSpireConfig(renderServerConfig(td, kubernetesServerPlacement(td)));
    this.configMap = new k8s.KubeConfigMap(this, 'ConfigMap', {
      metadata: { name: SERVER.configMap, namespace },
      data: { [SERVER.configFile]: this.config },
    });
    this.clusterRole = grantClusterRole(
      this,
      'NodeAttestation',
      `${namespace}-${SERVER.name}`,
      [
        { apiGroups: ['authentication.k8s.io'], resources: ['tokenreviews'], verbs: ['create'] },
        { apiGroups: [''], resources: ['nodes', 'pods'], verbs: ['get'] },
      ],
      serviceAccount,
    );
    this.bundleRole = grantRole(
      this,
      'BundlePublisher',
      `${SERVER.name}-bundle`,
      [
        // SPIRE's k8s_configmap publisher uses server-side apply; an apply that creates the ConfigMap is
        // authorized as `create` with the name (k8s.io/apiserver handlers/patch.go), so even `create` is
        // scoped to this one ConfigMap.
        { apiGroups: [''], resources: ['configmaps'], resourceNames: [BUNDLE.configMap], verbs: ['create', 'get', 'patch'] },
      ],
      serviceAccount,
      // The agents mount the bundle, so it is published in their namespace.
      td.namespaces.agent,
    );

    const endpoint = td.bundleEndpoint;
    const mounts: k8s.VolumeMount[] = [
      { name: 'spire-config', mountPath: SERVER.configDir, readOnly: true },
      { name: SERVER.dataVolumeClaim, mountPath: SERVER.dataDir },
      { name: SOCKET_VOLUME, mountPath: SERVER.socketDir },
      { name: 'spire-server-tmp', mountPath: '/tmp' },
    ];
    const volumes: k8s.Volume[] = [
      { name: 'spire-config', configMap: { name: SERVER.configMap } },
      { name: SOCKET_VOLUME, emptyDir: { sizeLimit: k8s.Quantity.fromString('1Mi') } },
      { name: 'spire-server-tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
    ];
    const mountSecret = (name: string, secretName: string, mountPath: string) => {
      mounts.push({ name, mountPath, readOnly: true });
      volumes.push({ name, secret: { secretName, defaultMode: SECRET_MODE } });
    };
    if (td.server.upstreamAuthority) mountSecret('upstream-ca', td.server.upstreamAuthority.secretName, SERVER.upstreamCaDir);
    if (endpoint?.servingCertSecret !== undefined) mountSecret('bundle-endpoint-tls', endpoint.servingCertSecret, SERVER.servingCertDir);

    const datastore = td.server.datastore;
    const server: k8s.Container = {
      name: SERVER.name,
      image: props.image ?? IMAGES.spireServer,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: ['-expandEnv', '-config', `${SERVER.configDir}/${SERVER.configFile}`],
      ...(datastore.type === 'postgres' && {
        env: [
          {
            name: SERVER.postgresEnv,
            valueFrom: { secretKeyRef: { name: datastore.connectionStringSecret, key: 'connection-string' } },
          },
        ],
      }),
      ports: [
        { name: 'grpc', containerPort: SERVER.grpcPort, protocol: 'TCP' },
        { name: 'healthz', containerPort: SERVER.healthPort, protocol: 'TCP' },
        { name: 'metrics', containerPort: SERVER.metricsPort, protocol: 'TCP' },
        ...(endpoint ? [{ name: 'federation', containerPort: endpoint.port, protocol: 'TCP' }] : []),
      ],
      ...httpProbes('healthz', '/live', '/ready'),
      resources: props.resources ?? resources(['50m', '500m'], ['64Mi', '256Mi']),
      securityContext: nonRootSecurityContext(),
      volumeMounts: mounts,
    };
    const sidecar = props.controllerManager;
    const containers = [server];
    if (sidecar) {
      containers.push({
        ...sidecar.container,
        volumeMounts: [...(sidecar.container.volumeMounts ?? []), { name: SOCKET_VOLUME, mountPath: SERVER.socketDir, readOnly: true }],
      });
      volumes.push(...sidecar.volumes);
    }

    this.statefulSet = new k8s.KubeStatefulSet(this, 'StatefulSet', {
      metadata: { name: SERVER.name, namespace, labels },
      spec: {
        replicas: td.server.replicas,
        serviceName: SERVER.name,
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: SERVER.serviceAccount,
            // k8s_psat reviews tokens, the bundle publisher writes a ConfigMap, the controller manager watches the API.
            automountServiceAccountToken: true,
            securityContext: nonRootPodSecurityContext(SERVER_UID),
            ...(props.controllerManager && { shareProcessNamespace: true }),
            containers,
            volumes,
          },
        },
        volumeClaimTemplates: [
          {
            metadata: { name: SERVER.dataVolumeClaim },
            spec: {
              accessModes: ['ReadWriteOnce'],
              resources: { requests: { storage: k8s.Quantity.fromString(props.storageSize ?? '1Gi') } },
            },
          },
        ],
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name: SERVER.name, namespace, labels },
      spec: {
        type: 'ClusterIP',
        selector: labels,
        ports: [{ name: 'grpc', port: SERVER.servicePort, targetPort: k8s.IntOrString.fromString('grpc'), protocol: 'TCP' }],
      },
    });
    if (endpoint) {
      this.bundleEndpointService = new k8s.KubeService(this, 'BundleEndpointService', {
        metadata: { name: SERVER.bundleEndpointService, namespace, labels },
        spec: {
          type: endpoint.serviceType,
          selector: labels,
          ports: [
            {
              name: 'federation',
              port: endpoint.port,
              targetPort: k8s.IntOrString.fromString('federation'),
              protocol: 'TCP',
              ...(endpoint.serviceType === 'NodePort' && { nodePort: endpoint.nodePort }),
            },
          ],
        },
      });
    }
  }
}
