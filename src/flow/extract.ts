/**
 * Flow key extraction: a packet's bytes and metadata → a flow key (the
 * layout of key-layout.ts). This is OVS's `miniflow_extract`/`flow_extract`
 * and behaves the same way on odd input, because megaflows installed from
 * one packet must match the next packet the same way OVS would:
 *
 * - fewer than 14 bytes: only metadata is set (no MACs, no dl_type);
 * - up to two VLAN tags (0x8100 / 0x88a8), each needing 4 + 2 bytes left;
 *   the tci is stored with the CFI bit set to mean "present";
 * - ethertypes < 0x600 are 802.2: an LLC/SNAP header with OUI 0 gives the
 *   SNAP type, anything else is dl_type 0x5ff;
 * - MPLS: up to 3 LSEs are recorded, nothing after the stack is parsed;
 * - IPv4 is parsed only when its header length and total length are sane
 *   (else dl_type alone); trailing bytes past tot_len are Ethernet padding;
 * - later fragments (IPv4 or IPv6) have no L4 fields;
 * - IPv6 extension headers (hop-by-hop, routing, destination, AH, fragment)
 *   are walked to find the upper protocol; a truncated chain stops after the
 *   addresses;
 * - L4 fields need their full fixed header (TCP: its data-offset length);
 *   the L4 protocol is chosen by nw_proto alone, so ICMP inside IPv6 and
 *   ICMPv6 (even ND) inside IPv4 are parsed, and IGMP in either;
 * - ICMPv6 Neighbor Solicitation/Advertisement: target, SLL/TLL options,
 *   reserved flags and first option type; a duplicate option clears them;
 * - ARP/RARP for Ethernet/IPv4 only; opcodes above 255 leave arp_op 0;
 * - NSH: base and service path headers, MD type 1 context words.
 *
 * Checked against `ovs-ofctl parse-pcap` on a corpus and on random mutants
 * (test/flow/extract-ovs.test.ts).
 *
 * It never throws and never allocates.
 */
import type { DpPacket } from "../packet/dp-packet.js";
import {
  ETH_TYPE_ARP,
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_MIN,
  ETH_TYPE_MPLS,
  ETH_TYPE_MPLS_MCAST,
  ETH_TYPE_NONE,
  ETH_TYPE_NSH,
  ETH_TYPE_RARP,
  ETH_TYPE_VLAN_8021AD,
  ETH_TYPE_VLAN_8021Q,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  ND_OPT_SOURCE_LINKADDR,
  ND_OPT_TARGET_LINKADDR,
  VLAN_CFI,
} from "../packet/constants.js";
import {
  FLOW_U32S,
  REGION_CTX_START,
  REGION_GENEVE_START,
  REGION_OF_START,
  FLOW_NW_FRAG_ANY,
  FLOW_NW_FRAG_LATER,
  REGION_TUN_START,
  S_CT_NW_PROTO,
  S_CT_TP_SRC,
  S_CT_ZONE,
  S_DL_TYPE,
  S_NW_PROTO,
  S_NW_TOS,
  S_NW_TTL,
  S_TP_SRC,
  M_TUN_GENEVE_LEN,
  W_ARP_SHA,
  W_CT_IPV6_DST,
  W_CT_IPV6_SRC,
  W_CT_LABEL,
  W_CT_MARK,
  W_CT_NW_DST,
  W_CT_NW_SRC,
  W_CT_STATE,
  W_CT_TP_SRC,
  W_DL_TYPE,
  W_DP_HASH,
  W_ETH_DST,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_DST,
  W_IPV6_LABEL,
  W_IPV6_SRC,
  W_MPLS_LSE0,
  W_ND_OPTIONS_TYPE,
  W_ND_RESERVED,
  W_ND_TARGET,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_PACKET_TYPE,
  W_PKT_MARK,
  W_RECIRC_ID,
  W_SKB_PRIORITY,
  W_TCP_FLAGS,
  W_TP_SRC,
  W_TUN_GENEVE,
  W_TUN_GENEVE_LEN,
  W_VLAN0,
  W_NSH_FLAGS,
  W_NSH_SPI,
  W_NSH_C1,
} from "./key-layout.js";

const MAX_VLANS = 2;
const MAX_MPLS = 3;

