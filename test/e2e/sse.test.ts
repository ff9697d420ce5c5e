// Server-sent events through two sidecars under a policy timeout shorter than the gaps between
// events: the timeout bounds the wait for headers, an event stream's quiet gaps are left alone,
// while a plain stream with the same gaps still gets the policy's body-idle timeout.

import { afterAll, beforeAll, describe, expect, it } from "vitest";
import fs from "node:fs";
import path from "node:path";
import { killAll, startSidecar, tempHome, type Sidecar } from "../helpers.ts";

const POLICY = `apiVersion: dapr.io/v1alpha1
kind: Resiliency
metadata:
  name: feeds
spec:
  policies:
    timeouts:
      quick: 400ms
  targets:
    apps:
      feed:
        timeout: quick
`;

let caller: Sidecar;

beforeAll(async () => {
  const home = tempHome();
  const resources = fs.mkdtempSync(path.join(home, "resources-"));
  fs.writeFileSync(path.join(resources, "resiliency.yaml"), POLICY);
  await startSidecar({ appId: "feed", home, echo: true });
  caller = await startSidecar({ appId: "reader", home, args: ["--resources-path", resources] });
});
afterAll(killAll);

/** Reads the body to its end; what arrived, and whether it ended cleanly. */
async function readAll(res: Response): Promise<{ text: string; clean: boolean }> {
  const reader = res.body!.getReader();
  let text = "";
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) return { text, clean: true };
      text += new TextDecoder().decode(value);
    }
  } catch {
    return { text, clean: false };
  }
}

describe("server-sent events", () => {
  it("delivers every event across gaps twice the policy timeout", async () => {
    const res = await fetch(`${caller.url}/v1.0/invoke/feed/method/sse?n=3&gap=800`);
    expect(res.headers.get("content-type")).toBe("text/event-stream");
    expect(await readAll(res)).toEqual({ text: "data: 1\n\ndata: 2\n\ndata: 3\n\n", clean: true });
  });

  it("still cuts a plain stream that goes quiet for longer than the policy timeout", async () => {
    const res = await fetch(`${caller.url}/v1.0/invoke/feed/method/sse?n=3&gap=800&type=text/plain`);
    const got = await readAll(res);
    expect(got.clean).toBe(false);
    expect(got.text).toBe("data: 1\n\n");
  });
});
