import { ApiObject } from 'cdk8s';
import type { Construct } from 'constructs';
import { spireManifest, type SpireResourceManifest, type SpireResourceProps } from './spire-resource';

/**
 * How the peer's bundle endpoint authenticates itself: with the SPIFFE ID it presents (`https_spiffe`),
 * or with a Web-PKI certificate (`https_web`, which takes no SPIFFE ID).
 */
export type BundleEndpointProfileSpec =
  | {
      readonly type: 'https_spiffe';
      /** The SPIFFE ID the endpoint presents, usually `spiffe://<peer>/spire/server`. */
      readonly endpointSPIFFEID: string;
    }
  | { readonly type: 'https_web' };

/** `spec` of a ClusterFederatedTrustDomain. */
export interface ClusterFederatedTrustDomainSpec {
  /** The peer trust domain, e.g. `dirctl.example`. */
  readonly trustDomain: string;
  /** The https URL of the peer's bundle endpoint, without user info. */
  readonly bundleEndpointURL: string;
  /** How the peer's bundle endpoint authenticates itself. */
  readonly bundleEndpointProfile: BundleEndpointProfileSpec;
  /**
   * The peer's bundle as printed by `spire-server bundle show -format spiffe` (not PEM). Read only when
   * the relationship is created.
   * @default - none: the first fetch needs the bundle set by other means
   */
  readonly trustDomainBundle?: string;
  /**
   * The controller class that reconciles this object.
   * @default - only controller managers that watch classless objects
   */
  readonly className?: string;
}

export type ClusterFederatedTrustDomainProps = SpireResourceProps<ClusterFederatedTrustDomainSpec>;
export type ClusterFederatedTrustDomainManifest = SpireResourceManifest<'ClusterFederatedTrustDomain', ClusterFederatedTrustDomainSpec>;

/**
 * A federation relationship the SPIRE controller manager maintains in its server: the server fetches and
 * trusts the peer's bundle from its bundle endpoint.
 */
export class ClusterFederatedTrustDomain extends ApiObject {
  /** The plain manifest, e.g. for a Pulumi `CustomResource`. */
  public static manifest(props: ClusterFederatedTrustDomainProps): ClusterFederatedTrustDomainManifest {
    return spireManifest('ClusterFederatedTrustDomain', props);
  }

  public constructor(scope: Construct, id: string, props: ClusterFederatedTrustDomainProps) {
    super(scope, id, ClusterFederatedTrustDomain.manifest(props));
  }
}
