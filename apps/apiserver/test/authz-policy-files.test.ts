import { describe, expect, it } from 'vitest';
import { parseCsvPolicy, parseYamlPolicy, type Policy, PolicyError } from '../src/authz';
import { PULL, PUSH } from './authz-fixtures';

const problemsOf = (parse: () => Policy): readonly string[] => {
  try {
    parse();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  throw new Error('expected a PolicyError');
};

/** A readable summary of each parsed rule: effect, subject, methods and origin. */
const summary = (policy: Policy) =>
  policy.rules.map((rule) => ({
    effect: rule.effect,
    subject: rule.subject.kind === 'trustDomain' ? rule.subject.trustDomain.name : rule.subject.kind === 'spiffeId' ? rule.subject.pattern.text : rule.subject.kind,
    methods: rule.methods.map((method) => method.text),
    origin: rule.origin,
  }));

describe('CSV policy', () => {
  it('reads the reference rows, tolerating whitespace, comments and blank lines', () => {
    const policy = parseCsvPolicy(
      `# own trust domain\r\np,dir.example,*\r\n\n  p ,  * , ${PULL}   # anyone may pull\n\tp,spiffe://partner.example,${PUSH}\n`,
      'policy.csv',
    );
    expect(policy.source).toBe('policy.csv');
    expect(summary(policy)).toEqual([
      { effect: 'allow', subject: 'dir.example', methods: ['*'], origin: 'policy.csv:2' },
      { effect: 'allow', subject: 'any', methods: [PULL], origin: 'policy.csv:4' },
      { effect: 'allow', subject: 'partner.example', methods: [PUSH], origin: 'policy.csv:5' },
    ]);
  });

  it('treats own and federated as literal trust domain names, not keywords', () => {
    expect(summary(parseCsvPolicy('p,own,*\np,federated,*', 'p.csv')).map((rule) => rule.subject)).toEqual(['own', 'federated']);
  });

  it('lists every problem with its line number', () => {
    const problems = problemsOf(() =>
      parseCsvPolicy(
        [
          'p,dir.example,*',
          'g,alice,admin',
          'p,dir.example',
          'p,dir.example,*,allow',
          'p,Dir.Example,*',
          'p,dir.example:443,*',
          'p,dir.example,/agntcy.dir.store.v1.StoreService/.*',
          'p,.*,/agntcy.dir.store.v1.StoreService/Pull',
          'p,dir.example,Pull',
        ].join('\n'),
        'policy.csv',
      ),
    );
    expect(problems).toEqual([
      'line 2: unsupported row type "g"; rows have the form "p,<trust domain>,<full method>"',
      'line 3: expected "p,<trust domain>,<full method>", got 2 fields',
      'line 4: expected "p,<trust domain>,<full method>", got 4 fields',
      expect.stringMatching(/^line 5: invalid SPIFFE ID or trust domain "Dir\.Example": trust domain has the character "D"/),
      expect.stringMatching(/^line 6: .*a port is not allowed/),
      expect.stringMatching(/^line 7: method "\/agntcy\.dir\.store\.v1\.StoreService\/\.\*" has "\.\*"/),
      expect.stringMatching(/^line 8: invalid SPIFFE ID or trust domain "\.\*"/),
      expect.stringMatching(/^line 9: method "Pull" is not a full method name/),
    ]);
  });

  it('names the file in the error message', () => {
    expect(() => parseCsvPolicy('x', '/etc/dirtk/policy.csv')).toThrow(/invalid authorization policy \/etc\/dirtk\/policy\.csv \(1 problem\):\n {2}- line 1: /);
  });
});

describe('YAML policy', () => {
  const REFERENCE = `
rules:
  - allow: { trustDomain: own, methods: ["*"] }
  - allow:
      trustDomain: federated
      methods:
        - /agntcy.dir.store.v1.StoreService/Pull
        - /agntcy.dir.store.v1.SyncService/*
  - deny:  { spiffeId: "spiffe://partner.example/ns/ci/**", methods: ["/agntcy.dir.store.v1.StoreService/Pull"] }
  - allow: { trustDomain: "*", methods: ["/agntcy.dir.store.v1.StoreService/Lookup"] }
  - allow: { trustDomain: spiffe://own, methods: ["/agntcy.dir.store.v1.StoreService/Lookup"] }
  - allow: { trustDomain: partner.example, methods: ["/agntcy.dir.store.v1.StoreService/Lookup"] }
`;

  it('reads every subject kind, keeping rule order and line numbers', () => {
    expect(summary(parseYamlPolicy(REFERENCE, 'policy.yaml'))).toEqual([
      { effect: 'allow', subject: 'own', methods: ['*'], origin: 'policy.yaml rule 1 (line 3)' },
      {
        effect: 'allow',
        subject: 'federated',
        methods: ['/agntcy.dir.store.v1.StoreService/Pull', '/agntcy.dir.store.v1.SyncService/*'],
        origin: 'policy.yaml rule 2 (line 4)',
      },
      { effect: 'deny', subject: 'spiffe://partner.example/ns/ci/**', methods: [PULL], origin: 'policy.yaml rule 3 (line 9)' },
      { effect: 'allow', subject: 'any', methods: ['/agntcy.dir.store.v1.StoreService/Lookup'], origin: 'policy.yaml rule 4 (line 10)' },
      { effect: 'allow', subject: 'own', methods: ['/agntcy.dir.store.v1.StoreService/Lookup'], origin: 'policy.yaml rule 5 (line 11)' },
      { effect: 'allow', subject: 'partner.example', methods: ['/agntcy.dir.store.v1.StoreService/Lookup'], origin: 'policy.yaml rule 6 (line 12)' },
    ]);
    // The fifth rule names the trust domain literally called "own", unlike the keyword in the first.
    expect(parseYamlPolicy(REFERENCE, 'policy.yaml').rules[4]?.subject.kind).toBe('trustDomain');
  });

  it('lists every problem with its rule and line number', () => {
    const problems = problemsOf(() =>
      parseYamlPolicy(
        `rules:
  - allow: { trustDomain: own, methods: ["*"] }
  - permit: { trustDomain: own, methods: ["*"] }
  - allow: { trustDomain: own, method: ["*"] }
  - deny: { trustDomain: own, spiffeId: "spiffe://dir.example/x", methods: ["*"] }
  - allow: { methods: ["*"] }
  - allow: { trustDomain: own, methods: [] }
  - allow:
      trustDomain: own
      methods:
        - /agntcy.dir.store.v1.StoreService/Pull
        - Push
        - 42
  - allow: { spiffeId: "spiffe://partner.example/ns/ci-*", methods: ["*"] }
  - allow: { trustDomain: "spiffe://partner.example/ns", methods: ["*"] }
  - allow: { trustDomain: 7, methods: ["*"] }
  - allow: { trustDomain: "Evil.Example", methods: ["*"] }
  - allow: own
  - deny: { trustDomain: own, methods: "*" }
version: 2
`,
        'policy.yaml',
      ),
    );
    expect(problems).toEqual([
      'line 20: unknown top-level key "version"; expected "rules"',
      'rule 2 (line 3): expected "allow: { trustDomain | spiffeId, methods }" or "deny: { ... }"',
      'rule 3 (line 4): unknown key "method"; expected "trustDomain" or "spiffeId", and "methods"',
      'rule 3 (line 4): missing "methods"',
      'rule 4 (line 5): needs exactly one of "trustDomain" or "spiffeId", found 2',
      'rule 5 (line 6): needs exactly one of "trustDomain" or "spiffeId", found 0',
      'rule 6 (line 7): "methods" must be a non-empty list of full method names or globs (quote "*")',
      expect.stringMatching(/^rule 7 \(line 12\): method "Push" is not a full method name/),
      'rule 7 (line 13): each method must be a string',
      expect.stringMatching(/^rule 8 \(line 14\): SPIFFE ID pattern .* must be whole segments/),
      expect.stringMatching(/^rule 9 \(line 15\): invalid SPIFFE ID or trust domain .*: a trust domain ID has no path$/),
      'rule 10 (line 16): "trustDomain" must be a string',
      expect.stringMatching(/^rule 11 \(line 17\): invalid SPIFFE ID or trust domain "Evil\.Example"/),
      'rule 12 (line 18): "allow" must be a mapping with "trustDomain" or "spiffeId", and "methods"',
      'rule 13 (line 19): "methods" must be a non-empty list of full method names or globs (quote "*")',
    ]);
  });

  it('reports YAML syntax errors with their position, and explains a bare *', () => {
    expect(problemsOf(() => parseYamlPolicy('rules:\n  - allow: { trustDomain: own, methods: [*] }\n', 'p.yaml'))).toEqual([
      expect.stringMatching(/at line 2, column 42 \(a bare \* is a YAML alias; write "\*" in quotes\)$/),
    ]);
    expect(problemsOf(() => parseYamlPolicy('rules:\n  - allow: {\n', 'p.yaml'))[0]).toMatch(/at line \d+, column \d+$/);
  });

  it.each([
    ['', 'line 1: expected a top-level "rules" list'],
    ['# nothing\n', 'line 1: expected a top-level "rules" list'],
    ['- allow: {}\n', 'line 1: expected a top-level "rules" list'],
    ['rules: {}\n', 'line 1: expected a top-level "rules" list'],
  ])('rejects a document without a rules list: %j', (text, problem) => {
    expect(problemsOf(() => parseYamlPolicy(text, 'p.yaml'))).toEqual([problem]);
  });
});
