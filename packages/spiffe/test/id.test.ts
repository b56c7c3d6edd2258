import { describe, expect, it } from 'vitest';
import { SpiffeId, SpiffeIdError, TrustDomain } from '../src/spiffeid/id';

function ruleOf(parse: () => unknown): string {
  try {
    parse();
  } catch (error) {
    expect(error).toBeInstanceOf(SpiffeIdError);
    return (error as SpiffeIdError).rule;
  }
  throw new Error('expected a SpiffeIdError, but parsing succeeded');
}

describe('SpiffeId.parse', () => {
  it.each([
    ['spiffe://example.org', 'example.org', ''],
    ['spiffe://example.org/ns/dir/sa/apiserver', 'example.org', '/ns/dir/sa/apiserver'],
    ['spiffe://a-b_c.d9/x', 'a-b_c.d9', '/x'],
    ['spiffe://1.2.3.4/x', '1.2.3.4', '/x'],
    ['spiffe://example.org/.x/.../a.b', 'example.org', '/.x/.../a.b'],
    ['spiffe://example.org/AZ-az_09.', 'example.org', '/AZ-az_09.'],
  ])('accepts %s', (input, trustDomain, path) => {
    const id = SpiffeId.parse(input);
    expect(id.trustDomain.name).toBe(trustDomain);
    expect(id.path).toBe(path);
    expect(id.toString()).toBe(input);
  });

  it.each([
    ['', /lowercase scheme/],
    ['example.org/x', /lowercase scheme/],
    ['http://example.org/x', /lowercase scheme/],
    ['SPIFFE://example.org/x', /lowercase scheme/],
    ['Spiffe://example.org/x', /lowercase scheme/],
    ['spiffe:/example.org/x', /lowercase scheme/],
    ['spiffe://', /trust domain is empty/],
    ['spiffe:///x', /trust domain is empty/],
    ['spiffe://Example.org/x', /trust domain has the character "E"/],
    ['spiffe://example.org:8443/x', /trust domain has the character ":" \(a port is not allowed\)/],
    ['spiffe://user@example.org/x', /trust domain has the character "@" \(userinfo is not allowed\)/],
    ['spiffe://example.org?q=1', /trust domain has the character "\?" \(a query is not allowed\)/],
    ['spiffe://example.org#f', /trust domain has the character "#" \(a fragment is not allowed\)/],
    ['spiffe://exa%6Dple.org/x', /trust domain has the character "%" \(percent-encoding is not allowed\)/],
    ['spiffe://exämple.org/x', /trust domain has the character "ä"/],
    ['spiffe://example.org/x?q=1', /path has the character "\?" \(a query is not allowed\)/],
    ['spiffe://example.org/x#f', /path has the character "#" \(a fragment is not allowed\)/],
    ['spiffe://example.org/x%2Fy', /path has the character "%" \(percent-encoding is not allowed\)/],
    ['spiffe://example.org/a b', /path has the character " "/],
    ['spiffe://example.org/a:b', /path has the character ":"/],
    ['spiffe://example.org/ü', /path has the character "ü"/],
    ['spiffe://example.org/', /empty segment or a trailing "\/"/],
    ['spiffe://example.org/a/', /empty segment or a trailing "\/"/],
    ['spiffe://example.org/a//b', /empty segment or a trailing "\/"/],
    ['spiffe://example.org/./a', /path has a "\." segment/],
    ['spiffe://example.org/a/../b', /path has a "\.\." segment/],
    ['spiffe://example.org/a/..', /path has a "\.\." segment/],
  ])('rejects %j, naming the rule', (input, rule) => {
    expect(ruleOf(() => SpiffeId.parse(input))).toMatch(rule);
  });

  it('accepts exactly 2048 bytes and rejects 2049', () => {
    const prefix = 'spiffe://example.org/';
    const at2048 = prefix + 'a'.repeat(2048 - prefix.length);
    expect(SpiffeId.parse(at2048).toString()).toHaveLength(2048);
    expect(ruleOf(() => SpiffeId.parse(`${at2048}b`))).toBe('longer than 2048 bytes');
  });

  it('counts the length in UTF-8 bytes, not characters', () => {
    const prefix = 'spiffe://example.org/';
    const input = prefix + 'a'.repeat(2048 - prefix.length - 1) + 'ü'; // 2048 characters, 2049 bytes
    expect(input).toHaveLength(2048);
    expect(ruleOf(() => SpiffeId.parse(input))).toBe('longer than 2048 bytes');
  });

  it('accepts a 255-byte trust domain and rejects 256 bytes', () => {
    expect(SpiffeId.parse(`spiffe://${'a'.repeat(255)}/x`).trustDomain.name).toHaveLength(255);
    expect(ruleOf(() => SpiffeId.parse(`spiffe://${'a'.repeat(256)}/x`))).toBe('trust domain is longer than 255 bytes');
  });

  it('puts the input and the failed rule in the message', () => {
    expect(() => SpiffeId.parse('spiffe://example.org/a/../b')).toThrow(
      'invalid SPIFFE ID or trust domain "spiffe://example.org/a/../b": path has a ".." segment',
    );
  });

  it('compares IDs byte for byte, path case included', () => {
    const id = SpiffeId.parse('spiffe://example.org/Svc');
    expect(id.equals(SpiffeId.parse('spiffe://example.org/Svc'))).toBe(true);
    expect(id.equals(SpiffeId.parse('spiffe://example.org/svc'))).toBe(false);
    expect(id.equals(SpiffeId.parse('spiffe://example.com/Svc'))).toBe(false);
    expect(id.equals(SpiffeId.parse('spiffe://example.org/Svc/x'))).toBe(false);
  });

  it('reports segments and membership', () => {
    const id = SpiffeId.parse('spiffe://example.org/ns/dir');
    expect(id.segments).toEqual(['ns', 'dir']);
    expect(SpiffeId.parse('spiffe://example.org').segments).toEqual([]);
    expect(id.isMemberOf(TrustDomain.parse('example.org'))).toBe(true);
    expect(id.isMemberOf(TrustDomain.parse('example.org.evil'))).toBe(false);
  });

  it('isValid mirrors parse', () => {
    expect(SpiffeId.isValid('spiffe://example.org/x')).toBe(true);
    expect(SpiffeId.isValid('spiffe://example.org/x/')).toBe(false);
  });
});

