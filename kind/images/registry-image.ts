/**
 * The registry image `dirtk/registry:dev`: the base image plus the project's Distribution build
 * (`registry/build/install.ts`), made like the other workload images (`docker create` of the base,
 * `docker cp` of a staged tree, `docker commit`), nothing pulled. Its recipe lives here, with its own
 * key (this file, the base image's key and the binary's content), so that adding it leaves every other
 * image's key alone.
 */
import { createHash } from 'node:crypto';
import { chmodSync, copyFileSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import path from 'node:path';
import { DIRECTORY_REGISTRY, REGISTRY_IMAGE } from '../../constructs/directory-registry';
import { run } from '../engine/progress';
import { changeArgs, copyTreeInto, imageRecipeKey, type ImageConfig } from './docker';
import { contentHash } from './images';
import { RECIPE_KEY_LABEL } from './versions';

const CONFIG: ImageConfig = {
  user: `${REGISTRY_IMAGE.uid}:${REGISTRY_IMAGE.uid}`,
  expose: [String(DIRECTORY_REGISTRY.port)],
  labels: {
    'org.opencontainers.image.title': 'dirtk-registry',
    'org.opencontainers.image.description': 'CNCF Distribution registry, built by dirtk from the Go module proxy',
    'org.opencontainers.image.licenses': 'Apache-2.0',
  },
  entrypoint: [REGISTRY_IMAGE.binary],
  // The base's CMD must not leak in: the manifests give `serve <config>`.
  cmd: [],
};

/** Key of the registry image: this recipe, the base image and the registry binary. */
export function registryImageKey(baseKey: string, registryBinHash: string): string {
  return createHash('sha256').update(JSON.stringify({ baseKey, registryBinHash })).update(readFileSync(__filename)).digest('hex').slice(0, 16);
}

/** Builds `dirtk/registry:dev` on `base` from `registryBin` unless an image with its key is there; returns whether it built. */
export async function ensureRegistryImage(docker: string, base: { readonly tag: string; readonly key: string }, registryBin: string, stagingRoot: string): Promise<boolean> {
  const key = registryImageKey(base.key, contentHash(registryBin));
  if ((await imageRecipeKey(docker, REGISTRY_IMAGE.tag)) === key) return false;
  const staging = path.join(stagingRoot, `registry-${process.pid}`);
  const container = `dirtk-image-registry-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  const target = path.join(staging, REGISTRY_IMAGE.binary);
  mkdirSync(path.dirname(target), { recursive: true, mode: 0o755 });
  copyFileSync(registryBin, target);
  chmodSync(target, 0o755);
  await run(docker, ['rm', '-f', container], { allowFailure: true });
  try {
    await run(docker, ['create', '--name', container, base.tag, '/bin/true']);
    await copyTreeInto(docker, container, staging);
    await run(docker, ['commit', ...changeArgs({ ...CONFIG, labels: { ...CONFIG.labels, [RECIPE_KEY_LABEL]: key } }), container, REGISTRY_IMAGE.tag]);
  } finally {
    await run(docker, ['rm', '-f', container], { allowFailure: true });
    rmSync(staging, { recursive: true, force: true });
  }
  return true;
}
