/**
 * Where and how a SPIRE server or agent runs: addresses, paths and attestation. The model says what a
 * trust domain is; a placement says where one instance of it lives (a Kubernetes pod or a local process).
 */

export type ServerNodeAttestor =
  | {
      /** Agents prove their node with a projected service-account token. */
      readonly type: 'k8s_psat';
      /** `<namespace>:<service account>` of the agents. */
      readonly agentServiceAccount: string;
      /** Audience of the projected token. */
      readonly audience: string;
    }
  | { readonly type: 'join_token' }
  | { readonly type: 'x509pop'; readonly caBundlePath: string };

export type AgentNodeAttestor =
  | { readonly type: 'k8s_psat'; readonly tokenPath: string }
  | { readonly type: 'join_token' }
  | { readonly type: 'x509pop'; readonly privateKeyPath: string; readonly certificatePath: string };

export type WorkloadAttestor =
  | { readonly type: 'k8s' }
  | {
      readonly type: 'unix';
      /**
       * Attest the executable's path (`unix:path`), so that processes of one user can hold different
       * identities. The executable is never hashed: that would read every binary on each attestation.
       */
      readonly discoverWorkloadPath: boolean;
    };

export interface TlsFiles {
  readonly certFile: string;
  readonly keyFile: string;
}

export interface ServerPlacement {
  readonly bindAddress: string;
  readonly bindPort: number;
  /** The server API socket (registration and admin). */
  readonly socketPath: string;
  readonly dataDir: string;
  readonly healthAddress: string;
  readonly healthPort: number;
  /** Prometheus port; omitted to turn metrics off. */
  readonly metricsPort?: number;
  readonly bundleEndpointAddress: string;
  /** Overrides the model's bundle endpoint port (local mode assigns ports). */
  readonly bundleEndpointPort?: number;
  readonly nodeAttestor: ServerNodeAttestor;
  /** Publishes the domain's bundle to a ConfigMap for agents to bootstrap from. */
  readonly bundleConfigMap?: { readonly namespace: string; readonly name: string; readonly key: string };
  /** Files of the `disk` UpstreamAuthority, required when the model has one. */
  readonly upstreamAuthority?: TlsFiles & { readonly bundleFile: string };
  /** Serving certificate of an `https_web` bundle endpoint. */
  readonly bundleEndpointServingCert?: TlsFiles;
  /** The postgres connection string, usually an `${ENV}` reference expanded with `-expandEnv`. */
  readonly postgresConnectionString?: string;
  /**
   * `static`: federation relationships live in server.conf (local processes).
   * `dynamic`: the controller manager creates them from ClusterFederatedTrustDomains (Kubernetes).
   */
  readonly federationRelationships: 'static' | 'dynamic';
}

export interface AgentPlacement {
  readonly serverAddress: string;
  readonly serverPort: number;
  /** The Workload API socket. */
  readonly socketPath: string;
  readonly dataDir: string;
  readonly trustBundlePath: string;
  readonly trustBundleFormat: 'spiffe' | 'pem';
  readonly healthAddress: string;
  readonly healthPort: number;
  readonly metricsPort?: number;
  readonly nodeAttestor: AgentNodeAttestor;
  readonly workloadAttestor: WorkloadAttestor;
  /** `memory` re-attests after a restart (psat); `disk` keeps the agent SVID (join tokens are single-use). */
  readonly keyManager: 'memory' | 'disk';
}
