// Flag spellings `dapr run` users bring: Go's `--flag=false` for booleans among them.

import { describe, expect, it } from "vitest";
import { parseFlags, RUN_OPTIONS } from "./flags.ts";

describe("boolean flags in Go's spelling", () => {
  it("takes --enable-metrics=false, =true and the bare flag; an absent one stays undefined", () => {
    expect(parseFlags(["-a", "x", "--enable-metrics=false"], RUN_OPTIONS)["enable-metrics"]).toBe(false);
    expect(parseFlags(["-a", "x", "--enable-metrics=true"], RUN_OPTIONS)["enable-metrics"]).toBe(true);
    expect(parseFlags(["-a", "x", "--enable-metrics"], RUN_OPTIONS)["enable-metrics"]).toBe(true);
    expect(parseFlags(["-a", "x"], RUN_OPTIONS)["enable-metrics"]).toBeUndefined();
    expect(parseFlags(["--log-as-json=FALSE", "--enable-api-logging=1"], RUN_OPTIONS)).toMatchObject({ "log-as-json": false, "enable-api-logging": true });
  });

  it("refuses another value in one line, and leaves string flags and the app's own words alone", () => {
    expect(() => parseFlags(["--enable-metrics=maybe"], RUN_OPTIONS)).toThrow(/^--enable-metrics: "maybe" is not true or false$/);
    expect(parseFlags(["--app-id=a=false"], RUN_OPTIONS)["app-id"]).toBe("a=false");
    expect(() => parseFlags(["--", "--enable-metrics=maybe"], RUN_OPTIONS)).not.toThrow();
  });
});
