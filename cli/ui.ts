// How the CLI talks to a person: Dapr CLI's status prefixes and one-line failures.
// Nothing here decides behaviour.

export const ok = (msg: string) => process.stdout.write(`✅  ${msg}\n`);
export const info = (msg: string) => process.stdout.write(`ℹ️  ${msg}\n`);
export const warn = (msg: string) => process.stderr.write(`⚠  ${msg}\n`);
export const fail = (msg: string) => process.stderr.write(`❌  ${msg}\n`);

/** A failure the user can fix: printed as one line, exits non-zero, no stack trace. */
export class UsageError extends Error {
  override readonly name = "UsageError";
}

/** Columns padded to their widest cell, two spaces apart, as `dapr list` prints them. */
export function formatTable(head: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const line = (cols: readonly string[]) => cols.map((c, i) => c.padEnd(widths[i]!)).join("  ").trimEnd();
  return [line(head), ...rows.map(line)].join("\n") + "\n";
}
