/**
 * The apiserver's plain-HTTP endpoint, on loopback unless told otherwise: Prometheus text at
 * `/metrics`, liveness at `/healthz` and readiness at `/readyz`, and any extra `routes` (the registry
 * token service). Probes come here because the gRPC port speaks mutual TLS only, which kubelet
 * probes cannot.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

export interface HttpEndpoint {
  readonly port: number;
  close(): Promise<void>;
}

export interface HttpEndpointOptions {
  /** 0 picks a free port. */
  readonly port: number;
  /** @default '127.0.0.1' */
  readonly host?: string;
  /**
   * Whether the server is ready to serve calls.
   * @default always ready
   */
  readonly ready?: () => boolean;
  /** GET handlers by exact path, besides the built-in ones. */
  readonly routes?: Readonly<Record<string, (request: IncomingMessage, response: ServerResponse) => void>>;
}

export async function serveHttpEndpoint(registry: Registry, options: HttpEndpointOptions): Promise<HttpEndpoint> {
  const server: Server = createServer((request, response) => {
    const pathname = new URL(request.url ?? '/', 'http://apiserver').pathname;
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      response.writeHead(405, { allow: 'GET, HEAD', 'content-type': 'text/plain' }).end('method not allowed\n');
      return;
    }
    if (pathname === '/healthz') {
      response.writeHead(200, { 'content-type': 'text/plain' }).end('ok\n');
      return;
    }
    if (pathname === '/readyz') {
      const ready = options.ready?.() ?? true;
      response.writeHead(ready ? 200 : 503, { 'content-type': 'text/plain' }).end(ready ? 'ready\n' : 'not ready\n');
      return;
    }
    const route = options.routes?.[pathname];
    if (route) {
      route(request, response);
      return;
    }
    if (pathname !== '/metrics') {
      const known = ['/metrics', '/healthz', '/readyz', ...Object.keys(options.routes ?? {})];
      response.writeHead(404, { 'content-type': 'text/plain' }).end(`not found; try ${known.join(', ')}\n`);
      return;
    }
    registry.metrics().then(
      (text) => response.writeHead(200, { 'content-type': registry.contentType }).end(request.method === 'HEAD' ? undefined : text),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`collecting metrics failed: ${error.message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () => new Promise<void>((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}
