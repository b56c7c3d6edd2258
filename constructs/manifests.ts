import { App } from 'cdk8s';
import type { Topology } from '../topology/model';
import { SpireCrdsChart } from './spire-crds-chart';
import { TrustDomainChart } from './trust-domain-chart';

/**
 * Every object one trust domain's cluster needs, as plain manifests in apply order: the SPIRE CRDs, then
 * the `TrustDomainChart`. This is what `apps/synth` writes to `<trust-domain>.k8s.yaml` and what the
 * domain's Pulumi stack deploys.
 */
export function trustDomainManifests(topology: Topology, trustDomain: string): Record<string, unknown>[] {
  const app = new App();
  const crds = new SpireCrdsChart(app, 'spire-crds');
  const chart = new TrustDomainChart(app, trustDomain, { topology, trustDomain, crds });
  return [...crds.toJson(), ...chart.toJson()] as Record<string, unknown>[];
}

/** Whether `object` is an instance of a SPIRE custom resource, which the controller manager's webhook validates. */
export function isSpireResource(object: { readonly apiVersion?: unknown }): boolean {
  return typeof object.apiVersion === 'string' && object.apiVersion.startsWith('spire.spiffe.io/');
}
