/**
 * The sync worker: runs the syncs CreateSync records, pulling a peer Directory's records into this
 * one's store.
 *
 * One pass: ask the peer (SPIFFE mTLS, pinned to its apiserver ID; see sync-peers.ts) for pull
 * credentials, which are used at the registry the peer advertises with them and nowhere else (a sync
 * naming another `remote_registry_url` FAILs); list its repository when the sync names no CIDs; pull each record this store does
 * not hold yet through the registry's token flow; store it, and check it is stored under the CID it
 * was asked for (the peer's registry content is verified against the CID as it is read). Then each
 * record's referrers (signatures, public keys, scan reports) that this store lacks, each checked to
 * keep its CID here; referrers of types the Directory does not know are left out, with a warning.
 * Records and referrers already here are not pulled again, so a pass repeated changes nothing.
 *
 * Statuses (syncs.ts): PENDING → IN_PROGRESS → COMPLETED, or FAILED with the reason once a failure
 * no retry can fix occurs or `maxAttempts` passes failed (exponential backoff between them).
 * Credentials refused mid-pass (they expired) are requested again. On start the worker resumes every
 * unfinished sync; on close it stops without changing their status, so the next start resumes them.
 * DeleteSync stops a sync and marks it DELETED.
 *
 * Replicas sharing the syncs folder each run a worker: a sync is worked only under its lease
 * (store/sync-leases.ts), renewed while it runs, and every worker looks for unfinished syncs whose
 * holder stopped renewing, so a sync is worked by exactly one replica at a time and survives the loss
 * of the one working it.
 */
import { hostname } from 'node:os';
import type { JsonObject } from '@dirtk/directory-api/cid';
import { isReferrerType } from '@dirtk/directory-api/contract';
import type { Logger } from '../observability/logger';
import { StoreError } from '../store/errors';
import { OciRecordStore, RegistryCredentialsRefusedError } from '../store/oci/oci-records';
import { tokenFlowTokens } from '../store/oci/token-sources';
import type { Records, Referrer } from '../store/records-api';
import { type Sync, type SyncStatus, type SyncStore, UNFINISHED_SYNC_STATUSES } from '../store/syncs';
import { type PeerRegistryCredentials, PermanentSyncError, type RequestPeerCredentials } from './remote-directory';
import type { SyncPeer, SyncPeers } from './sync-peers';

/** What a pass reads from a peer's registry. */
export interface PeerRegistry {
  /** Every record CID in the repository. */
  cids(): Promise<string[]>;
  /** The record and its referrers, each verified against its CID. */
  getWithReferrers(cid: string): Promise<{ record: JsonObject; referrers: Referrer[] }>;
  /** The record's referrers, each verified against its CID. */
  referrers(recordCid: string): Promise<Referrer[]>;
}

export interface SyncRetry {
  /** Passes before a sync FAILs. @default 5 */
  readonly maxAttempts?: number;
  /** Wait after the first failed pass, doubled after each next one. @default 1000 */
  readonly baseDelayMs?: number;
  /** @default 30000 */
  readonly maxDelayMs?: number;
}

/** The remote Directories syncs may pull from, and how to ask one of them for registry credentials. */
export interface SyncSources {
  readonly peers: SyncPeers;
  readonly requestCredentials: RequestPeerCredentials;
}

export interface SyncWorkerOptions {
  readonly syncs: SyncStore;
  /** Where pulled records are stored. */
  readonly records: Records;
  /** The remote Directories syncs may pull from. @default none: every sync FAILs, naming its unknown peer */
  readonly sources?: SyncSources;
  readonly logger: Logger;
  readonly retry?: SyncRetry;
  /** Records pulled at once within a sync. @default 8 */
  readonly concurrency?: number;
  /** How a peer's registry is read with its credentials. @default the OCI record store over the token flow */
  readonly openPeerRegistry?: (credentials: PeerRegistryCredentials) => PeerRegistry;
  /**
   * This replica, as its leases name it: unique among replicas, and the same after a restart so that
   * a restarted replica takes its own unfinished syncs back at once. @default the host name (a pod's name)
   */
  readonly owner?: string;
  /** Lifetime of a sync's lease, renewed every third of it; also how often unfinished syncs are looked for. @default 30000 */
  readonly leaseMs?: number;
}

