// Dapr's HTTP and service-invocation metric families (names, labels and ms buckets as daprd's,
// so its Grafana dashboards work) and meshlet's count of the answers sidecars made, with the
// rules that turn a request into bounded label values (pathMatching, increasedCardinality,
// excludeVerbs). Series are looked up through small maps and bound once, never hashed per request.

import type { Prom } from "../core/metrics.ts";
import { compilePathPatterns, type PathPatterns } from "./path-patterns.ts";
import { CounterFamily, HistogramFamily, type CounterSeries, type HistogramSeries } from "./series.ts";
import { boundedLabels } from "../resiliency/events.ts";

export interface MetricsSpec {
  readonly enabled: boolean;
  /** Histogram buckets of the latency families, in ms. */
  readonly latencyBucketsMs: readonly number[];
  /** true (Dapr's default): paths no pattern matches are recorded as sent (folded past 1,000 values); false: as `_`. */
  readonly increasedCardinality: boolean;
  readonly pathMatching: PathPatterns;
  /** true: the method label is left empty. */
  readonly excludeVerbs: boolean;
}

/** Dapr's default latency buckets (ms). */
export const DAPR_LATENCY_BUCKETS_MS: readonly number[] = Object.freeze([
  1, 2, 3, 4, 5, 6, 8, 10, 13, 16, 20, 25, 30, 40, 50, 65, 80, 100, 130, 160, 200, 250, 300, 400, 500, 650, 800, 1000, 2000, 5000, 10000, 20000, 50000, 100000,
]);
/** Dapr's size buckets (bytes). */
const BYTE_BUCKETS = [1024, 2048, 4096, 16384, 65536, 262144, 1048576, 4194304, 16777216, 67108864, 268435456, 1073741824, 4294967296];

export const DEFAULT_METRICS: MetricsSpec = Object.freeze({
  enabled: true,
  latencyBucketsMs: DAPR_LATENCY_BUCKETS_MS,
  increasedCardinality: true,
  pathMatching: compilePathPatterns([]),
  excludeVerbs: false,
});

/** Distinct values a client-controlled label (a path, a peer app-id) takes before new ones become `_other`. */
const VALUES_MAX = 1000;

/** The series of one path label value: per verb, and per verb and status. */
export class PathSlot<B> {
  private readonly byVerb = new Map<string, { requests: CounterSeries | null; byStatus: Map<number, B> }>();
  constructor(
    readonly label: string,
    private readonly make: (method: string, status: string) => B,
    private readonly requests: ((method: string) => CounterSeries) | null,
  ) {}
  private verb(method: string) {
    let v = this.byVerb.get(method);
    if (!v) this.byVerb.set(method, (v = { requests: this.requests?.(method) ?? null, byStatus: new Map() }));
    return v;
  }
  /** The request counter of a verb (API port only). */
  request(method: string): CounterSeries {
    return this.verb(method).requests!;
  }
  bundle(method: string, status: number): B {
    const v = this.verb(method);
    let b = v.byStatus.get(status);
    if (!b) v.byStatus.set(status, (b = this.make(method, String(status))));
    return b;
  }
}

/** Path slots keyed by what the request said; tables sharing one budget hold VALUES_MAX slots in all, then `other`. */
class SlotTable<B> {
  private readonly slots = new Map<string, PathSlot<B>>();
  constructor(
    private readonly make: (key: string) => PathSlot<B>,
    private readonly other: () => PathSlot<B>,
    private readonly budget: { used: number },
  ) {}
  get(key: string): PathSlot<B> {
    const s = this.slots.get(key);
    if (s) return s;
    if (this.budget.used >= VALUES_MAX) return this.other();
    this.budget.used++;
    const made = this.make(key);
    this.slots.set(key, made);
    return made;
  }
}

export interface ServerBundle {
  readonly responses: CounterSeries;
  readonly latency: HistogramSeries;
}
export interface ClientBundle {
  readonly completed: CounterSeries;
  readonly latency: HistogramSeries;
  readonly sent: HistogramSeries;
  readonly received: HistogramSeries;
}

