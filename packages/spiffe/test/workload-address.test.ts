import { describe, expect, it } from 'vitest';
import {
  ENDPOINT_SOCKET_ENV,
  parseWorkloadEndpoint,
  resolveWorkloadEndpoint,
  WorkloadEndpointError,
} from '../src/workloadapi/address';

describe('Workload API address', () => {
  it.each([
    ['unix:///run/spire/agent.sock', { kind: 'unix', path: '/run/spire/agent.sock', grpcTarget: 'unix:/run/spire/agent.sock' }],
    ['UNIX:///tmp/a.sock', { kind: 'unix', path: '/tmp/a.sock' }],
    ['unix:///tmp/with@sign', { kind: 'unix', path: '/tmp/with@sign' }],
    ['tcp://127.0.0.1:8081', { kind: 'tcp', host: '127.0.0.1', port: 8081, grpcTarget: 'ipv4:127.0.0.1:8081' }],
    ['tcp://[::1]:65535', { kind: 'tcp', host: '::1', port: 65535, grpcTarget: 'ipv6:[::1]:65535' }],
    ['tcp://[::ffff:10.0.0.1]:1', { kind: 'tcp', host: '::ffff:10.0.0.1', port: 1 }],
  ])('accepts %s', (address, expected) => {
    expect(parseWorkloadEndpoint(address)).toMatchObject({ address, ...expected });
  });

  it.each([
    ['', 'missing "unix://" or "tcp://" scheme'],
    ['/run/spire/agent.sock', 'missing "unix://" or "tcp://" scheme'],
    ['unix:/run/agent.sock', 'missing "unix://" or "tcp://" scheme'],
    ['http://127.0.0.1:80', 'unsupported scheme "http"'],
    ['unix://localhost/run/agent.sock', 'no authority'],
    ['unix://user@/run/agent.sock', 'no authority'],
    ['unix://foo', 'must be absolute'],
    ['unix://', 'must be absolute'],
    ['unix:///', 'names a directory'],
    ['unix:///run/spire/', 'names a directory'],
    ['unix:///run/agent.sock?x=1', 'a query is not allowed'],
    ['unix:///run/agent.sock#frag', 'a fragment is not allowed'],
    ['unix:///run/agent%20x.sock', 'percent-encoding is not allowed'],
    [`unix:///${'a'.repeat(107)}`, 'longer than the 107 bytes'],
    ['tcp://localhost:8081', 'must be an IP literal'],
    ['tcp://example.org:8081', 'must be an IP literal'],
    ['tcp://01.2.3.4:8081', 'must be an IP literal'],
    ['tcp://::1:8081', 'needs an IP literal and a port'],
    ['tcp://[fe80::1%25eth0]:8081', 'percent-encoding is not allowed'],
    ['tcp://[not-ip]:8081', 'is not an IPv6 literal'],
    ['tcp://127.0.0.1', 'needs an IP literal and a port'],
    ['tcp://127.0.0.1:', 'needs an IP literal and a port'],
    ['tcp://127.0.0.1:http', 'needs an IP literal and a port'],
    ['tcp://127.0.0.1:0', 'is not a port number'],
    ['tcp://127.0.0.1:080', 'is not a port number'],
    ['tcp://127.0.0.1:65536', 'is not a port number'],
    ['tcp://127.0.0.1:8081/', 'has no path'],
    ['tcp://127.0.0.1:8081/x', 'has no path'],
    ['tcp://127.0.0.1:8081?x', 'a query is not allowed'],
    ['tcp://127.0.0.1:8081#x', 'a fragment is not allowed'],
    ['tcp://user@127.0.0.1:8081', 'userinfo is not allowed'],
  ])('rejects %j', (address, reason) => {
    expect(() => parseWorkloadEndpoint(address)).toThrow(WorkloadEndpointError);
    expect(() => parseWorkloadEndpoint(address)).toThrow(reason);
  });

  it('prefers the explicit address over SPIFFE_ENDPOINT_SOCKET', () => {
    const env = { [ENDPOINT_SOCKET_ENV]: 'unix:///from/env.sock' };
    expect(resolveWorkloadEndpoint('unix:///explicit.sock', env).address).toBe('unix:///explicit.sock');
    expect(resolveWorkloadEndpoint(undefined, env).address).toBe('unix:///from/env.sock');
  });

  it('validates the address taken from the environment', () => {
    expect(() => resolveWorkloadEndpoint(undefined, { [ENDPOINT_SOCKET_ENV]: 'unix://foo' })).toThrow('must be absolute');
  });

  it('says how to configure the address when none is set', () => {
    expect(() => resolveWorkloadEndpoint(undefined, {})).toThrow(`set ${ENDPOINT_SOCKET_ENV}`);
    expect(() => resolveWorkloadEndpoint(undefined, { [ENDPOINT_SOCKET_ENV]: '' })).toThrow(`set ${ENDPOINT_SOCKET_ENV}`);
  });
});
