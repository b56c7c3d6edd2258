import { beforeAll, describe, expect, it } from 'vitest';
import { BundleError, BundleSet, JwtBundle, parseBundleMap, SpiffeBundle, X509Bundle } from '../src/bundle/bundle';
import { TrustDomain } from '../src/spiffeid/id';
import { jwtKey, TestCa, type JwtKey } from './support/test-ca';

const A = TrustDomain.parse('a.example');
const B = TrustDomain.parse('b.example');

const x509Entry = (ca: TestCa) => ({ use: 'x509-svid', ...ca.cert.publicKey.export({ format: 'jwk' }), x5c: [ca.der.toString('base64')] });
const jwtEntry = (key: JwtKey, extra: Record<string, unknown> = {}) => ({ use: 'jwt-svid', kid: key.kid, ...key.jwk, ...extra });
const fingerprints = (bundle: X509Bundle) => bundle.authorities.map((c) => c.fingerprint256);

let rootA: TestCa;
let rootA2: TestCa;
let rootB: TestCa;
let ec: JwtKey;
let rsa: JwtKey;

beforeAll(async () => {
  rootA = await TestCa.root(A.name);
  rootA2 = await TestCa.root(A.name, { subject: 'CN=second root' });
  rootB = await TestCa.root(B.name);
  ec = jwtKey('ES256', 'ec-1');
  rsa = jwtKey('RS256', 'rsa-1');
});

describe('X509Bundle', () => {
  it('reads concatenated DER; empty DER trusts nothing', () => {
    const bundle = X509Bundle.fromDer(A, Buffer.concat([rootA.der, rootA2.der]));
    expect(bundle.trustDomain.equals(A)).toBe(true);
    expect(fingerprints(bundle)).toEqual([rootA.cert.fingerprint256, rootA2.cert.fingerprint256]);
    expect(Object.isFrozen(bundle.authorities)).toBe(true);
    expect(X509Bundle.fromDer(A, Buffer.alloc(0)).authorities).toEqual([]);
  });

  it('rejects DER with trailing bytes or truncation, naming the trust domain', () => {
    expect(() => X509Bundle.fromDer(A, Buffer.concat([rootA.der, Buffer.from([0x30])]))).toThrow(BundleError);
    expect(() => X509Bundle.fromDer(A, Buffer.concat([rootA.der, Buffer.from([0x30])]))).toThrow(/^X\.509 bundle of "a\.example": DER: truncated/);
    expect(() => X509Bundle.fromDer(A, rootA.der.subarray(0, rootA.der.length - 3))).toThrow(/declares \d+ content bytes/);
  });

  it('round-trips through PEM and ignores text between blocks', () => {
    const bundle = X509Bundle.fromDer(A, Buffer.concat([rootA.der, rootA2.der]));
    const pem = bundle.toPem();
    expect(fingerprints(X509Bundle.fromPem(A, pem))).toEqual(fingerprints(bundle));
    expect(fingerprints(X509Bundle.fromPem(A, `# first root\n${rootA.cert.toString()}\nsecond:\n${rootA2.cert.toString()}`))).toEqual(fingerprints(bundle));
  });

  it.each([
    ['a private key block', () => `${rootA.cert.toString()}-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----\n`, /only CERTIFICATE blocks/],
    ['a BEGIN line without END', () => rootA.cert.toString().replace('-----END CERTIFICATE-----', ''), /without a matching END/],
    ['bad base64', () => rootA.cert.toString().replace(/\n[A-Za-z0-9+/]{4}/, '\n!!!!'), /not base64/],
    ['two certificates in one block', () => `-----BEGIN CERTIFICATE-----\n${Buffer.concat([rootA.der, rootA2.der]).toString('base64')}\n-----END CERTIFICATE-----\n`, /expected exactly one DER element, found 2/],
  ])('rejects PEM with %s', (_, pem, message) => {
    expect(() => X509Bundle.fromPem(A, pem())).toThrow(message);
  });
});

