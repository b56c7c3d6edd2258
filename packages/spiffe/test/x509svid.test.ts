import { createPrivateKey, X509Certificate } from 'node:crypto';
import { createSecureContext } from 'node:tls';
import { beforeAll, describe, expect, it } from 'vitest';
import { BundleSet, X509Bundle, type X509BundleSource } from '../src/bundle/bundle';
import { TrustDomain } from '../src/spiffeid/id';
import { parseX509Svid, verifyX509Svid, X509SvidError, x509SvidToPem } from '../src/x509svid';
import { KeyUsage, nameConstraintsExtension, TestCa, unknownExtension, uriSanExtension, type NameConstraint } from './support/test-ca';

const A = TrustDomain.parse('a.example');
const B = TrustDomain.parse('b.example');
const HOUR = 3_600_000;

function rejection(run: () => unknown): X509SvidError {
  try {
    run();
  } catch (error) {
    expect(error).toBeInstanceOf(X509SvidError);
    return error as X509SvidError;
  }
  throw new Error('expected the X509-SVID to be rejected, but it was accepted');
}

function expectRejected(run: () => unknown, rule: string, message: RegExp): void {
  const error = rejection(run);
  expect(error.message).toMatch(message);
  expect(error.rule).toBe(rule);
}

function bundlesOf(...cas: TestCa[]): BundleSet {
  return new BundleSet({ x509: cas.map((ca) => X509Bundle.fromDer(TrustDomain.parse(ca.trustDomain), ca.der)) });
}

const fingerprints = (certs: readonly X509Certificate[]): string[] => certs.map((c) => c.fingerprint256);

