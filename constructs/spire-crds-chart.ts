import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { parseAllDocuments } from 'yaml';
import { CRD_FILES, installedCrdDir } from '../spire/install';

/** The CRDs the controller manager serves. `controllermanagerconfigs` only describes its config file, so it is left out. */
const SERVED_CRDS = [CRD_FILES.clusterSpiffeIds, CRD_FILES.clusterFederatedTrustDomains, CRD_FILES.clusterStaticEntries];

export interface SpireCrdsChartProps {
  /**
   * Directory holding the controller manager's CRD files (see `spire/install.ts`).
   * @default installedCrdDir()
   */
  readonly crdDir?: string;
}

/**
 * The spire.spiffe.io CRDs (ClusterSPIFFEID, ClusterFederatedTrustDomain, ClusterStaticEntry), read from the
 * pinned controller manager module, in a chart of their own: charts that create these kinds depend on it,
 * so the CRDs are always applied first. The objects are cluster-scoped and carry no namespace.
 *
 * The files are read the way cdk8s `Include` reads them (YAML 1.1, names kept), but in-process: `Include`
 * starts a Node.js process per file, which made up nine tenths of the synthesis time of a trust domain.
 */
export class SpireCrdsChart extends Chart {
  /** The CRD objects; patch them with `addJsonPatch` to change a CRD. */
  public readonly crds: ApiObject[];

  public constructor(scope: Construct, id: string, props: SpireCrdsChartProps = {}) {
    super(scope, id);
    const crdDir = props.crdDir ?? installedCrdDir();
    this.crds = SERVED_CRDS.flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(crdDir, file), 'utf8'), { version: '1.1' })
        .map((document) => document.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } } | null)
        .filter((crd) => crd !== null)
        .map((crd) => new ApiObject(this, crd.metadata.name, crd)),
    );
  }
}
