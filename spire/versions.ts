/**
 * Pinned versions of everything SPIRE-related dirtk builds or deploys. The Go build modules in
 * `spire/build/` require the same versions; a test keeps the two in step.
 */
export const SPIRE_VERSION = '1.15.3';

/**
 * v0.6.6 is not served by the Go module proxy here (403 "not available"); v0.7.0 is the version the
 * hardened SPIRE chart 0.30.0 pairs with SPIRE 1.15.
 */
export const CONTROLLER_MANAGER_VERSION = '0.7.0';

export const IMAGES = {
  spireServer: `ghcr.io/spiffe/spire-server:${SPIRE_VERSION}`,
  spireAgent: `ghcr.io/spiffe/spire-agent:${SPIRE_VERSION}`,
  controllerManager: `ghcr.io/spiffe/spire-controller-manager:${CONTROLLER_MANAGER_VERSION}`,
  csiDriver: 'ghcr.io/spiffe/spiffe-csi-driver:0.2.7',
  csiNodeDriverRegistrar: 'registry.k8s.io/sig-storage/csi-node-driver-registrar:v2.15.0',
} as const;
