/**
 * Channel credentials for calling a SPIFFE-authenticated gRPC server. The handshake accepts any
 * server certificate; the connection is handed to grpc-js only after our verifier has checked the
 * chain against the bundle of the server's own trust domain and the authorizer has accepted its ID.
 *
 * This plugs into grpc-js through `ChannelCredentials._createSecureConnector`, an internal extension
 * point; grpc-js is pinned to an exact version for that reason.
 */
import type { Socket } from 'node:net';
import { connect } from 'node:tls';
import { CallCredentials, ChannelCredentials, type experimental } from '@grpc/grpc-js';
import type { Authorizer } from './authorizer';
import type { X509BundleSource } from '../bundle/bundle';
import { verifyX509Svid, x509SvidToPem, type X509Svid } from '../x509svid';
import { peerChainDer } from './peer-chain';

export interface SpiffeClientOptions {
  /** Bundles to verify the server with, and the client's own SVID when it presents one; read on every connection. */
  readonly source: X509BundleSource & { getX509Svid?(): X509Svid };
  /** Pins the server: e.g. `authorizeId(serverId)` or `authorizeMemberOf(trustDomain)`. */
  readonly authorizer: Authorizer;
  /**
   * Present the client's X.509-SVID (mutual TLS). Off for callers that authenticate with a JWT-SVID.
   * @default true
   */
  readonly presentCertificate?: boolean;
}

/** Credentials for a channel to a SPIFFE server; each new connection uses the source's current SVID. */
export function spiffeChannelCredentials(options: SpiffeClientOptions): ChannelCredentials {
  return new SpiffeChannelCredentials(options);
}

class SpiffeChannelCredentials extends ChannelCredentials {
  constructor(private readonly options: SpiffeClientOptions) {
    super();
  }

  override _isSecure(): boolean {
    return true;
  }

  override _equals(other: ChannelCredentials): boolean {
    return other === this;
  }

  override _createSecureConnector(
    _target: experimental.GrpcUri,
    _channelOptions: unknown,
    callCredentials?: CallCredentials,
  ): experimental.SecureConnector {
    const options = this.options;
    return {
      connect: (socket: Socket) => connectVerified(socket, options),
      waitForReady: () => Promise.resolve(),
      getCallCredentials: () => callCredentials ?? CallCredentials.createEmpty(),
      destroy: () => {},
    };
  }
}

function connectVerified(socket: Socket, options: SpiffeClientOptions): Promise<experimental.SecureConnectResult> {
  const identity = options.presentCertificate === false ? undefined : clientIdentity(options);
  return new Promise((resolve, reject) => {
    const tlsSocket = connect({
      socket,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
      rejectUnauthorized: false,
      // No CA store: trust comes from our verifier only, and without Node's public roots reading the
      // peer's chain does not search them (about 300 µs per connection).
      ca: [],
      ...identity,
    });
    tlsSocket.once('secureConnect', () => {
      try {
        const { id, verifiedChain } = verifyX509Svid(peerChainDer(tlsSocket), options.source);
        options.authorizer(id, verifiedChain);
        resolve({ socket: tlsSocket, secure: true });
      } catch (error) {
        tlsSocket.destroy();
        reject(new Error(`server rejected: ${(error as Error).message}`));
      }
    });
    tlsSocket.once('error', reject);
  });
}

function clientIdentity(options: SpiffeClientOptions): { cert: string; key: string } {
  if (!options.source.getX509Svid) {
    throw new Error('mutual TLS needs a source with an X.509-SVID; set presentCertificate: false to call without one');
  }
  const { certChainPem, keyPem } = x509SvidToPem(options.source.getX509Svid());
  return { cert: certChainPem, key: keyPem };
}