function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** Counters of packets whose headers were cut short or inconsistent (not errors: OVS counts nothing here either). */
export const extractStats = { truncatedL2: 0, badL3: 0 };

/**
 * Cold regions of a key (bits for `extractFlowKeyTracked`): words above the
 * hot region that extraction writes only for tunnelled or tracked packets,
 * and the OpenFlow-only words it never writes.
 */
export const KEY_COLD_TUN = 1;
export const KEY_COLD_CTX = 2;
export const KEY_COLD_GENEVE = 4;
export const KEY_COLD_OF = 8;
export const KEY_COLD_ALL = 15;
/**
 * Not a cold region: set in extractFlowKeyTracked's result when the only
 * hot words the key may hold beside metadata 0-7 (always rewritten) are an
 * IPv4 packet's MACs, dl_type, addresses, nw_proto word and L4 ports/flags
 * (words 11-14, 20-22, 32-33), so the next extraction clears just those.
 */
export const KEY_HOT_IP4 = 16;
/** Words 0..KEY_HOT_END-1 (metadata, L2-L4, NSH) are cleared on every extraction. */
const KEY_HOT_END = REGION_TUN_START;

/**
 * Fills `key` (FLOW_U32S words, all overwritten) from `pkt` and sets the
 * packet's cached l2_5/l3/l4 offsets and l2 padding.
 */
export function extractFlowKey(pkt: DpPacket, key: Uint32Array): void {
  key.fill(0);
  extractInto(pkt, key);
}

// HOT PATH: bench/datapath "EMC hits ≥5 Mpps" (via dpif-netdev).
/**
 * `extractFlowKey` for a caller that tracks which cold regions of `key`
 * may be nonzero: `dirty` (KEY_COLD_* bits) names the regions to clear,
 * the hot words are always cleared, and the result names the cold regions
 * this extraction wrote (pass it back as `dirty` next time). Every word
 * not set from the packet ends up zero, as with extractFlowKey.
 * Clearing 50 words plus the dirty regions instead of all 162 measured
 * within the noise of the shared machine in bench/extract (udp: 73-87 ns
 * untracked vs 77-79 tracked, same process); a JS loop over the 50 words
 * was slower than fill() (108 ns). It lets the datapath skip the
 * tunnel/conntrack word checks on the key (dirty bits say it).
 */
export function extractFlowKeyTracked(pkt: DpPacket, key: Uint32Array, dirty: number): number {
  // The previous key held only the KEY_HOT_IP4 words and this packet is
  // plain IPv4: the fast path rewrites every one of them, no clearing.
  if (dirty === KEY_HOT_IP4 && extractIp4Fast(pkt, key)) return KEY_HOT_IP4;
  if ((dirty & KEY_HOT_IP4) !== 0) {
    // The previous packet was plain IPv4 TCP/UDP/SCTP/ICMP: 9 stores instead
    // of fill() over 50 words (bench/datapath EMC A/B with no clearing at
    // all, the upper bound of this: best slice 3.8 -> 4.3 Mpps).
    key[11] = 0;
    key[12] = 0;
    key[13] = 0;
    key[14] = 0;
    key[20] = 0;
    key[21] = 0;
    key[22] = 0;
    key[32] = 0;
    key[33] = 0;
  } else {
    key.fill(0, 0, KEY_HOT_END);
  }
  if (dirty !== 0) {
    if ((dirty & KEY_COLD_TUN) !== 0) key.fill(0, REGION_TUN_START, REGION_CTX_START);
    if ((dirty & KEY_COLD_CTX) !== 0) key.fill(0, REGION_CTX_START, REGION_GENEVE_START);
    if ((dirty & KEY_COLD_GENEVE) !== 0) key.fill(0, REGION_GENEVE_START, REGION_OF_START);
    if ((dirty & KEY_COLD_OF) !== 0) key.fill(0, REGION_OF_START, FLOW_U32S);
  }
  return extractInto(pkt, key);
}

