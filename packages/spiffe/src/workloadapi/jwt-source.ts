/**
 * JWT bundles kept fresh from the Workload API's FetchJWTBundles stream (each message replaces the
 * whole set), and JWT-SVIDs fetched on demand.
 */
import { EventEmitter } from 'node:events';
import type { BundleSet, JwtBundle, JwtBundleSource } from '../bundle/bundle';
import type { SpiffeId, TrustDomain } from '../spiffeid/id';
import { type BundleChanges, bundleChanges, hasBundleChanges } from './bundle-changes';
import { WorkloadApiClient, type WorkloadApiClientOptions } from './client';
import type { WorkloadApiError, WorkloadResponseError } from './errors';
import { subscribeUntilReady } from './ready';
import { emptyBundleSet, type FetchedJwtSvid } from './responses';
import type { Subscription } from './stream';

export interface JwtSourceOptions extends WorkloadApiClientOptions {
  /** How long `create` waits for the first JWT bundles; `Infinity` waits as long as it takes. @default 30 s */
  readonly readyTimeoutMs?: number;
}

export interface JwtSourceUpdate {
  readonly bundles: BundleChanges;
}

export interface JwtSource {
  on(event: 'update', listener: (update: JwtSourceUpdate) => void): this;
  /** Stream failures and discarded messages; only emitted when a listener is attached. */
  on(event: 'error', listener: (error: WorkloadApiError | WorkloadResponseError) => void): this;
  once(event: 'update', listener: (update: JwtSourceUpdate) => void): this;
  once(event: 'error', listener: (error: WorkloadApiError | WorkloadResponseError) => void): this;
}

export class JwtSource extends EventEmitter implements JwtBundleSource {
  private current: BundleSet = emptyBundleSet();
  private subscription: Subscription | undefined;

  private constructor(private readonly client: WorkloadApiClient) {
    super();
  }

  /** Connects and resolves after the first JWT bundles; rejects after `readyTimeoutMs` with the reason. */
  static async create(options: JwtSourceOptions = {}): Promise<JwtSource> {
    const source = new JwtSource(new WorkloadApiClient(options));
    try {
      source.subscription = await subscribeUntilReady<BundleSet>(
        (watcher) => source.client.watchJwtBundles(watcher),
        { onUpdate: (bundles) => source.apply(bundles), onError: (error) => source.report(error) },
        { what: 'JWT bundles', address: source.client.endpoint.address, timeoutMs: options.readyTimeoutMs ?? 30_000 },
      );
    } catch (error) {
      source.client.close();
      throw error;
    }
    return source;
  }

  getJwtBundle(trustDomain: TrustDomain): JwtBundle | undefined {
    return this.current.getJwtBundle(trustDomain);
  }

  bundles(): BundleSet {
    return this.current;
  }

  /** A fresh JWT-SVID for `audience`: the workload's default identity, or `spiffeId`. */
  async fetchJwtSvid(audience: string | readonly string[], spiffeId?: SpiffeId | string): Promise<FetchedJwtSvid> {
    const [first] = await this.client.fetchJwtSvids(audience, spiffeId);
    // The client rejects responses without SVIDs, so there is always a first one.
    return first!;
  }

  /** Stops the stream and closes the connection; the last bundles stay readable. */
  close(): void {
    this.subscription?.cancel();
    this.client.close();
  }

  private apply(bundles: BundleSet): void {
    const changes = bundleChanges(this.current, bundles);
    this.current = bundles;
    if (hasBundleChanges(changes)) this.emit('update', { bundles: changes } satisfies JwtSourceUpdate);
  }

  private report(error: WorkloadApiError | WorkloadResponseError): void {
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}
