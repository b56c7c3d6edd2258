/**
 * The control-plane and workload images, each the base image plus one layer holding its binaries
 * (`docker create` of the base, `docker cp` of a staged tree, `docker commit` with the image's
 * config). Nothing is pulled and no Dockerfile is involved. Each image carries the key of its inputs
 * in a label, so an image whose key matches is left alone.
 *
 * The apiserver image is the alternative recipe to `apps/apiserver/Dockerfile`: the same layout
 * (`/app` from `dist/apiserver`, owned by root; `/var/lib/dirtk` owned by 65532; uid 65532;
 * entrypoint node), on the debootstrap base with this machine's node binary instead of
 * distroless/nodejs20.
 */
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, copyFileSync, cpSync, mkdirSync, readFileSync, readdirSync, rmSync, statSync } from 'node:fs';
import path from 'node:path';
import { DEFAULT_GRPC_PORT, DEFAULT_HTTP_PORT } from '@dirtk/directory-api/contract';
import { run } from '../engine/progress';
import { changeArgs, copyTreeInto, imageRecipeKey, type ImageConfig } from './docker';
import type { GoBuildName } from './go-builds';
import { CONTROL_PLANE_IMAGES, RECIPE_KEY_LABEL, WORKLOAD_IMAGES } from './versions';

/** Where a file of an image comes from. */
export type FileSource =
  | { readonly kind: 'go'; readonly build: GoBuildName; readonly binary: string }
  | { readonly kind: 'spire'; readonly binary: 'server' | 'agent' | 'controllerManager' }
  | { readonly kind: 'node' }
  | { readonly kind: 'apiserverBundle' };

export interface ImageFile {
  readonly from: FileSource;
  /** Absolute path in the image; a folder source is copied to this folder. */
  readonly to: string;
}

export interface ImageDir {
  readonly path: string;
  readonly uid: number;
  readonly gid: number;
  readonly mode: number;
}

export interface ImageSpec {
  readonly id: string;
  readonly tag: string;
  readonly group: 'control-plane' | 'workload';
  readonly files: readonly ImageFile[];
  readonly dirs?: readonly ImageDir[];
  readonly config: ImageConfig;
}

const goBinary = (build: GoBuildName, binary: string, to: string): ImageFile => ({ from: { kind: 'go', build, binary }, to });

/** A control-plane binary at /usr/local/bin/<name>, which is also the entrypoint (kubeadm's manifests call it by name). */
function kubeImage(id: string, tag: string, binary: string): ImageSpec {
  const to = `/usr/local/bin/${binary}`;
  return { id, tag, group: 'control-plane', files: [goBinary('kubernetes', binary, to)], config: { entrypoint: [to] } };
}

export const IMAGE_SPECS: readonly ImageSpec[] = [
  kubeImage('kube-apiserver', CONTROL_PLANE_IMAGES.kubeApiserver, 'kube-apiserver'),
  kubeImage('kube-controller-manager', CONTROL_PLANE_IMAGES.kubeControllerManager, 'kube-controller-manager'),
  kubeImage('kube-scheduler', CONTROL_PLANE_IMAGES.kubeScheduler, 'kube-scheduler'),
  // kube-proxy calls iptables/nft and conntrack, which the base image has.
  kubeImage('kube-proxy', CONTROL_PLANE_IMAGES.kubeProxy, 'kube-proxy'),
  {
    id: 'etcd',
    tag: CONTROL_PLANE_IMAGES.etcd,
    group: 'control-plane',
    files: [goBinary('etcd', 'etcd', '/usr/local/bin/etcd')],
    config: { cmd: ['/usr/local/bin/etcd'] },
  },
  {
    id: 'coredns',
    tag: CONTROL_PLANE_IMAGES.coredns,
    group: 'control-plane',
    files: [goBinary('coredns', 'coredns', '/coredns')],
    config: { entrypoint: ['/coredns'], expose: ['53', '53/udp'] },
  },
  {
    id: 'pause',
    tag: CONTROL_PLANE_IMAGES.pause,
    group: 'control-plane',
    files: [goBinary('pause', 'pause', '/pause')],
    config: { entrypoint: ['/pause'], user: '65535:65535' },
  },
  {
    id: 'spire-server',
    tag: WORKLOAD_IMAGES.spireServer,
    group: 'workload',
    files: [{ from: { kind: 'spire', binary: 'server' }, to: '/opt/spire/bin/spire-server' }],
    dirs: [{ path: '/opt/spire/data', uid: 1000, gid: 1000, mode: 0o755 }],
    config: { entrypoint: ['/opt/spire/bin/spire-server', 'run'], workdir: '/opt/spire', user: '1000:1000' },
  },
  {
    id: 'spire-agent',
    tag: WORKLOAD_IMAGES.spireAgent,
    group: 'workload',
    files: [{ from: { kind: 'spire', binary: 'agent' }, to: '/opt/spire/bin/spire-agent' }],
    dirs: [{ path: '/opt/spire/data', uid: 1000, gid: 1000, mode: 0o755 }],
    config: { entrypoint: ['/opt/spire/bin/spire-agent', 'run'], workdir: '/opt/spire', user: '1000:1000' },
  },
  {
    id: 'spire-controller-manager',
    tag: WORKLOAD_IMAGES.controllerManager,
    group: 'workload',
    files: [{ from: { kind: 'spire', binary: 'controllerManager' }, to: '/spire-controller-manager' }],
    config: { entrypoint: ['/spire-controller-manager'], user: '65532:65532' },
  },
  {
    id: 'apiserver',
    tag: WORKLOAD_IMAGES.apiserver,
    group: 'workload',
    files: [
      { from: { kind: 'node' }, to: '/nodejs/bin/node' },
      { from: { kind: 'apiserverBundle' }, to: '/app' },
    ],
    dirs: [{ path: '/var/lib/dirtk', uid: 65532, gid: 65532, mode: 0o755 }],
    config: {
      env: { NODE_ENV: 'production', NODE_OPTIONS: '--enable-source-maps', PATH: '/nodejs/bin:/usr/local/bin:/usr/bin:/bin' },
      workdir: '/app',
      user: '65532:65532',
      expose: [String(DEFAULT_GRPC_PORT), String(DEFAULT_HTTP_PORT)],
      labels: {
        'org.opencontainers.image.title': 'dirtk-apiserver',
        'org.opencontainers.image.description': 'Directory apiserver and dirctl with SPIFFE authentication (dirtk)',
        'org.opencontainers.image.licenses': 'Apache-2.0',
      },
      entrypoint: ['/nodejs/bin/node'],
      cmd: ['/app/apiserver.js'],
    },
  },
];