// HOT PATH: bench/datapath "EMC hits ≥5 Mpps". The generic path (metadata
// checks, then extractHeaders' VLAN/LLC/MPLS/L3 dispatch, four offset
// stores, separate non-inlined calls) took 49 ns for a 64-byte UDP frame
// in a tight loop; this straight-line version: 38-40 ns (min of 300 x 32k packets).
/**
 * Extraction of an untagged Ethernet/IPv4 frame carrying TCP, UDP, SCTP or
 * ICMP (or a later fragment) from a packet without tunnel, conntrack tuple
 * or ct_label metadata, into a key whose only nonzero words are the
 * KEY_HOT_IP4 ones: writes exactly those words (and the packet's offsets)
 * as extractInto would and returns true. Returns false, having written at
 * most some of those words, for anything else (extractInto then runs).
 */
function extractIp4Fast(pkt: DpPacket, key: Uint32Array): boolean {
  const size = pkt.len;
  if (pkt.packetType !== 0 || pkt.ctState !== 0 || size < 34) return false;
  const v = pkt.view;
  const p = pkt.start;
  if (v.getUint16(p + 12) !== ETH_TYPE_IP) return false;
  const vhl = pkt.buf[p + 14]!;
  const ipLen = (vhl & 0x0f) * 4;
  const l3Size = size - 14;
  const totLen = v.getUint16(p + 16);
  if (ipLen < 20 || totLen > l3Size || ipLen > totLen) return false;
  const lbl = pkt.ctLabel;
  if ((lbl[0]! | lbl[1]! | lbl[2]! | lbl[3]!) !== 0 || pkt.hasTunnel()) return false;
  const protoTtl = v.getUint16(p + 22);
  const nwProto = protoTtl & 0xff;
  if (nwProto !== IPPROTO_UDP && nwProto !== IPPROTO_TCP && nwProto !== IPPROTO_SCTP && nwProto !== IPPROTO_ICMP) return false;
  const fragOff = v.getUint16(p + 20);
  let nwFrag = 0;
  if ((fragOff & 0x3fff) !== 0) {
    nwFrag = FLOW_NW_FRAG_ANY;
    if ((fragOff & 0x1fff) !== 0) nwFrag |= FLOW_NW_FRAG_LATER;
  }
  key[W_IN_PORT] = pkt.inPort;
  key[W_RECIRC_ID] = pkt.recircId;
  key[W_DP_HASH] = pkt.dpHash;
  key[W_SKB_PRIORITY] = pkt.skbPriority;
  key[W_PKT_MARK] = pkt.pktMark;
  key[W_PACKET_TYPE] = 0;
  key[W_CT_STATE] = (pkt.ctZone & 0xffff) << S_CT_ZONE;
  key[W_CT_MARK] = pkt.ctMark;
  key[W_ETH_DST] = v.getUint32(p);
  key[W_ETH_DST + 1] = v.getUint32(p + 4);
  key[W_ETH_DST + 2] = v.getUint32(p + 8);
  key[W_DL_TYPE] = ETH_TYPE_IP << S_DL_TYPE;
  key[W_NW_SRC] = v.getUint32(p + 26);
  key[W_NW_DST] = v.getUint32(p + 30);
  // proto (24-31) | tos (16-23) | ttl (8-15) | frag (0-7).
  key[W_NW_PROTO] = ((nwProto << S_NW_PROTO) | (pkt.buf[p + 15]! << S_NW_TOS) | ((protoTtl >>> 8) << S_NW_TTL) | nwFrag) >>> 0;
  const l4 = p + 14 + ipLen;
  const l4Size = totLen - ipLen;
  let tp = 0;
  let tcpFlags = 0;
  if ((nwFrag & FLOW_NW_FRAG_LATER) === 0) {
    if (nwProto === IPPROTO_UDP) {
      if (l4Size >= 8) tp = v.getUint32(l4);
    } else if (nwProto === IPPROTO_TCP) {
      if (l4Size >= 20) {
        const ctl = v.getUint16(l4 + 12);
        const hdrLen = (ctl >>> 12) * 4;
        if (hdrLen >= 20 && l4Size >= hdrLen) {
          tp = v.getUint32(l4);
          tcpFlags = ctl & 0x0fff;
        }
      }
    } else if (nwProto === IPPROTO_SCTP) {
      if (l4Size >= 12) tp = v.getUint32(l4);
    } else if (l4Size >= 8) {
      // ICMP: type in tp_src, code in tp_dst.
      tp = ((pkt.buf[l4]! << S_TP_SRC) | pkt.buf[l4 + 1]!) >>> 0;
    }
  }
  key[W_TP_SRC] = tp;
  key[W_TCP_FLAGS] = tcpFlags;
  pkt.l2_5Ofs = -1;
  pkt.l3Ofs = 14;
  pkt.l4Ofs = 14 + ipLen;
  pkt.l2PadSize = l3Size - totLen;
  return true;
}

