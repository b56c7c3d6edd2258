/**
 * A SPIFFE Workload API client over grpc-js: plaintext to the local agent (a Unix socket, or a TCP
 * loopback address), with the `workload.spiffe.io: true` header on every call.
 */
import { type CallOptions, credentials, Metadata, status as Status } from '@grpc/grpc-js';
import type { BundleSet } from '../bundle/bundle';
import type { SpiffeId } from '../spiffeid/id';
import { resolveWorkloadEndpoint, type WorkloadEndpoint } from './address';
import { type BackoffOptions, DEFAULT_BACKOFF } from './backoff';
import { WorkloadApiError } from './errors';
import type { JWTSVIDResponse, ValidateJWTSVIDResponse } from '../../gen/workload';
import { type UnaryCallback, type WorkloadApiStub, workloadApiStub } from './proto';
import {
  emptyBundleSet,
  emptyX509Context,
  type FetchedJwtSvid,
  parseJwtBundlesResponse,
  parseJwtSvidResponse,
  parseValidateJwtSvidResponse,
  parseX509BundlesResponse,
  parseX509SvidResponse,
  type ValidatedJwtSvid,
  type X509Context,
} from './responses';
import { type StreamSpec, type StreamWatcher, type Subscription, watchStream } from './stream';

export interface WorkloadApiClientOptions {
  /** `unix:///absolute/path` or `tcp://<IP>:<port>`. @default the `SPIFFE_ENDPOINT_SOCKET` environment variable */
  readonly endpoint?: string;
  /** Delays between stream re-subscriptions. @default linear 1 s steps up to 30 s */
  readonly backoff?: BackoffOptions;
  /** Deadline of the unary calls (JWT-SVID fetch and validation). @default 10 s */
  readonly callTimeoutMs?: number;
}

export class WorkloadApiClient {
  readonly endpoint: WorkloadEndpoint;
  private readonly stub: WorkloadApiStub;
  private readonly backoff: BackoffOptions;
  private readonly callTimeoutMs: number;
  private readonly subscriptions = new Set<Subscription>();

  /** Validates the address at once; no connection is made before the first call. */
  constructor(options: WorkloadApiClientOptions = {}) {
    this.endpoint = resolveWorkloadEndpoint(options.endpoint);
    this.backoff = options.backoff ?? DEFAULT_BACKOFF;
    this.callTimeoutMs = options.callTimeoutMs ?? 10_000;
    this.stub = workloadApiStub(this.endpoint.grpcTarget, credentials.createInsecure(), {
      // grpc-js's own reconnect backoff grows to 120 s; keep it within ours so a restarted agent is found quickly.
      'grpc.initial_reconnect_backoff_ms': this.backoff.stepMs,
      'grpc.max_reconnect_backoff_ms': this.backoff.maxMs,
    });
  }

  /** Streams the workload's X.509-SVIDs with their own and federated bundles. */
  watchX509Context(watcher: StreamWatcher<X509Context>): Subscription {
    return this.watch(
      { rpc: 'FetchX509SVID', open: () => this.stub.fetchX509Svid({}, workloadMetadata()), parse: parseX509SvidResponse, empty: emptyX509Context },
      watcher,
    );
  }

  /** Streams the X.509 bundles (own trust domain included) without SVIDs. */
  watchX509Bundles(watcher: StreamWatcher<BundleSet>): Subscription {
    return this.watch(
      { rpc: 'FetchX509Bundles', open: () => this.stub.fetchX509Bundles({}, workloadMetadata()), parse: parseX509BundlesResponse, empty: emptyBundleSet },
      watcher,
    );
  }

  /** Streams the JWT bundles (JWKS per trust domain). */
  watchJwtBundles(watcher: StreamWatcher<BundleSet>): Subscription {
    return this.watch(
      { rpc: 'FetchJWTBundles', open: () => this.stub.fetchJwtBundles({}, workloadMetadata()), parse: parseJwtBundlesResponse, empty: emptyBundleSet },
      watcher,
    );
  }

  /** JWT-SVIDs for `audience` (at least one): every identity of the workload, or only `spiffeId`. */
  async fetchJwtSvids(audience: string | readonly string[], spiffeId?: SpiffeId | string): Promise<FetchedJwtSvid[]> {
    const audiences = typeof audience === 'string' ? [audience] : [...audience];
    if (audiences.length === 0 || audiences.includes('')) {
      throw new TypeError('a JWT-SVID needs at least one audience, and audiences cannot be empty strings');
    }
    const request = { audience: audiences, spiffeId: spiffeId === undefined ? '' : String(spiffeId) };
    const response = await this.unary<JWTSVIDResponse>('FetchJWTSVID', (metadata, options, callback) =>
      this.stub.fetchJwtsvid(request, metadata, options, callback),
    );
    return parseJwtSvidResponse(response, audiences);
  }

  /** Has the agent validate `token` for `audience`; rejects (InvalidArgument) when the token is not valid. */
  async validateJwtSvid(token: string, audience: string): Promise<ValidatedJwtSvid> {
    const response = await this.unary<ValidateJWTSVIDResponse>('ValidateJWTSVID', (metadata, options, callback) =>
      this.stub.validateJwtsvid({ audience, svid: token }, metadata, options, callback),
    );
    return parseValidateJwtSvidResponse(response);
  }

  /** Cancels every stream of this client and closes its channel. */
  close(): void {
    for (const subscription of this.subscriptions) subscription.cancel();
    this.subscriptions.clear();
    this.stub.close();
  }

  private watch<Raw, T>(spec: Omit<StreamSpec<Raw, T>, 'backoff'>, watcher: StreamWatcher<T>): Subscription {
    const subscription = watchStream({ ...spec, backoff: this.backoff }, watcher);
    this.subscriptions.add(subscription);
    return {
      cancel: () => {
        this.subscriptions.delete(subscription);
        subscription.cancel();
      },
    };
  }

  private unary<Response>(
    rpc: string,
    invoke: (metadata: Metadata, options: CallOptions, callback: UnaryCallback<Response>) => void,
  ): Promise<Response> {
    return new Promise((resolve, reject) => {
      invoke(workloadMetadata(), { deadline: Date.now() + this.callTimeoutMs }, (error, response) => {
        if (error) reject(new WorkloadApiError(rpc, error.code, error.details, false));
        else if (response === undefined) reject(new WorkloadApiError(rpc, Status.INTERNAL, 'no response message', false));
        else resolve(response);
      });
    });
  }
}

function workloadMetadata(): Metadata {
  const metadata = new Metadata();
  metadata.set('workload.spiffe.io', 'true');
  return metadata;
}
