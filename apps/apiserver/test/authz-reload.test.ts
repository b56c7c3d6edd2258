import { mkdir, mkdtemp, rename, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Policy, PolicyError, PolicyFile, type PolicyFileOptions, PolicyReloadError } from '../src/authz';
import { id, OWN, PULL, PUSH, STORE_SYNC_METHODS } from './authz-fixtures';

const PARTNER = id('spiffe://partner.example/ns/dir/sa/apiserver');
const EVENT_TIMEOUT_MS = 5_000;

const allowFederated = (method: string) => `rules:\n  - allow: { trustDomain: federated, methods: ["${method}"] }\n`;

type ReloadEvent = { kind: 'reload'; policy: Policy } | { kind: 'error'; error: PolicyReloadError };

/** Collects reload events in order and hands them out one at a time, failing after a bounded wait. */
class Events {
  private readonly queued: ReloadEvent[] = [];
  private waiter: ((event: ReloadEvent) => void) | undefined;

  readonly callbacks: Pick<PolicyFileOptions, 'onReload' | 'onError'> = {
    onReload: (policy) => this.push({ kind: 'reload', policy }),
    onError: (error) => this.push({ kind: 'error', error }),
  };

  next(): Promise<ReloadEvent> {
    const event = this.queued.shift();
    if (event !== undefined) return Promise.resolve(event);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no policy reload event within ${EVENT_TIMEOUT_MS} ms`)), EVENT_TIMEOUT_MS);
      this.waiter = (next) => {
        clearTimeout(timer);
        resolve(next);
      };
    });
  }

  private push(event: ReloadEvent): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) waiter(event);
    else this.queued.push(event);
  }
}

describe('PolicyFile', () => {
  let dir: string;
  let events: Events;
  const opened: PolicyFile[] = [];

  const open = async (path: string) => {
    const file = await PolicyFile.open({ path, ownTrustDomain: OWN, knownMethods: STORE_SYNC_METHODS, debounceMs: 20, ...events.callbacks });
    opened.push(file);
    return file;
  };

  /** Replaces the file the way editors do: write a temporary file, then rename it over the original. */
  const replace = async (path: string, text: string) => {
    await writeFile(`${path}.tmp`, text);
    await rename(`${path}.tmp`, path);
  };

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'dirtk-authz-'));
    events = new Events();
  });

  afterEach(async () => {
    for (const file of opened.splice(0)) file.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('applies a valid change', async () => {
    const path = join(dir, 'policy.yaml');
    await writeFile(path, allowFederated(PULL));
    const file = await open(path);
    expect(file.decide(PARTNER, PULL).allowed).toBe(true);
    expect(file.decide(PARTNER, PUSH).allowed).toBe(false);

    await replace(path, allowFederated(PUSH));
    const event = await events.next();
    expect(event.kind).toBe('reload');
    expect(file.decide(PARTNER, PUSH).allowed).toBe(true);
    expect(file.decide(PARTNER, PULL).allowed).toBe(false);
    expect(file.policy).toBe(event.kind === 'reload' ? event.policy : undefined);
  });

  it('applies a change written in place', async () => {
    const path = join(dir, 'policy.csv');
    await writeFile(path, `p,partner.example,${PULL}\n`);
    const file = await open(path);
    await writeFile(path, `p,partner.example,${PUSH}\n`);
    // An in-place write truncates first, so a read may catch the empty file and report it before the full one.
    while ((await events.next()).kind !== 'reload');
    expect(file.decide(PARTNER, PUSH).allowed).toBe(true);
  });

  it('keeps the last good policy when a change is invalid, reports why, and recovers', async () => {
    const path = join(dir, 'policy.yaml');
    await writeFile(path, allowFederated(PULL));
    const file = await open(path);

    await replace(path, allowFederated('/agntcy.dir.sync.v1.SyncService/RequestRegistryCredentials'));
    const event = await events.next();
    if (event.kind !== 'error') throw new Error(`expected an error event, got ${event.kind}`);
    expect(event.error).toBeInstanceOf(PolicyReloadError);
    expect(event.error.cause).toBeInstanceOf(PolicyError);
    expect(event.error.message).toContain(`could not reload ${path}; the previous authorization policy stays in force`);
    expect(event.error.message).toContain('unknown method "/agntcy.dir.sync.v1.SyncService/RequestRegistryCredentials"');
    expect(file.decide(PARTNER, PULL).allowed).toBe(true);

    await replace(path, 'rules: [\n');
    expect((await events.next()).kind).toBe('error');
    expect(file.decide(PARTNER, PULL).allowed).toBe(true);

    await replace(path, allowFederated(PUSH));
    expect((await events.next()).kind).toBe('reload');
    expect(file.decide(PARTNER, PUSH).allowed).toBe(true);
    expect(file.decide(PARTNER, PULL).allowed).toBe(false);
  });

  it('reports a deleted file and keeps enforcing the policy until it returns', async () => {
    const path = join(dir, 'policy.yaml');
    await writeFile(path, allowFederated(PULL));
    const file = await open(path);
    await rm(path);
    const event = await events.next();
    expect(event.kind === 'error' && event.error.message).toContain('ENOENT');
    expect(file.decide(PARTNER, PULL).allowed).toBe(true);
    await replace(path, allowFederated(PUSH));
    expect((await events.next()).kind).toBe('reload');
    expect(file.decide(PARTNER, PUSH).allowed).toBe(true);
  });

  it('follows a Kubernetes ConfigMap update, which swaps the ..data symlink', async () => {
    const writeVersion = async (name: string, text: string) => {
      await mkdir(join(dir, name));
      await writeFile(join(dir, name, 'policy.yaml'), text);
    };
    await writeVersion('..v1', allowFederated(PULL));
    await symlink('..v1', join(dir, '..data'));
    await symlink(join('..data', 'policy.yaml'), join(dir, 'policy.yaml'));
    const file = await open(join(dir, 'policy.yaml'));
    expect(file.decide(PARTNER, PULL).allowed).toBe(true);

    await writeVersion('..v2', allowFederated(PUSH));
    await symlink('..v2', join(dir, '..data_tmp'));
    await rename(join(dir, '..data_tmp'), join(dir, '..data'));
    await rm(join(dir, '..v1'), { recursive: true });
    expect((await events.next()).kind).toBe('reload');
    expect(file.decide(PARTNER, PUSH).allowed).toBe(true);
    expect(file.decide(PARTNER, PULL).allowed).toBe(false);
  });

  it('refuses to start on an invalid file, naming the problem', async () => {
    const path = join(dir, 'policy.csv');
    await writeFile(path, 'p,dir.example,*\np,*,/agntcy.dir.store.v1.StoreService/Pul\n');
    await expect(open(path)).rejects.toThrow(`${path}:2: unknown method "/agntcy.dir.store.v1.StoreService/Pul"`);
  });

  it.each(['policy.json', 'policy'])('refuses a file named %s, whose format is unknown', async (name) => {
    const path = join(dir, name);
    await writeFile(path, 'p,dir.example,*\n');
    await expect(open(path)).rejects.toThrow('name the policy file *.csv');
  });
});
