// Turns an incoming request on the Dapr HTTP API port into a route: one of the sidecar's own API
// endpoints, or an invocation (target app-id, namespace, method path, raw query). It does not
// resolve app-ids or touch bodies; the three addressing forms are checked in Dapr's order.

import { invokeError, SidecarError } from "../core/errors.ts";
import type { HeaderBag } from "../core/header-list.ts";
import { quote } from "../core/log.ts";

export type StateOp = "save" | "get" | "delete" | "bulk" | "transaction";

export type ApiName = "healthz" | "healthz_outbound" | "metadata" | "metadata_put" | "shutdown" | "explain";

export type Route =
  | { kind: "invoke"; appId: string; namespace: string; path: string; query: string; viaAuth: boolean }
  | { kind: "api"; name: ApiName; key?: string; query: string }
  | { kind: "state"; op: StateOp; store: string; key: string; query: string }
  | { kind: "secrets"; store: string; key: string; bulk: boolean; query: string }
  | { kind: "error"; error: SidecarError };

const NO_APP_ID = "failed getting app id either from the URL path or the header dapr-app-id";

/** Splits a full request URL (as runtimes hand it over) into raw path and raw query. */
export function splitUrl(url: string): { path: string; query: string } {
  let start = 0;
  if (url[0] !== "/") {
    const scheme = url.indexOf("://");
    start = url.indexOf("/", scheme < 0 ? 0 : scheme + 3);
    if (start < 0) return { path: "/", query: "" };
  }
  const q = url.indexOf("?", start);
  return q < 0 ? { path: url.slice(start), query: "" } : { path: url.slice(start, q), query: url.slice(q) };
}

type AppIdResult = { appId: string; namespace: string } | SidecarError;
/** Apps call a handful of app-ids: parse each raw form once (bounded, cleared when full). */
const appIds = new Map<string, AppIdResult>();

/** `appId` or `appId.namespace`; more dots, empty parts or URLs are rejected as Dapr does. */
export function parseAppId(raw: string, defaultNamespace: string): AppIdResult {
  const key = `${defaultNamespace}\u0000${raw}`;
  let r = appIds.get(key);
  if (r === undefined) {
    if (appIds.size >= 1024) appIds.clear();
    appIds.set(key, (r = parseAppIdUncached(raw, defaultNamespace)));
  }
  return r;
}

/** Control, C1 and bidi/format characters: never part of an app-id (and never echoed raw). */
const CONTROL_OR_BIDI = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u202a-\u202e\u2066-\u2069\ufeff]/;

/** A client's value as it may appear in a message: as is when printable ASCII, else quoted and escaped. */
function shown(s: string): string {
  return /^[\u0021-\u007e]*$/.test(s) ? s : quote(s);
}

function parseAppIdUncached(raw: string, defaultNamespace: string): AppIdResult {
  let id: string;
  try {
    id = decodeURIComponent(raw);
  } catch {
    return invokeError("invalid_app_id", shown(raw), `invalid app id ${shown(raw)}: bad percent-encoding`);
  }
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(id)) {
    return invokeError("invalid_app_id", shown(id), `invalid app id ${shown(id)}: external URLs are not supported by meshlet`);
  }
  const parts = id.split(".");
  if (parts.length > 2 || parts.some((p) => p === "") || /[\s/\\]/.test(id) || CONTROL_OR_BIDI.test(id)) {
    return invokeError("invalid_app_id", shown(id), `invalid app id ${shown(id)}`);
  }
  return { appId: parts[0]!, namespace: parts[1] ?? defaultNamespace };
}

/**
 * Normalises a method path: resolves `.` and `..` segments in any spelling (`%2e`, either case),
 * refuses control characters, any attempt to climb above the root, and dot segments hidden
 * behind a second encoding or an encoded slash. Percent-encoding is otherwise kept as sent.
 */
