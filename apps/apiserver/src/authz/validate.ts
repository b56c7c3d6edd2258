/**
 * Start-up check of a policy against the methods the server actually registers, so that a misspelt
 * or wrong-package method (the reference's `agntcy.dir.sync.v1` mistake) stops the server instead of
 * silently granting nothing.
 */
import { PolicyError } from './errors';
import type { Policy } from './policy';

/** Throws a `PolicyError` listing every method or glob that names no known method, and an empty policy. */
export function validatePolicy(policy: Policy, knownMethods: readonly string[]): void {
  const known = new Set(knownMethods);
  const problems: string[] = [];
  if (policy.rules.length === 0) {
    problems.push('the policy has no rules, so it would deny every call; write an explicit deny rule if that is intended');
  }
  for (const rule of policy.rules) {
    for (const method of rule.methods) {
      if (method.kind === 'exact' && !known.has(method.text)) {
        problems.push(`${rule.origin}: unknown method ${JSON.stringify(method.text)}${suggestion(method.text, knownMethods)}`);
      } else if (method.kind === 'glob' && !knownMethods.some((name) => method.matches(name))) {
        problems.push(`${rule.origin}: method pattern ${JSON.stringify(method.text)} matches no known method${suggestion(method.text, knownMethods)}`);
      }
    }
  }
  if (problems.length > 0) throw new PolicyError(policy.source, problems);
}

function suggestion(text: string, knownMethods: readonly string[]): string {
  let closest: string | undefined;
  let closestDistance = Infinity;
  for (const name of knownMethods) {
    const distance = editDistance(text, name);
    if (distance < closestDistance) {
      closest = name;
      closestDistance = distance;
    }
  }
  return closest === undefined ? '' : `; did you mean ${JSON.stringify(closest)}?`;
}

/** Levenshtein distance over UTF-16 code units, keeping one row of the table. */
function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0] as number;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j] as number;
      const substitution = diagonal + (a[i - 1] === b[j - 1] ? 0 : 1);
      row[j] = Math.min(above + 1, (row[j - 1] as number) + 1, substitution);
      diagonal = above;
    }
  }
  return row[b.length] as number;
}
