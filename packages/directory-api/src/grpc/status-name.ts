import { status as Status } from '@grpc/grpc-js';

/** The name of a gRPC status code, e.g. `PERMISSION_DENIED`; `CODE_<n>` for a code grpc-js does not know. */
export function statusName(code: number): string {
  return Status[code] ?? `CODE_${code}`;
}