/** Extraction into an all-zero key; returns the KEY_COLD_* regions written. */
function extractInto(pkt: DpPacket, key: Uint32Array): number {
  let cold = 0;

  /* Metadata. */
  key[W_IN_PORT] = pkt.inPort;
  key[W_RECIRC_ID] = pkt.recircId;
  key[W_DP_HASH] = pkt.dpHash;
  key[W_SKB_PRIORITY] = pkt.skbPriority;
  key[W_PKT_MARK] = pkt.pktMark;
  key[W_PACKET_TYPE] = pkt.packetType;
  key[W_CT_MARK] = pkt.ctMark;
  const ctState = pkt.ctState;
  key[W_CT_STATE] = ((pkt.ctZone & 0xffff) << S_CT_ZONE) | (ctState & 0xff);
  // The conntrack original-direction tuple goes in only for a tracked packet
  // whose tuple has a protocol and the packet's IP version (extractHeaders).
  const ctTuple = ctState !== 0 && pkt.ctNwProto !== 0;
  if (ctTuple && pkt.ctOrigTupleIpv6) cold |= KEY_COLD_CTX;
  const lbl = pkt.ctLabel;
  if ((lbl[0]! | lbl[1]! | lbl[2]! | lbl[3]!) !== 0) {
    key.set(lbl, W_CT_LABEL);
    cold |= KEY_COLD_CTX;
  }
  if (pkt.hasTunnel()) {
    key.set(pkt.tun, REGION_TUN_START);
    cold |= KEY_COLD_TUN;
    if ((key[W_TUN_GENEVE_LEN]! & M_TUN_GENEVE_LEN) !== 0) {
      key.set(pkt.tunGeneve, W_TUN_GENEVE);
      cold |= KEY_COLD_GENEVE;
    }
  }
  if (extractHeaders(pkt, key, ctTuple)) cold |= KEY_HOT_IP4;
  return cold;
}

