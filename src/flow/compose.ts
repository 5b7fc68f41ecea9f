/**
 * Flow → packet: OVS's `flow_compose` and `packet_expand`, and the
 * flow-text front end that `netdev-dummy/receive PORT FLOW [--len N]` and
 * `ofproto/trace ... -generate` put before them.
 *
 * ## What gets built (byte-identical to OVS 3.1)
 * - Ethernet from dl_dst/dl_src/dl_type. dl_type 0x5ff (no Ethernet II
 *   type) is the bare 14-byte header with the frame length in the type
 *   field, nothing after it.
 * - VLAN tags from the two VLAN words that have the CFI ("present") bit,
 *   outer first, each written with its TPID and the TCI without CFI.
 * - IPv4: a 20-byte header (no options, id 0, DF clear), tos/ttl/proto
 *   from the flow; a fragment gets MF, a later fragment offset 100 (800
 *   bytes). IPv6: the fixed 40-byte header only: no extension headers,
 *   so nw_frag cannot be shown in an IPv6 packet (a later fragment just
 *   has no L4 header).
 * - L4 (not for later fragments), all unset header fields zero:
 *   TCP 20 bytes (flags from tcp_flags, data offset 5), payload only when
 *   none of SYN/FIN/RST is set; UDP 8 bytes + payload; SCTP 12 bytes,
 *   no payload and checksum left 0; ICMP 8 bytes, payload only for echo
 *   request/reply code 0; IGMP 8 bytes with the group; ICMPv6 8 bytes,
 *   then for Neighbor Solicitation/Advertisement (code 0) the flags word
 *   (nd_reserved), the target and SLL/TLL options for nonzero
 *   arp_sha/arp_tha (nd_options_type adds none), for echo request/reply
 *   the payload.
 * - ARP/RARP: Ethernet/IPv4 ARP with op = nw_proto; addresses only for
 *   op 1 and 2.
 * - MPLS: the label stack after the L2 headers (up to and including the
 *   first bottom-of-stack label, at most 3), nothing after it.
 * - Any other dl_type (NSH included, as in OVS): the Ethernet header only.
 * - Checksums: IPv4 header, TCP/UDP/ICMPv6 with the pseudo-header (of the
 *   L3 protocol actually built, so ICMPv6 in IPv4 sums an IPv4 one), ICMP
 *   and IGMP over their bytes. A computed 0 stays 0.
 * - The payload is `opts.l7` or `l7Len` bytes 0, 1, 2, ... (mod 256).
 *
 * `expandPacket` (OVS `packet_expand`, behind `--len`) pads with zeros and
 * rewrites the lengths and checksums; like OVS it counts the padding twice
 * in the UDP length field.
 *
 * ## From text
 * `packetFromFlowText` reads a datapath flow as OVS's odp_flow_from_string
 * + odp_flow_key_to_flow do for these commands: a key that leaves out an
 * attribute it implies (eth_type(0x0800) without ipv4(...), an 802.1Q type
 * without vlan/encap, an MPLS stack without bottom of stack) is taken with
 * the missing headers zero, where the stricter key reader of odp-key.ts
 * refuses it; VLAN tags past `vlanLimit` (OVS other_config:vlan-limit,
 * default 1) stay unparsed. With an `openflow` parser (src/openflow's
 * `ofpExactFlowParser`) it also takes OpenFlow flows, as ofproto/trace does.
 * `packetFromHex` is eth_from_hex, which both commands try first.
 *
 * Not per-packet code: it allocates freely.
 */
import { csumFinish, csumPartial, ipv4PseudoSum, ipv6PseudoSum } from "../packet/checksum.js";
import {
  ARP_OP_REPLY,
  ARP_OP_REQUEST,
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_NONE,
  ETH_TYPE_RARP,
  ICMP6_ECHO_REPLY,
  ICMP6_ECHO_REQUEST,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  TCP_FIN,
  TCP_RST,
  TCP_SYN,
  VLAN_CFI,
} from "../packet/constants.js";
import {
  FLOW_MAX_MPLS_LABELS,
  FLOW_MAX_VLAN_HEADERS,
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  M_DL_TYPE,
  M_IPV6_LABEL,
  M_NW_FRAG,
  M_NW_PROTO,
  M_NW_TOS,
  M_NW_TTL,
  M_TCP_FLAGS,
  M_TP_DST,
  M_TP_SRC,
  O_ARP_SHA,
  O_ARP_THA,
  O_ETH_DST,
  O_ETH_SRC,
  O_IPV6_DST,
  O_IPV6_SRC,
  O_ND_TARGET,
  REGION_TUN_START,
  S_DL_TYPE,
  S_NW_FRAG,
  S_NW_PROTO,
  S_NW_TOS,
  S_NW_TTL,
  S_TP_DST,
  S_TP_SRC,
  W_DL_TYPE,
  W_IGMP_GROUP,
  W_IPV6_LABEL,
  W_MPLS_LSE0,
  W_ND_RESERVED,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_TCP_FLAGS,
  W_TP_SRC,
  W_VLAN0,
} from "./key-layout.js";
import { keyByte } from "./key-ops.js";
import {
  KEY_ATTR_LENS,
  OVS_KEY_ATTR_ARP,
  OVS_KEY_ATTR_ENCAP,
  OVS_KEY_ATTR_ETHERTYPE,
  OVS_KEY_ATTR_ICMP,
  OVS_KEY_ATTR_ICMPV6,
  OVS_KEY_ATTR_IPV4,
  OVS_KEY_ATTR_IPV6,
  OVS_KEY_ATTR_MPLS,
  OVS_KEY_ATTR_SCTP,
  OVS_KEY_ATTR_TCP,
  OVS_KEY_ATTR_UDP,
  OVS_KEY_ATTR_VLAN,
} from "./odp-attrs.js";
import { formatOdpFlow } from "./odp-format.js";
import { odpKeyToFlow } from "./odp-key.js";
import { getU16, NLA_HDRLEN, nlaLen, nlaNext, nlaOk, nlaType, putU16 } from "./odp-netlink.js";
import { parseOdpFlow, type PortNumbers } from "./odp-parse.js";

