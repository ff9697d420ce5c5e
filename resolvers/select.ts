// Picks the name resolver from the Configuration's nameResolution block, or the default for
// where we run, and says why. Resolver implementations do not know about this choice.

import type { NameResolutionSpec } from "../config/configuration.ts";
import { ConfigError } from "../config/yaml.ts";
import { LocalRegistry } from "./local.ts";
import { loadStaticMap, StaticResolver } from "./static.ts";
import type { Resolver } from "./types.ts";

export interface Selected {
  readonly resolver: Resolver;
  readonly why: string;
}

export function selectResolver(spec: NameResolutionSpec | null): Selected {
  if (!spec) {
    return { resolver: new LocalRegistry(), why: "no nameResolution in the configuration: single-host default (no multicast, no server)" };
  }
  const c = spec.configuration;
  switch (spec.component.toLowerCase()) {
    case "local": {
      const dir = typeof c.dir === "string" ? c.dir : undefined;
      return { resolver: new LocalRegistry({ dir }), why: `selected by ${spec.source}` };
    }
    case "static":
      try {
        return { resolver: new StaticResolver(loadStaticMap(c)), why: `selected by ${spec.source}` };
      } catch (e) {
        throw new ConfigError(`${spec.source}: ${(e as Error).message}`);
      }
    case "mdns":
    case "kubernetes":
      throw new ConfigError(`${spec.source}: name resolver "${spec.component}" is not available in this meshlet build yet; use local or static`);
    default:
      throw new ConfigError(`${spec.source}: unknown name resolver "${spec.component}" (known: local, static)`);
  }
}
