/**
 * Ethernet II frames with 802.1Q / 802.1ad VLAN tags (up to two, "QinQ"),
 * and 802.2 LLC/SNAP recognition.
 */
import { get16, HeaderView, macToString, set16 } from "./bytes.js";
import { ETH_TYPE_VLAN_8021AD, ETH_TYPE_VLAN_8021Q, VLAN_CFI, VLAN_PCP_SHIFT, VLAN_VID_MASK } from "./constants.js";

export const ETH_DST = 0;
export const ETH_SRC = 6;
export const ETH_TYPE = 12;
export const ETH_HEADER_LEN = 14;
export const ETH_ADDR_LEN = 6;
export const VLAN_HEADER_LEN = 4;
/** Offsets inside a VLAN tag (from the TPID). */
export const VLAN_TPID = 0;
export const VLAN_TCI = 2;

export class EthernetView extends HeaderView {
  /** A view when at least an Ethernet header fits, else null. */
  static check(buf: Uint8Array, off: number, len: number): EthernetView | null {
    return len >= ETH_HEADER_LEN && off + len <= buf.length ? new EthernetView(buf, off, len) : null;
  }
  dst(): Uint8Array {
    return this.bytesAt(ETH_DST, 6);
  }
  setDst(m: Uint8Array): void {
    this.setBytesAt(ETH_DST, m);
  }
  src(): Uint8Array {
    return this.bytesAt(ETH_SRC, 6);
  }
  setSrc(m: Uint8Array): void {
    this.setBytesAt(ETH_SRC, m);
  }
  ethType(): number {
    return this.u16(ETH_TYPE);
  }
  setEthType(t: number): void {
    this.setU16(ETH_TYPE, t);
  }
}

export interface VlanTag {
  /** 0x8100 or 0x88a8. */
  tpid: number;
  /** Priority code point 0..7. */
  pcp: number;
  /** Drop eligible (the CFI/DEI bit). */
  dei: boolean;
  vid: number;
}

export interface EthernetRepr {
  dst: Uint8Array;
  src: Uint8Array;
  /** Tags outermost first (0..2 are usual; more are emitted as given). */
  vlans: VlanTag[];
  /** Ethertype after the tags (or an 802.3 length < 0x600). */
  ethType: number;
}

/** Parses Ethernet + VLAN tags; `headerLen` in the result says where the payload begins. */
export function parseEthernet(b: Uint8Array, off: number, len: number): (EthernetRepr & { headerLen: number }) | null {
  if (len < ETH_HEADER_LEN || off + len > b.length) return null;
  const vlans: VlanTag[] = [];
  let p = off + 12;
  let t = get16(b, p);
  while ((t === ETH_TYPE_VLAN_8021Q || t === ETH_TYPE_VLAN_8021AD) && p + 6 <= off + len) {
    const tci = get16(b, p + 2);
    vlans.push({ tpid: t, pcp: tci >>> VLAN_PCP_SHIFT, dei: (tci & VLAN_CFI) !== 0, vid: tci & VLAN_VID_MASK });
    p += 4;
    t = get16(b, p);
  }
  return { dst: b.slice(off, off + 6), src: b.slice(off + 6, off + 12), vlans, ethType: t, headerLen: p + 2 - off };
}

export function ethernetHeaderLen(r: EthernetRepr): number {
  return ETH_HEADER_LEN + VLAN_HEADER_LEN * r.vlans.length;
}

/** Writes the header at `off`; returns its length. */
export function emitEthernet(r: EthernetRepr, b: Uint8Array, off: number): number {
  b.set(r.dst, off);
  b.set(r.src, off + 6);
  let p = off + 12;
  for (const v of r.vlans) {
    set16(b, p, v.tpid);
    set16(b, p + 2, ((v.pcp & 7) << VLAN_PCP_SHIFT) | (v.dei ? VLAN_CFI : 0) | (v.vid & VLAN_VID_MASK));
    p += 4;
  }
  set16(b, p, r.ethType);
  return p + 2 - off;
}

export function ethernetToString(r: EthernetRepr): string {
  const tags = r.vlans.map((v) => `vlan(tpid=0x${v.tpid.toString(16)},vid=${v.vid},pcp=${v.pcp})`).join(",");
  return `eth(src=${macToString(r.src)},dst=${macToString(r.dst)})${tags ? "," + tags : ""},eth_type=0x${r.ethType.toString(16).padStart(4, "0")}`;
}

/** True for a multicast (or broadcast) MAC. */
export function macIsMulticast(m: Uint8Array, off = 0): boolean {
  return (m[off]! & 1) !== 0;
}

/** The 802.2 LLC/SNAP header length OVS recognises (DSAP=SSAP=0xaa, ctl 3, OUI 0). */
export const LLC_SNAP_HEADER_LEN = 8;
