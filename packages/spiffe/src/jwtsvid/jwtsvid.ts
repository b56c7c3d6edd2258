/**
 * JWT-SVID validation (design doc §7): compact JWS only, keys only from the bundle of the subject's
 * trust domain, chosen here rather than by jose (whose JWKS helpers skip `use: jwt-svid` keys, P7).
 */
import type { JsonWebKey } from 'node:crypto';
import { compactVerify, importJWK, type CryptoKey, type JWK } from 'jose';
import type { JwtAuthority, JwtBundleSource } from '../bundle/bundle';
import { SpiffeId } from '../spiffeid/id';
import { isJsonObject, parseJson, type JsonObject, type JsonValue } from '../internal/json';

/** Raised when a JWT-SVID is rejected; `rule` names the check that failed. */
export class JwtSvidError extends Error {
  constructor(readonly rule: string, detail: string, options?: ErrorOptions) {
    super(`JWT-SVID rejected (${rule}): ${detail}`, options);
    this.name = 'JwtSvidError';
  }
}

/** Clock skew tolerated on `exp` and `nbf`, as go-jose (and so go-spiffe) uses. */
const LEEWAY_SECONDS = 60;

type KeyType = { kty: 'RSA' } | { kty: 'EC'; crv: string };

/** The allowed algorithms and the key each needs. */
const ALGORITHMS: ReadonlyMap<string, KeyType> = new Map<string, KeyType>([
  ...['RS256', 'RS384', 'RS512', 'PS256', 'PS384', 'PS512'].map((alg): [string, KeyType] => [alg, { kty: 'RSA' }]),
  ['ES256', { kty: 'EC', crv: 'P-256' }],
  ['ES384', { kty: 'EC', crv: 'P-384' }],
  ['ES512', { kty: 'EC', crv: 'P-521' }],
]);

const BASE64URL = /^[A-Za-z0-9_-]+$/;

/**
 * Validates a JWT-SVID for `audience`, in go-spiffe's order with `kid` optional: header (alg
 * allowlist, typ, crit), claims present, subject, bundle of its trust domain, key, signature,
 * then exp, nbf and aud. Integer claims beyond 2^53 are returned as bigint.
 */
