/**
 * Which remotes in-band control protects (OVS's bridge_configure_remotes
 * and connmgr's in-band remotes): every controller whose connection_mode is
 * in-band (the default) with a `tcp:` or `ssl:` IPv4 target (port 6653 when
 * none is given), and every manager of Open_vSwitch.manager_options not
 * marked out-of-band (port 6640 by default) — none at all when the bridge
 * has other_config:disable-in-band=true.
 */
import type { InBandRemote } from "../ofproto/in-band.js";
import type { IdlRow } from "../ovsdb/idl.js";

const OFP_PORT = 6653;
const OVSDB_PORT = 6640;

/** `tcp:IP[:PORT]` / `ssl:IP[:PORT]` with a dotted-quad IPv4 address, or null. */
export function parseInBandTarget(target: string, defaultPort: number): InBandRemote | null {
  const m = /^(?:tcp|ssl):(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?::(\d+))?$/.exec(target);
  if (m === null) return null;
  const octets = [m[1], m[2], m[3], m[4]].map(Number);
  if (octets.some((o) => o > 255)) return null;
  const port = m[5] === undefined ? defaultPort : Number(m[5]);
  if (port < 1 || port > 65535) return null;
  return { ip: ((octets[0]! << 24) | (octets[1]! << 16) | (octets[2]! << 8) | octets[3]!) >>> 0, port };
}

function inBand(row: IdlRow): boolean {
  return row.scalar("connection_mode") !== "out-of-band";
}

export function inBandRemotesOf(bridge: IdlRow, controllers: readonly IdlRow[], managers: readonly IdlRow[]): InBandRemote[] {
  if (bridge.stringMap("other_config").get("disable-in-band") === "true") return [];
  const out: InBandRemote[] = [];
  for (const c of controllers) {
    const r = inBand(c) ? parseInBandTarget(String(c.scalar("target")), OFP_PORT) : null;
    if (r !== null) out.push(r);
  }
  // A manager target listed twice counts once; one marked out-of-band is left out.
  const targets = new Set<string>();
  for (const m of managers) {
    const t = String(m.scalar("target"));
    if (inBand(m)) targets.add(t);
    else targets.delete(t);
  }
  for (const t of targets) {
    const r = parseInBandTarget(t, OVSDB_PORT);
    if (r !== null) out.push(r);
  }
  return out;
}
