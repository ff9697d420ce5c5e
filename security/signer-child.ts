// The child process of signer.ts: reads one operation as JSON on stdin, makes the certificate or
// CSR with the X.509 library, prints {"pem"} or {"error"} as JSON, and exits, taking the
// library's memory with it.

import { inProcessSigner, type SignerOp } from "./signer.ts";
import { CertError } from "./errors.ts";

let input = "";
process.stdin.setEncoding("utf8");
for await (const chunk of process.stdin) input += chunk;
try {
  const pem = await inProcessSigner(JSON.parse(input) as SignerOp);
  process.stdout.write(JSON.stringify({ pem }));
} catch (e) {
  process.stdout.write(JSON.stringify({ error: (e as Error).message, certError: e instanceof CertError }));
  process.exitCode = 1;
}
