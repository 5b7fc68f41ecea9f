/** SCTP common header (RFC 9260) and its CRC32c checksum. */
import { HeaderView, set16, set32 } from "./bytes.js";
import { sctpChecksum } from "./checksum.js";

export const SCTP_SRC = 0;
export const SCTP_DST = 2;
export const SCTP_VTAG = 4;
export const SCTP_CSUM = 8;
export const SCTP_HEADER_LEN = 12;

export class SctpView extends HeaderView {
  static check(buf: Uint8Array, off: number, len: number): SctpView | null {
    return len >= SCTP_HEADER_LEN && off + len <= buf.length ? new SctpView(buf, off, len) : null;
  }
  srcPort(): number { return this.u16(SCTP_SRC); }
  setSrcPort(v: number): void { this.setU16(SCTP_SRC, v); }
  dstPort(): number { return this.u16(SCTP_DST); }
  setDstPort(v: number): void { this.setU16(SCTP_DST, v); }
  vtag(): number { return this.u32(SCTP_VTAG); }
  checksum(): number { return this.u32(SCTP_CSUM); }
  /** Recomputes the CRC32c over the whole packet (`len` bytes). */
  fillChecksum(): void { this.setU32(SCTP_CSUM, sctpChecksum(this.buf, this.off, this.len)); }
  checksumValid(): boolean { return sctpChecksum(this.buf, this.off, this.len) === this.checksum(); }
}

export interface SctpRepr {
  srcPort: number;
  dstPort: number;
  vtag: number;
}

export function parseSctp(b: Uint8Array, off: number, len: number): SctpRepr | null {
  const v = SctpView.check(b, off, len);
  return v === null ? null : { srcPort: v.srcPort(), dstPort: v.dstPort(), vtag: v.vtag() };
}

export function emitSctp(r: SctpRepr, b: Uint8Array, off: number): number {
  set16(b, off, r.srcPort);
  set16(b, off + 2, r.dstPort);
  set32(b, off + 4, r.vtag);
  set32(b, off + 8, 0);
  return SCTP_HEADER_LEN;
}