/** ICMPv4 echo reply / request types (the ones that carry a payload). */
const ICMP4_ECHO_REPLY = 0;
const ICMP4_ECHO_REQUEST = 8;
/** MPLS bottom-of-stack bit in an LSE. */
const MPLS_BOS = 0x100;
/** IPv4 "more fragments" flag and the offset OVS gives a later fragment (in 8-byte units). */
const IP_MORE_FRAGMENTS = 0x2000;
const LATER_FRAGMENT_OFFSET = 100;
/** Payload length both OVS callers use when none is given. */
export const COMPOSE_DEFAULT_L7_LEN = 64;
/** Smallest `--len` netdev-dummy/receive accepts (OVS ETH_TOTAL_MIN). */
export const ETH_TOTAL_MIN = 60;

export interface ComposeOptions {
  /** The L7 payload (ofproto/trace `--l7`); wins over `l7Len`. */
  l7?: Uint8Array;
  /** Length of a generated payload 0, 1, 2, ... (`--l7-len`); default 64 as netdev-dummy/receive and ofproto/trace. */
  l7Len?: number;
}

/** A composed packet and where its layers start (-1: none), as OVS's dp_packet offsets. */
export interface ComposedPacket {
  bytes: Uint8Array;
  /** Start of the MPLS label stack. */
  l2_5: number;
  /** Start of the L3 header (ARP included). */
  l3: number;
  /** Start of the L4 header (IP only). */
  l4: number;
}

/** A growable byte buffer with big-endian writers; only as much as composing needs. */
class ByteBuilder {
  buf = new Uint8Array(256);
  len = 0;

  private room(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.len + n) size *= 2;
    const b = new Uint8Array(size);
    b.set(this.buf.subarray(0, this.len));
    this.buf = b;
  }

  /** Appends `n` zero bytes; returns their offset. */
  zeros(n: number): number {
    this.room(n);
    const at = this.len;
    this.buf.fill(0, at, at + n);
    this.len += n;
    return at;
  }

  /** Inserts `n` zero bytes at `at`, moving the rest up. */
  insert(at: number, n: number): void {
    this.room(n);
    this.buf.copyWithin(at + n, at, this.len);
    this.buf.fill(0, at, at + n);
    this.len += n;
  }

  put8(at: number, v: number): void {
    this.buf[at] = v & 0xff;
  }

  put16(at: number, v: number): void {
    this.buf[at] = (v >>> 8) & 0xff;
    this.buf[at + 1] = v & 0xff;
  }

  put32(at: number, v: number): void {
    this.put16(at, v >>> 16);
    this.put16(at + 2, v & 0xffff);
  }

  /** Copies `n` bytes of `flow` starting at key byte `keyOff` to `at`. */
  putKeyBytes(at: number, flow: Uint32Array, keyOff: number, n: number): void {
    for (let i = 0; i < n; i++) this.buf[at + i] = keyByte(flow, keyOff + i);
  }

  bytes(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}

/* ---------------- flow accessors ---------------- */

const dlTypeOf = (f: Uint32Array): number => (f[W_DL_TYPE]! >>> S_DL_TYPE) & M_DL_TYPE;
const nwProtoOf = (f: Uint32Array): number => (f[W_NW_PROTO]! >>> S_NW_PROTO) & M_NW_PROTO;
const nwFragOf = (f: Uint32Array): number => (f[W_NW_PROTO]! >>> S_NW_FRAG) & M_NW_FRAG;
const tpSrcOf = (f: Uint32Array): number => (f[W_TP_SRC]! >>> S_TP_SRC) & M_TP_SRC;
const tpDstOf = (f: Uint32Array): number => (f[W_TP_SRC]! >>> S_TP_DST) & M_TP_DST;

/** Whether the L4 header is in the packet: not a later fragment. */
function hasL4(flow: Uint32Array): boolean {
  return (nwFragOf(flow) & FLOW_NW_FRAG_LATER) === 0;
}

function keyBytesZero(flow: Uint32Array, keyOff: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (keyByte(flow, keyOff + i) !== 0) return false;
  return true;
}

/* ---------------- composing ---------------- */

/** Appends the payload: `l7` itself, or `l7Len` bytes counting up from 0. */
function putL7(b: ByteBuilder, l7: Uint8Array | null, l7Len: number): void {
  if (l7Len === 0) return;
  const at = b.zeros(l7Len);
  if (l7 !== null) b.buf.set(l7.subarray(0, l7Len), at);
  else for (let i = 0; i < l7Len; i++) b.buf[at + i] = i & 0xff;
}

