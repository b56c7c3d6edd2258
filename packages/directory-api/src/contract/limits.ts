/** Largest record or referrer, counted in canonical JSON bytes. */
export const MAX_OBJECT_BYTES = 4 * 1024 * 1024;

/**
 * Largest message the apiserver receives and dirctl accepts: the 4 MiB object limit plus room for
 * its protobuf envelope (a Struct encodes a little larger than the JSON it carries). grpc-js refuses
 * larger messages with RESOURCE_EXHAUSTED, the status the store gives over-size objects.
 */
export const MAX_RECEIVE_MESSAGE_BYTES = MAX_OBJECT_BYTES + 512 * 1024;
