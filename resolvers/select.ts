// Picks the name resolver from the Configuration's nameResolution block, or the default for
// where we run, and says why. Resolver implementations do not know about this choice.

import type { NameResolutionSpec } from "../config/configuration.ts";
import { ConfigError } from "../config/errors.ts";
import { LocalRegistry } from "./local.ts";
import type { Resolver } from "./types.ts";

export interface Selected {
  readonly resolver: Resolver;
  readonly why: string;
}

/** Resolver implementations other than the local registry are loaded only when selected. */
export async function selectResolver(spec: NameResolutionSpec | null, env: NodeJS.ProcessEnv = process.env): Promise<Selected> {
  if (!spec) {
    if (env.KUBERNETES_SERVICE_HOST) {
      const { KubernetesResolver } = await import("./kubernetes.ts");
      return { resolver: new KubernetesResolver(), why: "no nameResolution in the configuration, running in a Kubernetes pod (KUBERNETES_SERVICE_HOST is set)" };
    }
    return { resolver: new LocalRegistry(), why: "no nameResolution in the configuration: single-host default (no multicast, no server)" };
  }
  const c = spec.configuration;
  switch (spec.component.toLowerCase()) {
    case "local": {
      const dir = typeof c.dir === "string" ? c.dir : undefined;
      return { resolver: new LocalRegistry({ dir }), why: `selected by ${spec.source}` };
    }
    case "static": {
      const { loadStaticMap, StaticResolver } = await import("./static.ts");
      try {
        return { resolver: new StaticResolver(loadStaticMap(c)), why: `selected by ${spec.source}` };
      } catch (e) {
        throw new ConfigError(`${spec.source}: ${(e as Error).message}`);
      }
    }
    case "kubernetes": {
      const { KubernetesResolver } = await import("./kubernetes.ts");
      const str = (k: string) => (typeof c[k] === "string" ? (c[k] as string) : undefined);
      const servers = Array.isArray(c.servers) ? c.servers.map(String) : undefined;
      const data = c.data && typeof c.data === "object" ? (c.data as Record<string, string>) : undefined;
      const r = new KubernetesResolver({ clusterDomain: str("clusterDomain"), template: str("template"), servers, data });
      return { resolver: r, why: `selected by ${spec.source}; cluster domain ${r.clusterDomain}` };
    }
    case "mdns": {
      const { MdnsResolver } = await import("./mdns.ts");
      const pins = Array.isArray(c.interfaces) ? c.interfaces.map(String) : typeof c.interfaces === "string" ? [c.interfaces] : undefined;
      const r = new MdnsResolver({
        interfaces: pins,
        ipv6: c.ipv6 === true,
        queryTimeoutMs: typeof c.queryTimeoutMs === "number" ? c.queryTimeoutMs : undefined,
      });
      const skipped = r.choice.skipped.map((x) => `${x.name} ${x.address}: ${x.why}`).join("; ");
      if (r.choice.chosen.length === 0) {
        throw new ConfigError(`${spec.source}: mdns has no usable interface (${skipped || "none found"}); pin one with configuration.interfaces, or use the local resolver on one host`);
      }
      return { resolver: r, why: `selected by ${spec.source}; interfaces ${r.describeInterfaces()}${skipped ? `; skipped ${skipped}` : ""}` };
    }
    default:
      throw new ConfigError(`${spec.source}: unknown name resolver "${spec.component}" (known: local, static, kubernetes, mdns)`);
  }
}
