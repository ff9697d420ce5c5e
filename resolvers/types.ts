// The resolver contract every discovery mechanism implements: resolve an app-id (and namespace)
// to endpoints, register this sidecar, deregister, evict an endpoint that failed.
// Resolvers know nothing about HTTP; the balancing layer decides which endpoint a call uses.

import type { Endpoint } from "../core/call.ts";
import { invokeError, type SidecarError } from "../core/errors.ts";

export interface AppRef {
  readonly appId: string;
  readonly namespace: string;
}

/** What a sidecar announces about itself. */
export interface Registration extends AppRef {
  /** Address peers dial (the internal port). */
  readonly host: string;
  readonly port: number;
  /** Informational fields for `meshlet list` and diagnostics. */
  readonly info?: Readonly<Record<string, string | number | null>>;
}

export interface Resolver {
  readonly name: string;
  /** Endpoints of `ref`; rejects with reason `app_id_not_found` when there are none. */
  resolve(ref: AppRef): Promise<readonly Endpoint[]>;
  /**
   * Optional fast path: the endpoints of `ref` when a fresh answer is already cached, without a
   * promise; null sends the caller to `resolve`.
   */
  peek?(ref: AppRef): readonly Endpoint[] | null;
  /**
   * Optional: true when the resolver knows right now, without I/O, that `ref` has no instance
   * (so a caller can answer app_id_not_found without building per-target state); false when
   * it does not know.
   */
  absent?(ref: AppRef): boolean;
  /** The error for a lookup `absent` answered. */
  absentError?(ref: AppRef): SidecarError;
  register(self: Registration): Promise<void>;
  /**
   * Optional: this sidecar stays known but is not handed out; callers get `app_unreachable`
   * saying `why` (its app refuses connections) instead of "couldn't find service". Resolvers
   * without it are asked to deregister instead.
   */
  registerNotReady?(self: Registration, why: string): Promise<void>;
  deregister(): Promise<void>;
  /** Stop handing out `ep` for `ref` until the resolver learns of it again. */
  evict(ref: AppRef, ep: Endpoint): void;
  close(): Promise<void>;
}

/** The error for an app-id whose only instances are registered but not ready (registerNotReady). */
export function notReady(ref: AppRef, why: string): SidecarError {
  return invokeError("app_unreachable", ref.appId, `the sidecar of ${ref.appId} is running but not ready: ${why}`, { neverSent: true });
}

export function notFound(ref: AppRef, resolver: string, detail = ""): SidecarError {
  const ns = ref.namespace === "default" ? "" : ` in namespace ${ref.namespace}`;
  return invokeError(
    "app_id_not_found",
    ref.appId,
    `couldn't find service: ${ref.appId}${ns} (resolver: ${resolver}${detail ? `; ${detail}` : ""})`,
  );
}
