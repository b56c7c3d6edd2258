/**
 * The policy model: an ordered list of allow and deny rules, each naming who (a subject) may or may
 * not call what (method patterns). Rules are data; the engine compiles them.
 */
import type { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import type { MethodPattern } from './method-pattern';
import type { SpiffeIdPattern } from './spiffe-id-pattern';

export type Effect = 'allow' | 'deny';

export type Subject =
  /** Every authenticated caller. */
  | { readonly kind: 'any' }
  /** Callers in the server's own trust domain. */
  | { readonly kind: 'own' }
  /** Callers in any trust domain other than the server's own (TLS admits only federated ones). */
  | { readonly kind: 'federated' }
  | { readonly kind: 'trustDomain'; readonly trustDomain: TrustDomain }
  | { readonly kind: 'spiffeId'; readonly pattern: SpiffeIdPattern };

export interface Rule {
  readonly effect: Effect;
  readonly subject: Subject;
  readonly methods: readonly MethodPattern[];
  /** Where the rule came from, for errors and audit lines, e.g. `policy.csv:4`. */
  readonly origin: string;
}

export interface Policy {
  /** The file path, or a name such as `default policy`. */
  readonly source: string;
  readonly rules: readonly Rule[];
}

export function subjectMatches(subject: Subject, caller: SpiffeId, own: TrustDomain): boolean {
  switch (subject.kind) {
    case 'any':
      return true;
    case 'own':
      return caller.trustDomain.equals(own);
    case 'federated':
      return !caller.trustDomain.equals(own);
    case 'trustDomain':
      return caller.trustDomain.equals(subject.trustDomain);
    case 'spiffeId':
      return subject.pattern.matches(caller);
  }
}

export function describeSubject(subject: Subject): string {
  switch (subject.kind) {
    case 'any':
      return 'any trust domain';
    case 'own':
      return 'own trust domain';
    case 'federated':
      return 'federated trust domains';
    case 'trustDomain':
      return `trust domain ${subject.trustDomain.name}`;
    case 'spiffeId':
      return subject.pattern.text;
  }
}
