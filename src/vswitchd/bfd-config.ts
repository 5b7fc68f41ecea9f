/**
 * Interface:bfd as OVS 3.1 reads it (lib/bfd.c's bfd_configure): a pure
 * function of the column's string map. `enable=true` turns BFD on; the
 * intervals are whole decimal numbers (others fall back to the
 * defaults: min_tx 100, min_rx 1000, decay_min_rx 0, intervals below
 * 100 ms raised to 100); booleans are "true" (case-insensitive); MACs
 * are xx:xx:xx:xx:xx:xx; an address that is not a dotted quad is logged
 * and the default (169.254.1.1 → 169.254.1.0) used.
 */
import { BFD_DEFAULT_DST_IP, BFD_DEFAULT_SRC_IP, type BfdSettings } from "../ofproto/bfd.js";
import { parseIpv4Addr, parseMac } from "../packet/bytes.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("bfd");

/** OVS's smap_get_bool with a false default. */
function bool(map: ReadonlyMap<string, string>, key: string): boolean {
  return (map.get(key) ?? "").toLowerCase() === "true";
}

/** OVS's smap_get_int: the whole value a decimal int, else the default. */
function int(map: ReadonlyMap<string, string>, key: string, def: number): number {
  const s = map.get(key);
  if (s === undefined) return def;
  const m = /^\s*([+-]?\d+)$/.exec(s);
  if (m === null) return def;
  const n = Number(m[1]);
  return n >= -0x80000000 && n <= 0x7fffffff ? n : def;
}

function mac(map: ReadonlyMap<string, string>, key: string): Uint8Array {
  const s = map.get(key);
  return (s !== undefined ? parseMac(s) : null) ?? new Uint8Array(6);
}

function ip(map: ReadonlyMap<string, string>, key: string, def: number): number {
  const s = map.get(key);
  if (s === undefined) return def;
  const a = parseIpv4Addr(s);
  if (a === null) {
    log.err(`"${s}" is not a valid IP address`);
    return def;
  }
  return a;
}

/** The settings of an interface's BFD session, or null when BFD is off. */
export function bfdSettingsOf(map: ReadonlyMap<string, string>): BfdSettings | null {
  if (!bool(map, "enable")) return null;
  return {
    minTx: Math.max(int(map, "min_tx", 100), 100),
    minRx: Math.max(int(map, "min_rx", 1000), 100),
    decayMinRx: int(map, "decay_min_rx", 0),
    cpathDown: bool(map, "cpath_down"),
    checkTnlKey: bool(map, "check_tnl_key"),
    forwardingIfRx: bool(map, "forwarding_if_rx"),
    localSrcMac: mac(map, "bfd_local_src_mac"),
    localDstMac: mac(map, "bfd_local_dst_mac"),
    remoteDstMac: mac(map, "bfd_remote_dst_mac"),
    srcIp: ip(map, "bfd_src_ip", BFD_DEFAULT_SRC_IP),
    dstIp: ip(map, "bfd_dst_ip", BFD_DEFAULT_DST_IP),
    oam: bool(map, "oam"),
  };
}
