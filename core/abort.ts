// Abort plumbing for the timer layers: a child signal that follows the caller's, so a layer can
// abort the inner call for its own reason without aborting the caller's. Plain JS on purpose:
// an AbortController per try with its listener on the parent (and a context copy) cost ~6k
// instructions a request per sidecar (callgrind).
// It does not dispatch Events (listeners get no argument) and knows nothing of timers.

import type { CallSignal } from "./call.ts";

/** A signal that never aborts: the parent of a ChildSignal that only its owner aborts. */
export const NEVER: CallSignal = {
  aborted: false,
  reason: undefined,
  addEventListener() {},
  removeEventListener() {},
};

/** Aborted by `abort(reason)` or, with the same reason, as soon as `parent` is. */
export class ChildSignal implements CallSignal {
  private own = false;
  private ownReason: unknown = undefined;
  private listeners: (() => void)[] = [];
  /** Registered on the parent only while someone listens here. */
  private onParent: (() => void) | null = null;

  constructor(private readonly parent: CallSignal) {}

  get aborted(): boolean {
    return this.own || this.parent.aborted;
  }

  get reason(): unknown {
    return this.own ? this.ownReason : this.parent.reason;
  }

  abort(reason: unknown = new DOMException("This operation was aborted", "AbortError")): void {
    if (this.aborted) return;
    this.own = true;
    this.ownReason = reason;
    this.fire();
  }

  addEventListener(_type: "abort", fn: () => void): void {
    if (this.aborted) return;
    this.listeners.push(fn);
    if (this.onParent === null) {
      this.onParent = () => this.fire();
      this.parent.addEventListener("abort", this.onParent, { once: true });
    }
  }

  removeEventListener(_type: "abort", fn: () => void): void {
    const i = this.listeners.indexOf(fn);
    if (i >= 0) this.listeners.splice(i, 1);
    if (this.listeners.length === 0) this.unhook();
  }

  private unhook(): void {
    if (this.onParent === null) return;
    this.parent.removeEventListener("abort", this.onParent);
    this.onParent = null;
  }

  private fire(): void {
    this.unhook();
    const fns = this.listeners;
    this.listeners = [];
    for (const fn of fns) fn();
  }
}

/** A Web AbortSignal following `s`, for runtime APIs (fetch, undici) that insist on one. */
export function toAbortSignal(s: CallSignal): AbortSignal {
  if (s instanceof AbortSignal) return s;
  const ac = new AbortController();
  if (s.aborted) ac.abort(s.reason);
  else s.addEventListener("abort", () => ac.abort(s.reason), { once: true });
  return ac.signal;
}
