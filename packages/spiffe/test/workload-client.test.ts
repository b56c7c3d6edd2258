/**
 * The Workload API client and sources against a fake Workload API server on a Unix socket.
 * Backoff steps are shortened so that retries happen within milliseconds; no assertion depends on speed.
 */
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';
import { credentials, Metadata, Server, ServerCredentials, status as Status } from '@grpc/grpc-js';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SpiffeWorkloadAPIService } from '../gen/workload';
import type { BundleSet } from '../src/bundle/bundle';
import { TrustDomain } from '../src/spiffeid/id';
import { WorkloadEndpointError } from '../src/workloadapi/address';
import { LinearBackoff } from '../src/workloadapi/backoff';
import { WorkloadApiClient } from '../src/workloadapi/client';
import { WorkloadApiError, WorkloadResponseError } from '../src/workloadapi/errors';
import { JwtSource } from '../src/workloadapi/jwt-source';
import { workloadApiStub } from '../src/workloadapi/proto';
import type { X509Context } from '../src/workloadapi/responses';
import { X509Source, type X509SourceUpdate } from '../src/workloadapi/x509-source';
import { FakeWorkloadApi } from './support/fake-workload-api';
import { type Issued, jwtClaims, jwtKey, signJwt, TestCa } from './support/test-ca';

const BACKOFF = { stepMs: 10, maxMs: 40 };
const A = TrustDomain.parse('a.test');
const B = TrustDomain.parse('b.test');
const C = TrustDomain.parse('c.test');

let rootA: TestCa;
let rootB: TestCa;
let rootC: TestCa;
let workload: Issued;
let rotated: Issued;
let other: Issued;

beforeAll(async () => {
  [rootA, rootB, rootC] = await Promise.all([TestCa.root('a.test'), TestCa.root('b.test'), TestCa.root('c.test')]);
  [workload, rotated, other] = await Promise.all([
    rootA.leaf({ uris: ['spiffe://a.test/workload'] }),
    rootA.leaf({ uris: ['spiffe://a.test/workload'] }),
    rootA.leaf({ uris: ['spiffe://a.test/other'] }),
  ]);
});

function svid(leaf: Issued, overrides: Record<string, unknown> = {}) {
  return {
    spiffeId: leaf.cert.subjectAltName?.replace(/^URI:/, ''),
    x509Svid: leaf.der,
    x509SvidKey: leaf.privateKeyDer,
    bundle: rootA.der,
    hint: '',
    ...overrides,
  };
}

function x509Response(svids: unknown[], federatedBundles: Record<string, Buffer> = {}) {
  return { svids, crl: [], federatedBundles };
}

let fake: FakeWorkloadApi;
const cleanups: Array<() => void> = [];

beforeEach(async () => {
  fake = await FakeWorkloadApi.start();
});

afterEach(async () => {
  for (const cleanup of cleanups.splice(0)) cleanup();
  await fake.stop();
});

function client(): WorkloadApiClient {
  const c = new WorkloadApiClient({ endpoint: fake.endpoint, backoff: BACKOFF });
  cleanups.push(() => c.close());
  return c;
}

async function x509Source(): Promise<X509Source> {
  const source = await X509Source.create({ endpoint: fake.endpoint, backoff: BACKOFF, readyTimeoutMs: 10_000 });
  cleanups.push(() => source.close());
  return source;
}

/** Collects a watcher's updates and errors. */
function recorder<T>() {
  const updates: Array<{ state: T; withdrawn: boolean }> = [];
  const errors: Array<WorkloadApiError | WorkloadResponseError> = [];
  return {
    updates,
    errors,
    watcher: { onUpdate: (state: T, withdrawn: boolean) => updates.push({ state, withdrawn }), onError: (e: WorkloadApiError | WorkloadResponseError) => errors.push(e) },
  };
}

async function until(condition: () => boolean, what: string): Promise<void> {
  const deadline = Date.now() + 10_000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(5);
  }
}

/** The next 'update' (events.once would reject on the 'error' events some tests expect). */
function nextUpdate(source: X509Source): Promise<X509SourceUpdate> {
  return new Promise((resolve) => source.once('update', resolve));
}

