/**
 * Datapath (ODP) netlink attribute numbers and payload layouts: the
 * `OVS_KEY_ATTR_*`, `OVS_ACTION_ATTR_*` and nested-attribute enums of the
 * Linux openvswitch uapi (include/uapi/linux/openvswitch.h) plus the
 * userspace-only values OVS appends (`TUNNEL_PUSH`, `TUNNEL_POP`,
 * `LB_OUTPUT`, `PACKET_TYPE`, `ND_EXTENSIONS`).
 *
 * The numbers are the wire contract between ofproto and the datapath: a
 * datapath key, a mask and an action list are sequences of netlink
 * attributes (see odp-netlink.ts) numbered exactly as here, so a key
 * printed by tsovs and one printed by OVS come from the same bytes.
 *
 * Payload layouts (offsets in bytes, "be" = network order, "u" = host
 * order as in the kernel structs):
 *   ethernet  src[6] dst[6]
 *   ipv4      src be32, dst be32, proto u8, tos u8, ttl u8, frag u8
 *   ipv6      src[16], dst[16], label be32, proto, tclass, hlimit, frag
 *   tcp/udp/sctp  src be16, dst be16
 *   icmp/icmpv6   type u8, code u8
 *   arp       sip be32, tip be32, op be16, sha[6], tha[6]   (20 bytes)
 *   nd        target[16], sll[6], tll[6]                    (28 bytes)
 *   nd_ext    reserved be32, options_type u8, pad[3]         (8 bytes)
 *   ct_tuple4 src be32, dst be32, src_port be16, dst_port be16, proto u8, pad[3]
 *   ct_tuple6 src[16], dst[16], src_port be16, dst_port be16, proto u8, pad[3]
 */

/* ---- flow key attributes (enum ovs_key_attr) ---- */
export const OVS_KEY_ATTR_UNSPEC = 0;
export const OVS_KEY_ATTR_ENCAP = 1;
export const OVS_KEY_ATTR_PRIORITY = 2;
export const OVS_KEY_ATTR_IN_PORT = 3;
export const OVS_KEY_ATTR_ETHERNET = 4;
export const OVS_KEY_ATTR_VLAN = 5;
export const OVS_KEY_ATTR_ETHERTYPE = 6;
export const OVS_KEY_ATTR_IPV4 = 7;
export const OVS_KEY_ATTR_IPV6 = 8;
export const OVS_KEY_ATTR_TCP = 9;
export const OVS_KEY_ATTR_UDP = 10;
export const OVS_KEY_ATTR_ICMP = 11;
export const OVS_KEY_ATTR_ICMPV6 = 12;
export const OVS_KEY_ATTR_ARP = 13;
export const OVS_KEY_ATTR_ND = 14;
export const OVS_KEY_ATTR_SKB_MARK = 15;
export const OVS_KEY_ATTR_TUNNEL = 16;
export const OVS_KEY_ATTR_SCTP = 17;
export const OVS_KEY_ATTR_TCP_FLAGS = 18;
export const OVS_KEY_ATTR_DP_HASH = 19;
export const OVS_KEY_ATTR_RECIRC_ID = 20;
export const OVS_KEY_ATTR_MPLS = 21;
export const OVS_KEY_ATTR_CT_STATE = 22;
export const OVS_KEY_ATTR_CT_ZONE = 23;
export const OVS_KEY_ATTR_CT_MARK = 24;
export const OVS_KEY_ATTR_CT_LABELS = 25;
export const OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4 = 26;
export const OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6 = 27;
export const OVS_KEY_ATTR_NSH = 28;
/** Userspace only (the kernel has no such attribute). */
export const OVS_KEY_ATTR_PACKET_TYPE = 29;
/** Userspace only. */
export const OVS_KEY_ATTR_ND_EXTENSIONS = 30;
export const OVS_KEY_ATTR_MAX = 30;

/* ---- tunnel key attributes (enum ovs_tunnel_key_attr), nested in OVS_KEY_ATTR_TUNNEL ---- */
export const OVS_TUNNEL_KEY_ATTR_ID = 0;
export const OVS_TUNNEL_KEY_ATTR_IPV4_SRC = 1;
export const OVS_TUNNEL_KEY_ATTR_IPV4_DST = 2;
export const OVS_TUNNEL_KEY_ATTR_TOS = 3;
export const OVS_TUNNEL_KEY_ATTR_TTL = 4;
export const OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT = 5;
export const OVS_TUNNEL_KEY_ATTR_CSUM = 6;
export const OVS_TUNNEL_KEY_ATTR_OAM = 7;
export const OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS = 8;
export const OVS_TUNNEL_KEY_ATTR_TP_SRC = 9;
export const OVS_TUNNEL_KEY_ATTR_TP_DST = 10;
export const OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS = 11;
export const OVS_TUNNEL_KEY_ATTR_IPV6_SRC = 12;
export const OVS_TUNNEL_KEY_ATTR_IPV6_DST = 13;
export const OVS_TUNNEL_KEY_ATTR_PAD = 14;
export const OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS = 15;
export const OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE = 16;
export const OVS_TUNNEL_KEY_ATTR_GTPU_OPTS = 17;
export const OVS_VXLAN_EXT_GBP = 1;

