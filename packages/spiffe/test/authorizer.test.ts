import { describe, expect, it } from 'vitest';
import {
  adaptMatcher,
  AuthorizationError,
  authorizeAny,
  authorizeId,
  authorizeMemberOf,
  authorizeOneOf,
  type Authorizer,
} from '../src/spiffetls/authorizer';
import { SpiffeId, TrustDomain } from '../src/spiffeid/id';

const id = (text: string) => SpiffeId.parse(text);
const allows = (authorizer: Authorizer, text: string) => authorizer(id(text), []);

function denial(authorizer: Authorizer, text: string): AuthorizationError {
  try {
    allows(authorizer, text);
  } catch (error) {
    expect(error).toBeInstanceOf(AuthorizationError);
    return error as AuthorizationError;
  }
  throw new Error(`expected ${text} to be denied`);
}

describe('authorizers', () => {
  it('authorizeAny allows every verified ID', () => {
    expect(() => allows(authorizeAny(), 'spiffe://x.example/anything')).not.toThrow();
  });

  it('authorizeId allows exactly one ID, compared as parsed values', () => {
    const authorizer = authorizeId(id('spiffe://a.example/svc'));
    expect(() => allows(authorizer, 'spiffe://a.example/svc')).not.toThrow();
    for (const other of ['spiffe://a.example/Svc', 'spiffe://a.example/svc/x', 'spiffe://a.example', 'spiffe://b.example/svc']) {
      const error = denial(authorizer, other);
      expect(error.message).toBe(`${other} is not authorized: expected spiffe://a.example/svc`);
      expect(error.id.toString()).toBe(other);
    }
  });

  it('authorizeOneOf allows any listed ID and needs at least one', () => {
    const authorizer = authorizeOneOf(id('spiffe://a.example/x'), id('spiffe://b.example/y'));
    expect(() => allows(authorizer, 'spiffe://a.example/x')).not.toThrow();
    expect(() => allows(authorizer, 'spiffe://b.example/y')).not.toThrow();
    expect(denial(authorizer, 'spiffe://a.example/y').reason).toBe('expected one of spiffe://a.example/x, spiffe://b.example/y');
    expect(() => authorizeOneOf()).toThrow(/needs at least one ID/);
  });

  it('authorizeMemberOf allows IDs of one trust domain, not look-alikes', () => {
    const authorizer = authorizeMemberOf(TrustDomain.parse('a.example'));
    expect(() => allows(authorizer, 'spiffe://a.example/x')).not.toThrow();
    for (const other of ['spiffe://b.example/x', 'spiffe://a.example.evil/x', 'spiffe://sub.a.example/x']) {
      expect(denial(authorizer, other).reason).toBe('expected a member of trust domain "a.example"');
    }
  });

  it('adaptMatcher allows only when the predicate returns true, and denies when it throws', () => {
    const authorizer = adaptMatcher((peer) => peer.segments[0] === 'ns');
    expect(() => allows(authorizer, 'spiffe://a.example/ns/x')).not.toThrow();
    expect(denial(authorizer, 'spiffe://a.example/other').reason).toBe('the matcher did not allow it');
    const truthy = adaptMatcher(() => 'yes' as unknown as boolean);
    expect(denial(truthy, 'spiffe://a.example/x').reason).toBe('the matcher did not allow it');
    const throwing = adaptMatcher(() => {
      throw new Error('lookup failed');
    });
    expect(denial(throwing, 'spiffe://a.example/x').reason).toBe('the matcher failed: lookup failed');
  });
});
