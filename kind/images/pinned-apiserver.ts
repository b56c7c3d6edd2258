/**
 * The apiserver image under a name that cannot move, and an impostor of it. `dirtk/apiserver:dev` is
 * rebuilt in place, so the clusters run it as `dirtk/apiserver:<first 16 hex digits of its image ID>`, and
 * the topology ties the apiserver's SPIFFE ID to that image ID (`apiserver.imageId`: what the kubelet
 * reports for an image loaded with `kind load`, `sha256:<config digest>`). The impostor is the same
 * filesystem with one more label, hence another image ID: the Kind test runs it under the apiserver's
 * service account to show that such a pod gets no identity.
 */
import { run } from '../engine/progress';
import { WORKLOAD_IMAGES } from './versions';

export interface PinnedApiServerImage {
  /** Content-addressed tag of the apiserver image. */
  readonly image: string;
  /** `sha256:<config digest>`, as the kubelet reports it for the loaded image. */
  readonly imageId: string;
  /** The apiserver's files under another image ID. */
  readonly impostor: string;
}

const IMAGE_ID = /^sha256:[a-f0-9]{64}$/;

/** The names `imageId` gives the apiserver image and its impostor. */
export function pinnedNames(imageId: string): PinnedApiServerImage {
  if (!IMAGE_ID.test(imageId)) throw new Error(`docker reported image ID ${JSON.stringify(imageId)}; expected sha256:<64 hex digits>`);
  const short = imageId.slice('sha256:'.length, 'sha256:'.length + 16);
  const repository = WORKLOAD_IMAGES.apiserver.slice(0, WORKLOAD_IMAGES.apiserver.lastIndexOf(':'));
  return { image: `${repository}:${short}`, imageId, impostor: `${repository}-impostor:${short}` };
}

/** Tags the built apiserver image by its ID and makes its impostor (once per image ID). */
export async function pinApiServerImage(docker: string, built: string = WORKLOAD_IMAGES.apiserver): Promise<PinnedApiServerImage> {
  const imageId = (await run(docker, ['image', 'inspect', '--format', '{{.Id}}', built])).stdout.trim();
  const pinned = pinnedNames(imageId);
  await run(docker, ['tag', built, pinned.image]);
  const existing = await run(docker, ['image', 'inspect', '--format', '{{.Id}}', pinned.impostor], { allowFailure: true });
  if (existing.failed) {
    const container = (await run(docker, ['create', pinned.image])).stdout.trim();
    try {
      await run(docker, ['commit', '--change', 'LABEL dirtk.impostor-of=' + JSON.stringify(imageId), container, pinned.impostor]);
    } finally {
      await run(docker, ['rm', container], { allowFailure: true });
    }
  }
  return pinned;
}

/** Removes the pinned tags and impostors of earlier apiserver builds, keeping `current`'s. */
export async function prunePinnedApiServerImages(docker: string, current: PinnedApiServerImage): Promise<void> {
  const keep = new Set([current.image, current.impostor]);
  for (const repository of [current.image, current.impostor].map((name) => name.slice(0, name.lastIndexOf(':')))) {
    const listed = await run(docker, ['image', 'ls', '--format', '{{.Repository}}:{{.Tag}}', repository]);
    const stale = listed.stdout.split('\n').map((line) => line.trim()).filter((name) => name !== '' && name !== WORKLOAD_IMAGES.apiserver && !keep.has(name));
    if (stale.length > 0) await run(docker, ['rmi', ...stale], { allowFailure: true });
  }
}
