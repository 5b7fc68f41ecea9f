/**
 * The registry of OpenFlow fields (OVS's meta-flow): one table with every
 * field of ovs-fields(7) — name and aliases, width, text format, whether it
 * is maskable, prerequisites, whether it is writable, OpenFlow 1.0/1.1
 * match support, and its OXM and NXM codes with the versions that
 * introduced them — plus NXM/OXM header parsing and printing and the text
 * forms of field values (the `field=value/mask` syntax of ovs-ofctl).
 *
 * The rows were transcribed from ovs-fields(7) of Open vSwitch 3.1 (the
 * register, xregister, xxregister and tun_metadata families expanded), and
 * `dp_hash`/`recirc_id`, which OVS matches but does not document there.
 *
 * ## Header layout
 * An NXM/OXM header is `class:16 | field:7 | hasmask:1 | length:8`; when
 * the class is 0xffff (experimenter) a 32-bit experimenter id follows and
 * counts in `length`. Classes by name prefix: NXM_OF_ 0x0000, NXM_NX_
 * 0x0001, OXM_OF_ 0x8000, OXM_OF_PKT_REG 0x8001, ERICOXM_OF_ 0x1000, and
 * experimenter ONFOXM_ET_ (ONF), NXOXM_ET_ (Nicira), NXOXM_NSH_ (0x005ad650).
 *
 * ## Extension point: flow-key positions
 * `flowKey` names the `FLOW_FIELDS` entry of `src/flow/key-layout.ts` that
 * holds the field (by name, so this table stays data; a test checks every
 * name exists). Sub-fields (vlan_vid in vlan_tci, ip_dscp in nw_tos, ...)
 * name their containing entry; their bit positions, and the placement of
 * tun_metadata in the Geneve bytes, are the match layer's (next session).
 */
import { bigToBytes, bytesToBig, ipv6ToString } from "../packet/bytes.js";
import { formatPort, OFPP_ALL, OFPP_CONTROLLER, OFPP_FLOOD, OFPP_IN_PORT, OFPP_LOCAL, OFPP_NONE, OFPP_NORMAL, OFPP_TABLE } from "./ofp-codec.js";

/** How a field's value is written in text. */
export type MfFormat =
  | "decimal" | "hex" | "ethernet" | "ipv4" | "ipv6" | "ofp-port" | "ofp11-port"
  | "tcp-flags" | "ct-state" | "frag" | "packet-type" | "tun-flags";

/** What must already be matched before a field may be (ovs-fields(7) "Prerequisites"). */
export type MfPrereq =
  | "none" | "ethernet" | "arp" | "ipv4" | "ipv6" | "ip_any" | "tcp" | "udp" | "sctp"
  | "icmpv4" | "icmpv6" | "nd" | "nd_solicit" | "nd_advert" | "mpls" | "vlan_vid" | "ct" | "nsh";

/** OpenFlow 1.0 / 1.1 match support: not at all, exact only, CIDR, or arbitrary masks. */
export type MfOfSupport = "no" | "exact" | "cidr" | "yes";

/** An OXM or NXM code of a field. */
export interface MfCode {
  /** e.g. "NXM_NX_REG0", "OXM_OF_IN_PORT". */
  readonly name: string;
  readonly class: number;
  readonly field: number;
  /** Experimenter id for class 0xffff, else 0. */
  readonly vendor: number;
  /** OpenFlow version (wire) that introduced it; null for NXM codes. */
  readonly ofVersion: number | null;
  /** Open vSwitch version that introduced it ("1.10"). */
  readonly ovsVersion: string;
}

export interface MfField {
  readonly name: string;
  readonly aliases: readonly string[];
  /** Width in bits (tun_metadata: the maximum, 992). */
  readonly bits: number;
  /** Width in bytes as carried in NXM/OXM. */
  readonly bytes: number;
  readonly format: MfFormat;
  readonly maskable: boolean;
  readonly prereqs: MfPrereq;
  readonly writable: boolean;
  readonly of10: MfOfSupport;
  readonly of11: MfOfSupport;
  readonly oxm: MfCode | null;
  /**
   * The standard OXM code OpenFlow 1.5 gave a field that OVS first
   * carried as an ONF experimenter OXM (tcp_flags, actset_output).
   */
  readonly oxm15: MfCode | null;
  readonly nxm: MfCode | null;
  /**
   * Name of the FLOW_FIELDS entry in src/flow/key-layout.ts that holds the
   * field (for sub-fields and overlays: the entry it is part of; the bit
   * position inside it is for the match layer to add).
   */
  readonly flowKey: string;
}

export const OXM_CLASS_NXM0 = 0x0000;
export const OXM_CLASS_NXM1 = 0x0001;
export const OXM_CLASS_ERIC = 0x1000;
export const OXM_CLASS_OPENFLOW_BASIC = 0x8000;
export const OXM_CLASS_PKT_REGS = 0x8001;
export const OXM_CLASS_EXPERIMENTER = 0xffff;
const NX_VENDOR = 0x00002320;
const ONF_VENDOR = 0x4f4e4600;
const NSH_VENDOR = 0x005ad650;

/** Class and experimenter of a code name, by its prefix (longest first). */
const CODE_PREFIXES: readonly [string, number, number][] = [
  ["OXM_OF_PKT_REG", OXM_CLASS_PKT_REGS, 0],
  ["OXM_OF_", OXM_CLASS_OPENFLOW_BASIC, 0],
  ["NXM_OF_", OXM_CLASS_NXM0, 0],
  ["NXM_NX_", OXM_CLASS_NXM1, 0],
  ["ERICOXM_OF_", OXM_CLASS_ERIC, 0],
  ["ONFOXM_ET_", OXM_CLASS_EXPERIMENTER, ONF_VENDOR],
  ["NXOXM_ET_", OXM_CLASS_EXPERIMENTER, NX_VENDOR],
  ["NXOXM_NSH_", OXM_CLASS_EXPERIMENTER, NSH_VENDOR],
];

const OF_VERSIONS: Readonly<Record<string, number>> = { "1.0": 1, "1.1": 2, "1.2": 3, "1.3": 4, "1.4": 5, "1.5": 6 };

function c(name: string, field: number, ofVersion: string | null, ovsVersion: string): MfCode {
  const p = CODE_PREFIXES.find(([pre]) => name.startsWith(pre));
  if (!p) throw new Error(`meta-flow: no class for ${name}`);
  return { name, class: p[1], field, vendor: p[2], ofVersion: ofVersion ? OF_VERSIONS[ofVersion]! : null, ovsVersion };
}

