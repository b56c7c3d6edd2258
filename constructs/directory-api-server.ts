import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';
import { apiserverEnvironment, DEFAULT_HTTP_PORT, defaultPolicyYaml } from '@dirtk/directory-api/contract';
import type { ApiServer, TrustDomain } from '../topology/model';
import { registryService } from '../topology/sync-peers';
import { DIRECTORY_REGISTRY, DirectoryRegistry, externalRegistryAddress, inClusterRegistryUrl, registryOf, type DirectoryRegistryProps } from './directory-registry';
import { ClusterSpiffeid } from './imports/clusterspiffeids-spire.spiffe.io';
import { IMAGE_PULL_POLICY, nonRootPodSecurityContext, nonRootSecurityContext, resources } from './hardening';
import { appLabels, httpProbes, workloadApiSocket } from './workload';

/** Where things are inside the image built by `apps/apiserver/Dockerfile` (its name is the model's `apiserver.image`). */
export const DIRECTORY_IMAGE = {
  /** The apiserver bundle; the image's entrypoint is `node`, and this is its default argument. */
  apiserverEntry: '/app/apiserver.js',
  /** The dirctl bundle: `node /app/dirctl.js <command>` (`node` is on the image's PATH). */
  dirctlEntry: '/app/dirctl.js',
  /** distroless `nonroot`. */
  uid: 65532,
} as const;

/** Well-known names, paths and ports of the Directory apiserver's Kubernetes objects. */
export const DIRECTORY_API_SERVER = {
  /** Deployment, Service and pod label `app.kubernetes.io/name`. */
  name: 'dir-apiserver',
  containerName: 'apiserver',
  policyConfigMap: 'dir-apiserver-policy',
  policyDir: '/etc/dirtk/policy',
  dataDir: '/var/lib/dirtk',
  dataVolumeClaim: 'dir-apiserver-data',
  credentialsDir: '/etc/dirtk/credentials',
  registryTokenKeyDir: '/etc/dirtk/registry-token',
  /** The NodePort Service of the plain-HTTP port, for the registry's token realm (registry store only). */
  tokenServiceName: 'dir-apiserver-token',
  grpcPortName: 'grpc',
  httpPortName: 'http',
  /** Plain HTTP: `/healthz`, `/readyz` and `/metrics`. The gRPC port speaks SPIFFE mTLS only. */
  httpPort: DEFAULT_HTTP_PORT,
} as const;

/** The spiffeIDTemplate of every pod identity dirtk registers: the pod's namespace and service account. */
export const SERVICE_ACCOUNT_SPIFFE_ID_TEMPLATE = 'spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}';

/** Syntax of a policy file; the apiserver picks the parser by the file's extension. */
export type ApiServerPolicyFormat = 'yaml' | 'csv';

/**
 * The apiserver's authorization policy, mounted from a ConfigMap. The apiserver watches the file and
 * applies changes without a restart, so editing the ConfigMap is enough.
 */
export class ApiServerPolicy {
  /**
   * Own trust domain: all methods; federated trust domains: Pull, Lookup, PullReferrer and
   * RequestRegistryCredentials; everyone else: nothing.
   */
  public static default(): ApiServerPolicy {
    return new ApiServerPolicy('yaml', defaultPolicyYaml());
  }

  /** The YAML form: an ordered `rules` list of `allow:` / `deny:` entries, with SPIFFE ID patterns. */
  public static yaml(text: string): ApiServerPolicy {
    return new ApiServerPolicy('yaml', text);
  }

  /** The reference implementation's rows, `p,<trust domain>,<full method>`. */
  public static csv(text: string): ApiServerPolicy {
    return new ApiServerPolicy('csv', text);
  }

  private constructor(
    public readonly format: ApiServerPolicyFormat,
    public readonly text: string,
  ) {
    if (text.trim() === '') throw new Error('the apiserver policy is empty; an empty policy denies every call');
  }

  /** The file name in the policy directory; its extension selects the parser. */
  public get fileName(): string {
    return `policy.${this.format}`;
  }
}

/** Options of `ApiServerStorage.emptyDir`. */
export interface EmptyDirStorageOptions {
  /**
   * Upper bound of the volume; the kubelet evicts the pod above it.
   * @default '1Gi'
   */
  readonly sizeLimit?: string;
}

