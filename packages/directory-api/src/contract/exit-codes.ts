/** dirctl's exit codes: scripts (and the Kind verification) tell outcomes apart by them. */

export const EXIT_OK = 0;
/** The server answered but reported a failure in the response, or dirctl hit a bug. */
export const EXIT_FAILED = 1;
/** The command line (or an input file it names) cannot run as given. */
export const EXIT_USAGE = 2;
/** No identity from the Workload API, or no trustworthy connection to the server. */
export const EXIT_SETUP = 3;
/** A gRPC call failed: the exit code is this plus the status code (PERMISSION_DENIED → 107). */
export const EXIT_GRPC_BASE = 100;
