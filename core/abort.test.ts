import { describe, expect, it } from "vitest";
import { ChildSignal, toAbortSignal } from "./abort.ts";

describe("ChildSignal", () => {
  it("follows the parent's abort with the parent's reason", () => {
    const parent = new AbortController();
    const child = new ChildSignal(parent.signal);
    const seen: unknown[] = [];
    child.addEventListener("abort", () => seen.push(child.reason));
    parent.abort("gone");
    expect(child.aborted).toBe(true);
    expect(seen).toEqual(["gone"]);
  });

  it("aborts on its own without aborting the parent, listeners called once", () => {
    const parent = new AbortController();
    const child = new ChildSignal(parent.signal);
    let calls = 0;
    child.addEventListener("abort", () => calls++);
    child.abort("timeout");
    child.abort("again");
    parent.abort("later");
    expect(calls).toBe(1);
    expect(child.reason).toBe("timeout");
    expect(parent.signal.aborted).toBe(true);
  });

  it("lets go of the parent when its last listener is removed", () => {
    let added = 0;
    let removed = 0;
    const parent = {
      aborted: false,
      reason: undefined,
      addEventListener: () => void added++,
      removeEventListener: () => void removed++,
    };
    const child = new ChildSignal(parent);
    const a = () => {};
    const b = () => {};
    child.addEventListener("abort", a);
    child.addEventListener("abort", b);
    expect(added).toBe(1);
    child.removeEventListener("abort", a);
    expect(removed).toBe(0);
    child.removeEventListener("abort", b);
    expect(removed).toBe(1);
  });

  it("is already aborted when its parent was", () => {
    const parent = new AbortController();
    parent.abort("early");
    const child = new ChildSignal(parent.signal);
    expect(child.aborted).toBe(true);
    expect(child.reason).toBe("early");
    const web = toAbortSignal(child);
    expect(web.aborted).toBe(true);
    expect(web.reason).toBe("early");
  });

  it("drives a Web AbortSignal for runtime APIs", () => {
    const child = new ChildSignal(new AbortController().signal);
    const web = toAbortSignal(child);
    expect(web.aborted).toBe(false);
    child.abort("stop");
    expect(web.aborted).toBe(true);
    expect(web.reason).toBe("stop");
  });
});