/** Appends the L4 header (and payload where OVS puts one); returns its length. */
function composeL4(b: ByteBuilder, flow: Uint32Array, l7: Uint8Array | null, l7Len: number): number {
  const start = b.len;
  if (!hasL4(flow)) return 0;
  const proto = nwProtoOf(flow);
  const type = tpSrcOf(flow);
  const code = tpDstOf(flow);
  switch (proto) {
    case IPPROTO_TCP: {
      const at = b.zeros(20);
      const flags = flow[W_TCP_FLAGS]! & M_TCP_FLAGS;
      b.put16(at, type);
      b.put16(at + 2, code);
      b.put16(at + 12, (5 << 12) | flags);
      if ((flags & (TCP_SYN | TCP_FIN | TCP_RST)) === 0) putL7(b, l7, l7Len);
      break;
    }
    case IPPROTO_UDP: {
      const at = b.zeros(8);
      b.put16(at, type);
      b.put16(at + 2, code);
      b.put16(at + 4, 8 + l7Len);
      putL7(b, l7, l7Len);
      break;
    }
    case IPPROTO_SCTP: {
      const at = b.zeros(12);
      b.put16(at, type);
      b.put16(at + 2, code);
      break;
    }
    case IPPROTO_ICMP: {
      const at = b.zeros(8);
      // 8-bit type and code: wider values are truncated, as in OVS.
      const t8 = type & 0xff;
      b.put8(at, t8);
      b.put8(at + 1, code);
      if ((t8 === ICMP4_ECHO_REQUEST || t8 === ICMP4_ECHO_REPLY) && (code & 0xff) === 0) putL7(b, l7, l7Len);
      break;
    }
    case IPPROTO_IGMP: {
      const at = b.zeros(8);
      b.put8(at, type);
      b.put8(at + 1, code);
      b.put32(at + 4, flow[W_IGMP_GROUP]!);
      break;
    }
    case IPPROTO_ICMPV6: {
      const at = b.zeros(8);
      // The header holds 8-bit type and code: larger values are truncated, as in OVS.
      const t8 = type & 0xff;
      const c8 = code & 0xff;
      b.put8(at, t8);
      b.put8(at + 1, c8);
      if (c8 === 0 && (t8 === ND_NEIGHBOR_SOLICIT || t8 === ND_NEIGHBOR_ADVERT)) {
        // The R/S/O flags word (nd_reserved), then the target.
        b.put32(at + 4, flow[W_ND_RESERVED]!);
        b.putKeyBytes(b.zeros(16), flow, O_ND_TARGET, 16);
        if (!keyBytesZero(flow, O_ARP_SHA, 6)) {
          const o = b.zeros(8);
          b.put8(o, ND_OPT_SOURCE_LINKADDR);
          b.put8(o + 1, 1);
          b.putKeyBytes(o + 2, flow, O_ARP_SHA, 6);
        }
        if (!keyBytesZero(flow, O_ARP_THA, 6)) {
          const o = b.zeros(8);
          b.put8(o, ND_OPT_TARGET_LINKADDR);
          b.put8(o + 1, 1);
          b.putKeyBytes(o + 2, flow, O_ARP_THA, 6);
        }
      } else if (c8 === 0 && (t8 === ICMP6_ECHO_REQUEST || t8 === ICMP6_ECHO_REPLY)) {
        putL7(b, l7, l7Len);
      }
      break;
    }
    default:
      break;
  }
  return b.len - start;
}

/**
 * Writes the L4 checksum for the bytes from `l4` to the end, given the
 * partial sum of the pseudo-header. SCTP (CRC32c) is left zero, as OVS does.
 */
function l4Checksum(b: ByteBuilder, flow: Uint32Array, l4: number, pseudo: number): void {
  if (!hasL4(flow)) return;
  const len = b.len - l4;
  let at: number;
  let sum: number;
  switch (nwProtoOf(flow)) {
    case IPPROTO_TCP:
      at = l4 + 16;
      sum = pseudo;
      break;
    case IPPROTO_UDP:
      at = l4 + 6;
      sum = pseudo;
      break;
    case IPPROTO_ICMPV6:
      at = l4 + 2;
      sum = pseudo;
      break;
    case IPPROTO_ICMP:
    case IPPROTO_IGMP:
      at = l4 + 2;
      sum = 0;
      break;
    default:
      return;
  }
  // Every L4 header above has at least 8 bytes, so the checksum field exists.
  b.put16(at, 0);
  b.put16(at, csumFinish(csumPartial(b.buf, l4, len, sum)));
}

/** IPv4 header checksum (over the 20-byte header at `l3`). */
function ipv4HeaderChecksum(b: ByteBuilder, l3: number): void {
  b.put16(l3 + 10, 0);
  b.put16(l3 + 10, csumFinish(csumPartial(b.buf, l3, 20)));
}

/** Pseudo-header partial sum for the IP header at `l3` and `l4Len` bytes of L4. */
function pseudoSum(b: ByteBuilder, ipv6: boolean, l3: number, l4Len: number): number {
  const buf = b.buf;
  if (ipv6) return ipv6PseudoSum(buf, l3 + 8, l3 + 24, buf[l3 + 6]!, l4Len);
  const rd32 = (o: number): number => ((buf[o]! << 24) | (buf[o + 1]! << 16) | (buf[o + 2]! << 8) | buf[o + 3]!) >>> 0;
  return ipv4PseudoSum(rd32(l3 + 12), rd32(l3 + 16), buf[l3 + 9]!, l4Len);
}

