/**
 * Hostile chains cost bounded work. The review's attack: CA certificates sharing one subject and one
 * key all sign each other, so an unbounded path search tries every ordering of them (about 13,700
 * signature checks for 7, seconds of CPU per TLS connection with P-256 and minutes with P-521).
 *
 * The bound is asserted on the number of signature operations, counted where they happen
 * (`crypto.verify`, and `X509Certificate.prototype.verify`, which RSASSA-PSS goes through), never on
 * wall time. Each count is paired with a control that proves the counter sees our verifier's checks.
 */
import crypto, { X509Certificate } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer } from 'node:tls';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { BundleSet, X509Bundle } from '../src/bundle/bundle';
import { TrustDomain } from '../src/spiffeid/id';
import { authorizeAny, authorizeMemberOf } from '../src/spiffetls/authorizer';
import { spiffeChannelCredentials } from '../src/spiffetls/client';
import { SpiffeServer } from '../src/spiffetls/server';
import { parseX509Svid, verifyX509Svid, X509SvidError } from '../src/x509svid';
import { sameKeyCaCluster, TestCa, type Issued, type KeyAlgorithm } from './support/test-ca';

const TD = TrustDomain.parse('a.example');
/** A valid chain of n certificates below the root needs n checks; a few dead ends may add some. */
const BOUND = 10;

let root: TestCa;
let bundles: BundleSet;

beforeAll(async () => {
  root = await TestCa.root(TD.name);
  bundles = new BundleSet({ x509: [X509Bundle.fromDer(TD, root.der)] });
});

afterEach(() => {
  vi.restoreAllMocks();
});

/** Runs `work` and returns how many signatures it verified. */
async function signatureChecks(work: () => unknown): Promise<number> {
  const spies = [vi.spyOn(crypto, 'verify'), vi.spyOn(X509Certificate.prototype, 'verify')];
  try {
    await work();
    return spies.reduce((sum, spy) => sum + spy.mock.calls.length, 0);
  } finally {
    for (const spy of spies) spy.mockRestore();
  }
}

function rejectionOf(run: () => unknown): X509SvidError {
  try {
    run();
  } catch (error) {
    if (error instanceof X509SvidError) return error;
    throw error;
  }
  throw new Error('expected a rejection');
}

describe.each<KeyAlgorithm>(['ec', 'ec-p521'])('seven same-subject, same-key CAs (%s)', (keyAlgorithm) => {
  it('are rejected after at most a handful of signature checks', async () => {
    const hostile = await sameKeyCaCluster(TD.name, 7, 'spiffe://a.example/evil', keyAlgorithm);
    let error: X509SvidError | undefined;
    const checks = await signatureChecks(() => {
      error = rejectionOf(() => verifyX509Svid(hostile.presented, bundles));
    });
    expect(error?.rule).toBe('chain');
    expect(error?.message).toMatch(/no valid path to a root of "a\.example"/);
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThanOrEqual(BOUND);
  });

  it('are rejected as cheaply when they copy the subject of the genuine root', async () => {
    const copycat = await sameKeyCaCluster(TD.name, 7, 'spiffe://a.example/evil', keyAlgorithm);
    const named = await TestCa.root(TD.name, { subject: 'O=a.example, CN=one subject, one key', keyAlgorithm });
    const withSameSubject = new BundleSet({ x509: [X509Bundle.fromDer(TD, named.der)] });
    let error: X509SvidError | undefined;
    const checks = await signatureChecks(() => {
      error = rejectionOf(() => verifyX509Svid(copycat.presented, withSameSubject));
    });
    expect(error?.message).toMatch(/root .* did not sign/);
    expect(checks).toBeGreaterThan(0);
    expect(checks).toBeLessThanOrEqual(BOUND);
  });
});

