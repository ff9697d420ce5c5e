// The app's output under meshlet run: every line prefixed, lines split across chunks joined, a
// last line without its newline still shown.

import { PassThrough } from "node:stream";
import { describe, expect, it } from "vitest";
import { APP_PREFIX, prefixLines } from "./app-output.ts";

describe("the app's output", () => {
  it("is prefixed line by line, whatever the chunks", async () => {
    const from = new PassThrough();
    const to = new PassThrough();
    let out = "";
    to.on("data", (d: Buffer) => (out += d.toString()));
    const done = prefixLines(from, to);
    from.write("first li");
    from.write("ne\nsecond\nthi");
    from.write("rd\n\nünï ✓\nno newline at the end");
    from.end();
    await done;
    expect(out).toBe([`${APP_PREFIX}first line`, `${APP_PREFIX}second`, `${APP_PREFIX}third`, APP_PREFIX, `${APP_PREFIX}ünï ✓`, `${APP_PREFIX}no newline at the end`, ""].join("\n"));
  });
});
