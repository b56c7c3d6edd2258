/**
 * The one wrapper every registered method goes through: it resolves the caller (authentication and
 * authorization) before the handler runs, refuses the call with the resolver's status otherwise,
 * and reports each call's outcome (status code, caller, duration) exactly once.
 */
import { performance } from 'node:perf_hooks';
import { status as Status, type MethodDefinition, type sendUnaryData, type UntypedHandleCall } from '@grpc/grpc-js';
import type { CallerContext, IncomingCall } from './caller';
import { StatusError, toStatusError } from './status';

export type MethodKind = 'unary' | 'clientStream' | 'serverStream' | 'bidi';

export function methodKind(method: Pick<MethodDefinition<unknown, unknown>, 'requestStream' | 'responseStream'>): MethodKind {
  if (method.requestStream) return method.responseStream ? 'bidi' : 'clientStream';
  return method.responseStream ? 'serverStream' : 'unary';
}

export interface CallOutcome {
  readonly method: string;
  /**
   * The status the server sent, or CANCELLED when the client cancelled first. grpc-js may signal
   * a client's cancel only after a finished handler's status, which then stands.
   */
  readonly code: Status;
  /** Absent for exempt methods and for calls refused before the caller was known. */
  readonly caller?: CallerContext;
  /** What was sent when `code` is not OK. */
  readonly error?: StatusError;
  readonly durationMs: number;
}

/** The surface every grpc-js server call object has; which of `callback` or the stream events applies depends on the kind. */
type AnyCall = IncomingCall & NodeJS.EventEmitter & { readonly cancelled: boolean };
type PlainHandler = (call: AnyCall, callback?: sendUnaryData<unknown>) => void;

export function guard<C extends CallerContext | undefined>(
  method: MethodDefinition<unknown, unknown>,
  resolveCaller: (call: IncomingCall, fullMethod: string) => Promise<C>,
  handlerFor: (caller: C) => UntypedHandleCall,
  onOutcome: (outcome: CallOutcome) => void,
): UntypedHandleCall {
  const guarded: PlainHandler = (call, callback) => {
    const started = performance.now();
    let caller: CallerContext | undefined;
    let reported = false;
    const report = (code: Status, error?: StatusError): void => {
      if (reported) return;
      reported = true;
      onOutcome({ method: method.path, code, caller, error, durationMs: performance.now() - started });
    };
    call.once('cancelled', () => report(Status.CANCELLED));

    let respond: sendUnaryData<unknown> | undefined;
    if (callback) {
      respond = (error, value, trailer, flags) => {
        const failure = error ? toStatusError(error) : undefined;
        report(failure?.code ?? Status.OK, failure);
        callback(failure ?? null, value, trailer, flags);
      };
    } else {
      let failure: StatusError | undefined;
      call.on('error', (error: unknown) => {
        failure = toStatusError(error);
      });
      call.once('finish', () => report(failure?.code ?? Status.OK, failure));
    }
    const refuse = (error: unknown): void => {
      const failure = toStatusError(error);
      if (respond) respond(failure);
      else if (!call.cancelled) call.emit('error', failure);
    };

    resolveCaller(call, method.path).then(
      (resolved) => {
        caller = resolved;
        if (call.cancelled) return;
        try {
          (handlerFor(resolved) as PlainHandler)(call, respond);
        } catch (error) {
          refuse(error);
        }
      },
      (error: unknown) => {
        caller = refusedCaller(error);
        refuse(error);
      },
    );
  };
  return guarded as UntypedHandleCall;
}

/** Adapts an async handler: its result answers a unary or client-streaming call; for response streams, resolving ends the stream OK and rejecting ends it with the error's status. */
export function fromAsync(kind: MethodKind, run: (call: never) => Promise<unknown>): UntypedHandleCall {
  const handler: PlainHandler = (call, callback) => {
    const result = run(call as never);
    if (kind === 'unary' || kind === 'clientStream') {
      result.then(
        (value) => callback?.(null, value),
        (error: unknown) => callback?.(toStatusError(error)),
      );
      return;
    }
    const stream = call as AnyCall & { end(): void };
    result.then(
      () => {
        if (!stream.cancelled) stream.end();
      },
      (error: unknown) => {
        if (!stream.cancelled) stream.emit('error', toStatusError(error));
      },
    );
  };
  return handler as UntypedHandleCall;
}

function refusedCaller(error: unknown): CallerContext | undefined {
  const caller = (error as { caller?: Partial<CallerContext> } | null)?.caller;
  return typeof caller?.spiffeId === 'string' && typeof caller.trustDomain === 'string' ? { spiffeId: caller.spiffeId, trustDomain: caller.trustDomain } : undefined;
}
