/** IPv4 headers (RFC 791): options, fragments, header checksum. */
import { get16, HeaderView, set16, set32 } from "./bytes.js";
import { csumFinish, csumPartial, csumUpdate16 } from "./checksum.js";
import { IP_DF, IP_FRAG_OFF_MASK, IP_MF } from "./constants.js";

export const IPV4_VER_IHL = 0;
export const IPV4_TOS = 1;
export const IPV4_TOT_LEN = 2;
export const IPV4_ID = 4;
export const IPV4_FRAG_OFF = 6;
export const IPV4_TTL = 8;
export const IPV4_PROTO = 9;
export const IPV4_CSUM = 10;
export const IPV4_SRC = 12;
export const IPV4_DST = 16;
export const IPV4_HEADER_LEN = 20;

export class Ipv4View extends HeaderView {
  /**
   * A view when the bytes hold a version-4 header whose IHL and total length
   * are consistent with `len`; else null.
   */
  static check(buf: Uint8Array, off: number, len: number): Ipv4View | null {
    if (len < IPV4_HEADER_LEN || off + len > buf.length) return null;
    if (buf[off]! >>> 4 !== 4) return null;
    const ihl = (buf[off]! & 0xf) * 4;
    const tot = get16(buf, off + 2);
    if (ihl < IPV4_HEADER_LEN || ihl > tot || tot > len) return null;
    return new Ipv4View(buf, off, len);
  }
  version(): number { return this.u8(0) >>> 4; }
  headerLen(): number { return (this.u8(0) & 0xf) * 4; }
  tos(): number { return this.u8(IPV4_TOS); }
  setTos(v: number): void { this.setU8(IPV4_TOS, v); }
  totalLen(): number { return this.u16(IPV4_TOT_LEN); }
  setTotalLen(v: number): void { this.setU16(IPV4_TOT_LEN, v); }
  ident(): number { return this.u16(IPV4_ID); }
  fragField(): number { return this.u16(IPV4_FRAG_OFF); }
  dontFrag(): boolean { return (this.fragField() & IP_DF) !== 0; }
  moreFrags(): boolean { return (this.fragField() & IP_MF) !== 0; }
  /** Fragment offset in bytes. */
  fragOffset(): number { return (this.fragField() & IP_FRAG_OFF_MASK) * 8; }
  isFragment(): boolean { return (this.fragField() & (IP_MF | IP_FRAG_OFF_MASK)) !== 0; }
  ttl(): number { return this.u8(IPV4_TTL); }
  setTtl(v: number): void { this.setU8(IPV4_TTL, v); }
  proto(): number { return this.u8(IPV4_PROTO); }
  checksum(): number { return this.u16(IPV4_CSUM); }
  setChecksum(v: number): void { this.setU16(IPV4_CSUM, v); }
  src(): number { return this.u32(IPV4_SRC); }
  setSrc(v: number): void { this.setU32(IPV4_SRC, v); }
  dst(): number { return this.u32(IPV4_DST); }
  setDst(v: number): void { this.setU32(IPV4_DST, v); }
  options(): Uint8Array { return this.bytesAt(IPV4_HEADER_LEN, this.headerLen() - IPV4_HEADER_LEN); }
  /** Computes and stores the header checksum. */
  fillChecksum(): void {
    this.setU16(IPV4_CSUM, 0);
    this.setU16(IPV4_CSUM, ipv4HeaderChecksum(this.buf, this.off, this.headerLen()));
  }
  checksumValid(): boolean {
    return csumFinish(csumPartial(this.buf, this.off, this.headerLen())) === 0;
  }
  /** Rewrites a 16-bit-aligned header word at `o`, updating the checksum incrementally (RFC 1624). */
  rewrite16(o: number, v: number): void {
    const old = this.u16(o);
    this.setU16(o, v);
    this.setU16(IPV4_CSUM, csumUpdate16(this.u16(IPV4_CSUM), old, v & 0xffff));
  }
  /** Sets TTL with an incremental checksum update. */
  rewriteTtl(ttl: number): void {
    this.rewrite16(IPV4_TTL, ((ttl & 0xff) << 8) | this.u8(IPV4_PROTO));
  }
  rewriteTos(tos: number): void {
    this.rewrite16(0, (this.u8(0) << 8) | (tos & 0xff));
  }
  rewriteSrc(a: number): void {
    this.rewrite16(IPV4_SRC, a >>> 16);
    this.rewrite16(IPV4_SRC + 2, a & 0xffff);
  }
  rewriteDst(a: number): void {
    this.rewrite16(IPV4_DST, a >>> 16);
    this.rewrite16(IPV4_DST + 2, a & 0xffff);
  }
}

/** The header checksum of `ihl` bytes at `off` (the checksum field taken as is: zero it first). */
export function ipv4HeaderChecksum(b: Uint8Array, off: number, ihl: number): number {
  return csumFinish(csumPartial(b, off, ihl));
}

export interface Ipv4Repr {
  tos: number;
  /** Total length; when 0, emit uses header + payloadLen. */
  totalLen: number;
  id: number;
  dontFrag: boolean;
  moreFrags: boolean;
  /** Fragment offset in 8-byte units. */
  fragOffset: number;
  ttl: number;
  proto: number;
  src: number;
  dst: number;
  /** Raw option bytes (padded to a multiple of 4 on emit). */
  options: Uint8Array;
}

export function parseIpv4(b: Uint8Array, off: number, len: number): Ipv4Repr | null {
  const v = Ipv4View.check(b, off, len);
  if (v === null) return null;
  const ff = v.fragField();
  return {
    tos: v.tos(),
    totalLen: v.totalLen(),
    id: v.ident(),
    dontFrag: (ff & IP_DF) !== 0,
    moreFrags: (ff & IP_MF) !== 0,
    fragOffset: ff & IP_FRAG_OFF_MASK,
    ttl: v.ttl(),
    proto: v.proto(),
    src: v.src(),
    dst: v.dst(),
    options: v.options(),
  };
}

export function ipv4HeaderLen(r: Ipv4Repr): number {
  return IPV4_HEADER_LEN + ((r.options.length + 3) & ~3);
}

/** Writes the header with a correct checksum; `payloadLen` fills tot_len when r.totalLen is 0. */
export function emitIpv4(r: Ipv4Repr, b: Uint8Array, off: number, payloadLen = 0): number {
  const hl = ipv4HeaderLen(r);
  b[off] = 0x40 | (hl >>> 2);
  b[off + 1] = r.tos;
  set16(b, off + 2, r.totalLen !== 0 ? r.totalLen : hl + payloadLen);
  set16(b, off + 4, r.id);
  set16(b, off + 6, (r.dontFrag ? IP_DF : 0) | (r.moreFrags ? IP_MF : 0) | (r.fragOffset & IP_FRAG_OFF_MASK));
  b[off + 8] = r.ttl;
  b[off + 9] = r.proto;
  set16(b, off + 10, 0);
  set32(b, off + 12, r.src);
  set32(b, off + 16, r.dst);
  b.fill(0, off + 20, off + hl);
  b.set(r.options, off + 20);
  set16(b, off + 10, ipv4HeaderChecksum(b, off, hl));
  return hl;
}
