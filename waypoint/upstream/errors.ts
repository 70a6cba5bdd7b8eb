// The upstream layer's error catalogue: why a request to an endpoint failed, as a stable code plus the facts the
// proxy needs to answer like Envoy (status, response flag, reset reason) and to decide on retries (`kind` maps onto
// Envoy's retry_on tokens: connect-failure, reset, refused-stream; a timeout is a per-try timeout).
import { MeshError } from '../../shared/errors.ts';

export type UpstreamFailureKind =
  | 'connect-failure' | 'reset' | 'refused-stream' | 'timeout' | 'protocol-error' | 'invalid-request' | 'cancelled';

export class UpstreamError extends MeshError {
  readonly kind: UpstreamFailureKind;
  /** The endpoint id (`uid:ip:port`). */
  readonly endpoint: string;
  /** Status the proxy answers with when the failure happens before response headers. */
  readonly status: number;
  /** Envoy response flag for the access log. */
  readonly responseFlag: string;
  /** Envoy's `reset reason` text for the local reply body ('' for timeouts and cancellations). */
  readonly resetReason: string;
  constructor(
    code: string,
    kind: UpstreamFailureKind,
    f: { endpoint: string; status: number; responseFlag: string; resetReason: string },
    message: string,
    options?: { cause?: unknown },
  ) {
    super(code, message, options);
    this.kind = kind;
    this.endpoint = f.endpoint;
    this.status = f.status;
    this.responseFlag = f.responseFlag;
    this.resetReason = f.resetReason;
  }

  /** Envoy's local reply body for this failure. */
  get localReplyBody(): string {
    if (this.kind === 'timeout') return 'upstream request timeout';
    return `upstream connect error or disconnect/reset before headers. reset reason: ${this.resetReason}`;
  }
}

/** The tunnel to the endpoint could not be opened (refused, unreachable, HBONE error, or connect timeout). */
export class UpstreamConnectError extends UpstreamError {
  readonly timedOut: boolean;
  constructor(endpoint: string, timedOut: boolean, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_CONNECT_FAILED', 'connect-failure',
      { endpoint, status: 503, responseFlag: 'UF', resetReason: timedOut ? 'connection timeout' : 'connection failure' },
      timedOut
        ? `connecting to ${endpoint} timed out; is the pod ready, and is its ztunnel reachable on 15008?`
        : `connecting to ${endpoint} failed; is the pod running and listening on that port?`,
      options);
    this.timedOut = timedOut;
  }
}

/** The connection or the stream was closed or reset after the tunnel was up. */
export class UpstreamResetError extends UpstreamError {
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_RESET', 'reset', { endpoint, status: 503, responseFlag: 'UC', resetReason: 'connection termination' },
      `${endpoint} closed or reset the connection before the response was complete`, options);
  }
}

/** HTTP/2: the endpoint refused the stream (RST_STREAM REFUSED_STREAM): the request was not processed. */
export class UpstreamRefusedStreamError extends UpstreamError {
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_REFUSED_STREAM', 'refused-stream',
      { endpoint, status: 503, responseFlag: 'UR', resetReason: 'remote refused stream reset' },
      `${endpoint} refused the HTTP/2 stream (REFUSED_STREAM); the request was not processed and is safe to retry`, options);
  }
}

/** No response headers within the per-try timeout. */
export class UpstreamTimeoutError extends UpstreamError {
  constructor(endpoint: string, timeoutMs: number | undefined, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_TIMEOUT', 'timeout', { endpoint, status: 504, responseFlag: 'UT', resetReason: '' },
      `${endpoint} sent no response within ${timeoutMs ?? '?'} ms; raise the route timeout or check the app`, options);
  }
}

/** The endpoint's bytes are not valid HTTP (e.g. an HTTP/1 server spoken to as h2c, or a malformed response). */
export class UpstreamProtocolError extends UpstreamError {
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_PROTOCOL_ERROR', 'protocol-error', { endpoint, status: 503, responseFlag: 'UPE', resetReason: 'protocol error' },
      `${endpoint} answered with invalid HTTP; does the Service port's protocol (appProtocol or name prefix) match the app?`, options);
  }
}

/** The request itself cannot be sent as given (a header value HTTP forbids, an unsupported method); nothing was sent. */
export class UpstreamRequestInvalidError extends UpstreamError {
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_REQUEST_INVALID', 'invalid-request', { endpoint, status: 400, responseFlag: 'DPE', resetReason: '' },
      `the request to ${endpoint} cannot be sent: ${errText(options?.cause)}`, options);
  }
}

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

/** The caller gave up (downstream went away, or its request body failed). */
export class UpstreamCancelledError extends UpstreamError {
  constructor(endpoint: string, options?: { cause?: unknown }) {
    super('WP_UPSTREAM_CANCELLED', 'cancelled', { endpoint, status: 499, responseFlag: 'DC', resetReason: '' },
      `request to ${endpoint} cancelled by the downstream side`, options);
  }
}