describe('verifyX509Svid', () => {
  let rootA: TestCa;
  let rootB: TestCa;
  let intA: TestCa;
  let bundles: BundleSet;
  let verify: (chain: Buffer[], now?: Date) => ReturnType<typeof verifyX509Svid>;

  beforeAll(async () => {
    rootA = await TestCa.root(A.name);
    rootB = await TestCa.root(B.name);
    intA = await rootA.intermediate();
    bundles = bundlesOf(rootA, rootB);
    verify = (chain, now) => verifyX509Svid(chain, bundles, now && { now });
  });

  describe('accepts', () => {
    it('a leaf issued by the root of its trust domain, returning the ID and the path', async () => {
      const leaf = await rootA.leaf({ uris: ['spiffe://a.example/ns/dir/sa/apiserver'] });
      const { id, verifiedChain } = verify([leaf.der]);
      expect(id.toString()).toBe('spiffe://a.example/ns/dir/sa/apiserver');
      expect(verifiedChain).toEqual([leaf.der, rootA.der]);
    });

    it('a leaf issued through a presented intermediate', async () => {
      const leaf = await intA.leaf();
      expect(verify(intA.presented(leaf)).verifiedChain).toEqual([leaf.der, intA.der, rootA.der]);
    });

    it('intermediates presented out of order, duplicated, or with the root appended', async () => {
      const sub = await intA.intermediate();
      const leaf = await sub.leaf();
      expect(verify([leaf.der, intA.der, sub.der, sub.der, rootA.der]).verifiedChain).toHaveLength(4);
    });

    it('RSA-2048 keys', async () => {
      const root = await TestCa.root('rsa.example', { keyAlgorithm: 'rsa' });
      const leaf = await root.leaf({ keyAlgorithm: 'rsa' });
      expect(verifyX509Svid([leaf.der], bundlesOf(root)).id.toString()).toBe('spiffe://rsa.example/workload');
    });

    it('an empty subject with a critical SAN, other SAN types, no basicConstraints, and any EKU', async () => {
      const leaf = await rootA.leaf({
        subject: '',
        sanCritical: true,
        otherSans: [{ type: 'dns', value: 'api.a.example' }, { type: 'ip', value: '10.0.0.1' }],
        basicConstraints: 'omit',
        extendedKeyUsages: ['1.3.6.1.5.5.7.3.4'],
      });
      expect(leaf.cert.subject ?? '').toBe('');
      expect(verify([leaf.der]).id.toString()).toBe('spiffe://a.example/workload');
      const expired = await rootA.leaf({ subject: '', notAfter: new Date(Date.now() - HOUR), notBefore: new Date(Date.now() - 2 * HOUR) });
      expectRejected(() => verify([expired.der]), 'chain', /leaf serial [0-9A-F]+ expired/);
    });
  });

  describe('step 1: strict DER', () => {
    it('rejects a certificate with trailing bytes and an empty chain', async () => {
      const leaf = await rootA.leaf();
      expect(verify([leaf.der]).id).toBeDefined();
      expectRejected(() => verify([Buffer.concat([leaf.der, Buffer.from([0])])]), 'der', /peer certificate 0/);
      expectRejected(() => verify([Buffer.concat([leaf.der, intA.der])]), 'der', /expected exactly one DER element, found 2/);
      expectRejected(() => verify([]), 'der', /presented no certificate/);
    });

    it('rejects a certificate whose inner and outer signature algorithms differ', async () => {
      const leaf = await rootA.leaf();
      const ecdsaSha256 = Buffer.from('300a06082a8648ce3d040302', 'hex');
      const at = leaf.der.lastIndexOf(ecdsaSha256);
      expect(at).toBeGreaterThan(0);
      const patched = Buffer.from(leaf.der);
      patched[at + ecdsaSha256.length - 1] = 0x03; // outer AlgorithmIdentifier becomes ecdsa-with-SHA384
      expectRejected(() => verify([patched]), 'der', /signature algorithm inside the TBSCertificate differs/);
    });

    it('rejects a certificate with the same extension twice', async () => {
      const leaf = await rootA.leaf({ extraExtensions: [uriSanExtension(['spiffe://a.example/other'])] });
      expectRejected(() => verify([leaf.der]), 'der', /extension 2\.5\.29\.17 appears more than once/);
    });
  });

  describe('step 2: exactly one URI SAN', () => {
    it('rejects none and two; accepts one next to other SAN types', async () => {
      const none = await rootA.leaf({ uris: [], otherSans: [{ type: 'dns', value: 'a.example' }] });
      const two = await rootA.leaf({ uris: ['spiffe://a.example/x', 'spiffe://a.example/y'] });
      const one = await rootA.leaf({ uris: ['spiffe://a.example/x'], otherSans: [{ type: 'dns', value: 'a.example' }] });
      expectRejected(() => verify([none.der]), 'uri-san', /has 0 URI SANs; exactly one is required/);
      expectRejected(() => verify([two.der]), 'uri-san', /has 2 URI SANs; exactly one is required/);
      expect(verify([one.der]).id.toString()).toBe('spiffe://a.example/x');
    });

    it('reads the SAN extension itself, so a URI containing ", URI:" is one URI, not two (P4)', async () => {
      const tricky = await rootA.leaf({ uris: ['spiffe://a.example/x, URI:spiffe://b.example/y'] });
      expectRejected(() => verify([tricky.der]), 'spiffe-id', /path has the character ","/);
    });
  });

  describe('step 3: a strictly parsed ID with a path', () => {
    it.each([
      ['spiffe://a.example', /has no path/],
      ['https://a.example/x', /lowercase scheme/],
      ['spiffe://A.example/x', /trust domain has the character "A"/],
      ['spiffe://a.example/x/../y', /path has a "\.\." segment/],
      ['spiffe://a.example:443/x', /a port is not allowed/],
    ])('rejects %s', async (uri, message) => {
      const leaf = await rootA.leaf({ uris: [uri] });
      expectRejected(() => verify([leaf.der]), 'spiffe-id', message);
    });
  });

  describe('step 4: basicConstraints', () => {
    it('rejects a CA leaf; accepts cA=false and an absent extension', async () => {
      const ca = await rootA.leaf({ basicConstraints: { ca: true } });
      expectRejected(() => verify([ca.der]), 'basic-constraints', /is a CA \(basicConstraints cA is true\)/);
      expect(verify([(await rootA.leaf({ basicConstraints: { ca: false } })).der]).id).toBeDefined();
      expect(verify([(await rootA.leaf({ basicConstraints: 'omit' })).der]).id).toBeDefined();
    });

    it('catches cA=true without keyCertSign, which Node reports as not a CA (P2)', async () => {
      const leaf = await rootA.leaf({ basicConstraints: { ca: true }, keyUsage: KeyUsage.digitalSignature });
      expect(leaf.cert.ca).toBe(false);
      expectRejected(() => verify([leaf.der]), 'basic-constraints', /is a CA/);
    });
  });

  describe('step 5: KeyUsage', () => {
    it.each([
      ['keyCertSign', KeyUsage.digitalSignature | KeyUsage.keyCertSign],
      ['cRLSign', KeyUsage.digitalSignature | KeyUsage.cRLSign],
    ])('rejects %s on the leaf', async (usage, keyUsage) => {
      const leaf = await rootA.leaf({ keyUsage });
      expectRejected(() => verify([leaf.der]), 'key-usage', new RegExp(`has the ${usage} key usage`));
    });

    it('accepts digitalSignature alone', async () => {
      expect(verify([(await rootA.leaf({ keyUsage: KeyUsage.digitalSignature })).der]).id).toBeDefined();
    });

    it('rejects a leaf without digitalSignature, or without the KeyUsage extension (X509-SVID §4.3)', async () => {
      const keyEnciphermentOnly = await rootA.leaf({ keyUsage: KeyUsage.keyEncipherment });
      expectRejected(() => verify([keyEnciphermentOnly.der]), 'key-usage', /lacks the digitalSignature key usage/);
      const noKeyUsage = await rootA.leaf({ keyUsage: 'omit' });
      expectRejected(() => verify([noKeyUsage.der]), 'key-usage', /lacks the digitalSignature key usage/);
    });
  });

  describe('step 6: the bundle of the ID’s own trust domain', () => {
    it('rejects an ID whose trust domain has no bundle, even if its issuer is trusted for another', async () => {
      const leaf = await rootA.leaf({ uris: ['spiffe://c.example/x'] });
      expectRejected(() => verify([leaf.der]), 'bundle', /no X\.509 bundle for trust domain "c\.example"/);
    });

    it('rejects a bundle source that answers with another trust domain’s bundle', async () => {
      const rogue: X509BundleSource = { getX509Bundle: () => bundles.getX509Bundle(A) };
      const claimsA = await rootA.leaf({ uris: ['spiffe://a.example/x'] });
      const claimsB = await rootA.leaf({ uris: ['spiffe://b.example/x'] });
      expect(verifyX509Svid([claimsA.der], rogue).id.toString()).toBe('spiffe://a.example/x');
      expectRejected(() => verifyX509Svid([claimsB.der], rogue), 'bundle', /returned the bundle of "a\.example" for "b\.example"/);
    });
  });

  describe('cross-trust-domain confusion (both bundles held)', () => {
    it('rejects a leaf claiming B that A’s root signed', async () => {
      const leaf = await rootA.leaf({ uris: ['spiffe://b.example/x'] });
      expectRejected(() => verify([leaf.der]), 'chain', /no valid path to a root of "b\.example": no root of "b\.example" or presented intermediate is the issuer/);
    });

    it('rejects a leaf claiming B that A’s intermediate signed', async () => {
      const leaf = await intA.leaf({ uris: ['spiffe://b.example/x'] });
      expectRejected(() => verify(intA.presented(leaf)), 'chain', /no valid path to a root of "b\.example"/);
    });

    it('rejects it even when B’s root has the same name as A’s, so names chain and only the key differs', async () => {
      const lookalikeB = await TestCa.root(B.name, { subject: rootA.name });
      const set = bundlesOf(rootA, lookalikeB);
      const forged = await rootA.leaf({ uris: ['spiffe://b.example/x'] });
      const genuine = await lookalikeB.leaf({ uris: ['spiffe://b.example/x'] });
      expect(verifyX509Svid([genuine.der], set).id.toString()).toBe('spiffe://b.example/x');
      expectRejected(() => verifyX509Svid([forged.der], set), 'chain', /root .* did not sign .*signature does not verify/);
    });
  });

  describe('step 7: the path to a root', () => {
    it('rejects a leaf signed with a key other than its named issuer’s', async () => {
      const otherKeys = (await TestCa.root('other.example')).keys;
      const leaf = await rootA.leaf({ signingKey: otherKeys.privateKey });
      expectRejected(() => verify([leaf.der]), 'chain', /root .* did not sign .* \(the ecdsa-with-SHA256 signature does not verify\)/);
    });

    it('rejects a missing intermediate and an intermediate from the bundle’s trust domain that was not presented', async () => {
      const leaf = await intA.leaf();
      expectRejected(() => verify([leaf.der]), 'chain', /no root of "a\.example" or presented intermediate is the issuer/);
    });

    it('rejects a self-signed impostor of the root presented as an intermediate', async () => {
      const impostor = await TestCa.root(A.name, { subject: rootA.name });
      const leaf = await impostor.leaf();
      expectRejected(() => verify([leaf.der, impostor.der]), 'chain', /did not sign/);
    });

    it('checks the validity window of the leaf', async () => {
      const now = Date.now();
      const expired = await rootA.leaf({ notBefore: new Date(now - 3 * HOUR), notAfter: new Date(now - 2 * HOUR) });
      const early = await rootA.leaf({ notBefore: new Date(now + 2 * HOUR), notAfter: new Date(now + 3 * HOUR) });
      expectRejected(() => verify([expired.der], new Date(now)), 'chain', /leaf .* expired at/);
      expect(verify([expired.der], new Date(now - 2.5 * HOUR)).id).toBeDefined();
      expectRejected(() => verify([early.der], new Date(now)), 'chain', /leaf .* is not valid before/);
      expect(verify([early.der], new Date(now + 2.5 * HOUR)).id).toBeDefined();
    });

    it('checks the validity window of intermediates', async () => {
      const now = Date.now();
      const expiredInt = await rootA.intermediate({ notBefore: new Date(now - 3 * HOUR), notAfter: new Date(now - 2 * HOUR) });
      const leaf = await expiredInt.leaf();
      expectRejected(() => verify(expiredInt.presented(leaf), new Date(now)), 'chain', /intermediate .* expired at/);
      expect(verify(expiredInt.presented(leaf), new Date(now - 2.5 * HOUR)).id).toBeDefined();
    });

    it('checks the validity window of the root', async () => {
      const now = Date.now();
      const root = await TestCa.root('old.example', { notBefore: new Date(now - 3 * HOUR), notAfter: new Date(now - 2 * HOUR) });
      const leaf = await root.leaf();
      expectRejected(() => verifyX509Svid([leaf.der], bundlesOf(root), { now: new Date(now) }), 'chain', /root .* expired at/);
      expect(verifyX509Svid([leaf.der], bundlesOf(root), { now: new Date(now - 2.5 * HOUR) }).id).toBeDefined();
    });

    it.each([
      ['cA=false', { basicConstraints: { ca: false } }, /intermediate .* is not a CA/],
      ['no basicConstraints', { basicConstraints: 'omit' }, /intermediate .* is not a CA/],
      ['no keyCertSign', { keyUsage: KeyUsage.cRLSign | KeyUsage.digitalSignature }, /intermediate .* lacks the keyCertSign key usage/],
      ['no KeyUsage extension', { keyUsage: 'omit' }, /intermediate .* lacks the keyCertSign key usage/],
    ] as const)('rejects an intermediate with %s (a leaf must not sign a leaf)', async (_, options, message) => {
      const bad = await rootA.intermediate(options);
      const leaf = await bad.leaf();
      expectRejected(() => verify(bad.presented(leaf)), 'chain', message);
    });

    it('rejects a root without cA or keyCertSign', async () => {
      const notCa = await TestCa.root('notca.example', { basicConstraints: { ca: false } });
      const noSign = await TestCa.root('nosign.example', { keyUsage: KeyUsage.cRLSign });
      const [underNotCa, underNoSign] = [await notCa.leaf(), await noSign.leaf()];
      expectRejected(() => verifyX509Svid([underNotCa.der], bundlesOf(notCa)), 'chain', /root .* is not a CA/);
      expectRejected(() => verifyX509Svid([underNoSign.der], bundlesOf(noSign)), 'chain', /root .* lacks the keyCertSign/);
    });

    it('enforces pathLenConstraint on the root and on intermediates', async () => {
      const root0 = await TestCa.root('len0.example', { basicConstraints: { ca: true, pathLen: 0 } });
      const root1 = await TestCa.root('len1.example', { basicConstraints: { ca: true, pathLen: 1 } });
      const under0 = await root0.intermediate();
      const under1 = await root1.intermediate();
      const under1Len0 = await root1.intermediate({ basicConstraints: { ca: true, pathLen: 0 } });
      const deep = await under1Len0.intermediate();
      const set = bundlesOf(root0, root1);
      const check = async (ca: TestCa) => {
        const leaf = await ca.leaf();
        return () => verifyX509Svid(ca.presented(leaf), set);
      };

      expect((await check(root0))().verifiedChain).toHaveLength(2);
      expectRejected(await check(under0), 'chain', /root .* has pathLenConstraint 0 but 1 intermediate\(s\) follow it/);
      expect((await check(under1))().verifiedChain).toHaveLength(3);
      expect((await check(under1Len0))().verifiedChain).toHaveLength(3);
      expectRejected(await check(deep), 'chain', /intermediate .* has pathLenConstraint 0 but 1 intermediate\(s\) follow it/);
    });

    it('rejects an unknown critical extension on any certificate; accepts it non-critical', async () => {
      const critical = unknownExtension(true);
      const leaf = await rootA.leaf({ extraExtensions: [critical] });
      expectRejected(() => verify([leaf.der]), 'chain', /leaf .* has unknown critical extension\(s\) 1\.3\.6\.1\.4\.1\.55555\.1/);
      const badInt = await rootA.intermediate({ extraExtensions: [critical] });
      const leafUnder = await badInt.leaf();
      expectRejected(() => verify(badInt.presented(leafUnder)), 'chain', /intermediate .* has unknown critical extension/);
      const nonCritical = await rootA.leaf({ extraExtensions: [unknownExtension(false)] });
      expect(verify([nonCritical.der]).id).toBeDefined();
    });

    it('rejects SHA-1 signatures below the root', async () => {
      const leaf = await rootA.leaf({ signingHash: 'SHA-1' });
      expectRejected(() => verify([leaf.der]), 'chain', /signature algorithm 1\.2\.840\.10045\.4\.1, which is not allowed/);
    });

    it('rejects a signing certificate whose SPIFFE ID has a path; accepts a trust domain ID', async () => {
      const withPath = await rootA.intermediate({ uris: ['spiffe://a.example/ca'] });
      const leaf = await withPath.leaf();
      expectRejected(() => verify(withPath.presented(leaf)), 'chain', /is a CA whose SPIFFE ID spiffe:\/\/a\.example\/ca has a path/);
      expect(intA.cert.subjectAltName).toBe('URI:spiffe://a.example');
    });

    it('bounds the number of presented certificates', async () => {
      const leaf = await intA.leaf();
      expect(verify([leaf.der, ...new Array(7).fill(intA.der)]).verifiedChain).toHaveLength(3);
      expectRejected(() => verify([leaf.der, ...new Array(8).fill(intA.der)]), 'chain-limit', /presented 9 certificates; at most 8/);
    });
  });

  describe('name constraints', () => {
    const td = 'nc.example';
    async function chainUnder(permitted: NameConstraint[], excluded: NameConstraint[] = [], leafOptions = {}) {
      const root = await TestCa.root(td, { extraExtensions: [nameConstraintsExtension(permitted, excluded)] });
      const leaf = await root.leaf(leafOptions);
      return () => verifyX509Svid([leaf.der], bundlesOf(root));
    }

    it('permits a URI in the permitted host and rejects one outside it', async () => {
      expect((await chainUnder([{ uri: td }]))().id.toString()).toBe('spiffe://nc.example/workload');
      expectRejected(await chainUnder([{ uri: 'other.example' }]), 'chain', /URI "spiffe:\/\/nc\.example\/workload" is outside the permitted subtrees URI "other\.example"/);
      expectRejected(await chainUnder([{ uri: '.nc.example' }]), 'chain', /outside the permitted subtrees/);
    });

    it('rejects a URI in an excluded subtree', async () => {
      expectRejected(await chainUnder([], [{ uri: td }]), 'chain', /is in the excluded subtree URI "nc\.example"/);
      expect((await chainUnder([], [{ uri: '.nc.example' }]))().id).toBeDefined();
    });

    it('checks DNS, IP and email SANs against constraints of their form only', async () => {
      const sans = { otherSans: [{ type: 'dns', value: 'api.svc.nc.example' }, { type: 'ip', value: '10.1.2.3' }, { type: 'email', value: 'ops@nc.example' }] };
      expect((await chainUnder([{ dns: 'svc.nc.example' }, { ip: '10.0.0.0/8' }, { email: 'nc.example' }, { uri: td }], [], sans))().id).toBeDefined();
      expectRejected(await chainUnder([{ dns: 'evilsvc.nc.example' }], [], sans), 'chain', /DNS "api\.svc\.nc\.example" is outside/);
      expectRejected(await chainUnder([{ ip: '192.168.0.0/16' }], [], sans), 'chain', /IP 10\.1\.2\.3 is outside/);
      expectRejected(await chainUnder([], [{ email: 'ops@nc.example' }], sans), 'chain', /EMAIL "ops@nc\.example" is in the excluded subtree/);
    });

    it('applies constraints of an intermediate to the names below it', async () => {
      const root = await TestCa.root(td);
      const constrained = await root.intermediate({ extraExtensions: [nameConstraintsExtension([{ uri: 'other.example' }])] });
      const leaf = await constrained.leaf();
      expectRejected(() => verifyX509Svid(constrained.presented(leaf), bundlesOf(root)), 'chain', /intermediate .* has name constraints that .* violates/);
    });

    it('fails closed on constraint forms it does not evaluate', async () => {
      const emptyName = Buffer.from([0x30, 0x00]);
      expectRejected(await chainUnder([{ directoryName: emptyName }]), 'chain', /name constraints on directoryName names are not supported/);
    });
  });
});

