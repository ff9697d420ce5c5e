// Remembers endpoints that just failed so resolvers skip them for a while; shared by every
// resolver. It does not probe endpoints: a fresh registration or the timeout re-admits them.

import type { Endpoint } from "../core/call.ts";

export class Evictions {
  private readonly until = new Map<string, number>();
  constructor(
    private readonly ms: number,
    private readonly now: () => number = Date.now,
  ) {}

  add(ep: Endpoint): void {
    this.until.set(ep.key, this.now() + this.ms);
  }

  /** Re-admits an endpoint at once (its owner announced itself again). */
  clear(key: string): void {
    this.until.delete(key);
  }

  /** `eps` minus the endpoints evicted right now; returns the same array when none are. */
  filter(eps: readonly Endpoint[]): readonly Endpoint[] {
    if (this.until.size === 0) return eps;
    const now = this.now();
    return eps.filter((e) => {
      const t = this.until.get(e.key);
      if (t === undefined) return true;
      if (t > now) return false;
      this.until.delete(e.key);
      return true;
    });
  }
}
