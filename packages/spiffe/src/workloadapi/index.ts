/** The SPIFFE Workload API: the client, and sources that keep X.509 and JWT identities and bundles fresh. */
export { ENDPOINT_SOCKET_ENV, parseWorkloadEndpoint, resolveWorkloadEndpoint, WorkloadEndpointError, type WorkloadEndpoint } from './address';
export { WorkloadApiClient, type WorkloadApiClientOptions } from './client';
export { WorkloadApiError, WorkloadResponseError } from './errors';
export { X509Source, type X509SourceOptions, type X509SourceUpdate } from './x509-source';
export { JwtSource, type JwtSourceOptions, type JwtSourceUpdate } from './jwt-source';
export type { FetchedJwtSvid, ValidatedJwtSvid, X509Context } from './responses';
export type { BundleChanges } from './bundle-changes';
export type { StreamWatcher, Subscription } from './stream';
export type { BackoffOptions } from './backoff';
