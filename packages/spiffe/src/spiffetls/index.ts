/** SPIFFE-authenticated gRPC for grpc-js: mTLS server and client credentials, JWT-SVID bearer tokens, authorizers. */
export { adaptMatcher, AuthorizationError, authorizeAny, authorizeId, authorizeMemberOf, authorizeOneOf, type Authorizer } from './authorizer';
export { SpiffeServer, type PeerIdentity, type ServerX509Source, type SpiffeServerOptions } from './server';
export { spiffeChannelCredentials, type SpiffeClientOptions } from './client';
export { authenticateBearer, bearerToken, jwtBearerCallCredentials } from './jwt-bearer';
export { peerChainDer } from './peer-chain';
