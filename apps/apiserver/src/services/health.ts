/**
 * grpc.health.v1: serving status per service name ('' is the whole server). The security layer
 * can hold the server NOT_SERVING until it has an SVID; `shutdown` ends every Watch so the
 * server can drain.
 */
import { status as Status, type ServerUnaryCall, type ServerWritableStream } from '@grpc/grpc-js';
import type { HealthCheckRequest, HealthCheckResponse, HealthCheckResponse_ServingStatus as ServingStatus } from '@dirtk/directory-api/grpc';
import { StatusError } from './status';

type Listener = (service: string, status: ServingStatus) => void;

export class HealthStatus {
  private readonly statuses = new Map<string, ServingStatus>();
  private readonly listeners = new Set<Listener>();
  private readonly closers = new Set<() => void>();

  set(service: string, status: 'SERVING' | 'NOT_SERVING'): void {
    if (this.statuses.get(service) === status) return;
    this.statuses.set(service, status);
    for (const listener of this.listeners) listener(service, status);
  }

  get(service: string): ServingStatus | undefined {
    return this.statuses.get(service);
  }

  /** Marks every service NOT_SERVING and ends all watches. */
  shutdown(): void {
    for (const service of this.statuses.keys()) this.set(service, 'NOT_SERVING');
    for (const close of this.closers) close();
  }

  /** Calls `listener` on every change of `service` until the returned function is called or `shutdown` runs (then `onClose`). */
  watch(service: string, listener: (status: ServingStatus) => void, onClose: () => void): () => void {
    const onChange: Listener = (changed, status) => {
      if (changed === service) listener(status);
    };
    const stop = (): void => {
      this.listeners.delete(onChange);
      this.closers.delete(close);
    };
    const close = (): void => {
      stop();
      onClose();
    };
    this.listeners.add(onChange);
    this.closers.add(close);
    return stop;
  }
}

export type HealthHandlers = {
  check(call: ServerUnaryCall<HealthCheckRequest, HealthCheckResponse>): Promise<HealthCheckResponse>;
  watch(call: ServerWritableStream<HealthCheckRequest, HealthCheckResponse>): Promise<void>;
};

export function healthHandlers(health: HealthStatus): HealthHandlers {
  return {
    async check({ request }) {
      const status = health.get(request.service);
      if (!status) throw new StatusError(Status.NOT_FOUND, `unknown service ${JSON.stringify(request.service)}`);
      return { status };
    },

    async watch(call) {
      const service = call.request.service;
      call.write({ status: health.get(service) ?? 'SERVICE_UNKNOWN' });
      await new Promise<void>((resolve) => {
        const stop = health.watch(service, (status) => call.write({ status }), resolve);
        call.once('cancelled', () => {
          stop();
          resolve();
        });
      });
    },
  };
}
