/**
 * The one-line summary ofp-print shows under a packet-in or packet-out:
 * the flow OVS extracts from the packet bytes, written as its flow_format
 * writes a packet's flow (the fields the packet's headers make relevant,
 * metadata left out since a bare packet has none), followed by the L4
 * checksum ("tcp_csum:6d95"). Control path only: it allocates freely.
 */
import { extractFlowKey } from "../flow/extract.js";
import { newFlowKey } from "../flow/key-ops.js";
import { W_DL_TYPE, W_MPLS_LSE0, W_NW_PROTO, W_PACKET_TYPE, W_TP_SRC, W_VLAN0 } from "../flow/key-layout.js";
import { DpPacket } from "../packet/dp-packet.js";
import { Match } from "./match.js";
import { mfGet } from "./mf-key.js";
import { mfFromName } from "./meta-flow.js";
import { formatMatchWithPriority, OFP_DEFAULT_PRIORITY } from "./ofp-flow.js";

/**
 * The match OVS's flow_format prints for a packet's flow (as
 * flow_wildcards_init_for_packet sees it): the fields its headers make
 * relevant, exact. `inPort` null leaves in_port out (it is 0).
 */
export function packetMatch(key: Uint32Array, inPort: number | null): Match {
  const m = new Match();
  const ones = new Uint32Array(key.length).fill(0xffffffff);
  const put = (name: string): void => {
    const f = mfFromName(name)!;
    m.set(f, mfGet(key, ones, f).value);
  };
  if (inPort !== null) m.setNum("in_port", inPort);
  const pt = key[W_PACKET_TYPE]!;
  let dl: number;
  if (pt === 0) {
    put("eth_dst");
    put("eth_src");
    put("eth_type");
    put("vlan_tci");
    // The inner tag too, when there is an outer one.
    if (key[W_VLAN0]! & 0x1000) {
      m.key[W_VLAN0 + 1] = key[W_VLAN0 + 1]! & 0xffff;
      m.mask[W_VLAN0 + 1] = 0xffff;
    }
    dl = key[W_DL_TYPE]! >>> 16;
  } else {
    m.setNum("packet_type", pt);
    dl = pt >>> 16 === 1 ? pt & 0xffff : -1;
  }
  const proto = key[W_NW_PROTO]! >>> 24;
  const frag = key[W_NW_PROTO]! & 0xff;
  if (dl === 0x0800) {
    put("ip_src");
    put("ip_dst");
  } else if (dl === 0x86dd) {
    put("ipv6_src");
    put("ipv6_dst");
    put("ipv6_label");
    const type = key[W_TP_SRC]! >>> 16;
    if (proto === 58 && !(frag & 2) && (type === 135 || type === 136) && (key[W_TP_SRC]! & 0xffff) === 0) {
      put("nd_target");
      put("nd_sll");
      put("nd_tll");
    }
  } else if (dl === 0x0806 || dl === 0x8035) {
    for (const n of ["arp_spa", "arp_tpa", "arp_op", "arp_sha", "arp_tha"]) put(n);
    return m;
  } else if (dl === 0x8847 || dl === 0x8848) {
    for (const n of ["mpls_label", "mpls_tc", "mpls_ttl", "mpls_bos"]) put(n);
    // The stack down to its bottom (at most three entries).
    for (let i = 1; i < 3 && !(key[W_MPLS_LSE0 + i - 1]! & 0x100); i++) {
      m.key[W_MPLS_LSE0 + i] = key[W_MPLS_LSE0 + i]!;
      m.mask[W_MPLS_LSE0 + i] = 0xffffffff;
    }
    return m;
  } else if (dl === 0x894f) {
    for (const n of ["nsh_flags", "nsh_ttl", "nsh_mdtype", "nsh_np", "nsh_spi", "nsh_si", "nsh_c1", "nsh_c2", "nsh_c3", "nsh_c4"]) put(n);
    for (const n of ["ip_frag", "nw_tos", "nw_ecn", "nw_ttl", "nw_proto"]) put(n);
    return m;
  } else {
    return m;
  }
  for (const n of ["ip_frag", "nw_tos", "nw_ecn", "nw_ttl", "nw_proto"]) put(n);
  if (!(frag & 2)) {
    if (proto === 6) for (const n of ["tcp_src", "tcp_dst", "tcp_flags"]) put(n);
    else if (proto === 17) for (const n of ["udp_src", "udp_dst"]) put(n);
    else if (proto === 132) for (const n of ["sctp_src", "sctp_dst"]) put(n);
    else if (proto === 1 && dl === 0x0800) for (const n of ["icmp_type", "icmp_code"]) put(n);
    else if (proto === 58 && dl === 0x86dd) for (const n of ["icmpv6_type", "icmpv6_code"]) put(n);
    else if (proto === 2 || proto === 1 || proto === 58) {
      // IGMP, and ICMP in the other IP version: ports as OVS extracted them.
      m.key[W_TP_SRC] = key[W_TP_SRC]!;
      m.mask[W_TP_SRC] = 0xffffffff;
    }
  }
  return m;
}

/** Minimum L4 header sizes for the checksum OVS appends (TCP, UDP, SCTP, ICMP, ICMPv6). */
const CSUM: Readonly<Record<number, { min: number; off: number; bytes: 2 | 4; name: string }>> = {
  6: { min: 20, off: 16, bytes: 2, name: "tcp_csum" },
  17: { min: 8, off: 6, bytes: 2, name: "udp_csum" },
  132: { min: 12, off: 8, bytes: 4, name: "sctp_csum" },
  1: { min: 8, off: 2, bytes: 2, name: "icmp_csum" },
  58: { min: 4, off: 2, bytes: 2, name: "icmp6_csum" },
};

/**
 * OVS's ofp_packet_to_string: the packet's flow and L4 checksum, with a
 * trailing newline. `packetType` is (namespace << 16) | type, 0 for
 * Ethernet.
 */
export function packetToString(data: Uint8Array, packetType = 0): string {
  const pkt = new DpPacket(Math.max(data.length + 256, 2048));
  pkt.setData(data);
  pkt.packetType = packetType >>> 0;
  const key = newFlowKey();
  extractFlowKey(pkt, key);
  let s = formatMatchWithPriority(packetMatch(key, null), OFP_DEFAULT_PRIORITY);
  const nwProto = key[W_NW_PROTO]! >>> 24;
  const c = CSUM[nwProto];
  if (c && pkt.l4Ofs >= 0) {
    const l4Size = pkt.len - pkt.l4Ofs - pkt.l2PadSize;
    if (l4Size >= c.min) {
      const at = pkt.start + pkt.l4Ofs + c.off;
      const v = c.bytes === 2 ? pkt.view.getUint16(at) : pkt.view.getUint32(at);
      s += ` ${c.name}:${v.toString(16)}`;
    }
  }
  return s + "\n";
}
