/**
 * Sync operations, one JSON file each (`<syncs dir>/<sync id>.json`), replaced atomically on
 * every change. Nothing here runs a sync: a reconciler moves them through their statuses.
 */
import { randomUUID } from 'node:crypto';
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { isTempFile, removeFileDurably, writeFileAtomic } from './durable-fs';
import { parseCid } from '@dirtk/directory-api/cid';
import { compareKeys } from './compare';
import { StoreError } from './errors';
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
}

export interface Page {
  /** 0 or absent: no limit. */
  readonly limit?: number;
  readonly offset?: number;
}

const SYNC_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const SUFFIX = '.json';
const MAX_URL_LENGTH = 2048;

export class SyncStore {
  constructor(private readonly dir: string, private readonly now: () => Date) {}

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

  async delete(id: string): Promise<void> {
    checkId(id);
    if (!(await removeFileDurably(this.file(id)))) throw notFound(id);
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
