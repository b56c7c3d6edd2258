import { Construct } from 'constructs';
import type { FederationEdge, TrustDomain } from '../topology/model';
import { bundleEndpointUrlOf } from '../topology/resolve';
import {
  ClusterFederatedTrustDomain,
  type BundleEndpointProfileSpec,
  type ClusterFederatedTrustDomainManifest,
} from './custom-resources/cluster-federated-trust-domain';

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
    const { edge, trustDomain } = props;
    const profile: BundleEndpointProfileSpec =
      edge.profile === 'https_spiffe' ? { type: 'https_spiffe', endpointSPIFFEID: edge.endpointSpiffeId } : { type: 'https_web' };
    return ClusterFederatedTrustDomain.manifest({
      // Trust domain names may contain "_", which object names may not.
      metadata: { name: edge.trustDomain.replace(/_/g, '-') },
      spec: {
        trustDomain: edge.trustDomain,
        bundleEndpointURL: bundleEndpointUrlOf(trustDomain, edge),
        bundleEndpointProfile: profile,
        ...(edge.trustDomainBundle !== undefined && { trustDomainBundle: edge.trustDomainBundle }),
        className: props.trustDomain.controllerManager.className,
      },
    });
  }

  public readonly resource: ClusterFederatedTrustDomain;

  public constructor(scope: Construct, id: string, props: FederatedTrustDomainProps) {
    super(scope, id);
    const { metadata, spec } = FederatedTrustDomain.manifest(props);
    this.resource = new ClusterFederatedTrustDomain(this, 'Resource', { metadata, spec });
  }
}
