/**
 * Registry credentials the registry enforces, with real parts: the CNCF Distribution registry built
 * by the project (`registry/build/install.ts`), configured by `registry/config.ts` to trust only the
 * apiserver's token-signing key (plus a test-only admin key, below), the apiserver's gRPC services and
 * its HTTP endpoint with the registry token service, and the oras CLI as the registry client.
 *
 * The admin path (test-registry.ts): the test's registry also trusts a key that exists only in the
 * test; a token signed with it grants push, and oras pushes the fixtures with it. The production
 * registry config lists the apiserver's keys only, and the token service never grants push.
 *
 * The callers are fixed identities on an insecure gRPC port (the SPIFFE mTLS part of
 * RequestRegistryCredentials is covered by the local-mode tests); they are what the credentials bind.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, describe, expect, it } from 'vitest';
import { REGISTRY_TOKEN_ISSUER, REGISTRY_TOKEN_PATH } from '@dirtk/directory-api/contract';
import type { RequestRegistryCredentialsResponse } from '@dirtk/directory-api/grpc';
import { serveHttpEndpoint, type HttpEndpoint } from '../../apps/apiserver/src/observability/http-endpoint';
import { DirectoryMetrics } from '../../apps/apiserver/src/observability/metrics';
import type { CallerContext } from '../../apps/apiserver/src/services/caller';
import { RegistryCredentialIssuer } from '../../apps/apiserver/src/services/registry-credentials';
import { registryTokenKey, RegistryTokenService } from '../../apps/apiserver/src/services/registry-token-service';
import { metadataWith, startTestServer, type TestServer, unary } from '../../apps/apiserver/test/grpc-harness';
import { newSigningKey, type TestRegistry, useTestRegistry } from './test-registry';

const SERVICE = 'dirtk-registry-test';
const REPOSITORY = 'dir';
const CREDENTIALS_TTL_SECONDS = 600;
const TOKEN_TTL_SECONDS = 300;
const CALLERS: Record<'a' | 'b', CallerContext> = {
  a: { spiffeId: 'spiffe://peer-a.example/ns/dir/sa/dir-apiserver', trustDomain: 'peer-a.example' },
  b: { spiffeId: 'spiffe://peer-b.example/ns/dir/sa/dir-apiserver', trustDomain: 'peer-b.example' },
};

let registry: TestRegistry;
let apiserver: TestServer;
let http: HttpEndpoint;
/** `127.0.0.1:port` of the registry. */
let host: string;
/** Shifts the apiserver's clock (credentials and token service) to put `exp` in the past. */
let clockOffsetMs = 0;
let emptyConfig: string;

