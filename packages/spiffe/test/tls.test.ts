/**
 * SPIFFE mTLS for grpc-js: real TLS handshakes on 127.0.0.1 with certificates made in the test.
 */
import { X509Certificate } from 'node:crypto';
import * as grpc from '@grpc/grpc-js';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { authorizeId, authorizeMemberOf } from '../src/spiffetls/authorizer';
import { BundleSet, JwtBundle, X509Bundle } from '../src/bundle/bundle';
import { SpiffeId, TrustDomain } from '../src/spiffeid/id';
import { spiffeChannelCredentials, type SpiffeClientOptions } from '../src/spiffetls/client';
import { authenticateBearer, jwtBearerCallCredentials } from '../src/spiffetls/jwt-bearer';
import { SpiffeServer, type SpiffeServerOptions } from '../src/spiffetls/server';
import { parseX509Svid, type X509Svid } from '../src/x509svid';
import { jwtClaims, jwtKey, signJwt, TestCa, type JwtKey } from './support/test-ca';

const A = TrustDomain.parse('a.example');
const B = TrustDomain.parse('b.example');
const SERVER_ID = 'spiffe://a.example/ns/dir/sa/apiserver';

const buffer = {
  serialize: (value: Buffer) => value,
  deserialize: (value: Buffer) => value,
};
const IDENTITY_SERVICE: grpc.ServiceDefinition = {
  who: {
    path: '/dirtk.test.Identity/Who',
    requestStream: false,
    responseStream: false,
    requestSerialize: buffer.serialize,
    requestDeserialize: buffer.deserialize,
    responseSerialize: buffer.serialize,
    responseDeserialize: buffer.deserialize,
  },
};
const IdentityClient = grpc.makeGenericClientConstructor(IDENTITY_SERVICE, 'Identity');

/** A source whose SVID and bundles a test can swap, as a Workload API source does on rotation. */
class MutableSource {
  constructor(public svid: X509Svid, public bundles: BundleSet) {}
  getX509Svid(): X509Svid {
    return this.svid;
  }
  getX509Bundle(td: TrustDomain) {
    return this.bundles.getX509Bundle(td);
  }
  getJwtBundle(td: TrustDomain) {
    return this.bundles.getJwtBundle(td);
  }
}

let rootA: TestCa;
let rootB: TestCa;
let rootC: TestCa;
let intermediateA: TestCa;
let jwtKeyA: JwtKey;
const running: SpiffeServer[] = [];

async function svid(ca: TestCa, id: string): Promise<X509Svid> {
  const leaf = await ca.leaf({ uris: [id] });
  return parseX509Svid(Buffer.concat(ca.presented(leaf)), leaf.privateKeyDer);
}

function bundlesOf(...cas: TestCa[]): BundleSet {
  return new BundleSet({
    x509: cas.map((ca) => X509Bundle.fromDer(TrustDomain.parse(ca.trustDomain), ca.der)),
    jwt: [new JwtBundle(A, [{ keyId: jwtKeyA.kid, jwk: jwtKeyA.jwk }])],
  });
}

interface Started {
  readonly port: number;
  readonly server: SpiffeServer;
  readonly rejections: string[];
}

/** Starts the identity service: it answers with how the server authenticated the call. */
async function startServer(source: MutableSource, options: Partial<SpiffeServerOptions> = {}): Promise<Started> {
  const grpcServer = new grpc.Server();
  const rejections: string[] = [];
  const server: SpiffeServer = new SpiffeServer(grpcServer, {
    source,
    onRejected: (reason) => rejections.push(reason),
    ...options,
  });
  grpcServer.addService(IDENTITY_SERVICE, {
    who: (call: grpc.ServerUnaryCall<Buffer, Buffer>, callback: grpc.sendUnaryData<Buffer>) => {
      const peer = server.peerOf(call);
      if (peer?.kind === 'x509') return callback(null, Buffer.from(`x509 ${peer.id}`));
      authenticateBearer(call.metadata, source, ['dir-api']).then(
        (id) => callback(null, Buffer.from(`jwt ${id}`)),
        (error: Error) => callback({ code: grpc.status.UNAUTHENTICATED, details: error.message }),
      );
    },
  });
  const port = await server.listen(0);
  running.push(server);
  return { port, server, rejections };
}

