/**
 * Spanning tree settings from the database, as OVS 3.1's bridge.c derives
 * them (bridge_configure_stp, port_configure_stp):
 *
 * - Bridge.stp_enable turns STP on; other_config:stp-system-id (else the
 *   bridge address), stp-priority, stp-hello-time (read as milliseconds,
 *   as OVS reads it), stp-max-age and stp-forward-delay (seconds).
 * - Every port takes part unless other_config:stp-enable=false, it is a
 *   bond, or its interface is internal. Ports are numbered in the order
 *   of OVS's hash map of the bridge's ports, unless other_config:stp-port-num
 *   numbers them (all or none: a mix disables STP on the bridge); stp-path-cost
 *   (else from the link speed) and stp-port-priority complete them.
 *
 * Pure functions of rows; errors are logged in OVS's words.
 */
import type { IdlRow } from "../ovsdb/idl.js";
import { hmapOrder } from "../ofproto/ofport-order.js";
import { STP_DEFAULT_BRIDGE_PRIORITY, STP_DEFAULT_FWD_DELAY, STP_DEFAULT_HELLO_TIME, STP_DEFAULT_MAX_AGE, STP_DEFAULT_PORT_PRIORITY, STP_MAX_PORTS, stpSpeedToCost } from "../ofproto/stp.js";
import type { StpBridgeSettings, StpPortSettings } from "../ofproto/stp-bridge.js";
import { parseMac, macToString } from "../packet/bytes.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("bridge");

/** OVS's smap_get_ullong: a leading decimal number, else the default. */
function ullong(map: Map<string, string>, key: string, def: number): number {
  const s = map.get(key);
  if (s === undefined) return def;
  const m = /^\s*\+?(\d+)/.exec(s);
  return m === null ? def : Number(m[1]);
}

/** C's strtoul(s, NULL, base) for the leading digits (0 when none). */
function strtoul(s: string, base: 0 | 10): number {
  const t = s.trim();
  if (base === 0 && /^0x[0-9a-f]+/i.test(t)) return parseInt(t.slice(2), 16);
  if (base === 0 && /^0[0-7]/.test(t)) return parseInt(t, 8);
  const m = /^\+?(\d+)/.exec(t);
  return m === null ? 0 : Number(m[1]);
}

export interface StpPortInput {
  /** The Port row. */
  port: IdlRow;
  /** Its Interface rows. */
  ifaces: IdlRow[];
  /** Link speed of its interface in bits/s when the device reports one. */
  linkSpeed?: number;
}

export interface StpConfig {
  settings: StpBridgeSettings;
  /** By interface name. */
  ports: Map<string, StpPortSettings>;
}

/** The bridge's STP configuration, or null when STP is off (or must be). */
export function stpConfigOf(bridge: IdlRow, bridgeMac: Uint8Array, ports: readonly StpPortInput[], quiet = false): StpConfig | null {
  if (bridge.scalar("stp_enable") !== true) return null;
  const name = String(bridge.scalar("name"));
  const oc = bridge.stringMap("other_config");
  let systemId = bridgeMac;
  const sid = oc.get("stp-system-id");
  if (sid !== undefined) {
    const m = parseMac(sid);
    if (m !== null) systemId = m;
    else if (!quiet) log.err(`bridge ${name}: invalid stp-system-id, defaulting to ${macToString(bridgeMac)}`);
  }
  const settings: StpBridgeSettings = {
    systemId,
    priority: ullong(oc, "stp-priority", STP_DEFAULT_BRIDGE_PRIORITY),
    helloTime: ullong(oc, "stp-hello-time", STP_DEFAULT_HELLO_TIME),
    maxAge: ullong(oc, "stp-max-age", STP_DEFAULT_MAX_AGE / 1000) * 1000,
    forwardDelay: ullong(oc, "stp-forward-delay", STP_DEFAULT_FWD_DELAY / 1000) * 1000,
  };
  const byName = new Map(ports.map((p) => [String(p.port.scalar("name")), p]));
  const out = new Map<string, StpPortSettings>();
  const numbered = new Set<number>();
  let counter = 0;
  // OVS's bridge adds its ports to a hash map in the order of another hash
  // map (of the wanted ports); STP numbers them walking the first.
  for (const pname of hmapOrder(hmapOrder([...byName.keys()]))) {
    const p = byName.get(pname)!;
    const poc = p.port.stringMap("other_config");
    if (poc.get("stp-enable") === "false") continue;
    if (p.ifaces.length !== 1) {
      if (!quiet) log.err(`port ${pname}: cannot enable STP on bonds, disabling`);
      continue;
    }
    const iface = p.ifaces[0]!;
    if (iface.scalar("type") === "internal") continue;
    let portNum: number;
    const numText = poc.get("stp-port-num");
    if (numText !== undefined) {
      const n = strtoul(numText, 0);
      if (n < 1 || n > STP_MAX_PORTS) {
        if (!quiet) log.err(`port ${pname}: invalid stp-port-num`);
        continue;
      }
      if (numbered.has(n - 1)) {
        if (!quiet) log.err(`port ${pname}: duplicate stp-port-num ${n}, disabling`);
        continue;
      }
      numbered.add(n - 1);
      portNum = n - 1;
    } else {
      if (counter >= STP_MAX_PORTS) {
        if (!quiet) log.err(`port ${pname}: too many STP ports, disabling`);
        continue;
      }
      portNum = counter++;
    }
    const costText = poc.get("stp-path-cost");
    // Without a speed (dummy and patch ports), OVS 3.1 ends up with 10 Gb/s's cost.
    const pathCost = costText !== undefined ? strtoul(costText, 10) & 0xffff : p.linkSpeed !== undefined && p.linkSpeed > 0 ? stpSpeedToCost(p.linkSpeed / 1e6) : 2;
    const prioText = poc.get("stp-port-priority");
    const priority = prioText !== undefined ? strtoul(prioText, 0) & 0xff : STP_DEFAULT_PORT_PRIORITY;
    out.set(String(iface.scalar("name")), { portNum, priority, pathCost });
  }
  if (numbered.size > 0 && counter > 0) {
    if (!quiet) log.err(`bridge ${name}: must manually configure all STP port IDs or none, disabling`);
    return null;
  }
  return { settings, ports: out };
}
