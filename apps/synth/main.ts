/**
 * `npm run synth` and `npx cdk8s synth`: writes `<outdir>/<trust-domain>.k8s.yaml` for every trust domain
 * of the topology (`loadTopology`: the file named by `DIRTK_TOPOLOGY`, else the example federation),
 * where outdir is `CDK8S_OUTDIR` (set by `cdk8s synth`) or `dist`.
 *
 * The output federates on its own: unless the topology is bootstrapped already, the zero-touch bootstrap
 * is applied with the upstream CAs in `DIRTK_UPSTREAM_CA_DIR` (default `.dirtk/upstream-ca`, made when
 * missing). The manifests carry only public roots; each CA key stays in that folder, and the command that
 * creates a domain's `spire-upstream-ca` Secret from it is printed.
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
import { DIRECTORY_REGISTRY } from '../../constructs/directory-registry';
import { loadTopology, TopologyError, type Topology } from '../../topology';
import { withFederationBootstrap } from '../../federation/bootstrap';

/** Where synth keeps the upstream CAs it bootstraps with. */
export const UPSTREAM_CA_DIR_ENV = 'DIRTK_UPSTREAM_CA_DIR';

/**
 * Writes one manifest file per trust domain of `topology` into `outdir` once every one has rendered;
 * returns the files written.
 */
export function synthesize(topology: Topology, outdir: string): string[] {
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
    const caFolder = path.resolve(process.env[UPSTREAM_CA_DIR_ENV] ?? path.join('.dirtk', 'upstream-ca'));
    const { topology, caDirs } = await withFederationBootstrap(loadTopology(), caFolder);
    for (const file of synthesize(topology, process.env.CDK8S_OUTDIR ?? 'dist')) console.log(file);
    for (const td of topology.trustDomains) {
      const dir = caDirs[td.name];
      const secret = td.server.upstreamAuthority?.secretName;
      if (dir && secret) {
        console.error(`[synth] ${td.name}: before applying, create its upstream CA Secret (the key never enters the manifests):`);
        console.error(`[synth]   kubectl -n ${td.namespaces.spire} create secret generic ${secret} --from-file=${dir}`);
      }
      const registry = td.apiserver?.registry;
      if (registry) {
        console.error(`[synth] ${td.name}: before applying, create its registry token key Secret from the private half of a key in apiserver.registry.trustedKeys:`);
        console.error(`[synth]   kubectl -n ${td.namespaces.directory} create secret generic ${registry.tokenKeySecret} --from-file=${DIRECTORY_REGISTRY.tokenKeyFile}=<EC P-256 key, PKCS#8 PEM>`);
      }
    }
  } catch (error) {
    if (!(error instanceof TopologyError)) throw error;
    console.error(error.message);
    process.exitCode = 1;
  }
}

if (require.main === module) void main();
