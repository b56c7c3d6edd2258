/** Promises over grpc-js calls: they resolve with what the server sent, or reject with its ServiceError. */
import type { ClientDuplexStream, ClientReadableStream } from '@grpc/grpc-js';
import type { Callback } from '@dirtk/directory-api/grpc';

/** Writes `requests` on a bidirectional stream, half-closes it, and collects the responses. */
export function exchange<Req, Res>(call: ClientDuplexStream<Req, Res>, requests: readonly Req[]): Promise<Res[]> {
  const responses = readAll(call);
  for (const request of requests) call.write(request);
  call.end();
  return responses;
}

/** Every message of a response stream, once it has ended with status OK. */
export function readAll<Res>(call: ClientReadableStream<Res>): Promise<Res[]> {
  return new Promise((resolve, reject) => {
    const responses: Res[] = [];
    let ended = false;
    let ok = false;
    // 'status' can come before the last 'data' has been read: wait for both it and 'end'.
    const settle = () => {
      if (ended && ok) resolve(responses);
    };
    call.on('data', (message: Res) => responses.push(message));
    call.on('error', reject);
    call.on('end', () => {
      ended = true;
      settle();
    });
    call.on('status', ({ code }: { code: number }) => {
      ok = code === 0;
      settle();
    });
  });
}

/** A unary or client-streaming call, from the callback it takes to the response it gets. */
export function single<Res>(start: (callback: Callback<Res>) => unknown): Promise<Res> {
  return new Promise((resolve, reject) => {
    start((error, response) => {
      if (error) reject(error);
      else if (response === undefined) reject(new Error('the server ended the call without a response'));
      else resolve(response);
    });
  });
}

/** A sub-message the server must set in its response (protobuf lets any be left out). */
export function requiredField<T>(value: T | undefined, field: string): T {
  if (value === undefined) throw new Error(`the server's response has no ${field}`);
  return value;
}

/** The one response a single request on a stream must get. */
export function onlyResponse<Res>(responses: readonly Res[], what: string): Res {
  const [first] = responses;
  if (first === undefined || responses.length > 1) throw new Error(`expected one ${what} from the server, got ${responses.length}`);
  return first;
}
