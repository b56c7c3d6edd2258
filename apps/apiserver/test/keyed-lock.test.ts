import { describe, expect, it } from 'vitest';
import { KeyedLock } from '../src/store/keyed-lock';

const tick = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('KeyedLock', () => {
  it('runs operations on one key one at a time, in call order, even after a failure', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    const op = (name: string, fail = false) => async () => {
      events.push(`start ${name}`);
      await tick();
      events.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
    const results = await Promise.allSettled([lock.run('k', op('a')), lock.run('k', op('b', true)), lock.run('k', op('c'))]);
    expect(events).toEqual(['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
  });

  it('runs different keys concurrently', async () => {
    const lock = new KeyedLock();
    const events: string[] = [];
    let release: () => void = () => undefined;
    const blocked = lock.run('a', () => new Promise<void>((resolve) => (release = resolve)).then(() => events.push('a done')));
    await lock.run('b', async () => events.push('b done'));
    release();
    await blocked;
    expect(events).toEqual(['b done', 'a done']);
  });
});
