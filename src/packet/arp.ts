/** ARP/RARP for Ethernet/IPv4 (RFC 826). */
import { HeaderView, get16, set16, set32 } from "./bytes.js";
import { ARP_HTYPE_ETHERNET, ETH_TYPE_IP } from "./constants.js";

export const ARP_HTYPE = 0;
export const ARP_PTYPE = 2;
export const ARP_HLEN = 4;
export const ARP_PLEN = 5;
export const ARP_OP = 6;
export const ARP_SHA = 8;
export const ARP_SPA = 14;
export const ARP_THA = 18;
export const ARP_TPA = 24;
export const ARP_ETH_HEADER_LEN = 28;

export class ArpView extends HeaderView {
  /** A view of an Ethernet/IPv4 ARP packet, else null. */
  static check(buf: Uint8Array, off: number, len: number): ArpView | null {
    if (len < ARP_ETH_HEADER_LEN || off + len > buf.length) return null;
    if (get16(buf, off) !== ARP_HTYPE_ETHERNET || get16(buf, off + 2) !== ETH_TYPE_IP || buf[off + 4] !== 6 || buf[off + 5] !== 4) return null;
    return new ArpView(buf, off, len);
  }
  op(): number { return this.u16(ARP_OP); }
  setOp(v: number): void { this.setU16(ARP_OP, v); }
  sha(): Uint8Array { return this.bytesAt(ARP_SHA, 6); }
  setSha(m: Uint8Array): void { this.setBytesAt(ARP_SHA, m); }
  spa(): number { return this.u32(ARP_SPA); }
  setSpa(v: number): void { this.setU32(ARP_SPA, v); }
  tha(): Uint8Array { return this.bytesAt(ARP_THA, 6); }
  setTha(m: Uint8Array): void { this.setBytesAt(ARP_THA, m); }
  tpa(): number { return this.u32(ARP_TPA); }
  setTpa(v: number): void { this.setU32(ARP_TPA, v); }
}

export interface ArpRepr {
  op: number;
  sha: Uint8Array;
  spa: number;
  tha: Uint8Array;
  tpa: number;
}

export function parseArp(b: Uint8Array, off: number, len: number): ArpRepr | null {
  const v = ArpView.check(b, off, len);
  if (v === null) return null;
  return { op: v.op(), sha: v.sha(), spa: v.spa(), tha: v.tha(), tpa: v.tpa() };
}

export function emitArp(r: ArpRepr, b: Uint8Array, off: number): number {
  set16(b, off, ARP_HTYPE_ETHERNET);
  set16(b, off + 2, ETH_TYPE_IP);
  b[off + 4] = 6;
  b[off + 5] = 4;
  set16(b, off + 6, r.op);
  b.set(r.sha, off + ARP_SHA);
  set32(b, off + ARP_SPA, r.spa);
  b.set(r.tha, off + ARP_THA);
  set32(b, off + ARP_TPA, r.tpa);
  return ARP_ETH_HEADER_LEN;
}
