/**
 * The one-line summary ofp-print shows under a packet-in or packet-out:
 * the flow OVS extracts from the packet bytes, written as its flow_format
 * writes a packet's flow (the fields the packet's headers make relevant,
 * metadata left out since a bare packet has none), followed by the L4
 * checksum ("tcp_csum:6d95"). Control path only: it allocates freely.
 */
import { extractFlowKey } from "../flow/extract.js";
import { newFlowKey } from "../flow/key-ops.js";
import {
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  O_ARP_SHA,
  O_ARP_THA,
  O_ETH_DST,
  O_ETH_SRC,
  O_IPV6_DST,
  O_IPV6_SRC,
  O_ND_TARGET,
  W_DL_TYPE,
  W_IPV6_LABEL,
  W_MPLS_LSE0,
  W_NSH_C1,
  W_NSH_FLAGS,
  W_NSH_SPI,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_PACKET_TYPE,
  W_TCP_FLAGS,
  W_TP_SRC,
  W_VLAN0,
} from "../flow/key-layout.js";
import { keyByte } from "../flow/key-ops.js";
import { DpPacket } from "../packet/dp-packet.js";
import { ipv4ToString, ipv6ToString, macToString } from "../packet/bytes.js";
import { TCP_FLAG_NAMES } from "../packet/tcp.js";

function keyBytes(key: Uint32Array, off: number, n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = keyByte(key, off + i);
  return b;
}

function hex(v: number, w: number): string {
  return "0x" + v.toString(16).padStart(w, "0");
}

/** OVS writes packet type numbers below 10 in decimal, others in 0x-hex. */
function smallOrHex(v: number): string {
  return v < 10 ? String(v) : "0x" + v.toString(16);
}

function tcpFlagsText(f: number): string {
  if (f === 0) return "0";
  const parts: string[] = [];
  for (const [bit, name] of TCP_FLAG_NAMES) if (f & bit) parts.push(name);
  return parts.join("|");
}

const IP4_NAMES: Readonly<Record<number, string>> = { 1: "icmp", 6: "tcp", 17: "udp", 132: "sctp" };
const IP6_NAMES: Readonly<Record<number, string>> = { 58: "icmp6", 6: "tcp6", 17: "udp6", 132: "sctp6" };

