import { syncPeerEntry } from '@dirtk/directory-api/contract';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../src/config';

describe('apiserver configuration: the wait for the first SVID', () => {
  it('has no limit by default, so a slow first attestation is never a crash', () => {
    expect(loadConfig({}).readyTimeoutMs).toBe(Infinity);
    expect(loadConfig({ DIRTK_APISERVER_READY_TIMEOUT_MS: '0' }).readyTimeoutMs).toBe(Infinity);
  });

  it('takes a limit in milliseconds and refuses anything else', () => {
    expect(loadConfig({ DIRTK_APISERVER_READY_TIMEOUT_MS: '5000' }).readyTimeoutMs).toBe(5000);
    expect(() => loadConfig({ DIRTK_APISERVER_READY_TIMEOUT_MS: '-1' })).toThrow(ConfigError);
    expect(() => loadConfig({ DIRTK_APISERVER_READY_TIMEOUT_MS: 'soon' })).toThrow(/readyTimeoutMs \(DIRTK_APISERVER_READY_TIMEOUT_MS\) must be a whole number, 0 or more/);
  });
});

describe('apiserver configuration: the peers syncs may pull from', () => {
  it('reads the entries the topology writes, one per peer', () => {
    const entries = [syncPeerEntry('127.0.0.1:8888', 'spiffe://b.test/dir/apiserver'), syncPeerEntry('[::1]:9999', 'spiffe://c.test/dir/apiserver')];
    const { peers } = loadConfig({ DIRTK_APISERVER_SYNC_PEERS: entries.join(',') }).sync;
    expect(peers.addresses).toEqual(['127.0.0.1:8888', '[::1]:9999']);
    expect(String(peers.peerAt('https://127.0.0.1:8888')?.apiserverId)).toBe('spiffe://b.test/dir/apiserver');
    expect(peers.peerAt('127.0.0.1:8889')).toBeUndefined();
  });

  it('lists every malformed entry, naming it', () => {
    const error = (() => {
      try {
        loadConfig({ DIRTK_APISERVER_SYNC_PEERS: 'b.test=spiffe://b.test/x, 127.0.0.1:1=http://b.test/x, 127.0.0.1:2=spiffe://b.test/a,127.0.0.1:2=spiffe://b.test/b' });
      } catch (caught) {
        return caught as Error;
      }
      throw new Error('loadConfig accepted malformed sync peers');
    })();
    expect(error).toBeInstanceOf(ConfigError);
    expect(error.message).toContain('"b.test=spiffe://b.test/x" is not <host:port>=<apiserver SPIFFE ID>');
    expect(error.message).toContain('"127.0.0.1:1=http://b.test/x":');
    expect(error.message).toContain('"127.0.0.1:2" is listed twice');
  });
});
