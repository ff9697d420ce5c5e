// Hot reload of the Configuration file (--config): polled once a second (atomic renames and
// ConfigMap symlink swaps are seen, which fs.watch on one file misses), validated in full, and
// applied in one step; a file with mistakes is reported and the rules in force stay.

import { fileStamp } from "../core/file-stamp.ts";
import type { Logger } from "../core/log.ts";
import { loadConfiguration, type MeshConfiguration } from "./configuration.ts";

export interface ConfigurationWatch {
  stop(): void;
  /** Checks now (tests, and the poll): true when a changed file was applied. */
  check(): boolean;
}

export function watchConfiguration(file: string, log: Logger, apply: (c: MeshConfiguration) => void, pollMs = 1_000): ConfigurationWatch {
  let last = fileStamp([file]);
  const check = (): boolean => {
    const now = fileStamp([file]);
    if (now === last) return false;
    last = now;
    let conf: MeshConfiguration;
    try {
      conf = loadConfiguration(file);
    } catch (e) {
      log.error("configuration not reloaded: the rules in force stay", { file, error: (e as Error).message });
      return false;
    }
    apply(conf);
    log.info("configuration reloaded", { file, access_control: conf.accessControl ? `${conf.accessControl.policies.size} policies, default ${conf.accessControl.defaultAction}` : "none" });
    return true;
  };
  const timer = setInterval(check, pollMs);
  timer.unref();
  return { stop: () => clearInterval(timer), check };
}
