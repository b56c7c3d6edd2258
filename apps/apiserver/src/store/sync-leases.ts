/**
 * Expiring, exclusive claims on syncs, so that of several apiserver replicas sharing the syncs folder
 * exactly one works a sync at a time, and another takes it over once the holder stops renewing.
 *
 *   <syncs dir>/<sync id>.lease.<generation>   { owner, expiresAt }
 *
 * The current lease is the highest generation. Taking a sync over creates the next generation with
 * O_EXCL, which exactly one contender can do; only the holder rewrites its own generation (to renew).
 * A holder that was paused past its expiry learns at its next renewal that it lost the sync; until
 * then two replicas may work it for at most one renewal period, which is harmless because a sync
 * stores content-addressed records and changes nothing the second time.
 */
import { open, readdir, readFile, rm, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from './durable-fs';

/** How long a lease file created but never written still counts as held. */
const UNWRITTEN_LEASE_MS = 60_000;

interface Lease {
  readonly generation: number;
  readonly owner: string;
  /** Milliseconds since the epoch. */
  readonly expiresAt: number;
}

export class SyncLeases {
  constructor(private readonly dir: string, private readonly now: () => number = Date.now) {}

  /** Whether `owner` now holds the sync `id` for `ttlMs`: it is free, expired, or `owner`'s already. */
  async claim(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const current = await this.current(id);
    if (current?.owner === owner) return this.renew(id, owner, ttlMs);
    if (current && current.expiresAt > this.now()) return false;
    const generation = (current?.generation ?? 0) + 1;
    try {
      const handle = await open(this.file(id, generation), 'wx', 0o600);
      try {
        await handle.writeFile(JSON.stringify({ owner, expiresAt: this.now() + ttlMs }));
        await handle.sync();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw error;
    }
    if (current) await rm(this.file(id, current.generation), { force: true });
    return true;
  }

  /** Extends `owner`'s lease; false when it no longer holds it. */
  async renew(id: string, owner: string, ttlMs: number): Promise<boolean> {
    const current = await this.current(id);
    if (current?.owner !== owner) return false;
    await writeFileAtomic(this.file(id, current.generation), Buffer.from(JSON.stringify({ owner, expiresAt: this.now() + ttlMs })));
    return true;
  }

  /** Gives the sync up, if `owner` holds it, for another replica to take at once. */
  async release(id: string, owner: string): Promise<void> {
    const current = await this.current(id);
    if (current?.owner === owner) await rm(this.file(id, current.generation), { force: true });
  }

  private async current(id: string): Promise<Lease | undefined> {
    const prefix = `${id}.lease.`;
    const generations = (await readdir(this.dir))
      .filter((name) => name.startsWith(prefix) && /^\d+$/.test(name.slice(prefix.length)))
      .map((name) => Number(name.slice(prefix.length)));
    if (generations.length === 0) return undefined;
    const generation = Math.max(...generations);
    try {
      const { owner, expiresAt } = JSON.parse(await readFile(this.file(id, generation), 'utf8')) as { owner: string; expiresAt: number };
      return { generation, owner, expiresAt };
    } catch (error) {
      // Created but not yet written by the contender that won it: taken, unless that contender died there.
      if (error instanceof SyntaxError) return { generation, owner: '(being claimed)', expiresAt: (await stat(this.file(id, generation))).mtimeMs + UNWRITTEN_LEASE_MS };
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return this.current(id);
      throw error;
    }
  }

  private file(id: string, generation: number): string {
    return path.join(this.dir, `${id}.lease.${generation}`);
  }
}