// HOT PATH
/** The header part of extraction: L2 through L4 (and NSH), offsets, padding. */
function extractHeaders(pkt: DpPacket, key: Uint32Array, ctTuple: boolean): boolean {
  const b = pkt.buf;
  // DataView reads compile to one load + byte swap (vs four byte loads);
  // bench/datapath EMC A/B: best slice 2.75-2.91 -> 2.77-3.24 Mpps.
  const v = pkt.view;
  const frame = pkt.start;
  let p = frame;
  let size = pkt.len;

  pkt.l2_5Ofs = -1;
  pkt.l3Ofs = -1;
  pkt.l4Ofs = -1;
  pkt.l2PadSize = 0;

  let dlType: number;
  let nVlans = 0;
  if (pkt.packetType === 0) {
    /* Ethernet: the full 14-byte header is required. */
    if (size < 14) {
      extractStats.truncatedL2++;
      return false;
    }
    key[W_ETH_DST] = v.getUint32(p);
    key[W_ETH_DST + 1] = v.getUint32(p + 4);
    key[W_ETH_DST + 2] = v.getUint32(p + 8);
    p += 12;
    size -= 12;
    /* VLAN tags: each needs its 4 bytes plus a following ethertype. */
    let t = v.getUint16(p);
    for (let n = 0; n < MAX_VLANS && (t === ETH_TYPE_VLAN_8021Q || t === ETH_TYPE_VLAN_8021AD); n++) {
      if (size < 6) break;
      nVlans++;
      key[W_VLAN0 + n] = (v.getUint32(p) | VLAN_CFI) >>> 0;
      p += 4;
      size -= 4;
      t = v.getUint16(p);
    }
    p += 2;
    size -= 2;
    if (t < ETH_TYPE_MIN) {
      /* 802.2 LLC: SNAP with OUI 00-00-00 carries a real ethertype. */
      dlType = ETH_TYPE_NONE;
      if (size >= 8 && b[p] === 0xaa && b[p + 1] === 0xaa && b[p + 2] === 0x03 && b[p + 3] === 0 && b[p + 4] === 0 && b[p + 5] === 0) {
        const snapType = v.getUint16(p + 6);
        p += 8;
        size -= 8;
        if (snapType >= ETH_TYPE_MIN) dlType = snapType;
      }
    } else {
      dlType = t;
    }
  } else {
    /* A layer-3 packet: dl_type comes from packet_type (namespace 1 = ethertype). */
    dlType = pkt.packetType & 0xffff;
  }
  key[W_DL_TYPE] = dlType << S_DL_TYPE;

  if (dlType === ETH_TYPE_MPLS || dlType === ETH_TYPE_MPLS_MCAST) {
    pkt.l2_5Ofs = p - frame;
    let n = 0;
    while (size >= 4) {
      const lse = v.getUint32(p);
      if (n < MAX_MPLS) key[W_MPLS_LSE0 + n] = lse;
      n++;
      p += 4;
      size -= 4;
      if ((lse & 0x100) !== 0) break;
    }
  }

  pkt.l3Ofs = p - frame;
  let nwProto = 0;
  let nwFrag = 0;
  let nwTos = 0;
  let nwTtl = 0;
  if (dlType === ETH_TYPE_IP) {
    if (size < 20) {
      extractStats.badL3++;
      return false;
    }
    const ipLen = (b[p]! & 0x0f) * 4;
    if (ipLen < 20 || size < ipLen) {
      extractStats.badL3++;
      return false;
    }
    const totLen = v.getUint16(p + 2);
    if (totLen > size || ipLen > totLen) {
      extractStats.badL3++;
      return false;
    }
    pkt.l2PadSize = size - totLen;
    size = totLen;
    if (ctTuple && !pkt.ctOrigTupleIpv6) {
      key[W_CT_STATE] = key[W_CT_STATE]! | ((pkt.ctNwProto & 0xff) << S_CT_NW_PROTO);
      key[W_CT_NW_SRC] = pkt.ctNwSrc;
      key[W_CT_NW_DST] = pkt.ctNwDst;
      key[W_CT_TP_SRC] = ((pkt.ctTpSrc << S_CT_TP_SRC) | (pkt.ctTpDst & 0xffff)) >>> 0;
    }
    key[W_NW_SRC] = v.getUint32(p + 12);
    key[W_NW_DST] = v.getUint32(p + 16);
    nwTos = b[p + 1]!;
    nwTtl = b[p + 8]!;
    nwProto = b[p + 9]!;
    const fragOff = v.getUint16(p + 6);
    if ((fragOff & 0x3fff) !== 0) {
      nwFrag = FLOW_NW_FRAG_ANY;
      if ((fragOff & 0x1fff) !== 0) nwFrag |= FLOW_NW_FRAG_LATER;
    }
    p += ipLen;
    size -= ipLen;
  } else if (dlType === ETH_TYPE_IPV6) {
    if (size < 40) {
      extractStats.badL3++;
      return false;
    }
    const plen = v.getUint16(p + 4);
    if (plen + 40 > size) {
      extractStats.badL3++;
      return false;
    }
    const vtcfl = v.getUint32(p);
    for (let i = 0; i < 4; i++) {
      key[W_IPV6_SRC + i] = v.getUint32(p + 8 + 4 * i);
      key[W_IPV6_DST + i] = v.getUint32(p + 24 + 4 * i);
    }
    nwTos = (vtcfl >>> 20) & 0xff;
    nwTtl = b[p + 7]!;
    nwProto = b[p + 6]!;
    p += 40;
    size -= 40;
    pkt.l2PadSize = size - plen;
    size = plen;
    if (ctTuple && pkt.ctOrigTupleIpv6) {
      key[W_CT_STATE] = key[W_CT_STATE]! | ((pkt.ctNwProto & 0xff) << S_CT_NW_PROTO);
      key.set(pkt.ctIpv6Src, W_CT_IPV6_SRC);
      key.set(pkt.ctIpv6Dst, W_CT_IPV6_DST);
      key[W_CT_TP_SRC] = ((pkt.ctTpSrc << S_CT_TP_SRC) | (pkt.ctTpDst & 0xffff)) >>> 0;
    }
    /* Walk extension headers to the upper-layer protocol. */
    for (;;) {
      if (nwProto === IPPROTO_HOPOPTS || nwProto === IPPROTO_ROUTING || nwProto === IPPROTO_DSTOPTS || nwProto === IPPROTO_AH) {
        if (size < 8) {
          extractStats.badL3++;
          return false;
        }
        const extLen = nwProto === IPPROTO_AH ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
        if (size < extLen) {
          extractStats.badL3++;
          return false;
        }
        nwProto = b[p]!;
        p += extLen;
        size -= extLen;
      } else if (nwProto === IPPROTO_FRAGMENT) {
        if (size < 8) {
          extractStats.badL3++;
          return false;
        }
        nwProto = b[p]!;
        const offlg = v.getUint16(p + 2);
        p += 8;
        size -= 8;
        if (offlg !== 0) {
          nwFrag = FLOW_NW_FRAG_ANY;
          if ((offlg & 0xfff8) !== 0) {
            nwFrag |= FLOW_NW_FRAG_LATER;
            nwProto = IPPROTO_FRAGMENT;
            break;
          }
        }
      } else {
        break;
      }
    }
    key[W_IPV6_LABEL] = vtcfl & 0xfffff;
  } else {
    if (dlType === ETH_TYPE_NSH) {
      extractNsh(b, p, size, key);
      return false;
    }
    if ((dlType === ETH_TYPE_ARP || dlType === ETH_TYPE_RARP) && size >= 28) {
      if (v.getUint16(p) === 1 && v.getUint16(p + 2) === ETH_TYPE_IP && b[p + 4] === 6 && b[p + 5] === 4) {
        key[W_NW_SRC] = v.getUint32(p + 14);
        key[W_NW_DST] = v.getUint32(p + 24);
        const op = v.getUint16(p + 6);
        if (op <= 0xff) key[W_NW_PROTO] = op << S_NW_PROTO;
        /* sha (8..13) and tha (18..23) packed into words 39..41. */
        key[W_ARP_SHA] = v.getUint32(p + 8);
        key[W_ARP_SHA + 1] = ((v.getUint16(p + 12) << 16) | v.getUint16(p + 18)) >>> 0;
        key[W_ARP_SHA + 2] = v.getUint32(p + 20);
      }
    }
    return false;
  }

  pkt.l4Ofs = p - frame;
  key[W_NW_PROTO] = ((nwProto << S_NW_PROTO) | (nwTos << S_NW_TOS) | (nwTtl << S_NW_TTL) | nwFrag) >>> 0;
  // Only the words KEY_HOT_IP4 names written (all rewritten by the next such packet)?
  const ip4Only = dlType === ETH_TYPE_IP && nVlans === 0 && !ctTuple;
  if ((nwFrag & FLOW_NW_FRAG_LATER) !== 0) return ip4Only;

  if (nwProto === IPPROTO_TCP) {
    if (size >= 20) {
      const ctl = v.getUint16(p + 12);
      const hdrLen = (ctl >>> 12) * 4;
      if (hdrLen >= 20 && size >= hdrLen) {
        key[W_TP_SRC] = v.getUint32(p);
        key[W_TCP_FLAGS] = ctl & 0x0fff;
      }
    }
  } else if (nwProto === IPPROTO_UDP) {
    if (size >= 8) key[W_TP_SRC] = v.getUint32(p);
  } else if (nwProto === IPPROTO_SCTP) {
    if (size >= 12) key[W_TP_SRC] = v.getUint32(p);
  } else if (nwProto === IPPROTO_ICMP) {
    if (size >= 8) key[W_TP_SRC] = ((b[p]! << S_TP_SRC) | b[p + 1]!) >>> 0;
  } else {
    extractOtherL4(b, v, p, size, nwProto, key);
    return false;
  }
  return ip4Only;
}

