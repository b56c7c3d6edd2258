/** SPIFFE IDs and trust domain names, parsed strictly; equality is on parsed values. */
export { SpiffeId, SpiffeIdError, TrustDomain } from './id';