describe('the signature-check budget', () => {
  it('counts one check per certificate below the root of a valid chain (the counter sees our checks)', async () => {
    const intermediate = await root.intermediate();
    const leaf = await intermediate.leaf({ uris: ['spiffe://a.example/ok'] });
    expect(await signatureChecks(() => verifyX509Svid(intermediate.presented(leaf), bundles))).toBe(2);
  });

  it('stops verification when it is spent, with rule chain-limit', async () => {
    const intermediate = await root.intermediate();
    const leaf = await intermediate.leaf({ uris: ['spiffe://a.example/ok'] });
    const error = rejectionOf(() => verifyX509Svid(intermediate.presented(leaf), bundles, { maxSignatureChecks: 1 }));
    expect(error.rule).toBe('chain-limit');
    expect(error.message).toMatch(/gave up after 1 signature checks/);
  });

  it('checks each (certificate, issuer key) pair once, however many copies of the issuer are presented', async () => {
    const intermediate = await root.intermediate();
    const leaf = await intermediate.leaf({ uris: ['spiffe://a.example/ok'] });
    const wrongKey = await root.intermediate({ subject: intermediate.name });
    const presented = [leaf.der, wrongKey.der, wrongKey.der, intermediate.der];
    expect(await signatureChecks(() => verifyX509Svid(presented, bundles))).toBeLessThanOrEqual(3);
  });
});

describe('over TLS, both sides', () => {
  let hostile: { cas: Issued[]; leaf: Issued; presented: Buffer[] };
  const pem = (der: Buffer) => new X509Certificate(der).toString();

  beforeAll(async () => {
    hostile = await sameKeyCaCluster(TD.name, 7, 'spiffe://a.example/evil', 'ec-p521');
  });

  it('the server rejects a hostile client after a handful of checks and keeps serving', async () => {
    const serverLeaf = await root.leaf({ uris: ['spiffe://a.example/server'] });
    const source = { getX509Svid: () => parseX509Svid(serverLeaf.der, serverLeaf.privateKeyDer), getX509Bundle: (td: TrustDomain) => bundles.getX509Bundle(td) };
    const rejections: string[] = [];
    const server = new SpiffeServer(new grpc.Server(), { source, authorizer: authorizeAny(), onRejected: (reason) => rejections.push(reason) });
    const port = await server.listen(0);
    try {
      const checks = await signatureChecks(async () => {
        const socket = connect({
          host: '127.0.0.1',
          port,
          cert: hostile.presented.map(pem).join(''),
          key: hostileKeyPem(hostile.leaf),
          rejectUnauthorized: false,
          ALPNProtocols: ['h2'],
        });
        await once(socket, 'close');
      });
      expect(rejections.join('\n')).toMatch(/no valid path to a root of "a\.example"/);
      expect(checks).toBeGreaterThan(0);
      expect(checks).toBeLessThanOrEqual(BOUND);
    } finally {
      await server.close();
    }
  });

  it('the client rejects a hostile server after a handful of checks', async () => {
    const tlsServer = createServer({
      cert: hostile.presented.map(pem).join(''),
      key: hostileKeyPem(hostile.leaf),
      ALPNProtocols: ['h2'],
    });
    tlsServer.listen(0, '127.0.0.1');
    await once(tlsServer, 'listening');
    const { port } = tlsServer.address() as AddressInfo;
    const clientLeaf = await root.leaf({ uris: ['spiffe://a.example/client'] });
    const source = { getX509Svid: () => parseX509Svid(clientLeaf.der, clientLeaf.privateKeyDer), getX509Bundle: (td: TrustDomain) => bundles.getX509Bundle(td) };
    const client = new grpc.Client(`127.0.0.1:${port}`, spiffeChannelCredentials({ source, authorizer: authorizeMemberOf(TD) }));
    try {
      let failure: grpc.ServiceError | undefined;
      const checks = await signatureChecks(
        () =>
          new Promise<void>((resolve) => {
            const noBytes = (value: Buffer) => value;
            client.makeUnaryRequest('/dirtk.test.Any/Call', noBytes, noBytes, Buffer.alloc(0), { deadline: Date.now() + 5_000 }, (error) => {
              failure = error ?? undefined;
              resolve();
            });
          }),
      );
      expect(failure?.code).toBe(grpc.status.UNAVAILABLE);
      expect(failure?.details).toMatch(/no valid path to a root of "a\.example"/);
      expect(checks).toBeGreaterThan(0);
      expect(checks).toBeLessThanOrEqual(BOUND);
    } finally {
      client.close();
      tlsServer.close();
    }
  });
});

function hostileKeyPem(leaf: Issued): string {
  return `-----BEGIN PRIVATE KEY-----\n${leaf.privateKeyDer.toString('base64').replace(/.{64}/g, '$&\n')}\n-----END PRIVATE KEY-----\n`;
}
