/**
 * Header rewrites that keep checksums right, for set-field actions and NAT:
 * IPv4 addresses/tos/ttl (IP header and TCP/UDP pseudo-header checksums
 * updated incrementally, RFC 1624), IPv6 addresses (L4 checksums), L4
 * ports (TCP/UDP incremental, SCTP CRC32c recomputed), ICMP type/code, and
 * full L4 checksum recomputation.
 *
 * All work on a DpPacket whose l3Ofs/l4Ofs were set by extraction, take
 * numbers (or a 16-byte array + offset for IPv6), allocate nothing, and
 * return false without touching the packet when the header is not there.
 * UDP checksum 0 means "none" on IPv4 and is left alone; an updated UDP
 * checksum that comes out 0 is stored as 0xffff.
 */
import { get16, get32, set16, set32 } from "./bytes.js";
import { csumFinish, csumPartial, csumUpdate16, csumUpdate32, ipv4PseudoSum, ipv6PseudoSum, sctpChecksum } from "./checksum.js";
import { IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_SCTP, IPPROTO_TCP, IPPROTO_UDP } from "./constants.js";
import type { DpPacket } from "./dp-packet.js";

const TCP_CSUM_OFF = 16;
const UDP_CSUM_OFF = 6;
const ICMP_CSUM_OFF = 2;

/** Frame bytes from l4Ofs to the end of the L3 payload (padding excluded). */
function l4Len(pkt: DpPacket): number {
  return pkt.len - pkt.l2PadSize - pkt.l4Ofs;
}

/** True when the IPv4 header says this is a first (or non-) fragment, so L4 headers are present. */
function ipv4FirstFrag(pkt: DpPacket): boolean {
  return (get16(pkt.buf, pkt.start + pkt.l3Ofs + 6) & 0x1fff) === 0;
}

/** Incrementally folds a 32-bit pseudo-header change into the TCP/UDP checksum. */
function l4PseudoUpdate32(pkt: DpPacket, proto: number, old: number, now: number): void {
  if (pkt.l4Ofs < 0) return;
  const b = pkt.buf;
  const l4 = pkt.start + pkt.l4Ofs;
  const n = l4Len(pkt);
  if (proto === IPPROTO_TCP && n >= 20) {
    set16(b, l4 + TCP_CSUM_OFF, csumUpdate32(get16(b, l4 + TCP_CSUM_OFF), old, now));
  } else if (proto === IPPROTO_UDP && n >= 8) {
    const c = get16(b, l4 + UDP_CSUM_OFF);
    if (c !== 0) {
      const u = csumUpdate32(c, old, now);
      set16(b, l4 + UDP_CSUM_OFF, u === 0 ? 0xffff : u);
    }
  }
}

/** Sets the IPv4 source (`which` = 0) or destination (1) address. */
export function setIpv4Addr(pkt: DpPacket, which: 0 | 1, addr: number): boolean {
  if (pkt.l3Ofs < 0 || pkt.len - pkt.l3Ofs < 20) return false;
  const b = pkt.buf;
  const ip = pkt.start + pkt.l3Ofs;
  const off = ip + (which === 0 ? 12 : 16);
  const old = get32(b, off);
  addr >>>= 0;
  if (old === addr) return true;
  if (ipv4FirstFrag(pkt)) l4PseudoUpdate32(pkt, b[ip + 9]!, old, addr);
  set16(b, ip + 10, csumUpdate32(get16(b, ip + 10), old, addr));
  set32(b, off, addr);
  return true;
}

/** Sets IPv4 tos and ttl (pass -1 to keep one), updating the header checksum. */
export function setIpv4TosTtl(pkt: DpPacket, tos: number, ttl: number): boolean {
  if (pkt.l3Ofs < 0 || pkt.len - pkt.l3Ofs < 20) return false;
  const b = pkt.buf;
  const ip = pkt.start + pkt.l3Ofs;
  if (tos >= 0) {
    const old = get16(b, ip);
    const now = (old & 0xff00) | (tos & 0xff);
    set16(b, ip, now);
    set16(b, ip + 10, csumUpdate16(get16(b, ip + 10), old, now));
  }
  if (ttl >= 0) {
    const old = get16(b, ip + 8);
    const now = ((ttl & 0xff) << 8) | (old & 0xff);
    set16(b, ip + 8, now);
    set16(b, ip + 10, csumUpdate16(get16(b, ip + 10), old, now));
  }
  return true;
}

/**
 * Sets the IPv6 source (`which` = 0) or destination (1) from
 * `addr[addrOff..+16)`; `l4Proto` (from the flow key: nw_proto after
 * extension headers) says which L4 checksum covers the address.
 */
export function setIpv6Addr(pkt: DpPacket, which: 0 | 1, addr: Uint8Array, addrOff: number, l4Proto: number): boolean {
  if (pkt.l3Ofs < 0 || pkt.len - pkt.l3Ofs < 40) return false;
  const b = pkt.buf;
  const off = pkt.start + pkt.l3Ofs + (which === 0 ? 8 : 24);
  let csumOff = -1;
  if (pkt.l4Ofs >= 0) {
    const n = l4Len(pkt);
    if (l4Proto === IPPROTO_TCP && n >= 20) csumOff = TCP_CSUM_OFF;
    else if (l4Proto === IPPROTO_UDP && n >= 8) csumOff = UDP_CSUM_OFF;
    else if (l4Proto === IPPROTO_ICMPV6 && n >= 4) csumOff = ICMP_CSUM_OFF;
  }
  const l4 = pkt.start + pkt.l4Ofs;
  let c = csumOff >= 0 ? get16(b, l4 + csumOff) : 0;
  for (let i = 0; i < 16; i += 2) {
    const old = get16(b, off + i);
    const now = (addr[addrOff + i]! << 8) | addr[addrOff + i + 1]!;
    if (csumOff >= 0) c = csumUpdate16(c, old, now);
    set16(b, off + i, now);
  }
  if (csumOff >= 0) {
    // A zero UDP checksum over IPv6 is invalid anyway; update it like the others.
    set16(b, l4 + csumOff, l4Proto === IPPROTO_UDP && c === 0 ? 0xffff : c);
  }
  return true;
}

