// Request headers as they travel between layers: lower-case names and values in two plain
// arrays, edited and read in JS and written to the wire by index. It does not validate or
// normalise values (they come from the runtime's parser or from the sidecar itself).
//
// Why not the Web `Headers`: every native Headers call crosses into the runtime. Copying,
// stamping and re-reading one (caller/callee ids, traceparent, forwarding headers) cost ~21k
// (caller) and ~31k (callee) instructions per request more than this list (callgrind).

/** `s` in lower case; one pass and no copy when it has no upper-case ASCII letter (the usual case). */
export function lowerAscii(s: string): string {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 65 && c <= 90) return s.toLowerCase();
  }
  return s;
}

/** The read/write surface shared with `Headers`, for helpers that take either. */
export interface HeaderBag {
  get(name: string): string | null;
  has(name: string): boolean;
  set(name: string, value: string): void;
  delete(name: string): void;
}

export class HeaderList implements HeaderBag, Iterable<[string, string]> {
  private readonly names: string[] = [];
  private readonly values: string[] = [];

  /** A list holding `pairs` (names lower-cased), in order. */
  static of(pairs: Iterable<readonly [string, string]> | Record<string, string>): HeaderList {
    const h = new HeaderList();
    const it = Symbol.iterator in pairs ? (pairs as Iterable<readonly [string, string]>) : Object.entries(pairs);
    for (const [k, v] of it) h.append(k, v);
    return h;
  }

  get size(): number {
    return this.names.length;
  }

  nameAt(i: number): string {
    return this.names[i]!;
  }

  valueAt(i: number): string {
    return this.values[i]!;
  }

  /** The value of `name`; repeated headers joined with ", " as `Headers.get` does. */
  get(name: string): string | null {
    const n = name.toLowerCase();
    let out: string | null = null;
    for (let i = 0; i < this.names.length; i++) {
      if (this.names[i] === n) out = out === null ? this.values[i]! : `${out}, ${this.values[i]}`;
    }
    return out;
  }

  has(name: string): boolean {
    return this.names.indexOf(name.toLowerCase()) >= 0;
  }

  append(name: string, value: string): void {
    this.names.push(lowerAscii(name));
    this.values.push(value);
  }

  /** `append` for a name known to be lower case already (the listener's parser). */
  appendLower(name: string, value: string): void {
    this.names.push(name);
    this.values.push(value);
  }

  /** Replaces every value of `name` with one. */
  set(name: string, value: string): void {
    const n = name.toLowerCase();
    const i = this.names.indexOf(n);
    if (i < 0) {
      this.names.push(n);
      this.values.push(value);
      return;
    }
    this.values[i] = value;
    this.removeFrom(n, i + 1);
  }

  delete(name: string): void {
    this.removeFrom(name.toLowerCase(), 0);
  }

  private removeFrom(n: string, start: number): void {
    let keep = start;
    for (let i = start; i < this.names.length; i++) {
      if (this.names[i] === n) continue;
      this.names[keep] = this.names[i]!;
      this.values[keep++] = this.values[i]!;
    }
    this.names.length = keep;
    this.values.length = keep;
  }

  *[Symbol.iterator](): Iterator<[string, string]> {
    for (let i = 0; i < this.names.length; i++) yield [this.names[i]!, this.values[i]!];
  }

  /** A Web `Headers` with the same entries (for runtimes' fetch). */
  toHeaders(): Headers {
    const h = new Headers();
    for (let i = 0; i < this.names.length; i++) h.append(this.names[i]!, this.values[i]!);
    return h;
  }
}
