/**
 * The resolved topology: validated, with every default applied. Renderers consume only this.
 */
import type { ApiServerStore, BundleEndpointProfile, CaKeyType, DatastoreSpec, LogLevel, RegistryTokenKeySpec } from './spec';

export interface Topology {
  readonly trustDomains: readonly TrustDomain[];
}

export interface TrustDomain {
  readonly name: string;
  /** `spiffe://<name>`. */
  readonly id: string;
  readonly clusterName: string;
  /** `spire`: server and controller manager; `agent`: agents and CSI driver; `directory`: Directory workloads. */
  readonly namespaces: { readonly spire: string; readonly agent: string; readonly directory: string };
  readonly server: SpireServer;
  readonly agent: SpireAgent;
  readonly controllerManager: ControllerManager;
  /** Present when the domain federates with a peer or a peer federates with it. */
  readonly bundleEndpoint?: BundleEndpoint;
  readonly federatesWith: readonly FederationEdge[];
  readonly apiserver?: ApiServer;
  /** The identity of the domain's Directory clients (dirctl), on Kubernetes and in local mode alike. */
  readonly directoryClient: DirectoryClient;
}

export interface DirectoryClient {
  /** The service account of client pods, which becomes the path of their SPIFFE ID. */
  readonly serviceAccount: string;
  /** `spiffe://<name>/ns/<directory namespace>/sa/<serviceAccount>`. */
  readonly spiffeId: string;
}

/**
 * The files of an upstream CA as the SPIRE server's `disk` UpstreamAuthority reads them: the keys of its
 * Kubernetes Secret, and the file names in a CA folder (federation/ca-folder.ts) and in local mode.
 */
export const UPSTREAM_CA_FILES = { certificate: 'tls.crt', key: 'tls.key', bundle: 'bundle.crt' } as const;

export interface SpireServer {
  readonly replicas: number;
  readonly caKeyType: CaKeyType;
  readonly caTtl: string;
  readonly x509SvidTtl: string;
  readonly jwtSvidTtl: string;
  readonly datastore: DatastoreSpec;
  readonly keyManager: 'disk' | 'memory';
  readonly upstreamAuthority?: { readonly type: 'disk'; readonly secretName: string };
  readonly attestedClusters: readonly string[];
  readonly logLevel: LogLevel;
  /** `spiffe://<name>/spire/server`, the ID the server and its bundle endpoint present. */
  readonly spiffeId: string;
}

export interface SpireAgent {
  readonly socket: 'hostPath' | 'csi';
  readonly socketHostDir: string;
  readonly clusterName: string;
  readonly logLevel: LogLevel;
}

export interface ControllerManager {
  readonly className: string;
  readonly clusterName: string;
  readonly entryIdPrefix: string;
}

export interface BundleEndpoint {
  readonly port: number;
  readonly profile: BundleEndpointProfile;
  readonly servingCertSecret?: string;
  readonly refreshHint: string;
  readonly serviceType: 'NodePort' | 'LoadBalancer';
  readonly nodePort: number;
  readonly url?: string;
}

export type FederationEdge =
  | (FederationEdgeBase & { readonly profile: 'https_spiffe'; readonly endpointSpiffeId: string })
  | (FederationEdgeBase & { readonly profile: 'https_web' });

interface FederationEdgeBase {
  readonly trustDomain: string;
  /**
   * Absent only for a peer in the topology whose bundle endpoint has no URL yet: where it is reachable
   * depends on where it runs, and the target sets it (`withBundleEndpoints`); see `bundleEndpointUrlOf`.
   */
  readonly bundleEndpointUrl?: string;
  readonly trustDomainBundle?: string;
}

export interface ApiServer {
  readonly serviceAccount: string;
  readonly store: ApiServerStore;
  readonly replicas: number;
  readonly port: number;
  readonly serviceType: 'ClusterIP' | 'NodePort';
  /** Only with `NodePort`; absent, Kubernetes assigns one. */
  readonly nodePort?: number;
  /** `spiffe://<name>/ns/<directory namespace>/sa/<serviceAccount>`. */
  readonly spiffeId: string;
  readonly image: string;
  /** The image ID the kubelet reports for the apiserver's container; when set, the identity is tied to it. */
  readonly imageId?: string;
  /** The OCI registry beside a Kubernetes apiserver on the registry store (`ApiServerRegistrySpec`). */
  readonly registry?: ApiServerRegistry;
}

export interface ApiServerRegistry {
  readonly externalHost: string;
  readonly nodePort: number;
  readonly tokenNodePort: number;
  readonly trustedKeys: readonly RegistryTokenKeySpec[];
  readonly tokenKeySecret: string;
}
