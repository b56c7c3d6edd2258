/** What the scripts apply ahead of a domain's manifests, and the rollouts they wait for afterwards. */
import { readFileSync } from 'node:fs';
import { Yaml } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { DIRECTORY_API_SERVER } from '../../constructs';
import { AGENT, CSI, SERVER } from '../../spire/kubernetes/layout';
import type { TrustDomain } from '../../topology';
import type { Workload } from './commands';

/**
 * Writes the CustomResourceDefinitions and the Namespaces of a synthesized file to files of their own, so
 * that the CRDs can be established and the upstream CA Secret created before anything else is applied.
 */
export function splitSynthFile(synthFile: string, crdsFile: string, namespacesFile: string): void {
  let objects: Record<string, unknown>[];
  try {
    objects = parseAllDocuments(readFileSync(synthFile, 'utf8')).map((document) => document.toJSON() as Record<string, unknown>);
  } catch (error) {
    throw new Error(`cannot read the synthesized manifests ${synthFile}: ${(error as Error).message}; run \`npm run synth\` to see why`);
  }
  const ofKind = (kind: string) => {
    const found = objects.filter((object) => object.kind === kind);
    if (found.length === 0) throw new Error(`${synthFile} holds no ${kind}; it is not a trust domain's synthesized manifests`);
    return found;
  };
  Yaml.save(crdsFile, ofKind('CustomResourceDefinition'));
  Yaml.save(namespacesFile, ofKind('Namespace'));
}

/** The workloads `TrustDomainChart` renders for `td`, by their well-known names. */
export function domainWorkloads(td: TrustDomain): Workload[] {
  const { spire, agent } = td.namespaces;
  return [
    { kind: 'statefulset', name: SERVER.name, namespace: spire },
    { kind: 'daemonset', name: AGENT.name, namespace: agent },
    ...(td.agent.socket === 'csi' ? [{ kind: 'daemonset' as const, name: CSI.name, namespace: agent }] : []),
    ...(td.apiserver ? [{ kind: 'deployment' as const, name: DIRECTORY_API_SERVER.name, namespace: td.namespaces.directory }] : []),
  ];
}
