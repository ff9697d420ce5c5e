// Dapr's `spec.metrics.http.pathMatching`: patterns such as `/orders/{orderID}` or
// `/files/{path...}` that collapse request paths into a bounded set of metric label values.
// The most specific pattern wins (more literal segments first), as Go's ServeMux decides.

type Segment = { kind: "literal"; text: string } | { kind: "param" } | { kind: "rest" };

interface Pattern {
  readonly source: string;
  readonly segments: readonly Segment[];
  readonly literals: number;
}

export interface PathPatterns {
  readonly size: number;
  /** The pattern a path (no query) matches, or null. */
  match(path: string): string | null;
}

const PARAM = /^\{[A-Za-z_][A-Za-z0-9_]*\}$/;
const REST = /^\{[A-Za-z_][A-Za-z0-9_]*\.\.\.\}$/;

/** Why a pattern is unusable, or null when it is fine. */
export function checkPathPattern(source: string): string | null {
  if (!source.startsWith("/")) return `"${source}" must start with /`;
  const parts = source.split("/").slice(1);
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i]!;
    if (p.includes("{") || p.includes("}")) {
      if (REST.test(p)) {
        if (i !== parts.length - 1) return `"${source}": {name...} must be the last segment`;
      } else if (!PARAM.test(p)) return `"${source}": a wildcard is a whole segment such as {orderID}`;
    }
  }
  return null;
}

function compile(source: string): Pattern {
  const segments: Segment[] = source
    .split("/")
    .slice(1)
    .map((p) => (REST.test(p) ? { kind: "rest" } : PARAM.test(p) ? { kind: "param" } : { kind: "literal", text: p }));
  return { source, segments, literals: segments.filter((s) => s.kind === "literal").length };
}

function matches(p: Pattern, parts: readonly string[]): boolean {
  const segs = p.segments;
  for (let i = 0; i < segs.length; i++) {
    const s = segs[i]!;
    if (s.kind === "rest") return true;
    const part = parts[i];
    if (part === undefined) return false;
    if (s.kind === "literal" ? part !== s.text : part === "") return false;
  }
  return parts.length === segs.length;
}

export function compilePathPatterns(sources: readonly string[]): PathPatterns {
  const patterns = sources
    .map(compile)
    .sort((a, b) => b.literals - a.literals || b.segments.length - a.segments.length);
  return {
    size: patterns.length,
    match(path) {
      if (patterns.length === 0) return null;
      const parts = path.split("/").slice(1);
      for (const p of patterns) if (matches(p, parts)) return p.source;
      return null;
    },
  };
}
