import { describe, expect, it } from 'vitest';
import { defaultPolicy, parseCsvPolicy, parseYamlPolicy, PolicyError, validatePolicy } from '../src/authz';
import { STORE_SYNC_METHODS } from './authz-fixtures';

const problemsOf = (run: () => void): readonly string[] => {
  try {
    run();
  } catch (error) {
    if (error instanceof PolicyError) return error.problems;
    throw error;
  }
  return [];
};

describe('validatePolicy', () => {
  it('accepts the default policy against the Store and Sync methods', () => {
    expect(problemsOf(() => validatePolicy(defaultPolicy(), STORE_SYNC_METHODS))).toEqual([]);
  });

  it('names the reference\'s wrong-package method and suggests the right one', () => {
    const policy = parseCsvPolicy('p,*,/agntcy.dir.sync.v1.SyncService/RequestRegistryCredentials\n', '/etc/dirtk/policy.csv');
    expect(() => validatePolicy(policy, STORE_SYNC_METHODS)).toThrow(
      '/etc/dirtk/policy.csv:1: unknown method "/agntcy.dir.sync.v1.SyncService/RequestRegistryCredentials"; did you mean "/agntcy.dir.store.v1.SyncService/RequestRegistryCredentials"?',
    );
  });

  it('lists every unknown method and every glob that matches nothing, in every rule', () => {
    const policy = parseYamlPolicy(
      `rules:
  - allow: { trustDomain: own, methods: ["*", "/agntcy.dir.store.v1.StoreService/Pul"] }
  - deny: { trustDomain: federated, methods: ["/agntcy.dir.store.v1.StoreService/*", "/agntcy.dir.store.v2.StoreService/*"] }
  - allow: { trustDomain: federated, methods: ["/agntcy.dir.store.v1.StoreService/pull"] }
`,
      'policy.yaml',
    );
    expect(problemsOf(() => validatePolicy(policy, STORE_SYNC_METHODS))).toEqual([
      'policy.yaml rule 1 (line 2): unknown method "/agntcy.dir.store.v1.StoreService/Pul"; did you mean "/agntcy.dir.store.v1.StoreService/Pull"?',
      'policy.yaml rule 2 (line 3): method pattern "/agntcy.dir.store.v2.StoreService/*" matches no known method; did you mean "/agntcy.dir.store.v1.StoreService/Push"?',
      'policy.yaml rule 3 (line 4): unknown method "/agntcy.dir.store.v1.StoreService/pull"; did you mean "/agntcy.dir.store.v1.StoreService/Pull"?',
    ]);
  });

  it('rejects a policy without rules, which would deny every call', () => {
    expect(problemsOf(() => validatePolicy(parseCsvPolicy('# empty\n', 'policy.csv'), STORE_SYNC_METHODS))).toEqual([
      expect.stringContaining('the policy has no rules'),
    ]);
  });

  it('accepts "*" even before any method is known, but no named method', () => {
    expect(problemsOf(() => validatePolicy(parseCsvPolicy('p,*,*', 'p.csv'), []))).toEqual([]);
    expect(problemsOf(() => validatePolicy(parseCsvPolicy('p,*,/a.B/C', 'p.csv'), []))).toEqual(['p.csv:1: unknown method "/a.B/C"']);
  });
});
