/**
 * Our certificate reader against an independent one: @peculiar/asn1-x509 parses the same
 * certificates, and every field SPIFFE verification decides on must agree. Malformed encodings that
 * our reader rejects must also fail the reference's DER check (parse, re-encode, compare bytes).
 */
import 'reflect-metadata';
import { AsnParser, AsnSerializer } from '@peculiar/asn1-schema';
import {
  AuthorityKeyIdentifier,
  BasicConstraints,
  Certificate,
  id_ce_authorityKeyIdentifier,
  id_ce_basicConstraints,
  id_ce_keyUsage,
  id_ce_subjectAltName,
  id_ce_subjectKeyIdentifier,
  KeyUsage as AsnKeyUsage,
  SubjectAlternativeName,
  SubjectKeyIdentifier,
} from '@peculiar/asn1-x509';
import * as x509 from '@peculiar/x509';
import { beforeAll, describe, expect, it } from 'vitest';
import { parseCertificate, type ParsedCertificate } from '../src/internal/certificate';
import { KeyUsage, nameConstraintsExtension, TestCa, type Issued } from './support/test-ca';

const buf = (bytes: ArrayBuffer | Uint8Array) => Buffer.from(bytes instanceof Uint8Array ? bytes : new Uint8Array(bytes));

/** What the reference reads from a certificate, in the shape of our parse. */
function referenceView(der: Buffer) {
  const cert = AsnParser.parse(der, Certificate);
  const tbs = cert.tbsCertificate;
  const extension = <T>(oid: string, type: new () => T): T | undefined => {
    const found = tbs.extensions?.find((e) => e.extnID === oid);
    return found ? AsnParser.parse(found.extnValue, type) : undefined;
  };
  const basicConstraints = extension(id_ce_basicConstraints, BasicConstraints);
  const keyUsage = extension(id_ce_keyUsage, AsnKeyUsage);
  const sans = extension(id_ce_subjectAltName, SubjectAlternativeName);
  const ski = extension(id_ce_subjectKeyIdentifier, SubjectKeyIdentifier);
  const aki = extension(id_ce_authorityKeyIdentifier, AuthorityKeyIdentifier);
  return {
    reencodes: buf(AsnSerializer.serialize(cert)).equals(der),
    subjectDer: buf(AsnSerializer.serialize(tbs.subject)),
    issuerDer: buf(AsnSerializer.serialize(tbs.issuer)),
    subjectPublicKeyInfoDer: buf(AsnSerializer.serialize(tbs.subjectPublicKeyInfo)),
    tbsDer: buf(AsnSerializer.serialize(tbs)),
    signatureValue: buf(cert.signatureValue),
    signatureAlgorithm: cert.signatureAlgorithm.algorithm,
    notBefore: tbs.validity.notBefore.getTime().getTime(),
    notAfter: tbs.validity.notAfter.getTime().getTime(),
    basicConstraints: basicConstraints && { ca: basicConstraints.cA, ...(basicConstraints.pathLenConstraint !== undefined && { pathLen: basicConstraints.pathLenConstraint }) },
    keyUsage: keyUsage?.toNumber(),
    uris: (sans ?? []).flatMap((name) => (name.uniformResourceIdentifier ? [name.uniformResourceIdentifier] : [])),
    dns: (sans ?? []).flatMap((name) => (name.dNSName ? [name.dNSName] : [])),
    subjectKeyId: ski && buf(ski.buffer),
    authorityKeyId: aki?.keyIdentifier && buf(aki.keyIdentifier.buffer),
  };
}

function ourView(parsed: ParsedCertificate) {
  return {
    subjectDer: parsed.subjectDer,
    issuerDer: parsed.issuerDer,
    subjectPublicKeyInfoDer: parsed.subjectPublicKeyInfoDer,
    tbsDer: parsed.tbsDer,
    signatureValue: parsed.signatureValue,
    signatureAlgorithm: parsed.signatureAlgorithm,
    notBefore: parsed.notBefore.getTime(),
    notAfter: parsed.notAfter.getTime(),
    basicConstraints: parsed.basicConstraints,
    keyUsage: parsed.keyUsage,
    uris: parsed.sans.flatMap((name) => (name.type === 'uri' ? [name.value] : [])),
    dns: parsed.sans.flatMap((name) => (name.type === 'dns' ? [name.value] : [])),
    subjectKeyId: parsed.subjectKeyId,
    authorityKeyId: parsed.authorityKeyId,
  };
}

const samples: [string, () => Promise<Issued>][] = [];
let root: TestCa;

beforeAll(async () => {
  root = await TestCa.root('ref.example', {
    extraExtensions: [nameConstraintsExtension([{ uri: 'ref.example' }]), await x509.SubjectKeyIdentifierExtension.create((await TestCa.root('k.example')).keys.publicKey)],
  });
});

samples.push(
  ['a root with name constraints and a subject key ID', async () => root],
  ['an intermediate with pathLen 0', async () => root.intermediate({ basicConstraints: { ca: true, pathLen: 0 } })],
  ['an RSA leaf', async () => (await TestCa.root('rsa.example', { keyAlgorithm: 'rsa' })).leaf({ keyAlgorithm: 'rsa' })],
  ['a P-521 leaf with DNS names', async () => root.leaf({ keyAlgorithm: 'ec-p521', otherSans: [{ type: 'dns', value: 'svc.ref.example' }] })],
  ['a leaf without KeyUsage or basicConstraints', async () => root.leaf({ keyUsage: 'omit', basicConstraints: 'omit' })],
  ['a leaf with every leaf key usage', async () => root.leaf({ keyUsage: KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement })],
  [
    'a leaf with an authority key ID',
    async () => root.leaf({ extraExtensions: [await x509.AuthorityKeyIdentifierExtension.create(root.keys.publicKey)] }),
  ],
);

describe('certificate fields against @peculiar/asn1-x509', () => {
  it.each(samples)('%s', async (_, make) => {
    const { der } = await make();
    const reference = referenceView(der);
    expect(reference.reencodes).toBe(true);
    const { reencodes: _reencodes, ...fields } = reference;
    expect(ourView(parseCertificate(der))).toEqual(fields);
  });
});

describe('encodings both readers refuse as DER', () => {
  let der: Buffer;
  beforeAll(async () => {
    der = (await root.leaf()).der;
  });

  /** Rewrites the outer SEQUENCE's length with one more length octet than needed (BER, not DER). */
  const longerLength = (certificate: Buffer): Buffer => {
    const count = (certificate[1] as number) & 0x7f;
    const length = certificate.readUIntBE(2, count);
    const header = Buffer.from([0x30, 0x80 | (count + 1), 0, ...Buffer.from(length.toString(16).padStart(count * 2, '0'), 'hex')]);
    return Buffer.concat([header, certificate.subarray(2 + count)]);
  };

  it.each([
    ['a non-minimal length', () => longerLength(der)],
    ['trailing bytes', () => Buffer.concat([der, Buffer.from([0])])],
  ])('%s', (_, variant) => {
    const bytes = variant();
    expect(() => parseCertificate(bytes)).toThrow();
    let referenceAccepts = false;
    try {
      const parsed = AsnParser.parse(bytes, Certificate);
      referenceAccepts = buf(AsnSerializer.serialize(parsed)).equals(bytes);
    } catch {
      referenceAccepts = false;
    }
    expect(referenceAccepts).toBe(false);
  });
});