describe('transport', () => {
  it.each(['127.0.0.1', '[::1]'])('reaches an endpoint at tcp://%s:<port>', async (host) => {
    const server = new Server();
    server.addService(SpiffeWorkloadAPIService, {
      validateJwtsvid: (_call: unknown, callback: (error: null, response: object) => void) =>
        callback(null, { spiffeId: 'spiffe://a.test/workload', claims: {} }),
    });
    cleanups.push(() => server.forceShutdown());
    const port = await new Promise<number>((resolve, reject) =>
      server.bindAsync(`${host}:0`, ServerCredentials.createInsecure(), (error, bound) => (error ? reject(error) : resolve(bound))),
    );
    const tcp = new WorkloadApiClient({ endpoint: `tcp://${host}:${port}` });
    cleanups.push(() => tcp.close());
    expect((await tcp.validateJwtSvid('a.b.c', 'dir')).id.toString()).toBe('spiffe://a.test/workload');
  });
});

describe('the workload.spiffe.io header', () => {
  it('is required by the endpoint, which answers InvalidArgument without it', async () => {
    const raw = workloadApiStub(`unix:${fake.socketPath}`, credentials.createInsecure());
    cleanups.push(() => raw.close());
    const stream = raw.fetchX509Svid({}, new Metadata());
    const [error] = (await once(stream, 'error')) as [{ code: number }];
    expect(error.code).toBe(Status.INVALID_ARGUMENT);
    expect(fake.x509Svid.headerless).toBe(1);
  });

  it('is sent by the client on streams and unary calls', async () => {
    fake.x509Svid.push(x509Response([svid(workload)]));
    fake.jwtBundles.push({ bundles: {} });
    fake.validateJwtSvid.answer = () => ({ spiffeId: 'spiffe://a.test/workload', claims: {} });
    const source = await x509Source();
    const jwt = await JwtSource.create({ endpoint: fake.endpoint, backoff: BACKOFF });
    cleanups.push(() => jwt.close());
    await client().validateJwtSvid('token', 'aud');
    expect(source.getX509Svid().id.toString()).toBe('spiffe://a.test/workload');
    expect(fake.x509Svid.headerless + fake.jwtBundles.headerless).toBe(0);
    expect(fake.validateJwtSvid.calls).toBe(1);
  });
});

describe('error handling of streams', () => {
  it.each([
    ['InvalidArgument', Status.INVALID_ARGUMENT],
    ['Unimplemented', Status.UNIMPLEMENTED],
  ])('reports %s once and never subscribes again', async (_name, code) => {
    fake.x509Svid.refuseNext({ code, details: 'refused by the test' });
    const { watcher, errors, updates } = recorder<X509Context>();
    client().watchX509Context(watcher);
    await until(() => errors.length > 0, 'the error');
    // Ample time for many retries at 10-40 ms steps, had there been any.
    await sleep(300);
    expect(fake.x509Svid.calls).toBe(1);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(WorkloadApiError);
    expect(errors[0]).toMatchObject({ code, willRetry: false });
    expect(updates).toHaveLength(0);
  });

  it('subscribes again after Unavailable, with a delay, until a message arrives', async () => {
    const unavailable = { code: Status.UNAVAILABLE, details: 'agent restarting' };
    fake.x509Svid.refuseNext(unavailable, unavailable, unavailable);
    fake.x509Svid.push(x509Response([svid(workload)]));
    const { watcher, errors, updates } = recorder<X509Context>();
    client().watchX509Context(watcher);
    await until(() => updates.length === 1, 'the first state');
    expect(fake.x509Svid.calls).toBe(4);
    expect(errors.map((e) => [e instanceof WorkloadApiError && e.code, e instanceof WorkloadApiError && e.willRetry])).toEqual([
      [Status.UNAVAILABLE, true],
      [Status.UNAVAILABLE, true],
      [Status.UNAVAILABLE, true],
    ]);
  });

  it('subscribes again when the endpoint ends the stream', async () => {
    fake.x509Svid.push(x509Response([svid(workload)]));
    const { watcher, updates, errors } = recorder<X509Context>();
    client().watchX509Context(watcher);
    await until(() => updates.length === 1, 'the first state');
    fake.x509Svid.endOpen();
    await until(() => updates.length === 2, 'the state from the new stream');
    expect(fake.x509Svid.calls).toBe(2);
    expect(errors).toHaveLength(0);
  });

  it('retries while no endpoint listens on the socket', async () => {
    const c = new WorkloadApiClient({ endpoint: `unix://${fake.socketPath}.missing`, backoff: BACKOFF });
    cleanups.push(() => c.close());
    const { watcher, errors } = recorder<X509Context>();
    c.watchX509Context(watcher);
    await until(() => errors.length >= 3, 'three failed attempts');
    expect(errors.every((e) => e instanceof WorkloadApiError && e.code === Status.UNAVAILABLE && e.willRetry)).toBe(true);
  });

  it('stops for good when the subscription is cancelled', async () => {
    fake.x509Svid.push(x509Response([svid(workload)]));
    const { watcher, updates, errors } = recorder<X509Context>();
    const subscription = client().watchX509Context(watcher);
    await until(() => updates.length === 1, 'the first state');
    subscription.cancel();
    await until(() => fake.x509Svid.openCount === 0, 'the server to see the cancellation');
    fake.x509Svid.push(x509Response([svid(rotated)]));
    await sleep(100);
    expect(updates).toHaveLength(1);
    expect(errors).toHaveLength(0);
    expect(fake.x509Svid.calls).toBe(1);
  });

  it('delays grow linearly up to the cap and restart after a good message', () => {
    const backoff = new LinearBackoff({ stepMs: 1_000, maxMs: 30_000 });
    const delays = Array.from({ length: 32 }, () => backoff.next());
    expect(delays.slice(0, 3)).toEqual([1_000, 2_000, 3_000]);
    expect(delays.slice(29)).toEqual([30_000, 30_000, 30_000]);
    expect(Math.min(...delays)).toBeGreaterThan(0);
    backoff.reset();
    expect(backoff.next()).toBe(1_000);
    expect(() => new LinearBackoff({ stepMs: 0, maxMs: 10 })).toThrow(RangeError);
  });
});

