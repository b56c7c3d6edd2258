/**
 * Host programs and libraries the builds need beyond Go and gcc: debootstrap (the base image) and
 * libseccomp's headers (runc, built with cgo). The system's are used when present; otherwise the
 * bookworm packages are fetched from Debian's mirror into the cache folder (a private apt state, see
 * engine/debs.ts) and used from there, so nothing is installed on the system.
 */
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { extractDebs, fetchDebs, type DebRequest } from '../engine/debs';
import { run, timed, type Log } from '../engine/progress';
import { findOnPath } from '../tools';

export interface HostTools {
  /** The debootstrap program and the environment it runs with. */
  readonly debootstrap: { readonly program: string; readonly env: Readonly<Record<string, string>> };
  /** Environment for cgo builds that link libseccomp (empty when the system's is used). */
  readonly seccompEnv: Readonly<Record<string, string>>;
}

const PRIVATE_PACKAGES: readonly DebRequest[] = [
  { name: 'debootstrap', suite: 'bookworm' },
  { name: 'libseccomp-dev', suite: 'bookworm' },
  { name: 'libseccomp2', suite: 'bookworm' },
];

function privateRoot(cacheDir: string): string {
  const key = createHash('sha256').update(JSON.stringify(PRIVATE_PACKAGES)).update(readFileSync(__filename)).digest('hex').slice(0, 16);
  return path.join(cacheDir, 'host-tools', key);
}

export async function ensureHostTools(cacheDir: string, aptDir: string, log: Log, prefix: string): Promise<HostTools> {
  const systemDebootstrap = findOnPath('debootstrap', { PATH: `${process.env.PATH ?? ''}:/usr/sbin:/sbin` });
  const systemSeccomp = !(await run('pkg-config', ['--exists', 'libseccomp'], { allowFailure: true })).failed;
  if (systemDebootstrap !== undefined && systemSeccomp) {
    return { debootstrap: { program: systemDebootstrap, env: {} }, seccompEnv: {} };
  }
  const dir = privateRoot(cacheDir);
  const root = path.join(dir, 'root');
  const stamp = path.join(dir, 'packages.json');
  if (!existsSync(stamp)) {
    await timed(log, prefix, `fetching ${PRIVATE_PACKAGES.map((p) => p.name).join(', ')} (bookworm) into ${dir}`, async () => {
      rmSync(dir, { recursive: true, force: true });
      const debs = await fetchDebs(aptDir, PRIVATE_PACKAGES, path.join(dir, 'debs'), log);
      await extractDebs(debs, root);
      rmSync(path.join(dir, 'debs'), { recursive: true, force: true });
      writeFileSync(stamp, `${JSON.stringify(debs.map(({ name, version }) => ({ name, version })), null, 2)}\n`);
    });
  }
  const libDir = path.join(root, 'usr', 'lib', 'x86_64-linux-gnu');
  return {
    debootstrap:
      systemDebootstrap !== undefined
        ? { program: systemDebootstrap, env: {} }
        : { program: path.join(root, 'usr', 'sbin', 'debootstrap'), env: { DEBOOTSTRAP_DIR: path.join(root, 'usr', 'share', 'debootstrap') } },
    seccompEnv: systemSeccomp
      ? {}
      : {
          PKG_CONFIG_PATH: path.join(libDir, 'pkgconfig'),
          PKG_CONFIG_SYSROOT_DIR: root,
          CGO_LDFLAGS: `-L${libDir}`,
        },
  };
}
