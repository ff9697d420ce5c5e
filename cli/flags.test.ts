// Flag spellings users bring: Go's `--flag=false` for booleans, Go durations where a bare number
// is seconds; and every command's definition: each flag it accepts is in its help.

import { describe, expect, it } from "vitest";
import { helpText, parseCommand, wantsHelp, type CommandSpec } from "./command-spec.ts";
import { durationFlag } from "./flags.ts";
import { COMMAND_SPECS, findSpec } from "./specs/index.ts";
import { RUN_SPEC } from "./specs/run.ts";

const run = (args: string[]) => parseCommand(RUN_SPEC, args).values;

describe("boolean flags in Go's spelling", () => {
  it("takes --enable-metrics=false, =true and the bare flag; an absent one stays undefined", () => {
    expect(run(["-a", "x", "--enable-metrics=false"])["enable-metrics"]).toBe(false);
    expect(run(["-a", "x", "--enable-metrics=true"])["enable-metrics"]).toBe(true);
    expect(run(["-a", "x", "--enable-metrics"])["enable-metrics"]).toBe(true);
    expect(run(["-a", "x"])["enable-metrics"]).toBeUndefined();
    expect(run(["--log-as-json=FALSE", "--enable-api-logging=1"])).toMatchObject({ "log-as-json": false, "enable-api-logging": true });
  });

  it("refuses another value in one line, and leaves string flags and the app's own words alone", () => {
    expect(() => run(["--enable-metrics=maybe"])).toThrow(/^--enable-metrics: "maybe" is not true or false$/);
    expect(run(["--app-id=a=false"])["app-id"]).toBe("a=false");
    expect(() => run(["--", "--enable-metrics=maybe"])).not.toThrow();
  });
});

describe("negative numbers as values", () => {
  it("reads -1 after a valued flag, long or short, as that flag's value (Dapr's 'pick a port')", () => {
    expect(run(["-a", "x", "--metrics-port", "-1"])["metrics-port"]).toBe("-1");
    expect(run(["-a", "x", "-M", "-1", "-p", "3000"])).toMatchObject({ "metrics-port": "-1", "app-port": "3000" });
    // After a boolean flag or before the app's own words, a dash word is not taken as a value.
    expect(() => run(["--enable-metrics", "-1"])).toThrow(/Unknown option '-1'/);
    expect(run(["-a", "x", "--", "node", "-1"])["metrics-port"]).toBeUndefined();
  });
});

describe("durations on the command line", () => {
  it("reads Go's syntax, a bare number as seconds, and refuses anything else in one line", () => {
    expect(durationFlag("duration", "5")).toBe(5000);
    expect(durationFlag("duration", "1.5")).toBe(1500);
    expect(durationFlag("duration", "1m30s")).toBe(90_000);
    expect(durationFlag("duration", "250ms")).toBe(250);
    expect(() => durationFlag("duration", "5 sec")).toThrow(/^--duration: "5 sec" is not a duration \(examples: 500ms, 5s, 1m30s; a bare number is seconds\)$/);
    expect(() => durationFlag("window", "-5s")).toThrow(/^--window: "-5s" is negative$/);
  });
});

/** Every definition, subcommands included. */
function all(specs: readonly CommandSpec[]): CommandSpec[] {
  return specs.flatMap((s) => [s, ...all(s.subcommands ?? [])]);
}

describe("every command's definition", () => {
  const specs = all(Object.values(COMMAND_SPECS));

  it("covers every command and subcommand", () => {
    expect(specs.map((s) => s.name)).toEqual(expect.arrayContaining(["run", "invoke", "list", "logs", "stat", "stop", "bench", "doctor", "version", "resiliency explain", "resiliency validate", "certs init", "certs show", "certs export", "certs import", "certs renew-issuer", "sentry", "sentry token create", "acl explain"]));
  });

  for (const spec of specs) {
    it(`${spec.name}: every flag it parses is in its help, with its short name, value, default and Dapr name`, () => {
      const text = helpText(spec);
      expect(text).toContain(`usage: meshlet ${spec.usage}`);
      expect(text).toMatch(/examples:\n {2}meshlet /);
      const flagLines = text.slice(text.indexOf("\nflags:\n")).split("\n");
      for (const [name, f] of Object.entries(spec.flags)) {
        const shown = `--${name}${f.type === "string" ? ` ${f.arg ?? "VALUE"}` : ""}`;
        const line = flagLines.findIndex((l) => new RegExp(`^ {2}(-\\w, | {4})${shown.replace(/[|$]/g, "\\$&")}( |$)`).test(l));
        expect(line, `--${name} in the help of ${spec.name}`).toBeGreaterThanOrEqual(0);
        // The flag's line, and its description on the next line when the flag is long.
        const lines = flagLines.slice(line, line + 2).join("\n");
        if (f.short) expect(lines).toContain(`-${f.short}, --${name}`);
        if (f.default) expect(lines).toContain(`default ${f.default}`);
        if (f.dapr) expect(lines).toContain(`Dapr: ${f.dapr}`);
        // And the parser takes it: a value for string flags, bare for booleans.
        const args = f.type === "string" ? [`--${name}`, "v"] : [`--${name}`];
        expect(() => parseCommand(spec, args)).not.toThrow();
      }
      expect(() => parseCommand(spec, ["--no-such-flag"])).toThrow(/no-such-flag/);
    });
  }

  it("finds subcommands by their words, and sees --help only where it is a flag", () => {
    expect(findSpec("sentry", ["token", "create", "--namespace", "x"])).toMatchObject({ spec: { name: "sentry token create" }, rest: ["--namespace", "x"] });
    expect(findSpec("certs", ["init"])!.spec.name).toBe("certs init");
    expect(findSpec("certs", ["bogus"])!.spec.name).toBe("certs");
    expect(wantsHelp(["-a", "x", "--help"], RUN_SPEC.flags, true)).toBe(true);
    expect(wantsHelp(["-a", "-h"], RUN_SPEC.flags, true)).toBe(false); // -h is the app-id's value
    expect(wantsHelp(["-a", "x", "--", "python3", "-h"], RUN_SPEC.flags, true)).toBe(false);
    expect(wantsHelp(["-a", "x", "node", "app.js", "--help"], RUN_SPEC.flags, true)).toBe(false);
  });
});
