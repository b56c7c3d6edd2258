import * as pulumi from '@pulumi/pulumi';
import type { Topology, TrustDomain } from '../topology';

/** The configuration of one dirtk stack, which deploys one trust domain of the topology. */
export interface StackConfig {
  /** `dirtk:trustDomain`: the trust domain this stack deploys. */
  readonly trustDomain: TrustDomain;
  /** `dirtk:kubeContext`: the kubeconfig context of that domain's cluster. */
  readonly kubeContext: string;
  /**
   * `dirtk:peerStacks`: for each peer this domain federates with, the stack that deploys it
   * (`organization/dirtk/<stack>` on the DIY backend). The peer's exported trust bundle seeds the
   * ClusterFederatedTrustDomain of that edge.
   */
  readonly peerStacks: Readonly<Record<string, string>>;
  /** `dirtk:skipAwait`: do not wait for workloads to become ready (clusters without a kubelet). */
  readonly skipAwait: boolean;
}

/** Stack configuration that cannot be deployed; lists every problem found. */
export class StackConfigError extends Error {
  constructor(readonly problems: readonly string[]) {
    super(`invalid stack configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'StackConfigError';
  }
}

const PEER_STACKS_EXAMPLE = '{"dirctl.example": "organization/dirtk/dirctl-example"}';

/** Reads and checks the `dirtk:` configuration of the current stack against the topology. */
export function readStackConfig(topology: Topology): StackConfig {
  const config = new pulumi.Config('dirtk');
  const problems: string[] = [];
  const known = topology.trustDomains.map((td) => td.name).join(', ');

  const name = config.get('trustDomain');
  const trustDomain = topology.trustDomains.find((td) => td.name === name);
  if (name === undefined) {
    problems.push(`dirtk:trustDomain is not set; set it to one of the topology's trust domains: ${known}`);
  } else if (trustDomain === undefined) {
    problems.push(`dirtk:trustDomain "${name}" is not in the topology; known trust domains: ${known}`);
  }

  const kubeContext = config.get('kubeContext');
  if (kubeContext === undefined || kubeContext.trim() === '') {
    const example = trustDomain ? `kind-${trustDomain.clusterName}` : 'kind-<cluster name>';
    problems.push(`dirtk:kubeContext is not set; set it to the kubeconfig context of the trust domain's cluster, e.g. ${example}`);
  }

  const peerStacks = readPeerStacks(config, trustDomain, problems);
  const skipAwait = config.getBoolean('skipAwait') ?? false;

  if (problems.length > 0 || trustDomain === undefined || kubeContext === undefined) {
    throw new StackConfigError(problems);
  }
  return { trustDomain, kubeContext, peerStacks, skipAwait };
}

function readPeerStacks(config: pulumi.Config, trustDomain: TrustDomain | undefined, problems: string[]): Record<string, string> {
  const value = config.getObject<unknown>('peerStacks') ?? {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    problems.push(`dirtk:peerStacks must map peer trust domains to stack names, e.g. ${PEER_STACKS_EXAMPLE}`);
    return {};
  }
  const peers = trustDomain?.federatesWith.map((edge) => edge.trustDomain) ?? [];
  const peerStacks: Record<string, string> = {};
  for (const [peer, stack] of Object.entries(value)) {
    if (trustDomain !== undefined && !peers.includes(peer)) {
      const known = peers.length > 0 ? `its peers: ${peers.join(', ')}` : 'it has no peers';
      problems.push(`dirtk:peerStacks names "${peer}", which ${trustDomain.name} does not federate with; ${known}`);
    }
    if (typeof stack !== 'string' || stack.trim() === '') {
      problems.push(`dirtk:peerStacks["${peer}"] must be a stack name such as organization/dirtk/<stack>`);
      continue;
    }
    peerStacks[peer] = stack;
  }
  return peerStacks;
}