/** Options of `ApiServerStorage.persistentVolumeClaim`. */
export interface PersistentVolumeClaimStorageOptions {
  /**
   * Name of the PersistentVolumeClaim the construct creates.
   * @default DIRECTORY_API_SERVER.dataVolumeClaim
   */
  readonly claimName?: string;
  /**
   * Requested capacity.
   * @default '1Gi'
   */
  readonly size?: string;
  /**
   * Storage class of the claim.
   * @default - the cluster's default class
   */
  readonly storageClassName?: string;
}

/**
 * Where the apiserver keeps its records, referrers and syncs (`DIRTK_APISERVER_DATA_DIR`). The store is
 * embedded and owned by one process, so it lives and dies with its volume.
 */
export class ApiServerStorage {
  /**
   * A pod-lifetime volume: the records survive container restarts but not the pod's deletion, eviction or
   * rescheduling, and every rollout (a new image, changed settings) starts with an empty store.
   */
  public static emptyDir(options: EmptyDirStorageOptions = {}): ApiServerStorage {
    return new ApiServerStorage({ kind: 'emptyDir', sizeLimit: options.sizeLimit ?? '1Gi' });
  }

  /**
   * A ReadWriteOnce PersistentVolumeClaim the construct creates: the records survive pod restarts and
   * upgrades. Deleting the claim (e.g. deleting the chart's objects) deletes the records.
   */
  public static persistentVolumeClaim(options: PersistentVolumeClaimStorageOptions = {}): ApiServerStorage {
    return new ApiServerStorage({
      kind: 'persistentVolumeClaim',
      claimName: options.claimName ?? DIRECTORY_API_SERVER.dataVolumeClaim,
      size: options.size ?? '1Gi',
      ...(options.storageClassName !== undefined && { storageClassName: options.storageClassName }),
    });
  }

  private constructor(
    /** @internal */
    public readonly _spec:
      | { readonly kind: 'emptyDir'; readonly sizeLimit: string }
      | { readonly kind: 'persistentVolumeClaim'; readonly claimName: string; readonly size: string; readonly storageClassName?: string },
  ) {}
}

/** A Secret key holding the HMAC secret that signs short-lived registry credentials. */
export interface CredentialsSecretRef {
  /** Name of the Secret, in the directory namespace. */
  readonly name: string;
  /**
   * Key of the secret value (at least 32 bytes).
   * @default 'hmac-secret'
   */
  readonly key?: string;
}

export interface DirectoryApiServerProps {
  /** The trust domain the apiserver serves; it must have `apiserver` set (from the resolved topology). */
  readonly trustDomain: TrustDomain;
  /**
   * The authorization policy.
   * @default ApiServerPolicy.default()
   */
  readonly policy?: ApiServerPolicy;
  /**
   * Where records live.
   * @default ApiServerStorage.emptyDir()
   */
  readonly storage?: ApiServerStorage;
  /**
   * Audiences accepted in JWT-SVID bearer tokens; empty turns JWT authentication off, leaving mTLS only.
   * The apiserver's own SPIFFE ID (`trustDomain.apiserver.spiffeId`) is the natural audience.
   * @default [] - x509 (mTLS) only
   */
  readonly jwtAudiences?: readonly string[];
  /**
   * The Secret with the HMAC secret for short-lived registry credentials; only the apiserver's registry
   * token service checks them. Mounted read-only as a file (`DIRTK_APISERVER_CREDENTIALS_SECRET_FILE`).
   * @default - none: the variable is not set and the apiserver uses its own default
   */
  readonly credentialsSecret?: CredentialsSecretRef;
  /**
   * Trust domains whose bundles the apiserver receives, so that it can verify their callers. The
   * controller manager cannot create the registration entry while one of them has no bundle, so the
   * apiserver gets no SVID (and is not ready) until every listed peer's bundle is known: seed
   * `trustDomainBundle` on the federation edges to avoid that wait.
   * @default - every peer the trust domain federates with
   */
  readonly federatesWith?: readonly string[];
  /**
   * The peers this apiserver syncs from (`<host:port>=<peer apiserver SPIFFE ID>`, see `syncPeersOf`);
   * only with the registry store.
   * @default [] - no peer: every sync FAILs as "not a configured sync peer"
   */
  readonly syncPeers?: readonly string[];
  /**
   * Settings of the registry beside the apiserver (registry store only).
   * @default - the `DirectoryRegistry` defaults
   */
  readonly registry?: Omit<DirectoryRegistryProps, 'trustDomain'>;
  /**
   * Resources of the apiserver container.
   * @default 50m/96Mi requested, 1 CPU/512Mi limit
   */
  readonly resources?: k8s.ResourceRequirements;
}

