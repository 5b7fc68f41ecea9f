/** GRE headers (RFC 2784/2890): checksum, key and sequence options. */
import { get16, get32, HeaderView, set16, set32 } from "./bytes.js";
import { internetChecksum } from "./checksum.js";

export const GRE_FLAGS = 0;
export const GRE_PROTO = 2;
export const GRE_BASE_LEN = 4;
export const GRE_CSUM_BIT = 0x8000;
export const GRE_KEY_BIT = 0x2000;
export const GRE_SEQ_BIT = 0x1000;
export const GRE_VERSION_MASK = 0x0007;

/** A GRE header in place; `check` accepts version 0 with all its optional words present. */
export class GreView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): GreView | null {
    if (len < GRE_BASE_LEN || off + len > buf.length) return null;
    const f = get16(buf, off);
    if ((f & GRE_VERSION_MASK) !== 0) return null;
    const hl = GRE_BASE_LEN + ((f & GRE_CSUM_BIT) ? 4 : 0) + ((f & GRE_KEY_BIT) ? 4 : 0) + ((f & GRE_SEQ_BIT) ? 4 : 0);
    return hl <= len ? new GreView(buf, off, len) : null;
  }
  flags(): number { return this.u16(GRE_FLAGS); }
  protocol(): number { return this.u16(GRE_PROTO); }
  setProtocol(p: number): void { this.setU16(GRE_PROTO, p); }
  headerLen(): number {
    const f = this.flags();
    return GRE_BASE_LEN + ((f & GRE_CSUM_BIT) ? 4 : 0) + ((f & GRE_KEY_BIT) ? 4 : 0) + ((f & GRE_SEQ_BIT) ? 4 : 0);
  }
  /** The key, or -1 when absent. */
  key(): number {
    const f = this.flags();
    return (f & GRE_KEY_BIT) ? this.u32(GRE_BASE_LEN + ((f & GRE_CSUM_BIT) ? 4 : 0)) : -1;
  }
}

export interface GreRepr {
  protocol: number;
  /** When true the checksum option is present (computed over header + payload on emit with fillGreChecksum). */
  csum: boolean;
  key: number | null;
  seq: number | null;
}

export function greHeaderLen(r: GreRepr): number {
  return GRE_BASE_LEN + (r.csum ? 4 : 0) + (r.key !== null ? 4 : 0) + (r.seq !== null ? 4 : 0);
}

/** Parses a version-0 GRE header; null when truncated or another version. */
export function parseGre(b: Uint8Array, off: number, len: number): (GreRepr & { headerLen: number }) | null {
  if (len < GRE_BASE_LEN || off + len > b.length) return null;
  const flags = get16(b, off);
  if ((flags & GRE_VERSION_MASK) !== 0) return null;
  let p = off + 4;
  const csum = (flags & GRE_CSUM_BIT) !== 0;
  if (csum) p += 4;
  let key: number | null = null;
  let seq: number | null = null;
  if ((flags & GRE_KEY_BIT) !== 0) {
    if (p + 4 > off + len) return null;
    key = get32(b, p);
    p += 4;
  }
  if ((flags & GRE_SEQ_BIT) !== 0) {
    if (p + 4 > off + len) return null;
    seq = get32(b, p);
    p += 4;
  }
  if (p > off + len) return null;
  return { protocol: get16(b, off + 2), csum, key, seq, headerLen: p - off };
}

export function emitGre(r: GreRepr, b: Uint8Array, off: number): number {
  set16(b, off, (r.csum ? GRE_CSUM_BIT : 0) | (r.key !== null ? GRE_KEY_BIT : 0) | (r.seq !== null ? GRE_SEQ_BIT : 0));
  set16(b, off + 2, r.protocol);
  let p = off + 4;
  if (r.csum) {
    set32(b, p, 0);
    p += 4;
  }
  if (r.key !== null) {
    set32(b, p, r.key);
    p += 4;
  }
  if (r.seq !== null) {
    set32(b, p, r.seq);
    p += 4;
  }
  return p - off;
}

/** Fills the GRE checksum over header + payload [off, off+len) when the C bit is set. */
export function fillGreChecksum(b: Uint8Array, off: number, len: number): void {
  if ((get16(b, off) & GRE_CSUM_BIT) === 0) return;
  set16(b, off + 4, 0);
  set16(b, off + 4, internetChecksum(b, off, len));
}