/* ---- actions (enum ovs_action_attr) ---- */
export const OVS_ACTION_ATTR_UNSPEC = 0;
export const OVS_ACTION_ATTR_OUTPUT = 1;
export const OVS_ACTION_ATTR_USERSPACE = 2;
export const OVS_ACTION_ATTR_SET = 3;
export const OVS_ACTION_ATTR_PUSH_VLAN = 4;
export const OVS_ACTION_ATTR_POP_VLAN = 5;
export const OVS_ACTION_ATTR_SAMPLE = 6;
export const OVS_ACTION_ATTR_RECIRC = 7;
export const OVS_ACTION_ATTR_HASH = 8;
export const OVS_ACTION_ATTR_PUSH_MPLS = 9;
export const OVS_ACTION_ATTR_POP_MPLS = 10;
export const OVS_ACTION_ATTR_SET_MASKED = 11;
export const OVS_ACTION_ATTR_CT = 12;
export const OVS_ACTION_ATTR_TRUNC = 13;
export const OVS_ACTION_ATTR_PUSH_ETH = 14;
export const OVS_ACTION_ATTR_POP_ETH = 15;
export const OVS_ACTION_ATTR_CT_CLEAR = 16;
export const OVS_ACTION_ATTR_PUSH_NSH = 17;
export const OVS_ACTION_ATTR_POP_NSH = 18;
export const OVS_ACTION_ATTR_METER = 19;
export const OVS_ACTION_ATTR_CLONE = 20;
export const OVS_ACTION_ATTR_CHECK_PKT_LEN = 21;
export const OVS_ACTION_ATTR_ADD_MPLS = 22;
export const OVS_ACTION_ATTR_DEC_TTL = 23;
export const OVS_ACTION_ATTR_DROP = 24;
/** Userspace only: struct ovs_action_push_tnl. */
export const OVS_ACTION_ATTR_TUNNEL_PUSH = 25;
/** Userspace only: u32 tunnel port. */
export const OVS_ACTION_ATTR_TUNNEL_POP = 26;
/** Userspace only: u32 bond id. */
export const OVS_ACTION_ATTR_LB_OUTPUT = 27;
export const OVS_ACTION_ATTR_MAX = 27;

/* ---- nested attributes of actions ---- */
export const OVS_USERSPACE_ATTR_PID = 1;
export const OVS_USERSPACE_ATTR_USERDATA = 2;
export const OVS_USERSPACE_ATTR_EGRESS_TUN_PORT = 3;
export const OVS_USERSPACE_ATTR_ACTIONS = 4;

export const OVS_SAMPLE_ATTR_PROBABILITY = 1;
export const OVS_SAMPLE_ATTR_ACTIONS = 2;

export const OVS_CHECK_PKT_LEN_ATTR_PKT_LEN = 1;
export const OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_GREATER = 2;
export const OVS_CHECK_PKT_LEN_ATTR_ACTIONS_IF_LESS_EQUAL = 3;

export const OVS_CT_ATTR_COMMIT = 1;
export const OVS_CT_ATTR_ZONE = 2;
export const OVS_CT_ATTR_MARK = 3;
export const OVS_CT_ATTR_LABELS = 4;
export const OVS_CT_ATTR_HELPER = 5;
export const OVS_CT_ATTR_NAT = 6;
export const OVS_CT_ATTR_FORCE_COMMIT = 7;
export const OVS_CT_ATTR_EVENTMASK = 8;
export const OVS_CT_ATTR_TIMEOUT = 9;

/** enum ovs_hash_alg. */
export const OVS_HASH_ALG_L4 = 0;
export const OVS_HASH_ALG_SYM_L4 = 1;

/** enum ovs_frag_type. */
export const OVS_FRAG_TYPE_NONE = 0;
export const OVS_FRAG_TYPE_FIRST = 1;
export const OVS_FRAG_TYPE_LATER = 2;

/** OVS_KEY_ATTR_CT_STATE bits (OVS_CS_F_*). */
export const OVS_CS_F_NEW = 0x01;
export const OVS_CS_F_ESTABLISHED = 0x02;
export const OVS_CS_F_RELATED = 0x04;
export const OVS_CS_F_REPLY_DIR = 0x08;
export const OVS_CS_F_INVALID = 0x10;
export const OVS_CS_F_TRACKED = 0x20;
export const OVS_CS_F_SRC_NAT = 0x40;
export const OVS_CS_F_DST_NAT = 0x80;

