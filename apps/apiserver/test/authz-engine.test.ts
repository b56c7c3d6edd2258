import { describe, expect, it } from 'vitest';
import { auditRecord, AuthzEngine, defaultPolicy, parseCsvPolicy, parseYamlPolicy } from '../src/authz';
import { SpiffeId, SpiffeIdError } from '@dirtk/spiffe/spiffeid';
import { id, LOOKALIKE_CALLERS, OWN, PULL, PULL_REFERRER, PUSH, STORE_SYNC_METHODS } from './authz-fixtures';

const OWN_CALLER = id('spiffe://dir.example/ns/dir/sa/dirctl');
const PARTNER = id('spiffe://partner.example/ns/dir/sa/apiserver');

const csvEngine = (text: string) => new AuthzEngine(parseCsvPolicy(text, 'policy.csv'), OWN);
const yamlEngine = (text: string) => new AuthzEngine(parseYamlPolicy(text, 'policy.yaml'), OWN);
const allowedMethods = (engine: AuthzEngine, caller: SpiffeId) => STORE_SYNC_METHODS.filter((method) => engine.decide(caller, method).allowed);

describe('default policy', () => {
  const engine = new AuthzEngine(defaultPolicy(), OWN);
  const FEDERATED_ALLOWED = new Set([
    '/agntcy.dir.store.v1.StoreService/Pull',
    '/agntcy.dir.store.v1.StoreService/Lookup',
    '/agntcy.dir.store.v1.StoreService/PullReferrer',
    '/agntcy.dir.store.v1.SyncService/RequestRegistryCredentials',
  ]);

  it.each(STORE_SYNC_METHODS.map((method) => [method]))('%s: own trust domain allowed', (method) => {
    expect(engine.decide(OWN_CALLER, method)).toEqual({ allowed: true, rule: 'default policy rule 1: allow own trust domain *' });
  });

  it.each(STORE_SYNC_METHODS.map((method) => [method, FEDERATED_ALLOWED.has(method)]))('%s: federated trust domain allowed=%s', (method, allowed) => {
    expect(engine.decide(PARTNER, method)).toEqual({
      allowed,
      rule: allowed ? `default policy rule 2: allow federated trust domains ${method}` : 'default deny',
    });
  });

  it('grants RequestRegistryCredentials in store.v1, not in the sync.v1 package the reference names', () => {
    expect(engine.decide(PARTNER, '/agntcy.dir.sync.v1.SyncService/RequestRegistryCredentials').allowed).toBe(false);
  });

  it('denies federated callers every other service on the port', () => {
    for (const method of ['/agntcy.dir.search.v1.SearchService/SearchCIDs', '/agntcy.dir.routing.v1.RoutingService/Publish', '/agntcy.dir.sign.v1.SignService/Sign']) {
      expect(engine.decide(PARTNER, method)).toEqual({ allowed: false, rule: 'default deny' });
      expect(engine.decide(OWN_CALLER, method).allowed).toBe(true);
    }
  });

  it.each(LOOKALIKE_CALLERS.map((caller) => [caller]))('lookalike %s gets only federated rights', (caller) => {
    expect(allowedMethods(engine, id(caller))).toEqual(STORE_SYNC_METHODS.filter((method) => FEDERATED_ALLOWED.has(method)));
    expect(engine.decide(id(caller), PUSH)).toEqual({ allowed: false, rule: 'default deny' });
  });
});

describe('trust domain matching', () => {
  it.each(LOOKALIKE_CALLERS.map((caller) => [caller]))('p,dir.example,* grants nothing to %s', (caller) => {
    const engine = csvEngine('p,dir.example,*');
    expect(allowedMethods(engine, id(caller))).toEqual([]);
    expect(allowedMethods(engine, OWN_CALLER)).toEqual(STORE_SYNC_METHODS);
  });

  it('dirXexample is not even a valid trust domain, so no such caller can exist', () => {
    expect(() => SpiffeId.parse('spiffe://dirXexample/ns/dir')).toThrow(SpiffeIdError);
  });

  it('own matches the server trust domain exactly, federated everything else', () => {
    const engine = yamlEngine(`
rules:
  - allow: { trustDomain: own, methods: ["${PUSH}"] }
  - allow: { trustDomain: federated, methods: ["${PULL}"] }
`);
    expect(engine.decide(OWN_CALLER, PUSH).allowed).toBe(true);
    expect(engine.decide(OWN_CALLER, PULL).allowed).toBe(false);
    for (const caller of LOOKALIKE_CALLERS) {
      expect(engine.decide(id(caller), PUSH).allowed).toBe(false);
      expect(engine.decide(id(caller), PULL).allowed).toBe(true);
    }
  });

  it('"own" follows the engine\'s trust domain, not a name in the file', () => {
    const policy = parseYamlPolicy('rules:\n  - allow: { trustDomain: own, methods: ["*"] }\n', 'policy.yaml');
    expect(new AuthzEngine(policy, PARTNER.trustDomain).decide(PARTNER, PUSH).allowed).toBe(true);
    expect(new AuthzEngine(policy, PARTNER.trustDomain).decide(OWN_CALLER, PUSH).allowed).toBe(false);
  });

  it('"*" as the trust domain field grants any authenticated caller', () => {
    const engine = csvEngine(`p,*,${PULL}`);
    expect(engine.decide(OWN_CALLER, PULL).allowed).toBe(true);
    expect(engine.decide(PARTNER, PULL).allowed).toBe(true);
    expect(engine.decide(PARTNER, PUSH).allowed).toBe(false);
  });
});