/** Sets IPv6 traffic class / flow label / hop limit (-1 keeps one). No checksum covers them. */
export function setIpv6Fields(pkt: DpPacket, tc: number, label: number, hlim: number): boolean {
  if (pkt.l3Ofs < 0 || pkt.len - pkt.l3Ofs < 40) return false;
  const b = pkt.buf;
  const ip = pkt.start + pkt.l3Ofs;
  let w = get32(b, ip);
  if (tc >= 0) w = (w & 0xf00fffff) | ((tc & 0xff) << 20);
  if (label >= 0) w = (w & 0xfff00000) | (label & 0xfffff);
  set32(b, ip, w >>> 0);
  if (hlim >= 0) b[ip + 7] = hlim & 0xff;
  return true;
}

/** Sets L4 source/destination ports (-1 keeps one) for TCP, UDP or SCTP. */
export function setL4Ports(pkt: DpPacket, proto: number, src: number, dst: number): boolean {
  if (pkt.l4Ofs < 0) return false;
  const b = pkt.buf;
  const l4 = pkt.start + pkt.l4Ofs;
  const n = l4Len(pkt);
  if (proto === IPPROTO_TCP ? n < 20 : proto === IPPROTO_UDP ? n < 8 : proto === IPPROTO_SCTP ? n < 12 : true) return false;
  const oldS = get16(b, l4);
  const oldD = get16(b, l4 + 2);
  const s = src >= 0 ? src & 0xffff : oldS;
  const d = dst >= 0 ? dst & 0xffff : oldD;
  set16(b, l4, s);
  set16(b, l4 + 2, d);
  if (proto === IPPROTO_TCP) {
    set16(b, l4 + TCP_CSUM_OFF, csumUpdate16(csumUpdate16(get16(b, l4 + TCP_CSUM_OFF), oldS, s), oldD, d));
  } else if (proto === IPPROTO_UDP) {
    const c = get16(b, l4 + UDP_CSUM_OFF);
    if (c !== 0) {
      const u = csumUpdate16(csumUpdate16(c, oldS, s), oldD, d);
      set16(b, l4 + UDP_CSUM_OFF, u === 0 ? 0xffff : u);
    }
  } else {
    set32(b, l4 + 8, sctpChecksum(b, l4, n));
  }
  return true;
}

/** Sets ICMP/ICMPv6 type and code (-1 keeps one), updating the checksum. */
export function setIcmpTypeCode(pkt: DpPacket, type: number, code: number): boolean {
  if (pkt.l4Ofs < 0 || l4Len(pkt) < 4) return false;
  const b = pkt.buf;
  const l4 = pkt.start + pkt.l4Ofs;
  const old = get16(b, l4);
  const now = ((type >= 0 ? type & 0xff : b[l4]!) << 8) | (code >= 0 ? code & 0xff : b[l4 + 1]!);
  set16(b, l4, now);
  set16(b, l4 + ICMP_CSUM_OFF, csumUpdate16(get16(b, l4 + ICMP_CSUM_OFF), old, now));
  return true;
}

/**
 * Recomputes the L4 checksum from scratch (after rewriting ND options, or
 * for packets built in place). `isIpv6` picks the pseudo-header.
 */
export function recomputeL4Checksum(pkt: DpPacket, proto: number, isIpv6: boolean): boolean {
  if (pkt.l3Ofs < 0 || pkt.l4Ofs < 0) return false;
  const b = pkt.buf;
  const ip = pkt.start + pkt.l3Ofs;
  const l4 = pkt.start + pkt.l4Ofs;
  const n = l4Len(pkt);
  let csumOff: number;
  if (proto === IPPROTO_TCP && n >= 20) csumOff = TCP_CSUM_OFF;
  else if (proto === IPPROTO_UDP && n >= 8) csumOff = UDP_CSUM_OFF;
  else if ((proto === IPPROTO_ICMPV6 || proto === IPPROTO_ICMP) && n >= 4) csumOff = ICMP_CSUM_OFF;
  else if (proto === IPPROTO_SCTP && n >= 12) {
    set32(b, l4 + 8, sctpChecksum(b, l4, n));
    return true;
  } else return false;
  let pseudo = 0;
  if (proto !== IPPROTO_ICMP) pseudo = isIpv6 ? ipv6PseudoSum(b, ip + 8, ip + 24, proto, n) : ipv4PseudoSum(get32(b, ip + 12), get32(b, ip + 16), proto, n);
  set16(b, l4 + csumOff, 0);
  let c = csumFinish(csumPartial(b, l4, n, pseudo));
  if (proto === IPPROTO_UDP && c === 0) c = 0xffff;
  set16(b, l4 + csumOff, c);
  return true;
}

/** Recomputes the IPv4 header checksum. */
export function recomputeIpv4Checksum(pkt: DpPacket): boolean {
  if (pkt.l3Ofs < 0 || pkt.len - pkt.l3Ofs < 20) return false;
  const b = pkt.buf;
  const ip = pkt.start + pkt.l3Ofs;
  const ihl = (b[ip]! & 0xf) * 4;
  if (ihl < 20 || pkt.len - pkt.l3Ofs < ihl) return false;
  set16(b, ip + 10, 0);
  set16(b, ip + 10, csumFinish(csumPartial(b, ip, ihl)));
  return true;
}