/** OVS's flow_format for a flow extracted from a bare packet (no metadata). */
export function packetFlowText(key: Uint32Array): string {
  const out: string[] = [];
  const packetType = key[W_PACKET_TYPE]!;
  const dlType = packetType === 0 ? key[W_DL_TYPE]! >>> 16 : packetType & 0xffff;
  const w = key[W_NW_PROTO]!;
  const nwProto = w >>> 24;
  const nwTos = (w >>> 16) & 0xff;
  const nwTtl = (w >>> 8) & 0xff;
  const nwFrag = w & 0xff;
  const tpSrc = key[W_TP_SRC]! >>> 16;
  const tpDst = key[W_TP_SRC]! & 0xffff;
  const isIp = dlType === 0x0800;
  const isIp6 = dlType === 0x86dd;
  const isArp = dlType === 0x0806 || dlType === 0x8035;
  const isMpls = dlType === 0x8847 || dlType === 0x8848;

  // The protocol shorthand ("tcp", "arp") stands for dl_type (and nw_proto);
  // a non-Ethernet packet's type already says what it is and gets neither.
  let typeShown = true;
  let protoShown = false;
  if (packetType !== 0) {
    // (packet_type is printed below)
  } else if (isIp || isIp6) {
    const n = (isIp ? IP4_NAMES : IP6_NAMES)[nwProto];
    if (n !== undefined) {
      out.push(n);
      protoShown = true;
    } else out.push(isIp ? "ip" : "ipv6");
  } else if (dlType === 0x0806) out.push("arp");
  else if (dlType === 0x8035) out.push("rarp");
  else if (dlType === 0x8847) out.push("mpls");
  else if (dlType === 0x8848) out.push("mplsm");
  else typeShown = false;

  if (packetType !== 0) out.push(`packet_type=(${smallOrHex(packetType >>> 16)},${smallOrHex(packetType & 0xffff)})`);
  if (packetType === 0) {
    for (let i = 0; i < 2; i++) {
      const tci = key[W_VLAN0 + i]! & 0xffff;
      const sfx = i === 0 ? "" : String(i);
      if (tci & 0x1000) {
        out.push(`dl_vlan${sfx}=${tci & 0xfff}`, `dl_vlan_pcp${sfx}=${tci >>> 13}`);
      } else {
        out.push(`vlan_tci${sfx}=${hex(tci, 4)}`);
        break;
      }
    }
    out.push(`dl_src=${macToString(keyBytes(key, O_ETH_SRC, 6))}`, `dl_dst=${macToString(keyBytes(key, O_ETH_DST, 6))}`);
  }
  if (!typeShown) out.push(`dl_type=${hex(dlType, 4)}`);
  if (dlType === 0x894f) {
    const n0 = key[W_NSH_FLAGS]!;
    const n1 = key[W_NSH_SPI]!;
    out.push(`nsh_flags=${n0 >>> 24}`, `nsh_ttl=${(n0 >>> 16) & 0xff}`, `nsh_mdtype=${(n0 >>> 8) & 0xff}`, `nsh_np=${n0 & 0xff}`);
    out.push(`nsh_spi=${hex(n1 >>> 8, 0)}`, `nsh_si=${n1 & 0xff}`);
    if (((n0 >>> 8) & 0xff) === 1) for (let i = 0; i < 4; i++) out.push(`nsh_c${i + 1}=${hex(key[W_NSH_C1 + i]!, 0)}`);
    out.push(`nw_proto=${nwProto}`, `nw_tos=${nwTos & 0xfc}`, `nw_ecn=${nwTos & 3}`, `nw_ttl=${nwTtl}`, "nw_frag=no");
  }
  if (isIp6) {
    out.push(`ipv6_src=${ipv6ToString(keyBytes(key, O_IPV6_SRC, 16))}`, `ipv6_dst=${ipv6ToString(keyBytes(key, O_IPV6_DST, 16))}`);
    out.push(`ipv6_label=${hex(key[W_IPV6_LABEL]!, 5)}`);
  } else if (isArp) {
    out.push(`arp_spa=${ipv4ToString(key[W_NW_SRC]!)}`, `arp_tpa=${ipv4ToString(key[W_NW_DST]!)}`);
  } else if (isIp) {
    out.push(`nw_src=${ipv4ToString(key[W_NW_SRC]!)}`, `nw_dst=${ipv4ToString(key[W_NW_DST]!)}`);
  }
  if (isArp) {
    out.push(`arp_op=${nwProto}`);
    out.push(`arp_sha=${macToString(keyBytes(key, O_ARP_SHA, 6))}`, `arp_tha=${macToString(keyBytes(key, O_ARP_THA, 6))}`);
  }
  if ((isIp || isIp6) && !protoShown) out.push(`nw_proto=${nwProto}`);
  if (isIp || isIp6) out.push(`nw_tos=${nwTos & 0xfc}`, `nw_ecn=${nwTos & 3}`, `nw_ttl=${nwTtl}`);
  if (isMpls) {
    const lse = key[W_MPLS_LSE0]!;
    out.push(`mpls_label=${lse >>> 12}`, `mpls_tc=${(lse >>> 9) & 7}`, `mpls_ttl=${lse & 0xff}`, `mpls_bos=${(lse >>> 8) & 1}`);
    for (let i = 1; i < 3; i++) {
      if (key[W_MPLS_LSE0 + i - 1]! & 0x100) break;
      out.push(`mpls_lse${i}=${key[W_MPLS_LSE0 + i]!}`);
    }
  }
  if (isIp || isIp6) {
    const frag = nwFrag & FLOW_NW_FRAG_ANY ? (nwFrag & FLOW_NW_FRAG_LATER ? "later" : "first") : "no";
    out.push(`nw_frag=${frag}`);
    if (!(nwFrag & FLOW_NW_FRAG_LATER)) {
      if (nwProto === 1 && isIp) out.push(`icmp_type=${tpSrc}`, `icmp_code=${tpDst}`);
      else if (nwProto === 58 && isIp6) {
        out.push(`icmp_type=${tpSrc}`, `icmp_code=${tpDst}`);
        if (tpDst === 0 && (tpSrc === 135 || tpSrc === 136)) {
          out.push(`nd_target=${ipv6ToString(keyBytes(key, O_ND_TARGET, 16))}`);
          out.push(`nd_sll=${macToString(keyBytes(key, O_ARP_SHA, 6))}`, `nd_tll=${macToString(keyBytes(key, O_ARP_THA, 6))}`);
        }
      } else if (nwProto === 6 || nwProto === 17 || nwProto === 132 || nwProto === 2 || nwProto === 1 || nwProto === 58) {
        out.push(`tp_src=${tpSrc}`, `tp_dst=${tpDst}`);
      }
      if (nwProto === 6) out.push(`tcp_flags=${tcpFlagsText(key[W_TCP_FLAGS]!)}`);
    }
  }
  return out.join(",");
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
  let s = packetFlowText(key);
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