const WORKING: readonly SyncStatus[] = ['SYNC_STATUS_PENDING', 'SYNC_STATUS_IN_PROGRESS'];
const IN_PROGRESS: readonly SyncStatus[] = ['SYNC_STATUS_IN_PROGRESS'];
/** Renewals of refused credentials in a row, with no successful read between; more means the peer keeps issuing unusable ones. */
const MAX_RENEWALS_IN_A_ROW = 3;

export class SyncWorker {
  private readonly running = new Map<string, { readonly controller: AbortController; readonly done: Promise<void> }>();
  private readonly maxAttempts: number;
  private readonly baseDelayMs: number;
  private readonly maxDelayMs: number;
  private readonly concurrency: number;
  private readonly openPeerRegistry: (credentials: PeerRegistryCredentials) => PeerRegistry;
  private readonly owner: string;
  private readonly leaseMs: number;
  private rescan: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: SyncWorkerOptions) {
    this.maxAttempts = options.retry?.maxAttempts ?? 5;
    this.baseDelayMs = options.retry?.baseDelayMs ?? 1_000;
    this.maxDelayMs = options.retry?.maxDelayMs ?? 30_000;
    this.concurrency = options.concurrency ?? 8;
    this.openPeerRegistry = options.openPeerRegistry ?? openOciPeerRegistry;
    this.owner = options.owner ?? hostname();
    this.leaseMs = options.leaseMs ?? 30_000;
  }

  /** Resumes every unfinished sync, and from then on those another replica stopped working. */
  async start(): Promise<void> {
    await this.scheduleUnfinished();
    this.rescan = setInterval(() => {
      this.scheduleUnfinished().catch((error: Error) => this.options.logger.warn('looking for unfinished syncs failed', { error: error.message }));
    }, this.leaseMs);
    this.rescan.unref();
  }

  private async scheduleUnfinished(): Promise<void> {
    for (const sync of await this.options.syncs.list()) {
      if (UNFINISHED_SYNC_STATUSES.includes(sync.status)) this.schedule(sync.id);
    }
  }

  /** Starts working the sync `id` unless it is being worked already. */
  schedule(id: string): void {
    if (this.closed || this.running.has(id)) return;
    const controller = new AbortController();
    const done = this.work(id, controller)
      .catch((error: Error) => this.options.logger.error('sync worker failed', { sync_id: id, error: error.message }))
      .finally(() => this.running.delete(id));
    this.running.set(id, { controller, done });
  }

  /** DeleteSync: stops the sync if it runs and marks it DELETED. */
  async delete(id: string): Promise<void> {
    await this.options.syncs.requestDelete(id);
    const run = this.running.get(id);
    if (run) {
      run.controller.abort();
      await run.done;
    }
    await this.options.syncs.transition(id, ['SYNC_STATUS_DELETE_PENDING'], 'SYNC_STATUS_DELETED');
  }

  /** Resolves once no sync is being worked; for tests and shutdown. */
  async idle(): Promise<void> {
    while (this.running.size > 0) await Promise.all([...this.running.values()].map((run) => run.done));
  }

  /** Stops every sync where it is, leaving its status for the next start (or another replica) to resume. */
  async close(): Promise<void> {
    this.closed = true;
    clearInterval(this.rescan);
    for (const run of this.running.values()) run.controller.abort();
    await this.idle();
  }

  /** Works the sync under its lease; stops when the lease is lost or the sync deleted. */
  private async work(id: string, stop: AbortController): Promise<void> {
    const { leases } = this.options.syncs;
    if (!(await leases.claim(id, this.owner, this.leaseMs))) return;
    const renewal = setInterval(() => {
      void (async () => {
        const held = await leases.renew(id, this.owner, this.leaseMs);
        const { status } = await this.options.syncs.get(id);
        if (!held || !WORKING.includes(status)) stop.abort();
      })().catch(() => stop.abort());
    }, this.leaseMs / 3);
    try {
      await this.workClaimed(id, stop.signal);
    } finally {
      clearInterval(renewal);
      await leases.release(id, this.owner);
    }
  }

  private async workClaimed(id: string, signal: AbortSignal): Promise<void> {
    const { syncs, logger } = this.options;
    const sync = await syncs.get(id);
    if (sync.status === 'SYNC_STATUS_DELETE_PENDING') {
      await syncs.transition(id, ['SYNC_STATUS_DELETE_PENDING'], 'SYNC_STATUS_DELETED');
      return;
    }
    if (!WORKING.includes(sync.status)) return;
    const sources = this.options.sources;
    const peer = sources?.peers.peerAt(sync.remoteDirectoryUrl);
    if (!sources || !peer) {
      const configured = sources?.peers.addresses ?? [];
      await this.fail(sync, `remote_directory_url ${JSON.stringify(sync.remoteDirectoryUrl)} is not a configured sync peer (${configured.length > 0 ? `configured: ${configured.join(', ')}` : 'none is configured'})`);
      return;
    }
    if (!(await syncs.transition(id, WORKING, 'SYNC_STATUS_IN_PROGRESS'))) return;
    logger.info('sync started', { sync_id: id, peer: peer.address, peer_id: peer.apiserverId.toString(), cids: sync.cids.length || 'all' });

    for (let attempt = 1; ; attempt++) {
      try {
        const syncedRecords = await this.pass(sync, peer, sources.requestCredentials, signal);
        if (await syncs.transition(id, IN_PROGRESS, 'SYNC_STATUS_COMPLETED', { syncedRecords })) logger.info('sync completed', { sync_id: id, records: syncedRecords, attempts: attempt });
        return;
      } catch (error) {
        if (signal.aborted) return;
        const reason = (error as Error).message;
        if (error instanceof PermanentSyncError || attempt >= this.maxAttempts) {
          await this.fail(sync, attempt >= this.maxAttempts && !(error instanceof PermanentSyncError) ? `${reason} (gave up after ${attempt} attempts)` : reason);
          return;
        }
        const delayMs = Math.min(this.maxDelayMs, this.baseDelayMs * 2 ** (attempt - 1));
        logger.warn('sync attempt failed; retrying', { sync_id: id, attempt, max_attempts: this.maxAttempts, retry_in_ms: delayMs, error: reason });
        if (!(await syncs.transition(id, IN_PROGRESS, 'SYNC_STATUS_IN_PROGRESS', { failureReason: `attempt ${attempt} of ${this.maxAttempts}: ${reason}` }))) return;
        if (!(await sleep(delayMs, signal))) return;
      }
    }
  }

  /** One pass over the sync's records; returns how many the store now holds. */
  private async pass(sync: Sync, peer: SyncPeer, requestCredentials: RequestPeerCredentials, signal: AbortSignal): Promise<number> {
    let renewals = 0;
    const connect = async () => {
      const credentials = await requestCredentials(peer, signal);
      if (sync.repositoryName !== '' && sync.repositoryName !== credentials.repository) {
        throw new PermanentSyncError(`the sync names repository ${sync.repositoryName}, but ${peer.address} grants pulls of ${credentials.repository} only`);
      }
      if (sync.remoteRegistryUrl !== '' && hostOf(sync.remoteRegistryUrl) !== hostOf(credentials.registryUrl)) {
        throw new PermanentSyncError(
          `remote_registry_url ${sync.remoteRegistryUrl} is not the registry ${peer.address} advertises (${credentials.registryUrl}); its credentials go to its own registry only`,
        );
      }
      return { registry: this.openPeerRegistry(credentials), registryUrl: credentials.registryUrl };
    };
    let current = connect();
    /** Runs `read` on the peer's registry, with new credentials once when the current ones are refused. */
    const fromPeer = async <T>(read: (registry: PeerRegistry) => Promise<T>): Promise<T> => {
      const used = current;
      try {
        const result = await read((await used).registry);
        renewals = 0;
        return result;
      } catch (error) {
        if (!(error instanceof RegistryCredentialsRefusedError)) throw error;
        if (current === used) {
          if (++renewals > MAX_RENEWALS_IN_A_ROW) throw error;
          this.options.logger.info('registry credentials refused; requesting new ones', { sync_id: sync.id, peer: peer.address, error: error.message });
          current = connect();
        }
        return read((await current).registry);
      }
    };

    const cids = sync.cids.length > 0 ? sync.cids : await fromPeer((registry) => registry.cids());
    const { registryUrl } = await current;
    await forEachConcurrently(cids, this.concurrency, signal, async (cid) => {
      if (await this.holds(cid)) {
        // A record the peer has deleted since is kept here, and has no referrers there to bring.
        const theirs = await fromPeer((registry) => registry.referrers(cid)).catch((error: unknown) => {
          if (error instanceof StoreError && error.reason === 'not-found') return [];
          throw error;
        });
        await this.copyReferrers(sync, cid, theirs, registryUrl);
        return;
      }
      const { record, referrers } = await fromPeer((registry) => registry.getWithReferrers(cid));
      const stored = await this.options.records.put(record);
      if (stored !== cid) {
        throw new PermanentSyncError(`record ${cid} from ${registryUrl} is not in canonical form: it is stored here as ${stored}, so it was not kept`);
      }
      await this.copyReferrers(sync, cid, referrers, registryUrl);
    });
    return cids.length;
  }

  /** Stores those of `theirs` (a record's referrers at the peer) this store lacks. */
  private async copyReferrers(sync: Sync, recordCid: string, theirs: readonly Referrer[], registryUrl: string): Promise<void> {
    if (theirs.length === 0) return;
    const ours = new Set((await this.options.records.referrers(recordCid)).map((referrer) => referrer.cid));
    for (const { cid, type, annotations, createdAt, data } of theirs) {
      if (ours.has(cid)) continue;
      if (!isReferrerType(type)) {
        this.options.logger.warn('referrer of an unknown type left out of the sync', { sync_id: sync.id, record: recordCid, referrer: cid, type });
        continue;
      }
      const stored = await this.options.records.putReferrer(recordCid, { type, annotations, createdAt, data });
      if (stored.cid !== cid) {
        throw new PermanentSyncError(`referrer ${cid} of record ${recordCid} from ${registryUrl} is not in canonical form: it is stored here as ${stored.cid}`);
      }
    }
  }

  private async holds(cid: string): Promise<boolean> {
    try {
      await this.options.records.meta(cid);
      return true;
    } catch (error) {
      if (error instanceof StoreError && error.reason === 'not-found') return false;
      throw error;
    }
  }

  private async fail(sync: Sync, failureReason: string): Promise<void> {
    if (await this.options.syncs.transition(sync.id, WORKING, 'SYNC_STATUS_FAILED', { failureReason })) {
      this.options.logger.warn('sync failed', { sync_id: sync.id, remote_directory_url: sync.remoteDirectoryUrl, reason: failureReason });
    }
  }
}

