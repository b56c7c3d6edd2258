/**
 * A gRPC server behind SPIFFE mutual TLS. Node cannot verify a client against the bundle of the
 * client's own trust domain during the handshake (its CA list is fixed per context), so the server
 * accepts any client certificate in the handshake, then verifies the chain with our X.509-SVID
 * verifier and the authorizer, and only then hands the connection to grpc-js.
 */
import type { Socket } from 'node:net';
import { createServer, type Server as TlsServer, type TLSSocket } from 'node:tls';
import { type Server as GrpcServer, ServerCredentials } from '@grpc/grpc-js';
import type { X509BundleSource } from '../bundle/bundle';
import { authorizeAny, type Authorizer } from './authorizer';
import type { SpiffeId } from '../spiffeid/id';
import { verifyX509Svid, x509SvidToPem, type X509Svid } from '../x509svid';
import { peerChainDer } from './peer-chain';

/** Where the server gets its own SVID and the bundles it verifies clients with; read on every connection. */
export interface ServerX509Source extends X509BundleSource {
  getX509Svid(): X509Svid;
}

export interface SpiffeServerOptions {
  readonly source: ServerX509Source;
  /**
   * Which verified client IDs may connect at all (per-method policy comes later, per call).
   * @default authorizeAny()
   */
  readonly authorizer?: Authorizer;
  /**
   * Accept clients without a certificate, for callers that authenticate each call with a JWT-SVID.
   * A client that does present a certificate is still verified.
   * @default false
   */
  readonly allowClientsWithoutCertificate?: boolean;
  /** Told about every connection refused, with the reason (for audit logs). */
  readonly onRejected?: (reason: string, remote: string) => void;
}

/** How a connection was authenticated. */
export type PeerIdentity = { readonly kind: 'x509'; readonly id: SpiffeId } | { readonly kind: 'none' };

export class SpiffeServer {
  private readonly tlsServer: TlsServer;
  private readonly peers = new Map<string, PeerIdentity>();
  private svidInUse: X509Svid;

  constructor(private readonly grpcServer: GrpcServer, private readonly options: SpiffeServerOptions) {
    this.svidInUse = options.source.getX509Svid();
    this.tlsServer = createServer({
      ...this.secureContextOptions(this.svidInUse),
      requestCert: true,
      rejectUnauthorized: false,
      ALPNProtocols: ['h2'],
      minVersion: 'TLSv1.2',
    });
    // Runs before the TLS server builds the socket, so a rotated SVID serves this very connection.
    this.tlsServer.prependListener('connection', (socket: Socket) => {
      try {
        this.applyRotation();
      } catch (error) {
        // No SVID (e.g. the identity was withdrawn): no new handshake may use the old one.
        this.options.onRejected?.(`no SVID to serve with: ${(error as Error).message}`, `${socket.remoteAddress}:${socket.remotePort}`);
        socket.destroy();
      }
    });
    const injector = grpcServer.createConnectionInjector(ServerCredentials.createInsecure());
    this.tlsServer.on('secureConnection', (socket: TLSSocket) => {
      const remote = `${socket.remoteAddress}:${socket.remotePort}`;
      const identity = this.authenticate(socket, remote);
      if (!identity) {
        socket.destroy();
        return;
      }
      this.peers.set(remote, identity);
      socket.once('close', () => this.peers.delete(remote));
      injector.injectConnection(socket);
    });
    this.tlsServer.on('tlsClientError', (error, socket) => {
      this.options.onRejected?.(`TLS handshake failed: ${error.message}`, `${socket.remoteAddress}:${socket.remotePort}`);
    });
  }

  /** Listens on `host:port` (port 0 picks a free one) and resolves with the bound port. */
  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.tlsServer.once('error', reject);
      this.tlsServer.listen(port, host, () => {
        this.tlsServer.off('error', reject);
        const address = this.tlsServer.address();
        resolve(typeof address === 'object' && address ? address.port : port);
      });
    });
  }

  /** The identity of the connection a call arrived on; `call.getPeer()` names it. */
  peerOf(call: { getPeer(): string }): PeerIdentity | undefined {
    return this.peers.get(call.getPeer());
  }

  /** Stops accepting connections and shuts the gRPC server down, letting calls in flight finish. */
  async close(): Promise<void> {
    // Both at once: the TLS server's close waits for its connections to end, which for a client that
    // keeps its channel open happens only when the gRPC shutdown ends that client's session.
    await Promise.all([
      new Promise<void>((resolve) => this.tlsServer.close(() => resolve())),
      new Promise<void>((resolve) => this.grpcServer.tryShutdown(() => resolve())),
    ]);
  }

  private authenticate(socket: TLSSocket, remote: string): PeerIdentity | undefined {
    const chain = peerChainDer(socket);
    if (chain.length === 0) {
      if (this.options.allowClientsWithoutCertificate) return { kind: 'none' };
      this.options.onRejected?.('client presented no certificate', remote);
      return undefined;
    }
    try {
      const { id, verifiedChain } = verifyX509Svid(chain, this.options.source);
      (this.options.authorizer ?? authorizeAny())(id, verifiedChain);
      return { kind: 'x509', id };
    } catch (error) {
      this.options.onRejected?.((error as Error).message, remote);
      return undefined;
    }
  }

  private applyRotation(): void {
    const current = this.options.source.getX509Svid();
    if (current === this.svidInUse) return;
    this.svidInUse = current;
    this.tlsServer.setSecureContext(this.secureContextOptions(current));
  }

  private secureContextOptions(svid: X509Svid): { cert: string; key: string } {
    const { certChainPem, keyPem } = x509SvidToPem(svid);
    return { cert: certChainPem, key: keyPem };
  }
}
