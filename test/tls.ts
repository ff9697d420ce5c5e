// A CA and a server certificate made with openssl (a real tool, not meshlet's own CA code) for
// tests of TLS servers meshlet talks to or runs: Redis with TLS, the injector webhook.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

/** A CA and a server certificate for 127.0.0.1 made with openssl, in a fresh temp folder. */
export function serverCerts(): { dir: string; ca: string; cert: string; key: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "meshlet-tls-"));
  const f = (n: string) => path.join(dir, n);
  const ssl = (...a: string[]) => execFileSync("openssl", a, { stdio: "ignore" });
  const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];
  ssl("req", "-x509", ...ec, "-keyout", f("ca.key"), "-out", f("ca.crt"), "-subj", "/CN=meshlet test CA", "-days", "1");
  ssl("req", ...ec, "-keyout", f("server.key"), "-out", f("server.csr"), "-subj", "/CN=127.0.0.1");
  fs.writeFileSync(f("san.ext"), "subjectAltName=IP:127.0.0.1,DNS:localhost\n");
  ssl("x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial", "-out", f("server.crt"), "-days", "1", "-extfile", f("san.ext"));
  return { dir, ca: f("ca.crt"), cert: f("server.crt"), key: f("server.key") };
}