/** The number of MPLS labels OVS puts in a composed packet: through the first BoS, at most 3. */
function mplsLabelCount(flow: Uint32Array): number {
  let n = 1;
  while (n < FLOW_MAX_MPLS_LABELS && (flow[W_MPLS_LSE0 + n - 1]! & MPLS_BOS) === 0) n++;
  return n;
}

/**
 * OVS flow_compose with the layer offsets: a packet that extraction turns
 * back into `flow` as far as packet bytes can carry it.
 */
export function composePacketLayers(flow: Uint32Array, opts: ComposeOptions = {}): ComposedPacket {
  const l7 = opts.l7 ?? null;
  const l7Len = l7 !== null ? l7.length : Math.max(0, Math.trunc(opts.l7Len ?? COMPOSE_DEFAULT_L7_LEN));
  const b = new ByteBuilder();
  const dlType = dlTypeOf(flow);
  const out: ComposedPacket = { bytes: new Uint8Array(0), l2_5: -1, l3: -1, l4: -1 };

  const eth = b.zeros(14);
  b.putKeyBytes(eth, flow, O_ETH_DST, 6);
  b.putKeyBytes(eth + 6, flow, O_ETH_SRC, 6);
  b.put16(eth + 12, dlType);
  if (dlType === ETH_TYPE_NONE) {
    // An 802.3 frame: the "type" is its length.
    b.put16(eth + 12, b.len);
    out.bytes = b.bytes();
    return out;
  }

  // Inner tag first: each push goes right after the MAC addresses.
  for (let i = FLOW_MAX_VLAN_HEADERS - 1; i >= 0; i--) {
    const w = flow[W_VLAN0 + i]!;
    if ((w & VLAN_CFI) === 0) continue;
    b.insert(12, 4);
    b.put16(12, w >>> 16);
    b.put16(14, w & 0xffff & ~VLAN_CFI);
  }
  out.l3 = b.len;

  if (dlType === ETH_TYPE_IP) {
    const l3 = b.zeros(20);
    const word = flow[W_NW_PROTO]!;
    b.put8(l3, 0x45);
    b.put8(l3 + 1, (word >>> S_NW_TOS) & M_NW_TOS);
    let fragOff = 0;
    if ((nwFragOf(flow) & FLOW_NW_FRAG_ANY) !== 0) {
      fragOff |= IP_MORE_FRAGMENTS;
      if ((nwFragOf(flow) & FLOW_NW_FRAG_LATER) !== 0) fragOff |= LATER_FRAGMENT_OFFSET;
    }
    b.put16(l3 + 6, fragOff);
    b.put8(l3 + 8, (word >>> S_NW_TTL) & M_NW_TTL);
    b.put8(l3 + 9, nwProtoOf(flow));
    b.put32(l3 + 12, flow[W_NW_SRC]!);
    b.put32(l3 + 16, flow[W_NW_DST]!);
    const l4 = b.len;
    out.l4 = l4;
    const l4Len = composeL4(b, flow, l7, l7Len);
    b.put16(l3 + 2, 20 + l4Len);
    ipv4HeaderChecksum(b, l3);
    l4Checksum(b, flow, l4, pseudoSum(b, false, l3, l4Len));
  } else if (dlType === ETH_TYPE_IPV6) {
    const l3 = b.zeros(40);
    const word = flow[W_NW_PROTO]!;
    const tclass = (word >>> S_NW_TOS) & M_NW_TOS;
    b.put32(l3, ((6 << 28) | (tclass << 20) | (flow[W_IPV6_LABEL]! & M_IPV6_LABEL)) >>> 0);
    b.put8(l3 + 6, nwProtoOf(flow));
    b.put8(l3 + 7, (word >>> S_NW_TTL) & M_NW_TTL);
    b.putKeyBytes(l3 + 8, flow, O_IPV6_SRC, 16);
    b.putKeyBytes(l3 + 24, flow, O_IPV6_DST, 16);
    const l4 = b.len;
    out.l4 = l4;
    const l4Len = composeL4(b, flow, l7, l7Len);
    b.put16(l3 + 4, l4Len);
    l4Checksum(b, flow, l4, pseudoSum(b, true, l3, l4Len));
  } else if (dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) {
    const arp = b.zeros(28);
    const op = nwProtoOf(flow);
    b.put16(arp, 1);
    b.put16(arp + 2, ETH_TYPE_IP);
    b.put8(arp + 4, 6);
    b.put8(arp + 5, 4);
    b.put16(arp + 6, op);
    if (op === ARP_OP_REQUEST || op === ARP_OP_REPLY) {
      b.putKeyBytes(arp + 8, flow, O_ARP_SHA, 6);
      b.put32(arp + 14, flow[W_NW_SRC]!);
      b.putKeyBytes(arp + 18, flow, O_ARP_THA, 6);
      b.put32(arp + 24, flow[W_NW_DST]!);
    }
  } else if (dlType === ETH_TYPE_MPLS || dlType === ETH_TYPE_MPLS_MCAST) {
    // The stack sits between the L2 headers and L3 (empty here).
    const at = out.l3;
    const n = mplsLabelCount(flow);
    b.insert(at, 4 * n);
    for (let i = 0; i < n; i++) b.put32(at + 4 * i, flow[W_MPLS_LSE0 + i]!);
    out.l2_5 = at;
    out.l3 = at + 4 * n;
  }
  out.bytes = b.bytes();
  return out;
}

