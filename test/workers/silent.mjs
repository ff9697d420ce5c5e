// A worker that takes its request and never answers: core/off-thread.test.ts's timeout case.
import { parentPort } from "node:worker_threads";
parentPort.once("message", () => setInterval(() => {}, 1_000));
