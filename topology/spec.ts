/**
 * The topology as a user writes it: trust domains, their SPIRE options and their federation.
 *
 * Every optional member has a default applied by `resolveTopology`, which validates the whole
 * description and returns the resolved model (`./model.ts`) that all renderers consume.
 */

/** A set of SPIFFE trust domains, each served by its own SPIRE server, and how they federate. */
export interface TopologySpec {
  /** The trust domains; names must be unique. */
  readonly trustDomains: readonly TrustDomainSpec[];
}

/** One trust domain: a SPIRE server, its agents and controller manager on one Kubernetes cluster. */
export interface TrustDomainSpec {
  /** The trust domain name, e.g. `dir.example` (lowercase letters, digits, `.`, `_`, `-`). */
  readonly name: string;
  /** The Kubernetes cluster name used by node attestation and the controller manager. */
  readonly clusterName: string;
  /**
   * Namespaces of the domain's components.
   * @default { spire: 'spire-system', directory: 'dir' }
   */
  readonly namespaces?: NamespacesSpec;
  /**
   * SPIRE server options.
   * @default see SpireServerSpec
   */
  readonly server?: SpireServerSpec;
  /**
   * SPIRE agent options.
   * @default see SpireAgentSpec
   */
  readonly agent?: SpireAgentSpec;
  /**
   * SPIRE controller manager options.
   * @default see ControllerManagerSpec
   */
  readonly controllerManager?: ControllerManagerSpec;
  /**
   * The bundle endpoint this domain serves to its peers. It is enabled whenever the domain
   * federates with a peer or a peer federates with it.
   * @default see BundleEndpointSpec
   */
  readonly bundleEndpoint?: BundleEndpointSpec;
  /**
   * Peers whose trust bundles this domain fetches and trusts.
   * @default []
   */
  readonly federatesWith?: readonly FederationEdgeSpec[];
  /**
   * Where the Directory apiserver runs in this domain; omit for a domain with clients only.
   * @default - no apiserver
   */
  readonly apiserver?: ApiServerSpec;
}

export interface NamespacesSpec {
  /**
   * Namespace of the SPIRE server and its controller manager, which hold the CA keys; Pod Security
   * `restricted`.
   * @default 'spire-system'
   */
  readonly spire?: string;
  /**
   * Namespace of the SPIRE agents (and the SPIFFE CSI driver), which need the host; Pod Security
   * `privileged`, so it must not be the server's.
   * @default 'spire-agent'
   */
  readonly agent?: string;
  /**
   * Namespace of the Directory apiserver and dirctl workloads.
   * @default 'dir'
   */
  readonly directory?: string;
}

export type CaKeyType = 'rsa-2048' | 'rsa-4096' | 'ec-p256' | 'ec-p384';

export interface SpireServerSpec {
  /**
   * Server replicas; more than one needs a shared (postgres) datastore.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * Key type of the server CA.
   * @default 'ec-p256'
   */
  readonly caKeyType?: CaKeyType;
  /**
   * Lifetime of the server CA, as a Go duration.
   * @default '24h'
   */
  readonly caTtl?: string;
  /**
   * Default lifetime of X.509-SVIDs, as a Go duration.
   * @default '1h'
   */
  readonly x509SvidTtl?: string;
  /**
   * Default lifetime of JWT-SVIDs, as a Go duration.
   * @default '5m'
   */
  readonly jwtSvidTtl?: string;
  /**
   * Where the server keeps registration entries, attested nodes and bundles.
   * @default { type: 'sqlite' }
   */
  readonly datastore?: DatastoreSpec;
  /**
   * Where the server keeps its CA private keys.
   * @default 'disk'
   */
  readonly keyManager?: 'disk' | 'memory';
  /**
   * An upstream CA that signs the server CA, making the domain's root known before deployment.
   * @default - the server CA is self-signed
   */
  readonly upstreamAuthority?: UpstreamAuthoritySpec;
  /**
   * Cluster names whose agents the server attests with `k8s_psat`.
   * @default [clusterName]
   */
  readonly attestedClusters?: readonly string[];
  /**
   * Server log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

export type LogLevel = 'DEBUG' | 'INFO' | 'WARN' | 'ERROR';

export type DatastoreSpec =
  | { readonly type: 'sqlite' }
  | {
      readonly type: 'postgres';
      /** Name of the Secret holding the connection string under the key `connection-string`. */
      readonly connectionStringSecret: string;
    };