/** OVS flow_compose: the packet bytes for `flow` (see the module comment). */
export function composePacket(flow: Uint32Array, opts: ComposeOptions = {}): Uint8Array {
  return composePacketLayers(flow, opts).bytes;
}

/**
 * OVS packet_expand: `pkt` (composed from `flow`) padded with zeros to
 * `size` bytes, lengths and checksums rewritten. `size` must exceed the
 * packet's length (else the packet is returned unchanged).
 */
export function expandPacket(pkt: ComposedPacket, flow: Uint32Array, size: number): ComposedPacket {
  const cur = pkt.bytes.length;
  if (!(size > cur)) return pkt;
  const extra = size - cur;
  const b = new ByteBuilder();
  b.zeros(size);
  b.buf.set(pkt.bytes, 0);
  const out: ComposedPacket = { ...pkt };
  const dlType = dlTypeOf(flow);
  if (dlType === ETH_TYPE_NONE) {
    // The frame is only the Ethernet header (no VLANs for an 802.3 frame in OVS's compose).
    b.put16(12, size);
  } else if ((dlType === ETH_TYPE_IP || dlType === ETH_TYPE_IPV6) && pkt.l3 >= 0 && pkt.l4 >= 0) {
    const l3 = pkt.l3;
    const l4 = pkt.l4;
    const l4Len = size - l4;
    const ipv6 = dlType === ETH_TYPE_IPV6;
    if (ipv6) {
      b.put16(l3 + 4, l4Len);
    } else {
      b.put16(l3 + 2, l4 - l3 + l4Len);
      ipv4HeaderChecksum(b, l3);
    }
    if (hasL4(flow) && nwProtoOf(flow) === IPPROTO_UDP) {
      // OVS adds the padding to a length that already includes it.
      b.put16(l4 + 4, (l4Len + extra) & 0xffff);
    }
    l4Checksum(b, flow, l4, pseudoSum(b, ipv6, l3, l4Len));
  }
  out.bytes = b.bytes();
  return out;
}

/**
 * The packet netdev-dummy/receive builds for a flow with `--len size`:
 * composed without payload, then expanded to `size`. Null when the headers
 * alone are longer than `size` (OVS then refuses the flow).
 */
export function composePacketOfLength(flow: Uint32Array, size: number): Uint8Array | null {
  const p = composePacketLayers(flow, { l7Len: 0 });
  if (p.bytes.length > size) return null;
  if (p.bytes.length === size) return p.bytes;
  return expandPacket(p, flow, size).bytes;
}

/* ---------------- flow text → packet ---------------- */

/** Parses OpenFlow flow text (OVS parse_ofp_exact_flow) into an exact flow, or says why not. */
export type OpenFlowFlowParser = (text: string) => { flow: Uint32Array } | { error: string };

export interface FlowTextOptions {
  /** Total packet size (netdev-dummy/receive `--len`); composes without payload and pads. */
  len?: number;
  /** Payload (ofproto/trace `--l7`). */
  l7?: Uint8Array;
  /** Generated payload length (ofproto/trace `--l7-len`); default 64. */
  l7Len?: number;
  /**
   * How many VLAN headers a datapath flow's key is read through (OVS
   * other_config:vlan-limit; default 1 as there, 0 = no limit): tags
   * beyond it are left unparsed, so the packet ends with the next TPID.
   */
  vlanLimit?: number;
  /**
   * Parser for OpenFlow flow syntax, tried when the text is not a datapath
   * flow (ofproto/trace with a bridge name). Without one only datapath
   * flows are accepted, as netdev-dummy/receive does. src/openflow has one
   * (`ofpExactFlowParser`); src/flow cannot import it.
   */
  openflow?: OpenFlowFlowParser;
}

/**
 * OVS eth_from_hex: a packet given as hex digit pairs (blanks allowed
 * between bytes), at least an Ethernet header long. netdev-dummy/receive
 * and ofproto/trace try this before reading the text as a flow.
 */
export function packetFromHex(text: string): { packet: Uint8Array } | { error: string } {
  const out: number[] = [];
  let i = 0;
  const isBlank = (c: string | undefined): boolean => c === " " || c === "\t" || c === "\r" || c === "\n";
  const hexit = (c: string | undefined): number => (c !== undefined && /^[0-9a-fA-F]$/.test(c) ? parseInt(c, 16) : -1);
  for (;;) {
    while (isBlank(text[i])) i++;
    const hi = hexit(text[i]);
    const lo = hexit(text[i + 1]);
    if (hi < 0 || lo < 0) break;
    out.push((hi << 4) | lo);
    i += 2;
  }
  if (i < text.length) return { error: "Trailing garbage in packet data" };
  if (out.length < 14) return { error: "Packet data too short for Ethernet" };
  return { packet: Uint8Array.from(out) };
}

/**
 * The number netdev-dummy/receive reads from the word after `--len`, as C's
 * strtol(s, NULL, 10): leading blanks, a sign, the leading digits; 0 when
 * there are none ("abc" is 0, so "too small packet len").
 */
