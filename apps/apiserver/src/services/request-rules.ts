/**
 * The Directory's `buf.validate` request rules, checked by hand before a handler acts on a request:
 * a broken rule is INVALID_ARGUMENT, the status the Directory's protovalidate interceptor returns.
 * The facts (CID length, referrer types) come from the contract.
 */
import { status as Status } from '@grpc/grpc-js';
import { CID_MAX_LENGTH, isReferrerType, REFERRER_TYPES } from '@dirtk/directory-api/contract';
import { StatusError } from './status';

/** `required` on a reference field and `is_cid` on its `cid`: the CID, 1 to CID_MAX_LENGTH characters. */
export function requiredCid(ref: { readonly cid: string } | undefined, field: string): string {
  if (!ref || ref.cid === '') throw new StatusError(Status.INVALID_ARGUMENT, `${field} is missing: set ${field}.cid to a CID`);
  if (ref.cid.length > CID_MAX_LENGTH) {
    throw new StatusError(Status.INVALID_ARGUMENT, `${field}.cid is ${ref.cid.length} characters long: a CID has at most ${CID_MAX_LENGTH}`);
  }
  return ref.cid;
}

/** An `optional` reference: undefined when unset, else checked as `requiredCid` (its `cid` is required). */
export function optionalCid(ref: { readonly cid: string } | undefined, field: string): string | undefined {
  return ref === undefined ? undefined : requiredCid(ref, field);
}

/** `is_referrer_type`: one of REFERRER_TYPES. */
export function referrerType(type: string, field: string): string {
  if (type === '') throw new StatusError(Status.INVALID_ARGUMENT, `referrer type is empty: set ${field} to one of ${REFERRER_TYPES.join(', ')}`);
  if (!isReferrerType(type)) {
    throw new StatusError(Status.INVALID_ARGUMENT, `${field} ${JSON.stringify(type)} is not a referrer type: use one of ${REFERRER_TYPES.join(', ')}`);
  }
  return type;
}

/** An `optional` referrer type: undefined when unset, else checked as `referrerType`. */
export function optionalReferrerType(type: string | undefined, field: string): string | undefined {
  return type === undefined ? undefined : referrerType(type, field);
}
