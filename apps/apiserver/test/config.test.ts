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