function who(port: number, credentials: grpc.ChannelCredentials): Promise<string> {
  const client = new IdentityClient(`127.0.0.1:${port}`, credentials);
  return new Promise<string>((resolve, reject) => {
    client.makeUnaryRequest(
      '/dirtk.test.Identity/Who',
      buffer.serialize,
      buffer.deserialize,
      Buffer.alloc(0),
      { deadline: Date.now() + 5_000 },
      (error: grpc.ServiceError | null, response?: Buffer) => (error ? reject(error) : resolve(response!.toString())),
    );
  }).finally(() => client.close());
}

function mtls(source: SpiffeClientOptions['source'], authorizer = authorizeId(SpiffeId.parse(SERVER_ID))) {
  return spiffeChannelCredentials({ source, authorizer });
}

beforeAll(async () => {
  rootA = await TestCa.root(A.name);
  rootB = await TestCa.root(B.name);
  rootC = await TestCa.root('c.example');
  intermediateA = await rootA.intermediate();
  jwtKeyA = jwtKey('ES256');
});

afterEach(async () => {
  await Promise.all(running.splice(0).map((server) => server.close()));
});

describe('SPIFFE mTLS server and client', () => {
  it('gives the handler the verified ID of a caller in its own trust domain', async () => {
    const { port } = await startServer(new MutableSource(await svid(intermediateA, SERVER_ID), bundlesOf(rootA, rootB)));
    const client = new MutableSource(await svid(rootA, 'spiffe://a.example/dirctl'), bundlesOf(rootA));
    expect(await who(port, mtls(client))).toBe('x509 spiffe://a.example/dirctl');
  });

  it('accepts a caller of a federated trust domain, verified against that domain’s bundle', async () => {
    const { port } = await startServer(new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA, rootB)));
    const client = new MutableSource(await svid(rootB, 'spiffe://b.example/dirctl'), bundlesOf(rootA, rootB));
    expect(await who(port, mtls(client))).toBe('x509 spiffe://b.example/dirctl');
  });

  it('refuses, at the handshake, a caller whose trust domain it holds no bundle for', async () => {
    const { port, rejections } = await startServer(new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA, rootB)));
    const client = new MutableSource(await svid(rootC, 'spiffe://c.example/dirctl'), bundlesOf(rootA));
    await expect(who(port, mtls(client))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(rejections.join('\n')).toMatch(/c\.example/);
  });

  it('refuses a certificate claiming trust domain B signed by A’s CA, though it holds both bundles', async () => {
    const { port, rejections } = await startServer(new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA, rootB)));
    const forged = new MutableSource(await svid(rootA, 'spiffe://b.example/impostor'), bundlesOf(rootA));
    await expect(who(port, mtls(forged))).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(rejections).toHaveLength(1);
  });

  it('refuses a client without a certificate unless JWT callers are allowed', async () => {
    const serverSource = new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA));
    const anonymous = spiffeChannelCredentials({ source: serverSource, authorizer: authorizeMemberOf(A), presentCertificate: false });
    const strict = await startServer(serverSource);
    await expect(who(strict.port, anonymous)).rejects.toMatchObject({ code: grpc.status.UNAVAILABLE });
    expect(strict.rejections).toEqual(['client presented no certificate']);

    const lenient = await startServer(serverSource, { allowClientsWithoutCertificate: true });
    await expect(who(lenient.port, anonymous)).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED, details: 'no bearer token' });
  });

  it('lets the client pin the server ID and refuse any other server', async () => {
    const { port } = await startServer(new MutableSource(await svid(rootA, 'spiffe://a.example/not-the-apiserver'), bundlesOf(rootA)));
    const client = new MutableSource(await svid(rootA, 'spiffe://a.example/dirctl'), bundlesOf(rootA));
    await expect(who(port, mtls(client))).rejects.toMatchObject({ details: expect.stringMatching(/server rejected: .*not-the-apiserver/) });
    expect(await who(port, mtls(client, authorizeMemberOf(A)))).toBe('x509 spiffe://a.example/dirctl');
  });

  it('serves new connections with a rotated server SVID, without a restart', async () => {
    const serverSource = new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA));
    const { port } = await startServer(serverSource);
    const seen: string[] = [];
    const client = new MutableSource(await svid(rootA, 'spiffe://a.example/dirctl'), bundlesOf(rootA));
    const recording = spiffeChannelCredentials({
      source: client,
      authorizer: (id, chain) => {
        authorizeId(SpiffeId.parse(SERVER_ID))(id, chain);
        seen.push(new X509Certificate(chain[0]!).serialNumber);
      },
    });
    const first = serverSource.svid.certificates[0]!.serialNumber;
    await who(port, recording);
    serverSource.svid = await svid(rootA, SERVER_ID);
    await who(port, recording);
    expect(seen).toEqual([first, serverSource.svid.certificates[0]!.serialNumber]);
    expect(seen[0]).not.toBe(seen[1]);
  });

  it('presents a rotated client SVID on the next connection of the same credentials', async () => {
    const { port } = await startServer(new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA)));
    const client = new MutableSource(await svid(rootA, 'spiffe://a.example/dirctl-1'), bundlesOf(rootA));
    const credentials = mtls(client);
    expect(await who(port, credentials)).toBe('x509 spiffe://a.example/dirctl-1');
    client.svid = await svid(rootA, 'spiffe://a.example/dirctl-2');
    expect(await who(port, credentials)).toBe('x509 spiffe://a.example/dirctl-2');
  });

  it('authenticates a JWT-SVID bearer over server-authenticated TLS', async () => {
    const serverSource = new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA));
    const { port } = await startServer(serverSource, { allowClientsWithoutCertificate: true });
    const serverOnly = spiffeChannelCredentials({ source: serverSource, authorizer: authorizeId(SpiffeId.parse(SERVER_ID)), presentCertificate: false });
    const token = signJwt(jwtKeyA, jwtClaims('spiffe://a.example/dirctl', 'dir-api'));
    expect(await who(port, grpc.credentials.combineChannelCredentials(serverOnly, jwtBearerCallCredentials(async () => token)))).toBe(
      'jwt spiffe://a.example/dirctl',
    );
    const wrongAudience = signJwt(jwtKeyA, jwtClaims('spiffe://a.example/dirctl', 'another-api'));
    await expect(
      who(port, grpc.credentials.combineChannelCredentials(serverOnly, jwtBearerCallCredentials(async () => wrongAudience))),
    ).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
  });

  it('closes while a client still holds its connection open', async () => {
    const { port, server } = await startServer(new MutableSource(await svid(rootA, SERVER_ID), bundlesOf(rootA)));
    running.splice(running.indexOf(server), 1);
    const client = new IdentityClient(`127.0.0.1:${port}`, mtls(new MutableSource(await svid(rootA, 'spiffe://a.example/dirctl'), bundlesOf(rootA))));
    try {
      await new Promise<void>((resolve, reject) =>
        client.makeUnaryRequest('/dirtk.test.Identity/Who', buffer.serialize, buffer.deserialize, Buffer.alloc(0), (error: grpc.ServiceError | null) =>
          error ? reject(error) : resolve(),
        ),
      );
      // The channel stays connected, as a long-lived client's does; close must not wait for it to leave.
      expect(client.getChannel().getConnectivityState(false)).toBe(grpc.connectivityState.READY);
      const closed = await Promise.race([server.close().then(() => 'closed'), new Promise((resolve) => setTimeout(resolve, 5_000, 'still open'))]);
      expect(closed).toBe('closed');
    } finally {
      client.close();
    }
  });
});