describe('TrustDomain.parse', () => {
  it('accepts the bare name and the trust domain ID form', () => {
    expect(TrustDomain.parse('example.org').name).toBe('example.org');
    expect(TrustDomain.parse('spiffe://example.org').name).toBe('example.org');
    expect(TrustDomain.parse('spiffe://example.org').id).toBe('spiffe://example.org');
    expect(TrustDomain.parse('example.org').equals(TrustDomain.parse('spiffe://example.org'))).toBe(true);
  });

  it.each([
    ['', /trust domain is empty/],
    ['spiffe://', /trust domain is empty/],
    ['spiffe://example.org/x', /a trust domain ID has no path/],
    ['spiffe://example.org/', /a trust domain ID has no path/],
    ['SPIFFE://example.org', /lowercase scheme/],
    ['https://example.org', /lowercase scheme/],
    ['Example.org', /the character "E"/],
    ['example.org:443', /a port is not allowed/],
    ['a'.repeat(256), /longer than 255 bytes/],
  ])('rejects %j', (input, rule) => {
    expect(ruleOf(() => TrustDomain.parse(input))).toMatch(rule);
  });

  it('withPath builds IDs in the trust domain and refuses paths that would change it', () => {
    const td = TrustDomain.parse('example.org');
    expect(td.withPath('/x/y').toString()).toBe('spiffe://example.org/x/y');
    expect(td.withPath('').toString()).toBe('spiffe://example.org');
    expect(ruleOf(() => td.withPath('x'))).toMatch(/must be empty or start with "\/"/);
    expect(ruleOf(() => td.withPath('.evil/x'))).toMatch(/must be empty or start with "\/"/);
    expect(ruleOf(() => td.withPath('/a/../b'))).toMatch(/"\.\." segment/);
  });
});