export function parseLenArg(s: string): number {
  const m = /^\s*([+-]?\d+)/.exec(s);
  if (m === null) return 0;
  const v = Number(m[1]);
  return Number.isSafeInteger(v) ? v : v < 0 ? Number.MIN_SAFE_INTEGER : Number.MAX_SAFE_INTEGER;
}

export type FlowTextResult =
  | {
      packet: Uint8Array;
      flow: Uint32Array;
      /** Which syntax the text was: in_port is an odp port for "odp", an OpenFlow port for "openflow". */
      kind: "odp" | "openflow";
    }
  | { error: string };

/** Key attributes a flow may leave out (OVS: "fits too little"), by the name odp-key.ts gives them. */
const OPTIONAL_ATTRS: Readonly<Record<string, readonly [number, number]>> = {
  ipv4: [OVS_KEY_ATTR_IPV4, KEY_ATTR_LENS[OVS_KEY_ATTR_IPV4]!],
  ipv6: [OVS_KEY_ATTR_IPV6, KEY_ATTR_LENS[OVS_KEY_ATTR_IPV6]!],
  arp: [OVS_KEY_ATTR_ARP, KEY_ATTR_LENS[OVS_KEY_ATTR_ARP]!],
  // Three zero labels: OVS's flow for a missing stack (no bottom of stack among them).
  mpls: [OVS_KEY_ATTR_MPLS, 12],
  tcp: [OVS_KEY_ATTR_TCP, KEY_ATTR_LENS[OVS_KEY_ATTR_TCP]!],
  udp: [OVS_KEY_ATTR_UDP, KEY_ATTR_LENS[OVS_KEY_ATTR_UDP]!],
  sctp: [OVS_KEY_ATTR_SCTP, KEY_ATTR_LENS[OVS_KEY_ATTR_SCTP]!],
  icmp: [OVS_KEY_ATTR_ICMP, KEY_ATTR_LENS[OVS_KEY_ATTR_ICMP]!],
  icmpv6: [OVS_KEY_ATTR_ICMPV6, KEY_ATTR_LENS[OVS_KEY_ATTR_ICMPV6]!],
};

/** The innermost encap level of a key: its byte range and the encap attributes around it. */
function innermostLevel(key: Uint8Array): { start: number; end: number; parents: number[] } {
  const parents: number[] = [];
  let start = 0;
  let end = key.length;
  for (;;) {
    let a = start;
    let encap = -1;
    while (nlaOk(key, a, end)) {
      if (nlaType(key, a) === OVS_KEY_ATTR_ENCAP) encap = a;
      a = nlaNext(key, a);
    }
    if (encap < 0) return { start, end, parents };
    parents.push(encap);
    start = encap + NLA_HDRLEN;
    end = encap + nlaLen(key, encap);
  }
}

/** `key` with `add` zero bytes inserted at `at`, the encap lengths in `parents` grown to match. */
function insertZeros(key: Uint8Array, at: number, add: number, parents: readonly number[]): Uint8Array {
  const out = new Uint8Array(key.length + add);
  out.set(key.subarray(0, at), 0);
  out.set(key.subarray(at), at + add);
  for (const p of parents) putU16(out, p, getU16(out, p) + add);
  return out;
}

/**
 * `key` with an all-zero attribute of `type` appended at the innermost
 * encap level (where the L3/L4 attributes of a VLAN packet live).
 */
function withZeroAttr(key: Uint8Array, type: number, len: number): Uint8Array {
  const { end, parents } = innermostLevel(key);
  const out = insertZeros(key, end, (NLA_HDRLEN + len + 3) & ~3, parents);
  putU16(out, end, NLA_HDRLEN + len);
  putU16(out, end + 2, type);
  return out;
}

/**
 * `key` with its innermost MPLS stack filled up to three labels with zero
 * LSEs: OVS's flow for a stack whose last label lacks bottom-of-stack.
 */
function withFullMplsStack(key: Uint8Array): Uint8Array | null {
  const { start, end, parents } = innermostLevel(key);
  for (let a = start; nlaOk(key, a, end); a = nlaNext(key, a)) {
    if (nlaType(key, a) !== OVS_KEY_ATTR_MPLS) continue;
    const len = nlaLen(key, a) - NLA_HDRLEN;
    if (len <= 0 || len >= 12 || len % 4 !== 0) return null;
    const out = insertZeros(key, a + NLA_HDRLEN + len, 12 - len, [...parents]);
    putU16(out, a, NLA_HDRLEN + 12);
    return out;
  }
  return null;
}

/** An ethertype after which odp-key.ts reads nothing: stands in for headers OVS leaves unparsed. */
const PLACEHOLDER_ETHERTYPE = 0x88cc;

/**
 * A key whose innermost level is an 802.1Q ethertype without its
 * `vlan(...)` or without `encap(...)`: OVS keeps the TPID and the tag
 * (0 when absent) and leaves dl_type 0, nothing parsed after it. Returns
 * that flow, or null when the key is not of this shape or still fails.
 */
