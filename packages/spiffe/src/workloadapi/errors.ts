import { status as Status } from '@grpc/grpc-js';

/** A Workload API call that failed; `willRetry` says whether a stream will subscribe again by itself. */
export class WorkloadApiError extends Error {
  constructor(
    readonly rpc: string,
    readonly code: Status,
    details: string,
    readonly willRetry: boolean,
  ) {
    super(`Workload API ${rpc} failed with ${Status[code] ?? code}: ${details}${hintFor(code)}${willRetry ? ' (retrying)' : ''}`);
    this.name = 'WorkloadApiError';
  }
}

/** A response that lacked mandatory fields or held unusable data; a stream discards it and keeps its previous state. */
export class WorkloadResponseError extends Error {
  constructor(readonly rpc: string, reason: string, options?: ErrorOptions) {
    super(`Workload API ${rpc} sent a malformed response: ${reason}`, options);
    this.name = 'WorkloadResponseError';
  }
}

function hintFor(code: Status): string {
  switch (code) {
    case Status.PERMISSION_DENIED:
      return '; no registration entry matches this process (check the entry selectors, e.g. unix:uid)';
    case Status.UNAVAILABLE:
      return '; is the SPIRE agent running and the socket address right?';
    case Status.INVALID_ARGUMENT:
      return '; the request was rejected as malformed (a client bug)';
    case Status.UNIMPLEMENTED:
      return '; the Workload API endpoint does not implement this call';
    default:
      return '';
  }
}
