import { mkdtemp, readdir, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { SyncLeases } from '../src/store/sync-leases';

const ID = '11111111-2222-4333-8444-555555555555';

async function leases(now: () => number = Date.now): Promise<{ dir: string; leases: SyncLeases }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'dirtk-leases-'));
  return { dir, leases: new SyncLeases(dir, now) };
}

describe('sync leases', () => {
  it('gives a free sync to one owner, refuses it to others while held, and renews it for its holder', async () => {
    const { leases: l } = await leases();
    expect(await l.claim(ID, 'a', 10_000)).toBe(true);
    expect(await l.claim(ID, 'b', 10_000)).toBe(false);
    expect(await l.claim(ID, 'a', 10_000)).toBe(true);
    expect(await l.renew(ID, 'b', 10_000)).toBe(false);
    expect(await l.renew(ID, 'a', 10_000)).toBe(true);
  });

  it('lets another owner take an expired lease, after which the old holder cannot renew it', async () => {
    let now = 1_000;
    const { dir, leases: l } = await leases(() => now);
    expect(await l.claim(ID, 'a', 500)).toBe(true);
    now = 1_400;
    expect(await l.claim(ID, 'b', 500)).toBe(false);
    now = 1_600;
    expect(await l.claim(ID, 'b', 500)).toBe(true);
    expect(await l.renew(ID, 'a', 500)).toBe(false);
    expect(await readdir(dir)).toEqual([`${ID}.lease.2`]);
  });

  it('gives an expired lease to exactly one of many contenders at once', async () => {
    let now = 1_000;
    const { leases: l } = await leases(() => now);
    await l.claim(ID, 'dead', 100);
    now = 5_000;
    const won = await Promise.all(Array.from({ length: 12 }, (_, i) => l.claim(ID, `replica-${i}`, 1_000)));
    expect(won.filter(Boolean)).toHaveLength(1);
  });

  it('frees a sync on release, for another owner to take at once', async () => {
    const { leases: l } = await leases();
    await l.claim(ID, 'a', 60_000);
    await l.release(ID, 'b');
    expect(await l.claim(ID, 'b', 60_000)).toBe(false);
    await l.release(ID, 'a');
    expect(await l.claim(ID, 'b', 60_000)).toBe(true);
  });

  it('counts a lease file its creator never wrote as held for a minute, then as abandoned', async () => {
    const { dir, leases: l } = await leases();
    const file = path.join(dir, `${ID}.lease.1`);
    await writeFile(file, '');
    expect(await l.claim(ID, 'b', 1_000)).toBe(false);
    const longAgo = new Date(Date.now() - 120_000);
    await utimes(file, longAgo, longAgo);
    expect(await l.claim(ID, 'b', 1_000)).toBe(true);
  });
});