export interface UpstreamAuthoritySpec {
  /** The `disk` UpstreamAuthority: a CA certificate and key supplied by the operator. */
  readonly type: 'disk';
  /**
   * Name of the Secret with `tls.crt`, `tls.key` and `bundle.crt` of the upstream CA.
   * @default 'spire-upstream-ca'
   */
  readonly secretName?: string;
}

export interface SpireAgentSpec {
  /**
   * How workloads reach the agent's Workload API socket: an inline volume of the SPIFFE CSI driver
   * (allowed by Pod Security `restricted`), or the host directory itself (which makes the workloads'
   * namespace `privileged`).
   * @default 'csi'
   */
  readonly socket?: 'hostPath' | 'csi';
  /**
   * The directory on each node that holds the Workload API socket.
   * @default '/run/spire/agent-sockets'
   */
  readonly socketHostDir?: string;
  /**
   * The cluster name the agent presents in `k8s_psat` attestation.
   * @default clusterName
   */
  readonly clusterName?: string;
  /**
   * Agent log level.
   * @default 'INFO'
   */
  readonly logLevel?: LogLevel;
}

export interface ControllerManagerSpec {
  /**
   * Class of the ClusterSPIFFEID, ClusterFederatedTrustDomain and ClusterStaticEntry objects it reconciles.
   * @default 'dir-spire'
   */
  readonly className?: string;
  /**
   * The cluster name it renders into parent IDs.
   * @default clusterName
   */
  readonly clusterName?: string;
  /**
   * Prefix of the entry IDs it owns; entries without it are never deleted by the controller manager.
   * @default '<clusterName>.'
   */
  readonly entryIdPrefix?: string;
}

export type BundleEndpointProfile = 'https_spiffe' | 'https_web';

export interface BundleEndpointSpec {
  /**
   * Port the bundle endpoint listens on inside the server pod.
   * @default 8443
   */
  readonly port?: number;
  /**
   * How the endpoint authenticates itself to peers.
   * @default 'https_spiffe'
   */
  readonly profile?: BundleEndpointProfile;
  /**
   * Secret with `tls.crt` and `tls.key` of a Web-PKI serving certificate; required for `https_web`.
   * @default - none
   */
  readonly servingCertSecret?: string;
  /**
   * How often peers should refresh the bundle, as a Go duration.
   * @default '5m'
   */
  readonly refreshHint?: string;
  /**
   * How the endpoint is exposed to peers in other clusters.
   * @default 'NodePort'
   */
  readonly serviceType?: 'NodePort' | 'LoadBalancer';
  /**
   * The fixed node port for `NodePort` services (30000-32767).
   * @default 32443
   */
  readonly nodePort?: number;
  /**
   * The https URL at which peers reach this endpoint; used by peers that give no URL of their own.
   * @default - none: each peer edge must then name the URL
   */
  readonly url?: string;
}

export interface FederationEdgeSpec {
  /** The peer trust domain's name. */
  readonly trustDomain: string;
  /**
   * The peer's bundle endpoint URL (https).
   * @default the peer's `bundleEndpoint.url` when the peer is in this topology
   */
  readonly bundleEndpointUrl?: string;
  /**
   * The profile the peer's bundle endpoint uses.
   * @default the peer's `bundleEndpoint.profile`, else 'https_spiffe'
   */
  readonly profile?: BundleEndpointProfile;
  /**
   * The SPIFFE ID the peer's endpoint presents (`https_spiffe` only).
   * @default 'spiffe://<peer>/spire/server'
   */
  readonly endpointSpiffeId?: string;
  /**
   * The peer's trust bundle in SPIFFE (JWKS) format, seeding the first fetch of an `https_spiffe` endpoint.
   * @default - none: the bundle must be set by other means before the first fetch succeeds
   */
  readonly trustDomainBundle?: string;
}