export function normalizeMethod(raw: string): string | null {
  // Fast path: nothing to resolve or check (no `.`, `%`, `//` or control characters).
  if (PLAIN_PATH.test(raw)) return raw;
  if (/[\u0000-\u001f\u007f]|%[01][0-9a-f]|%7f/i.test(raw)) return null;
  const out: string[] = [];
  const segs = (raw.startsWith("/") ? raw.slice(1) : raw).split("/");
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    const dots = dotSegment(s);
    if (dots < 0) return null;
    if (dots === 1) continue;
    if (dots === 2) {
      if (out.length === 0) return null;
      out.pop();
      continue;
    }
    if (s === "" && i < segs.length - 1) continue; // collapse `//`; keep a trailing `/`
    out.push(s);
  }
  return "/" + out.join("/");
}

const ENCODED_SEPARATOR = /%2f|%5c|\\/i;

/**
 * 1 for a `.` segment, 2 for `..` (plain or `%2e`-encoded), -1 for a dot segment that appears
 * only after decoding twice or splitting at an encoded `/` or `\\` (refused: an app or proxy
 * that decodes more than once would climb), 0 for anything else.
 */
function dotSegment(seg: string): number {
  if (seg.indexOf(".") < 0 && seg.indexOf("%") < 0) return 0;
  let d = seg.replace(/%2e/gi, ".");
  if (d === ".") return 1;
  if (d === "..") return 2;
  for (let round = 0; round < 3; round++) {
    if (d.split(ENCODED_SEPARATOR).some((p) => p === ".." || p === ".")) return d.includes("..") || round > 0 ? -1 : 0;
    const next = d.replace(/%25/g, "%").replace(/%2e/gi, ".");
    if (next === d) return 0;
    d = next;
  }
  return -1;
}

/** Segments without `.`, `%` or control characters, one `/` between them (linear to match). */
const PLAIN_PATH = /^\/(?:[^./%\u0000-\u001f\u007f]+\/)*[^./%\u0000-\u001f\u007f]*$/;

function basicAuthAppId(auth: string | null): string | null {
  if (!auth || auth.length < 7 || auth.slice(0, 6).toLowerCase() !== "basic ") return null;
  let decoded: string;
  try {
    decoded = atob(auth.slice(6).trim());
  } catch {
    return null;
  }
  const colon = decoded.indexOf(":");
  if (colon < 0 || decoded.slice(0, colon).toLowerCase() !== "dapr-app-id") return null;
  return decoded.slice(colon + 1);
}

function invokeRoute(rawId: string, rawMethod: string, query: string, ns: string, viaAuth: boolean): Route {
  const id = parseAppId(rawId, ns);
  if (id instanceof SidecarError) return { kind: "error", error: id };
  const path = normalizeMethod(rawMethod);
  if (path === null) {
    return { kind: "error", error: invokeError("invalid_method", id.appId, `invalid method: ${rawMethod}`) };
  }
  return { kind: "invoke", appId: id.appId, namespace: id.namespace, path, query, viaAuth };
}

