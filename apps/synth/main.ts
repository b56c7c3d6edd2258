/**
 * `npm run synth` and `npx cdk8s synth`: writes `<outdir>/<trust-domain>.k8s.yaml` for every trust domain
 * of the topology (`loadTopologySpec`: the file named by `DIRTK_TOPOLOGY`, else the example federation),
 * where outdir is `CDK8S_OUTDIR` (set by `cdk8s synth`) or `dist`.
 *
 * Each trust domain runs in its own cluster, so each file is self-contained: the SPIRE CRDs first, then
 * the domain's objects — exactly `trustDomainManifests`, which the domain's Pulumi stack deploys. (The file
 * names are ours: `App.synth` would prefix dependent charts with an index.) With kubectl, apply a file
 * twice or wait for the CRDs to be established before the ClusterFederatedTrustDomains are accepted.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { Yaml } from 'cdk8s';
import { trustDomainManifests } from '../../constructs/manifests';
import { ensureSpire, SpireSetupError } from '../../spire/install';
import { loadTopologySpec, resolveTopology, TopologyError, type TopologySpec } from '../../topology';

/**
 * Validates `spec` and writes one manifest file per trust domain into `outdir`; returns the files written.
 * Throws `TopologyError` for an invalid topology, before anything is written.
 */
export function synthesize(spec: TopologySpec, outdir: string): string[] {
  const topology = resolveTopology(spec);
  const files = topology.trustDomains.map((td) => ({
    file: path.join(outdir, `${td.name}.k8s.yaml`),
    objects: trustDomainManifests(topology, td.name),
  }));
  mkdirSync(outdir, { recursive: true });
  for (const { file, objects } of files) Yaml.save(file, objects);
  return files.map(({ file }) => file);
}

async function main(): Promise<void> {
  try {
    await ensureSpire({ binaries: false, log: (line) => console.error(`[setup] ${line}`) });
    for (const file of synthesize(loadTopologySpec(), process.env.CDK8S_OUTDIR ?? 'dist')) console.log(file);
  } catch (error) {
    if (!(error instanceof TopologyError || error instanceof SpireSetupError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
