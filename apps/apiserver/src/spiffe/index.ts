export { SpiffeId, SpiffeIdError, TrustDomain } from './id';
export {
  BundleError,
  BundleSet,
  JwtBundle,
  parseBundleMap,
  SpiffeBundle,
  X509Bundle,
  type JwtAuthority,
  type JwtBundleSource,
  type X509BundleSource,
} from './bundle';
export { parseX509Svid, verifyX509Svid, X509SvidError, x509SvidToPem, type X509Svid } from './x509svid';
export { JwtSvidError, validateJwtSvid } from './jwtsvid';
export {
  adaptMatcher,
  AuthorizationError,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  authorizeOneOf,
  type Authorizer,
} from './authorizer';
export {
  ENDPOINT_SOCKET_ENV,
  parseWorkloadEndpoint,
  resolveWorkloadEndpoint,
  WorkloadEndpointError,
  type WorkloadEndpoint,
} from './workload/address';
export { WorkloadApiClient, type WorkloadApiClientOptions } from './workload/client';
export { WorkloadApiError, WorkloadResponseError } from './workload/errors';
export { X509Source, type X509SourceOptions, type X509SourceUpdate } from './workload/x509-source';
export { JwtSource, type JwtSourceOptions, type JwtSourceUpdate } from './workload/jwt-source';
export type { FetchedJwtSvid, ValidatedJwtSvid, X509Context } from './workload/responses';
export type { BundleChanges } from './workload/bundle-changes';
export type { StreamWatcher, Subscription } from './workload/stream';
export type { BackoffOptions } from './workload/backoff';
