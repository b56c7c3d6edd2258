/**
 * JWT-SVIDs as bearer tokens: `authorization: Bearer <JWT-SVID>` on every call, over TLS that
 * authenticates the server only.
 */
import { CallCredentials, Metadata } from '@grpc/grpc-js';
import type { JwtBundleSource } from '../bundle/bundle';
import type { SpiffeId } from '../spiffeid/id';
import { validateJwtSvid } from '../jwtsvid/jwtsvid';

const BEARER = /^bearer\s+(\S+)$/i;

/** Call credentials that attach a fresh JWT-SVID (from `fetchToken`) to every call. */
export function jwtBearerCallCredentials(fetchToken: () => Promise<string>): CallCredentials {
  return CallCredentials.createFromMetadataGenerator((_params, callback) => {
    fetchToken().then(
      (token) => {
        const metadata = new Metadata();
        metadata.set('authorization', `Bearer ${token}`);
        callback(null, metadata);
      },
      (error: Error) => callback(error),
    );
  });
}

/** The bearer token of a call, or undefined when it carries none (or more than one). */
export function bearerToken(metadata: Metadata): string | undefined {
  const values = metadata.get('authorization');
  if (values.length !== 1 || typeof values[0] !== 'string') return undefined;
  return BEARER.exec(values[0])?.[1];
}

/**
 * Validates the call's JWT-SVID for any of `audiences`; the key comes only from the bundle of the
 * token subject's trust domain. Throws with the reason of the last failure.
 */
export async function authenticateBearer(metadata: Metadata, bundles: JwtBundleSource, audiences: readonly string[]): Promise<SpiffeId> {
  const token = bearerToken(metadata);
  if (token === undefined) throw new Error('no bearer token');
  let lastError: unknown = new Error('no audience configured');
  for (const audience of audiences) {
    try {
      return (await validateJwtSvid(token, bundles, audience)).id;
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}
