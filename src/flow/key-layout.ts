/**
 * The flow key layout: where every field of OVS's `struct flow` lives in a
 * fixed-size `Uint32Array`. Keys and masks share this layout, so a masked
 * key is `key[w] & mask[w]` word by word, and the datapath (EMC, dpcls),
 * the odp/OpenFlow text syntax and the classifier all address fields
 * through the constants and the `FLOW_FIELDS` table below.
 *
 * ## Byte order (the one convention)
 * A field of up to 32 bits holds its *network-order value as a host
 * integer*: IPv4 10.0.0.1 is `0x0a000001`, TCP port 80 is `80`, ethertype
 * IPv4 is `0x0800`. Sub-word fields sit at `S_<NAME>` (bit shift from the
 * least significant bit) with `M_<NAME>` the unshifted mask:
 * `(key[W_NW_PROTO] >>> S_NW_PROTO) & M_NW_PROTO`.
 * Byte-string fields (MAC and IPv6 addresses, 64-bit ids, ct_label, Geneve
 * option bytes) are stored most significant byte first: byte `i` of the
 * field is byte `O_<NAME> + i` of the key, where key byte `b` is bits
 * `31 - 8*(b%4) .. 24 - 8*(b%4)` of word `b >> 2` (so an IPv6 address is
 * four words, each the big-endian u32 of its 4 bytes, and reading a word
 * with `DataView.getUint32(off)` from the packet gives the stored word).
 *
 * ## Regions (word ranges), hottest first
 * | words       | region | contents |
 * | ----------- | ------ | -------- |
 * |  0 ..  10   | META   | in_port, recirc_id, dp_hash, skb_priority, pkt_mark, packet_type, ct_state/zone/nw_proto, ct_mark, ct_nw_src/dst, ct_tp_src/dst |
 * | 11 ..  19   | L2     | eth_dst+eth_src (12 bytes as on the wire), dl_type, 2 VLAN tags (tpid<<16 \| tci), 3 MPLS LSEs |
 * | 20 ..  31   | L3     | nw_src, nw_dst, nw_proto/tos/ttl/frag, ipv6_label, ipv6_src, ipv6_dst |
 * | 32 ..  43   | L4     | tp_src/tp_dst, tcp_flags, igmp_group_ip4, nd_target, arp_sha+arp_tha, nd_reserved, nd_options_type |
 * | 44 ..  49   | NSH    | nsh_flags/ttl/mdtype/np, nsh_spi/si, nsh_c1..c4 (only NSH packets) |
 * | 50 ..  66   | TUN    | tunnel metadata (tun_id .. gtpu, geneve option length) |
 * | 67 ..  78   | CTX    | ct_label, ct_ipv6_src, ct_ipv6_dst |
 * | 79 .. 141   | GENEVE | Geneve options, raw TLV bytes (252 bytes) |
 * | 142 .. 161  | OF     | OpenFlow only: reg0..reg15, metadata, conj_id, actset_output (never in a datapath key) |
 *
 * `FLOW_HOT_U32S` (44) words cover everything the bytes of an untunnelled,
 * non-NSH packet can set plus the common metadata; a datapath can
 * compare/hash those and check the cold regions only when their "present"
 * test says so (NSH: dl_type 0x894f; TUN: tun_dst or tun_ipv6_dst nonzero;
 * CTX: ct_state or ct_label nonzero; GENEVE: tun_geneve_len nonzero; see
 * `regionIsZero`).
 *
 * ## Overlays, as in OVS
 * ARP uses the IPv4 words: arp_op = nw_proto (when the opcode fits in 8
 * bits), arp_spa = nw_src, arp_tpa = nw_dst. ICMP/ICMPv6/IGMP type and code
 * are tp_src and tp_dst. ND source/target link-layer addresses are arp_sha
 * and arp_tha. VLAN tci follows OVS: the CFI/DEI bit (0x1000) is set when a
 * tag is present. in_port holds the odp port in a datapath key and the
 * OpenFlow port in an ofproto flow.
 */

/* ---------------- sizes and regions ---------------- */

