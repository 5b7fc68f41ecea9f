/**
 * Classic libpcap files (not pcapng): what tcpdump -w writes and
 * Wireshark and `ovs-ofctl parse-pcap` read. Both byte orders and both
 * timestamp resolutions (microsecond magic 0xa1b2c3d4, nanosecond
 * 0xa1b23c4d) are read; files are written little-endian, microseconds,
 * link type Ethernet (1) unless told otherwise.
 *
 * Malformed files are reported as `PcapError` values, never thrown.
 */
import { concatBytes } from "./bytes.js";

export const PCAP_MAGIC_USEC = 0xa1b2c3d4;
export const PCAP_MAGIC_NSEC = 0xa1b23c4d;
export const PCAP_LINKTYPE_ETHERNET = 1;
export const PCAP_GLOBAL_HEADER_LEN = 24;
export const PCAP_RECORD_HEADER_LEN = 16;

export interface PcapRecord {
  /** Capture time in nanoseconds since the epoch. */
  timeNs: bigint;
  /** The captured bytes. */
  data: Uint8Array;
  /** Length on the wire (≥ data.length when the capture was snapped). */
  origLen: number;
}

export interface PcapFile {
  linkType: number;
  snapLen: number;
  nanosecond: boolean;
  records: PcapRecord[];
}

export interface PcapError {
  error: string;
}

/** Parses a whole pcap file. A truncated last record is an error with the records before it kept out. */
export function readPcap(bytes: Uint8Array): PcapFile | PcapError {
  if (bytes.length < PCAP_GLOBAL_HEADER_LEN) return { error: "failed to read pcap header: End of file" };
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let le: boolean;
  let nanosecond: boolean;
  const m = dv.getUint32(0, true);
  if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC) {
    le = true;
    nanosecond = m === PCAP_MAGIC_NSEC;
  } else {
    const mb = dv.getUint32(0, false);
    if (mb !== PCAP_MAGIC_USEC && mb !== PCAP_MAGIC_NSEC) return { error: `bad magic 0x${m.toString(16).padStart(8, "0")} reading pcap file` };
    le = false;
    nanosecond = mb === PCAP_MAGIC_NSEC;
  }
  const snapLen = dv.getUint32(16, le);
  const linkType = dv.getUint32(20, le);
  const records: PcapRecord[] = [];
  let p = PCAP_GLOBAL_HEADER_LEN;
  while (p < bytes.length) {
    if (p + PCAP_RECORD_HEADER_LEN > bytes.length) return { error: "failed to read pcap record header: End of file" };
    const sec = dv.getUint32(p, le);
    const frac = dv.getUint32(p + 4, le);
    const capLen = dv.getUint32(p + 8, le);
    const origLen = dv.getUint32(p + 12, le);
    if (capLen > 0x3ffff) return { error: `bad packet length ${capLen} in pcap file` };
    p += PCAP_RECORD_HEADER_LEN;
    if (p + capLen > bytes.length) return { error: "failed to read pcap packet: End of file" };
    const timeNs = BigInt(sec) * 1_000_000_000n + BigInt(frac) * (nanosecond ? 1n : 1000n);
    records.push({ timeNs, data: bytes.slice(p, p + capLen), origLen });
    p += capLen;
  }
  return { linkType, snapLen, nanosecond, records };
}

export function isPcapError(x: PcapFile | PcapError): x is PcapError {
  return (x as PcapError).error !== undefined;
}

/** The 24-byte global header (little-endian, microseconds). */
export function pcapGlobalHeader(linkType = PCAP_LINKTYPE_ETHERNET, snapLen = 262144): Uint8Array {
  const b = new Uint8Array(PCAP_GLOBAL_HEADER_LEN);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, PCAP_MAGIC_USEC, true);
  dv.setUint16(4, 2, true);
  dv.setUint16(6, 4, true);
  dv.setInt32(8, 0, true);
  dv.setUint32(12, 0, true);
  dv.setUint32(16, snapLen, true);
  dv.setUint32(20, linkType, true);
  return b;
}

/** One record (16-byte header + data); `timeNs` rounds down to microseconds. */
export function pcapRecord(data: Uint8Array, timeNs: bigint = 0n, origLen = data.length): Uint8Array {
  const b = new Uint8Array(PCAP_RECORD_HEADER_LEN + data.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, Number(timeNs / 1_000_000_000n), true);
  dv.setUint32(4, Number((timeNs % 1_000_000_000n) / 1000n), true);
  dv.setUint32(8, data.length, true);
  dv.setUint32(12, origLen, true);
  b.set(data, PCAP_RECORD_HEADER_LEN);
  return b;
}

/** A whole pcap file of the given frames. */
export function writePcap(frames: readonly (Uint8Array | PcapRecord)[], linkType = PCAP_LINKTYPE_ETHERNET): Uint8Array {
  const parts: Uint8Array[] = [pcapGlobalHeader(linkType)];
  for (const f of frames) {
    if (f instanceof Uint8Array) parts.push(pcapRecord(f));
    else parts.push(pcapRecord(f.data, f.timeNs, f.origLen));
  }
  return concatBytes(parts);
}

/**
 * Incremental reader for a pcap stream (e.g. a dummy netdev's rx file):
 * feed chunks, take whole records as they complete.
 */
export class PcapStreamReader {
  private buf = new Uint8Array(0);
  private le = true;
  private nano = false;
  private haveHeader = false;
  linkType = 0;
  error: string | null = null;

  push(chunk: Uint8Array): PcapRecord[] {
    const out: PcapRecord[] = [];
    if (this.error !== null) return out;
    const nb = new Uint8Array(this.buf.length + chunk.length);
    nb.set(this.buf);
    nb.set(chunk, this.buf.length);
    this.buf = nb;
    let p = 0;
    const dv = new DataView(nb.buffer, nb.byteOffset, nb.byteLength);
    if (!this.haveHeader) {
      if (nb.length < PCAP_GLOBAL_HEADER_LEN) return out;
      const m = dv.getUint32(0, true);
      const mb = dv.getUint32(0, false);
      if (m === PCAP_MAGIC_USEC || m === PCAP_MAGIC_NSEC) {
        this.le = true;
        this.nano = m === PCAP_MAGIC_NSEC;
      } else if (mb === PCAP_MAGIC_USEC || mb === PCAP_MAGIC_NSEC) {
        this.le = false;
        this.nano = mb === PCAP_MAGIC_NSEC;
      } else {
        this.error = `bad magic 0x${m.toString(16)} reading pcap file`;
        return out;
      }
      this.linkType = dv.getUint32(20, this.le);
      this.haveHeader = true;
      p = PCAP_GLOBAL_HEADER_LEN;
    }
    while (p + PCAP_RECORD_HEADER_LEN <= nb.length) {
      const capLen = dv.getUint32(p + 8, this.le);
      if (capLen > 0x3ffff) {
        this.error = `bad packet length ${capLen} in pcap file`;
        break;
      }
      if (p + PCAP_RECORD_HEADER_LEN + capLen > nb.length) break;
      const sec = dv.getUint32(p, this.le);
      const frac = dv.getUint32(p + 4, this.le);
      out.push({
        timeNs: BigInt(sec) * 1_000_000_000n + BigInt(frac) * (this.nano ? 1n : 1000n),
        data: nb.slice(p + PCAP_RECORD_HEADER_LEN, p + PCAP_RECORD_HEADER_LEN + capLen),
        origLen: dv.getUint32(p + 12, this.le),
      });
      p += PCAP_RECORD_HEADER_LEN + capLen;
    }
    this.buf = nb.slice(p);
    return out;
  }
}
