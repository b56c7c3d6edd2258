/**
 * The YAML policy form: an ordered `rules` list of `allow:` / `deny:` entries, each with one subject
 * (`trustDomain: own | federated | "*" | <name>` or `spiffeId: <pattern>`) and a `methods` list.
 * Unknown keys are errors, so a misspelt key never silently changes what a rule grants.
 */
import { isMap, isScalar, isSeq, LineCounter, parseDocument } from 'yaml';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { collectProblem, PolicyError } from './errors';
import { MethodPattern } from './method-pattern';
import type { Policy, Rule, Subject } from './policy';
import { SpiffeIdPattern } from './spiffe-id-pattern';

const RULE_SHAPE = '"allow: { trustDomain | spiffeId, methods }" or "deny: { ... }"';

interface Context {
  readonly source: string;
  readonly problems: string[];
  readonly lineOf: (node: unknown) => number;
}

export function parseYamlPolicy(text: string, source: string): Policy {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter });
  if (document.errors.length > 0) {
    throw new PolicyError(source, document.errors.map((error) => syntaxProblem(error.message, error.code)));
  }
  const context: Context = {
    source,
    problems: [],
    lineOf: (node) => {
      const range = isScalar(node) || isMap(node) || isSeq(node) ? node.range : undefined;
      return range ? lineCounter.linePos(range[0]).line : 1;
    },
  };
  const { problems, lineOf } = context;
  const rules: Rule[] = [];
  const root = document.contents;
  if (isMap(root)) {
    for (const pair of root.items) {
      const key = stringValue(pair.key);
      if (key !== 'rules') problems.push(`line ${lineOf(pair.key)}: unknown top-level key ${JSON.stringify(key ?? String(pair.key))}; expected "rules"`);
    }
  }
  const rulesNode = isMap(root) ? root.get('rules', true) : undefined;
  if (isSeq(rulesNode)) {
    rulesNode.items.forEach((item, index) => {
      const rule = parseRule(item, index + 1, context);
      if (rule !== undefined) rules.push(rule);
    });
  } else {
    problems.push(`line ${lineOf(rulesNode ?? root)}: expected a top-level "rules" list`);
  }
  if (problems.length > 0) throw new PolicyError(source, problems);
  return { source, rules };
}

function parseRule(item: unknown, number: number, context: Context): Rule | undefined {
  const { problems } = context;
  const at = (node: unknown) => `rule ${number} (line ${context.lineOf(node)})`;
  const pair = isMap(item) && item.items.length === 1 ? item.items[0] : undefined;
  const effect = stringValue(pair?.key);
  if (pair === undefined || (effect !== 'allow' && effect !== 'deny')) {
    problems.push(`${at(item)}: expected ${RULE_SHAPE}`);
    return undefined;
  }
  const body = pair.value;
  if (!isMap(body)) {
    problems.push(`${at(item)}: "${effect}" must be a mapping with "trustDomain" or "spiffeId", and "methods"`);
    return undefined;
  }
  let subject: Subject | undefined;
  let subjectKeys = 0;
  let methods: MethodPattern[] | undefined;
  for (const field of body.items) {
    const key = stringValue(field.key);
    if (key === 'trustDomain' || key === 'spiffeId') {
      subjectKeys++;
      const value = stringValue(field.value);
      if (value === undefined) {
        problems.push(`${at(field.value ?? field.key)}: "${key}" must be a string`);
      } else {
        subject = collectProblem(problems, at(field.value), () => (key === 'trustDomain' ? trustDomainSubject(value) : spiffeIdSubject(value)));
      }
    } else if (key === 'methods') {
      methods = parseMethods(field.value ?? field.key, at, problems);
    } else {
      problems.push(`${at(field.key)}: unknown key ${JSON.stringify(key ?? String(field.key))}; expected "trustDomain" or "spiffeId", and "methods"`);
    }
  }
  if (subjectKeys !== 1) problems.push(`${at(item)}: needs exactly one of "trustDomain" or "spiffeId", found ${subjectKeys}`);
  if (!body.has('methods')) problems.push(`${at(item)}: missing "methods"`);
  // Any problem recorded above rejects the whole policy, so a rule is built only when both parts parsed.
  if (subject === undefined || methods === undefined) return undefined;
  return { effect, subject, methods, origin: `${context.source} ${at(item)}` };
}

function parseMethods(node: unknown, at: (node: unknown) => string, problems: string[]): MethodPattern[] | undefined {
  if (!isSeq(node) || node.items.length === 0) {
    problems.push(`${at(node)}: "methods" must be a non-empty list of full method names or globs (quote "*")`);
    return undefined;
  }
  const methods: MethodPattern[] = [];
  for (const item of node.items) {
    const text = stringValue(item);
    if (text === undefined) {
      problems.push(`${at(item)}: each method must be a string`);
      continue;
    }
    const method = collectProblem(problems, at(item), () => MethodPattern.parse(text));
    if (method !== undefined) methods.push(method);
  }
  return methods;
}

function trustDomainSubject(value: string): Subject {
  switch (value) {
    case '*':
      return { kind: 'any' };
    case 'own':
      return { kind: 'own' };
    case 'federated':
      return { kind: 'federated' };
    default:
      // A trust domain literally named "own" or "federated" is written in its ID form, spiffe://own.
      return { kind: 'trustDomain', trustDomain: TrustDomain.parse(value) };
  }
}

function spiffeIdSubject(value: string): Subject {
  return { kind: 'spiffeId', pattern: SpiffeIdPattern.parse(value) };
}

function stringValue(node: unknown): string | undefined {
  return isScalar(node) && typeof node.value === 'string' ? node.value : undefined;
}

function syntaxProblem(message: string, code: string): string {
  const summary = (message.split('\n')[0] ?? message).replace(/:$/, '');
  return code === 'BAD_ALIAS' ? `${summary} (a bare * is a YAML alias; write "*" in quotes)` : summary;
}
