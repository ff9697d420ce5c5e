// A small leveled logger writing one line per event to stderr, in daprd's logfmt-like shape.
// It does not rate-limit or ship logs anywhere; callers decide what is worth a line.

export type Level = "debug" | "info" | "warn" | "error" | "fatal";
const ORDER: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40, fatal: 50 };

export interface Logger {
  debug(msg: string, fields?: Record<string, unknown>): void;
  info(msg: string, fields?: Record<string, unknown>): void;
  warn(msg: string, fields?: Record<string, unknown>): void;
  error(msg: string, fields?: Record<string, unknown>): void;
  enabled(level: Level): boolean;
}

export const LEVELS = Object.keys(ORDER) as Level[];

/** Characters JSON leaves alone that a terminal or log viewer would act on: C1 controls, bidi and other invisible format marks. */
const UNSAFE = /[\u007f-\u009f\u00ad\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f\ufeff\ufff9-\ufffb]/g;

/** A logfmt value in double quotes with every control, bidi and format character escaped. */
export function quote(s: string): string {
  return JSON.stringify(s).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/** Plain when it is only safe characters, else quoted: values often carry what clients sent. */
function fmt(v: unknown): string {
  const s = typeof v === "string" ? v : String(JSON.stringify(v));
  return /^[\w.:/@+,;%~!*()[\]{}-]+$/.test(s) ? s : quote(s);
}

/** One JSON object per line, Dapr's keys first (`time`, `level`, `msg`, `type`...), then the fields. */
function jsonLine(lv: Level, msg: string, fields: Record<string, unknown>): string {
  const o: Record<string, unknown> = { time: new Date().toISOString(), level: lv, msg, type: "log" };
  // Fields may say what kind of line it is (`type: "request"` for API logging), never rewrite the rest.
  for (const [k, v] of Object.entries(fields)) if (v !== undefined && k !== "time" && k !== "level" && k !== "msg") o[k] = v;
  return JSON.stringify(o).replace(UNSAFE, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

export function createLogger(
  level: Level,
  base: Record<string, unknown> = {},
  write: (line: string) => void = (l) => process.stderr.write(l + "\n"),
  /** --log-as-json: one JSON object per line, as daprd writes them. */
  json = false,
): Logger {
  const min = ORDER[level];
  const emit = (lv: Level, msg: string, fields?: Record<string, unknown>) => {
    if (ORDER[lv] < min) return;
    if (json) return write(jsonLine(lv, msg, { ...base, ...fields }));
    let line = `time="${new Date().toISOString()}" level=${lv} msg=${quote(msg)}`;
    for (const [k, v] of Object.entries({ ...base, ...fields })) if (v !== undefined) line += ` ${k}=${fmt(v)}`;
    write(line);
  };
  return {
    debug: (m, f) => emit("debug", m, f),
    info: (m, f) => emit("info", m, f),
    warn: (m, f) => emit("warn", m, f),
    error: (m, f) => emit("error", m, f),
    enabled: (lv) => ORDER[lv] >= min,
  };
}

export const silentLogger: Logger = createLogger("fatal", {}, () => {});

/**
 * Logs at info at most once per key per window; the next line for that key says how many
 * similar events were folded meanwhile. Keeps an outage to a handful of lines.
 */
export function throttledInfo(log: Logger, windowMs = 10_000, now: () => number = Date.now, maxPerWindow = 100) {
  const seen = new Map<string, { until: number; folded: number }>();
  // Keys come from clients (a flood of distinct app-ids): at most maxPerWindow lines per window
  // in all, the rest counted and reported in one line when the next window opens.
  let windowEnds = 0;
  let lines = 0;
  let suppressed = 0;
  return (key: string, msg: string, fields: Record<string, unknown>): void => {
    const t = now();
    const s = seen.get(key);
    if (s && s.until > t) {
      s.folded++;
      return;
    }
    if (t >= windowEnds) {
      if (suppressed > 0) log.info("log lines suppressed: too many distinct events", { suppressed, window_ms: windowMs });
      windowEnds = t + windowMs;
      lines = 0;
      suppressed = 0;
    }
    if (++lines > maxPerWindow) {
      suppressed++;
      return;
    }
    if (seen.size > 10_000) seen.clear();
    const folded = s?.folded ?? 0;
    seen.set(key, { until: t + windowMs, folded: 0 });
    log.info(msg, folded ? { ...fields, similar_events_folded: folded } : fields);
  };
}
