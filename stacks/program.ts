import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { loadTopology } from '../topology';
import { readStackConfig } from './config';
import { TrustDomainDeployment } from './trust-domain-deployment';

/** The stack outputs; peers read `trustDomain` and `trustBundle` through a StackReference. */
export interface StackOutputs {
  readonly trustDomain: string;
  readonly bundleEndpointUrl: pulumi.Output<string | undefined>;
  readonly trustBundle: pulumi.Output<string | undefined>;
  readonly kubeContext: string;
}

/**
 * Deploys the trust domain named by `dirtk:trustDomain` to the cluster of `dirtk:kubeContext`, seeding the
 * federation with each peer in `dirtk:peerStacks` from the trust bundle that peer's stack exports.
 */
export async function trustDomainStack(): Promise<StackOutputs> {
  const topology = loadTopology();
  const config = readStackConfig(topology);
  const { trustDomain } = config;

  const provider = new k8s.Provider(trustDomain.clusterName, { context: config.kubeContext });
  const peerTrustBundles = Object.fromEntries(
    await Promise.all(Object.entries(config.peerStacks).map(async ([peer, stack]) => [peer, await peerTrustBundle(peer, stack)] as const)),
  );
  const deployment = new TrustDomainDeployment(trustDomain.name, {
    topology,
    trustDomain: trustDomain.name,
    provider,
    peerTrustBundles,
    skipAwait: config.skipAwait,
  });

  return {
    trustDomain: trustDomain.name,
    bundleEndpointUrl: deployment.bundleEndpointUrl,
    trustBundle: deployment.trustBundle,
    kubeContext: config.kubeContext,
  };
}

/**
 * The trust bundle a peer's stack exports, or undefined while that stack has not published one: before its
 * first `up`, or before its server ran. Mutual federation therefore converges with `up A; up B; up A`.
 */
async function peerTrustBundle(peer: string, stack: string): Promise<pulumi.Input<string> | undefined> {
  const reference = new pulumi.StackReference(stack);
  const [exportedDomain, bundle] = await Promise.all([reference.getOutputDetails('trustDomain'), reference.getOutputDetails('trustBundle')]);
  if (exportedDomain.value !== undefined && exportedDomain.value !== peer) {
    throw new Error(
      `dirtk:peerStacks maps "${peer}" to stack ${stack}, but that stack deploys "${String(exportedDomain.value)}"; ` +
        `point it at the stack whose dirtk:trustDomain is "${peer}"`,
    );
  }
  const value: unknown = bundle.value ?? bundle.secretValue;
  if (value === undefined) return undefined;
  if (typeof value !== 'string') {
    throw new Error(`stack ${stack} exports a trustBundle that is not a string (SPIFFE bundle JSON); it cannot seed the federation with "${peer}"`);
  }
  return bundle.secretValue !== undefined ? pulumi.secret(value) : value;
}
