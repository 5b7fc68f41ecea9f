/**
 * ICMP (RFC 792) and ICMPv6 (RFC 4443) headers, and Neighbor Discovery
 * (RFC 4861) solicitations/advertisements with their link-layer options.
 */
import { get32, HeaderView, set16, set32 } from "./bytes.js";
import { ND_NEIGHBOR_ADVERT, ND_NEIGHBOR_SOLICIT, ND_OPT_SOURCE_LINKADDR, ND_OPT_TARGET_LINKADDR } from "./constants.js";

export const ICMP_TYPE = 0;
export const ICMP_CODE = 1;
export const ICMP_CSUM = 2;
/** The 4 type-specific bytes (echo id/seq, ND reserved flags...). */
export const ICMP_REST = 4;
export const ICMP_HEADER_LEN = 8;
/** ND: target address after the 8-byte ICMPv6 header. */
export const ND_TARGET = 8;
export const ND_HEADER_LEN = 24;
export const ND_OPT_LEN_UNIT = 8;

export class IcmpView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): IcmpView | null {
    return len >= ICMP_HEADER_LEN && off + len <= buf.length ? new IcmpView(buf, off, len) : null;
  }
  icmpType(): number { return this.u8(ICMP_TYPE); }
  setIcmpType(v: number): void { this.setU8(ICMP_TYPE, v); }
  code(): number { return this.u8(ICMP_CODE); }
  setCode(v: number): void { this.setU8(ICMP_CODE, v); }
  checksum(): number { return this.u16(ICMP_CSUM); }
  setChecksum(v: number): void { this.setU16(ICMP_CSUM, v); }
  rest(): number { return this.u32(ICMP_REST); }
  setRest(v: number): void { this.setU32(ICMP_REST, v); }
}

export interface IcmpRepr {
  type: number;
  code: number;
  /** The 4 bytes after the checksum. */
  rest: number;
}

export function parseIcmp(b: Uint8Array, off: number, len: number): IcmpRepr | null {
  const v = IcmpView.check(b, off, len);
  return v === null ? null : { type: v.icmpType(), code: v.code(), rest: v.rest() };
}

/** Writes the 8-byte header with checksum 0. */
export function emitIcmp(r: IcmpRepr, b: Uint8Array, off: number): number {
  b[off] = r.type;
  b[off + 1] = r.code;
  set16(b, off + 2, 0);
  set32(b, off + 4, r.rest);
  return ICMP_HEADER_LEN;
}

export interface NdOption {
  type: number;
  /** Option body after type and length (a MAC for SLL/TLL), padded to 8-byte units on emit. */
  body: Uint8Array;
}

export interface NdRepr {
  /** ND_NEIGHBOR_SOLICIT or ND_NEIGHBOR_ADVERT. */
  type: number;
  /** The 32-bit reserved/flags word (R/S/O in the top bits for NA). */
  reserved: number;
  target: Uint8Array;
  options: NdOption[];
}

/** Parses an NS/NA message (code 0); null for anything else or when malformed. */
export function parseNd(b: Uint8Array, off: number, len: number): NdRepr | null {
  if (len < ND_HEADER_LEN || off + len > b.length) return null;
  const type = b[off]!;
  if ((type !== ND_NEIGHBOR_SOLICIT && type !== ND_NEIGHBOR_ADVERT) || b[off + 1] !== 0) return null;
  const options: NdOption[] = [];
  let p = off + ND_HEADER_LEN;
  const end = off + len;
  while (p + 2 <= end) {
    const l = b[p + 1]! * ND_OPT_LEN_UNIT;
    if (l === 0 || p + l > end) return null;
    options.push({ type: b[p]!, body: b.slice(p + 2, p + l) });
    p += l;
  }
  return { type, reserved: get32(b, off + 4), target: b.slice(off + 8, off + 24), options };
}

export function ndLen(r: NdRepr): number {
  let n = ND_HEADER_LEN;
  for (const o of r.options) n += (2 + o.body.length + 7) & ~7;
  return n;
}

/** Writes NS/NA with checksum 0 (fill with l4Checksum and an IPv6 pseudo-header sum). */
export function emitNd(r: NdRepr, b: Uint8Array, off: number): number {
  b[off] = r.type;
  b[off + 1] = 0;
  set16(b, off + 2, 0);
  set32(b, off + 4, r.reserved);
  b.set(r.target, off + 8);
  let p = off + ND_HEADER_LEN;
  for (const o of r.options) {
    const l = (2 + o.body.length + 7) & ~7;
    b.fill(0, p, p + l);
    b[p] = o.type;
    b[p + 1] = l / ND_OPT_LEN_UNIT;
    b.set(o.body, p + 2);
    p += l;
  }
  return p - off;
}

/** An SLL or TLL option carrying `mac`. */
export function ndLinkAddrOption(target: boolean, mac: Uint8Array): NdOption {
  return { type: target ? ND_OPT_TARGET_LINKADDR : ND_OPT_SOURCE_LINKADDR, body: mac };
}
