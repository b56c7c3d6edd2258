/**
 * The security hook of every Directory call: authenticate the caller (the connection's verified
 * X.509-SVID, else a JWT-SVID bearer token), authorize the method with the policy, audit the decision.
 */
import { status as Status } from '@grpc/grpc-js';
import { auditRecord, type Authorizer } from '../authz';
import type { Logger } from '../observability/logger';
import type { DirectoryMetrics } from '../observability/metrics';
import type { AuthorizeCall, CallerContext, IncomingCall } from '../services/caller';
import { StatusError } from '../services/status';
import type { JwtBundleSource } from '@dirtk/spiffe/bundle';
import type { SpiffeId } from '@dirtk/spiffe/spiffeid';
import { authenticateBearer, bearerToken, type PeerIdentity } from '@dirtk/spiffe/spiffetls';

export interface JwtAuthentication {
  readonly bundles: JwtBundleSource;
  /** A token is accepted when its `aud` holds any of these. */
  readonly audiences: readonly string[];
}

export interface CallAuthorizerOptions {
  /** The identity the TLS layer established for the call's connection. */
  readonly peerOf: (call: IncomingCall) => PeerIdentity | undefined;
  /** JWT-SVID bearer authentication; off when absent. */
  readonly jwt?: JwtAuthentication;
  readonly policy: Authorizer;
  readonly logger: Logger;
  readonly metrics: DirectoryMetrics;
}

export function spiffeCallAuthorizer(options: CallAuthorizerOptions): AuthorizeCall {
  return async (call, fullMethod) => {
    const caller = await authenticate(call, options);
    const decision = options.policy.decide(caller, fullMethod);
    options.logger.info('authz', { ...auditRecord(caller, fullMethod, decision) });
    options.metrics.recordAuthzDecision(decision.allowed ? 'allow' : 'deny');
    if (!caller) throw new StatusError(Status.UNAUTHENTICATED, 'not authenticated');
    const context: CallerContext = { spiffeId: caller.toString(), trustDomain: caller.trustDomain.name };
    if (!decision.allowed) {
      throw Object.assign(new StatusError(Status.PERMISSION_DENIED, `not allowed to access ${fullMethod}`), { caller: context });
    }
    return context;
  };
}

/** The connection's X.509 identity wins; a bearer token is only read on connections without one. */
async function authenticate(call: IncomingCall, options: CallAuthorizerOptions): Promise<SpiffeId | undefined> {
  const peer = options.peerOf(call);
  if (peer?.kind === 'x509') return peer.id;
  if (!options.jwt || bearerToken(call.metadata) === undefined) return undefined;
  try {
    return await authenticateBearer(call.metadata, options.jwt.bundles, options.jwt.audiences);
  } catch (error) {
    throw new StatusError(Status.UNAUTHENTICATED, `invalid or expired token: ${(error as Error).message}`);
  }
}
