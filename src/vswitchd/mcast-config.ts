/**
 * Multicast snooping settings from the database, as OVS 3.1's bridge.c
 * reads them (bridge_configure_mcast_snooping):
 *
 * - Bridge.mcast_snooping_enable turns it on.
 * - other_config:mcast-snooping-aging-time (seconds, default 300) and
 *   mcast-snooping-table-size (default 2048) are read as whole decimal
 *   integers (anything else is the default; a negative one becomes a huge
 *   unsigned value, i.e. the upper limit once normalized);
 *   mcast-snooping-disable-flood-unregistered=true stops flooding
 *   unregistered multicast.
 * - Port.other_config:mcast-snooping-flood and mcast-snooping-flood-reports
 *   ("true", any case) flag ports, visited in the order of OVS's hash map
 *   of the bridge's ports (the order the flags are recorded in, which is
 *   the order NORMAL outputs to flood ports).
 *
 * Pure functions of rows.
 */
import type { IdlRow } from "../ovsdb/idl.js";
import { hmapOrder } from "../ofproto/ofport-order.js";
import { MCAST_DEFAULT_IDLE_TIME, MCAST_DEFAULT_MAX_ENTRIES, type McastPortSettings, type McastSnoopingSettings } from "../ofproto/mcast-snooping.js";

/** OVS's smap_get_int: the whole value as a decimal int, else the default. */
function smapInt(map: Map<string, string>, key: string, def: number): number {
  const s = map.get(key);
  if (s === undefined) return def;
  const m = /^\s*([+-]?\d+)$/.exec(s);
  if (m === null) return def;
  const v = Number(m[1]);
  if (v > 0x7fffffff || v < -0x80000000) return def;
  /* Stored into an unsigned setting: a negative value wraps to a huge one. */
  return v < 0 ? Number.MAX_SAFE_INTEGER : v;
}

/** OVS's smap_get_bool with default false: "true" in any case. */
function smapTrue(map: Map<string, string>, key: string): boolean {
  return (map.get(key) ?? "").toLowerCase() === "true";
}

export interface McastConfig {
  settings: McastSnoopingSettings;
  /** By Port name, in OVS's order. */
  ports: Map<string, McastPortSettings>;
}

/** The bridge's multicast snooping configuration, or null when it is off. */
export function mcastConfigOf(bridge: IdlRow, ports: readonly IdlRow[]): McastConfig | null {
  if (bridge.scalar("mcast_snooping_enable") !== true) return null;
  const oc = bridge.stringMap("other_config");
  const settings: McastSnoopingSettings = {
    idleTime: smapInt(oc, "mcast-snooping-aging-time", MCAST_DEFAULT_IDLE_TIME),
    maxEntries: smapInt(oc, "mcast-snooping-table-size", MCAST_DEFAULT_MAX_ENTRIES),
    floodUnreg: !smapTrue(oc, "mcast-snooping-disable-flood-unregistered"),
  };
  const byName = new Map(ports.map((p) => [String(p.scalar("name")), p]));
  const out = new Map<string, McastPortSettings>();
  for (const name of hmapOrder(hmapOrder([...byName.keys()]))) {
    const poc = byName.get(name)!.stringMap("other_config");
    out.set(name, { flood: smapTrue(poc, "mcast-snooping-flood"), floodReports: smapTrue(poc, "mcast-snooping-flood-reports") });
  }
  return { settings, ports: out };
}