describe('X509Source', () => {
  it('gives the default SVID, SVIDs by hint, and the own and federated bundles', async () => {
    fake.x509Svid.push(
      x509Response([svid(workload), svid(other, { hint: 'external' }), svid(rotated, { hint: 'external' })], {
        'spiffe://b.test': rootB.der,
        'c.test': rootC.der,
      }),
    );
    const source = await x509Source();
    expect(source.getX509Svid().id.toString()).toBe('spiffe://a.test/workload');
    expect(source.getX509Svid().certificates[0]?.raw.equals(workload.der)).toBe(true);
    // When hints repeat, the first SVID wins.
    expect(source.getX509Svid('external').certificates[0]?.raw.equals(other.der)).toBe(true);
    expect(() => source.getX509Svid('internal')).toThrow('no X.509-SVID with hint "internal"');
    expect(source.getX509Svids()).toHaveLength(3);
    expect(source.getX509Bundle(A)?.authorities[0]?.raw.equals(rootA.der)).toBe(true);
    expect(source.getX509Bundle(B)?.authorities[0]?.raw.equals(rootB.der)).toBe(true);
    expect(source.getX509Bundle(C)?.authorities[0]?.raw.equals(rootC.der)).toBe(true);
    expect(source.bundles().trustDomains().map(String)).toEqual(['a.test', 'b.test', 'c.test']);
  });

  it('replaces the whole state with every message: a federated bundle left out is no longer trusted', async () => {
    fake.x509Svid.push(x509Response([svid(workload)], { 'spiffe://b.test': rootB.der }));
    const source = await x509Source();
    expect(source.getX509Bundle(B)).toBeDefined();

    const update = nextUpdate(source);
    fake.x509Svid.push(x509Response([svid(rotated)], { 'spiffe://c.test': rootC.der }));
    expect(await update).toEqual({ svidsChanged: true, bundles: { added: ['c.test'], removed: ['b.test'], changed: [] } });
    expect(source.getX509Svid().certificates[0]?.raw.equals(rotated.der)).toBe(true);
    expect(source.getX509Bundle(B)).toBeUndefined();
    expect(source.getX509Bundle(C)).toBeDefined();

    const bundleOnly = nextUpdate(source);
    fake.x509Svid.push(x509Response([svid(rotated)], { 'spiffe://c.test': rootB.der }));
    expect(await bundleOnly).toEqual({ svidsChanged: false, bundles: { added: [], removed: [], changed: ['c.test'] } });
  });

  it.each([
    ['no SVID at all', () => x509Response([]), 'the response holds no SVID'],
    ['an SVID without spiffe_id', () => x509Response([svid(rotated, { spiffeId: '' })]), 'svids[0].spiffe_id is empty'],
    ['an SVID without certificates', () => x509Response([svid(rotated, { x509Svid: Buffer.alloc(0) })]), 'svids[0].x509_svid is empty'],
    ['an SVID without a key', () => x509Response([svid(rotated, { x509SvidKey: Buffer.alloc(0) })]), 'svids[0].x509_svid_key is empty'],
    ['an SVID without a bundle', () => x509Response([svid(rotated, { bundle: Buffer.alloc(0) })]), 'svids[0].bundle is empty'],
    ['a key of another certificate', () => x509Response([svid(rotated, { x509SvidKey: workload.privateKeyDer })]), 'does not match'],
    ['a spiffe_id unlike the certificate', () => x509Response([svid(rotated, { spiffeId: 'spiffe://a.test/x' })]), 'differs'],
    ['a malformed federated bundle', () => x509Response([svid(rotated)], { 'spiffe://b.test': Buffer.from('junk') }), 'federated_bundles'],
    ['an invalid federated trust domain', () => x509Response([svid(rotated)], { 'spiffe://B.test': rootB.der }), 'federated_bundles key'],
    ['one federated trust domain twice', () => x509Response([svid(rotated)], { 'spiffe://b.test': rootB.der, 'b.test': rootB.der }), 'two X.509 bundles'],
  ])('discards a message with %s and keeps the previous state', async (_name, message, reason) => {
    fake.x509Svid.push(x509Response([svid(workload)], { 'spiffe://b.test': rootB.der }));
    const source = await x509Source();
    const errors: Error[] = [];
    source.on('error', (error) => errors.push(error));
    const updates: X509SourceUpdate[] = [];
    source.on('update', (update) => updates.push(update));

    fake.x509Svid.push(message());
    await until(() => errors.some((e) => e instanceof WorkloadResponseError), 'the discarded message');
    expect(errors.find((e) => e instanceof WorkloadResponseError)?.message).toContain(reason);
    expect(updates).toHaveLength(0);
    expect(source.getX509Svid().certificates[0]?.raw.equals(workload.der)).toBe(true);
    expect(source.getX509Bundle(B)).toBeDefined();

    // The stream is still up: the next valid message applies.
    fake.x509Svid.push(x509Response([svid(rotated)]));
    await until(() => updates.length === 1, 'the next valid message');
    expect(source.getX509Svid().certificates[0]?.raw.equals(rotated.der)).toBe(true);
  });

  it('drops the SVIDs on PermissionDenied, retries, and takes the identity back when it is issued again', async () => {
    fake.x509Svid.push(x509Response([svid(workload)], { 'spiffe://b.test': rootB.der }));
    const source = await x509Source();
    const errors: Error[] = [];
    source.on('error', (error) => errors.push(error));

    const withdrawn = nextUpdate(source);
    fake.x509Svid.refuseNext({ code: Status.PERMISSION_DENIED, details: 'no identity issued' });
    fake.x509Svid.failOpen(Status.PERMISSION_DENIED, 'no identity issued');
    expect(await withdrawn).toEqual({ svidsChanged: true, bundles: { added: [], removed: ['a.test', 'b.test'], changed: [] } });
    expect(() => source.getX509Svid()).toThrow(/no X.509-SVID is available.*PERMISSION_DENIED/);
    expect(source.getX509Svids()).toHaveLength(0);

    const restored = nextUpdate(source);
    expect((await restored).svidsChanged).toBe(true);
    expect(source.getX509Svid().id.toString()).toBe('spiffe://a.test/workload');
    expect(fake.x509Svid.calls).toBe(3);
    expect(errors.map((e) => (e as WorkloadApiError).code)).toEqual([Status.PERMISSION_DENIED, Status.PERMISSION_DENIED]);
  });

  it('create() waits through retries for the first valid SVID', async () => {
    fake.x509Svid.refuseNext({ code: Status.PERMISSION_DENIED, details: 'no identity issued' }, { code: Status.UNAVAILABLE, details: 'down' });
    fake.x509Svid.push(x509Response([svid(workload)]));
    const source = await x509Source();
    expect(source.getX509Svid().id.toString()).toBe('spiffe://a.test/workload');
    expect(fake.x509Svid.calls).toBe(3);
  });

  it('create() rejects after the timeout with the address, the last error and the selector to register', async () => {
    fake.x509Svid.refuseNext(...Array.from({ length: 1000 }, () => ({ code: Status.PERMISSION_DENIED, details: 'no identity issued' })));
    const creation = X509Source.create({ endpoint: fake.endpoint, backoff: BACKOFF, readyTimeoutMs: 1_000 });
    await expect(creation).rejects.toThrow(`no X.509-SVID from the Workload API at ${fake.endpoint} within 1000 ms`);
    await expect(creation).rejects.toThrow('(last error: Workload API FetchX509SVID failed with PERMISSION_DENIED: no identity issued');
    await expect(creation).rejects.toThrow(`unix:uid:${process.getuid!()}`);
    // A subscription already on its way when the source gave up may still arrive; none may follow it.
    await sleep(100);
    const calls = fake.x509Svid.calls;
    await sleep(200);
    expect(fake.x509Svid.calls).toBe(calls);
  });

  it('create() with an Infinity timeout waits through refusals for as long as it takes', async () => {
    fake.x509Svid.refuseNext(...Array.from({ length: 20 }, () => ({ code: Status.PERMISSION_DENIED, details: 'not yet' })));
    fake.x509Svid.push(x509Response([svid(workload)]));
    const source = await X509Source.create({ endpoint: fake.endpoint, backoff: BACKOFF, readyTimeoutMs: Infinity });
    expect(source.getX509Svid().id.toString()).toBe('spiffe://a.test/workload');
    expect(fake.x509Svid.calls).toBe(21);
    source.close();
  });

  it('create() rejects at once on an error that is not retried', async () => {
    fake.x509Svid.refuseNext({ code: Status.UNIMPLEMENTED, details: 'no X.509 here' });
    await expect(X509Source.create({ endpoint: fake.endpoint, backoff: BACKOFF, readyTimeoutMs: 60_000 })).rejects.toThrow(WorkloadApiError);
  });

  it('rejects a bad address before any call', () => {
    expect(() => new WorkloadApiClient({ endpoint: 'unix://relative/agent.sock' })).toThrow(WorkloadEndpointError);
    return expect(X509Source.create({ endpoint: 'tcp://localhost:1' })).rejects.toThrow(WorkloadEndpointError);
  });
});

