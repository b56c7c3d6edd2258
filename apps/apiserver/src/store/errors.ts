/** Why a store operation failed, independent of the protocol that reports it. */
export type StoreErrorReason = 'invalid-argument' | 'not-found' | 'too-large' | 'corrupt';

export class StoreError extends Error {
  constructor(readonly reason: StoreErrorReason, message: string) {
    super(message);
    this.name = 'StoreError';
  }
}
