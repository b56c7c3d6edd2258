/** Trust bundles per trust domain: X.509 authorities, JWT authorities, the SPIFFE bundle format, bundle sets. */
export {
  BundleError,
  BundleSet,
  JwtBundle,
  parseBundleMap,
  SpiffeBundle,
  X509Bundle,
  type JwtAuthority,
  type KeySetOptions,
  type JwtBundleSource,
  type X509BundleSource,
} from './bundle';
