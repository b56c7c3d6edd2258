import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ApiObject, Chart } from 'cdk8s';
import type { Construct } from 'constructs';
import { parseAllDocuments } from 'yaml';
import { PINNED_CRD_DIR, SERVED_CRD_FILES } from '../spire/crds';

export interface SpireCrdsChartProps {
  /**
   * Directory holding the controller manager's CRD files.
   * @default PINNED_CRD_DIR, the committed CRDs of the pinned controller manager (see `spire/crds.ts`)
   */
  readonly crdDir?: string;
}

/**
 * The spire.spiffe.io CRDs (ClusterSPIFFEID, ClusterFederatedTrustDomain, ClusterStaticEntry), as committed
 * from the pinned controller manager, in a chart of their own: charts that create these kinds depend on it,
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
    const crdDir = props.crdDir ?? PINNED_CRD_DIR;
    this.crds = SERVED_CRD_FILES.flatMap((file) =>
      parseAllDocuments(readFileSync(path.join(crdDir, file), 'utf8'), { version: '1.1' })
        .map((document) => document.toJSON() as { apiVersion: string; kind: string; metadata: { name: string } } | null)
        .filter((crd) => crd !== null)
        .map((crd) => new ApiObject(this, crd.metadata.name, crd)),
    );
  }
}