describe('JwtBundle.fromJwks', () => {
  it('reads jwt-svid keys and keeps only their public members', () => {
    const bundle = JwtBundle.fromJwks(A, JSON.stringify({ keys: [jwtEntry(ec), jwtEntry(rsa)] }));
    expect(bundle.authorities.map((a) => a.keyId)).toEqual(['ec-1', 'rsa-1']);
    expect(bundle.authorities[0]?.jwk).toEqual(ec.jwk);
    expect(bundle.authorities[0]?.jwk).not.toHaveProperty('use');
    expect(JwtBundle.fromJwks(A, { keys: [jwtEntry(ec)] }).authorities).toHaveLength(1);
  });

  it('accepts keys without "use" only when allowed (Workload API bundles, where SPIRE omits it)', () => {
    const jwks = { keys: [{ kid: ec.kid, ...ec.jwk }] };
    expect(JwtBundle.fromJwks(A, jwks).authorities).toHaveLength(0);
    expect(JwtBundle.fromJwks(A, jwks, { allowMissingUse: true }).authorities.map((a) => a.keyId)).toEqual(['ec-1']);
  });

  it('drops only the entries with an unknown or missing kty or another use', () => {
    const jwks = {
      keys: [
        jwtEntry(ec),
        { use: 'jwt-svid', kid: 'hmac', kty: 'oct', k: 'c2VjcmV0' },
        { use: 'jwt-svid', kid: 'future', kty: 'PQC', x: 'AA' },
        { use: 'jwt-svid', kid: 'no-kty', x: 'AA' },
        jwtEntry(jwtKey('ES256', 'sig'), { use: 'sig' }),
        jwtEntry(jwtKey('ES256', 'upper'), { use: 'JWT-SVID' }),
        x509Entry(rootA),
      ],
    };
    expect(JwtBundle.fromJwks(A, jwks).authorities.map((a) => a.keyId)).toEqual(['ec-1']);
  });

  it('rejects a document without a keys array', () => {
    expect(() => JwtBundle.fromJwks(A, {})).toThrow(/"keys" must be an array/);
  });

  it.each([
    ['a non-object key', () => 1, /keys\[0\] ignored: not an object/],
    ['a jwt-svid key without kid', () => ({ use: 'jwt-svid', ...ec.jwk }), /keys\[0\] ignored: a jwt-svid key needs a non-empty "kid"/],
    ['private key members', () => ({ use: 'jwt-svid', kid: 'x', ...ec.privateKey.export({ format: 'jwk' }) }), /keys\[0\] ignored: has private key members \(d\).*exposed/],
    ['an invalid key', () => ({ use: 'jwt-svid', kid: 'x', kty: 'EC', crv: 'P-256', x: 'AA', y: 'AA' }), /keys\[0\] ignored: /],
  ])('ignores %s and keeps the other keys', (_, entry, reason) => {
    const ignored: string[] = [];
    const bundle = JwtBundle.fromJwks(A, { keys: [entry(), jwtEntry(rsa)] }, { onIgnoredKey: (why) => ignored.push(why) });
    expect(bundle.authorities.map((a) => a.keyId)).toEqual(['rsa-1']);
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatch(/^JWT bundle of "a\.example": /);
    expect(ignored[0]).toMatch(reason);
  });

  it('ignores every entry of a kid that names two keys, and counts one key listed twice once', () => {
    const ignored: string[] = [];
    const jwks = { keys: [jwtEntry(ec), jwtEntry(rsa, { kid: 'ec-1' }), jwtEntry(rsa), jwtEntry(rsa)] };
    expect(JwtBundle.fromJwks(A, jwks, { onIgnoredKey: (why) => ignored.push(why) }).authorities.map((a) => a.keyId)).toEqual(['rsa-1']);
    expect(ignored).toEqual([
      'JWT bundle of "a.example": keys[0] ignored: key ID "ec-1" names more than one key',
      'JWT bundle of "a.example": keys[1] ignored: key ID "ec-1" names more than one key',
    ]);
  });

  it('rejects duplicate members that JSON.parse would silently resolve', () => {
    const text = `{"keys":[${JSON.stringify(jwtEntry(ec)).replace('"kid":"ec-1"', '"kid":"ec-1","kid":"other"')}]}`;
    expect(JSON.parse(text).keys[0].kid).toBe('other');
    expect(() => JwtBundle.fromJwks(A, text)).toThrow(/duplicate member "kid"/);
  });
});