/** Fields whose FLOW_FIELDS name in src/flow/key-layout.ts differs from the OpenFlow name. */
const FLOW_KEY_NAMES: Readonly<Record<string, string>> = {
  eth_src: "dl_src", eth_dst: "dl_dst", eth_type: "dl_type", ip_src: "nw_src", ip_dst: "nw_dst",
  in_port_oxm: "in_port", tcp_src: "tp_src", tcp_dst: "tp_dst", udp_src: "tp_src", udp_dst: "tp_dst",
  sctp_src: "tp_src", sctp_dst: "tp_dst", icmp_type: "tp_src", icmp_code: "tp_dst",
  icmpv6_type: "tp_src", icmpv6_code: "tp_dst", arp_spa: "nw_src", arp_tpa: "nw_dst", arp_op: "nw_proto",
  // Sub-fields: they live in part of the named flow field.
  vlan_vid: "vlan_tci", vlan_pcp: "vlan_tci", mpls_label: "mpls_lse0", mpls_tc: "mpls_lse0",
  mpls_bos: "mpls_lse0", mpls_ttl: "mpls_lse0", ip_frag: "nw_frag", ip_dscp: "nw_tos", nw_ecn: "nw_tos",
  nd_sll: "arp_sha", nd_tll: "arp_tha",
  // Wide registers overlay the 32-bit ones (xregN = reg2N:reg2N+1, xxregN = reg4N..reg4N+3).
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`xreg${i}`, `reg${2 * i}`])),
  ...Object.fromEntries(Array.from({ length: 4 }, (_, i) => [`xxreg${i}`, `reg${4 * i}`])),
  // Tunnel metadata lives in the Geneve option bytes, placed by the TLV table.
  ...Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`tun_metadata${i}`, "tun_geneve"])),
};

/** Standard OF1.5 codes of fields first defined as ONF experimenter OXMs. */
const OF15_STANDARD: Readonly<Record<string, MfCode>> = {
  tcp_flags: c("OXM_OF_TCP_FLAGS", 42, "1.5", "2.4"),
  actset_output: c("OXM_OF_ACTSET_OUTPUT", 43, "1.5", "2.4"),
};

function f(
  name: string, aliases: string[], bits: number, format: MfFormat, maskable: boolean, prereqs: MfPrereq,
  writable: boolean, of10: MfOfSupport, of11: MfOfSupport, oxm: MfCode | null, nxm: MfCode | null,
): MfField {
  return {
    name, aliases, bits, bytes: Math.ceil(bits / 8), format, maskable, prereqs, writable, of10, of11, oxm,
    oxm15: OF15_STANDARD[name] ?? null, nxm,
    flowKey: FLOW_KEY_NAMES[name] ?? name,
  };
}

