/**
 * gRPC status errors, and the single mapping from the errors the store and decoders raise to the
 * status a client sees. Over-size objects are RESOURCE_EXHAUSTED, the status grpc-js itself gives
 * a message over the receive limit, so a client sees one code for "too big" whichever check fires.
 */
import { status as Status } from '@grpc/grpc-js';
import { CanonicalJsonError, CidError } from '@dirtk/directory-api/cid';
import { statusName, StructError } from '@dirtk/directory-api/grpc';
import { StoreError, type StoreErrorReason } from '../store/errors';

/** An error grpc-js sends as a status: `code` and `details` go on the wire. */
export class StatusError extends Error {
  readonly details: string;

  constructor(readonly code: Status, details: string, options?: { cause?: unknown }) {
    super(details, options);
    this.name = 'StatusError';
    this.details = details;
  }
}

const STORE_STATUS: Record<StoreErrorReason, Status> = {
  'invalid-argument': Status.INVALID_ARGUMENT,
  'not-found': Status.NOT_FOUND,
  'too-large': Status.RESOURCE_EXHAUSTED,
  corrupt: Status.DATA_LOSS,
};

/** The status to answer `error` with. Unexpected errors become INTERNAL without their message (it stays in `cause` for the log). */
export function toStatusError(error: unknown): StatusError {
  if (error instanceof StatusError) return error;
  if (error instanceof StoreError) return new StatusError(STORE_STATUS[error.reason], error.message);
  if (error instanceof CidError || error instanceof StructError || error instanceof CanonicalJsonError) {
    return new StatusError(Status.INVALID_ARGUMENT, error.message);
  }
  if (isStatusLike(error)) return new StatusError(error.code, error.details ?? error.message ?? statusName(error.code), { cause: error });
  return new StatusError(Status.INTERNAL, 'internal error; the server log has the cause', { cause: error });
}

/** An Error or a grpc-js `ServerErrorResponse`-like object with a known numeric status code. */
function isStatusLike(error: unknown): error is { code: Status; details?: string; message?: string } {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof error === 'object' && typeof code === 'number' && code in Status;
}
