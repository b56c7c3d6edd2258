/** X.509-SVIDs: parsing our own SVID, and verifying a peer's against the bundle of its own trust domain. */
export { X509SvidError } from './errors';
export { parseX509Svid, verifyX509Svid, x509SvidToPem, type VerifyOptions, type X509Svid } from './svid';
