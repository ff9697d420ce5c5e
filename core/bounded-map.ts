// A Map with a size bound and idle eviction, for per-key state whose keys clients choose
// (targets, budgets, breakers, resolver caches): the least recently used entry leaves when the
// bound is reached, and `sweep` drops entries unused for `idleMs`. Time is injected.

interface Slot<V> {
  value: V;
  used: number;
}

export class BoundedMap<K, V> {
  private readonly m = new Map<K, Slot<V>>();

  constructor(
    readonly max: number,
    readonly idleMs: number,
    private readonly now: () => number,
    /** Told about every entry that leaves by eviction (not by `delete` or `clear`). */
    private readonly onEvict?: (key: K, value: V) => void,
  ) {}

  get size(): number {
    return this.m.size;
  }

  get(key: K): V | undefined {
    const s = this.m.get(key);
    if (s === undefined) return undefined;
    const t = this.now();
    // Move to the back of the order at most once a second: a cheap, nearly exact LRU.
    if (t - s.used > 1000) {
      this.m.delete(key);
      this.m.set(key, s);
    }
    s.used = t;
    return s.value;
  }

  has(key: K): boolean {
    return this.m.has(key);
  }

  set(key: K, value: V): void {
    const s = this.m.get(key);
    if (s !== undefined) {
      this.m.delete(key);
      s.value = value;
      s.used = this.now();
      this.m.set(key, s);
      return;
    }
    this.m.set(key, { value, used: this.now() });
    while (this.m.size > this.max) {
      const [k, old] = this.m.entries().next().value!;
      this.m.delete(k);
      this.onEvict?.(k, old.value);
    }
  }

  delete(key: K): boolean {
    return this.m.delete(key);
  }

  clear(): void {
    this.m.clear();
  }

  /** Drops entries unused for `idleMs`; returns how many left. */
  sweep(): number {
    const t = this.now();
    let n = 0;
    for (const [k, s] of this.m) {
      if (t - s.used < this.idleMs) continue;
      this.m.delete(k);
      this.onEvict?.(k, s.value);
      n++;
    }
    return n;
  }

  *keys(): IterableIterator<K> {
    yield* this.m.keys();
  }

  *values(): IterableIterator<V> {
    for (const s of this.m.values()) yield s.value;
  }
}
