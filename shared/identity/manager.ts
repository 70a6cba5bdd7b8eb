// Workload certificates for the service accounts whose pods run on this node: issued on first use (one CSR per
// identity however many callers ask at once), retried with backoff, replaced at half their lifetime, forgotten
// when the node no longer hosts the service account. Failures are never cached: the next get() tries again.
import { X509Certificate, type KeyObject } from 'node:crypto';
import type { Logger } from '../log.ts';
import { errorMessage } from '../errors.ts';
import type { ServiceAccountRef, SpiffeId } from '../spiffe.ts';
import type { CaClient } from './ca-client.ts';
import { newWorkloadKey, type WorkloadKey } from './csr.ts';
import { BadCertificateError, CertificateUnavailableError, IdentityError, ManagerClosedError } from './errors.ts';
import { backoffMs, DEFAULT_BACKOFF, MAX_TIMER_MS, retryable, rotationDelayMs, type Backoff } from './schedule.ts';
import { splitPem } from '../der.ts';
import { spiffeId } from '../spiffe.ts';

export interface WorkloadCertificate {
  identity: SpiffeId;
  /** Leaf, then intermediates (no root): what a TLS endpoint presents. */
  chainPem: string;
  keyPem: string;
  /** The trusted root(s) peers' chains are verified against. */
  rootsPem: string;
  notBefore: Date;
  notAfter: Date;
}

export type CertificateState = 'Initializing' | 'Available' | 'Unavailable';

/** One row of the admin endpoint's certificate dump. */
export interface CertificateDump {
  identity: SpiffeId;
  state: CertificateState;
  serial?: string;
  notBefore?: string;
  notAfter?: string;
  /** The last failure, while no newer success replaced it (a failing rotation shows here with state Available). */
  error?: string;
}

export interface CertificateManagerOptions {
  ca: Pick<CaClient, 'createCertificate'>;
  trustDomain: string;
  /** Lifetime asked of the CA (default 86400 s). */
  ttlSeconds?: number;
  log: Logger;
  /** Attempts a get() makes before it rejects (default 5); rotation retries until it succeeds or the SA is forgotten. */
  maxAttempts?: number;
  backoff?: Backoff;
  /** For tests: key + CSR generation. */
  newKey?: (identity: SpiffeId) => Promise<WorkloadKey>;
  random?: () => number;
}

interface Entry {
  identity: SpiffeId;
  sa: ServiceAccountRef;
  current?: { cert: WorkloadCertificate; serial: string };
  /** The fetch get() callers share. */
  pending?: Promise<WorkloadCertificate>;
  /** Next rotation, or the next rotation retry. */
  timer?: NodeJS.Timeout;
  rotationAttempt: number;
  lastError?: string;
  /** Aborted by forget()/close(): stops retries and keeps late answers from being installed. */
  abort: AbortController;
}

export const workloadIdentity = (sa: ServiceAccountRef, trustDomain: string): SpiffeId => spiffeId(sa.trustDomain || trustDomain, sa);

/** Check the CA's answer and split it; throws BadCertificateError when it is not a certificate for `identity` and `key`. */
export function toWorkloadCertificate(identity: SpiffeId, chain: string[], key: KeyObject, keyPem: string): { cert: WorkloadCertificate; serial: string } {
  const pems = chain.flatMap((p) => splitPem(p));
  if (pems.length < 2) throw new BadCertificateError(`the CA returned ${pems.length} certificate(s) for ${identity}; expected the leaf and at least the root`);
  let leaf: X509Certificate;
  try {
    leaf = new X509Certificate(pems[0]!);
  } catch (err) {
    throw new BadCertificateError(`the CA returned an unparsable certificate for ${identity}: ${errorMessage(err)}`, err);
  }
  const sans = (leaf.subjectAltName ?? '').split(/,\s*/);
  if (!sans.includes(`URI:${identity}`)) throw new BadCertificateError(`the CA issued a certificate for "${leaf.subjectAltName ?? ''}", not ${identity}`);
  if (!leaf.checkPrivateKey(key)) throw new BadCertificateError(`the CA issued a certificate for ${identity} that does not match the key sent`);
  return {
    cert: { identity, chainPem: pems.slice(0, -1).join(''), keyPem, rootsPem: pems.at(-1)!, notBefore: leaf.validFromDate, notAfter: leaf.validToDate },
    serial: leaf.serialNumber,
  };
}

