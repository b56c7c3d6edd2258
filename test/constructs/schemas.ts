/**
 * Offline schema validation: built-in kinds against kubernetes-models' embedded schemas, spire.spiffe.io
 * kinds against the openAPIV3Schema of the pinned CRDs.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import Ajv, { type ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';
import { ValidatingWebhookConfiguration } from 'kubernetes-models/admissionregistration.k8s.io/v1';
import { DaemonSet, Deployment, StatefulSet } from 'kubernetes-models/apps/v1';
import { ClusterRole, ClusterRoleBinding, Role, RoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CSIDriver } from 'kubernetes-models/storage.k8s.io/v1';
import { ConfigMap, Namespace, PersistentVolumeClaim, Service, ServiceAccount } from 'kubernetes-models/v1';
import { CRD_FILES, PINNED_CRD_DIR } from '../../spire/crds';
import type { Manifest } from './fixtures';

interface Model {
  validate(): void;
}

const MODELS: Record<string, new (data: never) => Model> = {
  'v1/Namespace': Namespace,
  'v1/ServiceAccount': ServiceAccount,
  'v1/ConfigMap': ConfigMap,
  'v1/Service': Service,
  'v1/PersistentVolumeClaim': PersistentVolumeClaim,
  'apps/v1/Deployment': Deployment,
  'apps/v1/StatefulSet': StatefulSet,
  'apps/v1/DaemonSet': DaemonSet,
  'rbac.authorization.k8s.io/v1/ClusterRole': ClusterRole,
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': ClusterRoleBinding,
  'rbac.authorization.k8s.io/v1/Role': Role,
  'rbac.authorization.k8s.io/v1/RoleBinding': RoleBinding,
  'admissionregistration.k8s.io/v1/ValidatingWebhookConfiguration': ValidatingWebhookConfiguration,
  'storage.k8s.io/v1/CSIDriver': CSIDriver,
  'apiextensions.k8s.io/v1/CustomResourceDefinition': CustomResourceDefinition,
};

/** Why `object` breaks the Kubernetes schema of its kind, or undefined when it conforms. Unknown kinds fail. */
export function kubernetesSchemaError(object: Manifest): string | undefined {
  const model = MODELS[`${object.apiVersion}/${object.kind}`];
  if (!model) return `no kubernetes-models schema for ${object.apiVersion} ${object.kind}`;
  try {
    new model(object as never).validate();
    return undefined;
  } catch (error) {
    return (error as Error).message;
  }
}

const CRD_BY_KIND = {
  ClusterSPIFFEID: CRD_FILES.clusterSpiffeIds,
  ClusterFederatedTrustDomain: CRD_FILES.clusterFederatedTrustDomains,
  ClusterStaticEntry: CRD_FILES.clusterStaticEntries,
  ControllerManagerConfig: CRD_FILES.controllerManagerConfigs,
} as const;

export type SpireKind = keyof typeof CRD_BY_KIND;

export function isSpireKind(kind: string): kind is SpireKind {
  return kind in CRD_BY_KIND;
}

/** The openAPIV3Schema of the pinned CRD of `kind`. */
export function crdSchema(kind: SpireKind): Record<string, unknown> {
  const crd = parse(readFileSync(path.join(PINNED_CRD_DIR, CRD_BY_KIND[kind]), 'utf8')) as Manifest;
  return crd.spec.versions[0].schema.openAPIV3Schema as Record<string, unknown>;
}

/**
 * Like the API server's strict field validation: an object schema that lists its properties rejects
 * others (a misspelt field would otherwise be pruned without a word).
 */
function rejectUnknownFields(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(rejectUnknownFields);
  if (typeof schema !== 'object' || schema === null) return schema;
  const copy = Object.fromEntries(Object.entries(schema).map(([key, value]) => [key, rejectUnknownFields(value)]));
  if ('properties' in copy && !('additionalProperties' in copy) && !copy['x-kubernetes-preserve-unknown-fields']) {
    copy.additionalProperties = false;
  }
  return copy;
}

const ajv = new Ajv({ strict: false, allErrors: true });
const validators = new Map<string, ValidateFunction>();

/**
 * Why `object` breaks the CRD schema of its kind, or undefined when it conforms. `strictFields` also
 * rejects fields the schema does not list; the controller manager's config CRD is a scaffold that lists
 * none of the real fields, so it is checked without.
 */
export function crdSchemaError(object: Manifest, { strictFields }: { strictFields: boolean }): string | undefined {
  const kind = object.kind as string;
  if (!isSpireKind(kind)) return `${kind} is not a spire.spiffe.io kind`;
  const key = `${kind}/${strictFields}`;
  let validate = validators.get(key);
  if (!validate) {
    const schema = crdSchema(kind);
    validate = ajv.compile(strictFields ? (rejectUnknownFields(schema) as object) : schema);
    validators.set(key, validate);
  }
  return validate(object) ? undefined : ajv.errorsText(validate.errors);
}
