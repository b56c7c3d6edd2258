import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { REGISTRY_TOKEN_ISSUER, registryTokenKeyId, type RegistryTokenPublicJwk } from '@dirtk/directory-api/contract';
import { registryTokenKey } from '../../apps/apiserver/src/services/registry-token-service';
import { BUILD_MODULES } from '../../registry/build/install';
import { type RegistryConfigOptions, registryJwks, renderRegistryConfig } from '../../registry/config';
import { DISTRIBUTION_VERSION, ORAS_VERSION } from '../../registry/versions';

const key = (): RegistryTokenPublicJwk => {
  const { x, y } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ format: 'jwk' });
  return { kty: 'EC', crv: 'P-256', x: x as string, y: y as string };
};
const OPTIONS: RegistryConfigOptions = {
  listen: '127.0.0.1:5000',
  storageDir: '/var/lib/registry',
  tokenRealm: 'http://127.0.0.1:9090/registry/token',
  service: 'dirtk-registry',
  jwksFile: '/etc/registry/jwks.json',
  trustedKeys: [key()],
};

describe('registry configuration', () => {
  it('renders token auth against the apiserver, ES256 only, trusting the JWKS file', () => {
    expect(parse(renderRegistryConfig(OPTIONS))).toMatchObject({
      version: 0.1,
      storage: { filesystem: { rootdirectory: '/var/lib/registry' }, delete: { enabled: false } },
      http: { addr: '127.0.0.1:5000' },
      auth: { token: { realm: OPTIONS.tokenRealm, service: 'dirtk-registry', issuer: REGISTRY_TOKEN_ISSUER, jwks: '/etc/registry/jwks.json', signingalgorithms: ['ES256'] } },
    });
  });

  it('refuses bad settings, listing every problem', () => {
    const bad = { ...OPTIONS, listen: 'nowhere', tokenRealm: 'ftp://x', service: ' ', storageDir: 'relative', trustedKeys: [] };
    expect(() => renderRegistryConfig(bad)).toThrow(
      [
        'invalid registry configuration:',
        '  - listen "nowhere" is not host:port with a fixed port',
        '  - tokenRealm "ftp://x" is not http(s)',
        "  - service (the tokens' aud) is empty",
        '  - storageDir "relative" is not an absolute path',
        '  - trustedKeys is empty: the registry would trust no token (Distribution refuses to start)',
      ].join('\n'),
    );
    const { d } = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ format: 'jwk' });
    expect(() => renderRegistryConfig({ ...OPTIONS, trustedKeys: [{ ...key(), d } as RegistryTokenPublicJwk] })).toThrow('holds a private key');
  });

  it("lists the current and the next key in the JWKS, each under the kid the token service puts in its tokens", () => {
    const pair = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const current = registryTokenKey(pair.privateKey.export({ type: 'pkcs8', format: 'pem' }), 'current.pem');
    const next = key();
    const jwks = JSON.parse(registryJwks([current.publicJwk, next])) as { keys: Array<Record<string, string>> };
    expect(jwks.keys.map((k) => k.kid)).toEqual([current.kid, registryTokenKeyId(next)]);
    expect(jwks.keys[0]).toEqual({ kty: 'EC', crv: 'P-256', x: current.publicJwk.x, y: current.publicJwk.y, kid: current.kid, alg: 'ES256', use: 'sig' });
  });

  it('refuses a token-signing key that is not EC P-256', () => {
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ type: 'pkcs8', format: 'pem' });
    expect(() => registryTokenKey(rsa, 'rsa.pem')).toThrow('rsa.pem: the registry token key must be EC P-256 (for ES256), not rsa');
    expect(() => registryTokenKey('not a key', 'junk.pem')).toThrow('junk.pem: not a PEM private key');
  });
});

describe('registry build modules', () => {
  it.each([
    ['distribution', 'github.com/distribution/distribution/v3', `v${DISTRIBUTION_VERSION}`, 'github.com/distribution/distribution/v3/cmd/registry'],
    ['oras', 'oras.land/oras', `v${ORAS_VERSION}`, 'oras.land/oras/cmd/oras'],
  ] as const)('%s: go.mod pins %s %s and names the tool', (name, module, version, tool) => {
    const dir = BUILD_MODULES[name];
    const mod = readFileSync(path.join(dir, 'go.mod'), 'utf8');
    expect(mod).toMatch(new RegExp(`^\\s*(require )?${module.replace(/[.]/g, '\\.')} ${version.replace(/[.]/g, '\\.')}( // indirect)?$`, 'm'));
    expect(mod).toMatch(new RegExp(`^tool ${tool.replace(/[.]/g, '\\.')}$`, 'm'));
    expect(readFileSync(path.join(dir, 'go.sum'), 'utf8')).toContain(`${module} ${version} h1:`);
  });
});
