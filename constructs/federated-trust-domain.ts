import type { ApiObjectMetadata } from 'cdk8s';
import { Construct } from 'constructs';
import type { FederationEdge, TrustDomain } from '../topology/model';
import { bundleEndpointUrlOf } from '../topology/resolve';
import {
  ClusterFederatedTrustDomain,
  ClusterFederatedTrustDomainSpecBundleEndpointProfileType as ProfileType,
  type ClusterFederatedTrustDomainProps,
} from './imports/clusterfederatedtrustdomains-spire.spiffe.io';

/** A ClusterFederatedTrustDomain as plain data, with the CRD's own field names: what a deployer such as Pulumi applies. */
export interface ClusterFederatedTrustDomainManifest {
  readonly apiVersion: string;
  readonly kind: string;
  readonly metadata: ApiObjectMetadata;
  readonly spec: Record<string, unknown>;
}

export interface FederatedTrustDomainProps {
  /** The trust domain that federates (from the resolved topology); its controller manager class reconciles the object. */
  readonly trustDomain: TrustDomain;
  /** The federation edge: which peer, where its bundle endpoint is, how it authenticates, and its bundle when known. */
  readonly edge: FederationEdge;
}

/**
 * One federation relationship of a trust domain, as a ClusterFederatedTrustDomain named after the peer.
 * The controller manager of the domain's class creates it in the SPIRE server, which then fetches the
 * peer's bundle from its bundle endpoint. The endpoint SPIFFE ID is set only for `https_spiffe`, and the
 * peer bundle only when the edge has one (it is read once, when the relationship is created).
 */
export class FederatedTrustDomain extends Construct {
  /**
   * The ClusterFederatedTrustDomain as a plain manifest. A deployer that learns the peer bundle later
   * (e.g. from the peer's stack) passes an edge carrying `trustDomainBundle` and gets the same object.
   */
  public static manifest(props: FederatedTrustDomainProps): ClusterFederatedTrustDomainManifest {
    return ClusterFederatedTrustDomain.manifest(resourceProps(props));
  }

  public readonly resource: ClusterFederatedTrustDomain;

  public constructor(scope: Construct, id: string, props: FederatedTrustDomainProps) {
    super(scope, id);
    this.resource = new ClusterFederatedTrustDomain(this, 'Resource', resourceProps(props));
  }
}

function resourceProps({ trustDomain, edge }: FederatedTrustDomainProps): ClusterFederatedTrustDomainProps {
  return {
    // Trust domain names may contain "_", which object names may not.
    metadata: { name: edge.trustDomain.replace(/_/g, '-') },
    spec: {
      trustDomain: edge.trustDomain,
      bundleEndpointUrl: bundleEndpointUrlOf(trustDomain, edge),
      bundleEndpointProfile:
        edge.profile === 'https_spiffe'
          ? { type: ProfileType.HTTPS_UNDERSCORE_SPIFFE, endpointSpiffeid: edge.endpointSpiffeId }
          : { type: ProfileType.HTTPS_UNDERSCORE_WEB },
      trustDomainBundle: edge.trustDomainBundle,
      className: trustDomain.controllerManager.className,
    },
  };
}