/**
 * The Directory apiserver of a trust domain: its ServiceAccount, the policy ConfigMap, a Deployment, the
 * gRPC Service (of the model's `apiserver.serviceType` and `nodePort`) and the ClusterSPIFFEID that gives
 * its pods their SVID.
 *
 * **Identity.** The ClusterSPIFFEID renders `spiffe://<td>/ns/<namespace>/sa/<service account>` (the
 * model's `apiserver.spiffeId`) for pods with the apiserver's labels in the directory namespace, pinned
 * with `k8s:ns:` and `k8s:sa:` selectors and, when the model knows the image ID (`apiserver.imageId`: an
 * image given by digest, or one loaded into the nodes), `k8s:container-image:<image ID>`, so another image
 * run under the same service account gets no identity. Its class is the controller manager's. It federates with the domain's peers explicitly (see
 * `federatesWith`): the apiserver must hold their bundles to verify federated callers.
 *
 * **Pod.** Non-root (uid 65532), read-only root filesystem, no capabilities, no privilege escalation,
 * seccomp `RuntimeDefault`, no service-account token (it never calls the Kubernetes API), no service
 * environment links. The Workload API socket directory is mounted read-only at `WORKLOAD_SOCKET_DIR`, from
 * the SPIFFE CSI driver or the agent's host directory as the model says; with the CSI driver the pod meets
 * Pod Security `restricted`, while the hostPath alternative is the one thing `restricted` (and `baseline`)
 * forbid. The gRPC port speaks SPIFFE mTLS only, so the kubelet probes `/healthz` (liveness) and `/readyz`
 * (readiness, which waits for the SVID) on the plain HTTP port, which the Service does not expose.
 *
 * **State.** Records, referrers and syncs live in the data directory (`storage`), which one process owns:
 * the Deployment runs one replica with the `Recreate` strategy (the topology refuses more on the filesystem
 * store), since replicas would each hold a different store behind one Service.
 *
 * **Registry store.** With `apiserver.store: 'registry'` the records live in a `DirectoryRegistry` beside the
 * apiserver, whose tokens the apiserver signs with the key of the Secret `apiserver.registry.tokenKeySecret`
 * (created out of band, never in a manifest; mounted read-only). The plain-HTTP port is then also on a
 * NodePort Service (`apiserver.registry.tokenNodePort`): its `/registry/token` is the realm the registry sends
 * every client to, peers syncing from other clusters included. The apiserver advertises the registry at
 * `apiserver.registry.externalHost` and its node port, and syncs from `syncPeers`.
 */
export class DirectoryApiServer extends Construct {
  /** The apiserver settings from the model. */
  public readonly apiserver: ApiServer;
  /** The SPIFFE ID the apiserver's pods get (`apiserver.spiffeId`). */
  public readonly spiffeId: string;
  public readonly policy: ApiServerPolicy;
  public readonly serviceAccount: k8s.KubeServiceAccount;
  public readonly policyConfigMap: k8s.KubeConfigMap;
  /** Present with `ApiServerStorage.persistentVolumeClaim`. */
  public readonly dataVolumeClaim?: k8s.KubePersistentVolumeClaim;
  public readonly container: k8s.Container;
  public readonly deployment: k8s.KubeDeployment;
  public readonly service: k8s.KubeService;
  public readonly clusterSpiffeId: ClusterSpiffeid;
  /** Present with the registry store: the registry the records live in. */
  public readonly registry?: DirectoryRegistry;
  /** Present with the registry store: the plain-HTTP port on a node port, for the registry's token realm. */
  public readonly tokenService?: k8s.KubeService;

