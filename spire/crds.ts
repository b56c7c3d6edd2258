/**
 * The spire.spiffe.io CRDs, committed in `crds/spire-controller-manager-v<version>/` exactly as the pinned
 * controller manager module ships them in `config/crd/bases/`, so synthesis needs neither Go nor a
 * download. `npm run import:crds` refreshes them and the constructs `cdk8s import` generates from them.
 */
import path from 'node:path';
import { CONTROLLER_MANAGER_VERSION } from './versions';

export const CONTROLLER_MANAGER_MODULE = 'github.com/spiffe/spire-controller-manager';

/** Where the controller manager module keeps its CRDs. */
export const MODULE_CRD_DIR = path.join('config', 'crd', 'bases');

/** The committed copy of the pinned controller manager's CRDs. */
export const PINNED_CRD_DIR = path.resolve(__dirname, '..', 'crds', `spire-controller-manager-v${CONTROLLER_MANAGER_VERSION}`);

/** The CRDs the controller manager serves, plus the schema of its own config file. */
export const CRD_FILES = {
  clusterSpiffeIds: 'spire.spiffe.io_clusterspiffeids.yaml',
  clusterFederatedTrustDomains: 'spire.spiffe.io_clusterfederatedtrustdomains.yaml',
  clusterStaticEntries: 'spire.spiffe.io_clusterstaticentries.yaml',
  controllerManagerConfigs: 'spire.spiffe.io_controllermanagerconfigs.yaml',
} as const;

/**
 * The CRDs a cluster needs, in apply order; they are also the ones `cdk8s import` types.
 * `controllermanagerconfigs` only describes the controller manager's config file, so it is left out.
 */
export const SERVED_CRD_FILES = [CRD_FILES.clusterSpiffeIds, CRD_FILES.clusterFederatedTrustDomains, CRD_FILES.clusterStaticEntries] as const;
