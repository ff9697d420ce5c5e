// The one call shape every layer speaks: a Call turns an outbound request into a Response, a
// Layer wraps a Call. Nothing here knows about sockets, runtimes, YAML or discovery.

import type { HeaderList } from "./header-list.ts";
import type { CarriedSpan } from "./trace-context.ts";

/** A network address of one peer (a sidecar's internal port, or an app's port). */
export interface Endpoint {
  readonly host: string;
  readonly port: number;
  /** `host:port`, with IPv6 hosts bracketed; the key for pools, eviction and logs. */
  readonly key: string;
  /**
   * The identity the peer behind this address must prove (a SPIFFE id, once mTLS lands); a
   * verifying dialer checks it and keeps separate pools per address and identity.
   */
  readonly identity?: string;
}

/** The request as it travels between layers: already routed, never buffered whole. */
export interface ProxyRequest {
  /** Upper-case HTTP verb. */
  readonly method: string;
  /** The method path for the app, starting with `/`, percent-encoding kept as received. */
  readonly path: string;
  /** Raw query string including the leading `?`, or empty. */
  readonly query: string;
  /** Headers to send on; layers may add to them before the request leaves. */
  readonly headers: HeaderList;
  /** The body: a stream, bytes held for replay (small bodies under a retry policy), or null. */
  readonly body: ReadableStream<Uint8Array> | Uint8Array | null;
}

/**
 * What the forwarding core needs of an abort signal: a Web AbortSignal has it, and so does the
 * timer layers' cheaper ChildSignal (core/abort.ts). Listeners are called without an Event.
 */
export interface CallSignal {
  readonly aborted: boolean;
  readonly reason: unknown;
  addEventListener(type: "abort", fn: () => void, opts?: { once?: boolean }): void;
  removeEventListener(type: "abort", fn: () => void): void;
}

/** Per-call facts that layers read and (for `endpoint`) fill in. */
export interface CallContext {
  /** Target app-id and namespace. */
  readonly appId: string;
  readonly namespace: string;
  /** Aborted when the client goes away or the sidecar stops, or (per try) by a timeout layer. */
  signal: CallSignal;
  /** Set by the balancing layer: the endpoint this attempt goes to. */
  endpoint?: Endpoint;
  /** Set by the body-limit guard when the request body crossed --max-body-size. */
  bodyTooLarge?: boolean;
  /** Endpoints that failed earlier in this call: the next attempt avoids them when it can. */
  avoid?: Set<string>;
  /** Absolute time (Clock.now) by which the whole call must finish, when a deadline applies. */
  deadlineAt?: number;
  /**
   * Set by a dialer that opened a new connection for this attempt: how long connecting (and the
   * TLS handshake) took, in ms. The balancer leaves it out of the instance's latency estimate.
   */
  connectMs?: number;
  /** Set by the listener's trace-context step: the traceparent of the span this call runs under. */
  traceparent?: string | null;
  /** Set with it when spans are recorded: the span itself, so the attempts' spans start under it without parsing its traceparent. */
  span?: CarriedSpan | null;
  /** Set by the attempt-span step: attempts so far, and how the last one ended (the next one's retry reason). */
  attempt?: number;
  lastOutcome?: string | null;
  /** Set by the circuit-breaker step when a breaker applies: its state as this attempt was admitted. */
  breakerState?: string | null;
  /** On the callee: sends the caller's delivery receipt (102) once, right before the app gets the request. */
  receipt?: (() => void) | null;
}

/**
 * A call's context as a listener starts it: every field the layers fill in is present from the
 * start, so all contexts share one shape.
 */
export function newCallContext(appId: string, namespace: string, signal: CallSignal): CallContext {
  return { appId, namespace, signal, connectMs: 0, traceparent: null, span: null, attempt: 0, lastOutcome: null, breakerState: null, receipt: null };
}

/**
 * A WebSocket handshake (the listener kept its `upgrade` header): its body is the client's half of
 * the tunnel, which no dialer reads before a 101, so until then it can be sent again like a GET.
 */
export function isHandshake(req: ProxyRequest): boolean {
  return req.body instanceof ReadableStream && req.headers.has("upgrade");
}

export type Call = (req: ProxyRequest, ctx: CallContext) => Promise<Response>;
export type Layer = (next: Call) => Call;

export function endpoint(host: string, port: number): Endpoint {
  const key = host.includes(":") ? `[${host}]:${port}` : `${host}:${port}`;
  return { host, port, key };
}