/** Total 32-bit words in a flow key (and a mask). */
export const FLOW_U32S = 162;
/** Total bytes (FLOW_U32S * 4). */
export const FLOW_BYTES = FLOW_U32S * 4;

export const REGION_META_START = 0;
export const REGION_L2_START = 11;
export const REGION_L3_START = 20;
export const REGION_L4_START = 32;
export const REGION_NSH_START = 44;
export const REGION_TUN_START = 50;
export const REGION_CTX_START = 67;
export const REGION_GENEVE_START = 79;
export const REGION_OF_START = 142;
/** Words 0..FLOW_HOT_U32S-1: metadata + everything extracted from packet bytes. */
export const FLOW_HOT_U32S = REGION_NSH_START;
/** Words 0..FLOW_DP_U32S-1: everything a datapath key can hold (no OpenFlow-only words). */
export const FLOW_DP_U32S = REGION_OF_START;
/** Number of tunnel-metadata words (TUN region). */
export const TUN_U32S = REGION_CTX_START - REGION_TUN_START;
/** Maximum Geneve option bytes (OVS TLV_TOT_OPT_SIZE). */
export const GENEVE_OPTS_MAX = 252;
export const GENEVE_U32S = GENEVE_OPTS_MAX / 4;

/* ---------------- META region ---------------- */

export const W_IN_PORT = 0;
export const W_RECIRC_ID = 1;
export const W_DP_HASH = 2;
export const W_SKB_PRIORITY = 3;
export const W_PKT_MARK = 4;
/** packet_type: (namespace << 16) | ns_type; Ethernet is 0 (ns 0, type 0). */
export const W_PACKET_TYPE = 5;
/** ct_state (bits 0-7) | ct_nw_proto (8-15) | ct_zone (16-31). */
export const W_CT_STATE = 6;
export const S_CT_STATE = 0;
export const M_CT_STATE = 0xff;
export const W_CT_NW_PROTO = 6;
export const S_CT_NW_PROTO = 8;
export const M_CT_NW_PROTO = 0xff;
export const W_CT_ZONE = 6;
export const S_CT_ZONE = 16;
export const M_CT_ZONE = 0xffff;
export const W_CT_MARK = 7;
export const W_CT_NW_SRC = 8;
export const W_CT_NW_DST = 9;
/** ct_tp_src (bits 16-31) | ct_tp_dst (0-15). */
export const W_CT_TP_SRC = 10;
export const S_CT_TP_SRC = 16;
export const M_CT_TP_SRC = 0xffff;
export const W_CT_TP_DST = 10;
export const S_CT_TP_DST = 0;
export const M_CT_TP_DST = 0xffff;

/* ---------------- L2 region ---------------- */

/** eth_dst: 6 bytes from key byte O_ETH_DST (word 11 byte 0). */
export const W_ETH_DST = 11;
export const O_ETH_DST = 44;
/** eth_src: 6 bytes from key byte O_ETH_SRC (word 12 byte 2); dst+src are the 12 wire bytes. */
export const W_ETH_SRC = 12;
export const O_ETH_SRC = 50;
/** dl_type in bits 16-31 of word 14 (bits 0-15 unused, always 0). */
export const W_DL_TYPE = 14;
export const S_DL_TYPE = 16;
export const M_DL_TYPE = 0xffff;
/** First (outer) VLAN tag: tpid (bits 16-31) | tci (0-15, CFI set when present). */
export const W_VLAN0 = 15;
/** Second (inner) VLAN tag, same encoding. */
export const W_VLAN1 = 16;
export const S_VLAN_TPID = 16;
export const M_VLAN_TPID = 0xffff;
export const S_VLAN_TCI = 0;
export const M_VLAN_TCI = 0xffff;
/** MPLS label stack entries, outermost first, each the raw 32-bit LSE. */
export const W_MPLS_LSE0 = 17;
export const W_MPLS_LSE1 = 18;
export const W_MPLS_LSE2 = 19;
export const FLOW_MAX_MPLS_LABELS = 3;
export const FLOW_MAX_VLAN_HEADERS = 2;

/* ---------------- L3 region ---------------- */

