/**
 * From `Port` and `Interface` rows to the bundles an ofproto-dpif bridge is
 * asked to have (`BundleConfig`, `IfaceConfig`): OVS's port_configure and
 * iface_configure, without touching anything.
 *
 * - VLAN mode: `Port.vlan_mode` when set; otherwise, as OVS, a port with a
 *   `tag` is an access port (its `trunks` are then ignored, with a warning)
 *   and a port without one is a trunk. Empty `trunks` / `cvlans` mean "all
 *   VLANs" (null).
 * - `other_config:qinq-ethtype=802.1q` selects 0x8100 for dot1q-tunnel
 *   ports; the default is 802.1ad (0x88a8).
 * - Interface types: `""` means `"system"`. With `--enable-dummy=override`
 *   system and tap devices are dummies (OVS's netdev_dummy_override), so a
 *   test bed behaves as OVS's testsuite does.
 * - Fake bridges (`Port.fake_bridge`) are, as in OVS, ordinary access ports
 *   whose internal interface carries the parent bridge's Ethernet address.
 */
import type { BundleConfig, IfaceConfig, VlanMode } from "../ofproto/xlate-types.js";
import type { BondMode, BondSettings } from "../ofproto/bond.js";
import type { IdlRow } from "../ovsdb/idl.js";
import { parseMac } from "../packet/bytes.js";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("bridge");

/** How dummy netdevs are enabled (`--enable-dummy[=override]`). */
export type DummyMode = "none" | "dummy" | "override";

const VLAN_MODES: ReadonlySet<string> = new Set(["access", "trunk", "native-tagged", "native-untagged", "dot1q-tunnel"]);

/** OVS's 802.1ad default TPID for dot1q-tunnel ports. */
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_VLAN_8021Q = 0x8100;

/** The first ofport number OpenFlow reserves (OFPP_MAX + 1 in OVS's 16-bit space). */
const OFPORT_REQUEST_MAX = 0xfeff;

/**
 * Interface.type as the datapath layer is asked to open it. With dummy
 * override, system (and tap) devices are dummies, as OVS's
 * netdev_dummy_override makes them; every other type stays what the row
 * says (so an unknown type still fails, as in OVS).
 */
export function netdevTypeFor(type: string, dummy: DummyMode): string {
  if (dummy === "override" && (type === "" || type === "system" || type === "tap")) return "dummy";
  return type;
}

/** Bridge.datapath_type as the datapath layer is asked to open it ("" is "system"). */
export function datapathTypeFor(type: string, dummy: DummyMode): string {
  void dummy;
  return type === "" ? "system" : type;
}

function intSet(row: IdlRow, column: string): number[] {
  return row.get(column).keys.map((k) => Number(k)).sort((a, b) => a - b);
}

/** The VLAN settings of a Port row with OVS's defaults applied. */
export function resolveVlan(port: IdlRow, quiet = false): { vlanMode: VlanMode; tag: number; trunks: number[] | null; cvlans: number[] | null } {
  const name = String(port.scalar("name"));
  const tagValue = port.scalar("tag");
  const tag = typeof tagValue === "number" && tagValue >= 0 && tagValue <= 4095 ? tagValue : -1;
  const trunkList = intSet(port, "trunks");
  const cvlanList = intSet(port, "cvlans");
  const configured = port.scalar("vlan_mode");
  let vlanMode: VlanMode;
  if (typeof configured === "string" && configured !== "") {
    if (VLAN_MODES.has(configured)) vlanMode = configured as VlanMode;
    else {
      if (!quiet) log.warn(`port ${name}: unknown VLAN mode ${configured}`);
      vlanMode = "trunk";
    }
  } else if (tag >= 0) {
    vlanMode = "access";
    if (trunkList.length > 0 && !quiet) log.warn(`port ${name}: ignoring trunks in favor of implicit vlan`);
  } else {
    vlanMode = "trunk";
  }
  return {
    vlanMode,
    tag,
    trunks: trunkList.length > 0 ? trunkList : null,
    cvlans: cvlanList.length > 0 ? cvlanList : null,
  };
}

