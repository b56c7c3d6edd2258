/**
 * SPIFFE verification costs: mTLS handshakes with our verifier against Node TLS verifying the same
 * chain with OpenSSL, and X.509-SVID / JWT-SVID verifications per second.
 */
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { connect, createServer, type ConnectionOptions, type TlsOptions, type TLSSocket } from 'node:tls';
import { BundleSet, JwtBundle, X509Bundle } from '@dirtk/spiffe/bundle';
import { TrustDomain } from '@dirtk/spiffe/spiffeid';
import { validateJwtSvid } from '@dirtk/spiffe/jwtsvid';
import { peerChainDer } from '@dirtk/spiffe/spiffetls';
import { parseX509Svid, verifyX509Svid, x509SvidToPem } from '@dirtk/spiffe/x509svid';
import { jwtClaims, jwtKey, signJwt, TestCa } from '../packages/spiffe/test/support/test-ca';

const HANDSHAKES = 300;
const VERIFY_SECONDS = 1;

export async function spiffeBench(): Promise<Record<string, unknown>> {
  const td = TrustDomain.parse('bench.example');
  const root = await TestCa.root(td.name);
  const intermediate = await root.intermediate();
  const issue = async (id: string) => {
    const leaf = await intermediate.leaf({ uris: [id] });
    const svid = parseX509Svid(Buffer.concat(intermediate.presented(leaf)), leaf.privateKeyDer);
    return { chain: intermediate.presented(leaf), ...x509SvidToPem(svid) };
  };
  const server = await issue('spiffe://bench.example/server');
  const client = await issue('spiffe://bench.example/client');
  const key = jwtKey('ES256');
  const bundles = new BundleSet({
    x509: [X509Bundle.fromDer(td, root.der)],
    jwt: [new JwtBundle(td, [{ keyId: key.kid, jwk: key.jwk }])],
  });
  const rootPem = root.cert.toString();

  const verifyPeer = (socket: TLSSocket) => verifyX509Svid(peerChainDer(socket), bundles);
  const spiffe = await handshakesPerSecond(
    { cert: server.certChainPem, key: server.keyPem, requestCert: true, rejectUnauthorized: false },
    { cert: client.certChainPem, key: client.keyPem, rejectUnauthorized: false },
    verifyPeer,
  );
  const openssl = await handshakesPerSecond(
    { cert: server.certChainPem, key: server.keyPem, requestCert: true, rejectUnauthorized: true, ca: rootPem },
    { cert: client.certChainPem, key: client.keyPem, ca: rootPem, checkServerIdentity: () => undefined },
    () => undefined,
  );

  const token = signJwt(key, jwtClaims('spiffe://bench.example/client', 'bench'));
  return {
    description: `${HANDSHAKES} sequential mTLS handshakes (TLS 1.3, EC P-256, leaf + intermediate) on 127.0.0.1; verifications in a ${VERIFY_SECONDS} s loop`,
    mtlsHandshakesPerSecond: { spiffeVerifier: spiffe, baselineOpensslVerification: openssl, ratio: round(spiffe / openssl) },
    x509SvidVerificationsPerSecond: await perSecond(() => verifyX509Svid(client.chain, bundles)),
    jwtSvidValidationsPerSecond: await perSecond(() => validateJwtSvid(token, bundles, 'bench')),
  };
}

/** Both sides verify the peer: the SPIFFE variant with `verify` after the handshake, the baseline inside OpenSSL. */
async function handshakesPerSecond(
  serverOptions: TlsOptions,
  clientOptions: ConnectionOptions,
  verify: (socket: TLSSocket) => unknown,
): Promise<number> {
  const server = createServer(serverOptions, (socket) => {
    verify(socket);
    socket.end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const started = process.hrtime.bigint();
  for (let i = 0; i < HANDSHAKES; i++) {
    const socket = connect({ ...clientOptions, host: '127.0.0.1', port });
    await once(socket, 'secureConnect');
    verify(socket);
    socket.destroy();
  }
  const seconds = Number(process.hrtime.bigint() - started) / 1e9;
  server.close();
  return Math.round(HANDSHAKES / seconds);
}

async function perSecond(operation: () => unknown): Promise<number> {
  let count = 0;
  const deadline = process.hrtime.bigint() + BigInt(VERIFY_SECONDS * 1e9);
  const started = process.hrtime.bigint();
  while (process.hrtime.bigint() < deadline) {
    await operation();
    count++;
  }
  return Math.round(count / (Number(process.hrtime.bigint() - started) / 1e9));
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
