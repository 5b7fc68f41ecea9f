/**
 * OVS stream addresses: `unix:PATH`, `tcp:IP:PORT` (active) and
 * `punix:PATH`, `ptcp:PORT[:IP]` (passive), as in ovsdb-server(1) and
 * ovs-vsctl(8), and `ssl:IP:PORT` / `pssl:PORT[:IP]` (TLS, see ssl.ts), which
 * callers that cannot serve them report as unsupported.
 */
import * as net from "node:net";

export type ActiveAddress =
  | { kind: "unix"; path: string }
  | { kind: "tcp"; host: string; port: number }
  | { kind: "ssl"; host: string; port: number };

export type PassiveAddress =
  | { kind: "punix"; path: string }
  | { kind: "ptcp"; host: string; port: number }
  | { kind: "pssl"; host: string; port: number };

function splitHostPort(rest: string): { host: string; port: string } | null {
  if (rest.startsWith("[")) {
    const end = rest.indexOf("]");
    if (end < 0) return null;
    const host = rest.slice(1, end);
    const after = rest.slice(end + 1);
    return { host, port: after.startsWith(":") ? after.slice(1) : "" };
  }
  const idx = rest.lastIndexOf(":");
  if (idx < 0) return { host: rest, port: "" };
  return { host: rest.slice(0, idx), port: rest.slice(idx + 1) };
}

function parsePort(s: string, dflt: number): number | null {
  if (s === "") return dflt;
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  return n <= 65535 ? n : null;
}

/** Parses an active address; `defaultPort` applies to tcp/ssl without one. */
export function parseActive(name: string, defaultPort = 6640): ActiveAddress | null {
  if (name.startsWith("unix:")) return { kind: "unix", path: name.slice(5) };
  for (const kind of ["tcp", "ssl"] as const) {
    if (name.startsWith(kind + ":")) {
      const hp = splitHostPort(name.slice(kind.length + 1));
      if (!hp || hp.host === "") return null;
      const port = parsePort(hp.port, defaultPort);
      if (port === null) return null;
      return { kind, host: hp.host, port };
    }
  }
  return null;
}

/** Parses a passive address (`ptcp:PORT[:IP]`); listens on 0.0.0.0 by default as OVS. */
export function parsePassive(name: string, defaultPort = 6640): PassiveAddress | null {
  if (name.startsWith("punix:")) return { kind: "punix", path: name.slice(6) };
  for (const kind of ["ptcp", "pssl"] as const) {
    if (name.startsWith(kind + ":")) {
      const rest = name.slice(kind.length + 1);
      const idx = rest.indexOf(":");
      const portStr = idx < 0 ? rest : rest.slice(0, idx);
      let host = idx < 0 ? "0.0.0.0" : rest.slice(idx + 1);
      if (host.startsWith("[") && host.endsWith("]")) host = host.slice(1, -1);
      const port = parsePort(portStr, defaultPort);
      if (port === null || (host !== "" && net.isIP(host) === 0)) return null;
      return { kind, host: host === "" ? "0.0.0.0" : host, port };
    }
  }
  return null;
}

/** Opens a client socket to an active address. */
export function connectActive(addr: ActiveAddress): net.Socket {
  if (addr.kind === "unix") return net.createConnection({ path: addr.path });
  if (addr.kind === "tcp") return net.createConnection({ host: addr.host, port: addr.port });
  throw new Error("SSL connections are not supported");
}
