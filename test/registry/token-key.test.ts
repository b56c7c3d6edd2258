/** The registry token-signing key local mode and Kind keep for each Directory. */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { registryTokenKey } from '../../apps/apiserver/src/services/registry-token-service';
import { ensureRegistryTokenKey } from '../../registry/token-key';

const scratch = mkdtempSync(path.join(tmpdir(), 'dirtk-token-key-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('ensureRegistryTokenKey', () => {
  it('makes an EC P-256 key once, readable by the owner alone, and gives the public half the apiserver signs for', () => {
    const file = path.join(scratch, 'apiserver', 'registry-token.key');
    const jwk = ensureRegistryTokenKey(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const { publicJwk } = registryTokenKey(readFileSync(file), file);
    expect({ kty: publicJwk.kty, crv: publicJwk.crv, x: publicJwk.x, y: publicJwk.y }).toEqual(jwk);
    expect(Object.keys(jwk).sort()).toEqual(['crv', 'kty', 'x', 'y']);
  });

  it('keeps the key it made: the registry goes on trusting the apiserver across restarts', () => {
    const file = path.join(scratch, 'kept', 'registry-token.key');
    const first = ensureRegistryTokenKey(file);
    const pem = readFileSync(file, 'utf8');
    expect(ensureRegistryTokenKey(file)).toEqual(first);
    expect(readFileSync(file, 'utf8')).toBe(pem);
  });
});