describe('SpiffeBundle', () => {
  const document = () => ({
    keys: [x509Entry(rootA), jwtEntry(ec), jwtEntry(rsa)],
    spiffe_sequence: 42,
    spiffe_refresh_hint: 300,
    unknown_member: { tolerated: true },
  });

  it('parses both kinds of authority, sequence and refresh hint', () => {
    const bundle = SpiffeBundle.parse(A, JSON.stringify(document()));
    expect(bundle.trustDomain.equals(A)).toBe(true);
    expect(fingerprints(bundle.x509)).toEqual([rootA.cert.fingerprint256]);
    expect(bundle.jwt.authorities.map((a) => a.keyId)).toEqual(['ec-1', 'rsa-1']);
    expect(bundle.sequence).toBe(42n);
    expect(bundle.refreshHintSeconds).toBe(300);
  });

  it('round-trips through serialize', () => {
    const bundle = SpiffeBundle.parse(A, JSON.stringify(document()));
    const again = SpiffeBundle.parse(A, bundle.serialize());
    expect(fingerprints(again.x509)).toEqual(fingerprints(bundle.x509));
    expect(again.jwt.authorities).toEqual(bundle.jwt.authorities);
    expect(again.sequence).toBe(42n);
    expect(again.refreshHintSeconds).toBe(300);
    expect(again.serialize()).toBe(bundle.serialize());
  });

  it('keeps a sequence beyond 2^53 exact through parse and serialize', () => {
    const text = JSON.stringify({ keys: [] }).replace('}', ',"spiffe_sequence":18446744073709551615}');
    expect(JSON.parse(text).spiffe_sequence).toBe(18446744073709552000);
    const bundle = SpiffeBundle.parse(A, text);
    expect(bundle.sequence).toBe(18446744073709551615n);
    expect(bundle.serialize()).toContain('"spiffe_sequence":18446744073709551615');
    expect(SpiffeBundle.parse(A, bundle.serialize()).sequence).toBe(18446744073709551615n);
  });

  it('accepts an empty key set and omits absent optional members', () => {
    const bundle = SpiffeBundle.parse(A, '{"keys":[]}');
    expect(bundle.x509.authorities).toHaveLength(0);
    expect(bundle.jwt.authorities).toHaveLength(0);
    expect(bundle.sequence).toBeUndefined();
    expect(bundle.serialize()).toBe('{"keys":[]}');
  });

  it('drops an entry with an unknown kty or use, or without use, and keeps the rest', () => {
    const text = JSON.stringify({
      keys: [x509Entry(rootA), { ...x509Entry(rootA2), kty: 'XYZ' }, { ...jwtEntry(rsa), use: 'encryption' }, { kid: 'no-use', ...ec.jwk }, jwtEntry(ec)],
    });
    const bundle = SpiffeBundle.parse(A, text);
    expect(fingerprints(bundle.x509)).toEqual([rootA.cert.fingerprint256]);
    expect(bundle.jwt.authorities.map((a) => a.keyId)).toEqual(['ec-1']);
  });

  it('ignores an x509-svid entry whose x5c is empty', () => {
    expect(SpiffeBundle.parse(A, JSON.stringify({ keys: [{ ...x509Entry(rootA), x5c: [] }] })).x509.authorities).toHaveLength(0);
  });

  it.each([
    ['an x509-svid entry without x5c (X509-SVID §6.2)', () => ({ ...x509Entry(rootA2), x5c: undefined }), /an x509-svid entry without x5c values/],
    ['x5c that is not base64', () => ({ ...x509Entry(rootA2), x5c: ['***'] }), /x5c\[0\] is not base64/],
    ['x5c with trailing bytes', () => ({ ...x509Entry(rootA2), x5c: [Buffer.concat([rootA2.der, Buffer.from([0])]).toString('base64')] }), /x5c\[0\]: truncated/],
    ['a JWK whose key differs from its x5c certificate', () => ({ ...x509Entry(rootA2), x5c: [rootB.der.toString('base64')] }), /do not match the public key of the x5c certificate/],
    ['a jwt-svid entry without kid', () => ({ ...jwtEntry(rsa), kid: undefined }), /needs a non-empty "kid"/],
  ])('ignores %s and keeps every other key of the trust domain', (_, entry, reason) => {
    const ignored: string[] = [];
    const bundle = SpiffeBundle.parse(A, JSON.stringify({ keys: [x509Entry(rootA), entry(), jwtEntry(ec)] }), { onIgnoredKey: (why) => ignored.push(why) });
    expect(fingerprints(bundle.x509)).toEqual([rootA.cert.fingerprint256]);
    expect(bundle.jwt.authorities.map((a) => a.keyId)).toEqual(['ec-1']);
    expect(ignored).toHaveLength(1);
    expect(ignored[0]).toMatch(/^SPIFFE bundle of "a\.example": keys\[1\] ignored: /);
    expect(ignored[0]).toMatch(reason);
  });

  it('uses the first x5c value and ignores the rest (X509-SVID §6.2)', () => {
    const bundle = SpiffeBundle.parse(A, JSON.stringify({ keys: [{ ...x509Entry(rootA), x5c: [rootA.der.toString('base64'), 'not even base64'] }] }));
    expect(fingerprints(bundle.x509)).toEqual([rootA.cert.fingerprint256]);
  });

  it.each([
    ['no keys', () => ({ spiffe_sequence: 1 }), /"keys" must be an array/],
    ['a negative sequence', () => ({ keys: [], spiffe_sequence: -1 }), /spiffe_sequence is negative/],
    ['a fractional sequence', () => ({ keys: [], spiffe_sequence: 1.5 }), /spiffe_sequence must be an integer/],
    ['a string sequence', () => ({ keys: [], spiffe_sequence: '1' }), /spiffe_sequence must be an integer/],
    ['a negative refresh hint', () => ({ keys: [], spiffe_refresh_hint: -5 }), /spiffe_refresh_hint must be a non-negative integer/],
    ['a fractional refresh hint', () => ({ keys: [], spiffe_refresh_hint: 1.5 }), /spiffe_refresh_hint must be a non-negative integer/],
    ['a string refresh hint', () => ({ keys: [], spiffe_refresh_hint: '300' }), /spiffe_refresh_hint must be a non-negative integer/],
  ])('rejects the whole document with %s', (_, value, message) => {
    expect(() => SpiffeBundle.parse(A, JSON.stringify(value()))).toThrow(message);
  });

  it('rejects text that is not one JSON object with unique members', () => {
    expect(() => SpiffeBundle.parse(A, '{"keys":[],"keys":[]}')).toThrow(/SPIFFE bundle of "a\.example": invalid JSON .* duplicate member "keys"/);
    expect(() => SpiffeBundle.parse(A, '[]')).toThrow(/"keys" must be an array/);
    expect(() => SpiffeBundle.parse(A, '{"keys":[]} {}')).toThrow(/unexpected text/);
  });

  it('refuses to combine bundles of two trust domains or JWT keys without a key ID', () => {
    const x509 = X509Bundle.fromDer(A, rootA.der);
    expect(() => new SpiffeBundle({ x509, jwt: new JwtBundle(B, []) })).toThrow(/the JWT bundle is for "b\.example"/);
    expect(() => new SpiffeBundle({ x509, jwt: new JwtBundle(A, [{ jwk: ec.jwk }]) })).toThrow(/needs a key ID/);
    expect(new SpiffeBundle({ x509, jwt: new JwtBundle(A, [{ keyId: 'k', jwk: ec.jwk }]) }).jwt.authorities).toHaveLength(1);
  });
});