  public constructor(scope: Construct, id: string, props: DirectoryApiServerProps) {
    super(scope, id);
    const td = props.trustDomain;
    if (!td.apiserver) throw new Error(`trust domain ${td.name} runs no apiserver (its topology entry has no "apiserver")`);
    const apiserver = td.apiserver;
    const registry = apiserver.store === 'registry' ? registryOf(td) : undefined;
    const syncPeers = props.syncPeers ?? [];
    if (registry === undefined && syncPeers.length > 0) {
      throw new Error(`trust domain ${td.name}: syncPeers need apiserver.store 'registry'; the filesystem store cannot be synced into`);
    }
    this.apiserver = apiserver;
    this.spiffeId = apiserver.spiffeId;
    const namespace = td.namespaces.directory;
    const labels = appLabels(DIRECTORY_API_SERVER.name);
    const { grpcPortName, httpPortName, httpPort } = DIRECTORY_API_SERVER;

    this.serviceAccount = new k8s.KubeServiceAccount(this, 'ServiceAccount', {
      metadata: { name: apiserver.serviceAccount, namespace },
      automountServiceAccountToken: false,
    });

    // Registered before the Deployment, so the entry is usually there when the first pod asks for its SVID.
    const federatesWith = props.federatesWith ?? td.federatesWith.map((edge) => edge.trustDomain);
    const service = `${DIRECTORY_API_SERVER.name}.${namespace}`;
    this.clusterSpiffeId = new ClusterSpiffeid(this, 'ClusterSPIFFEID', {
      metadata: { name: `${namespace}-${apiserver.serviceAccount}` },
      spec: {
        spiffeIdTemplate: SERVICE_ACCOUNT_SPIFFE_ID_TEMPLATE,
        podSelector: { matchLabels: labels },
        namespaceSelector: { matchLabels: { 'kubernetes.io/metadata.name': namespace } },
        workloadSelectorTemplates: [
          `k8s:ns:${namespace}`,
          `k8s:sa:${apiserver.serviceAccount}`,
          ...(apiserver.imageId !== undefined ? [`k8s:container-image:${apiserver.imageId}`] : []),
        ],
        // For clients that verify host names (the Directory's SDKs); dirtk clients verify the SPIFFE ID.
        // Every name an in-cluster client may dial, the fully qualified one of the default cluster domain
        // included; a client reaching the node port dials an IP, which no SVID names: it sets the server
        // name to one of these.
        dnsNameTemplates: [`${service}.svc.cluster.local`, `${service}.svc`, service, DIRECTORY_API_SERVER.name],
        ...(federatesWith.length > 0 && { federatesWith: [...federatesWith] }),
        className: td.controllerManager.className,
      },
    });

    this.policy = props.policy ?? ApiServerPolicy.default();
    this.policyConfigMap = new k8s.KubeConfigMap(this, 'PolicyConfigMap', {
      metadata: { name: DIRECTORY_API_SERVER.policyConfigMap, namespace },
      data: { [this.policy.fileName]: this.policy.text },
    });

    const storage = (props.storage ?? ApiServerStorage.emptyDir())._spec;
    let dataVolume: k8s.Volume;
    if (storage.kind === 'persistentVolumeClaim') {
      this.dataVolumeClaim = new k8s.KubePersistentVolumeClaim(this, 'DataVolumeClaim', {
        metadata: { name: storage.claimName, namespace, labels },
        spec: {
          accessModes: ['ReadWriteOnce'],
          resources: { requests: { storage: k8s.Quantity.fromString(storage.size) } },
          ...(storage.storageClassName !== undefined && { storageClassName: storage.storageClassName }),
        },
      });
      dataVolume = { name: 'data', persistentVolumeClaim: { claimName: storage.claimName } };
    } else {
      dataVolume = { name: 'data', emptyDir: { sizeLimit: k8s.Quantity.fromString(storage.sizeLimit) } };
    }

    const socket = workloadApiSocket(td);
    const credentials = props.credentialsSecret && { name: props.credentialsSecret.name, key: props.credentialsSecret.key ?? 'hmac-secret' };
    const jwtAudiences = props.jwtAudiences ?? [];
    const settings = apiserverEnvironment({
      listen: `0.0.0.0:${apiserver.port}`,
      httpListen: `0.0.0.0:${httpPort}`,
      policyFile: `${DIRECTORY_API_SERVER.policyDir}/${this.policy.fileName}`,
      dataDir: DIRECTORY_API_SERVER.dataDir,
      ...(jwtAudiences.length > 0 && { jwtAudiences: jwtAudiences.join(',') }),
      ...(credentials && { credentialsSecretFile: `${DIRECTORY_API_SERVER.credentialsDir}/${credentials.key}` }),
      ...(registry && {
        storeRegistryUrl: inClusterRegistryUrl(td),
        registryAddress: externalRegistryAddress(registry),
        registryInsecure: 'true',
        registryService: registryService(td),
        registryTokenKeyFile: `${DIRECTORY_API_SERVER.registryTokenKeyDir}/${DIRECTORY_REGISTRY.tokenKeyFile}`,
      }),
      ...(syncPeers.length > 0 && { syncPeers: syncPeers.join(',') }),
    });
    const env: k8s.EnvVar[] = [socket.env, ...Object.entries(settings).map(([name, value]) => ({ name, value }))];

    this.container = {
      name: DIRECTORY_API_SERVER.containerName,
      image: apiserver.image,
      imagePullPolicy: IMAGE_PULL_POLICY,
      args: [DIRECTORY_IMAGE.apiserverEntry],
      env,
      ports: [
        { name: grpcPortName, containerPort: apiserver.port, protocol: 'TCP' },
        { name: httpPortName, containerPort: httpPort, protocol: 'TCP' },
      ],
      ...httpProbes(httpPortName, '/healthz', '/readyz'),
      resources: props.resources ?? resources(['50m', '1'], ['96Mi', '512Mi']),
      securityContext: nonRootSecurityContext(),
      volumeMounts: [
        socket.volumeMount,
        { name: 'policy', mountPath: DIRECTORY_API_SERVER.policyDir, readOnly: true },
        { name: 'data', mountPath: DIRECTORY_API_SERVER.dataDir },
        { name: 'tmp', mountPath: '/tmp' },
        ...(credentials ? [{ name: 'credentials', mountPath: DIRECTORY_API_SERVER.credentialsDir, readOnly: true }] : []),
        ...(registry ? [{ name: 'registry-token-key', mountPath: DIRECTORY_API_SERVER.registryTokenKeyDir, readOnly: true }] : []),
      ],
    };

    this.deployment = new k8s.KubeDeployment(this, 'Deployment', {
      metadata: { name: DIRECTORY_API_SERVER.name, namespace, labels },
      spec: {
        replicas: apiserver.replicas,
        // One process owns the store: never run the old and the new pod side by side.
        strategy: { type: 'Recreate' },
        selector: { matchLabels: labels },
        template: {
          metadata: { labels },
          spec: {
            serviceAccountName: apiserver.serviceAccount,
            automountServiceAccountToken: false,
            enableServiceLinks: false,
            securityContext: nonRootPodSecurityContext(DIRECTORY_IMAGE.uid),
            containers: [this.container],
            volumes: [
              socket.volume,
              // A directory mount, not subPath: the kubelet swaps the files in place and the apiserver reloads.
              { name: 'policy', configMap: { name: DIRECTORY_API_SERVER.policyConfigMap } },
              dataVolume,
              { name: 'tmp', emptyDir: { sizeLimit: k8s.Quantity.fromString('64Mi') } },
              ...(credentials
                ? [{ name: 'credentials', secret: { secretName: credentials.name, items: [{ key: credentials.key, path: credentials.key }], defaultMode: 0o400 } }]
                : []),
              ...(registry
                ? [
                    {
                      name: 'registry-token-key',
                      secret: {
                        secretName: registry.tokenKeySecret,
                        items: [{ key: DIRECTORY_REGISTRY.tokenKeyFile, path: DIRECTORY_REGISTRY.tokenKeyFile }],
                        defaultMode: 0o400,
                      },
                    },
                  ]
                : []),
            ],
          },
        },
      },
    });

    this.service = new k8s.KubeService(this, 'Service', {
      metadata: { name: DIRECTORY_API_SERVER.name, namespace, labels },
      spec: {
        type: apiserver.serviceType,
        selector: labels,
        ports: [
          {
            name: grpcPortName,
            port: apiserver.port,
            targetPort: k8s.IntOrString.fromString(grpcPortName),
            protocol: 'TCP',
            ...(apiserver.nodePort !== undefined && { nodePort: apiserver.nodePort }),
          },
        ],
      },
    });

    if (registry) {
      this.registry = new DirectoryRegistry(this, 'Registry', { ...props.registry, trustDomain: td });
      this.tokenService = new k8s.KubeService(this, 'TokenService', {
        metadata: { name: DIRECTORY_API_SERVER.tokenServiceName, namespace, labels },
        spec: {
          type: 'NodePort',
          selector: labels,
          ports: [{ name: httpPortName, port: httpPort, targetPort: k8s.IntOrString.fromString(httpPortName), protocol: 'TCP', nodePort: registry.tokenNodePort }],
        },
      });
    }
  }
}