/** L4 protocols beyond the common four (IGMP, ICMPv6 with ND). */
function extractOtherL4(b: Uint8Array, v: DataView, p: number, size: number, nwProto: number, key: Uint32Array): void {
  if (nwProto === IPPROTO_IGMP) {
    if (size >= 8) {
      key[W_TP_SRC] = ((b[p]! << S_TP_SRC) | b[p + 1]!) >>> 0;
      key[W_IGMP_GROUP] = v.getUint32(p + 4);
    }
  } else if (nwProto === IPPROTO_ICMPV6) {
    if (size >= 8) {
      const type = b[p]!;
      const code = b[p + 1]!;
      key[W_TP_SRC] = ((type << S_TP_SRC) | code) >>> 0;
      if (code === 0 && (type === ND_NEIGHBOR_SOLICIT || type === ND_NEIGHBOR_ADVERT)) {
        extractNd(b, p, size, key);
      }
    }
  }
}

// HOT PATH (ND only)
/** Neighbor Discovery: reserved word, target, then SLL/TLL options. */
function extractNd(b: Uint8Array, p: number, size: number, key: Uint32Array): void {
  key[W_ND_RESERVED] = rd32(b, p + 4);
  p += 8;
  size -= 8;
  if (size < 16) return;
  for (let i = 0; i < 4; i++) key[W_ND_TARGET + i] = rd32(b, p + 4 * i);
  p += 16;
  size -= 16;
  let haveSll = false;
  let haveTll = false;
  let optType = 0;
  while (size >= 8) {
    const optLen = b[p + 1]! * 8;
    if (optLen === 0 || optLen > size) break;
    const t = b[p]!;
    if (t === ND_OPT_SOURCE_LINKADDR && optLen === 8) {
      const hi = rd32(b, p + 2);
      const lo = rd16(b, p + 6);
      if (!haveSll || (key[W_ARP_SHA]! === 0 && (key[W_ARP_SHA + 1]! >>> 16) === 0)) {
        key[W_ARP_SHA] = hi;
        key[W_ARP_SHA + 1] = ((lo << 16) | (key[W_ARP_SHA + 1]! & 0xffff)) >>> 0;
        haveSll = true;
        if (optType === 0) optType = t;
      } else {
        ndInvalid(key);
        break;
      }
    } else if (t === ND_OPT_TARGET_LINKADDR && optLen === 8) {
      const hi = rd16(b, p + 2);
      const lo = rd32(b, p + 4);
      if (!haveTll || ((key[W_ARP_SHA + 1]! & 0xffff) === 0 && key[W_ARP_SHA + 2]! === 0)) {
        key[W_ARP_SHA + 1] = ((key[W_ARP_SHA + 1]! & 0xffff0000) | hi) >>> 0;
        key[W_ARP_SHA + 2] = lo;
        haveTll = true;
        if (optType === 0) optType = t;
      } else {
        ndInvalid(key);
        break;
      }
    }
    p += optLen;
    size -= optLen;
  }
  key[W_ND_OPTIONS_TYPE] = optType;
}

