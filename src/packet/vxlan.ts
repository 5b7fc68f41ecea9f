/** VXLAN headers (RFC 7348), with the Group Based Policy extension bits OVS supports. */
import { get16, get32, HeaderView, set16, set32 } from "./bytes.js";

export const VXLAN_FLAGS = 0;
export const VXLAN_GBP_ID = 2;
export const VXLAN_VNI = 4;
export const VXLAN_HEADER_LEN = 8;
/** The I flag: VNI valid. */
export const VXLAN_FLAG_VNI = 0x08000000;
/** The G flag of VXLAN-GBP (the first flags byte is 0x88 with it). */
export const VXLAN_FLAG_GBP = 0x80000000;

export class VxlanView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): VxlanView | null {
    return len >= VXLAN_HEADER_LEN && off + len <= buf.length ? new VxlanView(buf, off, len) : null;
  }
  flags(): number { return this.u32(VXLAN_FLAGS); }
  vni(): number { return this.u32(VXLAN_VNI) >>> 8; }
  setVni(v: number): void { this.setU32(VXLAN_VNI, (v & 0xffffff) << 8 >>> 0); }
  gbpId(): number { return this.u16(VXLAN_GBP_ID); }
}

export interface VxlanRepr {
  vni: number;
  /** Group Based Policy: present when gbp is not null. */
  gbp: { id: number; flags: number } | null;
}

/** Parses a header with the I flag set; null otherwise. */
export function parseVxlan(b: Uint8Array, off: number, len: number): VxlanRepr | null {
  if (len < VXLAN_HEADER_LEN || off + len > b.length) return null;
  const flags = get32(b, off);
  if ((flags & VXLAN_FLAG_VNI) === 0) return null;
  const gbp = (flags & VXLAN_FLAG_GBP) !== 0 ? { id: get16(b, off + 2), flags: b[off + 1]! } : null;
  return { vni: get32(b, off + 4) >>> 8, gbp };
}

export function emitVxlan(r: VxlanRepr, b: Uint8Array, off: number): number {
  if (r.gbp !== null) {
    b[off] = 0x88;
    b[off + 1] = r.gbp.flags;
    set16(b, off + 2, r.gbp.id);
  } else {
    set32(b, off, VXLAN_FLAG_VNI);
  }
  set32(b, off + 4, ((r.vni & 0xffffff) << 8) >>> 0);
  return VXLAN_HEADER_LEN;
}
