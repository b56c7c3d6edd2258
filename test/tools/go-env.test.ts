import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { moduleProxyOnly } from '../../tools/go-env';

describe('Go fetches through the module proxy only', () => {
  it.each([
    [undefined, 'https://proxy.golang.org'],
    ['https://proxy.golang.org,direct', 'https://proxy.golang.org'],
    ['https://a.example|https://b.example,direct', 'https://a.example,https://b.example'],
    ['direct', 'https://proxy.golang.org'],
    ['off', 'https://proxy.golang.org'],
  ])('GOPROXY=%s becomes %s, with VCS fetches off', (given, proxy) => {
    expect(moduleProxyOnly({ GOPROXY: given })).toEqual({ GOPROXY: proxy, GOVCS: '*:off' });
  });

  it('holds in the test processes, so every go command a test starts inherits it', () => {
    expect(process.env.GOVCS).toBe('*:off');
    expect(process.env.GOPROXY?.split(',')).not.toContain('direct');
  });

  it('is what the go command itself then reports', (context) => {
    let reported: string;
    try {
      reported = execFileSync('go', ['env', 'GOPROXY', 'GOVCS']).toString();
    } catch {
      context.skip('no go on PATH');
      return;
    }
    expect(reported.trim().split('\n')).toEqual([process.env.GOPROXY, '*:off']);
  });
});
