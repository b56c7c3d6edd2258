import { registryUsername } from '@dirtk/directory-api/contract';
import { describe, expect, it } from 'vitest';
import {
  RegistryCredentialIssuer,
  RegistryCredentialsError,
  verifyRegistryCredentials,
} from '../src/services/registry-credentials';

const SECRET = Buffer.alloc(32, 1);
const SUBJECT = 'spiffe://dir.example/ns/dir/sa/peer';
const T0 = Date.UTC(2026, 0, 1);

const issuer = (ttlSeconds?: number) => new RegistryCredentialIssuer({ secret: SECRET, repository: 'dir', ttlSeconds, now: () => T0 });

describe('registry credentials', () => {
  it('grants pull on the configured repository to the subject until the TTL runs out', () => {
    const credentials = issuer().issue(SUBJECT);
    expect(credentials).toMatchObject({ username: registryUsername(SUBJECT), repository: 'dir', expiresAt: new Date(T0 + 600_000) });
    const grant = verifyRegistryCredentials(credentials.username, credentials.password, { secret: SECRET, now: () => T0 + 599_000 });
    expect(grant).toMatchObject({ subject: SUBJECT, repository: 'dir', actions: ['pull'], expiresAt: new Date(T0 + 600_000) });
    expect(grant.tokenId).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('rejects the token at and after expiry', () => {
    const { username, password } = issuer(60).issue(SUBJECT);
    expect(() => verifyRegistryCredentials(username, password, { secret: SECRET, now: () => T0 + 60_000 })).toThrow('token expired at 2026-01-01T00:01:00.000Z');
  });

  it('binds the token to its subject', () => {
    const { password } = issuer().issue(SUBJECT);
    expect(() => verifyRegistryCredentials('dir.example/ns/dir/sa/other', password, { secret: SECRET, now: () => T0 })).toThrow(RegistryCredentialsError);
  });

  it('rejects tokens signed with another secret, tampered with, or not HS256', () => {
    const { username, password } = issuer().issue(SUBJECT);
    const [header, payload, signature] = password.split('.') as [string, string, string];
    const verify = (token: string, secret = SECRET) => () => verifyRegistryCredentials(username, token, { secret, now: () => T0 });
    expect(verify(password, Buffer.alloc(32, 2))).toThrow('bad signature');

    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as Record<string, unknown>;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'repository:dir:push,pull', exp: 9_999_999_999 })).toString('base64url');
    expect(verify(`${header}.${widened}.${signature}`)).toThrow('bad signature');

    const none = Buffer.from('{"alg":"none","typ":"JWT"}').toString('base64url');
    expect(verify(`${none}.${payload}.`)).toThrow('not HS256');
    expect(verify('static-password')).toThrow('not a signed token');
  });

  it('gives every issue a distinct token ID', () => {
    const [a, b] = [issuer().issue(SUBJECT), issuer().issue(SUBJECT)];
    expect(a.password).not.toBe(b.password);
  });

  it('refuses short secrets, bad TTLs and empty subjects', () => {
    expect(() => new RegistryCredentialIssuer({ secret: Buffer.alloc(31), repository: 'dir' })).toThrow('needs at least 32');
    expect(() => new RegistryCredentialIssuer({ secret: SECRET, repository: 'dir', ttlSeconds: 0 })).toThrow('positive integer');
    expect(() => new RegistryCredentialIssuer({ secret: SECRET, repository: 'Dir Repo' })).toThrow('not an OCI repository name');
    expect(() => issuer().issue('')).toThrow('without a subject');
    expect(() => verifyRegistryCredentials('u', 'p', { secret: Buffer.alloc(8) })).toThrow('needs at least 32');
  });
});