describe('parseX509Svid (self-check on receipt)', () => {
  let root: TestCa;
  let intermediate: TestCa;

  beforeAll(async () => {
    root = await TestCa.root('self.example');
    intermediate = await root.intermediate();
  });

  it('accepts a leaf with its intermediates and matching key', async () => {
    const leaf = await intermediate.leaf();
    const svid = parseX509Svid(Buffer.concat(intermediate.presented(leaf)), leaf.privateKeyDer, 'internal');
    expect(svid.id.toString()).toBe('spiffe://self.example/workload');
    expect(fingerprints(svid.certificates)).toEqual(fingerprints([leaf.cert, intermediate.cert]));
    expect(svid.hint).toBe('internal');
    expect(svid.expiresAt.getTime()).toBe(new Date(leaf.cert.validTo).getTime());
    expect(svid.privateKey.asymmetricKeyType).toBe('ec');
    expect(parseX509Svid(leaf.der, leaf.privateKeyDer)).not.toHaveProperty('hint');
  });

  it('reads UTCTime and GeneralizedTime validity dates exactly', async () => {
    const leaf = await root.leaf({ notBefore: new Date('1999-12-31T23:59:59Z'), notAfter: new Date('2060-01-01T00:00:00Z') });
    expect(leaf.der.includes(Buffer.from('991231235959Z'))).toBe(true);
    expect(leaf.der.includes(Buffer.from('20600101000000Z'))).toBe(true);
    expect(parseX509Svid(leaf.der, leaf.privateKeyDer).expiresAt.toISOString()).toBe('2060-01-01T00:00:00.000Z');
    const before = new Date('1999-12-31T23:59:58Z');
    expectRejected(() => verifyX509Svid([leaf.der], bundlesOf(root), { now: before }), 'chain', /leaf .* is not valid before 1999-12-31T23:59:59\.000Z/);
  });

  it('rejects trailing bytes and an empty certificate field', async () => {
    const leaf = await root.leaf();
    expectRejected(() => parseX509Svid(Buffer.concat([leaf.der, Buffer.from([1, 2])]), leaf.privateKeyDer), 'der', /x509_svid/);
    expectRejected(() => parseX509Svid(Buffer.alloc(0), leaf.privateKeyDer), 'der', /holds no certificate/);
  });

  it('applies the leaf rules', async () => {
    const two = await root.leaf({ uris: ['spiffe://self.example/a', 'spiffe://self.example/b'] });
    const ca = await root.leaf({ basicConstraints: { ca: true } });
    const noPath = await root.leaf({ uris: ['spiffe://self.example'] });
    expectRejected(() => parseX509Svid(two.der, two.privateKeyDer), 'uri-san', /has 2 URI SANs/);
    expectRejected(() => parseX509Svid(ca.der, ca.privateKeyDer), 'basic-constraints', /is a CA/);
    expectRejected(() => parseX509Svid(noPath.der, noPath.privateKeyDer), 'spiffe-id', /has no path/);
  });

  it('requires digitalSignature on the leaf', async () => {
    const noDs = await root.leaf({ keyUsage: KeyUsage.keyEncipherment });
    const noKu = await root.leaf({ keyUsage: 'omit' });
    expectRejected(() => parseX509Svid(noDs.der, noDs.privateKeyDer), 'key-usage', /lacks the digitalSignature key usage/);
    expectRejected(() => parseX509Svid(noKu.der, noKu.privateKeyDer), 'key-usage', /lacks the digitalSignature key usage/);
  });

  it('requires every later certificate to be a CA with keyCertSign', async () => {
    const leaf = await intermediate.leaf();
    const other = await root.leaf();
    const noSign = await root.intermediate({ keyUsage: KeyUsage.cRLSign });
    expectRejected(() => parseX509Svid(Buffer.concat([leaf.der, other.der]), leaf.privateKeyDer), 'signing-certificate', /certificate 1 .* is not a CA/);
    expectRejected(() => parseX509Svid(Buffer.concat([leaf.der, noSign.der]), leaf.privateKeyDer), 'signing-certificate', /certificate 1 .* lacks the keyCertSign/);
  });

  it('requires the private key to match the leaf', async () => {
    const leaf = await root.leaf();
    const other = await root.leaf();
    expectRejected(() => parseX509Svid(leaf.der, other.privateKeyDer), 'private-key', /does not match the public key of leaf/);
    expectRejected(() => parseX509Svid(leaf.der, Buffer.from('not a key')), 'private-key', /x509_svid_key/);
    expectRejected(() => parseX509Svid(leaf.der, Buffer.concat([leaf.privateKeyDer, Buffer.from([0])])), 'private-key', /x509_svid_key/);
  });

  it('converts to PEM that Node TLS accepts', async () => {
    const leaf = await intermediate.leaf({ keyAlgorithm: 'rsa' });
    const svid = parseX509Svid(Buffer.concat(intermediate.presented(leaf)), leaf.privateKeyDer);
    const { certChainPem, keyPem } = x509SvidToPem(svid);
    const blocks = certChainPem.match(/-----BEGIN CERTIFICATE-----[^-]+-----END CERTIFICATE-----/g) ?? [];
    expect(blocks.map((pem) => new X509Certificate(pem).fingerprint256)).toEqual(fingerprints(svid.certificates));
    expect(leaf.cert.checkPrivateKey(createPrivateKey(keyPem))).toBe(true);
    expect(() => createSecureContext({ cert: certChainPem, key: keyPem })).not.toThrow();
  });
});
