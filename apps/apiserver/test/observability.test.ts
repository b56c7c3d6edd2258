import { request } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createJsonLogger } from '../src/observability/logger';
import { DirectoryMetrics } from '../src/observability/metrics';
import { serveHttpEndpoint } from '../src/observability/http-endpoint';

function capture(level?: 'debug' | 'info' | 'warn' | 'error') {
  const lines: string[] = [];
  const logger = createJsonLogger({ level, write: (line) => lines.push(line), now: () => new Date('2026-01-02T03:04:05.678Z') });
  return { logger, lines, parsed: () => lines.map((line) => JSON.parse(line) as Record<string, unknown>) };
}

function get(port: number, path: string, method = 'GET'): Promise<{ status: number; type: string; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (chunk: Buffer) => (body += chunk.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, type: String(res.headers['content-type']), body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('JSON logger', () => {
  it('writes one JSON object per line with time, level, msg and the fields', () => {
    const { logger, lines } = capture();
    logger.info('record pushed', { cid: 'bafy', bytes: 12 });
    expect(lines).toEqual(['{"cid":"bafy","bytes":12,"time":"2026-01-02T03:04:05.678Z","level":"info","msg":"record pushed"}\n']);
  });

  it('drops lines below the level (info by default)', () => {
    const byDefault = capture();
    byDefault.logger.debug('hidden');
    byDefault.logger.warn('shown');
    expect(byDefault.parsed().map((line) => line.level)).toEqual(['warn']);
    const errorsOnly = capture('error');
    errorsOnly.logger.warn('hidden');
    errorsOnly.logger.error('shown');
    expect(errorsOnly.parsed().map((line) => line.msg)).toEqual(['shown']);
  });

  it('adds child fields to every line, and never lets fields forge time, level or msg', () => {
    const { logger, parsed } = capture('debug');
    logger.child({ component: 'store' }).debug('opened', { level: 'error', msg: 'forged', time: 'never' });
    expect(parsed()).toEqual([{ component: 'store', time: '2026-01-02T03:04:05.678Z', level: 'debug', msg: 'opened' }]);
  });

  it('writes errors as name and message', () => {
    const { logger, parsed } = capture();
    logger.error('failed', { cause: new RangeError('out of range') });
    expect(parsed()[0]?.cause).toEqual({ name: 'RangeError', message: 'out of range' });
  });
});

describe('metrics', () => {
  it('keeps its own registry with RPC, authz and SVID expiry metrics', async () => {
    const metrics = new DirectoryMetrics();
    metrics.recordRpc('/agntcy.dir.store.v1.StoreService/Pull', 'OK', 'dir.example');
    metrics.recordRpc('/agntcy.dir.store.v1.StoreService/Pull', 'OK', 'dir.example');
    metrics.recordRpc('/grpc.health.v1.Health/Check', 'OK');
    metrics.recordAuthzDecision('deny');
    metrics.setSvidExpiry(new Date('2026-01-01T01:00:00Z'));
    const text = await metrics.registry.metrics();
    expect(text).toContain('dirtk_apiserver_rpcs_total{method="/agntcy.dir.store.v1.StoreService/Pull",code="OK",trust_domain="dir.example"} 2');
    expect(text).toContain('dirtk_apiserver_rpcs_total{method="/grpc.health.v1.Health/Check",code="OK",trust_domain="none"} 1');
    expect(text).toContain('dirtk_apiserver_authz_decisions_total{decision="deny"} 1');
    expect(text).toContain(`dirtk_apiserver_svid_expiry_timestamp_seconds ${Date.UTC(2026, 0, 1, 1) / 1000}`);
    expect(text).toContain('dirtk_apiserver_process_cpu_seconds_total');
    // Two instances do not collide (no global registry).
    expect(() => new DirectoryMetrics()).not.toThrow();
  });

  it('serves /metrics on 127.0.0.1 in the Prometheus text format', async () => {
    const metrics = new DirectoryMetrics();
    metrics.recordAuthzDecision('allow');
    const endpoint = await serveHttpEndpoint(metrics.registry, { port: 0 });
    try {
      const ok = await get(endpoint.port, '/metrics');
      expect(ok.status).toBe(200);
      expect(ok.type).toContain('text/plain');
      expect(ok.body).toContain('dirtk_apiserver_authz_decisions_total{decision="allow"} 1');
      expect((await get(endpoint.port, '/metrics?x=1')).status).toBe(200);
      expect((await get(endpoint.port, '/')).status).toBe(404);
      expect((await get(endpoint.port, '/metrics', 'POST')).status).toBe(405);
    } finally {
      await endpoint.close();
    }
  });

  it('answers /healthz always and /readyz only once ready, for probes that cannot speak mTLS', async () => {
    let ready = false;
    const endpoint = await serveHttpEndpoint(new DirectoryMetrics().registry, { port: 0, ready: () => ready });
    try {
      expect((await get(endpoint.port, '/healthz')).status).toBe(200);
      expect((await get(endpoint.port, '/readyz')).status).toBe(503);
      ready = true;
      expect((await get(endpoint.port, '/readyz')).status).toBe(200);
    } finally {
      await endpoint.close();
    }
  });
});