/** The IfaceConfig of an Interface row; `fakeBridgeMac` is set for a fake bridge's interfaces. */
export function ifaceConfigOf(iface: IdlRow, dummy: DummyMode, macOverride: Uint8Array | null): IfaceConfig {
  const type = String(iface.scalar("type") ?? "");
  const cfg: IfaceConfig = {
    name: String(iface.scalar("name")),
    type: netdevTypeFor(type, dummy),
    options: Object.fromEntries(iface.stringMap("options")),
  };
  const req = iface.scalar("ofport_request");
  if (typeof req === "number" && req >= 1 && req <= OFPORT_REQUEST_MAX) cfg.ofportRequest = req;
  const mtu = iface.scalar("mtu_request");
  if (typeof mtu === "number" && mtu >= 1) cfg.mtuRequest = mtu;
  // Interface.mac applies to internal interfaces only (OVS cannot set others').
  const macText = iface.scalar("mac");
  if (macOverride !== null) cfg.mac = macOverride;
  else if (type === "internal" && typeof macText === "string") {
    const mac = parseMac(macText);
    if (mac !== null && (mac[0]! & 1) === 0) cfg.mac = mac;
    else log.warn(`interface ${cfg.name}: could not parse mac address ${macText}`);
  }
  return cfg;
}

/** Options for `bundleConfigOf`. */
export interface BundleBuildContext {
  dummy: DummyMode;
  /** The bridge's Ethernet address (for fake bridges' internal interfaces and the local port), or null when not known yet. */
  bridgeMac: Uint8Array | null;
  /** The bridge's name (its local interface gets `bridgeMac`). */
  bridgeName: string;
  /** Interface names already taken (across all bridges); updated. */
  takenIfaces: Set<string>;
  /** Resolves an Interface reference. */
  iface(uuid: string): IdlRow | undefined;
}

/** The BundleConfig of a Port row, or null when it has no usable interface. */
export function bundleConfigOf(port: IdlRow, ctx: BundleBuildContext, quiet = false): BundleConfig | null {
  const name = String(port.scalar("name"));
  const fake = port.scalar("fake_bridge") === true;
  const ifaces: IfaceConfig[] = [];
  for (const ref of port.get("interfaces").keys) {
    const row = ctx.iface(String(ref));
    if (row === undefined) continue;
    const ifName = String(row.scalar("name"));
    if (ctx.takenIfaces.has(ifName)) {
      if (!quiet) log.warn(`port ${name}: ${ifName} specified twice as port interface`);
      continue;
    }
    ctx.takenIfaces.add(ifName);
    const isInternal = row.scalar("type") === "internal";
    const isLocal = ifName === ctx.bridgeName;
    const macOverride = ctx.bridgeMac !== null && isInternal && (fake || isLocal) ? ctx.bridgeMac : null;
    ifaces.push(ifaceConfigOf(row, ctx.dummy, macOverride));
  }
  if (ifaces.length === 0) {
    if (!quiet) log.warn(`port ${name}: no interfaces`);
    return null;
  }
  const vlan = resolveVlan(port, quiet);
  const other = port.stringMap("other_config");
  const bond = ifaces.length > 1 ? bondSettingsOf(port, quiet, ctx) : null;
  return {
    ...(bond !== null ? { bond } : {}),
    name,
    ifaces,
    vlanMode: vlan.vlanMode,
    tag: vlan.tag,
    trunks: vlan.trunks,
    cvlans: vlan.cvlans,
    qinqEthtype: other.get("qinq-ethtype") === "802.1q" ? ETH_TYPE_VLAN_8021Q : ETH_TYPE_VLAN_8021AD,
    protected: port.scalar("protected") === true,
  };
}

const BOND_MODES: ReadonlySet<string> = new Set(["active-backup", "balance-slb", "balance-tcp"]);