/** Where the apiserver keeps its records: see `ApiServerSpec.store`. */
export type ApiServerStore = 'filesystem' | 'registry';

export interface ApiServerSpec {
  /**
   * The apiserver's service account, which becomes the path of its SPIFFE ID.
   * @default 'dir-apiserver'
   */
  readonly serviceAccount?: string;
  /**
   * Where the apiserver keeps its records: `filesystem`, a local directory one apiserver process owns, or
   * `registry`, an OCI registry beside the apiserver (which makes the apiserver stateless).
   * @default 'filesystem'
   */
  readonly store?: ApiServerStore;
  /**
   * Apiserver replicas; more than one needs `store: 'registry'`, since a filesystem store is a local directory.
   * @default 1
   */
  readonly replicas?: number;
  /**
   * gRPC port of the apiserver.
   * @default 8888
   */
  readonly port?: number;
  /**
   * Type of the gRPC Service; `NodePort` makes the apiserver reachable from other clusters.
   * @default 'ClusterIP'
   */
  readonly serviceType?: 'ClusterIP' | 'NodePort';
  /**
   * The fixed node port of the gRPC Service (30000-32767); only with `serviceType: 'NodePort'`.
   * @default - assigned by Kubernetes
   */
  readonly nodePort?: number;
  /**
   * The apiserver's container image, built from `apps/apiserver/Dockerfile`. A reference by digest
   * (`repo@sha256:…`) also ties the apiserver's SPIFFE ID to that image (see `imageId`).
   * @default 'dirtk/apiserver:dev'
   */
  readonly image?: string;
  /**
   * The image ID the kubelet reports for the apiserver's container (`status.containerStatuses[].imageID`):
   * `docker.io/org/apiserver@sha256:…` for an image pulled by digest, `sha256:<config digest>` for one loaded
   * into the node (`kind load`). When known, only a container of that image gets the apiserver's SPIFFE ID
   * (a `k8s:container-image` selector); without it, any pod of the apiserver's service account in its namespace does.
   * @default - derived from `image` when it names a digest; otherwise none
   */
  readonly imageId?: string;
  /**
   * The OCI registry of a Kubernetes apiserver with `store: 'registry'`, and how peers in other clusters
   * reach it and its token service. Local mode runs its own registry and ignores it.
   * @default - none: the Kubernetes constructs refuse `store: 'registry'` without it
   */
  readonly registry?: ApiServerRegistrySpec;
}

/** An EC P-256 public key as a JWK: a registry token-signing key's public half. */
export interface RegistryTokenKeySpec {
  readonly kty: 'EC';
  readonly crv: 'P-256';
  readonly x: string;
  readonly y: string;
}

export interface ApiServerRegistrySpec {
  /**
   * The host (name or IPv4 address) peers in other clusters reach this domain's node ports at: the
   * registry's address and the token realm the registry sends them to are built on it.
   */
  readonly externalHost: string;
  /**
   * Node port of the registry's Service.
   * @default 30500
   */
  readonly nodePort?: number;
  /**
   * Node port of the apiserver's plain-HTTP Service, whose `/registry/token` is the registry's token realm.
   * @default 30880
   */
  readonly tokenNodePort?: number;
  /**
   * Public halves of the token-signing keys the registry trusts: the current one, and the next during a
   * rotation. The private key never enters the topology: it is the Secret `tokenKeySecret`.
   */
  readonly trustedKeys: readonly RegistryTokenKeySpec[];
  /**
   * The Secret (in the directory namespace, created out of band) whose key `registry-token.key` holds the
   * apiserver's EC P-256 token-signing key (PKCS#8 PEM).
   * @default 'dir-registry-token-key'
   */
  readonly tokenKeySecret?: string;
}
