import { createPrivateKey, createPublicKey, generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { RegistryTokenPublicJwk } from '@dirtk/directory-api/contract';

/**
 * The public half of the apiserver's registry token-signing key, for the registry to trust; the key is made
 * on first use (EC P-256, PKCS#8 PEM, mode 0600) and kept, so tokens stay valid across apiserver restarts.
 */
export function ensureRegistryTokenKey(file: string): RegistryTokenPublicJwk {
  if (!existsSync(file)) {
    mkdirSync(path.dirname(file), { recursive: true });
    const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    writeFileSync(file, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  }
  const { kty, crv, x, y } = createPublicKey(createPrivateKey(readFileSync(file))).export({ format: 'jwk' });
  if (kty !== 'EC' || crv !== 'P-256' || x === undefined || y === undefined) {
    throw new Error(`${file} is not an EC P-256 key (the registry token key signs ES256); remove it and start again to make a new one`);
  }
  return { kty, crv, x, y };
}
