// Owns which DestinationRule applies to a service and the DestinationPolicy compiled from it. Rules are keyed by
// their host read as Istio reads it (a name without dots is `<name>.<rule namespace>.svc.<suffix>`; anything else
// is already fully qualified). A rule for the exact hostname wins; else the most specific wildcard host that covers
// it (`*.demo.svc.cluster.local` before `*.svc.cluster.local` before `*`), as Istio picks the most specific
// DestinationRule host. When several rules name one host, the
// rules in the service's own namespace win (else those in the namespace of the oldest rule), and among them Istio's
// merge applies: the oldest rule's traffic policy (with its port-level settings), subsets from all of them, the
// first definition of a subset name winning. Subsets resolve to the uids of the workloads backing the service whose
// labels include all of the subset's labels.

import type { DestinationPolicy, Subset, TrafficPolicy } from '../../../shared/waypoint/config.ts';
import { mergePolicy } from './destination-rule.ts';
import { type DestinationRuleSpec, type SubsetSpec, byAge, compact, sourceOf } from './model.ts';
import type { ServiceInfo, WorkloadInfo } from './types.ts';

/** Istio's ResolveShortnameToFQDN. */
export function resolveHost(host: string, namespace: string, domainSuffix: string): string {
  return host.includes('.') || host === '*' ? host : `${host}.${namespace}.svc.${domainSuffix}`;
}

interface MergedRule {
  source: DestinationRuleSpec;
  policy?: TrafficPolicy;
  ports: DestinationRuleSpec['ports'];
  subsets: SubsetSpec[];
}

export class DestinationIndex {
  /** Rules by the FQDN they name, oldest first. */
  readonly #byHost = new Map<string, DestinationRuleSpec[]>();
  /** Wildcard hosts (`*` or `*.<suffix>`), longest first: the first that covers a hostname is the most specific. */
  readonly #wildcards: string[] = [];
  /** Merged rule per service key (memo; undefined = no rule). */
  readonly #merged = new Map<string, MergedRule | undefined>();
  readonly #workloads: WorkloadInfo[];

  constructor(rules: DestinationRuleSpec[], domainSuffix: string, workloads: WorkloadInfo[]) {
    this.#workloads = workloads;
    for (const r of [...rules].sort(byAge)) {
      if (r.selective) continue;
      const host = resolveHost(r.host, r.namespace, domainSuffix);
      if (host.includes('*') && !isWildcardHost(host)) continue; // `*` elsewhere than a leading label names nothing
      if (isWildcardHost(host) && !this.#byHost.has(host)) this.#wildcards.push(host);
      this.#byHost.set(host, [...(this.#byHost.get(host) ?? []), r]);
    }
    this.#wildcards.sort((a, b) => b.length - a.length);
  }

  #rule(svc: ServiceInfo): MergedRule | undefined {
    if (this.#merged.has(svc.key)) return this.#merged.get(svc.key);
    const wildcard = this.#byHost.has(svc.hostname) ? undefined : this.#wildcards.find((w) => w === '*' || svc.hostname.endsWith(w.slice(1)));
    const candidates = this.#byHost.get(wildcard ?? svc.hostname) ?? [];
    let merged: MergedRule | undefined;
    if (candidates.length > 0) {
      const ns = candidates.some((r) => r.namespace === svc.namespace) ? svc.namespace : candidates[0]!.namespace;
      const group = candidates.filter((r) => r.namespace === ns);
      const withPolicy = group.find((r) => r.policy !== undefined || r.ports.length > 0);
      const subsets: SubsetSpec[] = [];
      for (const r of group) for (const s of r.subsets) if (!subsets.some((x) => x.name === s.name)) subsets.push(s);
      merged = { source: group[0]!, policy: withPolicy?.policy, ports: withPolicy?.ports ?? [], subsets };
    }
    this.#merged.set(svc.key, merged);
    return merged;
  }

  hasSubset(svc: ServiceInfo, subset: string): boolean {
    return this.#rule(svc)?.subsets.some((s) => s.name === subset) ?? false;
  }

  policyFor(svc: ServiceInfo): DestinationPolicy | undefined {
    const r = this.#rule(svc);
    if (!r) return undefined;
    const subsets: Subset[] = r.subsets.map((s) => compact({
      name: s.name,
      labels: { ...s.labels },
      workloads: this.#workloads
        .filter((w) => w.services.includes(svc.key) && Object.entries(s.labels).every(([k, v]) => w.labels[k] === v))
        .map((w) => w.uid)
        .sort(),
      policy: s.policy ? mergePolicy(r.policy, s.policy) : undefined,
      ports: subsetPorts(r, s),
    }));
    return compact({
      service: svc.key,
      source: sourceOf(r.source),
      policy: r.policy ?? {},
      ports: r.ports.length > 0 ? r.ports : undefined,
      subsets,
    });
  }
}

/** `*` or `*.<domain>`: Istio's wildcard host forms. */
function isWildcardHost(host: string): boolean {
  return host === '*' || (host.startsWith('*.') && !host.slice(2).includes('*'));
}

/**
 * A subset's whole policy at each port where it differs from `Subset.policy`: the destination's port-level policy
 * (which replaces its top-level one) with the subset's policy over it, then the subset's own port-level settings.
 * Undefined when the subset has neither a policy nor port-level settings (the destination's apply as they are).
 */
function subsetPorts(r: MergedRule, s: SubsetSpec): Array<{ port: number; policy: TrafficPolicy }> | undefined {
  if (!s.policy && !s.ports) return undefined;
  const ports = [...new Set([...r.ports.map((p) => p.port), ...(s.ports ?? []).map((p) => p.port)])].sort((a, b) => a - b);
  if (ports.length === 0) return undefined;
  return ports.map((port) => {
    let policy = r.ports.find((p) => p.port === port)?.policy ?? r.policy ?? {};
    if (s.policy) policy = mergePolicy(policy, s.policy);
    const own = s.ports?.find((p) => p.port === port)?.policy;
    if (own) policy = mergePolicy(policy, own);
    return { port, policy };
  });
}