export async function validateJwtSvid(
  token: string,
  bundles: JwtBundleSource,
  audience: string,
  now: Date = new Date(),
): Promise<{ id: SpiffeId; claims: Record<string, unknown>; expiresAt: Date }> {
  if (audience === '') throw new JwtSvidError('aud', 'the expected audience is empty');
  const parts = token.split('.');
  if (parts.length !== 3 || !parts.every((part) => BASE64URL.test(part))) {
    throw new JwtSvidError('format', 'not a compact JWS (three non-empty base64url parts separated by ".")');
  }
  const [encodedHeader, encodedPayload] = parts as [string, string, string];

  const header = decodeJson(encodedHeader, 'header');
  const alg = header['alg'];
  const keyType = typeof alg === 'string' ? ALGORITHMS.get(alg) : undefined;
  if (typeof alg !== 'string' || !keyType) {
    throw new JwtSvidError('alg', `algorithm ${JSON.stringify(alg)} is not allowed; use one of ${[...ALGORITHMS.keys()].join(', ')}`);
  }
  const typ = header['typ'];
  if (typ !== undefined && typ !== 'JWT' && typ !== 'JOSE') {
    throw new JwtSvidError('typ', `header typ ${JSON.stringify(typ)} is not "JWT" or "JOSE"`);
  }
  if (header['crit'] !== undefined) {
    throw new JwtSvidError('crit', `critical header parameters ${JSON.stringify(header['crit'])} are not supported`);
  }
  const kid = header['kid'];
  if (kid !== undefined && typeof kid !== 'string') throw new JwtSvidError('kid', 'header kid is not a string');

  const claims = decodeJson(encodedPayload, 'payload');
  const sub = claims['sub'];
  const exp = claims['exp'];
  if (typeof sub !== 'string') throw new JwtSvidError('sub', 'the sub claim is missing or not a string');
  if (typeof exp !== 'number') throw new JwtSvidError('exp', 'the exp claim is missing or not a number');
  let id: SpiffeId;
  try {
    id = SpiffeId.parse(sub);
  } catch (error) {
    throw new JwtSvidError('sub', (error as Error).message, { cause: error });
  }
  if (id.path === '') throw new JwtSvidError('sub', `subject ${id} has no path; a trust domain ID never identifies a workload`);

  const bundle = bundles.getJwtBundle(id.trustDomain);
  if (!bundle) throw new JwtSvidError('bundle', `no JWT bundle for trust domain "${id.trustDomain}" of subject ${id}`);
  if (!bundle.trustDomain.equals(id.trustDomain)) {
    throw new JwtSvidError('bundle', `the bundle source returned the bundle of "${bundle.trustDomain}" for "${id.trustDomain}"`);
  }
  const named = kid === undefined ? bundle.authorities : bundle.authorities.filter((authority) => authority.keyId === kid);
  if (named.length === 0) throw new JwtSvidError('key', `no key ${JSON.stringify(kid)} in the JWT bundle of "${id.trustDomain}"`);
  const candidates = named.filter((authority) => fits(authority.jwk, keyType));
  if (candidates.length === 0) {
    throw new JwtSvidError('key', `no ${alg} key${kid === undefined ? '' : ` ${JSON.stringify(kid)}`} in the JWT bundle of "${id.trustDomain}"`);
  }
  await verifySignature(token, alg, candidates);

  const nowSeconds = now.getTime() / 1000;
  if (nowSeconds > exp + LEEWAY_SECONDS) throw new JwtSvidError('exp', `expired at ${secondsToIso(exp)}`);
  const nbf = claims['nbf'];
  if (nbf !== undefined && typeof nbf !== 'number') throw new JwtSvidError('nbf', 'the nbf claim is not a number');
  if (nbf !== undefined && nbf > nowSeconds + LEEWAY_SECONDS) throw new JwtSvidError('nbf', `not valid before ${secondsToIso(nbf)}`);
  const aud = claims['aud'];
  const audiences = typeof aud === 'string' ? [aud] : Array.isArray(aud) && aud.every((a) => typeof a === 'string') ? aud : undefined;
  if (!audiences) throw new JwtSvidError('aud', 'the aud claim is missing or not a string or array of strings');
  if (!audiences.includes(audience)) {
    throw new JwtSvidError('aud', `audience ${JSON.stringify(audience)} is not among ${JSON.stringify(audiences)}`);
  }
  return { id, claims, expiresAt: new Date(exp * 1000) };
}

function decodeJson(part: string, what: string): JsonObject {
  let value: JsonValue;
  try {
    value = parseJson(new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(part, 'base64url')));
  } catch (error) {
    throw new JwtSvidError('format', `the ${what} is not UTF-8 JSON: ${(error as Error).message}`, { cause: error });
  }
  if (!isJsonObject(value)) throw new JwtSvidError('format', `the ${what} is not a JSON object`);
  return value;
}

function fits(jwk: JsonWebKey, keyType: KeyType): boolean {
  return jwk.kty === keyType.kty && (keyType.kty === 'RSA' || jwk.crv === keyType.crv);
}

/** Imported keys by authority and algorithm: bundles change rarely, tokens arrive with every call. */
const importedKeys = new WeakMap<JwtAuthority, Map<string, Promise<CryptoKey | Uint8Array>>>();

function importedKey(authority: JwtAuthority, alg: string): Promise<CryptoKey | Uint8Array> {
  let byAlg = importedKeys.get(authority);
  if (!byAlg) importedKeys.set(authority, (byAlg = new Map()));
  let key = byAlg.get(alg);
  if (!key) {
    key = importJWK(authority.jwk as JWK, alg);
    byAlg.set(alg, key);
  }
  return key;
}

/** Tries each candidate key (one when kid named it); jose checks the signature and the alg again. */
async function verifySignature(token: string, alg: string, candidates: readonly JwtAuthority[]): Promise<void> {
  const failures: string[] = [];
  for (const authority of candidates) {
    try {
      const key = await importedKey(authority, alg);
      await compactVerify(token, key, { algorithms: [alg] });
      return;
    } catch (error) {
      failures.push(`${authority.keyId === undefined ? 'key' : `key ${JSON.stringify(authority.keyId)}`}: ${(error as Error).message}`);
    }
  }
  throw new JwtSvidError('signature', `the signature does not verify (${failures.join('; ')})`);
}

function secondsToIso(seconds: number): string {
  const date = new Date(seconds * 1000);
  return Number.isNaN(date.getTime()) ? String(seconds) : date.toISOString();
}