/** Attribute payload length: a byte count, or one of these markers. */
export const ATTR_LEN_INVALID = -1;
export const ATTR_LEN_VARIABLE = -2;
export const ATTR_LEN_NESTED = -3;

/** Payload length of each OVS_KEY_ATTR_* (index = type). */
export const KEY_ATTR_LENS: readonly number[] = (() => {
  const t: number[] = new Array<number>(OVS_KEY_ATTR_MAX + 1).fill(ATTR_LEN_INVALID);
  t[OVS_KEY_ATTR_ENCAP] = ATTR_LEN_NESTED;
  t[OVS_KEY_ATTR_PRIORITY] = 4;
  t[OVS_KEY_ATTR_SKB_MARK] = 4;
  t[OVS_KEY_ATTR_DP_HASH] = 4;
  t[OVS_KEY_ATTR_RECIRC_ID] = 4;
  t[OVS_KEY_ATTR_TUNNEL] = ATTR_LEN_NESTED;
  t[OVS_KEY_ATTR_IN_PORT] = 4;
  t[OVS_KEY_ATTR_ETHERNET] = 12;
  t[OVS_KEY_ATTR_VLAN] = 2;
  t[OVS_KEY_ATTR_ETHERTYPE] = 2;
  t[OVS_KEY_ATTR_MPLS] = ATTR_LEN_VARIABLE;
  t[OVS_KEY_ATTR_IPV4] = 12;
  t[OVS_KEY_ATTR_IPV6] = 40;
  t[OVS_KEY_ATTR_TCP] = 4;
  t[OVS_KEY_ATTR_TCP_FLAGS] = 2;
  t[OVS_KEY_ATTR_UDP] = 4;
  t[OVS_KEY_ATTR_SCTP] = 4;
  t[OVS_KEY_ATTR_ICMP] = 2;
  t[OVS_KEY_ATTR_ICMPV6] = 2;
  t[OVS_KEY_ATTR_ARP] = 24;
  t[OVS_KEY_ATTR_ND] = 28;
  t[OVS_KEY_ATTR_ND_EXTENSIONS] = 8;
  t[OVS_KEY_ATTR_CT_STATE] = 4;
  t[OVS_KEY_ATTR_CT_ZONE] = 2;
  t[OVS_KEY_ATTR_CT_MARK] = 4;
  t[OVS_KEY_ATTR_CT_LABELS] = 16;
  t[OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4] = 16;
  t[OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6] = 40;
  t[OVS_KEY_ATTR_PACKET_TYPE] = 4;
  t[OVS_KEY_ATTR_NSH] = ATTR_LEN_NESTED;
  return t;
})();

/** Payload length of each OVS_TUNNEL_KEY_ATTR_* (index = type). */
export const TUN_KEY_ATTR_LENS: readonly number[] = (() => {
  const t: number[] = new Array<number>(OVS_TUNNEL_KEY_ATTR_GTPU_OPTS + 1).fill(ATTR_LEN_INVALID);
  t[OVS_TUNNEL_KEY_ATTR_ID] = 8;
  t[OVS_TUNNEL_KEY_ATTR_IPV4_SRC] = 4;
  t[OVS_TUNNEL_KEY_ATTR_IPV4_DST] = 4;
  t[OVS_TUNNEL_KEY_ATTR_TOS] = 1;
  t[OVS_TUNNEL_KEY_ATTR_TTL] = 1;
  t[OVS_TUNNEL_KEY_ATTR_DONT_FRAGMENT] = 0;
  t[OVS_TUNNEL_KEY_ATTR_CSUM] = 0;
  t[OVS_TUNNEL_KEY_ATTR_OAM] = 0;
  t[OVS_TUNNEL_KEY_ATTR_GENEVE_OPTS] = ATTR_LEN_VARIABLE;
  t[OVS_TUNNEL_KEY_ATTR_TP_SRC] = 2;
  t[OVS_TUNNEL_KEY_ATTR_TP_DST] = 2;
  t[OVS_TUNNEL_KEY_ATTR_VXLAN_OPTS] = ATTR_LEN_NESTED;
  t[OVS_TUNNEL_KEY_ATTR_IPV6_SRC] = 16;
  t[OVS_TUNNEL_KEY_ATTR_IPV6_DST] = 16;
  t[OVS_TUNNEL_KEY_ATTR_PAD] = ATTR_LEN_VARIABLE;
  t[OVS_TUNNEL_KEY_ATTR_ERSPAN_OPTS] = ATTR_LEN_VARIABLE;
  t[OVS_TUNNEL_KEY_ATTR_IPV4_INFO_BRIDGE] = 0;
  t[OVS_TUNNEL_KEY_ATTR_GTPU_OPTS] = ATTR_LEN_VARIABLE;
  return t;
})();