/** IPv4 source (also arp_spa). */
export const W_NW_SRC = 20;
/** IPv4 destination (also arp_tpa). */
export const W_NW_DST = 21;
/** nw_proto (bits 24-31, also arp_op) | nw_tos (16-23) | nw_ttl (8-15) | nw_frag (0-7). */
export const W_NW_PROTO = 22;
export const S_NW_PROTO = 24;
export const M_NW_PROTO = 0xff;
export const W_NW_TOS = 22;
export const S_NW_TOS = 16;
export const M_NW_TOS = 0xff;
export const W_NW_TTL = 22;
export const S_NW_TTL = 8;
export const M_NW_TTL = 0xff;
export const W_NW_FRAG = 22;
export const S_NW_FRAG = 0;
export const M_NW_FRAG = 0xff;
/** nw_frag bits (OVS FLOW_NW_FRAG_*). */
export const FLOW_NW_FRAG_ANY = 1;
export const FLOW_NW_FRAG_LATER = 2;
export const FLOW_NW_FRAG_MASK = 3;
/** ipv6_label: low 20 bits. */
export const W_IPV6_LABEL = 23;
export const M_IPV6_LABEL = 0xfffff;
/** ipv6_src: 4 words (24..27). */
export const W_IPV6_SRC = 24;
export const O_IPV6_SRC = 96;
/** ipv6_dst: 4 words (28..31). */
export const W_IPV6_DST = 28;
export const O_IPV6_DST = 112;

/* ---------------- L4 region ---------------- */

/** tp_src (bits 16-31; ICMP/ICMPv6/IGMP type) | tp_dst (0-15; ICMP code). */
export const W_TP_SRC = 32;
export const S_TP_SRC = 16;
export const M_TP_SRC = 0xffff;
export const W_TP_DST = 32;
export const S_TP_DST = 0;
export const M_TP_DST = 0xffff;
/** tcp_flags: low 12 bits (FIN=0x001 .. NS=0x100, plus reserved). */
export const W_TCP_FLAGS = 33;
export const M_TCP_FLAGS = 0xfff;
export const W_IGMP_GROUP = 34;
/** nd_target: 4 words (35..38). */
export const W_ND_TARGET = 35;
export const O_ND_TARGET = 140;
/** arp_sha / nd_sll: 6 bytes at word 39 byte 0. */
export const W_ARP_SHA = 39;
export const O_ARP_SHA = 156;
/** arp_tha / nd_tll: 6 bytes at word 40 byte 2. */
export const W_ARP_THA = 40;
export const O_ARP_THA = 162;
/** ND reserved field (the 32 bits after the ICMPv6 header: R/S/O flags). */
export const W_ND_RESERVED = 42;
/** nd_options_type: type of the first ND option seen (1 SLL or 2 TLL), low 8 bits. */
export const W_ND_OPTIONS_TYPE = 43;
export const M_ND_OPTIONS_TYPE = 0xff;

/* ---------------- NSH region ---------------- */

/** NSH base header: nsh_flags (24-31) | nsh_ttl (16-23) | nsh_mdtype (8-15) | nsh_np (0-7). */
export const W_NSH_FLAGS = 44;
export const S_NSH_FLAGS = 24;
export const M_NSH_FLAGS = 0xff;
export const W_NSH_TTL = 44;
export const S_NSH_TTL = 16;
export const M_NSH_TTL = 0xff;
export const W_NSH_MDTYPE = 44;
export const S_NSH_MDTYPE = 8;
export const M_NSH_MDTYPE = 0xff;
export const W_NSH_NP = 44;
export const S_NSH_NP = 0;
export const M_NSH_NP = 0xff;
/** NSH service path: nsh_spi (8-31) | nsh_si (0-7). */
export const W_NSH_SPI = 45;
export const S_NSH_SPI = 8;
export const M_NSH_SPI = 0xffffff;
export const W_NSH_SI = 45;
export const S_NSH_SI = 0;
export const M_NSH_SI = 0xff;
/** NSH MD type 1 context headers nsh_c1..nsh_c4: words 46..49. */
export const W_NSH_C1 = 46;