export class CertificateManager {
  readonly #o: Required<Omit<CertificateManagerOptions, 'newKey' | 'random' | 'backoff' | 'log'>>;
  readonly #log: Logger;
  readonly #backoff: Backoff;
  readonly #newKey: (identity: SpiffeId) => Promise<WorkloadKey>;
  readonly #random: () => number;
  /** identity → its certificate and fetch/rotation state. */
  readonly #entries = new Map<SpiffeId, Entry>();
  readonly #listeners = new Set<(sa: ServiceAccountRef, cert: WorkloadCertificate) => void>();
  #closed = false;

  constructor(o: CertificateManagerOptions) {
    this.#o = { ca: o.ca, trustDomain: o.trustDomain, ttlSeconds: o.ttlSeconds ?? 86_400, maxAttempts: o.maxAttempts ?? 5 };
    this.#log = o.log;
    this.#backoff = o.backoff ?? DEFAULT_BACKOFF;
    this.#newKey = o.newKey ?? newWorkloadKey;
    this.#random = o.random ?? Math.random;
  }

  /** The certificate for `sa` (issued on first use; cached and rotated afterwards). */
  get(sa: ServiceAccountRef): Promise<WorkloadCertificate> {
    if (this.#closed) return Promise.reject(new ManagerClosedError());
    const identity = workloadIdentity(sa, this.#o.trustDomain);
    let e = this.#entries.get(identity);
    if (!e) {
      e = { identity, sa: { trustDomain: sa.trustDomain || this.#o.trustDomain, namespace: sa.namespace, serviceAccount: sa.serviceAccount }, rotationAttempt: 0, abort: new AbortController() };
      this.#entries.set(identity, e);
    }
    if (e.current && e.current.cert.notAfter.getTime() > Date.now()) return Promise.resolve(e.current.cert);
    if (e.pending) return e.pending;
    const entry = e;
    const p = this.#fetch(entry).finally(() => {
      if (entry.pending === p) entry.pending = undefined;
    });
    entry.pending = p;
    return p;
  }

  /** Called with each replacement certificate (not the first one of an identity). Returns an unsubscribe function. */
  onRotated(fn: (sa: ServiceAccountRef, cert: WorkloadCertificate) => void): () => void {
    this.#listeners.add(fn);
    return () => this.#listeners.delete(fn);
  }

  /** Stop caching and rotating `sa`'s certificate (the node no longer runs its pods). */
  forget(sa: ServiceAccountRef): void {
    const identity = workloadIdentity(sa, this.#o.trustDomain);
    const e = this.#entries.get(identity);
    if (!e) return;
    this.#stop(e);
    this.#entries.delete(identity);
    this.#log.debug({ identity }, 'certificate forgotten');
  }

  dump(): CertificateDump[] {
    const now = Date.now();
    return [...this.#entries.values()].map((e) => {
      const c = e.current;
      const valid = c !== undefined && c.cert.notAfter.getTime() > now;
      const state: CertificateState = valid ? 'Available' : e.pending ? 'Initializing' : 'Unavailable';
      return {
        identity: e.identity, state,
        ...(c ? { serial: c.serial, notBefore: c.cert.notBefore.toISOString(), notAfter: c.cert.notAfter.toISOString() } : {}),
        ...(e.lastError ? { error: e.lastError } : {}),
      };
    });
  }

  close(): void {
    this.#closed = true;
    for (const e of this.#entries.values()) this.#stop(e);
    this.#entries.clear();
    this.#listeners.clear();
  }

  #stop(e: Entry): void {
    e.abort.abort();
    clearTimeout(e.timer);
    e.timer = undefined;
  }

  #live(e: Entry): boolean {
    return !this.#closed && this.#entries.get(e.identity) === e && !e.abort.signal.aborted;
  }

  /** One CSR → CA → checked certificate. */
  async #issue(e: Entry): Promise<{ cert: WorkloadCertificate; serial: string }> {
    const k = await this.#newKey(e.identity);
    const chain = await this.#o.ca.createCertificate(k.csrPem, this.#o.ttlSeconds, e.identity);
    return toWorkloadCertificate(e.identity, chain, k.key, k.keyPem);
  }

