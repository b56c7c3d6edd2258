import { beforeAll, describe, expect, it } from 'vitest';
import { BundleSet, JwtBundle, type JwtBundleSource } from '../src/bundle/bundle';
import { TrustDomain } from '../src/spiffeid/id';
import { JwtSvidError, validateJwtSvid } from '../src/jwtsvid/jwtsvid';
import { jwtClaims, jwtKey, signJwt, type JwtKey } from './support/test-ca';

const A = TrustDomain.parse('a.example');
const B = TrustDomain.parse('b.example');
const AUD = 'spiffe://a.example/server';
const SUB = 'spiffe://a.example/client';

const authority = (key: JwtKey) => ({ keyId: key.kid, jwk: key.jwk });
const b64 = (value: unknown) => Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

async function expectRejected(run: Promise<unknown>, rule: string, message: RegExp): Promise<void> {
  const error = await run.then(
    () => {
      throw new Error('expected the JWT-SVID to be rejected, but it was accepted');
    },
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(JwtSvidError);
  expect((error as JwtSvidError).message).toMatch(message);
  expect((error as JwtSvidError).rule).toBe(rule);
}

describe('validateJwtSvid', () => {
  let ecA: JwtKey;
  let ecA2: JwtKey;
  let ec384A: JwtKey;
  let rsaA: JwtKey;
  let psA: JwtKey;
  let ecB: JwtKey;
  let bundles: BundleSet;
  let validate: (token: string, now?: Date) => ReturnType<typeof validateJwtSvid>;

  beforeAll(() => {
    ecA = jwtKey('ES256', 'a-ec');
    ecA2 = jwtKey('ES256', 'a-ec-2');
    ec384A = jwtKey('ES384', 'a-ec384');
    rsaA = jwtKey('RS256', 'a-rsa');
    psA = jwtKey('PS256', 'a-ps');
    ecB = jwtKey('ES256', 'b-ec');
    bundles = new BundleSet({
      jwt: [new JwtBundle(A, [ecA, ecA2, ec384A, rsaA, psA].map(authority)), new JwtBundle(B, [authority(ecB)])],
    });
    validate = (token, now) => validateJwtSvid(token, bundles, AUD, now);
  });

  describe('accepts', () => {
    it.each(['ES256', 'ES384', 'RS256', 'PS256'] as const)('%s with a kid, returning ID, claims and expiry', async (alg) => {
      const key = { ES256: ecA, ES384: ec384A, RS256: rsaA, PS256: psA }[alg];
      const claims: Record<string, unknown> = { ...jwtClaims(SUB, AUD), custom: 'value' };
      const result = await validate(signJwt(key, claims));
      expect(result.id.toString()).toBe(SUB);
      expect(result.claims).toEqual(claims);
      expect(result.expiresAt.getTime()).toBe(Number(claims['exp']) * 1000);
    });

    it('a token without kid, by trying every compatible key of the subject’s trust domain', async () => {
      expect((await validate(signJwt(ecA2, jwtClaims(SUB, AUD), { kid: undefined }))).id.toString()).toBe(SUB);
      expect((await validate(signJwt(psA, jwtClaims(SUB, AUD), { kid: undefined }))).id.toString()).toBe(SUB);
    });

    it('typ absent, "JWT" or "JOSE", and aud as an array', async () => {
      for (const typ of [undefined, 'JWT', 'JOSE']) {
        expect((await validate(signJwt(ecA, jwtClaims(SUB, AUD), { typ }))).id.toString()).toBe(SUB);
      }
      expect((await validate(signJwt(ecA, jwtClaims(SUB, ['other', AUD])))).id.toString()).toBe(SUB);
    });

    it('exp and nbf within the 60 s leeway', async () => {
      const now = new Date();
      const seconds = Math.floor(now.getTime() / 1000);
      const claims = { ...jwtClaims(SUB, AUD), exp: seconds - 30, nbf: seconds + 30 };
      expect((await validate(signJwt(ecA, claims), now)).id.toString()).toBe(SUB);
    });
  });

  describe('rejects the form', () => {
    it.each([
      ['two parts', 'a.b'],
      ['JWE compact (five parts)', 'a.b.c.d.e'],
      ['JSON serialization', '{"payload":"x","signatures":[]}'],
      ['an empty signature', 'eyJhbGciOiJub25lIn0.e30.'],
      ['non-base64url characters', 'a+b.c.d'],
    ])('%s', async (_, token) => {
      await expectRejected(validate(token), 'format', /not a compact JWS/);
    });

    it('a header or payload that is not a JSON object, or has duplicate members', async () => {
      const sig = b64('sig');
      await expectRejected(validate(`${b64('not json')}.${b64({})}.${sig}`), 'format', /header is not UTF-8 JSON/);
      await expectRejected(validate(`${b64([1])}.${b64({})}.${sig}`), 'format', /header is not a JSON object/);
      await expectRejected(validate(`${b64('{"alg":"ES256","alg":"none"}')}.${b64({})}.${sig}`), 'format', /duplicate member "alg"/);
      const badUtf8 = Buffer.from([0x7b, 0x22, 0xff, 0x22, 0x3a, 0x31, 0x7d]).toString('base64url');
      await expectRejected(validate(`${b64({ alg: 'ES256' })}.${badUtf8}.${sig}`), 'format', /payload is not UTF-8 JSON/);
    });
  });

  describe('rejects the header', () => {
    it.each([
      ['alg none', { alg: 'none' }],
      ['HS256', { alg: 'HS256' }],
      ['EdDSA', { alg: 'EdDSA' }],
      ['a missing alg', { alg: undefined }],
      ['a lowercase alg', { alg: 'es256' }],
    ])('%s', async (_, header) => {
      const token = signJwt(ecA, jwtClaims(SUB, AUD), header, Buffer.from(ecA.jwk.x as string));
      await expectRejected(validate(token.endsWith('.') ? `${token}AAAA` : token), 'alg', /is not allowed; use one of RS256/);
    });

    it('an alg that does not fit the key named by kid', async () => {
      await expectRejected(validate(signJwt(rsaA, jwtClaims(SUB, AUD), { kid: 'a-ec' })), 'key', /no RS256 key "a-ec"/);
      await expectRejected(validate(signJwt(ec384A, jwtClaims(SUB, AUD), { kid: 'a-ec' })), 'key', /no ES384 key "a-ec"/);
    });

    it.each(['jwt', 'JWS', 'application/jwt'])('typ %s', async (typ) => {
      await expectRejected(validate(signJwt(ecA, jwtClaims(SUB, AUD), { typ })), 'typ', /is not "JWT" or "JOSE"/);
    });

    it.each([[['exp']], [['b64']], [[]]])('crit %j', async (crit) => {
      await expectRejected(validate(signJwt(ecA, jwtClaims(SUB, AUD), { crit, exp: 1 })), 'crit', /critical header parameters/);
    });

    it('a kid that is not a string', async () => {
      await expectRejected(validate(signJwt(ecA, jwtClaims(SUB, AUD), { kid: 7 })), 'kid', /not a string/);
    });
  });

  describe('rejects the claims', () => {
    it.each([
      ['missing sub', { sub: undefined }, 'sub', /sub claim is missing/],
      ['an invalid sub', { sub: 'spiffe://a.example/x/../y' }, 'sub', /path has a "\.\." segment/],
      ['a sub without path', { sub: 'spiffe://a.example' }, 'sub', /has no path/],
      ['missing exp', { exp: undefined }, 'exp', /exp claim is missing/],
      ['a string exp', { exp: '9999999999' }, 'exp', /exp claim is missing or not a number/],
      ['missing aud', { aud: undefined }, 'aud', /aud claim is missing/],
      ['a wrong aud', { aud: 'spiffe://a.example/other' }, 'aud', /audience "spiffe:\/\/a\.example\/server" is not among \["spiffe:\/\/a\.example\/other"\]/],
      ['an aud array without us', { aud: ['x', 'y'] }, 'aud', /is not among/],
      ['an aud array with a non-string', { aud: [AUD, 1] }, 'aud', /not a string or array of strings/],
      ['a string nbf', { nbf: '0' }, 'nbf', /nbf claim is not a number/],
    ])('%s', async (_, change, rule, message) => {
      const claims = Object.fromEntries(Object.entries({ ...jwtClaims(SUB, AUD), ...change }).filter(([, v]) => v !== undefined));
      await expectRejected(validate(signJwt(ecA, claims)), rule, message);
    });

    it('an expired token beyond the leeway', async () => {
      const now = new Date();
      const claims = { ...jwtClaims(SUB, AUD), exp: Math.floor(now.getTime() / 1000) - 61 };
      await expectRejected(validate(signJwt(ecA, claims), now), 'exp', /expired at/);
    });

    it('a future nbf beyond the leeway', async () => {
      const now = new Date();
      const claims = { ...jwtClaims(SUB, AUD), nbf: Math.floor(now.getTime() / 1000) + 120 };
      await expectRejected(validate(signJwt(ecA, claims), now), 'nbf', /not valid before/);
      expect((await validate(signJwt(ecA, claims), new Date(now.getTime() + 120_000))).id.toString()).toBe(SUB);
    });

    it('an empty expected audience', async () => {
      await expectRejected(validateJwtSvid(signJwt(ecA, jwtClaims(SUB, '')), bundles, ''), 'aud', /expected audience is empty/);
    });
  });

  describe('takes keys only from the bundle of the subject’s trust domain', () => {
    it('rejects a subject whose trust domain has no JWT bundle', async () => {
      await expectRejected(validate(signJwt(ecA, jwtClaims('spiffe://c.example/x', AUD))), 'bundle', /no JWT bundle for trust domain "c\.example"/);
    });

    it('rejects a TD-B token signed with a TD-A key, with or without kid', async () => {
      const claims = jwtClaims('spiffe://b.example/x', AUD);
      expect((await validate(signJwt(ecB, claims))).id.toString()).toBe('spiffe://b.example/x');
      await expectRejected(validate(signJwt(ecA, claims)), 'key', /no key "a-ec" in the JWT bundle of "b\.example"/);
      await expectRejected(validate(signJwt(ecA, claims, { kid: undefined })), 'signature', /the signature does not verify/);
      await expectRejected(validate(signJwt(ecA, claims, { kid: 'b-ec' })), 'signature', /key "b-ec": signature verification failed/);
    });

    it('rejects a bundle source that answers with another trust domain’s bundle', async () => {
      const rogue: JwtBundleSource = { getJwtBundle: () => bundles.getJwtBundle(A) };
      await expectRejected(validateJwtSvid(signJwt(ecA, jwtClaims('spiffe://b.example/x', AUD)), rogue, AUD), 'bundle', /returned the bundle of "a\.example" for "b\.example"/);
    });

    it('rejects an unknown kid, a wrong key under a known kid, and a tampered payload', async () => {
      const impostor = jwtKey('ES256', 'a-ec');
      await expectRejected(validate(signJwt(ecA, jwtClaims(SUB, AUD), { kid: 'nope' })), 'key', /no key "nope"/);
      await expectRejected(validate(signJwt(impostor, jwtClaims(SUB, AUD))), 'signature', /key "a-ec": signature verification failed/);
      const [header, , signature] = signJwt(ecA, jwtClaims(SUB, AUD)).split('.');
      const tampered = `${header}.${b64({ ...jwtClaims('spiffe://a.example/admin', AUD) })}.${signature}`;
      await expectRejected(validate(tampered), 'signature', /does not verify/);
    });
  });
});
