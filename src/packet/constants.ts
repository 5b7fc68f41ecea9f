/**
 * Protocol numbers shared by the header views, extraction and actions:
 * ethertypes, IP protocol numbers, ICMPv6/ND types, well-known ports.
 * Values are host integers of the network-order field.
 */

/* Ethertypes. */
export const ETH_TYPE_MIN = 0x600;
/** dl_type OVS uses for 802.2 frames without a SNAP ethertype (FLOW_DL_TYPE_NONE). */
export const ETH_TYPE_NONE = 0x5ff;
export const ETH_TYPE_IP = 0x0800;
export const ETH_TYPE_ARP = 0x0806;
export const ETH_TYPE_TEB = 0x6558;
export const ETH_TYPE_VLAN_8021Q = 0x8100;
export const ETH_TYPE_VLAN_8021AD = 0x88a8;
export const ETH_TYPE_RARP = 0x8035;
export const ETH_TYPE_IPV6 = 0x86dd;
export const ETH_TYPE_LACP = 0x8809;
export const ETH_TYPE_MPLS = 0x8847;
export const ETH_TYPE_MPLS_MCAST = 0x8848;
export const ETH_TYPE_NSH = 0x894f;
export const ETH_TYPE_ERSPAN1 = 0x88be;
export const ETH_TYPE_ERSPAN2 = 0x22eb;

/* IP protocol numbers. */
export const IPPROTO_HOPOPTS = 0;
export const IPPROTO_ICMP = 1;
export const IPPROTO_IGMP = 2;
export const IPPROTO_IPIP = 4;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
export const IPPROTO_IPV6 = 41;
export const IPPROTO_ROUTING = 43;
export const IPPROTO_FRAGMENT = 44;
export const IPPROTO_GRE = 47;
export const IPPROTO_ESP = 50;
export const IPPROTO_AH = 51;
export const IPPROTO_ICMPV6 = 58;
export const IPPROTO_NONE = 59;
export const IPPROTO_DSTOPTS = 60;
export const IPPROTO_SCTP = 132;

/* ICMPv6 types and Neighbor Discovery. */
export const ICMP6_ECHO_REQUEST = 128;
export const ICMP6_ECHO_REPLY = 129;
export const MLD_QUERY = 130;
export const MLD_REPORT = 131;
export const MLD_DONE = 132;
export const ND_ROUTER_SOLICIT = 133;
export const ND_ROUTER_ADVERT = 134;
export const ND_NEIGHBOR_SOLICIT = 135;
export const ND_NEIGHBOR_ADVERT = 136;
export const MLD2_REPORT = 143;
export const ND_OPT_SOURCE_LINKADDR = 1;
export const ND_OPT_TARGET_LINKADDR = 2;

/* Well-known UDP ports of tunnels. */
export const VXLAN_DST_PORT = 4789;
export const GENEVE_DST_PORT = 6081;
export const GTPU_DST_PORT = 2152;

/* ARP. */
export const ARP_HTYPE_ETHERNET = 1;
export const ARP_OP_REQUEST = 1;
export const ARP_OP_REPLY = 2;
export const ARP_OP_RREQUEST = 3;
export const ARP_OP_RREPLY = 4;

/* TCP flags (the low 12 bits of the data-offset/flags word). */
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_NS = 0x100;

/* VLAN TCI. */
export const VLAN_VID_MASK = 0x0fff;
export const VLAN_CFI = 0x1000;
export const VLAN_PCP_MASK = 0xe000;
export const VLAN_PCP_SHIFT = 13;

/* MPLS label stack entry. */
export const MPLS_LABEL_SHIFT = 12;
export const MPLS_TC_SHIFT = 9;
export const MPLS_BOS_SHIFT = 8;
export const MPLS_TTL_MASK = 0xff;

/* IPv4 fragment field. */
export const IP_DF = 0x4000;
export const IP_MF = 0x2000;
export const IP_FRAG_OFF_MASK = 0x1fff;

/** True for the two VLAN TPIDs OVS recognises (802.1Q and 802.1ad). */
export function ethTypeIsVlan(t: number): boolean {
  return t === ETH_TYPE_VLAN_8021Q || t === ETH_TYPE_VLAN_8021AD;
}

export function ethTypeIsMpls(t: number): boolean {
  return t === ETH_TYPE_MPLS || t === ETH_TYPE_MPLS_MCAST;
}