describe('reference CSV semantics', () => {
  const engine = csvEngine(`# federated read-only
p, dir.example, ${PULL}
`);

  it('p,dir.example,.../Pull grants Pull to dir.example callers, with the row as the rule', () => {
    expect(engine.decide(OWN_CALLER, PULL)).toEqual({ allowed: true, rule: `policy.csv:2: allow trust domain dir.example ${PULL}` });
    expect(engine.decide(id('spiffe://dir.example'), PULL).allowed).toBe(true);
  });

  it('never grants PullReferrer (the reference regex does)', () => {
    expect(engine.decide(OWN_CALLER, PULL_REFERRER)).toEqual({ allowed: false, rule: 'default deny' });
  });

  it('grants nothing to other or lookalike trust domains', () => {
    for (const caller of [PARTNER.toString(), ...LOOKALIKE_CALLERS]) {
      expect(engine.decide(id(caller), PULL)).toEqual({ allowed: false, rule: 'default deny' });
    }
  });
});

describe('deny rules and defaults', () => {
  const denyCi = (order: 'deny-first' | 'allow-first') => {
    const deny = '  - deny: { spiffeId: "spiffe://partner.example/ns/ci/**", methods: ["/agntcy.dir.store.v1.StoreService/Pull"] }';
    const allow = '  - allow: { trustDomain: partner.example, methods: ["/agntcy.dir.store.v1.StoreService/*"] }';
    return yamlEngine(`rules:\n${order === 'deny-first' ? `${deny}\n${allow}` : `${allow}\n${deny}`}\n`);
  };

  it.each(['deny-first', 'allow-first'] as const)('an explicit deny beats an allow (%s)', (order) => {
    const engine = denyCi(order);
    const ci = id('spiffe://partner.example/ns/ci/sa/builder');
    const line = order === 'deny-first' ? 2 : 3;
    expect(engine.decide(ci, PULL)).toEqual({
      allowed: false,
      rule: `policy.yaml rule ${line - 1} (line ${line}): deny spiffe://partner.example/ns/ci/** ${PULL}`,
    });
    expect(engine.decide(ci, PULL_REFERRER).allowed).toBe(true);
    expect(engine.decide(PARTNER, PULL).allowed).toBe(true);
    expect(engine.decide(id('spiffe://partner.example/ns/cis/sa/builder'), PULL).allowed).toBe(true);
  });

  it('allows by SPIFFE path pattern only the matching workloads', () => {
    const engine = yamlEngine(`rules:\n  - allow: { spiffeId: "spiffe://partner.example/ns/*/sa/syncer", methods: ["${PULL}"] }\n`);
    expect(engine.decide(id('spiffe://partner.example/ns/dir/sa/syncer'), PULL).allowed).toBe(true);
    expect(engine.decide(id('spiffe://partner.example/ns/dir/sa/syncer/x'), PULL).allowed).toBe(false);
    expect(engine.decide(id('spiffe://partner.example/sa/syncer'), PULL).allowed).toBe(false);
    expect(engine.decide(id('spiffe://partner.example.evil/ns/dir/sa/syncer'), PULL).allowed).toBe(false);
  });

  it('denies by default what no rule mentions', () => {
    const engine = csvEngine(`p,partner.example,${PULL}`);
    expect(engine.decide(PARTNER, PUSH)).toEqual({ allowed: false, rule: 'default deny' });
    expect(engine.decide(PARTNER, '/no.such.Service/Method')).toEqual({ allowed: false, rule: 'default deny' });
  });

  it('denies a caller without an identity, even under a rule for any trust domain', () => {
    const engine = csvEngine('p,*,*');
    expect(engine.decide(undefined, PULL)).toEqual({ allowed: false, rule: 'no authenticated caller' });
    expect(engine.decide(PARTNER, PULL).allowed).toBe(true);
  });

  it('names the method pattern of the rule that matched', () => {
    const engine = yamlEngine(`rules:\n  - allow: { trustDomain: federated, methods: ["${PUSH}", "/agntcy.dir.store.v1.StoreService/*"] }\n`);
    expect(engine.decide(PARTNER, PUSH).rule).toBe(`policy.yaml rule 1 (line 2): allow federated trust domains ${PUSH}`);
    expect(engine.decide(PARTNER, PULL).rule).toBe('policy.yaml rule 1 (line 2): allow federated trust domains /agntcy.dir.store.v1.StoreService/*');
  });

  it('stays correct for more distinct method names than it caches', () => {
    const engine = yamlEngine('rules:\n  - allow: { trustDomain: federated, methods: ["/x.S/*"] }\n');
    for (let i = 0; i < 5000; i++) {
      expect(engine.decide(PARTNER, `/x.S/M${i}`).allowed).toBe(true);
      expect(engine.decide(PARTNER, `/x.T/M${i}`).allowed).toBe(false);
    }
  });
});

describe('audit record', () => {
  const engine = new AuthzEngine(defaultPolicy(), OWN);

  it('describes an allowed call', () => {
    expect(auditRecord(PARTNER, PULL, engine.decide(PARTNER, PULL))).toEqual({
      event: 'authz',
      caller: 'spiffe://partner.example/ns/dir/sa/apiserver',
      callerTrustDomain: 'partner.example',
      method: PULL,
      decision: 'allow',
      rule: `default policy rule 2: allow federated trust domains ${PULL}`,
    });
  });

  it('describes a denied call', () => {
    expect(auditRecord(PARTNER, PUSH, engine.decide(PARTNER, PUSH))).toMatchObject({ decision: 'deny', rule: 'default deny', method: PUSH });
  });

  it('records an unauthenticated caller as null', () => {
    expect(auditRecord(undefined, PUSH, engine.decide(undefined, PUSH))).toEqual({
      event: 'authz',
      caller: null,
      callerTrustDomain: null,
      method: PUSH,
      decision: 'deny',
      rule: 'no authenticated caller',
    });
  });
});
