import { ApiObject } from 'cdk8s';
import type { k8s } from 'cdk8s-plus-28';
import type { Construct } from 'constructs';
import { spireManifest, type SpireResourceManifest, type SpireResourceProps } from './spire-resource';

/**
 * `spec` of a ClusterSPIFFEID. Templates are Go templates over `.TrustDomain`, `.ClusterName`,
 * `.ClusterDomain`, `.PodMeta`, `.PodSpec`, `.NodeMeta` and `.NodeSpec`.
 */
export interface ClusterSPIFFEIDSpec {
  /** Template of the SPIFFE ID, e.g. `spiffe://{{ .TrustDomain }}/ns/{{ .PodMeta.Namespace }}/sa/{{ .PodSpec.ServiceAccountName }}`. */
  readonly spiffeIDTemplate: string;
  /**
   * Pods that get this ID.
   * @default - every pod in the selected namespaces
   */
  readonly podSelector?: k8s.LabelSelector;
  /**
   * Namespaces whose pods get this ID.
   * @default - every namespace the controller manager does not ignore
   */
  readonly namespaceSelector?: k8s.LabelSelector;
  /**
   * Templates of extra DNS names of the X.509-SVIDs.
   * @default - none
   */
  readonly dnsNameTemplates?: readonly string[];
  /**
   * Templates of extra workload selectors (`type:value`) a workload must match.
   * @default - none: the pod UID selector only
   */
  readonly workloadSelectorTemplates?: readonly string[];
  /**
   * Trust domains whose bundles workloads with this ID receive. SPIRE refuses the entry while any of
   * them has no bundle yet, so matching pods get no identity at all until then.
   * @default - none
   */
  readonly federatesWith?: readonly string[];
  /**
   * Upper bound of the X.509-SVID lifetime, as a Go duration.
   * @default - the server's default
   */
  readonly ttl?: string;
  /**
   * Upper bound of the JWT-SVID lifetime, as a Go duration.
   * @default - the server's default
   */
  readonly jwtTtl?: string;
  /**
   * Whether the SVID may call the SPIRE server's admin APIs.
   * @default false
   */
  readonly admin?: boolean;
  /**
   * Whether the entry describes a downstream SPIRE server.
   * @default false
   */
  readonly downstream?: boolean;
  /**
   * Whether to add the DNS names of the pod's services.
   * @default false
   */
  readonly autoPopulateDNSNames?: boolean;
  /**
   * Apply this ID only to pods no other, non-fallback ClusterSPIFFEID matches.
   * @default false
   */
  readonly fallback?: boolean;
  /**
   * Hint returned with the SVID to tell several identities of one workload apart.
   * @default - none
   */
  readonly hint?: string;
  /**
   * The controller class that reconciles this object.
   * @default - only controller managers that watch classless objects
   */
  readonly className?: string;
}

export type ClusterSPIFFEIDProps = SpireResourceProps<ClusterSPIFFEIDSpec>;
export type ClusterSPIFFEIDManifest = SpireResourceManifest<'ClusterSPIFFEID', ClusterSPIFFEIDSpec>;

/** Registration entries the SPIRE controller manager keeps for every pod the selectors match. */
export class ClusterSPIFFEID extends ApiObject {
  /** The plain manifest, e.g. for a Pulumi `CustomResource`. */
  public static manifest(props: ClusterSPIFFEIDProps): ClusterSPIFFEIDManifest {
    return spireManifest('ClusterSPIFFEID', props);
  }

  public constructor(scope: Construct, id: string, props: ClusterSPIFFEIDProps) {
    super(scope, id, ClusterSPIFFEID.manifest(props));
  }
}
