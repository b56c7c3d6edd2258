/**
 * A peer Directory, as the sync worker sees it: one RequestRegistryCredentials call over SPIFFE
 * mutual TLS, the apiserver presenting its own X.509-SVID and accepting only the peer's apiserver ID.
 */
import { type ServiceError, status as Status } from '@grpc/grpc-js';
import type { RequestRegistryCredentialsResponse } from '@dirtk/directory-api/grpc';
import { syncServiceClient } from '@dirtk/directory-api/grpc';
import type { X509BundleSource } from '@dirtk/spiffe/bundle';
import { authorizeId, spiffeChannelCredentials } from '@dirtk/spiffe/spiffetls';
import type { X509Svid } from '@dirtk/spiffe/x509svid';
import type { SyncPeer } from './sync-peers';

/** Pull credentials a peer issued, and where they apply. */
export interface PeerRegistryCredentials {
  /** `http://host:port` or `https://host:port`. */
  readonly registryUrl: string;
  readonly repository: string;
  readonly username: string;
  readonly password: string;
}

/** Asks `peer` for registry credentials; a refusal that retrying cannot fix is a `PermanentSyncError`. */
export type RequestPeerCredentials = (peer: SyncPeer, signal: AbortSignal) => Promise<PeerRegistryCredentials>;

/** A failure no retry can fix: the sync FAILs at once with this message. */
export class PermanentSyncError extends Error {
  override name = 'PermanentSyncError';
}

const CALL_TIMEOUT_MS = 30_000;
/** Statuses that say this caller will not get credentials, however often it asks. */
const PERMANENT_STATUSES = new Set([Status.PERMISSION_DENIED, Status.UNAUTHENTICATED, Status.UNIMPLEMENTED, Status.INVALID_ARGUMENT]);

/** Dials peers with the apiserver's own identity from `source`. */
export function spiffePeerCredentials(source: X509BundleSource & { getX509Svid(): X509Svid }): RequestPeerCredentials {
  return async (peer, signal) => {
    const client = syncServiceClient(peer.address, spiffeChannelCredentials({ source, authorizer: authorizeId(peer.apiserverId) }));
    try {
      const response = await new Promise<RequestRegistryCredentialsResponse>((resolve, reject) => {
        const call = client.requestRegistryCredentials({}, { deadline: Date.now() + CALL_TIMEOUT_MS }, (error: ServiceError | null, answer?: RequestRegistryCredentialsResponse) =>
          error ? reject(error) : resolve(answer!),
        );
        signal.addEventListener('abort', () => call.cancel(), { once: true });
      }).catch((error: ServiceError) => {
        const message = `${peer.address} (${peer.apiserverId}) refused RequestRegistryCredentials: ${Status[error.code] ?? error.code} ${error.details ?? error.message}`;
        throw PERMANENT_STATUSES.has(error.code) ? new PermanentSyncError(message) : new Error(message);
      });
      return peerCredentials(peer, response);
    } finally {
      client.close();
    }
  };
}

function peerCredentials(peer: SyncPeer, response: RequestRegistryCredentialsResponse): PeerRegistryCredentials {
  const refused = (why: string) => new PermanentSyncError(`${peer.address} (${peer.apiserverId}) issued no usable registry credentials: ${why}`);
  if (!response.success) throw refused(response.error_message || 'no reason given');
  const auth = response.basic_auth;
  if (!auth || auth.username === '' || auth.password === '') throw refused('no basic_auth');
  if (response.registry_address === '') throw refused('no registry_address');
  const address = response.registry_address.replace(/\/$/, '');
  const registryUrl = /^https?:\/\//.test(address) ? address : `${response.insecure ? 'http' : 'https'}://${address}`;
  return { registryUrl, repository: response.repository_name, username: auth.username, password: auth.password };
}
