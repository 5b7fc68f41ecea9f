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
  return {
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
