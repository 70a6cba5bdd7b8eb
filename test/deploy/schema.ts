// Offline validation of Kubernetes manifests against the schemas of their API versions, as a real API server with
// strict field validation would judge them:
// - types, required fields and formats: the OpenAPI schemas packaged by kubernetes-models (ajv);
// - unknown fields (a typo such as `replica:` passes the OpenAPI schemas, which allow extra properties): the
//   attribute maps of @kubernetes/client-node's generated models, which list every field of each type.
import * as k8s from '@kubernetes/client-node';
import { Namespace, ServiceAccount, ConfigMap, Service, Secret } from 'kubernetes-models/v1';
import { Deployment, DaemonSet } from 'kubernetes-models/apps/v1';
import { PodDisruptionBudget } from 'kubernetes-models/policy/v1';
import { Role, ClusterRole, RoleBinding, ClusterRoleBinding } from 'kubernetes-models/rbac.authorization.k8s.io/v1';
import { CustomResourceDefinition } from 'kubernetes-models/apiextensions.k8s.io/v1';

interface Validatable { validate(): void }
type Ctor = new (data: never) => Validatable;

/** apiVersion/kind → [kubernetes-models class, client-node model name]. */
const BUILT_IN: Record<string, [Ctor, string]> = {
  'v1/Namespace': [Namespace, 'V1Namespace'],
  'v1/ServiceAccount': [ServiceAccount, 'V1ServiceAccount'],
  'v1/ConfigMap': [ConfigMap, 'V1ConfigMap'],
  'v1/Secret': [Secret, 'V1Secret'],
  'v1/Service': [Service, 'V1Service'],
  'apps/v1/Deployment': [Deployment, 'V1Deployment'],
  'apps/v1/DaemonSet': [DaemonSet, 'V1DaemonSet'],
  'policy/v1/PodDisruptionBudget': [PodDisruptionBudget, 'V1PodDisruptionBudget'],
  'rbac.authorization.k8s.io/v1/Role': [Role, 'V1Role'],
  'rbac.authorization.k8s.io/v1/ClusterRole': [ClusterRole, 'V1ClusterRole'],
  'rbac.authorization.k8s.io/v1/RoleBinding': [RoleBinding, 'V1RoleBinding'],
  'rbac.authorization.k8s.io/v1/ClusterRoleBinding': [ClusterRoleBinding, 'V1ClusterRoleBinding'],
  'apiextensions.k8s.io/v1/CustomResourceDefinition': [CustomResourceDefinition, 'V1CustomResourceDefinition'],
};

export function isBuiltIn(o: { apiVersion?: string; kind?: string }): boolean {
  return `${o.apiVersion}/${o.kind}` in BUILT_IN;
}

type Model = { getAttributeTypeMap(): { name: string; type: string }[] };
const models = k8s as unknown as Record<string, Model | undefined>;

/** Paths of fields the type does not have, e.g. `spec.replica`. Free-form fields (maps, JSON schemas) are not entered. */
export function unknownFields(value: unknown, type: string, path = ''): string[] {
  if (value === null || value === undefined) return [];
  const array = /^Array<(.+)>$/.exec(type);
  if (array) return Array.isArray(value) ? value.flatMap((v, i) => unknownFields(v, array[1]!, `${path}[${i}]`)) : [];
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) return typeof value === 'object' ? Object.entries(value).flatMap(([k, v]) => unknownFields(v, map[1]!, `${path}.${k}`)) : [];
  const model = models[type];
  // JSONSchemaProps (a CRD's own schema) is validated by the CRD checks, not here: its `properties` are user keys.
  if (!model?.getAttributeTypeMap || type === 'V1JSONSchemaProps' || typeof value !== 'object') return [];
  const attrs = new Map(model.getAttributeTypeMap().map((a) => [a.name, a.type]));
  return Object.entries(value as Record<string, unknown>).flatMap(([k, v]) => {
    const t = attrs.get(k);
    const p = path ? `${path}.${k}` : k;
    return t === undefined ? [p] : unknownFields(v, t, p);
  });
}

/** Problems with one built-in object (empty when valid); throws for a kind this validator does not know. */
export function validateBuiltIn(o: { apiVersion: string; kind: string; metadata?: { name?: string } }): string[] {
  const entry = BUILT_IN[`${o.apiVersion}/${o.kind}`];
  if (!entry) throw new Error(`no offline schema for ${o.apiVersion} ${o.kind}`);
  const [Cls, modelName] = entry;
  const problems: string[] = [];
  try {
    new Cls(structuredClone(o) as never).validate();
  } catch (err) {
    problems.push((err as Error).message);
  }
  for (const f of unknownFields(o, modelName)) problems.push(`unknown field "${f}"`);
  return problems;
}
