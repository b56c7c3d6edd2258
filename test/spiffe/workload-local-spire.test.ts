/** The local-process placements and port allocation that the real-SPIRE Workload API tests run on. */
import { describe, expect, it } from 'vitest';
import { localAgentPlacement, localServerPlacement } from '../../spire/process/placement';
import { freePorts } from '../../spire/process/ports';
import { resolveTopology } from '../../topology';

const td = resolveTopology({ trustDomains: [{ name: 'a.test', clusterName: 'a' }] }).trustDomains[0]!;

describe('local SPIRE placements', () => {
  it('put every listener on 127.0.0.1 and every file in the process directory', () => {
    const server = localServerPlacement(td, { dir: '/tmp/x/server', ports: { server: 1, health: 2, bundleEndpoint: 3 } });
    expect(server).toMatchObject({
      bindAddress: '127.0.0.1',
      healthAddress: '127.0.0.1',
      bundleEndpointAddress: '127.0.0.1',
      socketPath: '/tmp/x/server/api.sock',
      dataDir: '/tmp/x/server/data',
      nodeAttestor: { type: 'join_token' },
      federationRelationships: 'static',
    });
    const agent = localAgentPlacement(td, { dir: '/tmp/x/agent', serverPort: 1, healthPort: 4 });
    expect(agent).toMatchObject({
      serverAddress: '127.0.0.1',
      healthAddress: '127.0.0.1',
      socketPath: '/tmp/x/agent/workload.sock',
      dataDir: '/tmp/x/agent/data',
      workloadAttestor: { type: 'unix', discoverWorkloadPath: true },
      keyManager: 'disk',
    });
  });

  it('refuse a directory too long for a Unix socket path, saying what to do', () => {
    const dir = `/tmp/${'d'.repeat(100)}`;
    expect(() => localAgentPlacement(td, { dir, serverPort: 1, healthPort: 2 })).toThrow(/longer than the 107 bytes.*shorter state directory/);
  });

  it('allocates distinct free ports', async () => {
    const ports = await freePorts(5);
    expect(new Set(ports).size).toBe(5);
    expect(ports.every((port) => port > 0 && port < 65536)).toBe(true);
  });
});