/**
 * NSH (RFC 8300) base + service path headers; MD type 1 context words.
 * Version must be 0 and the header length must fit; MD type 1 must be
 * exactly 24 bytes. Other MD types leave the context words zero.
 */
function extractNsh(b: Uint8Array, p: number, size: number, key: Uint32Array): void {
  if (size < 8) return;
  const vftl = rd16(b, p);
  const version = vftl >>> 14;
  const length = (vftl & 0x3f) * 4;
  if (length > size || version !== 0) return;
  const mdType = b[p + 2]!;
  if (mdType === 1 ? length !== 24 : mdType === 2 && length < 8) return;
  const flags = (vftl >>> 12) & 0x3;
  const ttl = (vftl >>> 6) & 0x3f;
  key[W_NSH_FLAGS] = ((flags << 24) | (ttl << 16) | (mdType << 8) | b[p + 3]!) >>> 0;
  key[W_NSH_SPI] = rd32(b, p + 4);
  if (mdType === 1) {
    for (let i = 0; i < 4; i++) key[W_NSH_C1 + i] = rd32(b, p + 8 + 4 * i);
  }
}

/** A repeated link-layer option: OVS forgets the target and both addresses. */
function ndInvalid(key: Uint32Array): void {
  for (let i = 0; i < 4; i++) key[W_ND_TARGET + i] = 0;
  key[W_ARP_SHA] = 0;
  key[W_ARP_SHA + 1] = 0;
  key[W_ARP_SHA + 2] = 0;
}
