/**
 * What the three spire.spiffe.io/v1alpha1 kinds share: cluster scope, `metadata` plus a typed `spec`,
 * and a plain-object form for tools that take manifests rather than constructs (the Pulumi stacks).
 */
import type { ApiObjectMetadata } from 'cdk8s';

export const SPIRE_API_VERSION = 'spire.spiffe.io/v1alpha1';

/** Metadata of a cluster-scoped object: everything but a namespace. */
export type ClusterObjectMetadata = Omit<ApiObjectMetadata, 'namespace'>;

/** Props of a spire.spiffe.io object. */
export interface SpireResourceProps<Spec> {
  /**
   * Object metadata. The kinds are cluster-scoped, so there is no namespace.
   * @default - cdk8s generates a name; `manifest()` leaves it to the caller
   */
  readonly metadata?: ClusterObjectMetadata;
  /** The object's spec, with the CRD's own field names. */
  readonly spec: Spec;
}

/** A spire.spiffe.io object as a plain manifest. */
export interface SpireResourceManifest<Kind extends string, Spec> {
  readonly apiVersion: typeof SPIRE_API_VERSION;
  readonly kind: Kind;
  readonly metadata: ClusterObjectMetadata;
  readonly spec: Spec;
}

/** The manifest of a `kind` object, without the `undefined` members a JSON or YAML writer would drop anyway. */
export function spireManifest<Kind extends string, Spec>(kind: Kind, props: SpireResourceProps<Spec>): SpireResourceManifest<Kind, Spec> {
  const manifest = { apiVersion: SPIRE_API_VERSION, kind, metadata: props.metadata ?? {}, spec: props.spec };
  return JSON.parse(JSON.stringify(manifest)) as SpireResourceManifest<Kind, Spec>;
}
