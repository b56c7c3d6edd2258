/** The Docker engine's command line, environment and layout, and the private apt state. Pure: nothing is started. */
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { aptOptions, downloadArgs, sourcesList } from '../../../kind/engine/debs';
import { dockerdArgs, dockerdEnv, ENGINE_PACKAGES, engineLayout, enginePackagesKey } from '../../../kind/engine/engine';
import { elapsed, tail } from '../../../kind/engine/progress';

const layout = engineLayout('/cache/dirtk', 'k3y');

describe('Docker engine', () => {
  it('keeps data, exec state, pidfile, log and packages under the cache folder', () => {
    expect(layout).toMatchObject({
      dataRoot: '/cache/dirtk/engine/data',
      execRoot: '/cache/dirtk/engine/run',
      pidFile: '/cache/dirtk/engine/dockerd.pid',
      logFile: '/cache/dirtk/engine/dockerd.log',
      dockerd: '/cache/dirtk/engine/packages/k3y/root/usr/sbin/dockerd',
    });
  });

  it('starts dockerd without IP forwarding or masquerading, with its state where the layout says', () => {
    const args = dockerdArgs(layout);
    expect(args).toContain('--ip-forward=false');
    expect(args).toContain('--ip-masq=false');
    // The embedded DNS forwards names it does not know to the host's loopback, where nothing answers.
    expect(args).toContain('--dns=127.0.0.1');
    expect(args).toContain('--host=unix:///var/run/docker.sock');
    expect(args).toContain('--data-root=/cache/dirtk/engine/data');
    expect(args).toContain('--exec-root=/cache/dirtk/engine/run');
    expect(args).toContain('--pidfile=/cache/dirtk/engine/dockerd.pid');
  });

  it('points every proxy variable at the refusing port on 127.0.0.1, and puts our binaries first on PATH', () => {
    const env = dockerdEnv(layout, 9, '/usr/bin:/bin');
    for (const name of ['HTTP_PROXY', 'HTTPS_PROXY', 'http_proxy', 'https_proxy']) expect(env[name]).toBe('http://127.0.0.1:9');
    expect(env.NO_PROXY).toBeUndefined();
    expect(env.no_proxy).toBeUndefined();
    expect(env.PATH).toBe('/cache/dirtk/engine/packages/k3y/root/usr/sbin:/cache/dirtk/engine/packages/k3y/root/usr/bin:/usr/bin:/bin');
  });

  it('takes dockerd 26 and containerd from trixie, runc and tini from bookworm (trixie\'s need glibc 2.38)', () => {
    expect(ENGINE_PACKAGES).toEqual([
      { name: 'docker.io', suite: 'trixie' },
      { name: 'docker-cli', suite: 'trixie' },
      { name: 'containerd', suite: 'trixie' },
      { name: 'runc', suite: 'bookworm' },
      { name: 'tini', suite: 'bookworm' },
    ]);
    expect(enginePackagesKey()).toMatch(/^[0-9a-f]{16}$/);
    expect(enginePackagesKey([{ name: 'docker.io', suite: 'bookworm' }])).not.toBe(enginePackagesKey());
  });
});

describe('private apt state', () => {
  it('asks only Debian\'s mirror, for the suites requested, signed by Debian\'s keyring', () => {
    expect(sourcesList(['trixie', 'bookworm', 'trixie'], 'http://deb.debian.org/debian')).toBe(
      'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian bookworm main\n' +
        'deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian trixie main\n',
    );
  });

  it('never reads or writes the system\'s sources, lists or dpkg status', () => {
    const options = aptOptions('/cache/apt');
    const values = Object.fromEntries(options.filter((_, index) => index % 2 === 1).map((option) => option.split('=') as [string, string]));
    expect(values).toMatchObject({
      'Dir::Etc::sourcelist': path.join('/cache/apt', 'sources.list'),
      'Dir::Etc::sourceparts': '-',
      'Dir::State::Lists': '/cache/apt/lists',
      'Dir::State::status': '/dev/null',
      'Dir::Cache': '/cache/apt/cache',
    });
    expect(downloadArgs([{ name: 'docker.io', suite: 'trixie' }])).toEqual(['docker.io/trixie']);
  });
});

describe('progress', () => {
  it('reports whole seconds and keeps the end of long output', () => {
    expect(elapsed(1_000, 413_400)).toBe(412);
    expect(tail('a\nb\nc\n', 2)).toBe('b\nc');
  });
});
