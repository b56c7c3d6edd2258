/** Topologies and synth helpers shared by the construct tests. */
import { Chart, Testing } from 'cdk8s';
import { EXAMPLE_FEDERATION, resolveTopology, type Topology, type TopologySpec, type TrustDomain } from '../../topology';

/** A synthesized Kubernetes object, loosely typed for assertions. */
export type Manifest = Record<string, any>;

export const EXAMPLE_SPEC: TopologySpec = EXAMPLE_FEDERATION;
export const EXAMPLE: Topology = resolveTopology(EXAMPLE_SPEC);

/**
 * One domain using every optional branch: postgres with two replicas, an upstream CA, an https_web
 * LoadBalancer bundle endpoint, the CSI driver, custom namespaces and class, a seeded https_spiffe peer,
 * an https_web peer, and an apiserver with its own service account and port.
 */
export const VARIANT_SPEC: TopologySpec = {
  trustDomains: [
    {
      name: 'variant.example',
      clusterName: 'variant',
      namespaces: { spire: 'spire', directory: 'directory' },
      server: {
        replicas: 2,
        datastore: { type: 'postgres', connectionStringSecret: 'spire-db' },
        upstreamAuthority: { type: 'disk' },
      },
      agent: { socket: 'hostPath', socketHostDir: '/run/variant/sockets' },
      controllerManager: { className: 'variant-spire' },
      bundleEndpoint: { profile: 'https_web', servingCertSecret: 'bundle-tls', serviceType: 'LoadBalancer' },
      federatesWith: [
        { trustDomain: 'peer.example', bundleEndpointUrl: 'https://peer.example:8443', trustDomainBundle: '{"keys":[]}' },
        { trustDomain: 'web_peer.example', bundleEndpointUrl: 'https://bundle.web-peer.example', profile: 'https_web' },
      ],
      apiserver: { serviceAccount: 'directory-api', port: 9443 },
    },
  ],
};
export const VARIANT: Topology = resolveTopology(VARIANT_SPEC);

export function domain(topology: Topology, name: string): TrustDomain {
  const td = topology.trustDomains.find((candidate) => candidate.name === name);
  if (!td) throw new Error(`no trust domain ${name}`);
  return td;
}

export const DIR = domain(EXAMPLE, 'dir.example');
export const DIRCTL = domain(EXAMPLE, 'dirctl.example');
export const VARIANT_TD = domain(VARIANT, 'variant.example');

/** Synthesizes whatever `build` adds to a fresh test chart. */
export function synth(build: (chart: Chart) => void): Manifest[] {
  const chart = Testing.chart();
  build(chart);
  return Testing.synth(chart) as Manifest[];
}

/** The one object of `kind` named `name`; fails when there is none or more than one. */
export function find(objects: readonly Manifest[], kind: string, name: string): Manifest {
  const matches = objects.filter((o) => o.kind === kind && o.metadata?.name === name);
  if (matches.length !== 1) throw new Error(`expected one ${kind} ${name}, found ${matches.length}`);
  return matches[0]!;
}

export function ofKind(objects: readonly Manifest[], kind: string): Manifest[] {
  return objects.filter((o) => o.kind === kind);
}

/** The containers of a workload's pod template, by name. */
export function containers(workload: Manifest): Record<string, Manifest> {
  return Object.fromEntries((workload.spec.template.spec.containers as Manifest[]).map((c) => [c.name, c]));
}

/** A pod template's volume by name. */
export function volume(workload: Manifest, name: string): Manifest {
  const found = (workload.spec.template.spec.volumes as Manifest[]).find((v) => v.name === name);
  if (!found) throw new Error(`no volume ${name}`);
  return found;
}

/** A domain that federates with nobody, so it has no bundle endpoint. */
export const SOLO = resolveTopology({ trustDomains: [{ name: 'solo.example', clusterName: 'solo' }] }).trustDomains[0]!;

/** Public halves of two token-signing keys (EC P-256), fixed so that snapshots are stable. */
export const TOKEN_KEYS = [
  { kty: 'EC', crv: 'P-256', x: 'n0lcUR9em1nOxMfmd93bSGIOs6qM5kKme9AkkDjeJ2M', y: 'vr3u7rWdM0h7vxaVX8wcstZs0IQraRwj6CBef7txQgo' },
  { kty: 'EC', crv: 'P-256', x: 'ZUULNRJxu2MHhZWvGKXQ-YZ2y8iyXKfFhGLeQuNw70s', y: '9PUc__dGolZOUe3an3qp14PBrkV09ejZJJfe2yrg2_0' },
] as const;

/** The example federation with each Directory on a registry, reachable on its node ports at a node address, as Kind runs it. */
export const REGISTRY_SPEC: TopologySpec = {
  trustDomains: EXAMPLE_SPEC.trustDomains.map((td, index) => ({
    ...td,
    apiserver: {
      store: 'registry',
      serviceType: 'NodePort',
      nodePort: 30888,
      registry: { externalHost: `172.18.0.${index + 2}`, trustedKeys: [TOKEN_KEYS[index]!] },
    },
  })),
};
export const REGISTRY: Topology = resolveTopology(REGISTRY_SPEC);
export const DIR_ON_REGISTRY = domain(REGISTRY, 'dir.example');
export const DIRCTL_ON_REGISTRY = domain(REGISTRY, 'dirctl.example');
