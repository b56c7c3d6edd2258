/** Roles bound to exactly one service account, the only RBAC shape the SPIRE constructs need. */
import { k8s } from 'cdk8s-plus-28';
import { Construct } from 'constructs';

export interface ServiceAccountRef {
  readonly name: string;
  readonly namespace: string;
}

export interface ClusterRoleGrant {
  readonly role: k8s.KubeClusterRole;
  readonly binding: k8s.KubeClusterRoleBinding;
}

export interface RoleGrant {
  readonly role: k8s.KubeRole;
  readonly binding: k8s.KubeRoleBinding;
}

/** A ClusterRole named `name` with `rules`, bound to `subject`. Both objects are cluster-scoped. */
export function grantClusterRole(scope: Construct, id: string, name: string, rules: k8s.PolicyRule[], subject: ServiceAccountRef): ClusterRoleGrant {
  const role = new k8s.KubeClusterRole(scope, `${id}ClusterRole`, { metadata: { name }, rules });
  const binding = new k8s.KubeClusterRoleBinding(scope, `${id}ClusterRoleBinding`, {
    metadata: { name },
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name },
    subjects: [{ kind: 'ServiceAccount', ...subject }],
  });
  return { role, binding };
}

/** A Role named `name` with `rules` in `namespace` (default: the subject's), bound to `subject`. */
export function grantRole(
  scope: Construct,
  id: string,
  name: string,
  rules: k8s.PolicyRule[],
  subject: ServiceAccountRef,
  namespace: string = subject.namespace,
): RoleGrant {
  const metadata = { name, namespace };
  const role = new k8s.KubeRole(scope, `${id}Role`, { metadata, rules });
  const binding = new k8s.KubeRoleBinding(scope, `${id}RoleBinding`, {
    metadata,
    roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name },
    subjects: [{ kind: 'ServiceAccount', ...subject }],
  });
  return { role, binding };
}