export class HttpMetrics {
  readonly serverRequestBytes: HistogramSeries;
  readonly serverResponseBytes: HistogramSeries;
  private readonly serverRequests: CounterFamily;
  private readonly serverResponses: CounterFamily;
  private readonly serverLatency: HistogramFamily;
  private readonly clientCompleted: CounterFamily;
  private readonly clientLatency: HistogramFamily;
  private readonly clientSentBytes: HistogramFamily;
  private readonly clientReceivedBytes: HistogramFamily;
  private readonly reqSent: CounterFamily;
  private readonly reqRecv: CounterFamily;
  private readonly resSent: CounterFamily;
  private readonly resRecv: CounterFamily;
  private readonly resRecvLatency: HistogramFamily;
  private readonly sidecarErrors: CounterFamily;
  private readonly invocationErrors: CounterFamily;
  private readonly invokeSlots = new Map<string, SlotTable<ServerBundle>>();
  private readonly apiSlots = new Map<string, PathSlot<ServerBundle>>();
  private readonly appSlots: SlotTable<ClientBundle>;
  private readonly errorSlot: PathSlot<ServerBundle>;
  /** Sidecar-made answers by reason (a closed set: REASONS), per listener. */
  private readonly apiErrors = new Map<string, CounterSeries>();
  private readonly internalErrors = new Map<string, CounterSeries>();
  private readonly peers = boundedLabels(VALUES_MAX);
  /** Invocation path values across every app-id's table. */
  private readonly invokeBudget = { used: 0 };
  private otherSlot: PathSlot<ServerBundle> | null = null;

  constructor(
    registry: Prom.Registry,
    readonly spec: MetricsSpec,
    readonly appId: string,
  ) {
    const ms = spec.latencyBucketsMs;
    const counter = (name: string, help: string, labelNames: string[]) => new CounterFamily(registry, name, help, labelNames);
    const histogram = (name: string, help: string, labelNames: string[], buckets: readonly number[]) => new HistogramFamily(registry, name, help, labelNames, buckets);
    const http = ["app_id", "method", "path", "status"];
    this.serverRequests = counter("dapr_http_server_request_count", "HTTP requests received by the Dapr API", ["app_id", "method", "path"]);
    this.serverResponses = counter("dapr_http_server_response_count", "HTTP responses sent by the Dapr API", http);
    this.serverLatency = histogram("dapr_http_server_latency", "Time from request to response headers on the Dapr API (ms)", http, ms);
    const app = { app_id: appId };
    this.serverRequestBytes = histogram("dapr_http_server_request_bytes", "Request body sizes on the Dapr API (bytes, when declared)", ["app_id"], BYTE_BUCKETS).series(app);
    this.serverResponseBytes = histogram("dapr_http_server_response_bytes", "Response body sizes on the Dapr API (bytes, when declared)", ["app_id"], BYTE_BUCKETS).series(app);
    this.clientCompleted = counter("dapr_http_client_completed_count", "Requests to the app that completed", http);
    this.clientLatency = histogram("dapr_http_client_roundtrip_latency", "Time from sending a request to the app to its response headers (ms)", http, ms);
    this.clientSentBytes = histogram("dapr_http_client_sent_bytes", "Request body sizes sent to the app (bytes, when declared)", http, BYTE_BUCKETS);
    this.clientReceivedBytes = histogram("dapr_http_client_received_bytes", "Response body sizes received from the app (bytes, when declared)", http, BYTE_BUCKETS);
    const inv = "dapr_runtime_service_invocation_";
    this.reqSent = counter(`${inv}req_sent_total`, "Invocations sent to another app-id", ["app_id", "dst_app_id", "type"]);
    this.reqRecv = counter(`${inv}req_recv_total`, "Invocations received from other sidecars", ["app_id", "src_app_id"]);
    this.resSent = counter(`${inv}res_sent_total`, "Responses sent back to calling sidecars", ["app_id", "dst_app_id", "status"]);
    this.resRecv = counter(`${inv}res_recv_total`, "Responses received for invocations sent", ["app_id", "src_app_id", "status", "type"]);
    this.resRecvLatency = histogram(`${inv}res_recv_latency_ms`, "Time from sending an invocation to its response headers, retries included (ms)", ["app_id", "src_app_id", "status"], ms);
    this.invocationErrors = counter("meshlet_invocation_errors_total", "Invocations answered by a sidecar instead of the target app, by target and meshlet-reason", ["app_id", "dst_app_id", "reason"]);
    this.sidecarErrors = counter("meshlet_sidecar_errors_total", "Answers made by the sidecar itself (not the app), by meshlet-reason and listener (api, internal)", ["reason", "listener"]);
    this.errorSlot = this.serverSlot("_");
    const appSlot = (label: string) =>
      new PathSlot<ClientBundle>(
        label,
        (method, status) => {
          const l = { app_id: appId, method, path: label, status };
          return { completed: this.clientCompleted.series(l), latency: this.clientLatency.series(l), sent: this.clientSentBytes.series(l), received: this.clientReceivedBytes.series(l) };
        },
        null,
      );
    let otherApp: PathSlot<ClientBundle> | null = null;
    this.appSlots = new SlotTable(appSlot, () => (otherApp ??= appSlot("_other")), { used: 0 });
  }

