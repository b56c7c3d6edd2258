/**
 * Workload API responses turned into SVIDs and bundle sets. A response that lacks a mandatory field or
 * holds data that does not parse throws `WorkloadResponseError`, so that the stream keeps its previous
 * state instead of applying a partial one.
 */
import { BundleSet, JwtBundle, X509Bundle } from '../bundle/bundle';
import { SpiffeId, TrustDomain } from '../spiffeid/id';
import { isJsonObject, parseJson, type JsonValue } from '../internal/json';
import { parseX509Svid, type X509Svid } from '../x509svid';
import { WorkloadResponseError } from './errors';
import type { JWTBundlesResponse, JWTSVIDResponse, ValidateJWTSVIDResponse, X509BundlesResponse, X509SVIDResponse } from '../../gen/workload';
import { structToJson } from './proto';

/** Everything one FetchX509SVID message says: the SVIDs (default first) and the bundles to trust. */
export interface X509Context {
  readonly svids: readonly X509Svid[];
  /** The bundles of the SVIDs' own trust domains and of the federated ones. */
  readonly bundles: BundleSet;
}

/** A JWT-SVID from the agent, with its claims read but not verified (it is our own token). */
export interface FetchedJwtSvid {
  readonly token: string;
  readonly id: SpiffeId;
  readonly audience: readonly string[];
  readonly expiresAt: Date;
  readonly hint?: string;
}

export interface ValidatedJwtSvid {
  readonly id: SpiffeId;
  readonly claims: Readonly<Record<string, JsonValue>>;
}

export function emptyBundleSet(): BundleSet {
  return new BundleSet({});
}

export function emptyX509Context(): X509Context {
  return { svids: [], bundles: emptyBundleSet() };
}

export function parseX509SvidResponse(raw: X509SVIDResponse): X509Context {
  const rpc = 'FetchX509SVID';
  if (raw.svids.length === 0) throw new WorkloadResponseError(rpc, 'the response holds no SVID');
  const own = new Map<string, X509Bundle>();
  const svids = raw.svids.map((svid, i) => {
    const label = `svids[${i}]`;
    for (const [field, value] of [
      ['spiffe_id', svid.spiffeId],
      ['x509_svid', svid.x509Svid],
      ['x509_svid_key', svid.x509SvidKey],
      ['bundle', svid.bundle],
    ] as const) {
      if (value.length === 0) throw new WorkloadResponseError(rpc, `${label}.${field} is empty`);
    }
    const parsed = guard(rpc, label, () => parseX509Svid(svid.x509Svid, svid.x509SvidKey, svid.hint === '' ? undefined : svid.hint));
    if (String(parsed.id) !== svid.spiffeId) {
      throw new WorkloadResponseError(rpc, `${label}.spiffe_id ${svid.spiffeId} differs from the certificate's ID ${parsed.id}`);
    }
    const td = parsed.id.trustDomain;
    // SVIDs of one trust domain carry the same bundle; the first one is kept.
    if (!own.has(td.name)) own.set(td.name, guard(rpc, `${label}.bundle`, () => X509Bundle.fromDer(td, svid.bundle)));
    return parsed;
  });
  const federated = Object.entries(raw.federatedBundles).flatMap(([key, der]) => {
    const td = guard(rpc, `federated_bundles key ${JSON.stringify(key)}`, () => TrustDomain.parse(key));
    // A federated entry never replaces the bundle that came with our own SVID.
    if (own.has(td.name)) return [];
    return [guard(rpc, `federated_bundles[${JSON.stringify(key)}]`, () => X509Bundle.fromDer(td, der))];
  });
  const bundles = guard(rpc, 'bundles', () => new BundleSet({ x509: [...own.values(), ...federated] }));
  return { svids, bundles };
}

export function parseX509BundlesResponse(raw: X509BundlesResponse): BundleSet {
  const rpc = 'FetchX509Bundles';
  const x509 = Object.entries(raw.bundles).map(([key, der]) => {
    const td = guard(rpc, `bundles key ${JSON.stringify(key)}`, () => TrustDomain.parse(key));
    return guard(rpc, `bundles[${JSON.stringify(key)}]`, () => X509Bundle.fromDer(td, der));
  });
  return guard(rpc, 'bundles', () => new BundleSet({ x509 }));
}

export function parseJwtBundlesResponse(raw: JWTBundlesResponse): BundleSet {
  const rpc = 'FetchJWTBundles';
  const jwt = Object.entries(raw.bundles).map(([key, jwks]) => {
    const td = guard(rpc, `bundles key ${JSON.stringify(key)}`, () => TrustDomain.parse(key));
    // SPIRE omits `use` on the keys of these JWKS.
    return guard(rpc, `bundles[${JSON.stringify(key)}]`, () => JwtBundle.fromJwks(td, jwks.toString('utf8'), { allowMissingUse: true }));
  });
  return guard(rpc, 'bundles', () => new BundleSet({ jwt }));
}

/** Checks, without verifying the signature, that each token is for its stated ID, the audiences, and has an expiry. */
export function parseJwtSvidResponse(raw: JWTSVIDResponse, audiences: readonly string[]): FetchedJwtSvid[] {
  const rpc = 'FetchJWTSVID';
  if (raw.svids.length === 0) throw new WorkloadResponseError(rpc, 'the response holds no JWT-SVID');
  return raw.svids.map((svid, i) => {
    const label = `svids[${i}]`;
    if (svid.svid === '') throw new WorkloadResponseError(rpc, `${label}.svid is empty`);
    const id = guard(rpc, `${label}.spiffe_id`, () => SpiffeId.parse(svid.spiffeId));
    const claims = guard(rpc, `${label}.svid`, () => unverifiedClaims(svid.svid));
    if (claims['sub'] !== svid.spiffeId) {
      throw new WorkloadResponseError(rpc, `${label}: the token's sub ${JSON.stringify(claims['sub'])} is not ${svid.spiffeId}`);
    }
    const exp = claims['exp'];
    if (typeof exp !== 'number') throw new WorkloadResponseError(rpc, `${label}: the token has no numeric exp claim`);
    const aud = claims['aud'];
    const audience = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud.filter((a): a is string => typeof a === 'string') : [];
    const missing = audiences.filter((a) => !audience.includes(a));
    if (missing.length > 0) throw new WorkloadResponseError(rpc, `${label}: the token's aud lacks ${missing.join(', ')}`);
    return {
      token: svid.svid,
      id,
      audience,
      expiresAt: new Date(exp * 1000),
      ...(svid.hint !== '' && { hint: svid.hint }),
    };
  });
}

export function parseValidateJwtSvidResponse(raw: ValidateJWTSVIDResponse): ValidatedJwtSvid {
  const id = guard('ValidateJWTSVID', 'spiffe_id', () => SpiffeId.parse(raw.spiffeId));
  return { id, claims: structToJson(raw.claims) };
}

function unverifiedClaims(token: string): Record<string, JsonValue> {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('not a compact JWS');
  const claims = parseJson(Buffer.from(parts[1] ?? '', 'base64url').toString('utf8'));
  if (!isJsonObject(claims)) throw new Error('the payload is not a JSON object');
  return claims;
}

function guard<T>(rpc: string, what: string, parse: () => T): T {
  try {
    return parse();
  } catch (error) {
    throw new WorkloadResponseError(rpc, `${what}: ${(error as Error).message}`, { cause: error });
  }
}
