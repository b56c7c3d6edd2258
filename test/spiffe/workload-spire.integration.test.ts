/**
 * The Workload API client against real SPIRE: two servers and one agent as local processes on
 * 127.0.0.1, join-token node attestation, the unix workload attestor, and an entry for this process's uid.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { status as Status } from '@grpc/grpc-js';
import { afterAll, beforeAll, describe, expect, it, type TestContext } from 'vitest';
import { X509Bundle } from '@dirtk/spiffe/bundle';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import { validateJwtSvid } from '@dirtk/spiffe/jwtsvid';
import { JwtSource, WorkloadApiClient, type WorkloadApiError, type WorkloadResponseError, X509Source, type X509SourceUpdate } from '@dirtk/spiffe/workloadapi';
import { SpireAgentProcess } from '../../spire/process/agent-process';
import { SpireServerProcess } from '../../spire/process/server-process';
import { whySpireIsUnavailable } from '../support/spire-available';
import { resolveTopology } from '../../topology';

const { trustDomains } = resolveTopology({
  trustDomains: [
    { name: 'a.test', clusterName: 'a' },
    { name: 'b.test', clusterName: 'b' },
  ],
});
const tdA = trustDomains[0]!;
const tdB = trustDomains[1]!;
const A = TrustDomain.parse('a.test');
const B = TrustDomain.parse('b.test');
const WORKLOAD_ID = 'spiffe://a.test/workload';
const AUDIENCE = 'dirtk-integration';
/** Short enough to see the agent rotate the SVID within the test (it renews at half-life). */
const X509_SVID_TTL_SECONDS = 20;

let skipReason: string | undefined;
let dir: string;
let serverA: SpireServerProcess;
let serverB: SpireServerProcess;
let agent: SpireAgentProcess;
let source: X509Source;
const errors: Array<WorkloadApiError | WorkloadResponseError> = [];

function skipIfUnavailable(context: TestContext): void {
  if (skipReason) context.skip(skipReason);
}

/** Resolves with the first 'update' that satisfies `predicate`. */
function updateWhere(predicate: (update: X509SourceUpdate) => boolean): Promise<X509SourceUpdate> {
  return new Promise((resolve) => {
    const listener = (update: X509SourceUpdate) => {
      if (!predicate(update)) return;
      source.off('update', listener);
      resolve(update);
    };
    source.on('update', listener);
  });
}

function serial(): string {
  return source.getX509Svid().certificates[0]!.serialNumber;
}