/* ---------------- TUN region ---------------- */

/** tun_id: 64 bits, words 50 (high) and 51 (low). */
export const W_TUN_ID = 50;
export const O_TUN_ID = 200;
/** tun_src / tun_dst (IPv4 outer addresses). */
export const W_TUN_SRC = 52;
export const W_TUN_DST = 53;
export const W_TUN_IPV6_SRC = 54;
export const O_TUN_IPV6_SRC = 216;
export const W_TUN_IPV6_DST = 58;
export const O_TUN_IPV6_DST = 232;
/** tun_tos (24-31) | tun_ttl (16-23) | tun_flags (0-15, FLOW_TNL_F_*). */
export const W_TUN_TOS = 62;
export const S_TUN_TOS = 24;
export const M_TUN_TOS = 0xff;
export const W_TUN_TTL = 62;
export const S_TUN_TTL = 16;
export const M_TUN_TTL = 0xff;
export const W_TUN_FLAGS = 62;
export const S_TUN_FLAGS = 0;
export const M_TUN_FLAGS = 0xffff;
/** Tunnel flag bits (OVS FLOW_TNL_F_*): don't fragment, checksum, OAM, key present. */
export const FLOW_TNL_F_DONT_FRAGMENT = 1 << 0;
export const FLOW_TNL_F_CSUM = 1 << 1;
export const FLOW_TNL_F_KEY = 1 << 2;
export const FLOW_TNL_F_OAM = 1 << 3;
/**
 * Geneve metadata present (OVS FLOW_TNL_F_UDPIF): the packet came from a
 * Geneve tunnel, so its datapath key carries `geneve(...)` even without
 * options. Not an OpenFlow-visible flag.
 */
export const FLOW_TNL_F_UDPIF = 1 << 4;
/** tun_tp_src (16-31) | tun_tp_dst (0-15). */
export const W_TUN_TP_SRC = 63;
export const S_TUN_TP_SRC = 16;
export const M_TUN_TP_SRC = 0xffff;
export const W_TUN_TP_DST = 63;
export const S_TUN_TP_DST = 0;
export const M_TUN_TP_DST = 0xffff;
/** tun_gbp_id (16-31) | tun_gbp_flags (8-15). */
export const W_TUN_GBP_ID = 64;
export const S_TUN_GBP_ID = 16;
export const M_TUN_GBP_ID = 0xffff;
export const W_TUN_GBP_FLAGS = 64;
export const S_TUN_GBP_FLAGS = 8;
export const M_TUN_GBP_FLAGS = 0xff;
/** ERSPAN: idx (0-19) | ver (20-23) | dir (24) | hwid (25-30). */
export const W_TUN_ERSPAN_IDX = 65;
export const S_TUN_ERSPAN_IDX = 0;
export const M_TUN_ERSPAN_IDX = 0xfffff;
export const W_TUN_ERSPAN_VER = 65;
export const S_TUN_ERSPAN_VER = 20;
export const M_TUN_ERSPAN_VER = 0xf;
export const W_TUN_ERSPAN_DIR = 65;
export const S_TUN_ERSPAN_DIR = 24;
export const M_TUN_ERSPAN_DIR = 0x1;
export const W_TUN_ERSPAN_HWID = 65;
export const S_TUN_ERSPAN_HWID = 25;
export const M_TUN_ERSPAN_HWID = 0x3f;
/** Geneve option length in bytes (0-7) | gtpu_flags (8-15) | gtpu_msgtype (16-23). */
export const W_TUN_GENEVE_LEN = 66;
export const S_TUN_GENEVE_LEN = 0;
export const M_TUN_GENEVE_LEN = 0xff;
export const W_TUN_GTPU_FLAGS = 66;
export const S_TUN_GTPU_FLAGS = 8;
export const M_TUN_GTPU_FLAGS = 0xff;
export const W_TUN_GTPU_MSGTYPE = 66;
export const S_TUN_GTPU_MSGTYPE = 16;
export const M_TUN_GTPU_MSGTYPE = 0xff;