  /** get()'s bounded fetch: up to maxAttempts, with backoff between them. */
  async #fetch(e: Entry): Promise<WorkloadCertificate> {
    for (let attempt = 1; ; attempt++) {
      try {
        const issued = await this.#issue(e);
        if (this.#live(e)) this.#install(e, issued, false);
        return issued.cert;
      } catch (err) {
        e.lastError = errorMessage(err);
        const again = attempt < this.#o.maxAttempts && retryable(err);
        this.#log.warn({ identity: e.identity, attempt, err: e.lastError, retry: again }, 'certificate request failed');
        if (!again) throw new CertificateUnavailableError(e.identity, attempt, err);
        if (!this.#live(e)) throw this.#closed ? new ManagerClosedError() : new CertificateUnavailableError(e.identity, attempt, err);
        await sleep(backoffMs(attempt, this.#backoff, this.#random()), e.abort.signal).catch(() => {
          throw this.#closed ? new ManagerClosedError() : new CertificateUnavailableError(e.identity, attempt, new IdentityError('ZT_CERTIFICATE_FORGOTTEN', `${e.identity} was forgotten while its certificate was being requested`));
        });
      }
    }
  }

  #install(e: Entry, issued: { cert: WorkloadCertificate; serial: string }, rotated: boolean): void {
    e.current = issued;
    e.lastError = undefined;
    e.rotationAttempt = 0;
    const { cert } = issued;
    this.#log.info({ identity: e.identity, serial: issued.serial, notAfter: cert.notAfter.toISOString(), rotated }, rotated ? 'certificate rotated' : 'certificate issued');
    this.#schedule(e, rotationDelayMs(cert.notBefore, cert.notAfter, Date.now()));
    if (rotated) {
      for (const fn of this.#listeners) {
        try {
          fn(e.sa, cert);
        } catch (err) {
          this.#log.error({ identity: e.identity, err: errorMessage(err) }, 'certificate rotation listener threw');
        }
      }
    }
  }

  #schedule(e: Entry, delayMs: number): void {
    clearTimeout(e.timer);
    e.timer = setTimeout(() => this.#rotate(e), Math.min(delayMs, MAX_TIMER_MS));
    e.timer.unref?.();
  }

  /** One rotation attempt; a failure schedules the next one (the current certificate stays in use meanwhile). */
  #rotate(e: Entry): void {
    e.timer = undefined;
    if (!this.#live(e)) return;
    e.rotationAttempt++;
    this.#issue(e).then(
      (issued) => {
        if (this.#live(e)) this.#install(e, issued, true);
      },
      (err: unknown) => {
        if (!this.#live(e)) return;
        e.lastError = errorMessage(err);
        const delay = backoffMs(e.rotationAttempt, this.#backoff, this.#random());
        this.#log.warn({ identity: e.identity, attempt: e.rotationAttempt, err: e.lastError, retryMs: delay }, 'certificate rotation failed; keeping the current certificate');
        this.#schedule(e, delay);
      },
    );
  }
}

/** setTimeout as a promise that rejects when `signal` aborts (global setTimeout, so t.mock.timers drives it). */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = (): void => {
      clearTimeout(t);
      reject(signal.reason);
    };
    const t = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
