// host:port as configuration writes it (a resolver's static addresses, a Redis host): a name or
// IPv4 address with a port, [ipv6]:port, and, where a default port is given, the host alone.

export function hostPort(s: string, defaultPort?: number): { host: string; port: number } {
  const m = /^\[([0-9a-fA-F:.]+)\](?::(\d+))?$/.exec(s) ?? /^([^:\s[\]]+)(?::(\d+))?$/.exec(s);
  const port = m?.[2] !== undefined ? Number(m[2]) : (defaultPort ?? NaN);
  if (!m || !(port > 0 && port < 65536)) throw new Error(`invalid address "${s}" (want host:port or [ipv6]:port${defaultPort ? `, or a host alone for port ${defaultPort}` : ""})`);
  return { host: m[1]!, port };
}
