/** UDP headers (RFC 768). */
import { HeaderView, set16 } from "./bytes.js";

export const UDP_SRC = 0;
export const UDP_DST = 2;
export const UDP_LEN = 4;
export const UDP_CSUM = 6;
export const UDP_HEADER_LEN = 8;

export class UdpView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): UdpView | null {
    return len >= UDP_HEADER_LEN && off + len <= buf.length ? new UdpView(buf, off, len) : null;
  }
  srcPort(): number { return this.u16(UDP_SRC); }
  setSrcPort(v: number): void { this.setU16(UDP_SRC, v); }
  dstPort(): number { return this.u16(UDP_DST); }
  setDstPort(v: number): void { this.setU16(UDP_DST, v); }
  length(): number { return this.u16(UDP_LEN); }
  setLength(v: number): void { this.setU16(UDP_LEN, v); }
  checksum(): number { return this.u16(UDP_CSUM); }
  setChecksum(v: number): void { this.setU16(UDP_CSUM, v); }
}

export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** Length field; 0 means header + payloadLen on emit. */
  length: number;
}

export function parseUdp(b: Uint8Array, off: number, len: number): UdpRepr | null {
  const v = UdpView.check(b, off, len);
  return v === null ? null : { srcPort: v.srcPort(), dstPort: v.dstPort(), length: v.length() };
}

/** Writes the header with checksum 0. */
export function emitUdp(r: UdpRepr, b: Uint8Array, off: number, payloadLen = 0): number {
  set16(b, off, r.srcPort);
  set16(b, off + 2, r.dstPort);
  set16(b, off + 4, r.length !== 0 ? r.length : UDP_HEADER_LEN + payloadLen);
  set16(b, off + 6, 0);
  return UDP_HEADER_LEN;
}
