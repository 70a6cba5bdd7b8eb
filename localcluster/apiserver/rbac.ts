// RBAC authorization for service-account callers, as Kubernetes' RBAC authorizer decides it: the union of the
// rules of every ClusterRole/Role bound to the user (directly, or through one of its groups) by a
// ClusterRoleBinding, or by a RoleBinding in the request's namespace. Enforced for service accounts only, so the
// mesh's pods run with exactly the permissions deploy/ grants them (least privilege is tested by running), while
// the cluster's own components (client certificates, system:masters) keep full access. Pure: `allows` gets the
// RBAC objects from the caller.
import type { UserInfo } from './auth.ts';

export interface RequestAttributes {
  verb: string; // get, list, watch, create, update, patch, delete, deletecollection
  apiGroup: string;
  resource: string; // plural
  subresource?: string;
  namespace?: string;
  name?: string;
}

interface PolicyRule { apiGroups?: string[]; resources?: string[]; verbs?: string[]; resourceNames?: string[] }
interface Subject { kind: string; name: string; namespace?: string }
interface Binding { metadata: { namespace?: string }; roleRef: { kind: string; name: string }; subjects?: Subject[] }
interface RoleObj { metadata: { name: string; namespace?: string }; rules?: PolicyRule[] }

export interface RbacObjects {
  clusterRoles: readonly RoleObj[];
  roles: readonly RoleObj[];
  clusterRoleBindings: readonly Binding[];
  roleBindings: readonly Binding[];
}

/** Whether RBAC applies to the caller (service accounts) or it keeps full access (the cluster's own certificates). */
export function isRbacSubject(user: UserInfo): boolean {
  return user.username.startsWith('system:serviceaccount:');
}

function bindsUser(b: Binding, user: UserInfo): boolean {
  return (b.subjects ?? []).some((s) => {
    if (s.kind === 'ServiceAccount') return user.username === `system:serviceaccount:${s.namespace ?? b.metadata.namespace}:${s.name}`;
    if (s.kind === 'User') return user.username === s.name;
    if (s.kind === 'Group') return user.groups.includes(s.name);
    return false;
  });
}

function ruleAllows(r: PolicyRule, a: RequestAttributes): boolean {
  const has = (list: string[] | undefined, v: string): boolean => !!list && (list.includes('*') || list.includes(v));
  const resource = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const resourceOk = has(r.resources, resource) || (!!a.subresource && !!r.resources?.includes(`*/${a.subresource}`));
  const nameOk = !r.resourceNames?.length || (a.name !== undefined && r.resourceNames.includes(a.name));
  return has(r.verbs, a.verb) && has(r.apiGroups, a.apiGroup) && resourceOk && nameOk;
}

/** The RBAC decision for one request. */
export function allows(user: UserInfo, a: RequestAttributes, rbac: RbacObjects): boolean {
  const rulesOf = (ref: Binding['roleRef'], ns: string | undefined): PolicyRule[] =>
    (ref.kind === 'ClusterRole' ? rbac.clusterRoles.find((r) => r.metadata.name === ref.name)
      : rbac.roles.find((r) => r.metadata.name === ref.name && r.metadata.namespace === ns))?.rules ?? [];
  for (const b of rbac.clusterRoleBindings) {
    if (bindsUser(b, user) && rulesOf(b.roleRef, undefined).some((r) => ruleAllows(r, a))) return true;
  }
  if (a.namespace === undefined) return false;
  for (const b of rbac.roleBindings) {
    if (b.metadata.namespace === a.namespace && bindsUser(b, user) && rulesOf(b.roleRef, a.namespace).some((r) => ruleAllows(r, a))) return true;
  }
  return false;
}

/** Kubernetes' wording of a refusal. */
export function forbiddenMessage(user: UserInfo, a: RequestAttributes): string {
  const what = a.name ? `${a.resource} "${a.name}"` : a.resource;
  const res = a.subresource ? `${a.resource}/${a.subresource}` : a.resource;
  const scope = a.namespace !== undefined ? ` in the namespace "${a.namespace}"` : ' at the cluster scope';
  return `${what} is forbidden: User "${user.username}" cannot ${a.verb} resource "${res}" in API group "${a.apiGroup}"${scope}; grant it in a Role or ClusterRole bound to the service account`;
}
