// `meshlet doctor`: which resolver the configuration selects and why, per interface whether
// multicast can be sent and received (only when mDNS is in play), each running sidecar's
// readiness and ejected endpoints, whether each known app-id resolves and how long it took,
// then a plain diagnosis with a suggested fix.

import makeMdns from "multicast-dns";
import { loadConfiguration } from "../config/configuration.ts";
import { selectResolver } from "../resolvers/select.ts";
import { MdnsResolver, SERVICE } from "../resolvers/mdns.ts";
import { chooseInterfaces, type Iface } from "../resolvers/net-interfaces.ts";
import { readRegistry, LocalRegistry } from "../resolvers/local.ts";
import { SidecarError } from "../core/errors.ts";
import { parseFlagsOnly } from "./command-spec.ts";
import { DOCTOR_SPEC } from "./specs/tools.ts";
import { readRuns } from "./run-table.ts";
import { ejectedEndpoints, metricsText, readiness } from "./run-status.ts";
import { caSummary } from "./certs.ts";
import { formatTimeLeft } from "../config/units.ts";
import { certsDir } from "../security/ca.ts";
import { meshletHome } from "../resolvers/local.ts";

const DAY_S = 86_400;
const WARN_DAYS = 30;


/** Seconds to expiry of a running sidecar's certificates, from its metrics text (metricsText). */
function expiries(text: string | null): Record<string, number> | null {
  if (text === null) return null;
  const out: Record<string, number> = {};
  for (const m of text.matchAll(/^meshlet_mtls_cert_expiry_seconds\{cert="(\w+)"\} (\S+)$/gm)) out[m[1]!] = Number(m[2]);
  return Object.keys(out).length ? out : null;
}


/** Sends one mDNS query on `iface` with loopback on, and waits to hear it back. */
function multicastLoop(iface: Iface, timeoutMs = 800): Promise<{ sent: boolean; heard: boolean; others: number; error?: string }> {
  return new Promise((resolve) => {
    let heard = false;
    const others = new Set<string>();
    let sent = false;
    const m = makeMdns({ interface: iface.address, bind: "0.0.0.0", multicast: true, loopback: true, reuseAddr: true });
    const marker = `doctor-${process.pid}-${Date.now()}.${SERVICE}`;
    const finish = (error?: string) => {
      clearTimeout(timer);
      m.destroy();
      resolve({ sent, heard, others: others.size, error });
    };
    const timer = setTimeout(() => finish(), timeoutMs);
    m.on("error", (e: Error) => finish(e.message));
    m.on("query", (q) => {
      if (q.questions?.some((x) => x.name === marker)) heard = true;
    });
    m.on("response", (r, rinfo) => {
      if (r.answers?.some((a) => a.name === SERVICE)) others.add(rinfo.address);
    });
    m.on("ready", () => {
      m.query({ questions: [{ name: marker, type: "TXT" }, { name: SERVICE, type: "PTR" }] }, (err) => {
        sent = !err;
        if (err) finish(err.message);
      });
    });
  });
}