  private serverSlot(label: string): PathSlot<ServerBundle> {
    const appId = this.appId;
    return new PathSlot<ServerBundle>(
      label,
      (method, status) => {
        const l = { app_id: appId, method, path: label, status };
        return { responses: this.serverResponses.series(l), latency: this.serverLatency.series(l) };
      },
      (method) => this.serverRequests.series({ app_id: appId, method, path: label }),
    );
  }

  /** The method label: the verb, or empty with excludeVerbs. */
  verb(method: string): string {
    return this.spec.excludeVerbs ? "" : method;
  }

  /** The API port's series for an invocation of `methodPath` on `appId`. */
  invokeSlot(appId: string, methodPath: string): PathSlot<ServerBundle> {
    const pattern = this.spec.pathMatching.match(methodPath);
    const key = pattern ?? (this.spec.increasedCardinality ? methodPath : null);
    if (key === null) return this.errorSlot;
    let table = this.invokeSlots.get(appId);
    if (!table) {
      if (this.invokeBudget.used >= VALUES_MAX) return this.otherInvoke();
      const made = new SlotTable<ServerBundle>((k) => this.serverSlot(`/v1.0/invoke/${appId}/method${k}`), () => this.otherInvoke(), this.invokeBudget);
      this.invokeSlots.set(appId, (table = made));
    }
    return table.get(key);
  }

  private otherInvoke(): PathSlot<ServerBundle> {
    return (this.otherSlot ??= this.serverSlot("_other"));
  }

  /** The API port's series for an API endpoint (its canonical path) or a refused request (`_`). */
  apiSlot(path: string | null): PathSlot<ServerBundle> {
    if (path === null) return this.errorSlot;
    let s = this.apiSlots.get(path);
    if (!s) this.apiSlots.set(path, (s = this.serverSlot(path)));
    return s;
  }

  /** The series of a request to the app. */
  appSlot(methodPath: string): PathSlot<ClientBundle> {
    const pattern = this.spec.pathMatching.match(methodPath);
    if (pattern !== null) return this.appSlots.get(pattern);
    return this.appSlots.get(this.spec.increasedCardinality ? methodPath : "_");
  }

  /** A sidecar-made answer by reason on a listener. */
  sidecarError(reason: string, listener: "api" | "internal"): CounterSeries {
    const byReason = listener === "api" ? this.apiErrors : this.internalErrors;
    let s = byReason.get(reason);
    if (!s) byReason.set(reason, (s = this.sidecarErrors.series({ reason, listener })));
    return s;
  }

  /** An app-id label that comes from a peer or a client: bounded. */
  peer(appId: string): string {
    return this.peers(appId);
  }

  /** The caller side of one target: bound once per target. */
  invocation(target: string): { sent: CounterSeries; byStatus(status: number): { responses: CounterSeries; latency: HistogramSeries }; failed(reason: string): CounterSeries } {
    const appId = this.appId;
    const dst = this.peer(target);
    const statuses = new Map<number, { responses: CounterSeries; latency: HistogramSeries }>();
    const reasons = new Map<string, CounterSeries>();
    return {
      sent: this.reqSent.series({ app_id: appId, dst_app_id: dst, type: "unary" }),
      byStatus: (status) => {
        let s = statuses.get(status);
        if (!s) {
          const st = String(status);
          statuses.set(status, (s = { responses: this.resRecv.series({ app_id: appId, src_app_id: dst, status: st, type: "unary" }), latency: this.resRecvLatency.series({ app_id: appId, src_app_id: dst, status: st }) }));
        }
        return s;
      },
      failed: (reason) => {
        let s = reasons.get(reason);
        if (!s) reasons.set(reason, (s = this.invocationErrors.series({ app_id: appId, dst_app_id: dst, reason })));
        return s;
      },
    };
  }

  private readonly callers = new Map<string, { recv: CounterSeries; byStatus: Map<number, CounterSeries> }>();
  /** The callee side, per calling app-id and status. */
  inbound(caller: string, status: number): { recv: CounterSeries; sent: CounterSeries } {
    const label = this.peer(caller);
    let c = this.callers.get(label);
    if (!c) this.callers.set(label, (c = { recv: this.reqRecv.series({ app_id: this.appId, src_app_id: label }), byStatus: new Map() }));
    let sent = c.byStatus.get(status);
    if (!sent) c.byStatus.set(status, (sent = this.resSent.series({ app_id: this.appId, dst_app_id: label, status: String(status) })));
    return { recv: c.recv, sent };
  }
}
