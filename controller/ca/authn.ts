// Authentication: the caller's ServiceAccount token (gRPC metadata `authorization: Bearer <jwt>`) is checked by a
// Kubernetes TokenReview with the CA's audience. The result is the caller's service account and, for tokens bound
// to a pod, that pod's name and uid.
import type { V1TokenReview } from '@kubernetes/client-node';
import type { KubeClient } from '../../shared/kube/client.ts';
import type { Metadata } from '@grpc/grpc-js';
import { apiUnavailable, unauthenticated } from './errors.ts';
import { parseServiceAccountUser, type ServiceAccountRef } from './identity.ts';

export interface Caller extends ServiceAccountRef {
  /** Set when the token is bound to a pod. */
  pod?: { name: string; uid: string };
}

export type Authenticator = (md: Metadata) => Promise<Caller>;

/** The bearer token from gRPC metadata; throws UNAUTHENTICATED when absent or malformed. */
export function bearerToken(md: Metadata): string {
  const values = md.get('authorization');
  if (values.length === 0) throw unauthenticated('no credentials: send gRPC metadata "authorization: Bearer <service account token>"');
  const m = /^Bearer\s+(\S+)$/i.exec(String(values[0]));
  if (!m) throw unauthenticated('authorization metadata must be "Bearer <service account token>"');
  return m[1]!;
}

export function tokenReviewAuthenticator(kube: KubeClient, audience: string): Authenticator {
  return async (md) => {
    const token = bearerToken(md);
    let review;
    try {
      review = await kube.create<V1TokenReview>('/apis/authentication.k8s.io/v1/tokenreviews', { apiVersion: 'authentication.k8s.io/v1', kind: 'TokenReview', spec: { token, audiences: [audience] } });
    } catch (err) {
      throw apiUnavailable(`token review failed; is the kubernetes api reachable? (${(err as Error).message})`, err);
    }
    const st = review.status;
    if (!st?.authenticated) throw unauthenticated(`token rejected by kubernetes: ${st?.error || 'not authenticated'}`);
    if (st.audiences && !st.audiences.includes(audience)) throw unauthenticated(`token is not for audience "${audience}"`);
    const sa = parseServiceAccountUser(st.user?.username ?? '');
    if (!sa) throw unauthenticated(`token user "${st.user?.username ?? ''}" is not a service account`);
    const extra = st.user?.extra ?? {};
    const podName = extra['authentication.kubernetes.io/pod-name']?.[0];
    const podUid = extra['authentication.kubernetes.io/pod-uid']?.[0];
    return { ...sa, ...(podName && podUid ? { pod: { name: podName, uid: podUid } } : {}) };
  };
}
