// Hot reload of `kind: Component` documents, as a consumer of the resources watch
// (resources/watch.ts): when the components for this app changed, the new set is opened and
// swapped in (live.ts); a change that fails leaves the set in force, and one whose stores could
// not open (a server down) is tried again every 10 s until it opens or the files change again.

import type { ComponentSpec } from "../config/configuration.ts";
import type { Logger } from "../core/log.ts";
import type { Metrics } from "../core/metrics.ts";
import type { ResourcesConsumer } from "../resources/watch.ts";
import type { LiveComponents } from "./live.ts";

export interface ComponentReloadOptions {
  readonly log: Logger;
  readonly metrics: Metrics;
  readonly live: Pick<LiveComponents, "reload">;
  /** The components the sidecar started with. */
  readonly initial: readonly ComponentSpec[];
  /** Wall time for the retry of a change that failed to open (tests pass a fake one). */
  readonly now?: () => number;
}

/** How soon a change that failed to open is tried again (its files unchanged). */
const RETRY_MS = 10_000;

/** The components as they would be opened: a resiliency-only edit changes nothing here. */
const print = (specs: readonly ComponentSpec[]) => JSON.stringify(specs.map((c) => [c.name, c.type, c.version, c.metadata, c.secretRefs, c.secretStore, c.ignoreErrors]));

export function componentReloads(o: ComponentReloadOptions): ResourcesConsumer {
  let last = print(o.initial);
  /** A change whose stores could not open (Redis unreachable), tried again from `at` on. */
  let retry: { specs: readonly ComponentSpec[]; at: number } | null = null;
  const clock = o.now ?? Date.now;

  const open = async (specs: readonly ComponentSpec[]): Promise<void> => {
    retry = null;
    try {
      await o.live.reload(specs);
    } catch (e) {
      o.metrics.componentReloads.inc({ result: "rejected" });
      retry = { specs, at: clock() + RETRY_MS };
      o.log.error("components not reloaded: the components in force stay", { error: (e as Error).message, retry_in_s: RETRY_MS / 1000 });
      return;
    }
    last = print(specs);
    o.metrics.componentReloads.inc({ result: "applied" });
    o.log.info("components reloaded", { components: specs.map((c) => `${c.name} (${c.type})`).join(", ") || "none" });
  };

  return {
    async changed({ components }) {
      retry = null;
      if (!components.ok) {
        o.metrics.componentReloads.inc({ result: "rejected" });
        o.log.error("components not reloaded: the components in force stay", { error: components.problem });
        return;
      }
      if (print(components.specs) !== last) await open(components.specs);
    },
    async poll() {
      if (retry && clock() >= retry.at) await open(retry.specs);
    },
  };
}
