// Hot reload of resiliency policy, as a consumer of the resources watch (resources/watch.ts):
// the Resiliency documents of a changed resources path, parsed and validated off the event loop,
// become the running PolicySet in one step. An invalid change is rejected whole: the running
// policy stays, the problems are logged with file:line, and the rejection is counted.

import type { Logger } from "../core/log.ts";
import type { Metrics } from "../core/metrics.ts";
import type { ResourcesConsumer } from "../resources/watch.ts";
import type { PolicySet } from "./policy/types.ts";

export interface PolicyReloadOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly apply: (set: PolicySet) => void;
}

export function policyReloads(o: PolicyReloadOptions): ResourcesConsumer {
  return {
    changed({ policies }) {
      if (policies.ok) {
        o.apply(policies.set);
        o.metrics.reloads.inc({ result: "applied" });
        o.log.info("resiliency reloaded", { resources: policies.set.resources.join("; ") || "none" });
        return;
      }
      o.metrics.reloads.inc({ result: "rejected" });
      o.log.error("resiliency change rejected; the running policy stays in force", { problems: policies.problems.length });
      for (const p of policies.problems.slice(0, 20)) o.log.error(`  ${p}`);
      if (policies.problems.length > 20) o.log.error(`  ... and ${policies.problems.length - 20} more`);
    },
  };
}
