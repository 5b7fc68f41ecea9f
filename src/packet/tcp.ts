/** TCP headers (RFC 9293): ports, flags, checksum with pseudo-header. */
import { get16, HeaderView, set16, set32 } from "./bytes.js";
import { csumFinish, csumPartial } from "./checksum.js";

export const TCP_SRC = 0;
export const TCP_DST = 2;
export const TCP_SEQ = 4;
export const TCP_ACK_NUM = 8;
/** Data offset (4 bits) | reserved (3) | flags (9). */
export const TCP_CTL = 12;
export const TCP_WINDOW = 14;
export const TCP_CSUM = 16;
export const TCP_URG_PTR = 18;
export const TCP_HEADER_LEN = 20;

export class TcpView extends HeaderView {
  /** A view when the fixed header and the header length it claims fit; else null. */
  static check(buf: Uint8Array, off: number, len: number): TcpView | null {
    if (len < TCP_HEADER_LEN || off + len > buf.length) return null;
    const hl = (buf[off + 12]! >>> 4) * 4;
    if (hl < TCP_HEADER_LEN || hl > len) return null;
    return new TcpView(buf, off, len);
  }
  srcPort(): number { return this.u16(TCP_SRC); }
  setSrcPort(v: number): void { this.setU16(TCP_SRC, v); }
  dstPort(): number { return this.u16(TCP_DST); }
  setDstPort(v: number): void { this.setU16(TCP_DST, v); }
  seq(): number { return this.u32(TCP_SEQ); }
  ack(): number { return this.u32(TCP_ACK_NUM); }
  headerLen(): number { return (this.u8(TCP_CTL) >>> 4) * 4; }
  /** The 12 flag bits (FIN 0x001 .. NS 0x100, reserved above). */
  flags(): number { return this.u16(TCP_CTL) & 0x0fff; }
  setFlags(f: number): void { this.setU16(TCP_CTL, (this.u16(TCP_CTL) & 0xf000) | (f & 0x0fff)); }
  window(): number { return this.u16(TCP_WINDOW); }
  checksum(): number { return this.u16(TCP_CSUM); }
  setChecksum(v: number): void { this.setU16(TCP_CSUM, v); }
}

export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: number;
  window: number;
  urgent: number;
  options: Uint8Array;
}

export function parseTcp(b: Uint8Array, off: number, len: number): TcpRepr | null {
  const v = TcpView.check(b, off, len);
  if (v === null) return null;
  return {
    srcPort: v.srcPort(),
    dstPort: v.dstPort(),
    seq: v.seq(),
    ack: v.ack(),
    flags: v.flags(),
    window: v.window(),
    urgent: get16(b, off + TCP_URG_PTR),
    options: b.slice(off + 20, off + v.headerLen()),
  };
}

export function tcpHeaderLen(r: TcpRepr): number {
  return TCP_HEADER_LEN + ((r.options.length + 3) & ~3);
}

/** Writes the header with checksum 0 (fill it with l4Checksum once the payload is in place). */
export function emitTcp(r: TcpRepr, b: Uint8Array, off: number): number {
  const hl = tcpHeaderLen(r);
  set16(b, off, r.srcPort);
  set16(b, off + 2, r.dstPort);
  set32(b, off + 4, r.seq);
  set32(b, off + 8, r.ack);
  set16(b, off + 12, ((hl >>> 2) << 12) | (r.flags & 0x0fff));
  set16(b, off + 14, r.window);
  set16(b, off + 16, 0);
  set16(b, off + 18, r.urgent);
  b.fill(0, off + 20, off + hl);
  b.set(r.options, off + 20);
  return hl;
}

/** Names of TCP flag bits as OVS prints them. */
export const TCP_FLAG_NAMES: readonly [number, string][] = [
  [0x001, "fin"],
  [0x002, "syn"],
  [0x004, "rst"],
  [0x008, "psh"],
  [0x010, "ack"],
  [0x020, "urg"],
  [0x040, "ece"],
  [0x080, "cwr"],
  [0x100, "ns"],
  [0x200, "[200]"],
  [0x400, "[400]"],
  [0x800, "[800]"],
];

/**
 * The checksum of an L4 segment (TCP/UDP/ICMPv6 or ICMPv4 when pseudo = 0)
 * at [off, off+len) whose checksum field is at `off + csumOff`, given a
 * pseudo-header partial sum. The field is treated as zero.
 */
export function l4Checksum(b: Uint8Array, off: number, len: number, csumOff: number, pseudo: number): number {
  let s = csumPartial(b, off, csumOff, pseudo);
  s = csumPartial(b, off + csumOff + 2, len - csumOff - 2, s + 0);
  // csumPartial pads an odd length at its end; csumOff is even so the split is safe.
  return csumFinish(s);
}
