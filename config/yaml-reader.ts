// Reads validated values out of parsed YAML nodes with `file:line: field: message` problems
// collected (not thrown), so one pass reports every mistake: the resiliency and Configuration
// parsers share it. Unknown fields and duplicate keys are problems too.

import { isMap, isScalar, type LineCounter, type Node, type YAMLMap } from "yaml";
import { parseDuration } from "./units.ts";

export class Reader {
  readonly problems: string[] = [];
  constructor(
    readonly file: string,
    private readonly lc: LineCounter,
  ) {}

  line(node: Node | null | undefined): number {
    const range = node?.range;
    return range ? this.lc.linePos(range[0]).line : 0;
  }
  at(node: Node | null | undefined): string {
    return `${this.file}:${this.line(node)}`;
  }
  fail(node: Node | null | undefined, field: string, msg: string): void {
    this.problems.push(`${this.file}:${this.line(node)}: ${field}: ${msg}`);
  }

  /** The entries of a mapping, with unknown keys reported. `allowed` null = any key. */
  entries(node: Node | null | undefined, field: string, allowed: readonly string[] | null): Array<[string, Node | null, Node]> {
    if (node === null || node === undefined) return [];
    if (!isMap(node)) {
      this.fail(node, field, "expected a mapping");
      return [];
    }
    const out: Array<[string, Node | null, Node]> = [];
    // Duplicate keys are found here, one Set per mapping: the yaml package's check is quadratic.
    const seen = new Set<string>();
    for (const pair of (node as YAMLMap).items) {
      const keyNode = pair.key as Node;
      const key = isScalar(keyNode) ? String(keyNode.value) : "";
      if (seen.has(key)) {
        this.fail(keyNode, field ? `${field}.${key}` : key, "duplicate key");
        continue;
      }
      seen.add(key);
      if (allowed && !allowed.includes(key)) {
        this.fail(keyNode, field ? `${field}.${key}` : key, `unknown field (known: ${allowed.join(", ")})`);
        continue;
      }
      out.push([key, (pair.value as Node | null) ?? null, keyNode]);
    }
    return out;
  }

  str(node: Node | null, field: string): string | undefined {
    if (isScalar(node) && (typeof node.value === "string" || typeof node.value === "number")) return String(node.value);
    this.fail(node, field, "expected a string");
    return undefined;
  }

  int(node: Node | null, field: string, min: number): number | undefined {
    if (isScalar(node) && typeof node.value === "number" && Number.isInteger(node.value) && node.value >= min) return node.value;
    if (isScalar(node) && typeof node.value === "string" && /^-?\d+$/.test(node.value) && Number(node.value) >= min) return Number(node.value);
    this.fail(node, field, `expected an integer >= ${min}`);
    return undefined;
  }

  num(node: Node | null, field: string, min: number, max = Infinity): number | undefined {
    const v = isScalar(node) ? Number(node.value) : NaN;
    if (Number.isFinite(v) && v >= min && v <= max) return v;
    this.fail(node, field, `expected a number between ${min} and ${max}`);
    return undefined;
  }

  /** A Go duration string; `bareMs` lets a bare integer mean milliseconds (Dapr's timeouts). */
  duration(node: Node | null, field: string, bareMs: boolean): number | undefined {
    if (isScalar(node) && typeof node.value === "number") {
      if (bareMs && Number.isInteger(node.value) && node.value >= 0) return node.value;
      this.fail(node, field, `expected a duration string such as "5s" or "500ms"${bareMs ? " (or whole milliseconds)" : ""}`);
      return undefined;
    }
    if (isScalar(node) && typeof node.value === "string") {
      try {
        const ms = parseDuration(node.value);
        if (ms < 0) throw new Error("negative");
        if (!bareMs && /^\d+$/.test(node.value.trim()) && node.value.trim() !== "0") throw new Error("needs a unit");
        return ms;
      } catch {
        this.fail(node, field, `invalid duration "${node.value}" (Go syntax: 500ms, 5s, 1m30s)`);
        return undefined;
      }
    }
    this.fail(node, field, "expected a duration");
    return undefined;
  }

  bool(node: Node | null, field: string): boolean | undefined {
    if (isScalar(node) && typeof node.value === "boolean") return node.value;
    this.fail(node, field, "expected true or false");
    return undefined;
  }
}
