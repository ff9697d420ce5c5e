// The single binary (npm run build) on a machine with neither Node nor Bun, as the container image
// runs it: a chroot holding only dist/meshlet and the C libraries it links, mounted read-only, with
// one writable volume for MESHLET_HOME, as a non-root user (65532, distroless's nonroot). There it
// starts a sidecar with mTLS (its certificate signer child is the binary itself), answers health
// and saves state in the default SQLite store. Runs where dist/meshlet was built (npm run
// test:binary in CI) and mount namespaces are allowed (root).

import { afterAll, describe, expect, it } from "vitest";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort, killAll, ROOT, spawnProc, StopWaiting, waitFor, expectOutput } from "../helpers.ts";

const BINARY = path.join(ROOT, "dist", "meshlet");
const CHROOT = ["/usr/sbin/chroot", "/usr/bin/chroot"].find((p) => fs.existsSync(p));
const canChroot = fs.existsSync(BINARY) && process.getuid?.() === 0 && fs.existsSync("/usr/bin/unshare") && CHROOT !== undefined;
afterAll(killAll);

describe.skipIf(!canChroot)("dist/meshlet without Node or Bun", () => {
  it("runs a sidecar with mTLS and state in a read-only chroot that holds only the binary and libc, as a non-root user", async () => {
    const root = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-chroot-"));
    try {
      fs.chmodSync(root, 0o755); // the chroot's / (mkdtemp makes it 0700)
      for (const d of ["proc", "dev", "tmp", "home"]) fs.mkdirSync(path.join(root, d));
      fs.copyFileSync(BINARY, path.join(root, "meshlet"));
      fs.chmodSync(path.join(root, "meshlet"), 0o755);
      const libs = execFileSync("ldd", [BINARY], { encoding: "utf8" }).match(/\/lib[^\s]*/g) ?? [];
      for (const lib of libs) {
        fs.mkdirSync(path.dirname(path.join(root, lib)), { recursive: true });
        fs.copyFileSync(fs.realpathSync(lib), path.join(root, lib));
      }
      expect(fs.readdirSync(root).sort()).toEqual(["dev", "home", "lib", "lib64", "meshlet", "proc", "tmp"].filter((d) => d !== "lib64" || libs.some((l) => l.startsWith("/lib64"))));
      const port = await freePort();
      // Private mounts (unshare -m): /proc and /dev go away with the process.
      // Root read-only; /home a fresh writable volume owned by the user. No PATH inside: nothing
      // but the binary could be found there anyway.
      const script = [
        `mount --bind ${root} ${root}`,
        `mount -o remount,ro,bind ${root}`,
        `mount -t proc proc ${root}/proc`,
        `mount --bind /dev ${root}/dev`,
        `mount -t tmpfs -o mode=0700,uid=65532,gid=65532 tmpfs ${root}/home`,
        `PATH=/nowhere MESHLET_HOME=/home exec ${CHROOT} --userspec=65532:65532 ${root} /meshlet run -a bare -H ${port} --enable-metrics=false`,
      ].join(" && ");
      const p = spawnProc("/usr/bin/unshare", ["-m", "/bin/sh", "-c", script]);
      await waitFor("the chrooted sidecar", async () => {
        if (p.child.exitCode !== null) throw new StopWaiting(`exited with ${p.child.exitCode}:\n${p.output()}`);
        return (await fetch(`http://127.0.0.1:${port}/v1.0/healthz`).catch(() => null))?.status === 204;
      });
      await expectOutput(p, "mtls as spiffe://public/ns/default/bare");
      const saved = await fetch(`http://127.0.0.1:${port}/v1.0/state/statestore`, { method: "POST", body: '[{"key":"k","value":{"n":1}}]' });
      expect(saved.status).toBe(204);
      expect(await (await fetch(`http://127.0.0.1:${port}/v1.0/state/statestore/k`)).text()).toBe('{"n":1}');
      p.child.kill("SIGTERM");
      expect((await p.exited).code).toBe(0);
    } finally {
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
