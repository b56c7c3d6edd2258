/**
 * The request rules the AGNTCY Directory declares with `buf.validate` on its protos
 * (`agntcy.dir.core.v1.is_cid`, `is_referrer_type`, `required`), which the apiserver enforces with
 * INVALID_ARGUMENT, as the Directory's protovalidate interceptor does.
 */

/** `is_cid`: a record or referrer CID is 1 to 128 characters. */
export const CID_MAX_LENGTH = 128;

/** `is_referrer_type`: the referrer types the Directory accepts (`RecordReferrer.type`, `PushReferrerRequest.type`). */
export const REFERRER_TYPES = ['agntcy.dir.sign.v1.PublicKey', 'agntcy.dir.sign.v1.Signature', 'agntcy.dir.security.v1.ScanReport'] as const;

export type ReferrerType = (typeof REFERRER_TYPES)[number];

export function isReferrerType(value: string): value is ReferrerType {
  return (REFERRER_TYPES as readonly string[]).includes(value);
}