/** Routes one request. `headers` are only read, never changed. */
export function route(method: string, url: string, headers: HeaderBag, defaultNamespace: string): Route {
  const { path, query } = splitUrl(url);
  const headerId = headers.get("dapr-app-id");
  if (headerId !== null && headerId !== "") return invokeRoute(headerId, path, query, defaultNamespace, false);
  const authId = basicAuthAppId(headers.get("authorization"));
  if (authId !== null && authId !== "") return invokeRoute(authId, path, query, defaultNamespace, true);

  if (path.startsWith("/v1.0/invoke/")) {
    const rest = path.slice("/v1.0/invoke/".length);
    const m = rest.indexOf("/method/");
    if (m <= 0) {
      const bare = rest.endsWith("/method") ? rest.slice(0, -7) : "";
      if (bare && !bare.includes("/")) {
        return invokeRoute(bare, "/", query, defaultNamespace, false);
      }
      return { kind: "error", error: new SidecarError("no_app_id", NO_APP_ID) };
    }
    return invokeRoute(rest.slice(0, m), rest.slice(m + "/method".length), query, defaultNamespace, false);
  }

  const p = path.length > 1 && path.endsWith("/") ? path.slice(0, -1) : path;
  if (p === "/v1.0/healthz" && (method === "GET" || method === "HEAD")) return { kind: "api", name: "healthz", query };
  if (p === "/v1.0/healthz/outbound" && (method === "GET" || method === "HEAD")) {
    return { kind: "api", name: "healthz_outbound", query };
  }
  if (p === "/v1.0/metadata" && (method === "GET" || method === "HEAD")) return { kind: "api", name: "metadata", query };
  if (p.startsWith("/v1.0/metadata/") && method === "PUT") {
    let key: string;
    try {
      key = decodeURIComponent(p.slice("/v1.0/metadata/".length));
    } catch {
      return { kind: "error", error: new SidecarError("malformed_request", "invalid metadata key") };
    }
    return { kind: "api", name: "metadata_put", key, query };
  }
  if (p.startsWith("/v1.0/state/")) return stateRoute(method, p.slice("/v1.0/state/".length), query);
  if (p.startsWith("/v1.0/secrets/")) return secretsRoute(method, p.slice("/v1.0/secrets/".length), query);
  if (p === "/v1.0/shutdown" && method === "POST") return { kind: "api", name: "shutdown", query };
  if (p === "/v1.0-meshlet/explain" && method === "GET") return { kind: "api", name: "explain", query };
  if (["/v1.0/healthz", "/v1.0/healthz/outbound", "/v1.0/metadata", "/v1.0/shutdown"].includes(p)) {
    return { kind: "error", error: new SidecarError("method_not_allowed", `method ${method} is not allowed on ${p}`) };
  }
  if (p === "/v1.0/invoke" || p === "/v1.0/invoke/") {
    return { kind: "error", error: new SidecarError("no_app_id", NO_APP_ID) };
  }
  return { kind: "error", error: new SidecarError("route_not_found", `no route for ${method} ${p}`) };
}

/** `/v1.0/state/<store>` (save), `/<store>/bulk` and `/<store>/transaction` (POST or PUT), `/<store>/<key>` (GET, DELETE). */
function stateRoute(method: string, rest: string, query: string): Route {
  const slash = rest.indexOf("/");
  let store: string;
  let key = "";
  try {
    store = decodeURIComponent(slash < 0 ? rest : rest.slice(0, slash));
    if (slash >= 0) key = decodeURIComponent(rest.slice(slash + 1));
  } catch {
    return { kind: "error", error: new SidecarError("malformed_request", "bad percent-encoding in the state store name or key") };
  }
  const write = method === "POST" || method === "PUT";
  const at = (op: StateOp): Route => ({ kind: "state", op, store, key, query });
  if (store === "") return { kind: "error", error: new SidecarError("route_not_found", "no route for a state request without a store name") };
  if (slash < 0 || key === "") {
    return write ? at("save") : { kind: "error", error: new SidecarError("method_not_allowed", `method ${method} is not allowed on /v1.0/state/<store>`) };
  }
  if (write && (key === "bulk" || key === "transaction")) return at(key);
  if (method === "GET" || method === "HEAD") return at("get");
  if (method === "DELETE") return at("delete");
  return { kind: "error", error: new SidecarError("method_not_allowed", `method ${method} is not allowed on /v1.0/state/<store>/<key>`) };
}

/** `/v1.0/secrets/<store>/<key>` and `/v1.0/secrets/<store>/bulk`, GET only. */
function secretsRoute(method: string, rest: string, query: string): Route {
  const slash = rest.indexOf("/");
  if (slash <= 0 || slash === rest.length - 1) return { kind: "error", error: new SidecarError("route_not_found", "a secrets request needs /v1.0/secrets/<store>/<key>") };
  if (method !== "GET" && method !== "HEAD") return { kind: "error", error: new SidecarError("method_not_allowed", `method ${method} is not allowed on /v1.0/secrets`) };
  try {
    const store = decodeURIComponent(rest.slice(0, slash));
    const key = decodeURIComponent(rest.slice(slash + 1));
    return { kind: "secrets", store, key, bulk: key === "bulk", query };
  } catch {
    return { kind: "error", error: new SidecarError("malformed_request", "bad percent-encoding in the secret store name or key") };
  }
}