function flowOfOpenVlan(key: Uint8Array): Uint32Array | null {
  const { start, end, parents } = innermostLevel(key);
  let ethertype = -1;
  let vlan = -1;
  for (let a = start; nlaOk(key, a, end); a = nlaNext(key, a)) {
    const t = nlaType(key, a);
    if (t === OVS_KEY_ATTR_ETHERTYPE) ethertype = a;
    else if (t === OVS_KEY_ATTR_VLAN) vlan = a;
  }
  if (ethertype < 0 || parents.length >= FLOW_MAX_VLAN_HEADERS) return null;
  const p = ethertype + NLA_HDRLEN;
  const tpid = (key[p]! << 8) | key[p + 1]!;
  const tci = vlan >= 0 ? (key[vlan + NLA_HDRLEN]! << 8) | key[vlan + NLA_HDRLEN + 1]! : 0;
  let k = key.slice();
  k[p] = PLACEHOLDER_ETHERTYPE >>> 8;
  k[p + 1] = PLACEHOLDER_ETHERTYPE & 0xff;
  if (vlan >= 0) {
    const len = nlaNext(k, vlan) - vlan;
    const out = new Uint8Array(k.length - len);
    out.set(k.subarray(0, vlan), 0);
    out.set(k.subarray(vlan + len), vlan);
    for (const q of parents) putU16(out, q, getU16(out, q) - len);
    k = out;
  }
  let flow: Uint32Array;
  try {
    flow = odpKeyToFlow(k);
  } catch {
    return null;
  }
  // The TPID stays even without a tag, so a vlan-limit cut (limitVlans) still sees the header.
  flow[W_VLAN0 + parents.length] = ((tpid << 16) | tci) >>> 0;
  flow[W_DL_TYPE] = 0;
  return flow;
}

/**
 * A key whose innermost `encap()` is empty: OVS reads no ethertype there,
 * so dl_type is 0x5ff (an 802.3 frame). Null when that still fails.
 */
function flowOfEmptyEncap(key: Uint8Array): Uint32Array | null {
  const { start, end, parents } = innermostLevel(key);
  if (start !== end || parents.length === 0) return null;
  const k = insertZeros(key, end, NLA_HDRLEN + 4, parents);
  putU16(k, end, NLA_HDRLEN + 2);
  putU16(k, end + 2, OVS_KEY_ATTR_ETHERTYPE);
  k[end + NLA_HDRLEN] = PLACEHOLDER_ETHERTYPE >>> 8;
  k[end + NLA_HDRLEN + 1] = PLACEHOLDER_ETHERTYPE & 0xff;
  try {
    const flow = odpKeyToFlow(k);
    flow[W_DL_TYPE] = (ETH_TYPE_NONE << S_DL_TYPE) >>> 0;
    return flow;
  } catch {
    return null;
  }
}

const ODP_DELIMS = ", \t\r\n";

/**
 * Where the top-level key attribute holding text offset `at` starts: OVS
 * reports a datapath flow's syntax error from there, not from the bad
 * character (`ipv4(src=1.2.3.4,frag=foo)` → "syntax error at ipv4(...").
 */
function topLevelAttrStart(text: string, at: number): number {
  let i = 0;
  let start = 0;
  while (i < text.length) {
    while (i < text.length && ODP_DELIMS.includes(text[i]!)) i++;
    if (i > at || i >= text.length) break;
    start = i;
    let depth = 0;
    while (i < text.length) {
      const c = text[i]!;
      i++;
      if (c === "(") depth++;
      else if (c === ")" && --depth <= 0) break;
      else if (depth === 0 && ODP_DELIMS.includes(c)) break;
    }
  }
  return Math.min(start, text.length);
}

/**
 * OVS's odp_flow_from_string + odp_flow_key_to_flow for one flow: the flow,
 * or the error text OVS replies with ("syntax error at REST" for text it
 * cannot read; for a key it refuses, why, and the key). A key that leaves
 * out its L3 or L4 attribute is accepted with those fields zero, as OVS
 * accepts a key that "fits too little".
 */
export function parseOdpFlowText(text: string, portNumbers: PortNumbers | null = null): { flow: Uint32Array } | { error: string } {
  let key: Uint8Array;
  try {
    key = parseOdpFlow(text, portNumbers).key;
  } catch (e) {
    const err = e as { code?: string; input?: string; at?: number; message?: string };
    if (err.code === "ODP_PARSE" && typeof err.input === "string" && typeof err.at === "number") {
      return { error: `syntax error at ${err.input.slice(topLevelAttrStart(err.input, err.at))}` };
    }
    return { error: err.message ?? String(e) };
  }
  const original = key;
  for (let tries = 0; ; tries++) {
    try {
      return { flow: odpKeyToFlow(key) };
    } catch (e) {
      const msg = e instanceof Error ? e.message : String(e);
      const missing = /^expected (\w+) attribute/.exec(msg);
      const attr = missing !== null ? OPTIONAL_ATTRS[missing[1]!] : undefined;
      if (attr !== undefined && tries < 4) {
        key = withZeroAttr(key, attr[0], attr[1]);
        continue;
      }
      if (msg.startsWith("missing vlan attribute") || msg.startsWith("missing encap attribute")) {
        const open = flowOfOpenVlan(key);
        if (open !== null) return { flow: open };
      }
      if (msg.startsWith("empty encap attribute")) {
        const empty = flowOfEmptyEncap(key);
        if (empty !== null) return { flow: empty };
      }
      const full = msg.startsWith("MPLS BOS not set") && tries < 4 ? withFullMplsStack(key) : null;
      if (full !== null) {
        key = full;
        continue;
      }
      return { error: `${msg}; the flow key in error is: ${formatOdpFlow(original, null)}` };
    }
  }
}

