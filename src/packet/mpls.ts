/** MPLS label stack entries (RFC 3032): label(20) | tc(3) | bos(1) | ttl(8). */
import { get32, HeaderView, set32 } from "./bytes.js";

export const MPLS_HLEN = 4;

/** One label stack entry in place. */
export class MplsView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): MplsView | null {
    return len >= MPLS_HLEN && off + len <= buf.length ? new MplsView(buf, off, len) : null;
  }
  lse(): number { return this.u32(0); }
  setLse(v: number): void { this.setU32(0, v >>> 0); }
  label(): number { return this.u32(0) >>> 12; }
  setLabel(l: number): void { this.setU32(0, (((l & 0xfffff) << 12) | (this.u32(0) & 0xfff)) >>> 0); }
  tc(): number { return (this.u8(2) >>> 1) & 7; }
  setTc(tc: number): void { this.setU8(2, (this.u8(2) & 0xf1) | ((tc & 7) << 1)); }
  bos(): boolean { return (this.u8(2) & 1) !== 0; }
  setBos(b: boolean): void { this.setU8(2, (this.u8(2) & 0xfe) | (b ? 1 : 0)); }
  ttl(): number { return this.u8(3); }
  setTtl(t: number): void { this.setU8(3, t); }
}

export interface MplsLse {
  label: number;
  tc: number;
  bos: boolean;
  ttl: number;
}

export function mplsLseToRepr(lse: number): MplsLse {
  return { label: lse >>> 12, tc: (lse >>> 9) & 7, bos: ((lse >>> 8) & 1) === 1, ttl: lse & 0xff };
}

export function mplsReprToLse(r: MplsLse): number {
  return (((r.label & 0xfffff) << 12) | ((r.tc & 7) << 9) | (r.bos ? 0x100 : 0) | (r.ttl & 0xff)) >>> 0;
}

/** Parses a label stack up to and including the bottom-of-stack entry; null when truncated before it. */
export function parseMplsStack(b: Uint8Array, off: number, len: number): MplsLse[] | null {
  const out: MplsLse[] = [];
  for (let p = 0; p + 4 <= len; p += 4) {
    const r = mplsLseToRepr(get32(b, off + p));
    out.push(r);
    if (r.bos) return out;
  }
  return null;
}

/** Emits entries as given (the caller sets bos on the last). */
export function emitMplsStack(stack: readonly MplsLse[], b: Uint8Array, off: number): number {
  for (let i = 0; i < stack.length; i++) set32(b, off + 4 * i, mplsReprToLse(stack[i]!));
  return 4 * stack.length;
}
