/** Reading and writing gRPC streams from async handlers. */
import type { Readable, Writable } from 'node:stream';
import { status as Status } from '@grpc/grpc-js';
import { StatusError } from './status';

/**
 * The stream's messages, one at a time. Leaving the loop early (an error in its body) does not
 * destroy the call, so the handler's error can still go out as the call's status.
 */
export function messages<T>(call: Readable): AsyncIterable<T> {
  return { [Symbol.asyncIterator]: () => call.iterator({ destroyOnReturn: false }) as AsyncIterator<T> };
}

/** Writes one message, waiting while the transport is backed up; rejects if the call is cancelled meanwhile. */
export async function send<T>(call: Writable & { cancelled: boolean }, message: T): Promise<void> {
  if (call.write(message)) return;
  await new Promise<void>((resolve, reject) => {
    const onDrain = (): void => {
      call.off('cancelled', onCancelled);
      resolve();
    };
    const onCancelled = (): void => {
      call.off('drain', onDrain);
      reject(new StatusError(Status.CANCELLED, 'call cancelled by the client'));
    };
    call.once('drain', onDrain);
    call.once('cancelled', onCancelled);
  });
}
