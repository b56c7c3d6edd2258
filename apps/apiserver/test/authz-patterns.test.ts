import { describe, expect, it } from 'vitest';
import { MethodPattern, PatternError, SpiffeIdPattern } from '../src/authz';
import { id, PULL, PULL_REFERRER, STORE_SYNC_METHODS } from './authz-fixtures';

describe('MethodPattern', () => {
  it('an exact name matches only itself: Pull never matches PullReferrer', () => {
    const pull = MethodPattern.parse(PULL);
    expect(pull.kind).toBe('exact');
    expect(STORE_SYNC_METHODS.filter((method) => pull.matches(method))).toEqual([PULL]);
    expect(pull.matches(PULL_REFERRER)).toBe(false);
    expect(pull.matches(`${PULL}/`)).toBe(false);
    expect(pull.matches(PULL.toLowerCase())).toBe(false);
  });

  it('"*" alone matches every method', () => {
    const any = MethodPattern.parse('*');
    expect(any.kind).toBe('any');
    expect(STORE_SYNC_METHODS.every((method) => any.matches(method))).toBe(true);
  });

  it('a service glob matches that service only', () => {
    const store = MethodPattern.parse('/agntcy.dir.store.v1.StoreService/*');
    expect(store.kind).toBe('glob');
    expect(STORE_SYNC_METHODS.filter((method) => store.matches(method))).toEqual(STORE_SYNC_METHODS.slice(0, 7));
  });

  it.each([
    ['/agntcy.dir.store.v1.StoreService/*', '/agntcy.dir.store.v1.StoreService.Extra/Pull'],
    ['/agntcy.dir.store.v1.StoreService/*', '/agntcy.dir.store.v1.StoreService/Pull/Extra'],
    ['/agntcy.dir.*/Pull', '/agntcy.dir.store.v1.StoreService/Pull'],
    ['/agntcy.*.store.v1.StoreService/Pull', '/agntcy.dir.x.store.v1.StoreService/Pull'],
    ['/*/Pull', '/agntcy.dir.store.v1.StoreService/Pull'],
    ['/*/*', '/a.B/C'],
    ['/agntcy.dir.store.v1.*/Pull', '/agntcy.dir.store.v1.StoreService/PullReferrer'],
  ])('%s: "*" never crosses "." or "/", so it does not match %s', (pattern, method) => {
    expect(MethodPattern.parse(pattern).matches(method)).toBe(false);
  });

  it.each([
    ['/agntcy.dir.*.v1.StoreService/Pull', '/agntcy.dir.store.v1.StoreService/Pull'],
    ['/agntcy.dir.store.v1.*/RequestRegistryCredentials', '/agntcy.dir.store.v1.SyncService/RequestRegistryCredentials'],
    ['/*/*', '/Service/Method'],
  ])('%s matches %s component by component', (pattern, method) => {
    expect(MethodPattern.parse(pattern).matches(method)).toBe(true);
  });

  it.each([
    ['', 'is not a full method name'],
    ['Pull', 'is not a full method name'],
    ['agntcy.dir.store.v1.StoreService/Pull', 'is not a full method name'],
    ['/agntcy.dir.store.v1.StoreService', 'is not a full method name'],
    ['/agntcy.dir.store.v1.StoreService/Pull/x', 'is not a full method name'],
    ['/agntcy.dir.store.v1.StoreService/Pull*', '"*" must stand alone'],
    ['/agntcy.dir.store.v1.StoreService/**', '"*" must stand alone'],
    ['/agntcy.dir.store.v1.StoreService/.*', '"*" must stand alone'],
    ['/agntcy.dir.store.v1.StoreService./Pull', 'empty name component'],
    ['/agntcy..dir.StoreService/Pull', 'empty name component'],
    ['/agntcy.dir.store.v1.StoreService/Pu-ll', 'not a protobuf identifier'],
    ['/agntcy.dir.store.v1.StoreService/ Pull', 'not a protobuf identifier'],
  ])('rejects %j (%s)', (text, problem) => {
    expect(() => MethodPattern.parse(text)).toThrow(PatternError);
    expect(() => MethodPattern.parse(text)).toThrow(problem);
  });
});

