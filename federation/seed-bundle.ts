import { JwtBundle, SpiffeBundle, X509Bundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { checkUpstreamRoot, type UpstreamRoot } from './upstream-ca';

/**
 * The SPIFFE bundle a peer is seeded with: the domain's upstream root as its only X.509 authority. SPIRE
 * publishes that same root as the domain's X.509 bundle (its own CA is an intermediate below it), so the
 * seed stays valid across SPIRE CA rotation. It has no JWT keys: those arrive with the first refresh.
 *
 * `spiffe_sequence` is 0, below any sequence SPIRE serves, so every fetched bundle supersedes the seed.
 */
export function seedBundle(root: UpstreamRoot, refreshHintSeconds: number): string {
  const td = TrustDomain.parse(root.trustDomain);
  return new SpiffeBundle({
    x509: new X509Bundle(td, [checkUpstreamRoot(root)]),
    jwt: new JwtBundle(td, []),
    sequence: 0n,
    refreshHintSeconds,
  }).serialize();
}
