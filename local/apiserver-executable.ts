/**
 * The apiserver's own copy of the Node binary. SPIRE's unix workload attestor tells processes of one
 * user apart only by their executable (`unix:path`, read from `/proc/<pid>/exe`), and dirctl, SDKs and the
 * apiserver are all Node: run from a copy at a path nothing else uses, the apiserver is the one process
 * whose path matches its entry. A copy rather than a hard link: the kernel's protected_hardlinks refuses a
 * link to a Node binary the user does not own, and a link across file systems is impossible.
 */
import { chmodSync, constants, copyFileSync, mkdirSync, realpathSync } from 'node:fs';
import path from 'node:path';

/** Copies the running Node binary to `file` (owner-only folder, read and execute for the owner) and returns its real path. */
export function prepareApiServerExecutable(file: string): string {
  mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
  copyFileSync(process.execPath, file, constants.COPYFILE_FICLONE);
  chmodSync(file, 0o500);
  // What the attestor reads names the real path, through any symbolic link in the state folder's path.
  return realpathSync(file);
}
