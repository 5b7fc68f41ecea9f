/**
 * Tunnel encapsulation and decapsulation for the executor: `tnl_push`
 * (prepend the ready-made outer headers of the action and fill in their
 * lengths, checksums and UDP source port) and `tnl_pop` (strip VXLAN,
 * Geneve or GRE outer headers into the packet's tunnel metadata), as OVS's
 * netdev-native-tnl does for the userspace datapath.
 *
 * Both work in place on a packet the caller owns; no allocation. The
 * packet's `tun` words use the flow key's TUN region layout
 * (key-layout.ts W_TUN_* minus REGION_TUN_START).
 */
import type { DpPacket } from "../packet/dp-packet.js";
import { get16 as be16, get32 as be32, get32le as u32le, set16 as wbe16 } from "../packet/bytes.js";

/** UDP source port range for tunnels (OVS's tnl_udp_port_min/max). */
const TNL_UDP_PORT_MIN = 32768;
const TNL_UDP_PORT_MAX = 61000;

function sum16(b: Uint8Array, o: number, len: number, s: number): number {
  let i = 0;
  for (; i + 1 < len; i += 2) s += (b[o + i]! << 8) | b[o + i + 1]!;
  if (i < len) s += b[o + i]! << 8;
  return s;
}
function fold(s: number): number {
  while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 65536);
  return ~s & 0xffff;
}

/**
 * Pushes the tnl_push payload at `b[p, p+plen)` onto `pkt`. `hash` picks
 * the UDP source port. Returns the output port, or -1 when the action is
 * malformed or the headroom too small (the packet is left unchanged).
 */
export function tnlPush(pkt: DpPacket, b: Uint8Array, p: number, plen: number, hash: number): number {
  if (plen < 16) return -1;
  const outPort = u32le(b, p + 4);
  const hlen = u32le(b, p + 8);
  const type = u32le(b, p + 12);
  if (hlen < 14 || 16 + hlen > plen) return -1;
  const at = pkt.push(hlen);
  if (at < 0) return -1;
  const d = pkt.buf;
  d.set(b.subarray(p + 16, p + 16 + hlen), at);
  const et = be16(d, at + 12);
  const ip = at + 14;
  let l4: number;
  let v6 = false;
  if (et === 0x0800) {
    wbe16(d, ip + 2, pkt.len - 14);
    wbe16(d, ip + 10, 0);
    wbe16(d, ip + 10, fold(sum16(d, ip, (d[ip]! & 0xf) * 4, 0)));
    l4 = ip + (d[ip]! & 0xf) * 4;
  } else if (et === 0x86dd) {
    wbe16(d, ip + 4, pkt.len - 14 - 40);
    l4 = ip + 40;
    v6 = true;
  } else {
    return outPort;
  }
  if (type === 4 || type === 5) {
    const ulen = at + pkt.len - l4;
    wbe16(d, l4 + 4, ulen);
    if (be16(d, l4) === 0) {
      const range = TNL_UDP_PORT_MAX - TNL_UDP_PORT_MIN;
      wbe16(d, l4, Math.floor(((hash >>> 0) * range) / 4294967296) + TNL_UDP_PORT_MIN);
    }
    if (be16(d, l4 + 6) !== 0 || v6) {
      // A checksum was asked for (always for IPv6): compute it over the pseudo-header.
      wbe16(d, l4 + 6, 0);
      let s = v6 ? sum16(d, ip + 8, 32, 0) : sum16(d, ip + 12, 8, 0);
      s += 17 + ulen;
      s = sum16(d, l4, ulen, s);
      const c = fold(s);
      wbe16(d, l4 + 6, c === 0 ? 0xffff : c);
    }
  } else if (type === 3 || type === 107) {
    const flags = be16(d, l4);
    if (flags & 0x8000) {
      wbe16(d, l4 + 4, 0);
      wbe16(d, l4 + 4, fold(sum16(d, l4, at + pkt.len - l4, 0)));
    }
  }
  pkt.l2_5Ofs = -1;
  pkt.l3Ofs = 14;
  pkt.l4Ofs = l4 - at;
  pkt.l2PadSize = 0;
  return outPort;
}

/** Tunnel types of datapath ports, for `ExecContext.tnlType` (0: not a tunnel port). */
export const TNL_TYPE_NONE = 0;
export const TNL_TYPE_VXLAN = 1;
export const TNL_TYPE_GENEVE = 2;
export const TNL_TYPE_GRE = 3;

/** The TNL_TYPE_* of a datapath port type ("vxlan", "geneve", "gre"; else none). */
export function tnlTypeOfPortType(type: string): number {
  switch (type) {
    case "vxlan": return TNL_TYPE_VXLAN;
    case "geneve": return TNL_TYPE_GENEVE;
    case "gre": return TNL_TYPE_GRE;
    default: return TNL_TYPE_NONE;
  }
}

