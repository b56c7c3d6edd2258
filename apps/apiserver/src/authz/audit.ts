import type { SpiffeId } from '@dirtk/spiffe/spiffeid';
import type { Decision } from './engine';

/** The structured fields of the one log line written per authorization decision. */
export interface AuthzAuditRecord {
  readonly event: 'authz';
  /** The caller's SPIFFE ID, or null when the call carried no authenticated identity. */
  readonly caller: string | null;
  readonly callerTrustDomain: string | null;
  readonly method: string;
  readonly decision: 'allow' | 'deny';
  readonly rule: string;
}

export function auditRecord(caller: SpiffeId | undefined, method: string, decision: Decision): AuthzAuditRecord {
  return {
    event: 'authz',
    caller: caller === undefined ? null : caller.toString(),
    callerTrustDomain: caller === undefined ? null : caller.trustDomain.name,
    method,
    decision: decision.allowed ? 'allow' : 'deny',
    rule: decision.rule,
  };
}
