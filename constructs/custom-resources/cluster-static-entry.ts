import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { spireManifest, type SpireResourceManifest, type SpireResourceProps } from './spire-resource';

/** `spec` of a ClusterStaticEntry: one registration entry, written out in full. */
export interface ClusterStaticEntrySpec {
  /** The SPIFFE ID of the entry. */
  readonly spiffeID: string;
  /** The SPIFFE ID of the agent (or node alias) that may issue it. */
  readonly parentID: string;
  /** Workload selectors (`type:value`) a workload must match. */
  readonly selectors: readonly string[];
  /**
   * Trust domains whose bundles the workload receives.
   * @default - none
   */
  readonly federatesWith?: readonly string[];
  /**
   * X.509-SVID lifetime, as a Go duration.
   * @default - the server's default
   */
  readonly x509SVIDTTL?: string;
  /**
   * JWT-SVID lifetime, as a Go duration.
   * @default - the server's default
   */
  readonly jwtSVIDTTL?: string;
  /**
   * DNS names of the X.509-SVID.
   * @default - none
   */
  readonly dnsNames?: readonly string[];
  /**
   * Hint returned with the SVID.
   * @default - none
   */
  readonly hint?: string;
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
   * Whether the SVID is stored by an SVIDStore plugin rather than served to a workload.
   * @default false
   */
  readonly storeSVID?: boolean;
  /**
   * The controller class that reconciles this object.
   * @default - only controller managers that watch classless objects
   */
  readonly className?: string;
}

export type ClusterStaticEntryProps = SpireResourceProps<ClusterStaticEntrySpec>;
export type ClusterStaticEntryManifest = SpireResourceManifest<'ClusterStaticEntry', ClusterStaticEntrySpec>;

/** A registration entry the SPIRE controller manager keeps in its server exactly as written. */
export class ClusterStaticEntry extends ApiObject {
  /** The plain manifest, e.g. for a Pulumi `CustomResource`. */
  public static manifest(props: ClusterStaticEntryProps): ClusterStaticEntryManifest {
    return spireManifest('ClusterStaticEntry', props);
  }

  public constructor(scope: Construct, id: string, props: ClusterStaticEntryProps) {
    super(scope, id, ClusterStaticEntry.manifest(props));
  }
}