export async function doctorCommand(args: string[]): Promise<number> {
  const v = parseFlagsOnly(DOCTOR_SPEC, args);
  const out: string[] = [];
  const problems: string[] = [];
  const fixes: string[] = [];
  const conf = v.config ? loadConfiguration(v.config) : { nameResolution: null };
  const { resolver, why } = await selectResolver(conf.nameResolution);
  out.push(`resolver: ${resolver.name}, because ${why}`);

  if (resolver instanceof LocalRegistry) {
    const entries = await readRegistry(resolver.dir);
    out.push(`local registry: ${resolver.dir}, ${entries.length} live instance(s)`);
  }

  if (resolver instanceof MdnsResolver || v.multicast) {
    const choice = resolver instanceof MdnsResolver ? resolver.choice : chooseInterfaces(undefined);
    out.push("interfaces:");
    for (const s of choice.skipped) out.push(`  - ${s.name} ${s.address}: skipped (${s.why})`);
    if (choice.chosen.length === 0) {
      problems.push("no network interface is usable for mDNS");
      fixes.push("pin an interface in spec.nameResolution.configuration.interfaces (a name or a CIDR), or use the local resolver on one host");
    }
    for (const iface of choice.chosen) {
      const r = await multicastLoop(iface);
      const state = r.error ? `error: ${r.error}` : r.heard ? "multicast sent and received" : r.sent ? "multicast sent but not received back" : "multicast could not be sent";
      out.push(`  - ${iface.name} ${iface.address}: ${state}${r.others ? `; ${r.others} meshlet peer(s) answered` : ""}`);
      if (!r.heard) {
        problems.push(`multicast does not work on ${iface.name}`);
        fixes.push(`pin another interface (configuration.interfaces), use the static resolver on edge boxes, or the local resolver on one host`);
      }
    }
    if (choice.skipped.some((s) => /virtual or VPN/.test(s.why)) && choice.chosen.length) {
      out.push("  note: VPN/virtual interfaces are skipped on purpose; pin one if your peers are behind it");
    }
  }

  const runs = await readRuns();
  // One scrape per running sidecar serves both its certificate expiries and its ejected endpoints.
  const metrics = new Map(await Promise.all(runs.map(async (r) => [r, await metricsText(r)] as const)));
  const mtlsOn = "mtls" in conf ? conf.mtls.enabled : true;
  out.push(`mtls: ${mtlsOn ? "on" : "off (spec.mtls.enabled: false)"} for sidecars started with this configuration`);
  const ca = caSummary(certsDir(meshletHome()));
  if (ca) for (const l of ca) out.push(`  ${l}`);
  for (const l of ca ?? []) {
    if (/EXPIRED|WARNING: expires/.test(l)) {
      problems.push(`a CA certificate is expired or expires within ${WARN_DAYS} days`);
      fixes.push("make a new issuer under the same root (meshlet certs renew-issuer); running sidecars pick it up without a restart");
    }
  }
  for (const r of runs) {
    if (!r.mtls) {
      out.push(`  - ${r.appId}: mTLS off (peer secret between sidecars of this host)`);
      continue;
    }
    const e = expiries(metrics.get(r) ?? null);
    const when = e ? `certificate expires in ${formatTimeLeft((e.workload ?? 0) * 1000)}, issuer in ${formatTimeLeft((e.issuer ?? 0) * 1000)}, earliest root in ${formatTimeLeft((e.root ?? 0) * 1000)}` : "expiry unknown (metrics not reachable)";
    out.push(`  - ${r.appId}: ${r.mtls.id} from the ${r.mtls.source}; ${when}`);
    if (e && ((e.issuer ?? Infinity) < WARN_DAYS * DAY_S || (e.root ?? Infinity) < WARN_DAYS * DAY_S)) {
      problems.push(`${r.appId}'s issuer or root expires within ${WARN_DAYS} days`);
      fixes.push("renew the issuer (meshlet certs renew-issuer) or publish a new root beside the old one (meshlet certs import), then drop the old one");
    }
  }

  if (runs.length) out.push("instances:");
  for (const r of runs) {
    const status = await readiness(r);
    const ejected = ejectedEndpoints(metrics.get(r) ?? null);
    const outliers = ejected && ejected.size ? `; ejected as outliers: ${[...ejected].map(([t, n]) => `${n} endpoint(s) of ${t}`).join(", ")}` : "";
    out.push(`  - ${r.appId} (pid ${r.pid}): ${status}${outliers}`);
    if (status.startsWith("not ready")) {
      problems.push(`${r.appId} (pid ${r.pid}) is out of discovery: ${status.slice("not ready: ".length)}`);
      fixes.push(`see why its app fails: meshlet logs -a ${r.appId}; it comes back by itself once its app answers again`);
    }
    for (const [target, n] of ejected ?? []) {
      problems.push(`${r.appId} ejected ${n} endpoint(s) of ${target} after failures in a row`);
      fixes.push(`an instance of ${target} keeps failing: meshlet stat, and meshlet logs -a ${target}; ejection ends by itself (outlierDetection in the Resiliency target tunes it)`);
    }
  }

  const ids = new Set<string>(v["app-id"] ?? []);
  for (const r of runs) ids.add(r.appId);
  if (ids.size) out.push("app-ids:");
  for (const id of ids) {
    const [appId, ns] = id.split(".");
    const t0 = performance.now();
    try {
      const eps = await resolver.resolve({ appId: appId!, namespace: ns ?? process.env.NAMESPACE ?? "default" });
      out.push(`  - ${id}: resolved in ${(performance.now() - t0).toFixed(1)} ms to ${eps.map((e) => e.key).join(", ")}`);
    } catch (e) {
      const reason = e instanceof SidecarError ? e.reason : "error";
      out.push(`  - ${id}: ${reason} after ${(performance.now() - t0).toFixed(1)} ms: ${(e as Error).message}`);
      problems.push(`${id} does not resolve (${reason})`);
      const running = runs.find((r) => r.appId === appId);
      fixes.push(
        reason === "resolution_timeout"
          ? `nothing answered for ${id}: check that it runs and shares a network with this host; if multicast is blocked here, use the local resolver (one host) or static (edge)`
          : reason === "app_unreachable" || running
            ? `the sidecar of ${appId} runs (pid ${running?.pid ?? "?"}) but its app does not answer${running?.appPort ? ` on port ${running.appPort}` : ""}: start the app or fix --app-port; meshlet logs -a ${appId} shows what it saw`
            : `${id} is unknown to the ${resolver.name} resolver: start it with \`meshlet run -a ${appId}\`, or check its name and namespace`,
      );
    }
  }
  await resolver.close().catch(() => {});

  out.push("");
  if (problems.length === 0) out.push("diagnosis: all good");
  else {
    out.push(`diagnosis: ${problems.join("; ")}`);
    for (const f of [...new Set(fixes)]) out.push(`  fix: ${f}`);
  }
  process.stdout.write(out.join("\n") + "\n");
  return problems.length ? 1 : 0;
}
