/**
 * The reference implementation's policy CSV: rows `p,<trust domain>,<full method>`, each an allow
 * rule. `*` as a whole field means any trust domain or any method. Unlike the reference (Casbin
 * keyMatch/regexMatch), fields are parsed and matched exactly or as anchored globs.
 */
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { collectProblem, PolicyError } from './errors';
import { MethodPattern } from './method-pattern';
import type { Policy, Rule, Subject } from './policy';

const ROW_SHAPE = '"p,<trust domain>,<full method>"';

export function parseCsvPolicy(text: string, source: string): Policy {
  const rules: Rule[] = [];
  const problems: string[] = [];
  text.split(/\r?\n/).forEach((raw, index) => {
    const where = `line ${index + 1}`;
    // Neither trust domains nor method names can contain "#", so it always starts a comment.
    const hash = raw.indexOf('#');
    const line = (hash === -1 ? raw : raw.slice(0, hash)).trim();
    if (line === '') return;
    const fields = line.split(',').map((field) => field.trim());
    const [type, trustDomain, method] = fields;
    if (type !== 'p') {
      problems.push(`${where}: unsupported row type ${JSON.stringify(type)}; rows have the form ${ROW_SHAPE}`);
      return;
    }
    if (fields.length !== 3 || trustDomain === undefined || method === undefined) {
      problems.push(`${where}: expected ${ROW_SHAPE}, got ${fields.length} fields`);
      return;
    }
    const subject = collectProblem(problems, where, (): Subject =>
      trustDomain === '*' ? { kind: 'any' } : { kind: 'trustDomain', trustDomain: TrustDomain.parse(trustDomain) },
    );
    const pattern = collectProblem(problems, where, () => MethodPattern.parse(method));
    if (subject !== undefined && pattern !== undefined) {
      rules.push({ effect: 'allow', subject, methods: [pattern], origin: `${source}:${index + 1}` });
    }
  });
  if (problems.length > 0) throw new PolicyError(source, problems);
  return { source, rules };
}
