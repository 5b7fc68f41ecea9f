/**
 * From a `Bridge` row (and the rows it references) to the settings of one
 * OpenFlow switch, as OVS's bridge.c derives them: the Ethernet address
 * (`other_config:hwaddr`, else the lowest universal address of its
 * physical interfaces, else a random one kept for the bridge's life), the
 * datapath ID (`other_config:datapath-id`, else the address as a number),
 * the OpenFlow versions (`protocols`), the controllers, the `Flow_Table`
 * settings and the `other_config` knobs ofproto-dpif honours.
 *
 * Pure functions of rows; nothing here touches a running switch.
 */
import type { BridgeDpConfig, DatapathGlobalConfig } from "../ofproto/xlate-types.js";
import type { ControllerConfig, FailMode } from "../ofproto/connmgr.js";
import type { TableConfig } from "../ofproto/tables.js";
import type { IdlRow } from "../ovsdb/idl.js";
import type { MirrorSettings } from "../ofproto/mirror.js";
import { parseMac } from "../packet/bytes.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("bridge");

const PROTOCOL_VERSIONS: Readonly<Record<string, number>> = {
  OpenFlow10: 1, OpenFlow11: 2, OpenFlow12: 3, OpenFlow13: 4, OpenFlow14: 5, OpenFlow15: 6,
};

/** OpenFlow versions of Bridge.protocols as a version bitmap (bit N = wire version N), or null for the default. */
export function protocolsBitmap(bridge: IdlRow): number | null {
  let bitmap = 0;
  for (const p of bridge.get("protocols").keys) {
    const v = PROTOCOL_VERSIONS[String(p)];
    if (v === undefined) log.warn(`bridge ${String(bridge.scalar("name"))}: unknown OpenFlow version ${String(p)}`);
    else bitmap |= 1 << v;
  }
  return bitmap === 0 ? null : bitmap;
}

export function failModeOf(bridge: IdlRow): FailMode {
  return bridge.scalar("fail_mode") === "secure" ? "secure" : "standalone";
}

