// Owns the shapes policy conversion reads and writes: the istio.security.Authorization message
// (re-exported from shared/proto/types.ts), the Kubernetes resources it reads (loosely typed:
// the spec is parsed, never trusted), and the result of a conversion.

export type {
  AuthorizationScope as Scope, AuthorizationAction as Action, StringMatch, CidrAddress as Address, Match, Clause, Rule,
} from '../../shared/proto/types.ts';
import type { Authorization as WireAuthorization } from '../../shared/proto/types.ts';

/**
 * istio.security.Authorization as pushed (shared/proto/types.ts, ztunnel's naming: rules → clauses
 * → matches). Rules are OR-ed, a rule's clauses AND-ed, a clause's matches OR-ed; an empty Match or a
 * Rule with no clauses matches every connection; an ALLOW policy with no rules allows nothing.
 * `dryRun` is Istio's `dry_run` (istio/istio#58657); it is only set when the caller says the wire
 * carries it (see ConvertOptions.dryRunSupported).
 */
export type Authorization = WireAuthorization & { dryRun?: boolean };

/** A Kubernetes object as an informer hands it over; the spec is validated before use. */
export interface PolicyResource {
  metadata: {
    name: string;
    namespace: string;
    annotations?: Record<string, string>;
    creationTimestamp?: string | Date;
  };
  spec?: unknown;
}

/**
 * What the lead writes as the `ZtunnelAccepted` condition. `accepted` is whether ztunnel enforces
 * (some form of) the policy; reason/message are a CamelCase reason and a lower-case actionable text.
 */
export interface PolicyStatus {
  accepted: boolean;
  reason: string;
  message: string;
}

export interface Conversion {
  /** The resource to push to ztunnels, if any. */
  authorization?: Authorization;
  /** `<namespace>/<name>` of `authorization`: its xDS resource name and its key in a Workload's list. */
  resourceName?: string;
  status: PolicyStatus;
}

export interface ConvertOptions {
  /** Istio's root namespace (meshConfig.rootNamespace). Default `istio-system`. */
  rootNamespace?: string;
  /**
   * Whether the pushed Authorization carries `dry_run`. When false (default), a dry-run policy is
   * not sent at all: a ztunnel that cannot see the flag would enforce it.
   */
  dryRunSupported?: boolean;
}

export const DEFAULT_ROOT_NAMESPACE = 'istio-system';
