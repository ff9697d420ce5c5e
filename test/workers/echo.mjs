// A worker that answers its request with it, doubled: core/off-thread.test.ts's worker case.
import { parentPort } from "node:worker_threads";
parentPort.once("message", (n) => parentPort.postMessage(n * 2));