const suite = useTestRegistry('dirtk-registry-', async (prepared) => {
  registry = prepared;
  const now = () => Date.now() + clockOffsetMs;

  const apiserverKeyFile = path.join(registry.dir, 'apiserver-token-key.pem');
  writeFileSync(apiserverKeyFile, newSigningKey().export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const signingKey = registryTokenKey(readFileSync(apiserverKeyFile), apiserverKeyFile);
  const credentialsSecret = Buffer.alloc(32, 9);
  const tokenService = new RegistryTokenService({ credentialsSecret, signingKey, service: SERVICE, ttlSeconds: TOKEN_TTL_SECONDS, now });
  http = await serveHttpEndpoint(new DirectoryMetrics().registry, { port: 0, routes: { [REGISTRY_TOKEN_PATH]: (request, response) => tokenService.handle(request, response) } });

  await registry.start({
    service: SERVICE,
    tokenRealm: `http://127.0.0.1:${http.port}${REGISTRY_TOKEN_PATH}`,
    trustedKeys: [signingKey.publicJwk],
    adminAccess: { dir: ['pull', 'push'], other: ['pull', 'push'] },
  });
  host = registry.host;
  apiserver = await startTestServer(async (call) => CALLERS[String(call.metadata.get('x-test-caller')[0]) as 'a' | 'b'], {
    address: host,
    insecure: true,
    credentials: new RegistryCredentialIssuer({ secret: credentialsSecret, repository: REPOSITORY, ttlSeconds: CREDENTIALS_TTL_SECONDS, now }),
  });

  emptyConfig = registry.writeOrasConfig('oras-empty.json');
  for (const repository of ['dir', 'other']) {
    const push = await registry.oras(['push', `${host}/${repository}:v1`, `record.json:application/vnd.dirtk.test.record+json`, '--registry-config', registry.adminConfig], {
      files: { 'record.json': `{"name":"in ${repository}"}\n` },
    });
    expect(push.exitCode, push.all).toBe(0);
  }
});

afterAll(async () => {
  await apiserver?.close();
  await http?.close();
});

describe('registry credentials the Distribution registry enforces', () => {
  it('lets oras pull the one repository with the credentials RequestRegistryCredentials issued', async (context) => {
    suite.skipIfUnavailable(context);
    const credentials = await requestCredentials('a');
    expect(credentials).toMatchObject({ registry_address: host, repository_name: REPOSITORY, basic_auth: { username: 'peer-a.example/ns/dir/sa/dir-apiserver' } });
    const out = path.join(registry.dir, 'pulled-a');
    const pull = await registry.oras(['pull', `${host}/${REPOSITORY}:v1`, '-o', out, ...login(credentials)]);
    expect(pull.exitCode, pull.all).toBe(0);
    expect(readFileSync(path.join(out, 'record.json'), 'utf8')).toBe('{"name":"in dir"}\n');
  });

  it('refuses oras push with them: the registry answers 401 insufficient scope', async (context) => {
    suite.skipIfUnavailable(context);
    const push = await registry.oras(['push', `${host}/${REPOSITORY}:pushed-by-peer`, 'evil.json', ...login(await requestCredentials('a'))], { files: { 'evil.json': '{}' } });
    expect(push.exitCode).not.toBe(0);
    refusedByRegistry(push.all, [`map[Action:push Class: Name:${REPOSITORY} Type:repository]`]);
    expect(await registry.oras(['manifest', 'fetch', `${host}/${REPOSITORY}:pushed-by-peer`, '--registry-config', registry.adminConfig]).then((r) => r.exitCode)).not.toBe(0);
  });

  it('refuses oras pull of another repository: the registry answers 401', async (context) => {
    suite.skipIfUnavailable(context);
    const pull = await registry.oras(['pull', `${host}/other:v1`, '-o', path.join(registry.dir, 'pulled-other'), ...login(await requestCredentials('a'))]);
    expect(pull.exitCode).not.toBe(0);
    refusedByRegistry(pull.all, ['map[Action:pull Class: Name:other Type:repository]']);
    expect(existsSync(path.join(registry.dir, 'pulled-other', 'record.json'))).toBe(false);
  });

  it('refuses the credentials after they expire: the token service answers 401', async (context) => {
    suite.skipIfUnavailable(context);
    clockOffsetMs = -(CREDENTIALS_TTL_SECONDS + 60) * 1000;
    const stale = await requestCredentials('a');
    clockOffsetMs = 0;
    const pull = await registry.oras(['pull', `${host}/${REPOSITORY}:v1`, '-o', path.join(registry.dir, 'pulled-stale'), ...login(stale)]);
    expect(pull.exitCode).not.toBe(0);
    expect(pull.all).toContain(REGISTRY_TOKEN_PATH);
    expect(pull.all).toMatch(/401/);
  });

  it('refuses a bearer token past its exp: the registry answers 401 invalid_token', async (context) => {
    suite.skipIfUnavailable(context);
    // The token service's clock runs 10 minutes slow: the credentials are valid to it, the token it signs
    // expired (beyond Distribution's 60 s leeway) by the time the registry checks it.
    clockOffsetMs = -(TOKEN_TTL_SECONDS + 300) * 1000;
    try {
      const credentials = await requestCredentials('a');
      const pull = await registry.oras(['pull', `${host}/${REPOSITORY}:v1`, '-o', path.join(registry.dir, 'pulled-expired'), ...login(credentials)]);
      expect(pull.exitCode).not.toBe(0);
      refusedByRegistry(pull.all, [`map[Action:pull Class: Name:${REPOSITORY} Type:repository]`]);
      // The same over raw HTTP: the token is scoped right, and refused as invalid (expired).
      const token = await fetchToken(credentials, `repository:${REPOSITORY}:pull`);
      expect(decodeJwt(token).access).toEqual([{ type: 'repository', name: REPOSITORY, actions: ['pull'] }]);
      const refused = await fetch(`http://${host}/v2/${REPOSITORY}/manifests/v1`, { headers: { authorization: `Bearer ${token}` } });
      expect(refused.status).toBe(401);
      expect(refused.headers.get('www-authenticate')).toContain('error="invalid_token"');
    } finally {
      clockOffsetMs = 0;
    }
  });

  it("refuses another caller's password with this caller's username", async (context) => {
    suite.skipIfUnavailable(context);
    const a = await requestCredentials('a');
    const b = await requestCredentials('b');
    const pull = await registry.oras(['pull', `${host}/${REPOSITORY}:v1`, '-o', path.join(registry.dir, 'pulled-swapped'), '-u', a.basic_auth!.username, '-p', b.basic_auth!.password]);
    expect(pull.exitCode).not.toBe(0);
    expect(pull.all).toContain(REGISTRY_TOKEN_PATH);
    expect(pull.all).toMatch(/401/);
    // And B's own pair works, so the refusal is the binding, not B's password.
    expect((await registry.oras(['pull', `${host}/${REPOSITORY}:v1`, '-o', path.join(registry.dir, 'pulled-b'), ...login(b)])).exitCode).toBe(0);
  });

  it('shows the token flow over raw HTTP: the 401 challenge, the scoped token, the token working', async (context) => {
    suite.skipIfUnavailable(context);
    const base = `http://${host}`;
    const anonymous = await fetch(`${base}/v2/${REPOSITORY}/manifests/v1`);
    expect(anonymous.status).toBe(401);
    const challenge = parseChallenge(anonymous.headers.get('www-authenticate'));
    expect(challenge).toEqual({ realm: `http://127.0.0.1:${http.port}${REGISTRY_TOKEN_PATH}`, service: SERVICE, scope: `repository:${REPOSITORY}:pull` });

    const credentials = await requestCredentials('a');
    const basic = `Basic ${Buffer.from(`${credentials.basic_auth!.username}:${credentials.basic_auth!.password}`).toString('base64')}`;
    // Asking for more than pull, and for another repository and the catalog, buys pull on the one repository only.
    const query = new URLSearchParams([
      ['service', SERVICE],
      ['scope', `repository:${REPOSITORY}:pull,push,delete`],
      ['scope', 'repository:other:pull'],
      ['scope', 'registry:catalog:*'],
    ]);
    const answer = await fetch(`${challenge.realm}?${query}`, { headers: { authorization: basic } });
    expect(answer.status).toBe(200);
    const body = (await answer.json()) as { token: string; access_token: string; expires_in: number; issued_at: string };
    expect(body.expires_in).toBe(TOKEN_TTL_SECONDS);
    expect(body.access_token).toBe(body.token);
    expect(decodeProtectedHeader(body.token)).toMatchObject({ alg: 'ES256', kid: expect.any(String) });
    expect(decodeJwt(body.token)).toMatchObject({
      iss: REGISTRY_TOKEN_ISSUER,
      aud: SERVICE,
      sub: credentials.basic_auth!.username,
      access: [{ type: 'repository', name: REPOSITORY, actions: ['pull'] }],
    });
    const bearer = { authorization: `Bearer ${body.token}` };
    expect((await fetch(`${base}/v2/`, { headers: bearer })).status).toBe(200);
    const manifest = await fetch(`${base}/v2/${REPOSITORY}/manifests/v1`, { headers: { ...bearer, accept: 'application/vnd.oci.image.manifest.v1+json' } });
    expect(manifest.status).toBe(200);
    // The same token, refused by the registry for everything it does not name.
    const other = await fetch(`${base}/v2/other/manifests/v1`, { headers: bearer });
    expect(other.status).toBe(401);
    expect(other.headers.get('www-authenticate')).toContain('error="insufficient_scope"');
    expect((await fetch(`${base}/v2/_catalog`, { headers: bearer })).status).toBe(401);
    expect((await fetch(`${base}/v2/${REPOSITORY}/blobs/uploads/`, { method: 'POST', headers: bearer })).status).toBe(401);
    // Without credentials, or with a password that is not one, the token service refuses.
    expect((await fetch(`${challenge.realm}?${query}`)).status).toBe(401);
    const forged = `Basic ${Buffer.from(`${credentials.basic_auth!.username}:not-a-token`).toString('base64')}`;
    expect((await fetch(`${challenge.realm}?${query}`, { headers: { authorization: forged } })).status).toBe(401);
  });
});

async function requestCredentials(caller: 'a' | 'b'): Promise<RequestRegistryCredentialsResponse> {
  const result = await unary<RequestRegistryCredentialsResponse>((callback) =>
    apiserver.syncClient.requestRegistryCredentials({}, metadataWith({ 'x-test-caller': caller }), callback),
  );
  if (!result.response) throw new Error(`RequestRegistryCredentials as ${caller} failed: ${result.details}`);
  return result.response;
}

function login(credentials: RequestRegistryCredentialsResponse): string[] {
  return ['-u', credentials.basic_auth!.username, '-p', credentials.basic_auth!.password, '--registry-config', emptyConfig];
}

/**
 * oras failed because the registry itself answered 401 (Distribution's UNAUTHORIZED error, whose
 * detail lists the access it required), not the token service (whose refusals name its path).
 */
function refusedByRegistry(output: string | undefined, requiredAccess: readonly string[]): void {
  expect(output).toContain('Error response from registry: unauthorized: authentication required: [');
  for (const access of requiredAccess) expect(output).toContain(access);
  expect(output).not.toContain(REGISTRY_TOKEN_PATH);
}

async function fetchToken(credentials: RequestRegistryCredentialsResponse, scope: string): Promise<string> {
  const basic = `Basic ${Buffer.from(`${credentials.basic_auth!.username}:${credentials.basic_auth!.password}`).toString('base64')}`;
  const answer = await fetch(`http://127.0.0.1:${http.port}${REGISTRY_TOKEN_PATH}?${new URLSearchParams({ service: SERVICE, scope })}`, { headers: { authorization: basic } });
  expect(answer.status).toBe(200);
  return ((await answer.json()) as { token: string }).token;
}

function parseChallenge(header: string | null): Record<string, string> {
  expect(header).toMatch(/^Bearer /);
  return Object.fromEntries([...(header ?? '').matchAll(/(\w+)="([^"]*)"/g)].map((match) => [match[1] as string, match[2] as string]));
}