/** Payload length of each action with a fixed-size argument; ATTR_LEN_VARIABLE otherwise. */
export function odpActionLen(type: number): number {
  switch (type) {
    case OVS_ACTION_ATTR_OUTPUT:
    case OVS_ACTION_ATTR_LB_OUTPUT:
    case OVS_ACTION_ATTR_TRUNC:
    case OVS_ACTION_ATTR_TUNNEL_POP:
    case OVS_ACTION_ATTR_METER:
    case OVS_ACTION_ATTR_RECIRC:
    case OVS_ACTION_ATTR_DROP:
      return 4;
    case OVS_ACTION_ATTR_PUSH_VLAN:
      return 4;
    case OVS_ACTION_ATTR_POP_VLAN:
    case OVS_ACTION_ATTR_CT_CLEAR:
    case OVS_ACTION_ATTR_POP_ETH:
    case OVS_ACTION_ATTR_POP_NSH:
      return 0;
    case OVS_ACTION_ATTR_PUSH_MPLS:
      return 8;
    case OVS_ACTION_ATTR_POP_MPLS:
      return 2;
    case OVS_ACTION_ATTR_HASH:
      return 8;
    case OVS_ACTION_ATTR_PUSH_ETH:
      return 12;
    case OVS_ACTION_ATTR_USERSPACE:
    case OVS_ACTION_ATTR_SET:
    case OVS_ACTION_ATTR_SET_MASKED:
    case OVS_ACTION_ATTR_SAMPLE:
    case OVS_ACTION_ATTR_CT:
    case OVS_ACTION_ATTR_CLONE:
    case OVS_ACTION_ATTR_PUSH_NSH:
    case OVS_ACTION_ATTR_CHECK_PKT_LEN:
    case OVS_ACTION_ATTR_TUNNEL_PUSH:
    case OVS_ACTION_ATTR_ADD_MPLS:
    case OVS_ACTION_ATTR_DEC_TTL:
      return ATTR_LEN_VARIABLE;
    default:
      return ATTR_LEN_INVALID;
  }
}

/** OVS's name of a key attribute as printed in a datapath flow. */
export function keyAttrName(type: number): string {
  switch (type) {
    case OVS_KEY_ATTR_UNSPEC: return "unspec";
    case OVS_KEY_ATTR_ENCAP: return "encap";
    case OVS_KEY_ATTR_PRIORITY: return "skb_priority";
    case OVS_KEY_ATTR_SKB_MARK: return "skb_mark";
    case OVS_KEY_ATTR_CT_STATE: return "ct_state";
    case OVS_KEY_ATTR_CT_ZONE: return "ct_zone";
    case OVS_KEY_ATTR_CT_MARK: return "ct_mark";
    case OVS_KEY_ATTR_CT_LABELS: return "ct_label";
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV4: return "ct_tuple4";
    case OVS_KEY_ATTR_CT_ORIG_TUPLE_IPV6: return "ct_tuple6";
    case OVS_KEY_ATTR_TUNNEL: return "tunnel";
    case OVS_KEY_ATTR_IN_PORT: return "in_port";
    case OVS_KEY_ATTR_ETHERNET: return "eth";
    case OVS_KEY_ATTR_VLAN: return "vlan";
    case OVS_KEY_ATTR_ETHERTYPE: return "eth_type";
    case OVS_KEY_ATTR_IPV4: return "ipv4";
    case OVS_KEY_ATTR_IPV6: return "ipv6";
    case OVS_KEY_ATTR_TCP: return "tcp";
    case OVS_KEY_ATTR_TCP_FLAGS: return "tcp_flags";
    case OVS_KEY_ATTR_UDP: return "udp";
    case OVS_KEY_ATTR_SCTP: return "sctp";
    case OVS_KEY_ATTR_ICMP: return "icmp";
    case OVS_KEY_ATTR_ICMPV6: return "icmpv6";
    case OVS_KEY_ATTR_ARP: return "arp";
    case OVS_KEY_ATTR_ND: return "nd";
    case OVS_KEY_ATTR_ND_EXTENSIONS: return "nd_ext";
    case OVS_KEY_ATTR_MPLS: return "mpls";
    case OVS_KEY_ATTR_DP_HASH: return "dp_hash";
    case OVS_KEY_ATTR_RECIRC_ID: return "recirc_id";
    case OVS_KEY_ATTR_PACKET_TYPE: return "packet_type";
    case OVS_KEY_ATTR_NSH: return "nsh";
    default: return `key${type}`;
  }
}
