/**
 * The workload's current X.509-SVIDs and the bundles it trusts (own and federated trust domains), kept
 * fresh from the Workload API's FetchX509SVID stream. Every message replaces the whole state.
 */
import { EventEmitter } from 'node:events';
import type { BundleSet, X509Bundle, X509BundleSource } from '../bundle/bundle';
import type { TrustDomain } from '../spiffeid/id';
import type { X509Svid } from '../x509svid';
import { type BundleChanges, bundleChanges, hasBundleChanges } from './bundle-changes';
import { WorkloadApiClient, type WorkloadApiClientOptions } from './client';
import type { WorkloadApiError, WorkloadResponseError } from './errors';
import { subscribeUntilReady } from './ready';
import { emptyX509Context, type X509Context } from './responses';
import type { Subscription } from './stream';

export interface X509SourceOptions extends WorkloadApiClientOptions {
  /** How long `create` waits for the first valid SVID; `Infinity` waits as long as it takes. @default 30 s */
  readonly readyTimeoutMs?: number;
}

export interface X509SourceUpdate {
  /** The SVIDs changed: rotated, added, or withdrawn (after PermissionDenied there are none). */
  readonly svidsChanged: boolean;
  readonly bundles: BundleChanges;
}

export interface X509Source {
  on(event: 'update', listener: (update: X509SourceUpdate) => void): this;
  /** Stream failures and discarded messages; only emitted when a listener is attached. */
  on(event: 'error', listener: (error: WorkloadApiError | WorkloadResponseError) => void): this;
  once(event: 'update', listener: (update: X509SourceUpdate) => void): this;
  once(event: 'error', listener: (error: WorkloadApiError | WorkloadResponseError) => void): this;
}

export class X509Source extends EventEmitter implements X509BundleSource {
  private context: X509Context = emptyX509Context();
  private lastError: WorkloadApiError | WorkloadResponseError | undefined;
  private subscription: Subscription | undefined;

  private constructor(private readonly client: WorkloadApiClient) {
    super();
  }

  /** Connects and resolves after the first valid X.509-SVID; rejects after `readyTimeoutMs` with the reason. */
  static async create(options: X509SourceOptions = {}): Promise<X509Source> {
    const source = new X509Source(new WorkloadApiClient(options));
    try {
      source.subscription = await subscribeUntilReady<X509Context>(
        (watcher) => source.client.watchX509Context(watcher),
        { onUpdate: (context) => source.apply(context), onError: (error) => source.report(error) },
        { what: 'X.509-SVID', address: source.client.endpoint.address, timeoutMs: options.readyTimeoutMs ?? 30_000 },
      );
    } catch (error) {
      source.client.close();
      throw error;
    }
    return source;
  }

  /** The default SVID (the first one), or the first one with `hint`; throws when there is none. */
  getX509Svid(hint?: string): X509Svid {
    const svid = hint === undefined ? this.context.svids[0] : this.context.svids.find((s) => s.hint === hint);
    if (!svid) {
      const which = hint === undefined ? 'X.509-SVID' : `X.509-SVID with hint ${JSON.stringify(hint)}`;
      throw new Error(`no ${which} is available${this.lastError ? `; last Workload API error: ${this.lastError.message}` : ''}`);
    }
    return svid;
  }

  getX509Svids(): readonly X509Svid[] {
    return this.context.svids;
  }

  getX509Bundle(trustDomain: TrustDomain): X509Bundle | undefined {
    return this.context.bundles.getX509Bundle(trustDomain);
  }

  bundles(): BundleSet {
    return this.context.bundles;
  }

  /** Stops the stream and closes the connection; the last state stays readable. */
  close(): void {
    this.subscription?.cancel();
    this.client.close();
  }

  private apply(context: X509Context): void {
    const previous = this.context;
    this.context = context;
    const svidsChanged = leafFingerprints(previous) !== leafFingerprints(context);
    const bundles = bundleChanges(previous.bundles, context.bundles);
    if (svidsChanged || hasBundleChanges(bundles)) this.emit('update', { svidsChanged, bundles } satisfies X509SourceUpdate);
  }

  private report(error: WorkloadApiError | WorkloadResponseError): void {
    this.lastError = error;
    if (this.listenerCount('error') > 0) this.emit('error', error);
  }
}

function leafFingerprints(context: X509Context): string {
  return context.svids.map((svid) => svid.certificates[0]?.fingerprint256 ?? '').join(',');
}