describe('BundleSet', () => {
  it('looks bundles up by trust domain only', () => {
    const set = new BundleSet({ x509: [X509Bundle.fromDer(A, rootA.der), X509Bundle.fromDer(B, rootB.der)], jwt: [new JwtBundle(B, [])] });
    expect(set.getX509Bundle(TrustDomain.parse('spiffe://a.example'))?.authorities[0]?.fingerprint256).toBe(rootA.cert.fingerprint256);
    expect(set.getX509Bundle(B)?.authorities[0]?.fingerprint256).toBe(rootB.cert.fingerprint256);
    expect(set.getJwtBundle(A)).toBeUndefined();
    expect(set.getJwtBundle(B)?.trustDomain.equals(B)).toBe(true);
    expect(set.getX509Bundle(TrustDomain.parse('c.example'))).toBeUndefined();
    expect(set.trustDomains().map(String)).toEqual(['a.example', 'b.example']);
  });

  it('never merges two bundles of one trust domain', () => {
    expect(() => new BundleSet({ x509: [X509Bundle.fromDer(A, rootA.der), X509Bundle.fromDer(A, rootA2.der)] })).toThrow(
      'two X.509 bundles for trust domain "a.example"; bundles are never merged',
    );
  });

  it('is built from SPIFFE bundles', () => {
    const set = BundleSet.fromSpiffeBundles([SpiffeBundle.parse(A, JSON.stringify({ keys: [x509Entry(rootA), jwtEntry(ec)] }))]);
    expect(set.getX509Bundle(A)?.authorities).toHaveLength(1);
    expect(set.getJwtBundle(A)?.authorities.map((a) => a.keyId)).toEqual(['ec-1']);
  });
});