/** Resolves a file source to a path on this machine, with a fingerprint of its content for the key. */
export interface SourceResolver {
  path(source: FileSource): string;
  fingerprint(source: FileSource): string;
}

/** Key of an image: its spec, the base image, the fingerprints of its files and this file. */
export function imageKey(spec: ImageSpec, baseKey: string, sources: SourceResolver): string {
  const hash = createHash('sha256').update(JSON.stringify({ spec, baseKey }));
  for (const file of spec.files) hash.update(sources.fingerprint(file.from));
  hash.update(readFileSync(__filename));
  return hash.digest('hex').slice(0, 16);
}

/** sha256 of a file or of a folder's files (relative names and contents, in order). */
export function contentHash(target: string): string {
  const hash = createHash('sha256');
  const visit = (current: string, relative: string) => {
    const stat = statSync(current);
    if (stat.isDirectory()) {
      for (const entry of readdirSync(current).sort()) visit(path.join(current, entry), path.posix.join(relative, entry));
    } else {
      hash.update(`${relative}\0${stat.mode & 0o777}\0`).update(readFileSync(current));
    }
  };
  visit(target, '.');
  return hash.digest('hex');
}

/** Stages `spec`'s files under `staging` (owners and modes as the image wants them). */
export function stageImage(spec: ImageSpec, staging: string, sources: SourceResolver): void {
  rmSync(staging, { recursive: true, force: true });
  mkdirSync(staging, { recursive: true, mode: 0o755 });
  for (const file of spec.files) {
    const from = sources.path(file.from);
    const to = path.join(staging, file.to);
    mkdirSync(path.dirname(to), { recursive: true, mode: 0o755 });
    if (statSync(from).isDirectory()) {
      cpSync(from, to, { recursive: true });
    } else {
      copyFileSync(from, to);
      chmodSync(to, 0o755);
    }
  }
  for (const dir of spec.dirs ?? []) {
    const target = path.join(staging, dir.path);
    mkdirSync(target, { recursive: true, mode: 0o755 });
    chmodSync(target, dir.mode);
    chownSync(target, dir.uid, dir.gid);
  }
}

/** Builds `spec` on `baseTag` unless an image with its key is there. Returns whether it built. */
export async function ensureImage(docker: string, spec: ImageSpec, baseTag: string, key: string, stagingRoot: string, sources: SourceResolver): Promise<boolean> {
  if ((await imageRecipeKey(docker, spec.tag)) === key) return false;
  const staging = path.join(stagingRoot, `${spec.id}-${process.pid}`);
  const container = `dirtk-image-${spec.id}-${process.pid}`;
  stageImage(spec, staging, sources);
  await run(docker, ['rm', '-f', container], { allowFailure: true });
  try {
    await run(docker, ['create', '--name', container, baseTag, '/bin/true']);
    await copyTreeInto(docker, container, staging);
    const config: ImageConfig = { ...spec.config, labels: { ...spec.config.labels, [RECIPE_KEY_LABEL]: key } };
    // The base's CMD must not leak into an image that sets only an entrypoint.
    await run(docker, ['commit', ...changeArgs({ ...config, cmd: config.cmd ?? [] }), container, spec.tag]);
  } finally {
    await run(docker, ['rm', '-f', container], { allowFailure: true });
    rmSync(staging, { recursive: true, force: true });
  }
  return true;
}
