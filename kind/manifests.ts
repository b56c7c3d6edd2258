/** What the scripts apply ahead of a domain's manifests, and the rollouts they wait for afterwards. */
import { readFileSync } from 'node:fs';
import { Yaml } from 'cdk8s';
import { parseAllDocuments } from 'yaml';
import { DIRECTORY_API_SERVER, DIRECTORY_REGISTRY } from '../constructs';
import { isSpireResource } from '../constructs/manifests';
import { AGENT, CSI, SERVER } from '../spire/kubernetes/layout';
import type { TrustDomain } from '../topology';
import type { Workload } from './commands';

/** The files a domain's synthesized manifests are split into, in the order they are applied. */
export interface SplitFiles {
  readonly crds: string;
  readonly namespaces: string;
  /** Everything but the SPIRE custom resources. */
  readonly workloads: string;
  /** The SPIRE custom resources: admitted only once the controller manager's webhook serves (it fails closed). */
  readonly spireResources: string;
}

/**
 * Splits a synthesized file so that the CRDs can be established and the upstream CA Secret created before
 * anything else is applied, and the SPIRE custom resources applied once the controller manager serves.
 */
export function splitSynthFile(synthFile: string, files: SplitFiles): void {
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
  Yaml.save(files.crds, ofKind('CustomResourceDefinition'));
  Yaml.save(files.namespaces, ofKind('Namespace'));
  Yaml.save(files.workloads, objects.filter((object) => !isSpireResource(object)));
  Yaml.save(files.spireResources, objects.filter(isSpireResource));
}

/** The workloads `TrustDomainChart` renders for `td`, by their well-known names. */
export function domainWorkloads(td: TrustDomain): Workload[] {
  const { spire, agent } = td.namespaces;
  return [
    { kind: 'statefulset', name: SERVER.name, namespace: spire },
    { kind: 'daemonset', name: AGENT.name, namespace: agent },
    ...(td.agent.socket === 'csi' ? [{ kind: 'daemonset' as const, name: CSI.name, namespace: agent }] : []),
    ...(td.apiserver ? [{ kind: 'deployment' as const, name: DIRECTORY_API_SERVER.name, namespace: td.namespaces.directory }] : []),
    ...(td.apiserver?.store === 'registry' ? [{ kind: 'deployment' as const, name: DIRECTORY_REGISTRY.name, namespace: td.namespaces.directory }] : []),
  ];
}