describe('parseBundleMap', () => {
  const bundleJson = (ca: TestCa) => JSON.stringify({ keys: [x509Entry(ca)] });

  it('parses bundles keyed by trust domain name or ID', () => {
    const bundles = parseBundleMap(`{"trust_domains":{"a.example":${bundleJson(rootA)},"spiffe://b.example":${bundleJson(rootB)}}}`);
    expect(bundles.map((b) => b.trustDomain.name)).toEqual(['a.example', 'b.example']);
    expect(fingerprints(bundles[1]!.x509)).toEqual([rootB.cert.fingerprint256]);
  });

  it('rejects a trust domain listed twice, which JSON.parse would resolve to the last one', () => {
    const text = `{"trust_domains":{"a.example":${bundleJson(rootA)},"a.example":${bundleJson(rootB)}}}`;
    expect(Object.keys(JSON.parse(text).trust_domains)).toEqual(['a.example']);
    expect(() => parseBundleMap(text)).toThrow(/bundle map: invalid JSON .*duplicate member "a\.example"/);
  });

  it('rejects a trust domain listed twice in its two forms', () => {
    const text = `{"trust_domains":{"a.example":${bundleJson(rootA)},"spiffe://a.example":${bundleJson(rootA2)}}}`;
    expect(() => parseBundleMap(text)).toThrow('bundle map: trust domain "a.example" appears more than once');
  });

  it.each([
    ['{}', /expected an object with a "trust_domains" object/],
    ['{"trust_domains":[]}', /expected an object with a "trust_domains" object/],
    ['{"trust_domains":{"A.example":{"keys":[]}}}', /key "A\.example": invalid SPIFFE ID or trust domain/],
    ['{"trust_domains":{"a.example":{}}}', /SPIFFE bundle of "a\.example": "keys" must be an array/],
  ])('rejects %s', (text, message) => {
    expect(() => parseBundleMap(text)).toThrow(message);
  });
});
