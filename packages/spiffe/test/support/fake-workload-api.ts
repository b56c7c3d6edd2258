/**
 * A scriptable Workload API server on a Unix socket, for client tests: it enforces the
 * `workload.spiffe.io: true` header like a real agent, and lets a test push stream messages,
 * fail open streams and refuse new ones with chosen status codes.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  type handleServerStreamingCall,
  type handleUnaryCall,
  Server,
  ServerCredentials,
  type ServerWritableStream,
  status as Status,
} from '@grpc/grpc-js';
import {
  type JWTSVIDRequest,
  type JWTSVIDResponse,
  type SpiffeWorkloadAPIServer,
  SpiffeWorkloadAPIService,
  type ValidateJWTSVIDRequest,
  type ValidateJWTSVIDResponse,
} from '../../gen/workload';

export interface StatusReply {
  readonly code: Status;
  readonly details: string;
}

/** One server-streaming RPC of the fake. */
export class FakeStream<Message> {
  /** Subscriptions that passed the header check. */
  calls = 0;
  /** Subscriptions rejected because the header was missing. */
  headerless = 0;
  private current: Message | undefined;
  private readonly open = new Set<ServerWritableStream<unknown, Message>>();
  private refusals: StatusReply[] = [];

  /** Sends `message` to every open stream, and to each new one as its first message. */
  push(message: Message): void {
    this.current = message;
    for (const call of this.open) call.write(message);
  }

  /** Ends every open stream with `code`. */
  failOpen(code: Status, details = 'failed by the test'): void {
    for (const call of this.open) call.emit('error', { code, details });
    this.open.clear();
  }

  /** Ends every open stream cleanly (status OK). */
  endOpen(): void {
    for (const call of this.open) call.end();
    this.open.clear();
  }

  /** Refuses the next subscriptions with these statuses, in order. */
  refuseNext(...replies: StatusReply[]): void {
    this.refusals.push(...replies);
  }

  get openCount(): number {
    return this.open.size;
  }

  readonly handler: handleServerStreamingCall<unknown, Message> = (call) => {
    if (!hasHeader(call.metadata.get('workload.spiffe.io'))) {
      this.headerless += 1;
      call.emit('error', { code: Status.INVALID_ARGUMENT, details: 'security header missing from request' });
      return;
    }
    this.calls += 1;
    const refusal = this.refusals.shift();
    if (refusal) {
      call.emit('error', refusal);
      return;
    }
    this.open.add(call);
    call.on('cancelled', () => this.open.delete(call));
    if (this.current !== undefined) call.write(this.current);
  };
}

/** One unary RPC of the fake, answered by a replaceable function. */
export class FakeUnary<Request, Response> {
  calls = 0;
  requests: Request[] = [];

  constructor(public answer: (request: Request) => Response | StatusReply) {}

  readonly handler: handleUnaryCall<Request, Response> = (call, callback) => {
    if (!hasHeader(call.metadata.get('workload.spiffe.io'))) {
      callback({ code: Status.INVALID_ARGUMENT, details: 'security header missing from request' });
      return;
    }
    this.calls += 1;
    this.requests.push(call.request);
    const reply = this.answer(call.request);
    if (isStatusReply(reply)) callback(reply);
    else callback(null, reply);
  };
}

export class FakeWorkloadApi {
  readonly x509Svid = new FakeStream<unknown>();
  readonly x509Bundles = new FakeStream<unknown>();
  readonly jwtBundles = new FakeStream<unknown>();
  readonly jwtSvid = new FakeUnary<JWTSVIDRequest, JWTSVIDResponse>(() => unimplemented);
  readonly validateJwtSvid = new FakeUnary<ValidateJWTSVIDRequest, ValidateJWTSVIDResponse>(() => unimplemented);

  private constructor(
    private readonly server: Server,
    private readonly dir: string,
    readonly socketPath: string,
  ) {}

  static async start(): Promise<FakeWorkloadApi> {
    const dir = mkdtempSync(path.join(tmpdir(), 'dirtk-wl-'));
    const socketPath = path.join(dir, 'api.sock');
    const server = new Server();
    const fake = new FakeWorkloadApi(server, dir, socketPath);
    const refuse: handleServerStreamingCall<unknown, unknown> = (call) => call.emit('error', unimplemented);
    // Keyed as the generated definition names the RPCs (FetchX509SVID is fetchX509Svid).
    const implementation: SpiffeWorkloadAPIServer = {
      fetchX509Svid: fake.x509Svid.handler,
      fetchX509Bundles: fake.x509Bundles.handler,
      fetchJwtBundles: fake.jwtBundles.handler,
      fetchJwtsvid: fake.jwtSvid.handler,
      validateJwtsvid: fake.validateJwtSvid.handler,
      fetchWitsvid: refuse,
      fetchWitBundles: refuse,
    };
    server.addService(SpiffeWorkloadAPIService, implementation);
    await new Promise<void>((resolve, reject) =>
      server.bindAsync(`unix:${socketPath}`, ServerCredentials.createInsecure(), (error) => (error ? reject(error) : resolve())),
    );
    return fake;
  }

  get endpoint(): string {
    return `unix://${this.socketPath}`;
  }

  async stop(): Promise<void> {
    this.server.forceShutdown();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

const unimplemented: StatusReply = { code: Status.UNIMPLEMENTED, details: 'not implemented by this agent' };

function hasHeader(values: ReadonlyArray<string | Buffer>): boolean {
  return values.length === 1 && values[0] === 'true';
}

function isStatusReply(value: unknown): value is StatusReply {
  return typeof value === 'object' && value !== null && 'code' in value && 'details' in value;
}
