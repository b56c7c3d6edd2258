import { Metadata, status as Status } from '@grpc/grpc-js';
import { describe, expect, it } from 'vitest';
import { AuthzEngine, defaultPolicy } from '../src/authz';
import type { LogFields, Logger } from '../src/observability/logger';
import { DirectoryMetrics } from '../src/observability/metrics';
import { spiffeCallAuthorizer, type CallAuthorizerOptions } from '../src/security/call-authorizer';
import type { IncomingCall } from '../src/services/caller';
import { JwtBundle, BundleSet } from '@dirtk/spiffe/bundle';
import { SpiffeId, TrustDomain } from '@dirtk/spiffe/spiffeid';
import type { PeerIdentity } from '@dirtk/spiffe/spiffetls';
import { jwtClaims, jwtKey, signJwt } from '../../../packages/spiffe/test/support/test-ca';

const OWN = TrustDomain.parse('dir.example');
const PUSH = '/agntcy.dir.store.v1.StoreService/Push';
const PULL = '/agntcy.dir.store.v1.StoreService/Pull';
const AUDIENCE = 'spiffe://dir.example/ns/dir/sa/dir-apiserver';
const key = jwtKey('ES256');

function call(bearer?: string): IncomingCall {
  const metadata = new Metadata();
  if (bearer !== undefined) metadata.set('authorization', `Bearer ${bearer}`);
  return { metadata, getPeer: () => '127.0.0.1:1', getAuthContext: () => ({}), getPath: () => PUSH };
}

function authorizer(peer: PeerIdentity | undefined, options: Partial<CallAuthorizerOptions> = {}) {
  const lines: LogFields[] = [];
  const logger: Logger = {
    debug: () => {},
    info: (msg, fields) => lines.push({ msg, ...fields }),
    warn: () => {},
    error: () => {},
    child: () => logger,
  };
  const authorize = spiffeCallAuthorizer({
    peerOf: () => peer,
    policy: new AuthzEngine(defaultPolicy(), OWN),
    logger,
    metrics: new DirectoryMetrics(),
    jwt: { bundles: new BundleSet({ jwt: [new JwtBundle(OWN, [{ keyId: key.kid, jwk: key.jwk }])] }), audiences: [AUDIENCE] },
    ...options,
  });
  return { authorize, lines };
}

const x509 = (id: string): PeerIdentity => ({ kind: 'x509', id: SpiffeId.parse(id) });

describe('spiffeCallAuthorizer', () => {
  it('lets its own trust domain push, with the caller handed to the handler and one audit line', async () => {
    const { authorize, lines } = authorizer(x509('spiffe://dir.example/ns/dir/sa/dirctl'));
    await expect(authorize(call(), PUSH)).resolves.toEqual({
      spiffeId: 'spiffe://dir.example/ns/dir/sa/dirctl',
      trustDomain: 'dir.example',
    });
    expect(lines).toEqual([
      expect.objectContaining({ msg: 'authz', event: 'authz', caller: 'spiffe://dir.example/ns/dir/sa/dirctl', method: PUSH, decision: 'allow' }),
    ]);
  });

  it('refuses a federated push with PERMISSION_DENIED naming the method, and allows its pull', async () => {
    const { authorize, lines } = authorizer(x509('spiffe://dirctl.example/ns/dir/sa/dirctl'));
    await expect(authorize(call(), PUSH)).rejects.toMatchObject({
      code: Status.PERMISSION_DENIED,
      details: `not allowed to access ${PUSH}`,
      caller: { trustDomain: 'dirctl.example' },
    });
    await expect(authorize(call(), PULL)).resolves.toMatchObject({ trustDomain: 'dirctl.example' });
    expect(lines.map((line) => line.decision)).toEqual(['deny', 'allow']);
  });

  it('treats a lookalike trust domain as foreign', async () => {
    const { authorize } = authorizer(x509('spiffe://dir.example.evil/ns/dir/sa/dirctl'));
    await expect(authorize(call(), PUSH)).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
  });

  it('answers a call without any identity with UNAUTHENTICATED', async () => {
    const { authorize, lines } = authorizer(undefined);
    await expect(authorize(call(), PULL)).rejects.toMatchObject({ code: Status.UNAUTHENTICATED, details: 'not authenticated' });
    expect(lines).toEqual([expect.objectContaining({ decision: 'deny', caller: null })]);
  });

  it('authenticates a JWT-SVID bearer on a connection without a certificate', async () => {
    const { authorize } = authorizer({ kind: 'none' });
    const token = signJwt(key, jwtClaims('spiffe://dir.example/ns/dir/sa/dirctl', AUDIENCE));
    await expect(authorize(call(token), PUSH)).resolves.toMatchObject({ trustDomain: 'dir.example' });
  });

  it('refuses a bearer with the wrong audience, or any bearer when JWT is off, with UNAUTHENTICATED', async () => {
    const wrong = signJwt(key, jwtClaims('spiffe://dir.example/ns/dir/sa/dirctl', 'another-audience'));
    await expect(authorizer({ kind: 'none' }).authorize(call(wrong), PULL)).rejects.toMatchObject({
      code: Status.UNAUTHENTICATED,
      details: expect.stringMatching(/^invalid or expired token: /),
    });
    const good = signJwt(key, jwtClaims('spiffe://dir.example/ns/dir/sa/dirctl', AUDIENCE));
    await expect(authorizer({ kind: 'none' }, { jwt: undefined }).authorize(call(good), PULL)).rejects.toMatchObject({
      code: Status.UNAUTHENTICATED,
    });
  });

  it('prefers the verified X.509 identity over a bearer token on the same call', async () => {
    const { authorize } = authorizer(x509('spiffe://dirctl.example/ns/dir/sa/dirctl'));
    const ownToken = signJwt(key, jwtClaims('spiffe://dir.example/ns/dir/sa/dirctl', AUDIENCE));
    await expect(authorize(call(ownToken), PUSH)).rejects.toMatchObject({ code: Status.PERMISSION_DENIED });
  });
});