/** Words after the VLAN tags that hold what the inner headers set (MPLS, L3, L4, NSH). */
const AFTER_VLANS_START = W_MPLS_LSE0;
const AFTER_VLANS_END = REGION_TUN_START;

/**
 * OVS's vlan-limit applied to a datapath key's flow: with a limit of 1,
 * a second tag stays unparsed: its TPID becomes dl_type and nothing of
 * what follows it is in the flow.
 */
export function limitVlans(flow: Uint32Array, vlanLimit: number): void {
  const limit = vlanLimit <= 0 ? FLOW_MAX_VLAN_HEADERS : Math.min(vlanLimit, FLOW_MAX_VLAN_HEADERS);
  for (let i = limit; i < FLOW_MAX_VLAN_HEADERS; i++) {
    const w = flow[W_VLAN0 + i]!;
    if ((w >>> 16) === 0 && (w & 0xffff) === 0) continue;
    flow[W_DL_TYPE] = ((w >>> 16) << S_DL_TYPE) >>> 0;
    for (let j = i; j < FLOW_MAX_VLAN_HEADERS; j++) flow[W_VLAN0 + j] = 0;
    flow.fill(0, AFTER_VLANS_START, AFTER_VLANS_END);
    return;
  }
}

/**
 * A flow in text → the packet OVS would generate for it: a datapath flow
 * (`in_port(1),eth(...),eth_type(0x0800),ipv4(...),udp(...)`, port names
 * from `portNumbers`), or, when `opts.openflow` is given and the text is
 * not a datapath flow, an OpenFlow flow (`in_port=1,udp,nw_dst=...`; its
 * errors are then reported as ofproto/trace does, "Bad openflow flow
 * syntax: ..."). With `opts.len` the packet is exactly that long
 * (at least 60), else it carries the 64-byte (or `l7`/`l7Len`) payload.
 */
export function packetFromFlowText(text: string, portNumbers?: PortNumbers | null, opts: FlowTextOptions = {}): FlowTextResult {
  if (opts.len !== undefined && !(opts.len >= ETH_TOTAL_MIN)) return { error: "too small packet len" };
  let flow: Uint32Array;
  let kind: "odp" | "openflow" = "odp";
  const odp = parseOdpFlowText(text, portNumbers ?? null);
  if ("flow" in odp) {
    flow = odp.flow;
    limitVlans(flow, opts.vlanLimit ?? 1);
  } else if (opts.openflow !== undefined) {
    const of = opts.openflow(text);
    if ("error" in of) return { error: `Bad openflow flow syntax: ${of.error}` };
    flow = of.flow;
    kind = "openflow";
  } else {
    return odp;
  }
  let packet: Uint8Array | null;
  if (opts.len !== undefined) {
    packet = composePacketOfLength(flow, Math.trunc(opts.len));
    if (packet === null) {
      const need = composePacketLayers(flow, { l7Len: 0 }).bytes.length;
      return { error: `packet len ${Math.trunc(opts.len)} is smaller than the ${need}-byte headers of the flow` };
    }
  } else {
    const co: ComposeOptions = {};
    if (opts.l7 !== undefined) co.l7 = opts.l7;
    if (opts.l7Len !== undefined) co.l7Len = opts.l7Len;
    packet = composePacket(flow, co);
  }
  return { packet, flow, kind };
}

/** What `netdev-dummy/receive NAME ARGS...` asks for, after the port name. */
export interface DummyReceiveRequest {
  /** The rx queue (`--qid N`, default 0). */
  qid: number;
  /** The frames to queue, in order: those before an error are queued too, as OVS does. */
  frames: Uint8Array[];
  /** The reply error, or null. */
  error: string | null;
}

/**
 * OVS's netdev-dummy/receive argument loop (everything after the port
 * name): an optional leading `--qid N` (checked against `nRxq`), then each
 * argument a hex packet or else a datapath flow, a flow optionally
 * followed by `--len N`. Port names are not resolved in flows (OVS passes
 * none); `vlanLimit` is the switch's other_config:vlan-limit.
 */
export function parseDummyReceiveArgs(args: readonly string[], nRxq = 1, vlanLimit = 1): DummyReceiveRequest {
  const req: DummyReceiveRequest = { qid: 0, frames: [], error: null };
  let i = 0;
  if (args.length > 1 && args[0] === "--qid") {
    const q = parseLenArg(args[1]!);
    if (q < 0 || q >= nRxq) {
      req.error = "bad rx queue id.";
      return req;
    }
    req.qid = q;
    i = 2;
  }
  for (; i < args.length; i++) {
    const hex = packetFromHex(args[i]!);
    if ("packet" in hex) {
      req.frames.push(hex.packet);
      continue;
    }
    const flowText = args[i]!;
    const opts: FlowTextOptions = { vlanLimit };
    if (args[i + 1] === "--len") {
      // OVS reads past the end here (and crashes); a missing size is too small.
      const len = args[i + 2] === undefined ? 0 : parseLenArg(args[i + 2]!);
      if (len < ETH_TOTAL_MIN) {
        req.error = "too small packet len";
        return req;
      }
      opts.len = len;
      i += 2;
    }
    const r = packetFromFlowText(flowText, null, opts);
    if ("error" in r) {
      req.error = r.error;
      return req;
    }
    req.frames.push(r.packet);
  }
  return req;
}
