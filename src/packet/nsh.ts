/**
 * Network Service Header (RFC 8300): base header, service path header and
 * MD type 1 context (or MD type 2 TLVs as raw bytes).
 */
import { get16, HeaderView, set16, set32 } from "./bytes.js";

export const NSH_BASE_LEN = 8;
export const NSH_MD1_LEN = 24;
export const NSH_MDTYPE_1 = 1;
export const NSH_MDTYPE_2 = 2;
/** Next protocol values. */
export const NSH_NP_IPV4 = 1;
export const NSH_NP_IPV6 = 2;
export const NSH_NP_ETHERNET = 3;
export const NSH_NP_NSH = 4;
export const NSH_NP_MPLS = 5;

export class NshView extends HeaderView {
  /** A view of a version-0 header whose length fits (MD type 1 must be 24 bytes). */
  static check(buf: Uint8Array, off: number, len: number): NshView | null {
    if (len < NSH_BASE_LEN || off + len > buf.length) return null;
    const w = get16(buf, off);
    const hl = (w & 0x3f) * 4;
    if (w >>> 14 !== 0 || hl > len || hl < NSH_BASE_LEN) return null;
    if (buf[off + 2]! === NSH_MDTYPE_1 && hl !== NSH_MD1_LEN) return null;
    return new NshView(buf, off, len);
  }
  flags(): number { return (this.u16(0) >>> 12) & 3; }
  ttl(): number { return (this.u16(0) >>> 6) & 0x3f; }
  setTtl(t: number): void { this.setU16(0, (this.u16(0) & ~0x0fc0) | ((t & 0x3f) << 6)); }
  headerLen(): number { return (this.u16(0) & 0x3f) * 4; }
  mdType(): number { return this.u8(2) & 0x0f; }
  nextProto(): number { return this.u8(3); }
  spi(): number { return this.u32(4) >>> 8; }
  si(): number { return this.u8(7); }
  setPath(spi: number, si: number): void { this.setU32(4, (((spi & 0xffffff) << 8) | (si & 0xff)) >>> 0); }
  context(i: number): number { return this.u32(8 + 4 * i); }
  setContext(i: number, v: number): void { this.setU32(8 + 4 * i, v); }
}

export interface NshRepr {
  flags: number;
  ttl: number;
  mdType: number;
  nextProto: number;
  spi: number;
  si: number;
  /** MD type 1: the four context words. */
  context: [number, number, number, number];
  /** MD type 2: raw TLV bytes (multiple of 4). */
  md2: Uint8Array;
}

export function parseNsh(b: Uint8Array, off: number, len: number): (NshRepr & { headerLen: number }) | null {
  const v = NshView.check(b, off, len);
  if (v === null) return null;
  const md1 = v.mdType() === NSH_MDTYPE_1;
  return {
    flags: v.flags(),
    ttl: v.ttl(),
    mdType: v.mdType(),
    nextProto: v.nextProto(),
    spi: v.spi(),
    si: v.si(),
    context: md1 ? [v.context(0), v.context(1), v.context(2), v.context(3)] : [0, 0, 0, 0],
    md2: md1 ? new Uint8Array(0) : b.slice(off + NSH_BASE_LEN, off + v.headerLen()),
    headerLen: v.headerLen(),
  };
}

export function nshHeaderLen(r: NshRepr): number {
  return r.mdType === NSH_MDTYPE_1 ? NSH_MD1_LEN : NSH_BASE_LEN + ((r.md2.length + 3) & ~3);
}

export function emitNsh(r: NshRepr, b: Uint8Array, off: number): number {
  const hl = nshHeaderLen(r);
  set16(b, off, ((r.flags & 3) << 12) | ((r.ttl & 0x3f) << 6) | ((hl / 4) & 0x3f));
  b[off + 2] = r.mdType & 0x0f;
  b[off + 3] = r.nextProto;
  set32(b, off + 4, (((r.spi & 0xffffff) << 8) | (r.si & 0xff)) >>> 0);
  if (r.mdType === NSH_MDTYPE_1) {
    for (let i = 0; i < 4; i++) set32(b, off + 8 + 4 * i, r.context[i]!);
  } else {
    b.fill(0, off + NSH_BASE_LEN, off + hl);
    b.set(r.md2, off + NSH_BASE_LEN);
  }
  return hl;
}
