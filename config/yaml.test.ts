import { describe, expect, it } from "vitest";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readResourcePaths, readYamlFile } from "./yaml.ts";
import { componentsFor, loadConfiguration } from "./configuration.ts";

function write(dir: string, name: string, text: string): string {
  const f = path.join(dir, name);
  fs.writeFileSync(f, text);
  return f;
}
const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-yaml-"));

describe("YAML loading", () => {
  it("reads every document of a multi-document file with its line", () => {
    const f = write(tmp(), "a.yaml", "kind: Component\nmetadata: {name: a}\n---\nkind: Resiliency\nspec: {}\n");
    expect(readYamlFile(f).map((d) => [d.kind, d.line])).toEqual([
      ["Component", 1],
      ["Resiliency", 4],
    ]);
  });
  it("names file and line of a syntax error", () => {
    const f = write(tmp(), "bad.yaml", "kind: Configuration\nspec:\n  a: [1, 2\n");
    expect(() => readYamlFile(f)).toThrow(new RegExp(`^${f.replace(/[.]/g, "\\.")}:\\d+: invalid YAML`));
  });
  it("reads only *.yaml|*.yml directly in a resources dir, and filters components by scope", () => {
    const d = tmp();
    write(d, "s.yaml", "kind: Component\nmetadata: {name: statestore}\nspec: {type: state.redis, version: v1}\n");
    write(d, "p.yml", "kind: Component\nmetadata: {name: pubsub}\nspec: {type: pubsub.redis}\nscopes: [other]\n");
    write(d, "notes.txt", "kind: Component\n");
    fs.mkdirSync(path.join(d, "sub"));
    write(path.join(d, "sub"), "x.yaml", "kind: Component\nmetadata: {name: nested}\nspec: {type: a.b}\n");
    const comps = componentsFor(readResourcePaths([d]), "me");
    expect(comps).toEqual([{ name: "statestore", type: "state.redis", version: "v1", capabilities: [], metadata: expect.any(Object), secretRefs: {}, secretStore: null, ignoreErrors: false, at: expect.stringMatching(/s\.yaml:1$/) }]);
  });
  it("reads a component's metadata values and its secretKeyRef entries (resolved later through auth.secretStore)", () => {
    const d = tmp();
    write(d, "r.yaml", "kind: Component\nmetadata: {name: statestore}\nspec:\n  type: state.redis\n  metadata:\n  - {name: redisHost, value: 'localhost:6379'}\n  - {name: redisDB, value: 2}\n");
    expect(componentsFor(readResourcePaths([d]), "me")[0]!.metadata).toEqual({ redisHost: "localhost:6379", redisDB: "2" });
    write(d, "s.yaml", "kind: Component\nmetadata: {name: other}\nspec:\n  type: state.redis\n  metadata:\n  - name: redisPassword\n    secretKeyRef: {name: redis, key: password}\nauth: {secretStore: local}\n");
    const other = componentsFor(readResourcePaths([d]), "me").find((c) => c.name === "other")!;
    expect([other.secretRefs, other.secretStore, other.metadata]).toEqual([{ redisPassword: { name: "redis", key: "password" } }, "local", {}]);
  });
  it("reads the name resolution choice from a Configuration", () => {
    const f = write(tmp(), "c.yaml", "apiVersion: dapr.io/v1alpha1\nkind: Configuration\nspec:\n  nameResolution:\n    component: static\n    configuration: {apps: {a: ['127.0.0.1:1']}}\n");
    expect(loadConfiguration(f).nameResolution).toMatchObject({ component: "static", configuration: { apps: { a: ["127.0.0.1:1"] } } });
    const none = write(tmp(), "n.yaml", "kind: Configuration\nspec: {}\n");
    expect(loadConfiguration(none).nameResolution).toBeNull();
  });
});