/**
 * Indexes into `DpPacket.tun` (the TUN region relative to its start), so
 * code that fills tunnel metadata needs no magic numbers:
 * `pkt.tun[TUN_IDX_DST] = addr`.
 */
export const TUN_IDX_ID = W_TUN_ID - 50;
export const TUN_IDX_SRC = W_TUN_SRC - 50;
export const TUN_IDX_DST = W_TUN_DST - 50;
export const TUN_IDX_IPV6_SRC = W_TUN_IPV6_SRC - 50;
export const TUN_IDX_IPV6_DST = W_TUN_IPV6_DST - 50;
/** tos | ttl | flags word. */
export const TUN_IDX_TOS_TTL_FLAGS = W_TUN_TOS - 50;
export const TUN_IDX_TP = W_TUN_TP_SRC - 50;
export const TUN_IDX_GBP = W_TUN_GBP_ID - 50;
export const TUN_IDX_ERSPAN = W_TUN_ERSPAN_IDX - 50;
/** geneve length | gtpu flags | gtpu msgtype word. */
export const TUN_IDX_GENEVE_LEN = W_TUN_GENEVE_LEN - 50;

/* ---------------- CTX region ---------------- */

/** ct_label: 128 bits, words 67..70, most significant first. */
export const W_CT_LABEL = 67;
export const O_CT_LABEL = 268;
export const W_CT_IPV6_SRC = 71;
export const O_CT_IPV6_SRC = 284;
export const W_CT_IPV6_DST = 75;
export const O_CT_IPV6_DST = 300;

/* ---------------- GENEVE region ---------------- */

/** Geneve options as raw TLV bytes as on the wire, W_TUN_GENEVE_LEN says how many. */
export const W_TUN_GENEVE = 79;
export const O_TUN_GENEVE = 316;

/* ---------------- OF region ---------------- */

/** reg0..reg15 are words W_REG0 + n. xreg n = reg 2n (high) : reg 2n+1 (low). */
export const W_REG0 = 142;
export const FLOW_N_REGS = 16;
/** OpenFlow metadata: 64 bits, words 158 (high), 159 (low). */
export const W_METADATA = 158;
export const O_METADATA = 632;
export const W_CONJ_ID = 160;
export const W_ACTSET_OUTPUT = 161;

/* ---------------- the field table ---------------- */

/** One field: a sub-word integer (`bytes` = 0) or a byte string (`bytes` > 0, from key byte `offset`). */
export interface FlowField {
  /** Name in OVS's flow/ofproto terms (ovs-fields(7) where it exists). */
  readonly name: string;
  /** First word. */
  readonly word: number;
  /** Bit shift within `word` (sub-word integers; 0 for byte strings). */
  readonly shift: number;
  /** Width in bits. */
  readonly bits: number;
  /** Byte length for byte-string fields; 0 for sub-word integers. */
  readonly bytes: number;
  /** Absolute key byte offset of the first byte (byte strings); word*4 for integers. */
  readonly offset: number;
  /** Region name, for documentation and region skipping. */
  readonly region: "meta" | "l2" | "l3" | "l4" | "nsh" | "tun" | "ctx" | "geneve" | "of";
}

function u(name: string, word: number, shift: number, bits: number, region: FlowField["region"]): FlowField {
  return { name, word, shift, bits, bytes: 0, offset: word * 4, region };
}
function b(name: string, offset: number, bytes: number, region: FlowField["region"]): FlowField {
  return { name, word: offset >> 2, shift: 0, bits: bytes * 8, bytes, offset, region };
}

const REG_FIELDS: FlowField[] = [];
for (let i = 0; i < FLOW_N_REGS; i++) REG_FIELDS.push(u(`reg${i}`, W_REG0 + i, 0, 32, "of"));

