/**
 * The decision engine. Deny by default; a matching deny rule wins over any allow rule. For each method
 * the rules whose method patterns match are selected once and cached, so a decision is a map lookup
 * plus subject checks on the already parsed caller ID.
 */
import type { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { describeSubject, type Policy, type Subject, subjectMatches } from './policy';

export interface Decision {
  readonly allowed: boolean;
  /** The matched rule, e.g. `policy.yaml rule 2 (line 5): allow federated trust domains /pkg.S/Pull`, or "default deny". */
  readonly rule: string;
}

/** Anything that decides calls: an engine, or a policy file that swaps engines on reload. */
export interface Authorizer {
  /** `caller` is undefined when the call carries no authenticated identity. */
  decide(caller: SpiffeId | undefined, fullMethod: string): Decision;
}

const DEFAULT_DENY: Decision = Object.freeze({ allowed: false, rule: 'default deny' });
const UNAUTHENTICATED: Decision = Object.freeze({ allowed: false, rule: 'no authenticated caller' });

/** Method names come from registered services, but an unbounded cache must not be a memory lever for odd names. */
const MAX_CACHED_METHODS = 4096;

interface Candidate {
  readonly subject: Subject;
  readonly decision: Decision;
}

interface MethodRules {
  readonly denies: readonly Candidate[];
  readonly allows: readonly Candidate[];
}

export class AuthzEngine implements Authorizer {
  private readonly byMethod = new Map<string, MethodRules>();

  constructor(
    readonly policy: Policy,
    private readonly ownTrustDomain: TrustDomain,
  ) {}

  decide(caller: SpiffeId | undefined, fullMethod: string): Decision {
    if (caller === undefined) return UNAUTHENTICATED;
    const rules = this.rulesFor(fullMethod);
    for (const candidate of rules.denies) {
      if (subjectMatches(candidate.subject, caller, this.ownTrustDomain)) return candidate.decision;
    }
    for (const candidate of rules.allows) {
      if (subjectMatches(candidate.subject, caller, this.ownTrustDomain)) return candidate.decision;
    }
    return DEFAULT_DENY;
  }

  private rulesFor(fullMethod: string): MethodRules {
    const cached = this.byMethod.get(fullMethod);
    if (cached !== undefined) return cached;
    const denies: Candidate[] = [];
    const allows: Candidate[] = [];
    for (const rule of this.policy.rules) {
      const pattern = rule.methods.find((method) => method.matches(fullMethod));
      if (pattern === undefined) continue;
      const decision = Object.freeze({
        allowed: rule.effect === 'allow',
        rule: `${rule.origin}: ${rule.effect} ${describeSubject(rule.subject)} ${pattern.text}`,
      });
      (rule.effect === 'deny' ? denies : allows).push({ subject: rule.subject, decision });
    }
    const rules = { denies, allows };
    if (this.byMethod.size < MAX_CACHED_METHODS) this.byMethod.set(fullMethod, rules);
    return rules;
  }
}
