/**
 * File system operations that survive a crash. Replacing a file: the new content goes to a temporary file in the same directory,
 * is fsynced, renamed over the target, and the directory is fsynced so the rename itself is
 * durable. After a crash a reader sees the old file or the new one, never a prefix; the only
 * debris is temporary files, which `removeTempFiles` deletes and listings skip.
 */
import { randomBytes } from 'node:crypto';
import { access, mkdir, open, readdir, rename, rm, unlink } from 'node:fs/promises';
import path from 'node:path';

const TEMP_PREFIX = '.tmp-';

export function isTempFile(name: string): boolean {
  return name.startsWith(TEMP_PREFIX);
}

export async function writeFileAtomic(file: string, content: Uint8Array): Promise<void> {
  const dir = path.dirname(file);
  const temp = path.join(dir, `${TEMP_PREFIX}${randomBytes(8).toString('hex')}`);
  const handle = await open(temp, 'wx', 0o600);
  try {
    await handle.writeFile(content);
    await handle.sync();
  } catch (error) {
    await handle.close();
    await rm(temp, { force: true });
    throw error;
  }
  await handle.close();
  try {
    await rename(temp, file);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
  await syncDirectory(dir);
}

/** Removes `file` durably; false when it did not exist. */
export async function removeFileDurably(file: string): Promise<boolean> {
  try {
    await unlink(file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return false;
    throw error;
  }
  await syncDirectory(path.dirname(file));
  return true;
}

/** Creates `dir` (and missing parents) and makes every new directory entry durable. */
export async function ensureDirectory(dir: string): Promise<void> {
  const created = await mkdir(dir, { recursive: true, mode: 0o700 });
  if (created === undefined) return;
  const first = path.resolve(created);
  for (let entry = path.resolve(dir); ; entry = path.dirname(entry)) {
    await syncDirectory(path.dirname(entry));
    if (entry === first || entry === path.dirname(entry)) return;
  }
}

/** Deletes the temporary files an interrupted write left in `dir`; returns how many. */
export async function removeTempFiles(dir: string): Promise<number> {
  const leftovers = (await readdir(dir)).filter(isTempFile);
  await Promise.all(leftovers.map((name) => rm(path.join(dir, name), { force: true })));
  return leftovers.length;
}

export async function fileExists(file: string): Promise<boolean> {
  try {
    await access(file);
    return true;
  } catch {
    return false;
  }
}

async function syncDirectory(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}
