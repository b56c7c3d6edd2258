/**
 * Sync operations, one JSON file each (`<syncs dir>/<sync id>.json`), replaced atomically on
 * every change; changes to one sync run one at a time. The sync worker (`../sync/worker.ts`) moves
 * them through their statuses:
 *
 *   PENDING → IN_PROGRESS → COMPLETED | FAILED (with its reason)
 *   any of those → DELETE_PENDING (DeleteSync) → DELETED
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isTempFile, writeFileAtomic } from './durable-fs';
import { parseCid } from '@dirtk/directory-api/cid';
import { compareKeys } from './compare';
import { StoreError } from './errors';
import { KeyedLock } from './keyed-lock';
import { SyncLeases } from './sync-leases';
import { isRepositoryName } from './repository-name';

/** The wire enum's names, in its order. */
export const SYNC_STATUSES = [
  'SYNC_STATUS_UNSPECIFIED',
  'SYNC_STATUS_PENDING',
  'SYNC_STATUS_IN_PROGRESS',
  'SYNC_STATUS_FAILED',
  'SYNC_STATUS_DELETE_PENDING',
  'SYNC_STATUS_DELETED',
  'SYNC_STATUS_COMPLETED',
] as const;
export type SyncStatus = (typeof SYNC_STATUSES)[number];

export interface SyncRequest {
  readonly remoteDirectoryUrl: string;
  readonly remoteRegistryUrl: string;
  readonly repositoryName: string;
  /** Empty: everything the remote has. */
  readonly cids: readonly string[];
}

export interface Sync extends SyncRequest {
  readonly id: string;
  readonly status: SyncStatus;
  /** RFC 3339. */
  readonly createdTime: string;
  /** RFC 3339. */
  readonly lastUpdateTime: string;
  /** Why the sync FAILED, or why its last attempt did while it is retried. */
  readonly failureReason?: string;
  /** Records stored by the last attempt (present ones count too). */
  readonly syncedRecords?: number;
}

/** What a status change may also set. */
export type SyncProgress = Pick<Sync, 'failureReason' | 'syncedRecords'>;

/** Statuses the worker still has work to do in (or to stop): resumed after a restart. */
export const UNFINISHED_SYNC_STATUSES: readonly SyncStatus[] = ['SYNC_STATUS_PENDING', 'SYNC_STATUS_IN_PROGRESS', 'SYNC_STATUS_DELETE_PENDING'];

export interface Page {
  /** 0 or absent: no limit. */
  readonly limit?: number;
  readonly offset?: number;
}

const SYNC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUFFIX = '.json';
const MAX_URL_LENGTH = 2048;

export class SyncStore {
  private readonly lock = new KeyedLock();
  /** Which replica works which sync. */
  readonly leases: SyncLeases;

  constructor(private readonly dir: string, private readonly now: () => Date) {
    this.leases = new SyncLeases(dir, () => now().getTime());
  }

  async create(request: SyncRequest): Promise<Sync> {
    if (request.remoteDirectoryUrl === '' && request.remoteRegistryUrl === '') {
      throw new StoreError('invalid-argument', 'a sync needs remote_directory_url or remote_registry_url (or both)');
    }
    checkUrl('remote_directory_url', request.remoteDirectoryUrl);
    checkUrl('remote_registry_url', request.remoteRegistryUrl);
    if (request.repositoryName !== '' && !isRepositoryName(request.repositoryName)) {
      throw new StoreError('invalid-argument', `repository_name ${JSON.stringify(request.repositoryName)} is not an OCI repository name (lowercase path components)`);
    }
    request.cids.forEach((cid) => parseCid(cid));
    const time = this.now().toISOString();
    const sync: Sync = { ...request, cids: [...request.cids], id: randomUUID(), status: 'SYNC_STATUS_PENDING', createdTime: time, lastUpdateTime: time };
    await writeFileAtomic(this.file(sync.id), Buffer.from(JSON.stringify(sync), 'utf8'));
    return sync;
  }

  async get(id: string): Promise<Sync> {
    checkId(id);
    return this.read(this.file(id), id);
  }

  /** Syncs oldest first. */
  async list(page: Page = {}): Promise<Sync[]> {
    const ids = (await readdir(this.dir)).filter((name) => !isTempFile(name) && name.endsWith(SUFFIX)).map((name) => name.slice(0, -SUFFIX.length));
    const syncs = await Promise.all(ids.map((id) => this.read(this.file(id), id)));
    syncs.sort((a, b) => compareKeys([a.createdTime, a.id], [b.createdTime, b.id]));
    const start = page.offset ?? 0;
    return syncs.slice(start, page.limit ? start + page.limit : undefined);
  }

  /**
   * Moves the sync to `to` (with `progress`, which replaces the previous progress) if its status is one
   * of `from`; returns the changed sync, or undefined when its status was another.
   */
  async transition(id: string, from: readonly SyncStatus[], to: SyncStatus, progress: SyncProgress = {}): Promise<Sync | undefined> {
    checkId(id);
    return this.lock.run(id, async () => {
      const { failureReason: _reason, syncedRecords: _synced, ...sync } = await this.read(this.file(id), id);
      if (!from.includes(sync.status)) return undefined;
      const changed: Sync = { ...sync, ...progress, status: to, lastUpdateTime: this.now().toISOString() };
      await writeFileAtomic(this.file(id), Buffer.from(JSON.stringify(changed), 'utf8'));
      return changed;
    });
  }

  /** DeleteSync: asks the worker to stop the sync (DELETE_PENDING); a sync already deleted stays so. */
  async requestDelete(id: string): Promise<Sync> {
    const live = SYNC_STATUSES.filter((status) => status !== 'SYNC_STATUS_DELETE_PENDING' && status !== 'SYNC_STATUS_DELETED');
    return (await this.transition(id, live, 'SYNC_STATUS_DELETE_PENDING')) ?? this.get(id);
  }

  private async read(file: string, id: string): Promise<Sync> {
    let text: string;
    try {
      text = await readFile(file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw notFound(id);
      throw error;
    }
    let sync: Sync;
    try {
      sync = JSON.parse(text) as Sync;
    } catch (error) {
      throw new StoreError('corrupt', `sync ${id} on disk (${file}) is not JSON: ${(error as Error).message}`);
    }
    if (sync.id !== id || !SYNC_STATUSES.includes(sync.status)) throw new StoreError('corrupt', `sync ${id} on disk (${file}) is not a sync record`);
    return sync;
  }

  private file(id: string): string {
    return path.join(this.dir, `${id}${SUFFIX}`);
  }
}

function checkId(id: string): void {
  if (!SYNC_ID.test(id)) throw new StoreError('invalid-argument', `sync_id ${JSON.stringify(id)} is not a sync ID (a lowercase UUID)`);
}

function checkUrl(field: string, url: string): void {
  if (url.length > MAX_URL_LENGTH) throw new StoreError('invalid-argument', `${field} is longer than ${MAX_URL_LENGTH} characters`);
  if (/[\s\u0000-\u001f\u007f]/.test(url)) throw new StoreError('invalid-argument', `${field} ${JSON.stringify(url)} contains whitespace or control characters`);
}

function notFound(id: string): StoreError {
  return new StoreError('not-found', `sync ${id} not found`);
}
