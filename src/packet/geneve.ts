/** Geneve headers (RFC 8926) with their TLV options. */
import { get16, HeaderView, set16, set32 } from "./bytes.js";
import { ETH_TYPE_TEB } from "./constants.js";

export const GENEVE_VER_OPTLEN = 0;
export const GENEVE_FLAGS = 1;
export const GENEVE_PROTO = 2;
export const GENEVE_VNI = 4;
export const GENEVE_HEADER_LEN = 8;
export const GENEVE_FLAG_OAM = 0x80;
export const GENEVE_FLAG_CRITICAL = 0x40;
/** Maximum option bytes (the 6-bit length field counts 4-byte words). */
export const GENEVE_MAX_OPT_LEN = 252;

export class GeneveView extends HeaderView {
  /** A view when the fixed header and the options it claims fit; else null. */
  static check(buf: Uint8Array, off: number, len: number): GeneveView | null {
    if (len < GENEVE_HEADER_LEN || off + len > buf.length) return null;
    if (buf[off]! >>> 6 !== 0) return null;
    if (GENEVE_HEADER_LEN + (buf[off]! & 0x3f) * 4 > len) return null;
    return new GeneveView(buf, off, len);
  }
  optLen(): number { return (this.u8(0) & 0x3f) * 4; }
  headerLen(): number { return GENEVE_HEADER_LEN + this.optLen(); }
  oam(): boolean { return (this.u8(1) & GENEVE_FLAG_OAM) !== 0; }
  critical(): boolean { return (this.u8(1) & GENEVE_FLAG_CRITICAL) !== 0; }
  protocol(): number { return this.u16(GENEVE_PROTO); }
  vni(): number { return this.u32(GENEVE_VNI) >>> 8; }
  options(): Uint8Array { return this.bytesAt(GENEVE_HEADER_LEN, this.optLen()); }
}

export interface GeneveOption {
  optClass: number;
  type: number;
  /** Option data, a multiple of 4 bytes (≤ 124). */
  data: Uint8Array;
}

export interface GeneveRepr {
  vni: number;
  oam: boolean;
  critical: boolean;
  protocol: number;
  options: GeneveOption[];
}

/** Splits raw option bytes into TLVs; null when a TLV overruns. */
export function parseGeneveOptions(b: Uint8Array, off: number, len: number): GeneveOption[] | null {
  const out: GeneveOption[] = [];
  let p = off;
  const end = off + len;
  while (p < end) {
    if (p + 4 > end) return null;
    const l = (b[p + 3]! & 0x1f) * 4;
    if (p + 4 + l > end) return null;
    out.push({ optClass: get16(b, p), type: b[p + 2]!, data: b.slice(p + 4, p + 4 + l) });
    p += 4 + l;
  }
  return out;
}

export function parseGeneve(b: Uint8Array, off: number, len: number): (GeneveRepr & { headerLen: number }) | null {
  const v = GeneveView.check(b, off, len);
  if (v === null) return null;
  const options = parseGeneveOptions(b, off + GENEVE_HEADER_LEN, v.optLen());
  if (options === null) return null;
  return { vni: v.vni(), oam: v.oam(), critical: v.critical(), protocol: v.protocol(), options, headerLen: v.headerLen() };
}

export function geneveOptionsLen(opts: readonly GeneveOption[]): number {
  let n = 0;
  for (const o of opts) n += 4 + ((o.data.length + 3) & ~3);
  return n;
}

/** Writes options as TLVs; returns bytes written. */
export function emitGeneveOptions(opts: readonly GeneveOption[], b: Uint8Array, off: number): number {
  let p = off;
  for (const o of opts) {
    const l = (o.data.length + 3) & ~3;
    set16(b, p, o.optClass);
    b[p + 2] = o.type;
    b[p + 3] = (l / 4) & 0x1f;
    b.fill(0, p + 4, p + 4 + l);
    b.set(o.data, p + 4);
    p += 4 + l;
  }
  return p - off;
}

export function emitGeneve(r: GeneveRepr, b: Uint8Array, off: number): number {
  const ol = geneveOptionsLen(r.options);
  b[off] = (ol / 4) & 0x3f;
  b[off + 1] = (r.oam ? GENEVE_FLAG_OAM : 0) | (r.critical ? GENEVE_FLAG_CRITICAL : 0);
  set16(b, off + 2, r.protocol || ETH_TYPE_TEB);
  set32(b, off + 4, ((r.vni & 0xffffff) << 8) >>> 0);
  return GENEVE_HEADER_LEN + emitGeneveOptions(r.options, b, off + GENEVE_HEADER_LEN);
}
