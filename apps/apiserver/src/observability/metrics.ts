/** The apiserver's Prometheus metrics, in a registry of its own (never prom-client's global one). */
import { collectDefaultMetrics, Counter, Gauge, Registry } from 'prom-client';

/** Trust domain label for calls without an authenticated caller (health checks, calls refused before authentication). */
export const NO_TRUST_DOMAIN = 'none';

export type AuthzDecision = 'allow' | 'deny';

export class DirectoryMetrics {
  readonly registry = new Registry();
  private readonly rpcs: Counter<'method' | 'code' | 'trust_domain'>;
  private readonly authzDecisions: Counter<'decision'>;
  private readonly svidExpiry: Gauge;

  constructor() {
    collectDefaultMetrics({ register: this.registry, prefix: 'dirtk_apiserver_' });
    this.rpcs = new Counter({
      name: 'dirtk_apiserver_rpcs_total',
      help: 'Completed RPCs by full method, gRPC status code and caller trust domain.',
      labelNames: ['method', 'code', 'trust_domain'],
      registers: [this.registry],
    });
    this.authzDecisions = new Counter({
      name: 'dirtk_apiserver_authz_decisions_total',
      help: 'Authorization decisions by outcome.',
      labelNames: ['decision'],
      registers: [this.registry],
    });
    this.svidExpiry = new Gauge({
      name: 'dirtk_apiserver_svid_expiry_timestamp_seconds',
      help: 'Expiry (Unix time) of the X.509-SVID the server currently presents.',
      registers: [this.registry],
    });
  }

  /** `code` is the status name, e.g. "OK" or "NOT_FOUND". */
  recordRpc(method: string, code: string, trustDomain: string = NO_TRUST_DOMAIN): void {
    this.rpcs.inc({ method, code, trust_domain: trustDomain });
  }

  recordAuthzDecision(decision: AuthzDecision): void {
    this.authzDecisions.inc({ decision });
  }

  setSvidExpiry(notAfter: Date): void {
    this.svidExpiry.set(notAfter.getTime() / 1000);
  }
}
