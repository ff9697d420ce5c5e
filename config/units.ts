// Parsers for the value syntaxes Dapr users already write: Kubernetes quantities for sizes
// (`4Mi`, `512Ki`, `10M`) and Go durations (`500ms`, `1m30s`). Strict: junk is an error.

const SIZE_SUFFIX: Record<string, number> = {
  "": 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  Ki: 1024,
  Mi: 1024 ** 2,
  Gi: 1024 ** 3,
  Ti: 1024 ** 4,
};

/** `4Mi` -> 4194304. Throws on anything that is not a non-negative quantity. */
export function parseSize(s: string): number {
  const m = /^(\d+(?:\.\d+)?)(k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(s.trim());
  if (!m) throw new Error(`invalid size "${s}" (examples: 4Mi, 512Ki, 10M, 1048576)`);
  return Math.floor(Number(m[1]) * SIZE_SUFFIX[m[2] ?? ""]!);
}

const DUR_UNIT: Record<string, number> = { ns: 1e-6, us: 1e-3, "µs": 1e-3, ms: 1, s: 1e3, m: 60e3, h: 3600e3 };

/** Go `time.ParseDuration` in milliseconds; a bare number is milliseconds (Dapr's timeouts rule). */
export function parseDuration(s: string): number {
  const t = s.trim();
  if (/^\d+$/.test(t)) return Number(t);
  if (t === "0") return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let sign = 1;
  let rest = t;
  if (rest.startsWith("-") || rest.startsWith("+")) {
    sign = rest.startsWith("-") ? -1 : 1;
    rest = rest.slice(1);
  }
  if (!rest) throw new Error(`invalid duration "${s}"`);
  re.lastIndex = 0;
  let end = 0;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest))) {
    total += Number(m[1]) * DUR_UNIT[m[2]!]!;
    end = re.lastIndex;
  }
  if (end !== rest.length) throw new Error(`invalid duration "${s}" (examples: 500ms, 5s, 1m30s)`);
  return sign * total;
}

/** A certificate lifetime: `1y`, `90d`, or a Go duration (`720h`). */
export function parseLifetime(s: string): number {
  const m = /^(\d+)(y|d)$/.exec(s.trim());
  if (m) return Number(m[1]) * (m[2] === "y" ? 365 : 1) * 86_400_000;
  if (/^\d+$/.test(s.trim())) throw new Error(`invalid lifetime "${s}": give a unit (1y, 90d, 720h)`);
  let ms: number;
  try {
    ms = parseDuration(s);
  } catch {
    throw new Error(`invalid lifetime "${s}" (examples: 1y, 90d, 720h)`);
  }
  if (!(ms > 0)) throw new Error(`invalid lifetime "${s}": it must be positive`);
  return ms;
}

/** Time left, as a person reads it (`45s`, `20m`, `23h`, `364d`), rounded down: never more than is left. */
export function formatTimeLeft(ms: number): string {
  const s = Math.max(0, Math.floor(ms / 1000));
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  if (s < 172_800) return `${Math.floor(s / 3600)}h`;
  return `${Math.floor(s / 86_400)}d`;
}