/** Every field, in ovs-fields(7) order. */
export const MF_FIELDS: readonly MfField[] = [
  // Not documented in ovs-fields(7), but matchable and printed by OVS:
  f("dp_hash", [], 32, "hex", true, "none", false, "no", "no", null, c("NXM_NX_DP_HASH", 35, null, "2.2")),
  f("recirc_id", [], 32, "hex", false, "none", false, "no", "no", null, c("NXM_NX_RECIRC_ID", 36, null, "2.2")),
  f("conj_id", [], 32, "decimal", false, "none", false, "no", "no", null, c("NXM_NX_CONJ_ID", 37, null, "2.4")),
  f("tun_id", ["tunnel_id"], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_TUNNEL_ID", 38, "1.3", "1.10"), c("NXM_NX_TUN_ID", 16, null, "1.1")),
  f("tun_src", [], 32, "ipv4", true, "none", true, "no", "no", null, c("NXM_NX_TUN_IPV4_SRC", 31, null, "2.0")),
  f("tun_dst", [], 32, "ipv4", true, "none", true, "no", "no", null, c("NXM_NX_TUN_IPV4_DST", 32, null, "2.0")),
  f("tun_ipv6_src", [], 128, "ipv6", true, "none", true, "no", "no", null, c("NXM_NX_TUN_IPV6_SRC", 109, null, "2.5")),
  f("tun_ipv6_dst", [], 128, "ipv6", true, "none", true, "no", "no", null, c("NXM_NX_TUN_IPV6_DST", 110, null, "2.5")),
  f("tun_gbp_id", [], 16, "decimal", true, "none", true, "no", "no", null, c("NXM_NX_TUN_GBP_ID", 38, null, "2.4")),
  f("tun_gbp_flags", [], 8, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_GBP_FLAGS", 39, null, "2.4")),
  f("tun_erspan_ver", [], 8, "decimal", true, "none", true, "no", "no", null, c("NXOXM_ET_ERSPAN_VER", 12, null, "2.10")),
  f("tun_erspan_idx", [], 32, "hex", true, "none", true, "no", "no", null, c("NXOXM_ET_ERSPAN_IDX", 11, null, "2.10")),
  f("tun_erspan_dir", [], 8, "decimal", true, "none", true, "no", "no", null, c("NXOXM_ET_ERSPAN_DIR", 13, null, "2.10")),
  f("tun_erspan_hwid", [], 8, "hex", true, "none", true, "no", "no", null, c("NXOXM_ET_ERSPAN_HWID", 14, null, "2.10")),
  f("tun_gtpu_flags", [], 8, "hex", true, "none", false, "no", "no", null, c("NXOXM_ET_GTPU_FLAGS", 15, null, "2.13")),
  f("tun_gtpu_msgtype", [], 8, "decimal", true, "none", false, "no", "no", null, c("NXOXM_ET_GTPU_MSGTYPE", 16, null, "2.13")),
  f("tun_metadata0", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA0", 40, null, "2.5")),
  f("tun_metadata1", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA1", 41, null, "2.5")),
  f("tun_metadata2", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA2", 42, null, "2.5")),
  f("tun_metadata3", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA3", 43, null, "2.5")),
  f("tun_metadata4", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA4", 44, null, "2.5")),
  f("tun_metadata5", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA5", 45, null, "2.5")),
  f("tun_metadata6", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA6", 46, null, "2.5")),
  f("tun_metadata7", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA7", 47, null, "2.5")),
  f("tun_metadata8", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA8", 48, null, "2.5")),
  f("tun_metadata9", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA9", 49, null, "2.5")),
  f("tun_metadata10", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA10", 50, null, "2.5")),
  f("tun_metadata11", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA11", 51, null, "2.5")),
  f("tun_metadata12", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA12", 52, null, "2.5")),
  f("tun_metadata13", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA13", 53, null, "2.5")),
  f("tun_metadata14", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA14", 54, null, "2.5")),
  f("tun_metadata15", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA15", 55, null, "2.5")),
  f("tun_metadata16", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA16", 56, null, "2.5")),
  f("tun_metadata17", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA17", 57, null, "2.5")),
  f("tun_metadata18", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA18", 58, null, "2.5")),
  f("tun_metadata19", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA19", 59, null, "2.5")),
  f("tun_metadata20", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA20", 60, null, "2.5")),
  f("tun_metadata21", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA21", 61, null, "2.5")),
  f("tun_metadata22", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA22", 62, null, "2.5")),
  f("tun_metadata23", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA23", 63, null, "2.5")),
  f("tun_metadata24", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA24", 64, null, "2.5")),
  f("tun_metadata25", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA25", 65, null, "2.5")),
  f("tun_metadata26", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA26", 66, null, "2.5")),
  f("tun_metadata27", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA27", 67, null, "2.5")),
  f("tun_metadata28", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA28", 68, null, "2.5")),
  f("tun_metadata29", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA29", 69, null, "2.5")),
  f("tun_metadata30", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA30", 70, null, "2.5")),
  f("tun_metadata31", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA31", 71, null, "2.5")),
  f("tun_metadata32", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA32", 72, null, "2.5")),
  f("tun_metadata33", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA33", 73, null, "2.5")),
  f("tun_metadata34", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA34", 74, null, "2.5")),
  f("tun_metadata35", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA35", 75, null, "2.5")),
  f("tun_metadata36", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA36", 76, null, "2.5")),
  f("tun_metadata37", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA37", 77, null, "2.5")),
  f("tun_metadata38", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA38", 78, null, "2.5")),
  f("tun_metadata39", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA39", 79, null, "2.5")),
  f("tun_metadata40", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA40", 80, null, "2.5")),
  f("tun_metadata41", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA41", 81, null, "2.5")),
  f("tun_metadata42", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA42", 82, null, "2.5")),
  f("tun_metadata43", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA43", 83, null, "2.5")),
  f("tun_metadata44", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA44", 84, null, "2.5")),
  f("tun_metadata45", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA45", 85, null, "2.5")),
  f("tun_metadata46", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA46", 86, null, "2.5")),
  f("tun_metadata47", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA47", 87, null, "2.5")),
  f("tun_metadata48", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA48", 88, null, "2.5")),
  f("tun_metadata49", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA49", 89, null, "2.5")),
  f("tun_metadata50", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA50", 90, null, "2.5")),
  f("tun_metadata51", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA51", 91, null, "2.5")),
  f("tun_metadata52", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA52", 92, null, "2.5")),
  f("tun_metadata53", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA53", 93, null, "2.5")),
  f("tun_metadata54", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA54", 94, null, "2.5")),
  f("tun_metadata55", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA55", 95, null, "2.5")),
  f("tun_metadata56", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA56", 96, null, "2.5")),
  f("tun_metadata57", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA57", 97, null, "2.5")),
  f("tun_metadata58", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA58", 98, null, "2.5")),
  f("tun_metadata59", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA59", 99, null, "2.5")),
  f("tun_metadata60", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA60", 100, null, "2.5")),
  f("tun_metadata61", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA61", 101, null, "2.5")),
  f("tun_metadata62", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA62", 102, null, "2.5")),
  f("tun_metadata63", [], 992, "hex", true, "none", true, "no", "no", null, c("NXM_NX_TUN_METADATA63", 103, null, "2.5")),
  f("tun_flags", [], 16, "tun-flags", true, "none", true, "no", "no", null, c("NXM_NX_TUN_FLAGS", 104, null, "2.5")),
  f("in_port", [], 16, "ofp-port", false, "none", true, "exact", "exact", null, c("NXM_OF_IN_PORT", 0, null, "1.1")),
  f("in_port_oxm", [], 32, "ofp11-port", false, "none", true, "no", "exact", c("OXM_OF_IN_PORT", 0, "1.2", "1.7"), null),
  f("skb_priority", [], 32, "hex", false, "none", false, "no", "no", null, null),
  f("pkt_mark", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_PKT_MARK", 33, null, "2.0")),
  f("actset_output", [], 32, "ofp11-port", false, "none", false, "no", "no", c("ONFOXM_ET_ACTSET_OUTPUT", 43, "1.3", "2.4"), null),
  f("packet_type", [], 32, "packet-type", false, "none", false, "no", "no", c("OXM_OF_PACKET_TYPE", 44, "1.5", "2.8"), null),
  f("ct_state", [], 32, "ct-state", true, "none", false, "no", "no", null, c("NXM_NX_CT_STATE", 105, null, "2.5")),
  f("ct_zone", [], 16, "hex", false, "none", false, "no", "no", null, c("NXM_NX_CT_ZONE", 106, null, "2.5")),
  f("ct_mark", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_CT_MARK", 107, null, "2.5")),
  f("ct_label", [], 128, "hex", true, "none", true, "no", "no", null, c("NXM_NX_CT_LABEL", 108, null, "2.5")),
  f("ct_nw_src", [], 32, "ipv4", true, "ct", false, "no", "no", null, c("NXM_NX_CT_NW_SRC", 120, null, "2.8")),
  f("ct_nw_dst", [], 32, "ipv4", true, "ct", false, "no", "no", null, c("NXM_NX_CT_NW_DST", 121, null, "2.8")),
  f("ct_ipv6_src", [], 128, "ipv6", true, "ct", false, "no", "no", null, c("NXM_NX_CT_IPV6_SRC", 122, null, "2.8")),
  f("ct_ipv6_dst", [], 128, "ipv6", true, "ct", false, "no", "no", null, c("NXM_NX_CT_IPV6_DST", 123, null, "2.8")),
  f("ct_nw_proto", [], 8, "decimal", false, "ct", false, "no", "no", null, c("NXM_NX_CT_NW_PROTO", 119, null, "2.8")),
  f("ct_tp_src", [], 16, "decimal", true, "ct", false, "no", "no", null, c("NXM_NX_CT_TP_SRC", 124, null, "2.8")),
  f("ct_tp_dst", [], 16, "decimal", true, "ct", false, "no", "no", null, c("NXM_NX_CT_TP_DST", 125, null, "2.8")),
  f("metadata", [], 64, "hex", true, "none", true, "no", "yes", c("OXM_OF_METADATA", 2, "1.2", "1.8"), null),
  f("reg0", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG0", 0, null, "1.1")),
  f("reg1", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG1", 1, null, "1.1")),
  f("reg2", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG2", 2, null, "1.1")),
  f("reg3", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG3", 3, null, "1.1")),
  f("reg4", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG4", 4, null, "1.3")),
  f("reg5", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG5", 5, null, "1.7")),
  f("reg6", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG6", 6, null, "1.7")),
  f("reg7", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG7", 7, null, "1.7")),
  f("reg8", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG8", 8, null, "2.6")),
  f("reg9", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG9", 9, null, "2.6")),
  f("reg10", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG10", 10, null, "2.6")),
  f("reg11", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG11", 11, null, "2.6")),
  f("reg12", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG12", 12, null, "2.6")),
  f("reg13", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG13", 13, null, "2.6")),
  f("reg14", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG14", 14, null, "2.6")),
  f("reg15", [], 32, "hex", true, "none", true, "no", "no", null, c("NXM_NX_REG15", 15, null, "2.6")),
  f("xreg0", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG0", 0, "1.3", "2.4"), null),
  f("xreg1", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG1", 1, "1.3", "2.4"), null),
  f("xreg2", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG2", 2, "1.3", "2.4"), null),
  f("xreg3", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG3", 3, "1.3", "2.4"), null),
  f("xreg4", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG4", 4, "1.3", "2.4"), null),
  f("xreg5", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG5", 5, "1.3", "2.4"), null),
  f("xreg6", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG6", 6, "1.3", "2.4"), null),
  f("xreg7", [], 64, "hex", true, "none", true, "no", "no", c("OXM_OF_PKT_REG7", 7, "1.3", "2.4"), null),
  f("xxreg0", [], 128, "hex", true, "none", true, "no", "no", null, c("NXM_NX_XXREG0", 111, null, "2.6")),
  f("xxreg1", [], 128, "hex", true, "none", true, "no", "no", null, c("NXM_NX_XXREG1", 112, null, "2.6")),
  f("xxreg2", [], 128, "hex", true, "none", true, "no", "no", null, c("NXM_NX_XXREG2", 113, null, "2.6")),
  f("xxreg3", [], 128, "hex", true, "none", true, "no", "no", null, c("NXM_NX_XXREG3", 114, null, "2.6")),
  f("eth_src", ["dl_src"], 48, "ethernet", true, "ethernet", true, "exact", "yes", c("OXM_OF_ETH_SRC", 4, "1.2", "1.7"), c("NXM_OF_ETH_SRC", 2, null, "1.1")),
  f("eth_dst", ["dl_dst"], 48, "ethernet", true, "ethernet", true, "exact", "yes", c("OXM_OF_ETH_DST", 3, "1.2", "1.7"), c("NXM_OF_ETH_DST", 1, null, "1.1")),
  f("eth_type", ["dl_type"], 16, "hex", false, "ethernet", false, "exact", "exact", c("OXM_OF_ETH_TYPE", 5, "1.2", "1.7"), c("NXM_OF_ETH_TYPE", 3, null, "1.1")),
  f("vlan_vid", [], 16, "decimal", true, "ethernet", true, "exact", "exact", c("OXM_OF_VLAN_VID", 6, "1.2", "1.7"), null),
  f("vlan_pcp", [], 8, "decimal", false, "vlan_vid", true, "exact", "exact", c("OXM_OF_VLAN_PCP", 7, "1.2", "1.7"), null),
  f("vlan_tci", [], 16, "hex", true, "ethernet", true, "exact", "exact", null, c("NXM_OF_VLAN_TCI", 4, null, "1.1")),
  f("mpls_label", [], 32, "decimal", false, "mpls", true, "no", "exact", c("OXM_OF_MPLS_LABEL", 34, "1.2", "1.11"), null),
  f("mpls_tc", [], 8, "decimal", false, "mpls", true, "no", "exact", c("OXM_OF_MPLS_TC", 35, "1.2", "1.11"), null),
  f("mpls_bos", [], 8, "decimal", false, "mpls", false, "no", "no", c("OXM_OF_MPLS_BOS", 36, "1.3", "1.11"), null),
  f("mpls_ttl", [], 8, "decimal", false, "mpls", true, "no", "no", null, c("NXM_NX_MPLS_TTL", 30, null, "2.6")),
  f("ip_src", ["nw_src"], 32, "ipv4", true, "ipv4", true, "cidr", "yes", c("OXM_OF_IPV4_SRC", 11, "1.2", "1.7"), c("NXM_OF_IP_SRC", 7, null, "1.1")),
  f("ip_dst", ["nw_dst"], 32, "ipv4", true, "ipv4", true, "cidr", "yes", c("OXM_OF_IPV4_DST", 12, "1.2", "1.7"), c("NXM_OF_IP_DST", 8, null, "1.1")),
  f("ipv6_src", [], 128, "ipv6", true, "ipv6", true, "no", "no", c("OXM_OF_IPV6_SRC", 26, "1.2", "1.1"), c("NXM_NX_IPV6_SRC", 19, null, "1.1")),
  f("ipv6_dst", [], 128, "ipv6", true, "ipv6", true, "no", "no", c("OXM_OF_IPV6_DST", 27, "1.2", "1.1"), c("NXM_NX_IPV6_DST", 20, null, "1.1")),
  f("ipv6_label", [], 32, "hex", true, "ipv6", true, "no", "no", c("OXM_OF_IPV6_FLABEL", 28, "1.2", "1.7"), c("NXM_NX_IPV6_LABEL", 27, null, "1.4")),
  f("nw_proto", ["ip_proto"], 8, "decimal", false, "ip_any", false, "exact", "exact", c("OXM_OF_IP_PROTO", 10, "1.2", "1.7"), c("NXM_OF_IP_PROTO", 6, null, "1.1")),
  f("nw_ttl", [], 8, "decimal", false, "ip_any", true, "no", "no", null, c("NXM_NX_IP_TTL", 29, null, "1.4")),
  f("ip_frag", ["nw_frag"], 8, "frag", true, "ip_any", false, "no", "no", null, c("NXM_NX_IP_FRAG", 26, null, "1.3")),
  f("nw_tos", [], 8, "decimal", false, "ip_any", true, "exact", "exact", null, c("NXM_OF_IP_TOS", 5, null, "1.1")),
  f("ip_dscp", [], 8, "decimal", false, "ip_any", true, "exact", "exact", c("OXM_OF_IP_DSCP", 8, "1.2", "1.7"), null),
  f("nw_ecn", ["ip_ecn"], 8, "decimal", false, "ip_any", true, "no", "exact", c("OXM_OF_IP_ECN", 9, "1.2", "1.7"), c("NXM_NX_IP_ECN", 28, null, "1.4")),
  f("arp_op", [], 16, "decimal", false, "arp", true, "exact", "exact", c("OXM_OF_ARP_OP", 21, "1.2", "1.7"), c("NXM_OF_ARP_OP", 15, null, "1.1")),
  f("arp_spa", [], 32, "ipv4", true, "arp", true, "cidr", "yes", c("OXM_OF_ARP_SPA", 22, "1.2", "1.7"), c("NXM_OF_ARP_SPA", 16, null, "1.1")),
  f("arp_tpa", [], 32, "ipv4", true, "arp", true, "cidr", "yes", c("OXM_OF_ARP_TPA", 23, "1.2", "1.7"), c("NXM_OF_ARP_TPA", 17, null, "1.1")),
  f("arp_sha", [], 48, "ethernet", true, "arp", true, "no", "no", c("OXM_OF_ARP_SHA", 24, "1.2", "1.7"), c("NXM_NX_ARP_SHA", 17, null, "1.1")),
  f("arp_tha", [], 48, "ethernet", true, "arp", true, "no", "no", c("OXM_OF_ARP_THA", 25, "1.2", "1.7"), c("NXM_NX_ARP_THA", 18, null, "1.1")),
  f("nsh_flags", [], 8, "decimal", true, "nsh", true, "no", "no", null, c("NXOXM_NSH_FLAGS", 1, null, "2.8")),
  f("nsh_ttl", [], 8, "decimal", false, "nsh", true, "no", "no", null, c("NXOXM_NSH_TTL", 10, null, "2.9")),
  f("nsh_mdtype", [], 8, "decimal", false, "nsh", false, "no", "no", null, c("NXOXM_NSH_MDTYPE", 2, null, "2.8")),
  f("nsh_np", [], 8, "decimal", false, "nsh", false, "no", "no", null, c("NXOXM_NSH_NP", 3, null, "2.8")),
  f("nsh_spi", ["nsp"], 32, "hex", false, "nsh", true, "no", "no", null, c("NXOXM_NSH_SPI", 4, null, "2.8")),
  f("nsh_si", ["nsi"], 8, "decimal", false, "nsh", true, "no", "no", null, c("NXOXM_NSH_SI", 5, null, "2.8")),
  f("nsh_c1", ["nshc1"], 32, "hex", true, "nsh", true, "no", "no", null, c("NXOXM_NSH_C1", 6, null, "2.8")),
  f("nsh_c2", ["nshc2"], 32, "hex", true, "nsh", true, "no", "no", null, c("NXOXM_NSH_C2", 7, null, "2.8")),
  f("nsh_c3", ["nshc3"], 32, "hex", true, "nsh", true, "no", "no", null, c("NXOXM_NSH_C3", 8, null, "2.8")),
  f("nsh_c4", ["nshc4"], 32, "hex", true, "nsh", true, "no", "no", null, c("NXOXM_NSH_C4", 9, null, "2.8")),
  f("tcp_src", ["tp_src"], 16, "decimal", true, "tcp", true, "exact", "exact", c("OXM_OF_TCP_SRC", 13, "1.2", "1.7"), c("NXM_OF_TCP_SRC", 9, null, "1.1")),
  f("tcp_dst", ["tp_dst"], 16, "decimal", true, "tcp", true, "exact", "exact", c("OXM_OF_TCP_DST", 14, "1.2", "1.7"), c("NXM_OF_TCP_DST", 10, null, "1.1")),
  f("tcp_flags", [], 16, "tcp-flags", true, "tcp", false, "no", "no", c("ONFOXM_ET_TCP_FLAGS", 42, "1.3", "2.4"), c("NXM_NX_TCP_FLAGS", 34, null, "2.1")),
  f("udp_src", [], 16, "decimal", true, "udp", true, "exact", "exact", c("OXM_OF_UDP_SRC", 15, "1.2", "1.7"), c("NXM_OF_UDP_SRC", 11, null, "1.1")),
  f("udp_dst", [], 16, "decimal", true, "udp", true, "exact", "exact", c("OXM_OF_UDP_DST", 16, "1.2", "1.7"), c("NXM_OF_UDP_DST", 12, null, "1.1")),
  f("sctp_src", [], 16, "decimal", true, "sctp", true, "no", "exact", c("OXM_OF_SCTP_SRC", 17, "1.2", "2.0"), null),
  f("sctp_dst", [], 16, "decimal", true, "sctp", true, "no", "exact", c("OXM_OF_SCTP_DST", 18, "1.2", "2.0"), null),
  f("icmp_type", [], 8, "decimal", false, "icmpv4", true, "exact", "exact", c("OXM_OF_ICMPV4_TYPE", 19, "1.2", "1.7"), c("NXM_OF_ICMP_TYPE", 13, null, "1.1")),
  f("icmp_code", [], 8, "decimal", false, "icmpv4", true, "exact", "exact", c("OXM_OF_ICMPV4_CODE", 20, "1.2", "1.7"), c("NXM_OF_ICMP_CODE", 14, null, "1.1")),
  f("icmpv6_type", [], 8, "decimal", false, "icmpv6", true, "no", "no", c("OXM_OF_ICMPV6_TYPE", 29, "1.2", "1.7"), c("NXM_NX_ICMPV6_TYPE", 21, null, "1.1")),
  f("icmpv6_code", [], 8, "decimal", false, "icmpv6", true, "no", "no", c("OXM_OF_ICMPV6_CODE", 30, "1.2", "1.7"), c("NXM_NX_ICMPV6_CODE", 22, null, "1.1")),
  f("nd_target", [], 128, "ipv6", true, "nd", true, "no", "no", c("OXM_OF_IPV6_ND_TARGET", 31, "1.2", "1.7"), c("NXM_NX_ND_TARGET", 23, null, "1.1")),
  f("nd_sll", [], 48, "ethernet", true, "nd_solicit", true, "no", "no", c("OXM_OF_IPV6_ND_SLL", 32, "1.2", "1.7"), c("NXM_NX_ND_SLL", 24, null, "1.1")),
  f("nd_tll", [], 48, "ethernet", true, "nd_advert", true, "no", "no", c("OXM_OF_IPV6_ND_TLL", 33, "1.2", "1.7"), c("NXM_NX_ND_TLL", 25, null, "1.1")),
  f("nd_reserved", [], 32, "decimal", false, "nd", true, "no", "no", null, c("ERICOXM_OF_ICMPV6_ND_RESERVED", 1, null, "2.11")),
  f("nd_options_type", [], 8, "decimal", false, "nd", true, "no", "no", null, c("ERICOXM_OF_ICMPV6_ND_OPTIONS_TYPE", 2, null, "2.11")),
];

/* ---------------- lookup ---------------- */

const BY_NAME = new Map<string, MfField>();
for (const fld of MF_FIELDS) {
  BY_NAME.set(fld.name, fld);
  for (const a of fld.aliases) BY_NAME.set(a, fld);
}

/** A field by name or alias ("nw_src", "ip_src"), or null. */
export function mfFromName(name: string): MfField | null {
  return BY_NAME.get(name) ?? null;
}

/**
 * Binds `flowKey` for the fields the flow layer names: call with the names
 * of FLOW_FIELDS (src/flow/key-layout.ts). Returns the fields left unbound.
 */
export function unboundFlowKeys(flowFieldNames: readonly string[]): string[] {
  const known = new Set(flowFieldNames);
  return MF_FIELDS.filter((x) => !known.has(x.flowKey)).map((x) => x.name);
}

/* ---------------- NXM / OXM headers ---------------- */

/** A decoded NXM/OXM header. */
export interface NxmHeader {
  class: number;
  field: number;
  /** Experimenter id (class 0xffff), else 0. */
  vendor: number;
  hasmask: boolean;
  /** Payload length in bytes (value, plus mask when hasmask), without the experimenter id. */
  length: number;
}

/** Payload length of a header for `fld`. */
function payloadLen(fld: MfField, hasmask: boolean): number {
  const n = fld.name.startsWith("tun_metadata") ? 124 : fld.bytes;
  return hasmask ? 2 * n : n;
}

const BY_CODE = new Map<string, { fld: MfField; code: MfCode }>();
const CODE_BY_NAME = new Map<string, { fld: MfField; code: MfCode }>();
for (const fld of MF_FIELDS) {
  for (const code of [fld.nxm, fld.oxm, fld.oxm15]) {
    if (!code) continue;
    const k = `${code.vendor}:${code.class}:${code.field}`;
    if (!BY_CODE.has(k)) BY_CODE.set(k, { fld, code });
    CODE_BY_NAME.set(code.name, { fld, code });
  }
}

/** Fields of the non-experimenter classes by (class << 7) | field: decoding a match looks up every entry. */
const BY_PLAIN_CODE = new Map<number, MfField>();
for (const [k, v] of BY_CODE) {
  const [vendor, cls, field] = k.split(":").map(Number) as [number, number, number];
  if (vendor === 0) BY_PLAIN_CODE.set(cls * 128 + field, v.fld);
}

/** The field a header refers to, or null when unknown. */
export function mfFromHeader(h: NxmHeader): MfField | null {
  return mfFromCode(h.vendor, h.class, h.field);
}

/** mfFromHeader from the header's parts. */
export function mfFromCode(vendor: number, cls: number, field: number): MfField | null {
  if (vendor === 0) return BY_PLAIN_CODE.get(cls * 128 + field) ?? null;
  return BY_CODE.get(`${vendor}:${cls}:${field}`)?.fld ?? null;
}

/** The header for `code` with or without a mask. */
export function headerForCode(fld: MfField, code: MfCode, hasmask: boolean): NxmHeader {
  return { class: code.class, field: code.field, vendor: code.vendor, hasmask, length: payloadLen(fld, hasmask) };
}

/** The wire bytes of a header (4, or 8 for experimenter headers). */
export function encodeNxmHeader(h: NxmHeader): Uint8Array {
  const exp = h.class === OXM_CLASS_EXPERIMENTER;
  const b = new Uint8Array(exp ? 8 : 4);
  const w = ((h.class << 16) | (h.field << 9) | (h.hasmask ? 0x100 : 0) | ((h.length + (exp ? 4 : 0)) & 0xff)) >>> 0;
  b[0] = w >>> 24;
  b[1] = (w >>> 16) & 0xff;
  b[2] = (w >>> 8) & 0xff;
  b[3] = w & 0xff;
  if (exp) {
    const v = h.vendor >>> 0;
    b[4] = v >>> 24;
    b[5] = (v >>> 16) & 0xff;
    b[6] = (v >>> 8) & 0xff;
    b[7] = v & 0xff;
  }
  return b;
}

/** Reads a header from bytes (4 or 8 bytes), or null when too short. */
export function decodeNxmHeader(b: Uint8Array): NxmHeader | null {
  if (b.length < 4) return null;
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  const w = v.getUint32(0);
  const cls = w >>> 16;
  const exp = cls === OXM_CLASS_EXPERIMENTER;
  if (exp && b.length < 8) return null;
  const rawLen = w & 0xff;
  return {
    class: cls,
    field: (w >>> 9) & 0x7f,
    vendor: exp ? v.getUint32(4) : 0,
    hasmask: (w & 0x100) !== 0,
    length: exp ? rawLen - 4 : rawLen,
  };
}

/**
 * Parses a header as ovs-ofctl's NXM/OXM text does: a code name
 * ("NXM_NX_REG0", with "_W" for the masked form) or raw hex digits (8, or
 * 16 for an experimenter header). Returns null for unknown names.
 */
export function parseNxmHeader(s: string): NxmHeader | null {
  const t = s.trim();
  if (/^[0-9a-fA-F]{8}$/.test(t) || /^[0-9a-fA-F]{16}$/.test(t)) {
    const bytes = new Uint8Array(t.length / 2);
    for (let i = 0; i < bytes.length; i++) bytes[i] = parseInt(t.substr(2 * i, 2), 16);
    return decodeNxmHeader(bytes);
  }
  const masked = t.endsWith("_W");
  const base = masked ? t.slice(0, -2) : t;
  const hit = CODE_BY_NAME.get(base);
  if (!hit) return null;
  if (masked && !hit.fld.maskable) return null;
  return headerForCode(hit.fld, hit.code, masked);
}

/**
 * The text name of a header as OVS prints it: the code name (+"_W"), or
 * for an unknown header "class:field" (with the experimenter id first).
 */
export function formatNxmHeader(h: NxmHeader): string {
  const hit = BY_CODE.get(`${h.vendor}:${h.class}:${h.field}`);
  if (hit) {
    // The OXM/NXM name of this exact class (a field may have both).
    const code = [hit.fld.nxm, hit.fld.oxm, hit.fld.oxm15].find((x) => x && x.class === h.class && x.vendor === h.vendor && x.field === h.field) ?? hit.code;
    return code.name + (h.hasmask ? "_W" : "");
  }
  if (h.class === OXM_CLASS_EXPERIMENTER) return `${h.vendor.toString(16)}:${h.class}:${h.field}`;
  return `${h.class}:${h.field}`;
}

/* ---------------- field values as text ---------------- */

/**
 * A field value (and mask) as big-endian bytes of the field's width.
 * `mask` null means exact match.
 */
export interface MfValue {
  value: Uint8Array;
  mask: Uint8Array | null;
}



function allOnes(b: Uint8Array, bits: number): boolean {
  return bytesToBig(b) === (1n << BigInt(bits)) - 1n || b.every((x) => x === 0xff);
}

/** CIDR prefix length of a mask, or -1 when not a prefix. */
function prefixLen(mask: Uint8Array): number {
  const bits = mask.length * 8;
  const v = bytesToBig(mask);
  for (let n = 0; n <= bits; n++) {
    const m = n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(bits - n);
    if (m === v) return n;
  }
  return -1;
}

function fmtIpv4(b: Uint8Array): string {
  return Array.from(b).join(".");
}

function fmtIpv6(b: Uint8Array): string {
  // inet_ntop's text, IPv4-compatible (::1.0.0.1) and -mapped forms included.
  return ipv6ToString(b);
}

function fmtMac(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join(":");
}

const TCP_FLAG_NAMES = ["fin", "syn", "rst", "psh", "ack", "urg", "ece", "cwr", "ns"];
const CT_STATE_NAMES = ["new", "est", "rel", "rpl", "inv", "trk", "snat", "dnat"];
const TUN_FLAG_NAMES = ["oam"];

/** OVS's format_flags_masked: "+name" for set bits, "-name" for clear ones. */
function fmtFlagsMasked(names: readonly string[], value: number, mask: number): string {
  let s = "";
  for (let i = 0; i < 32; i++) {
    const bit = 2 ** i;
    if (!(mask & bit)) continue;
    const n = names[i] ?? `0x${bit.toString(16)}`;
    s += (value & bit ? "+" : "-") + n;
  }
  return s;
}

function fmtHex(b: Uint8Array): string {
  const v = bytesToBig(b);
  return v === 0n ? "0" : `0x${v.toString(16)}`;
}

/** ofp-port: reserved port names, else decimal. */
function fmtPort(v: number, width: number): string {
  if (width === 4 && v >= 0xffffff00) v = v - 0xffff0000;
  return formatPort(v);
}

const FRAG_TEXT: readonly [number, number, string][] = [
  [0, 3, "no"], [1, 3, "first"], [3, 3, "later"], [1, 1, "yes"], [0, 2, "not_later"],
];

/**
 * Formats a value (and mask) of `fld` as OVS writes it after "field=":
 * decimal, 0x-hex, dotted IPv4 with /prefix or /mask, MACs, ports,
 * +flag/-flag lists, frag words, (ns,type).
 */
export function formatMfValue(fld: MfField, v: MfValue): string {
  const exact = v.mask === null || allOnes(v.mask, fld.bits);
  const mask = exact ? null : v.mask!;
  const num = Number(bytesToBig(v.value));
  switch (fld.format) {
    case "decimal":
      // A masked decimal field prints both parts in hex, as OVS does.
      return mask ? `${fmtHex(v.value)}/${fmtHex(mask)}` : String(bytesToBig(v.value));
    case "hex":
      return fmtHex(v.value) + (mask ? `/${fmtHex(mask)}` : "");
    case "ethernet":
      return fmtMac(v.value) + (mask ? `/${fmtMac(mask)}` : "");
    case "ipv4": {
      if (!mask) return fmtIpv4(v.value);
      const n = prefixLen(mask);
      return fmtIpv4(v.value) + (n >= 0 ? `/${n}` : `/${fmtIpv4(mask)}`);
    }
    case "ipv6": {
      if (!mask) return fmtIpv6(v.value);
      const n = prefixLen(mask);
      return fmtIpv6(v.value) + (n >= 0 ? `/${n}` : `/${fmtIpv6(mask)}`);
    }
    case "ofp-port":
    case "ofp11-port":
      return fmtPort(num, v.value.length);
    case "tcp-flags":
      return mask ? fmtFlagsMasked(TCP_FLAG_NAMES, num, Number(bytesToBig(mask))) : fmtFlagsMasked(TCP_FLAG_NAMES, num, 0xfff);
    case "ct-state":
      return fmtFlagsMasked(CT_STATE_NAMES, num, mask ? Number(bytesToBig(mask)) : 0xff);
    case "tun-flags":
      return fmtFlagsMasked(TUN_FLAG_NAMES, num, mask ? Number(bytesToBig(mask)) : 1);
    case "frag": {
      const m = mask ? Number(bytesToBig(mask)) & 3 : 3;
      const hit = FRAG_TEXT.find(([val, msk]) => msk === m && val === (num & m));
      return hit ? hit[2] : `${num}/${m}`;
    }
    case "packet-type": {
      const ns = num >>> 16;
      const t = num & 0xffff;
      return `(${ns},${t === 0 ? "0" : "0x" + t.toString(16)})`;
    }
  }
}

/** The result of parsing a value: the value, or OVS's error text. */
export type MfParse = { ok: true; value: MfValue } | { ok: false; error: string };

const PORT_NAMES: Readonly<Record<string, number>> = {
  IN_PORT: OFPP_IN_PORT, TABLE: OFPP_TABLE, NORMAL: OFPP_NORMAL, FLOOD: OFPP_FLOOD, ALL: OFPP_ALL,
  CONTROLLER: OFPP_CONTROLLER, LOCAL: OFPP_LOCAL, ANY: OFPP_NONE, NONE: OFPP_NONE,
};

function parseInteger(s: string, bytes: number): bigint | null {
  if (!/^(0[xX][0-9a-fA-F]+|[0-9]+)$/.test(s)) return null;
  const v = BigInt(s);
  if (v >= 1n << BigInt(bytes * 8)) return null;
  return v;
}

function parseIpv4(s: string): Uint8Array | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return null;
  const b = new Uint8Array(4);
  for (let i = 0; i < 4; i++) {
    const x = Number(m[i + 1]);
    if (x > 255) return null;
    b[i] = x;
  }
  return b;
}

function parseIpv6(s: string): Uint8Array | null {
  let text = s;
  // A trailing dotted IPv4 part stands for the last two 16-bit groups.
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const b = parseIpv4(v4[1]!);
    if (!b) return null;
    const w1 = ((b[0]! << 8) | b[1]!).toString(16);
    const w2 = ((b[2]! << 8) | b[3]!).toString(16);
    text = text.slice(0, text.length - v4[1]!.length) + `${w1}:${w2}`;
  }
  const parts = text.split("::");
  if (parts.length > 2) return null;
  const group = (p: string): number[] | null => {
    if (p === "") return [];
    const r: number[] = [];
    for (const w of p.split(":")) {
      if (!/^[0-9a-fA-F]{1,4}$/.test(w)) return null;
      r.push(parseInt(w, 16));
    }
    return r;
  };
  const head = group(parts[0]!);
  const tail = parts.length === 2 ? group(parts[1]!) : [];
  if (!head || !tail) return null;
  const words = [...head];
  if (parts.length === 2) {
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    for (let i = 0; i < fill; i++) words.push(0);
  }
  words.push(...tail);
  if (words.length !== 8) return null;
  const out = new Uint8Array(16);
  words.forEach((w, i) => {
    out[2 * i] = w >> 8;
    out[2 * i + 1] = w & 0xff;
  });
  return out;
}

function parseMac(s: string): Uint8Array | null {
  const m = /^([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2}):([0-9a-fA-F]{1,2})$/.exec(s);
  if (!m) return null;
  return new Uint8Array(m.slice(1).map((x) => parseInt(x, 16)));
}

function prefixMask(n: number, bytes: number): Uint8Array {
  const bits = bytes * 8;
  return bigToBytes(n === 0 ? 0n : ((1n << BigInt(n)) - 1n) << BigInt(bits - n), bytes);
}

function parseFlagsMasked(names: readonly string[], s: string, fieldName: string): MfParse | { value: number; mask: number } {
  let value = 0;
  let mask = 0;
  const re = /([+-])([a-z_]+)/gy;
  let m: RegExpExecArray | null;
  let pos = 0;
  while ((m = re.exec(s))) {
    const i = names.indexOf(m[2]!);
    if (i < 0) return { ok: false, error: `${m[2]}: unknown ${fieldName} flag(s)` };
    mask |= 1 << i;
    if (m[1] === "+") value |= 1 << i;
    pos = re.lastIndex;
  }
  if (pos !== s.length || s.length === 0) return { ok: false, error: `${s}: invalid ${fieldName}` };
  return { value, mask };
}

/**
 * Parses `field=value[/mask]` text into bytes of the field's width, as
 * ovs-ofctl's mf_parse does for the common formats. Errors are OVS's words
 * where tsovs knows them.
 */
export function parseMfValue(fld: MfField, text: string): MfParse {
  const n = fld.name.startsWith("tun_metadata") ? 124 : fld.bytes;
  const slash = text.indexOf("/");
  const vs = slash < 0 ? text : text.slice(0, slash);
  const ms = slash < 0 ? null : text.slice(slash + 1);
  if (ms !== null && !fld.maskable && fld.format !== "frag") {
    return { ok: false, error: `${fld.name}: field does not support masking` };
  }
  const bad = (): MfParse => ({ ok: false, error: `${text}: invalid value for ${fld.name}` });
  switch (fld.format) {
    case "decimal":
    case "hex": {
      const v = parseInteger(vs, n);
      if (v === null) return bad();
      let mask: Uint8Array | null = null;
      if (ms !== null) {
        const m = parseInteger(ms, n);
        if (m === null) return bad();
        mask = bigToBytes(m, n);
      }
      return { ok: true, value: { value: bigToBytes(v, n), mask } };
    }
    case "ethernet": {
      const v = parseMac(vs);
      const m = ms === null ? null : parseMac(ms);
      if (!v || (ms !== null && !m)) return bad();
      return { ok: true, value: { value: v, mask: m } };
    }
    case "ipv4":
    case "ipv6": {
      const parse = fld.format === "ipv4" ? parseIpv4 : parseIpv6;
      const v = parse(vs);
      if (!v) return bad();
      if (ms === null) return { ok: true, value: { value: v, mask: null } };
      if (/^\d+$/.test(ms)) {
        const len = Number(ms);
        if (len > n * 8) return bad();
        return { ok: true, value: { value: v, mask: prefixMask(len, n) } };
      }
      const m = parse(ms);
      if (!m) return bad();
      return { ok: true, value: { value: v, mask: m } };
    }
    case "ofp-port":
    case "ofp11-port": {
      let p: number;
      if (vs in PORT_NAMES) p = PORT_NAMES[vs]!;
      else {
        const v = parseInteger(vs, n);
        if (v === null) return bad();
        p = Number(v);
      }
      if (n === 4 && p >= 0xff00 && p <= 0xffff) p = (p + 0xffff0000) >>> 0;
      return { ok: true, value: { value: bigToBytes(BigInt(p), n), mask: null } };
    }
    case "tcp-flags":
    case "ct-state":
    case "tun-flags": {
      const names = fld.format === "tcp-flags" ? TCP_FLAG_NAMES : fld.format === "ct-state" ? CT_STATE_NAMES : TUN_FLAG_NAMES;
      if (/^(0x[0-9a-fA-F]+|\d+)$/.test(vs)) {
        const v = parseInteger(vs, n);
        const m = ms === null ? null : parseInteger(ms, n);
        if (v === null || (ms !== null && m === null)) return bad();
        return { ok: true, value: { value: bigToBytes(v, n), mask: m === null ? null : bigToBytes(m, n) } };
      }
      const r = parseFlagsMasked(names, text, fld.name);
      if ("ok" in r) return r;
      return { ok: true, value: { value: bigToBytes(BigInt(r.value), n), mask: bigToBytes(BigInt(r.mask), n) } };
    }
    case "frag": {
      const hit = FRAG_TEXT.find(([, , name]) => name === text);
      if (!hit) return bad();
      return { ok: true, value: { value: bigToBytes(BigInt(hit[0]), n), mask: bigToBytes(BigInt(hit[1]), n) } };
    }
    case "packet-type": {
      const m = /^\((\w+),(\w+)\)$/.exec(text);
      if (!m) return bad();
      const ns = parseInteger(m[1]!, 2);
      const t = parseInteger(m[2]!, 2);
      if (ns === null || t === null) return bad();
      return { ok: true, value: { value: bigToBytes((ns << 16n) | t, 4), mask: null } };
    }
  }
}