function isMulticast(m: Uint8Array): boolean {
  return (m[0]! & 1) !== 0;
}
function isLocal(m: Uint8Array): boolean {
  return (m[0]! & 2) !== 0;
}
function isZero(m: Uint8Array): boolean {
  return m.every((b) => b === 0);
}
function compareMac(a: Uint8Array, b: Uint8Array): number {
  for (let i = 0; i < 6; i++) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** One candidate for the bridge address: an interface's address (or its Port.mac). */
export interface MacCandidate {
  ifaceName: string;
  ifaceType: string;
  mac: Uint8Array;
}

/**
 * The bridge's Ethernet address: other_config:hwaddr when valid; else the
 * numerically lowest universally administered unicast address among the
 * bridge's non-internal interfaces (never its own local interface); else
 * `fallback` (the random address the bridge was created with).
 */
export function pickBridgeMac(bridge: IdlRow, candidates: readonly MacCandidate[], fallback: Uint8Array): Uint8Array {
  const name = String(bridge.scalar("name"));
  const configured = bridge.stringMap("other_config").get("hwaddr");
  if (configured !== undefined) {
    const m = parseMac(configured);
    if (m === null) log.err(`bridge ${name}: invalid hwaddr ${configured}`);
    else if (isMulticast(m)) log.err(`bridge ${name}: cannot set MAC address to multicast address ${configured}`);
    else if (isZero(m)) log.err(`bridge ${name}: cannot set MAC address to zero`);
    else return m;
  }
  let best: Uint8Array | null = null;
  for (const c of candidates) {
    if (c.ifaceName === name || c.ifaceType === "internal") continue;
    if (isMulticast(c.mac) || isLocal(c.mac) || isZero(c.mac)) continue;
    if (best === null || compareMac(c.mac, best) < 0) best = c.mac;
  }
  return best ?? fallback;
}

/** The datapath ID: other_config:datapath-id (exactly 16 hex digits, nonzero) else the address. */
export function pickDatapathId(bridge: IdlRow, mac: Uint8Array): bigint {
  const s = bridge.stringMap("other_config").get("datapath-id");
  if (s !== undefined) {
    if (/^[0-9a-fA-F]{16}$/.test(s) && BigInt(`0x${s}`) !== 0n) return BigInt(`0x${s}`);
    log.err(`bridge ${String(bridge.scalar("name"))}: invalid datapath ID ${s}`);
  }
  let v = 0n;
  for (const b of mac) v = (v << 8n) | BigInt(b);
  return v;
}

/** `other_config` integer knob, or undefined when absent or not an integer in range. */
function intKnob(map: Map<string, string>, key: string, min: number, max = Number.MAX_SAFE_INTEGER): number | undefined {
  const s = map.get(key);
  if (s === undefined || !/^-?\d+$/.test(s)) return undefined;
  const n = Number(s);
  return n >= min && n <= max ? n : undefined;
}

function boolKnob(map: Map<string, string>, key: string): boolean | undefined {
  const s = map.get(key);
  return s === "true" ? true : s === "false" ? false : undefined;
}

/** Bridge.other_config knobs for ofproto-dpif. */
export function bridgeDpConfigOf(bridge: IdlRow): BridgeDpConfig {
  const oc = bridge.stringMap("other_config");
  const cfg: BridgeDpConfig = {};
  const aging = intKnob(oc, "mac-aging-time", 1);
  if (aging !== undefined) cfg.macAgingTime = aging;
  const size = intKnob(oc, "mac-table-size", 1);
  if (size !== undefined) cfg.macTableSize = size;
  const bpdu = boolKnob(oc, "forward-bpdu");
  if (bpdu !== undefined) cfg.forwardBpdu = bpdu;
  const flood = bridge.get("flood_vlans").keys.map(Number).sort((a, b) => a - b);
  if (flood.length > 0) cfg.floodVlans = flood;
  return cfg;
}

/** Open_vSwitch.other_config knobs of the datapath layer. */
export function globalConfigOf(ovs: IdlRow): DatapathGlobalConfig {
  const oc = ovs.stringMap("other_config");
  const cfg: DatapathGlobalConfig = {};
  const limit = intKnob(oc, "flow-limit", 0);
  if (limit !== undefined) cfg.flowLimit = limit;
  const idle = intKnob(oc, "max-idle", 500);
  if (idle !== undefined) cfg.maxIdle = idle;
  return cfg;
}

/** Open_vSwitch.other_config:stats-update-interval (ms, at least 5000; default 5000). */
export function statsIntervalOf(ovs: IdlRow): number {
  return Math.max(5000, intKnob(ovs.stringMap("other_config"), "stats-update-interval", 0) ?? 5000);
}

/** A Controller row as connmgr configures it. */
export function controllerConfigOf(row: IdlRow): ControllerConfig {
  const cfg: ControllerConfig = { target: String(row.scalar("target")) };
  const probe = row.scalar("inactivity_probe");
  if (typeof probe === "number") cfg.probeInterval = probe / 1000;
  const backoff = row.scalar("max_backoff");
  if (typeof backoff === "number") cfg.maxBackoff = Math.max(1, backoff / 1000);
  const rate = row.scalar("controller_rate_limit");
  if (typeof rate === "number") cfg.rateLimit = rate;
  const burst = row.scalar("controller_burst_limit");
  if (typeof burst === "number") cfg.burstLimit = burst;
  const async = row.scalar("enable_async_messages");
  if (typeof async === "boolean") cfg.enableAsyncMessages = async;
  if (row.scalar("type") === "service") cfg.type = "service";
  return cfg;
}

/** A Flow_Table row as `tables.configureTable` takes it (null row = the defaults). */
export function tableConfigOf(row: IdlRow | null): TableConfig {
  if (row === null) return { name: null, flowLimit: null, overflowPolicy: "refuse", groups: [], prefixes: null, readonly: false };
  const name = row.scalar("name");
  const limit = row.scalar("flow_limit");
  const prefixes = row.get("prefixes").keys.map(String);
  return {
    name: typeof name === "string" ? name : null,
    flowLimit: typeof limit === "number" ? limit : null,
    overflowPolicy: row.scalar("overflow_policy") === "evict" ? "evict" : "refuse",
    groups: row.get("groups").keys.map(String),
    prefixes: prefixes.length > 0 ? prefixes : null,
    readonly: false,
  };
}

/**
 * The settings of one Mirror row of bridge `bridgeName` (OVS's
 * mirror_configure), or null when the row cannot be used — logged as OVS
 * logs it: an output port not on the bridge, or no output at all. Both an
 * output port and an output VLAN: the port wins, with an error logged.
 * `portName` resolves a Port uuid to the name of a port of this bridge
 * (undefined: not on the bridge); `allPorts` are the bridge's port names
 * (select_all).
 */
export function mirrorSettingsOf(
  m: IdlRow, bridgeName: string, portName: (uuid: string) => string | undefined, allPorts: readonly string[],
): MirrorSettings | null {
  const name = String(m.scalar("name") ?? "");
  const outRef = m.get("output_port").keys[0];
  const outVlan = m.get("output_vlan").keys[0];
  let outBundle: string | null = null;
  let vlan = -1;
  if (outRef !== undefined) {
    const n = portName(String(outRef));
    if (n === undefined) {
      log.err(`bridge ${bridgeName}: mirror ${name} outputs to port not on bridge`);
      return null;
    }
    outBundle = n;
    if (outVlan !== undefined) {
      log.err(`bridge ${bridgeName}: mirror ${name} specifies both output port and output vlan; ignoring output vlan`);
    }
  } else if (outVlan !== undefined) {
    vlan = Number(outVlan);
  } else {
    log.err(`bridge ${bridgeName}: mirror ${name} does not specify output; ignoring`);
    return null;
  }
  const ports = (col: string): string[] => {
    const out: string[] = [];
    for (const ref of m.get(col).keys) {
      const n = portName(String(ref));
      if (n !== undefined) out.push(n);
    }
    return out;
  };
  const all = m.scalar("select_all") === true;
  const snap = m.get("snaplen").keys[0];
  const vlans = m.get("select_vlan").keys.map((k) => Number(k));
  return {
    name,
    srcs: all ? allPorts : ports("select_src_port"),
    dsts: all ? allPorts : ports("select_dst_port"),
    vlans: vlans.length > 0 ? vlans : null,
    outBundle,
    outVlan: vlan,
    snaplen: snap !== undefined ? Number(snap) : 0,
  };
}