/** smap_get_int: the integer value of `key`, or `dflt` when absent or not a number. */
function mapInt(m: Map<string, string>, key: string, dflt: number): number {
  const v = m.get(key);
  if (v === undefined) return dflt;
  const n = /^\s*[+-]?\d+/.exec(v);
  return n === null ? dflt : Number.parseInt(n[0], 10);
}

/** OVS's port_configure_bond: the bond settings of a Port with several interfaces. */
export function bondSettingsOf(port: IdlRow, quiet = false, ctx: Pick<BundleBuildContext, "bridgeMac" | "iface"> | null = null): BondSettings {
  const name = String(port.scalar("name"));
  const other = port.stringMap("other_config");
  const modeText = port.scalar("bond_mode");
  let mode: BondMode = "active-backup";
  if (typeof modeText !== "string" || modeText === "") {
    if (!quiet) log.warn(`port ${name}: Using the default bond_mode active-backup. Note that in previous versions, the default bond_mode was balance-slb`);
  } else if (BOND_MODES.has(modeText)) {
    mode = modeText as BondMode;
  } else if (!quiet) {
    log.warn(`port ${name}: unknown bond_mode ${modeText}, defaulting to active-backup`);
  }
  let rebalance = mapInt(other, "bond-rebalance-interval", 10000);
  if (rebalance !== 0 && rebalance < 1000) rebalance = 1000;
  const up = port.scalar("bond_updelay");
  const down = port.scalar("bond_downdelay");
  const lacp = port.scalar("lacp");
  const activeText = port.scalar("bond_active_slave");
  const activeMac = typeof activeText === "string" ? parseMac(activeText) : null;
  const primary = other.get("bond-primary");
  // LACP (bridge.c's port_configure_lacp / iface_configure_lacp).
  let lacpMode: "off" | "active" | "passive" = "off";
  if (lacp === "active" || lacp === "passive") lacpMode = lacp;
  else if (typeof lacp === "string" && lacp !== "" && lacp !== "off" && !quiet) log.warn(`port ${name}: unknown LACP mode ${lacp}`);
  let sysId: Uint8Array | null = ctx?.bridgeMac ?? null;
  const sysIdText = other.get("lacp-system-id");
  if (sysIdText !== undefined) {
    sysId = parseMac(sysIdText);
    if (sysId === null) {
      if (!quiet && lacpMode !== "off") log.warn(`port ${name}: LACP system ID (${sysIdText}) must be an Ethernet address`);
      lacpMode = "off";
    }
  }
  const lacpMembers: Record<string, { portId: number; portPriority: number; key: number }> = {};
  if (ctx !== null) {
    for (const ref of port.get("interfaces").keys) {
      const row = ctx.iface(String(ref));
      if (row === undefined) continue;
      const io = row.stringMap("other_config");
      lacpMembers[String(row.scalar("name"))] = {
        portId: mapInt(io, "lacp-port-id", 0),
        portPriority: mapInt(io, "lacp-port-priority", 0),
        key: mapInt(io, "lacp-aggregation-key", 0),
      };
    }
  }
  const lacpTime = other.get("lacp-time");
  return {
    lacpFast: lacpTime !== undefined && lacpTime.toLowerCase() === "fast",
    lacpSysId: sysId,
    lacpSysPriority: mapInt(other, "lacp-system-priority", 0),
    lacpMembers,
    mode,
    updelay: typeof up === "number" && up > 0 ? up : 0,
    downdelay: typeof down === "number" && down > 0 ? down : 0,
    basis: mapInt(other, "bond-hash-basis", 0) >>> 0,
    rebalanceInterval: rebalance,
    primary: primary !== undefined && primary !== "" ? primary : null,
    lacpFallbackAb: other.get("lacp-fallback-ab") === "true",
    allMembersActive: other.get("all-members-active") === "true",
    lacp: lacpMode,
    activeMemberMac: activeMac,
  };
}