describe('SpiffeIdPattern', () => {
  const matching = (pattern: string, candidates: readonly string[]) =>
    candidates.filter((candidate) => SpiffeIdPattern.parse(pattern).matches(id(candidate)));

  const candidates = [
    'spiffe://partner.example',
    'spiffe://partner.example/ns',
    'spiffe://partner.example/ns/ci',
    'spiffe://partner.example/ns/ci/sa',
    'spiffe://partner.example/ns/ci/sa/builder',
    'spiffe://partner.example/ns/cd/sa/builder',
    'spiffe://partner.example/x/ns/ci/sa/builder',
    'spiffe://partner.example/ns/ci/sa/builder/extra',
    'spiffe://partner.example.evil/ns/ci/sa/builder',
    'spiffe://evil-partner.example/ns/ci/sa/builder',
  ];

  it('an exact pattern matches only that ID', () => {
    expect(matching('spiffe://partner.example/ns/ci/sa/builder', candidates)).toEqual(['spiffe://partner.example/ns/ci/sa/builder']);
  });

  it('"*" is exactly one segment, anchored at both ends', () => {
    expect(matching('spiffe://partner.example/ns/*/sa/builder', candidates)).toEqual([
      'spiffe://partner.example/ns/ci/sa/builder',
      'spiffe://partner.example/ns/cd/sa/builder',
    ]);
    expect(matching('spiffe://partner.example/ns/ci/*', candidates)).toEqual(['spiffe://partner.example/ns/ci/sa']);
  });

  it('"**" is any number of segments, zero included, and stays in the trust domain', () => {
    expect(matching('spiffe://partner.example/ns/ci/**', candidates)).toEqual([
      'spiffe://partner.example/ns/ci',
      'spiffe://partner.example/ns/ci/sa',
      'spiffe://partner.example/ns/ci/sa/builder',
      'spiffe://partner.example/ns/ci/sa/builder/extra',
    ]);
    expect(matching('spiffe://partner.example/**/builder', candidates)).toEqual([
      'spiffe://partner.example/ns/ci/sa/builder',
      'spiffe://partner.example/ns/cd/sa/builder',
      'spiffe://partner.example/x/ns/ci/sa/builder',
    ]);
    expect(matching('spiffe://partner.example/**', candidates)).toEqual(candidates.slice(0, 8));
  });

  it('backtracks across several "**"', () => {
    expect(matching('spiffe://partner.example/**/ci/**/builder', candidates)).toEqual([
      'spiffe://partner.example/ns/ci/sa/builder',
      'spiffe://partner.example/x/ns/ci/sa/builder',
    ]);
    expect(SpiffeIdPattern.parse('spiffe://a.example/**/x/*').matches(id('spiffe://a.example/x/x/x'))).toBe(true);
    expect(SpiffeIdPattern.parse('spiffe://a.example/**/x/*').matches(id('spiffe://a.example/x/y/z'))).toBe(false);
  });

  it('a pattern without a path matches only the trust domain ID itself', () => {
    expect(matching('spiffe://partner.example', candidates)).toEqual(['spiffe://partner.example']);
  });

  it.each([
    ['partner.example/ns/ci', 'must start with "spiffe://"'],
    ['SPIFFE://partner.example/ns', 'must start with "spiffe://"'],
    ['spiffe://*.example/ns', 'trust domain has the character "*"'],
    ['spiffe://partner.example:443/ns', 'a port is not allowed'],
    ['spiffe://partner.example/ns/ci-*', '"*" and "**" must be whole segments'],
    ['spiffe://partner.example/ns/***', '"*" and "**" must be whole segments'],
    ['spiffe://partner.example/ns//ci', 'empty segment'],
    ['spiffe://partner.example/ns/', 'empty segment'],
    ['spiffe://partner.example/ns/../ci', '".." segment'],
    ['spiffe://partner.example/ns/c%69', 'percent-encoding'],
  ])('rejects %j (%s)', (text, problem) => {
    expect(() => SpiffeIdPattern.parse(text)).toThrow(PatternError);
    expect(() => SpiffeIdPattern.parse(text)).toThrow(problem);
  });
});