function openOciPeerRegistry(credentials: PeerRegistryCredentials): PeerRegistry {
  return new OciRecordStore({
    registryUrl: credentials.registryUrl,
    repository: credentials.repository,
    tokens: tokenFlowTokens(credentials.registryUrl, credentials),
  });
}

/** `host:port` of a registry URL, with or without its scheme. */
function hostOf(url: string): string {
  return url.replace(/^[a-z]+:\/\//, '').replace(/\/.*$/, '').toLowerCase();
}

/** Resolves after `ms`, true; or false as soon as `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve(false);
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve(true);
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      resolve(false);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** Runs `each` over `items`, `limit` at a time; stops taking new items on the first failure or on abort. */
async function forEachConcurrently<T>(items: readonly T[], limit: number, signal: AbortSignal, each: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  let failed = false;
  const lane = async () => {
    while (!failed && next < items.length) {
      if (signal.aborted) throw new Error('sync stopped');
      const item = items[next++]!;
      try {
        await each(item);
      } catch (error) {
        failed = true;
        throw error;
      }
    }
  };
  const results = await Promise.allSettled(Array.from({ length: Math.min(limit, items.length) }, lane));
  const failure = results.find((result): result is PromiseRejectedResult => result.status === 'rejected');
  if (failure) throw failure.reason;
}
