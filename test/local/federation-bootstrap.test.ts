/** The zero-touch federation bootstrap: upstream CAs, the seed bundles made of them, and the spec they give. */
import 'reflect-metadata';
import * as x509 from '@peculiar/x509';
import { X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SpiffeBundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { EXAMPLE_FEDERATION, resolveTopology, specOf, type TopologySpec } from '../../topology';
import { bootstrapFederation } from '../../federation/bootstrap';
import { loadOrCreateUpstreamCas } from '../../federation/ca-folder';
import { seedBundle } from '../../federation/seed-bundle';
import { checkUpstreamCa, checkUpstreamRoot, createUpstreamCa, upstreamCaFiles, type UpstreamCa } from '../../federation/upstream-ca';
import { TestCa } from '../../packages/spiffe/test/support/test-ca';

const DAY_MS = 24 * 3_600_000;
let dir: UpstreamCa;
let dirctl: UpstreamCa;

beforeAll(async () => {
  [dir, dirctl] = await Promise.all([createUpstreamCa('dir.example'), createUpstreamCa('dirctl.example')]);
});

describe('upstream CA', () => {
  it('is a self-signed, long-lived EC P-256 CA that names its trust domain and matches its key', () => {
    const cert = checkUpstreamCa(dir);
    expect(cert.ca).toBe(true);
    expect(cert.checkIssued(cert)).toBe(true);
    expect(cert.verify(cert.publicKey)).toBe(true);
    const parsed = new x509.X509Certificate(dir.certificatePem);
    expect(parsed.getExtension(x509.KeyUsagesExtension)?.usages).toBe(x509.KeyUsageFlags.keyCertSign | x509.KeyUsageFlags.cRLSign);
    // No path length limit: SPIRE's CA comes between the root and the SVIDs.
    expect(parsed.getExtension(x509.BasicConstraintsExtension)).toMatchObject({ ca: true, pathLength: undefined, critical: true });
    expect(cert.subjectAltName).toBe('URI:spiffe://dir.example');
    expect(cert.publicKey.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(new Date(cert.validTo).getTime() - Date.now()).toBeGreaterThan(9 * 365 * DAY_MS);
    expect(dir.privateKeyPem).toMatch(/^-----BEGIN PRIVATE KEY-----/);
  });

  it('is refused when it is not a CA, names another trust domain, has expired, or the key is not its own', async () => {
    const root = await TestCa.root('dir.example');
    const leaf = await root.leaf({ uris: ['spiffe://dir.example'] });
    expect(() => checkUpstreamRoot({ trustDomain: 'dir.example', certificatePem: leaf.cert.toString() })).toThrow(/not a CA/);
    expect(() => checkUpstreamRoot({ trustDomain: 'dir.example', certificatePem: dirctl.certificatePem })).toThrow(
      /upstream CA of dir.example: the certificate names URI:spiffe:\/\/dirctl.example instead of spiffe:\/\/dir.example/,
    );
    const expired = await createUpstreamCa('dir.example', { notBefore: new Date(Date.now() - 3 * DAY_MS), validityDays: 1 });
    expect(() => checkUpstreamCa(expired)).toThrow(/valid only from/);
    expect(() => checkUpstreamCa({ ...dir, privateKeyPem: dirctl.privateKeyPem })).toThrow(/private key does not belong/);
  });

  it('gives the files of the Secret the SPIRE server mounts: the root is its own bundle', () => {
    expect(upstreamCaFiles(dir)).toEqual({ certificate: dir.certificatePem, key: dir.privateKeyPem, bundle: dir.certificatePem });
  });
});

describe('seed bundle', () => {
  it('is a SPIFFE bundle with the upstream root as its only authority, sequence 0 and the refresh hint', () => {
    const text = seedBundle(dirctl, 300);
    const bundle = SpiffeBundle.parse(TrustDomain.parse('dirctl.example'), text);
    expect(bundle.x509.authorities.map((cert) => cert.fingerprint256)).toEqual([new X509Certificate(dirctl.certificatePem).fingerprint256]);
    expect(bundle.jwt.authorities).toEqual([]);
    expect(bundle.sequence).toBe(0n);
    expect(bundle.refreshHintSeconds).toBe(300);
    const keys = (JSON.parse(text) as { keys: Array<{ use: string; x5c: string[] }> }).keys;
    expect(keys).toHaveLength(1);
    expect(keys[0]).toMatchObject({ use: 'x509-svid', kty: 'EC', crv: 'P-256' });
    expect(keys[0]!.x5c).toEqual([new X509Certificate(dirctl.certificatePem).raw.toString('base64')]);
  });
});

describe('bootstrapFederation', () => {
  it('sets a disk UpstreamAuthority on every domain and seeds every edge with the peer root, which resolves', () => {
    const example = resolveTopology(EXAMPLE_FEDERATION);
    const topology = bootstrapFederation(example, { 'dir.example': dir, 'dirctl.example': dirctl });
    // What it returns is what the same settings would resolve to.
    expect(resolveTopology(specOf(topology))).toEqual(topology);
    for (const td of topology.trustDomains) {
      expect(td.server.upstreamAuthority).toEqual({ type: 'disk', secretName: 'spire-upstream-ca' });
    }
    const [dirDomain, dirctlDomain] = topology.trustDomains;
    expect(dirDomain!.federatesWith[0]!.trustDomainBundle).toBe(seedBundle(dirctl, 300));
    expect(dirctlDomain!.federatesWith[0]!.trustDomainBundle).toBe(seedBundle(dir, 300));
    // The input is left as it was.
    expect(example.trustDomains[0]!.server.upstreamAuthority).toBeUndefined();
    expect(example.trustDomains[0]!.federatesWith[0]!.trustDomainBundle).toBeUndefined();
  });

  it("keeps a chosen Secret name and seeds with the peer's own refresh hint", () => {
    const spec: TopologySpec = {
      trustDomains: [
        { ...EXAMPLE_FEDERATION.trustDomains[0]!, server: { upstreamAuthority: { type: 'disk', secretName: 'dir-root' } } },
        { ...EXAMPLE_FEDERATION.trustDomains[1]!, bundleEndpoint: { ...EXAMPLE_FEDERATION.trustDomains[1]!.bundleEndpoint, refreshHint: '10m' } },
      ],
    };
    const [dirDomain] = bootstrapFederation(resolveTopology(spec), { 'dir.example': dir, 'dirctl.example': dirctl }).trustDomains;
    expect(dirDomain!.server.upstreamAuthority?.secretName).toBe('dir-root');
    expect(SpiffeBundle.parse(TrustDomain.parse('dirctl.example'), dirDomain!.federatesWith[0]!.trustDomainBundle!).refreshHintSeconds).toBe(600);
  });

  it('leaves an edge to a peer outside the topology as it is', () => {
    const outsider = '{"keys":[]}';
    const spec: TopologySpec = {
      trustDomains: [
        { name: 'dir.example', clusterName: 'dir', federatesWith: [{ trustDomain: 'partner.example', bundleEndpointUrl: 'https://partner.example', trustDomainBundle: outsider }] },
      ],
    };
    const [td] = bootstrapFederation(resolveTopology(spec), { 'dir.example': dir }).trustDomains;
    expect(td!.federatesWith[0]!.trustDomainBundle).toBe(outsider);
    expect(td!.server.upstreamAuthority?.type).toBe('disk');
  });

  it('names every domain whose root is missing or wrong, and every edge already seeded otherwise', () => {
    const example = resolveTopology(EXAMPLE_FEDERATION);
    expect(() => bootstrapFederation(example, { 'dir.example': dir })).toThrow(/dirctl.example: no upstream CA/);
    expect(() => bootstrapFederation(example, { 'dir.example': dir, 'dirctl.example': dir })).toThrow(
      /dirctl.example: the upstream CA given is that of dir.example/,
    );
    const seeded: TopologySpec = {
      trustDomains: [
        { ...EXAMPLE_FEDERATION.trustDomains[0]!, federatesWith: [{ trustDomain: 'dirctl.example', trustDomainBundle: '{"keys":[]}' }] },
        EXAMPLE_FEDERATION.trustDomains[1]!,
      ],
    };
    expect(() => bootstrapFederation(resolveTopology(seeded), { 'dir.example': dir, 'dirctl.example': dirctl })).toThrow(
      /trustDomains\[0\] \(dir.example\).federatesWith\[0\]: already carries a trustDomainBundle for dirctl.example/,
    );
  });
});

describe('upstream CA folder', () => {
  let folder: string;
  beforeAll(() => {
    folder = mkdtempSync(path.join(tmpdir(), 'dirtk-ca-folder-'));
  });
  afterAll(() => rmSync(folder, { recursive: true, force: true }));

  it('creates each missing CA as the Secret files, the key readable by the owner only, and reads it back later', async () => {
    const first = await loadOrCreateUpstreamCas(folder, ['dir.example', 'dirctl.example']);
    expect(Object.values(first).map((stored) => stored.created)).toEqual([true, true]);
    const stored = first['dir.example']!;
    expect(stored.dir).toBe(path.join(folder, 'dir.example'));
    expect(statSync(path.join(stored.dir, 'tls.key')).mode & 0o777).toBe(0o600);
    expect(readFileSync(path.join(stored.dir, 'tls.crt'), 'utf8')).toBe(stored.ca.certificatePem);
    expect(readFileSync(path.join(stored.dir, 'bundle.crt'), 'utf8')).toBe(stored.ca.certificatePem);

    const second = await loadOrCreateUpstreamCas(folder, ['dir.example', 'dirctl.example']);
    expect(second['dir.example']).toEqual({ ...stored, created: false });
  });

  it('refuses a folder whose CA is broken, saying how to start over', async () => {
    const broken = path.join(folder, 'broken.example');
    await loadOrCreateUpstreamCas(folder, ['broken.example']);
    writeFileSync(path.join(broken, 'tls.key'), dir.privateKeyPem);
    await expect(loadOrCreateUpstreamCas(folder, ['broken.example'])).rejects.toThrow(
      new RegExp(`private key does not belong to the certificate \\(in ${broken}\\)\\. Delete that folder`),
    );
  });
});
