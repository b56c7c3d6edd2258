/**
 * The base of every image we build: a Debian bookworm root filesystem made by `debootstrap
 * --variant=minbase` from Debian's mirror, with what a Kind node needs (kind's own base image installs
 * the same packages on debian-slim), cleaned of docs and apt caches, and imported with `docker import`.
 * The workload images share this one layer; the node image adds its own on top.
 *
 * The rootfs is kept as a tar in `<cache>/kind/rootfs/<key>.tar` (key: suite, packages and this file),
 * so the image can be imported again without debootstrap when the engine's data is gone.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { DEBIAN_MIRROR } from '../engine/debs';
import { run, timed, type Log } from '../engine/progress';
import { changeArgs, imageRecipeKey } from './docker';
import type { HostTools } from './host-tools';
import { baseImageTag, DEBIAN_SUITE, RECIPE_KEY_LABEL } from './versions';

/**
 * Packages beyond minbase. The first lines are kind v0.32.0's base image list (images/base/Dockerfile)
 * less what nothing here uses (nfs-common, open-iscsi, fuse-overlayfs: no network storage, no rootless);
 * then dbus (systemd in a container talks to it), socat (kubectl port-forward), libstdc++6 (node, in the
 * apiserver image), tzdata and netbase.
 */
export const ROOTFS_PACKAGES = [
  'systemd',
  'conntrack',
  'iptables',
  'nftables',
  'iproute2',
  'ethtool',
  'util-linux',
  'mount',
  'kmod',
  'libseccomp2',
  'pigz',
  'e2fsprogs',
  'bash',
  'ca-certificates',
  'curl',
  'jq',
  'procps',
  'dbus',
  'socat',
  'libstdc++6',
  'tzdata',
  'netbase',
] as const;

/** Folders whose contents are removed after debootstrap (docs, manuals, translations, apt caches, logs). */
export const ROOTFS_PRUNE = ['usr/share/doc', 'usr/share/man', 'usr/share/info', 'usr/share/locale', 'var/cache/apt', 'var/lib/apt/lists', 'var/log'] as const;

/** The debootstrap command line. */
export function debootstrapArgs(target: string, mirror = DEBIAN_MIRROR): string[] {
  return ['--variant=minbase', `--include=${ROOTFS_PACKAGES.join(',')}`, DEBIAN_SUITE, target, mirror];
}

export function rootfsKey(): string {
  return createHash('sha256')
    .update(JSON.stringify({ suite: DEBIAN_SUITE, packages: ROOTFS_PACKAGES, prune: ROOTFS_PRUNE }))
    .update(readFileSync(__filename))
    .digest('hex')
    .slice(0, 16);
}

export interface BaseImage {
  readonly tag: string;
  readonly key: string;
  readonly seconds: number;
  readonly cached: boolean;
}

/** The base image, imported from the kept rootfs tar, or debootstrapped first when there is none. */
export async function ensureBaseImage(docker: string, cacheDir: string, tools: HostTools, log: Log, prefix: string): Promise<BaseImage> {
  const key = rootfsKey();
  const tag = baseImageTag(key);
  if ((await imageRecipeKey(docker, tag)) === key) return { tag, key, seconds: 0, cached: true };
  const started = Date.now();
  const dir = path.join(cacheDir, 'rootfs');
  const tar = path.join(dir, `${key}.tar`);
  if (!existsSync(tar)) {
    const target = path.join(dir, `${key}.tmp`);
    await timed(log, prefix, `debootstrap ${DEBIAN_SUITE} (minbase + ${ROOTFS_PACKAGES.length} packages) from ${DEBIAN_MIRROR}`, async () => {
      rmSync(target, { recursive: true, force: true });
      mkdirSync(target, { recursive: true });
      await run(tools.debootstrap.program, debootstrapArgs(target), { env: tools.debootstrap.env });
    });
    await timed(log, prefix, 'pruning and packing the rootfs', async () => {
      await run('bash', ['-c', pruneScript(), 'prune', target]);
      await run('tar', ['--numeric-owner', '--xattrs', '-C', target, '-cf', `${tar}.tmp`, '.']);
      renameSync(`${tar}.tmp`, tar);
      rmSync(target, { recursive: true, force: true });
    });
  }
  await timed(log, prefix, `docker import ${tag}`, async () => {
    await run(docker, [
      'import',
      ...changeArgs({
        env: { PATH: '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' },
        labels: { [RECIPE_KEY_LABEL]: key, 'org.opencontainers.image.description': `Debian ${DEBIAN_SUITE} (debootstrap minbase) for dirtk's Kind images` },
        cmd: ['/bin/bash'],
      }),
      tar,
      tag,
    ]);
  });
  writeFileSync(path.join(dir, `${key}.json`), `${JSON.stringify({ tag, key, packages: ROOTFS_PACKAGES }, null, 2)}\n`);
  return { tag, key, seconds: Math.round((Date.now() - started) / 1000), cached: false };
}

/**
 * Cleans the debootstrapped tree given as `$1`: prunes ROOTFS_PRUNE, and empties what must differ per
 * container (machine-id, hostname, resolv.conf; kind's entrypoint and Docker write them).
 */
export function pruneScript(): string {
  return [
    'set -eu',
    'root="$1"',
    ...ROOTFS_PRUNE.map((dir) => `find "$root/${dir}" -mindepth 1 -delete 2>/dev/null || true`),
    'rm -f "$root"/var/cache/debconf/*-old "$root"/var/lib/dpkg/*-old',
    ': > "$root/etc/machine-id"',
    'rm -f "$root/etc/hostname" "$root/etc/resolv.conf" "$root/var/lib/dbus/machine-id"',
  ].join('\n');
}