describe('Workload API client against real SPIRE', () => {
  // The timeout allows for a first run, which builds SPIRE with go install.
  beforeAll(async () => {
    skipReason = await whySpireIsUnavailable();
    if (skipReason) {
      console.warn(`SKIPPING the real-SPIRE Workload API tests: ${skipReason}`);
      return;
    }

    dir = mkdtempSync(path.join(tmpdir(), 'dirtk-it-'));
    [serverA, serverB] = await Promise.all([
      SpireServerProcess.start({ td: tdA, dir: path.join(dir, 'a-server') }),
      SpireServerProcess.start({ td: tdB, dir: path.join(dir, 'b-server') }),
    ]);
    // The entry can federate with b.test only once a.test's server holds b.test's bundle.
    await serverA.bundleSet('b.test', await serverB.bundleShow('spiffe'));
    await serverA.createEntry({
      parentId: 'spiffe://a.test/node',
      spiffeId: WORKLOAD_ID,
      selectors: [`unix:uid:${process.getuid!()}`],
      federatesWith: ['b.test'],
      x509SvidTtl: X509_SVID_TTL_SECONDS,
    });
    agent = await SpireAgentProcess.start({
      td: tdA,
      dir: path.join(dir, 'a-agent'),
      serverPort: serverA.placement.bindPort,
      trustBundlePem: await serverA.bundleShow('pem'),
      joinToken: await serverA.generateJoinToken('spiffe://a.test/node'),
    });
    // The agent learns the entry at its first sync with the server, a few seconds after it starts.
    source = await X509Source.create({ endpoint: agent.endpoint, readyTimeoutMs: 30_000 });
    source.on('error', (error) => errors.push(error));
  }, 1_800_000);

  afterAll(async () => {
    source?.close();
    await Promise.all([agent?.kill(), serverA?.kill(), serverB?.kill()]);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('fetches an X.509-SVID for this process and the bundle of its trust domain', async (context) => {
    skipIfUnavailable(context);
    const svid = source.getX509Svid();
    expect(svid.id.equals(SpiffeId.parse(WORKLOAD_ID))).toBe(true);
    expect(svid.expiresAt.getTime()).toBeGreaterThan(Date.now());
    const expected = X509Bundle.fromPem(A, await serverA.bundleShow('pem'));
    expect(source.getX509Bundle(A)?.authorities.map((c) => c.fingerprint256)).toEqual(expected.authorities.map((c) => c.fingerprint256));
  });

  it('receives the federated bundle that was set into the server', async (context) => {
    skipIfUnavailable(context);
    const expected = X509Bundle.fromPem(B, await serverB.bundleShow('pem'));
    expect(source.getX509Bundle(B)?.authorities.map((c) => c.fingerprint256)).toEqual(expected.authorities.map((c) => c.fingerprint256));

    const client = new WorkloadApiClient({ endpoint: agent.endpoint });
    try {
      const bundles = await new Promise<string[]>((resolve, reject) => {
        const subscription = client.watchX509Bundles({
          onUpdate: (set) => {
            subscription.cancel();
            resolve(set.trustDomains().map(String));
          },
          onError: reject,
        });
      });
      expect(bundles).toEqual(['a.test', 'b.test']);
    } finally {
      client.close();
    }
  });

  it('sees the agent rotate the SVID', async (context) => {
    skipIfUnavailable(context);
    const before = serial();
    await updateWhere((update) => update.svidsChanged);
    expect(serial()).not.toBe(before);
    expect(source.getX509Svid().id.toString()).toBe(WORKLOAD_ID);
  }, 60_000);

  it('resumes the stream after an agent restart and receives a fresh SVID', async (context) => {
    skipIfUnavailable(context);
    const before = serial();
    const errorsBefore = errors.length;
    const fresh = updateWhere((update) => update.svidsChanged && source.getX509Svids().length > 0 && serial() !== before);
    await agent.restart();
    await fresh;
    expect(source.getX509Svid().id.toString()).toBe(WORKLOAD_ID);
    // The restart broke the stream; the source reported it and subscribed again by itself.
    expect(errors.length).toBeGreaterThan(errorsBefore);
  }, 60_000);

  it('fetches a JWT-SVID and has the Workload API validate it', async (context) => {
    skipIfUnavailable(context);
    const jwt = await JwtSource.create({ endpoint: agent.endpoint });
    const client = new WorkloadApiClient({ endpoint: agent.endpoint });
    try {
      const fetched = await jwt.fetchJwtSvid(AUDIENCE);
      expect(fetched.id.toString()).toBe(WORKLOAD_ID);
      expect(fetched.expiresAt.getTime()).toBeGreaterThan(Date.now());

      const validated = await client.validateJwtSvid(fetched.token, AUDIENCE);
      expect(validated.id.toString()).toBe(WORKLOAD_ID);
      expect(validated.claims['sub']).toBe(WORKLOAD_ID);
      expect(validated.claims['aud']).toEqual([AUDIENCE]);

      // The streamed JWT bundles verify the same token locally.
      const local = await validateJwtSvid(fetched.token, jwt, AUDIENCE);
      expect(local.id.toString()).toBe(WORKLOAD_ID);
      await expect(client.validateJwtSvid(fetched.token, 'another-audience')).rejects.toMatchObject({ code: Status.INVALID_ARGUMENT });
    } finally {
      jwt.close();
      client.close();
    }
  });
});