describe('X.509 bundles stream', () => {
  it('gives every bundle, keys in either form, and replaces the set with every message', async () => {
    fake.x509Bundles.push({ crl: [], bundles: { 'spiffe://a.test': rootA.der, 'b.test': rootB.der } });
    const { watcher, updates } = recorder<BundleSet>();
    client().watchX509Bundles(watcher);
    await until(() => updates.length === 1, 'the bundles');
    expect(updates[0]?.state.trustDomains().map(String)).toEqual(['a.test', 'b.test']);
    fake.x509Bundles.push({ crl: [], bundles: { 'spiffe://a.test': rootA.der } });
    await until(() => updates.length === 2, 'the second message');
    expect(updates[1]?.state.getX509Bundle(B)).toBeUndefined();
  });
});

describe('JWT', () => {
  const keyA = jwtKey('ES256', 'key-a');
  const keyB = jwtKey('RS256', 'key-b');
  // SPIRE omits `use` on the Workload API's JWKS.
  const jwks = (...keys: Array<typeof keyA>) => Buffer.from(JSON.stringify({ keys: keys.map((k) => ({ ...k.jwk, kid: k.kid })) }));

  it('JwtSource keeps the JWT bundles and replaces them with every message', async () => {
    fake.jwtBundles.push({ bundles: { 'spiffe://a.test': jwks(keyA), 'spiffe://b.test': jwks(keyB) } });
    const source = await JwtSource.create({ endpoint: fake.endpoint, backoff: BACKOFF });
    cleanups.push(() => source.close());
    expect(source.getJwtBundle(A)?.authorities.map((a) => a.keyId)).toEqual(['key-a']);
    expect(source.getJwtBundle(B)?.authorities.map((a) => a.keyId)).toEqual(['key-b']);

    const update = once(source, 'update');
    fake.jwtBundles.push({ bundles: { 'spiffe://a.test': jwks(keyA, keyB) } });
    expect((await update)[0]).toEqual({ bundles: { added: [], removed: ['b.test'], changed: ['a.test'] } });
    expect(source.getJwtBundle(B)).toBeUndefined();
  });

  it('JwtSource discards a malformed JWKS and keeps the previous bundles', async () => {
    fake.jwtBundles.push({ bundles: { 'spiffe://a.test': jwks(keyA) } });
    const source = await JwtSource.create({ endpoint: fake.endpoint, backoff: BACKOFF });
    cleanups.push(() => source.close());
    const [error] = await Promise.all([
      once(source, 'error').then(([e]) => e as Error),
      fake.jwtBundles.push({ bundles: { 'spiffe://a.test': Buffer.from('{"keys": 1}') } }),
    ]);
    expect(error).toBeInstanceOf(WorkloadResponseError);
    expect(source.getJwtBundle(A)?.authorities.map((a) => a.keyId)).toEqual(['key-a']);
  });

  it('fetches a JWT-SVID for the audiences and reads its ID and expiry', async () => {
    fake.jwtBundles.push({ bundles: {} });
    const claims = jwtClaims('spiffe://a.test/workload', ['dir', 'other']);
    const token = signJwt(keyA, claims);
    fake.jwtSvid.answer = () => ({ svids: [{ spiffeId: 'spiffe://a.test/workload', svid: token, hint: 'internal' }] });
    const source = await JwtSource.create({ endpoint: fake.endpoint, backoff: BACKOFF });
    cleanups.push(() => source.close());

    const fetched = await source.fetchJwtSvid('dir', 'spiffe://a.test/workload');
    expect(fetched.token).toBe(token);
    expect(fetched.id.toString()).toBe('spiffe://a.test/workload');
    expect(fetched.expiresAt.getTime()).toBe((claims['exp'] as number) * 1000);
    expect(fetched.hint).toBe('internal');
    expect(fake.jwtSvid.requests).toEqual([{ audience: ['dir'], spiffeId: 'spiffe://a.test/workload' }]);
  });

  it('rejects a JWT-SVID whose claims do not match what was asked for', async () => {
    const token = signJwt(keyA, jwtClaims('spiffe://a.test/workload', 'someone-else'));
    fake.jwtSvid.answer = () => ({ svids: [{ spiffeId: 'spiffe://a.test/workload', svid: token, hint: '' }] });
    await expect(client().fetchJwtSvids('dir')).rejects.toThrow("the token's aud lacks dir");
    fake.jwtSvid.answer = () => ({ svids: [{ spiffeId: 'spiffe://a.test/other', svid: token, hint: '' }] });
    await expect(client().fetchJwtSvids('someone-else')).rejects.toThrow("the token's sub");
    fake.jwtSvid.answer = () => ({ svids: [] });
    await expect(client().fetchJwtSvids('dir')).rejects.toThrow('no JWT-SVID');
  });

  it('needs at least one audience, checked before any call', async () => {
    await expect(client().fetchJwtSvids([])).rejects.toThrow(TypeError);
    await expect(client().fetchJwtSvids('')).rejects.toThrow(TypeError);
    expect(fake.jwtSvid.calls).toBe(0);
  });

  it('returns the status of a failed unary call', async () => {
    fake.jwtSvid.answer = () => ({ code: Status.PERMISSION_DENIED, details: 'no identity issued' });
    await expect(client().fetchJwtSvids('dir')).rejects.toMatchObject({ code: Status.PERMISSION_DENIED, willRetry: false });
  });

  it('validates a JWT-SVID through the endpoint and converts the claims Struct to JSON', async () => {
    fake.validateJwtSvid.answer = () => ({
      spiffeId: 'spiffe://a.test/workload',
      // The generated encoder wraps these plain values into the Struct's Values on the wire.
      claims: { sub: 'spiffe://a.test/workload', exp: 1700000000, aud: ['dir'], extra: { ok: true, none: null } },
    });
    const result = await client().validateJwtSvid('a.b.c', 'dir');
    expect(result.id.toString()).toBe('spiffe://a.test/workload');
    expect(result.claims).toEqual({ sub: 'spiffe://a.test/workload', exp: 1700000000, aud: ['dir'], extra: { ok: true, none: null } });
    expect(fake.validateJwtSvid.requests).toEqual([{ audience: 'dir', svid: 'a.b.c' }]);
  });

  it('turns a Value without a kind in a claims list into null, and an absent claims Struct into no claims', async () => {
    // An undefined list item goes on the wire as a Value with no member set.
    fake.validateJwtSvid.answer = () => ({ spiffeId: 'spiffe://a.test/workload', claims: { aud: ['dir', undefined] } });
    expect((await client().validateJwtSvid('a.b.c', 'dir')).claims).toEqual({ aud: ['dir', null] });
    fake.validateJwtSvid.answer = () => ({ spiffeId: 'spiffe://a.test/workload' });
    expect((await client().validateJwtSvid('a.b.c', 'dir')).claims).toEqual({});
  });
});
