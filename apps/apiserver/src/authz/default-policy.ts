/** The policy used when no policy file is configured: @dirtk/directory-api's DEFAULT_POLICY_RULES, compiled. */
import { DEFAULT_POLICY_RULES } from '@dirtk/directory-api/contract';
import { MethodPattern } from './method-pattern';
import type { Policy } from './policy';

const SOURCE = 'default policy';

export function defaultPolicy(): Policy {
  return {
    source: SOURCE,
    rules: DEFAULT_POLICY_RULES.map((rule, i) => ({
      effect: rule.effect,
      subject: { kind: rule.trustDomain },
      methods: rule.methods.map((method) => MethodPattern.parse(method)),
      origin: `${SOURCE} rule ${i + 1}`,
    })),
  };
}