/** Every field of the key, in layout order. Drives generic get/set, formatting and the classifier. */
export const FLOW_FIELDS: readonly FlowField[] = [
  u("in_port", W_IN_PORT, 0, 32, "meta"),
  u("recirc_id", W_RECIRC_ID, 0, 32, "meta"),
  u("dp_hash", W_DP_HASH, 0, 32, "meta"),
  u("skb_priority", W_SKB_PRIORITY, 0, 32, "meta"),
  u("pkt_mark", W_PKT_MARK, 0, 32, "meta"),
  u("packet_type", W_PACKET_TYPE, 0, 32, "meta"),
  u("ct_state", W_CT_STATE, S_CT_STATE, 8, "meta"),
  u("ct_nw_proto", W_CT_NW_PROTO, S_CT_NW_PROTO, 8, "meta"),
  u("ct_zone", W_CT_ZONE, S_CT_ZONE, 16, "meta"),
  u("ct_mark", W_CT_MARK, 0, 32, "meta"),
  u("ct_nw_src", W_CT_NW_SRC, 0, 32, "meta"),
  u("ct_nw_dst", W_CT_NW_DST, 0, 32, "meta"),
  u("ct_tp_src", W_CT_TP_SRC, S_CT_TP_SRC, 16, "meta"),
  u("ct_tp_dst", W_CT_TP_DST, S_CT_TP_DST, 16, "meta"),
  b("dl_dst", O_ETH_DST, 6, "l2"),
  b("dl_src", O_ETH_SRC, 6, "l2"),
  u("dl_type", W_DL_TYPE, S_DL_TYPE, 16, "l2"),
  u("vlan_tci", W_VLAN0, S_VLAN_TCI, 16, "l2"),
  u("vlan_tpid", W_VLAN0, S_VLAN_TPID, 16, "l2"),
  u("vlan_tci1", W_VLAN1, S_VLAN_TCI, 16, "l2"),
  u("vlan_tpid1", W_VLAN1, S_VLAN_TPID, 16, "l2"),
  u("mpls_lse0", W_MPLS_LSE0, 0, 32, "l2"),
  u("mpls_lse1", W_MPLS_LSE1, 0, 32, "l2"),
  u("mpls_lse2", W_MPLS_LSE2, 0, 32, "l2"),
  u("nw_src", W_NW_SRC, 0, 32, "l3"),
  u("nw_dst", W_NW_DST, 0, 32, "l3"),
  u("nw_proto", W_NW_PROTO, S_NW_PROTO, 8, "l3"),
  u("nw_tos", W_NW_TOS, S_NW_TOS, 8, "l3"),
  u("nw_ttl", W_NW_TTL, S_NW_TTL, 8, "l3"),
  u("nw_frag", W_NW_FRAG, S_NW_FRAG, 8, "l3"),
  u("ipv6_label", W_IPV6_LABEL, 0, 20, "l3"),
  b("ipv6_src", O_IPV6_SRC, 16, "l3"),
  b("ipv6_dst", O_IPV6_DST, 16, "l3"),
  u("tp_src", W_TP_SRC, S_TP_SRC, 16, "l4"),
  u("tp_dst", W_TP_DST, S_TP_DST, 16, "l4"),
  u("tcp_flags", W_TCP_FLAGS, 0, 12, "l4"),
  u("igmp_group_ip4", W_IGMP_GROUP, 0, 32, "l4"),
  b("nd_target", O_ND_TARGET, 16, "l4"),
  b("arp_sha", O_ARP_SHA, 6, "l4"),
  b("arp_tha", O_ARP_THA, 6, "l4"),
  u("nd_reserved", W_ND_RESERVED, 0, 32, "l4"),
  u("nd_options_type", W_ND_OPTIONS_TYPE, 0, 8, "l4"),
  u("nsh_flags", W_NSH_FLAGS, S_NSH_FLAGS, 8, "nsh"),
  u("nsh_ttl", W_NSH_TTL, S_NSH_TTL, 8, "nsh"),
  u("nsh_mdtype", W_NSH_MDTYPE, S_NSH_MDTYPE, 8, "nsh"),
  u("nsh_np", W_NSH_NP, S_NSH_NP, 8, "nsh"),
  u("nsh_spi", W_NSH_SPI, S_NSH_SPI, 24, "nsh"),
  u("nsh_si", W_NSH_SI, S_NSH_SI, 8, "nsh"),
  u("nsh_c1", W_NSH_C1, 0, 32, "nsh"),
  u("nsh_c2", W_NSH_C1 + 1, 0, 32, "nsh"),
  u("nsh_c3", W_NSH_C1 + 2, 0, 32, "nsh"),
  u("nsh_c4", W_NSH_C1 + 3, 0, 32, "nsh"),
  b("tun_id", O_TUN_ID, 8, "tun"),
  u("tun_src", W_TUN_SRC, 0, 32, "tun"),
  u("tun_dst", W_TUN_DST, 0, 32, "tun"),
  b("tun_ipv6_src", O_TUN_IPV6_SRC, 16, "tun"),
  b("tun_ipv6_dst", O_TUN_IPV6_DST, 16, "tun"),
  u("tun_tos", W_TUN_TOS, S_TUN_TOS, 8, "tun"),
  u("tun_ttl", W_TUN_TTL, S_TUN_TTL, 8, "tun"),
  u("tun_flags", W_TUN_FLAGS, S_TUN_FLAGS, 16, "tun"),
  u("tun_tp_src", W_TUN_TP_SRC, S_TUN_TP_SRC, 16, "tun"),
  u("tun_tp_dst", W_TUN_TP_DST, S_TUN_TP_DST, 16, "tun"),
  u("tun_gbp_id", W_TUN_GBP_ID, S_TUN_GBP_ID, 16, "tun"),
  u("tun_gbp_flags", W_TUN_GBP_FLAGS, S_TUN_GBP_FLAGS, 8, "tun"),
  u("tun_erspan_idx", W_TUN_ERSPAN_IDX, S_TUN_ERSPAN_IDX, 20, "tun"),
  u("tun_erspan_ver", W_TUN_ERSPAN_VER, S_TUN_ERSPAN_VER, 4, "tun"),
  u("tun_erspan_dir", W_TUN_ERSPAN_DIR, S_TUN_ERSPAN_DIR, 1, "tun"),
  u("tun_erspan_hwid", W_TUN_ERSPAN_HWID, S_TUN_ERSPAN_HWID, 6, "tun"),
  u("tun_geneve_len", W_TUN_GENEVE_LEN, S_TUN_GENEVE_LEN, 8, "tun"),
  u("tun_gtpu_flags", W_TUN_GTPU_FLAGS, S_TUN_GTPU_FLAGS, 8, "tun"),
  u("tun_gtpu_msgtype", W_TUN_GTPU_MSGTYPE, S_TUN_GTPU_MSGTYPE, 8, "tun"),
  b("ct_label", O_CT_LABEL, 16, "ctx"),
  b("ct_ipv6_src", O_CT_IPV6_SRC, 16, "ctx"),
  b("ct_ipv6_dst", O_CT_IPV6_DST, 16, "ctx"),
  b("tun_geneve", O_TUN_GENEVE, GENEVE_OPTS_MAX, "geneve"),
  ...REG_FIELDS,
  b("metadata", O_METADATA, 8, "of"),
  u("conj_id", W_CONJ_ID, 0, 32, "of"),
  u("actset_output", W_ACTSET_OUTPUT, 0, 32, "of"),
];

/** OVS names that share storage with another field (ARP over IPv4, ND over ARP, ICMP over ports). */
export const FLOW_FIELD_ALIASES: Readonly<Record<string, string>> = {
  arp_op: "nw_proto",
  arp_spa: "nw_src",
  arp_tpa: "nw_dst",
  nd_sll: "arp_sha",
  nd_tll: "arp_tha",
  icmp_type: "tp_src",
  icmp_code: "tp_dst",
  icmpv6_type: "tp_src",
  icmpv6_code: "tp_dst",
  igmp_type: "tp_src",
  igmp_code: "tp_dst",
  geneve_opts: "tun_geneve",
};

const BY_NAME = new Map<string, FlowField>();
for (const f of FLOW_FIELDS) BY_NAME.set(f.name, f);

/** The field called `name` (or an alias of it), or undefined. */
export function flowField(name: string): FlowField | undefined {
  const f = BY_NAME.get(name);
  if (f !== undefined) return f;
  const a = FLOW_FIELD_ALIASES[name];
  return a === undefined ? undefined : BY_NAME.get(a);
}
