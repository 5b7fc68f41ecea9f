/** IPv6 headers (RFC 8200) and extension headers, including fragments. */
import { get16, get32, HeaderView, set16, set32 } from "./bytes.js";
import { IPPROTO_AH, IPPROTO_DSTOPTS, IPPROTO_FRAGMENT, IPPROTO_HOPOPTS, IPPROTO_ROUTING } from "./constants.js";

export const IPV6_VTCFL = 0;
export const IPV6_PLEN = 4;
export const IPV6_NEXT = 6;
export const IPV6_HLIM = 7;
export const IPV6_SRC = 8;
export const IPV6_DST = 24;
export const IPV6_HEADER_LEN = 40;
export const IPV6_FRAG_HEADER_LEN = 8;
export const IPV6_LABEL_MASK = 0xfffff;

export class Ipv6View extends HeaderView {
  /** A view when a version-6 header fits and its payload length is within `len`; else null. */
  static check(buf: Uint8Array, off: number, len: number): Ipv6View | null {
    if (len < IPV6_HEADER_LEN || off + len > buf.length) return null;
    if (buf[off]! >>> 4 !== 6) return null;
    if (get16(buf, off + 4) + IPV6_HEADER_LEN > len) return null;
    return new Ipv6View(buf, off, len);
  }
  version(): number { return this.u8(0) >>> 4; }
  trafficClass(): number { return (this.u32(0) >>> 20) & 0xff; }
  setTrafficClass(tc: number): void { this.setU32(0, ((this.u32(0) & 0xf00fffff) | ((tc & 0xff) << 20)) >>> 0); }
  flowLabel(): number { return this.u32(0) & IPV6_LABEL_MASK; }
  setFlowLabel(l: number): void { this.setU32(0, ((this.u32(0) & ~IPV6_LABEL_MASK) | (l & IPV6_LABEL_MASK)) >>> 0); }
  payloadLen(): number { return this.u16(IPV6_PLEN); }
  setPayloadLen(v: number): void { this.setU16(IPV6_PLEN, v); }
  nextHeader(): number { return this.u8(IPV6_NEXT); }
  hopLimit(): number { return this.u8(IPV6_HLIM); }
  setHopLimit(v: number): void { this.setU8(IPV6_HLIM, v); }
  src(): Uint8Array { return this.bytesAt(IPV6_SRC, 16); }
  setSrc(a: Uint8Array): void { this.setBytesAt(IPV6_SRC, a); }
  dst(): Uint8Array { return this.bytesAt(IPV6_DST, 16); }
  setDst(a: Uint8Array): void { this.setBytesAt(IPV6_DST, a); }
}

/** One extension header as raw bytes (its own next-header byte is filled on emit). */
export interface Ipv6ExtHeader {
  type: number;
  /** Body after the 2 first bytes (next header, length) for HBH/RT/DST/AH; for FRAGMENT use `frag`. */
  body: Uint8Array;
  frag?: { offset: number; more: boolean; id: number };
}

export interface Ipv6Repr {
  trafficClass: number;
  flowLabel: number;
  /** Payload length; when 0, emit uses the ext headers + payloadLen. */
  payloadLen: number;
  /** Upper-layer protocol after the extension headers. */
  nextHeader: number;
  hopLimit: number;
  src: Uint8Array;
  dst: Uint8Array;
  ext: Ipv6ExtHeader[];
}

export function isIpv6ExtHeader(p: number): boolean {
  return p === IPPROTO_HOPOPTS || p === IPPROTO_ROUTING || p === IPPROTO_DSTOPTS || p === IPPROTO_AH || p === IPPROTO_FRAGMENT;
}

/** Bytes of one extension header as emitted. */
export function ipv6ExtLen(e: Ipv6ExtHeader): number {
  if (e.type === IPPROTO_FRAGMENT) return IPV6_FRAG_HEADER_LEN;
  const n = 2 + e.body.length;
  return e.type === IPPROTO_AH ? (n + 3) & ~3 : (n + 7) & ~7;
}

export function parseIpv6(b: Uint8Array, off: number, len: number): (Ipv6Repr & { headerLen: number }) | null {
  const v = Ipv6View.check(b, off, len);
  if (v === null) return null;
  const ext: Ipv6ExtHeader[] = [];
  let nh = v.nextHeader();
  let p = off + IPV6_HEADER_LEN;
  const end = off + IPV6_HEADER_LEN + v.payloadLen();
  while (isIpv6ExtHeader(nh)) {
    if (p + 8 > end) return null;
    const next = b[p]!;
    if (nh === IPPROTO_FRAGMENT) {
      const offlg = get16(b, p + 2);
      ext.push({ type: nh, body: new Uint8Array(0), frag: { offset: offlg >>> 3, more: (offlg & 1) !== 0, id: get32(b, p + 4) } });
      p += 8;
    } else {
      const l = nh === IPPROTO_AH ? (b[p + 1]! + 2) * 4 : (b[p + 1]! + 1) * 8;
      if (p + l > end) return null;
      ext.push({ type: nh, body: b.slice(p + 2, p + l) });
      p += l;
    }
    nh = next;
  }
  return {
    trafficClass: v.trafficClass(),
    flowLabel: v.flowLabel(),
    payloadLen: v.payloadLen(),
    nextHeader: nh,
    hopLimit: v.hopLimit(),
    src: v.src(),
    dst: v.dst(),
    ext,
    headerLen: p - off,
  };
}

export function ipv6HeaderLen(r: Ipv6Repr): number {
  let n = IPV6_HEADER_LEN;
  for (const e of r.ext) n += ipv6ExtLen(e);
  return n;
}

/** Writes the fixed header and the extension chain; returns their total length. */
export function emitIpv6(r: Ipv6Repr, b: Uint8Array, off: number, payloadLen = 0): number {
  const hl = ipv6HeaderLen(r);
  set32(b, off, ((6 << 28) | ((r.trafficClass & 0xff) << 20) | (r.flowLabel & IPV6_LABEL_MASK)) >>> 0);
  set16(b, off + 4, r.payloadLen !== 0 ? r.payloadLen : hl - IPV6_HEADER_LEN + payloadLen);
  b[off + 6] = r.ext.length > 0 ? r.ext[0]!.type : r.nextHeader;
  b[off + 7] = r.hopLimit;
  b.set(r.src, off + 8);
  b.set(r.dst, off + 24);
  let p = off + IPV6_HEADER_LEN;
  for (let i = 0; i < r.ext.length; i++) {
    const e = r.ext[i]!;
    const next = i + 1 < r.ext.length ? r.ext[i + 1]!.type : r.nextHeader;
    const l = ipv6ExtLen(e);
    b.fill(0, p, p + l);
    b[p] = next;
    if (e.type === IPPROTO_FRAGMENT) {
      const f = e.frag ?? { offset: 0, more: false, id: 0 };
      set16(b, p + 2, ((f.offset & 0x1fff) << 3) | (f.more ? 1 : 0));
      set32(b, p + 4, f.id);
    } else {
      b[p + 1] = e.type === IPPROTO_AH ? l / 4 - 2 : l / 8 - 1;
      b.set(e.body, p + 2);
    }
    p += l;
  }
  return hl;
}
