import * as k8s from '@pulumi/kubernetes';
import * as pulumi from '@pulumi/pulumi';
import { FederatedTrustDomain, trustDomainManifests } from '../constructs';
import { isSpireResource } from '../constructs/manifests';
import { BUNDLE } from '../spire/kubernetes/layout';
import type { Topology } from '../topology';

export interface TrustDomainDeploymentArgs {
  /** The resolved topology. */
  readonly topology: Topology;
  /** The name of the trust domain to deploy. */
  readonly trustDomain: string;
  /** The provider of the trust domain's cluster; every child uses it. */
  readonly provider: k8s.Provider;
  /**
   * Peers whose bundle is learned at deploy time (e.g. from the peer's stack), keyed by peer trust domain;
   * `undefined` while it is not known. Ignored for a peer whose edge the topology already seeds. The ClusterFederatedTrustDomain of such a peer is created only once
   * its bundle is known, and with it: SPIRE reads `trustDomainBundle` only when the relationship is created,
   * so one created earlier without it would never be seeded.
   * @default {}
   */
  readonly peerTrustBundles?: Readonly<Record<string, pulumi.Input<string> | undefined>>;
  /**
   * Do not wait for workloads to become ready and do not read the published trust bundle, for clusters
   * without a kubelet.
   * @default false
   */
  readonly skipAwait?: boolean;
}

/**
 * One SPIRE trust domain on its cluster: exactly the objects `cdk8s synth` writes for it, applied by two
 * `ConfigGroup`s (CRDs, namespaces and SPIRE first; the SPIRE custom resources and the Directory
 * workloads, which need the identities those register, once the controller manager serves), plus a ClusterFederatedTrustDomain seeded with the bundle of each peer whose bundle is
 * supplied at deploy time.
 */
export class TrustDomainDeployment extends pulumi.ComponentResource {
  /** The bundle endpoint URL the topology gives for this domain, if any. */
  public readonly bundleEndpointUrl: pulumi.Output<string | undefined>;
  /**
   * The domain's trust bundle in SPIFFE format, as the server published it to the `spire-bundle` ConfigMap.
   * Unknown in previews and undefined when nothing has been published yet or `skipAwait` is set.
   */
  public readonly trustBundle: pulumi.Output<string | undefined>;

  public constructor(name: string, args: TrustDomainDeploymentArgs, opts: pulumi.ComponentResourceOptions = {}) {
    super('dirtk:spire:TrustDomain', name, {}, opts);
    const { topology, provider, skipAwait = false, peerTrustBundles = {} } = args;
    const trustDomain = topology.trustDomains.find((td) => td.name === args.trustDomain);
    if (trustDomain === undefined) {
      throw new Error(
        `trust domain "${args.trustDomain}" is not in the topology; known trust domains: ${topology.trustDomains.map((td) => td.name).join(', ')}`,
      );
    }

    const seeded = Object.entries(peerTrustBundles).flatMap(([peer, bundle]) => {
      const edge = trustDomain.federatesWith.find((candidate) => candidate.trustDomain === peer);
      if (edge === undefined) {
        throw new Error(`${trustDomain.name} does not federate with "${peer}", so there is no relationship to seed with its bundle`);
      }
      // A bundle the topology already seeds (the zero-touch bootstrap) is in the synthesized CFTD from the first run.
      if (edge.trustDomainBundle !== undefined) return [];
      return [{ peer, edge, bundle, manifest: FederatedTrustDomain.manifest({ trustDomain, edge }) }];
    });
    const objs = trustDomainManifests(topology, trustDomain.name).filter(
      (obj) => !seeded.some(({ manifest }) => obj.kind === manifest.kind && objectName(obj) === manifest.metadata.name),
    );

    // The controller manager's webhook fails closed, so SPIRE custom resources wait until it serves: the
    // first group is ready only once the server's pod (with the controller manager) is. The Directory
    // workloads go with them: they become ready only with an identity, which those resources register.
    const later = (obj: Record<string, unknown>) => isSpireResource(obj) || isInNamespace(obj, trustDomain.namespaces.directory);
    const group = new k8s.yaml.v2.ConfigGroup(
      name,
      { objs: objs.filter((obj) => !later(obj)), skipAwait },
      { parent: this, provider, transforms: [ignoreWebhookCaBundle] },
    );
    const identities = new k8s.yaml.v2.ConfigGroup(
      `${name}-identities`,
      { objs: objs.filter(later), skipAwait },
      { parent: this, provider, dependsOn: [group] },
    );

    for (const { peer, edge, bundle, manifest } of seeded) {
      if (bundle === undefined) continue;
      new k8s.apiextensions.CustomResource(
        `${name}-federates-with-${peer}`,
        {
          apiVersion: manifest.apiVersion,
          kind: manifest.kind,
          metadata: manifest.metadata,
          spec: pulumi
            .output(bundle)
            .apply((trustDomainBundle) => FederatedTrustDomain.manifest({ trustDomain, edge: { ...edge, trustDomainBundle } }).spec),
        },
        // The controller manager reads trustDomainBundle only when it creates the relationship; a later
        // bundle (the peer's CA rotated) would change nothing in SPIRE, so it should not show as a diff.
        { parent: this, provider, dependsOn: [identities], ignoreChanges: ['spec.trustDomainBundle'] },
      );
    }

    this.bundleEndpointUrl = pulumi.output(trustDomain.bundleEndpoint?.url);
    this.trustBundle = skipAwait ? pulumi.output(undefined) : this.readTrustBundle(name, trustDomain.namespaces.agent, group, provider);
    this.registerOutputs({ bundleEndpointUrl: this.bundleEndpointUrl, trustBundle: this.trustBundle });
  }

  private readTrustBundle(name: string, namespace: string, group: k8s.yaml.v2.ConfigGroup, provider: k8s.Provider) {
    // The server creates the ConfigMap once it runs. Reading a ConfigMap that does not exist fails the
    // whole operation, so previews (the first one runs before anything is deployed) do not read it.
    // An unknown value: the callback never runs on it, it only gives the output its type.
    if (pulumi.runtime.isDryRun()) return pulumi.output(pulumi.unknown).apply((): string | undefined => undefined);
    // The ConfigGroup waits for the server, which publishes its bundle as it starts.
    const published = k8s.core.v1.ConfigMap.get(`${name}-trust-bundle`, `${namespace}/${BUNDLE.configMap}`, {
      parent: this,
      provider,
      dependsOn: [group],
    });
    return published.data.apply((data): string | undefined => data?.[BUNDLE.key]);
  }
}

/** The controller manager patches its webhook's caBundle at run time; Pulumi must not take it back. */
function ignoreWebhookCaBundle({ type, props, opts }: pulumi.ResourceTransformArgs): pulumi.ResourceTransformResult | undefined {
  return type === 'kubernetes:admissionregistration.k8s.io/v1:ValidatingWebhookConfiguration'
    ? { props, opts: pulumi.mergeOptions(opts, { ignoreChanges: ['webhooks[*].clientConfig.caBundle'] }) }
    : undefined;
}

function isInNamespace(obj: Record<string, unknown>, namespace: string): boolean {
  return (obj.metadata as { namespace?: unknown } | undefined)?.namespace === namespace;
}

function objectName(obj: Record<string, unknown>): unknown {
  return (obj.metadata as { name?: unknown } | undefined)?.name;
}
