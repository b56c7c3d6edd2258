/**
 * Pinned versions of the OCI registry and client dirtk builds. The Go build modules in
 * `registry/build/` require the same versions; a test keeps the two in step.
 */

/** The CNCF Distribution registry (`github.com/distribution/distribution/v3/cmd/registry`). */
export const DISTRIBUTION_VERSION = '3.0.0';

/** The oras CLI (`oras.land/oras/cmd/oras`), the OCI client the tests pull and push with. */
export const ORAS_VERSION = '1.3.6';