/**
 * Strips the outer headers of a `type` (TNL_TYPE_*) tunnel from `pkt` into
 * its tunnel metadata, as the tunnel port's netdev does in OVS: the port
 * decides the encapsulation (whatever its UDP destination port); the
 * outer DF bit is not recorded. Returns false (packet unchanged) when the
 * packet is not such a tunnel packet.
 */
export function tnlPop(pkt: DpPacket, type: number): boolean {
  const d = pkt.buf;
  const s = pkt.start;
  if (pkt.packetType !== 0 || pkt.len < 14) return false;
  const et = be16(d, s + 12);
  const ip = s + 14;
  const t = pkt.tun;
  let l4: number;
  let proto: number;
  let tos: number, ttl: number;
  let src4 = 0, dst4 = 0;
  let v6 = false;
  if (et === 0x0800) {
    if (pkt.len < 34) return false;
    const ihl = (d[ip]! & 0xf) * 4;
    if (ihl < 20 || pkt.len < 14 + ihl + 8) return false;
    proto = d[ip + 9]!;
    tos = d[ip + 1]!;
    ttl = d[ip + 8]!;
    if (be16(d, ip + 6) & 0x3fff) return false; // fragments are not reassembled here
    src4 = be32(d, ip + 12);
    dst4 = be32(d, ip + 16);
    l4 = ip + ihl;
  } else if (et === 0x86dd) {
    if (pkt.len < 14 + 40 + 8) return false;
    proto = d[ip + 6]!;
    tos = (be32(d, ip) >>> 20) & 0xff;
    ttl = d[ip + 7]!;
    l4 = ip + 40;
    v6 = true;
  } else {
    return false;
  }
  const end = s + pkt.len;
  let inner: number;
  let flags = 0;
  let tunHi = 0, tunLo = 0;
  let tpSrc = 0, tpDst = 0;
  let genLen = 0;
  if (proto === 17 && (type === TNL_TYPE_VXLAN || type === TNL_TYPE_GENEVE)) {
    tpSrc = be16(d, l4);
    tpDst = be16(d, l4 + 2);
    if (be16(d, l4 + 6) !== 0) flags |= 2;
    const u = l4 + 8;
    if (type === TNL_TYPE_VXLAN) {
      // Flags exactly "I", reserved low byte of the VNI word zero.
      if (u + 8 > end || be32(d, u) !== 0x08000000 || (d[u + 7]! !== 0)) return false;
      tunLo = be32(d, u + 4) >>> 8;
      flags |= 4;
      inner = u + 8;
    } else {
      if (u + 8 > end) return false;
      const optLen = (d[u]! & 0x3f) * 4;
      if ((d[u]! >> 6) !== 0 || be16(d, u + 2) !== 0x6558 || u + 8 + optLen > end) return false;
      if (d[u + 1]! & 0x80) flags |= 8;
      tunLo = be32(d, u + 4) >>> 8;
      // key, and Geneve metadata present (FLOW_TNL_F_UDPIF: `geneve()` even without options).
      flags |= 4 | 0x10;
      genLen = optLen;
      inner = u + 8 + optLen;
    }
  } else if (proto === 47 && type === TNL_TYPE_GRE) {
    if (l4 + 4 > end) return false;
    const gf = be16(d, l4);
    if (be16(d, l4 + 2) !== 0x6558 || (gf & 0x4fff) !== 0) return false;
    let o = l4 + 4;
    if (gf & 0x8000) {
      flags |= 2;
      o += 4;
    }
    if (gf & 0x2000) {
      tunLo = be32(d, o);
      flags |= 4;
      o += 4;
    }
    if (gf & 0x1000) o += 4;
    inner = o;
  } else {
    return false;
  }
  if (inner + 14 > end) return false;
  t.fill(0);
  pkt.tunGeneve.fill(0);
  t[0] = tunHi;
  t[1] = tunLo;
  if (!v6) {
    t[2] = src4;
    t[3] = dst4;
  } else {
    for (let i = 0; i < 4; i++) {
      t[4 + i] = be32(d, ip + 8 + 4 * i);
      t[8 + i] = be32(d, ip + 24 + 4 * i);
    }
  }
  t[12] = ((tos << 24) | (ttl << 16) | flags) >>> 0;
  t[13] = ((tpSrc << 16) | tpDst) >>> 0;
  if (genLen > 0) {
    const g = l4 + 16;
    for (let i = 0; i < genLen; i += 4) pkt.tunGeneve[i >> 2] = be32(d, g + i);
    t[16] = genLen;
  }
  pkt.pull(inner - s);
  pkt.resetOffsets();
  return true;
}
