/**
 * pcap capture files for dummy ports, as netdev-dummy's options:
 *   - `pcap=FILE`: frames received *and* transmitted are appended to FILE;
 *   - `rxq_pcap=FILE`: received frames are appended to FILE;
 *   - `tx_pcap=FILE`: transmitted frames are appended to FILE.
 * Files are opened for append; an empty file gets the pcap global header
 * first, an existing one must be a pcap file (as OVS's ovs_pcap_open "ab").
 *
 * tsovs extension: `source_pcap=FILE` makes the port receive every frame
 * of FILE once, when the option is set (OVS's dummy ports have no such
 * source; `netdev-dummy/receive` is their only input).
 */
import * as fs from "node:fs";
import { isPcapError, pcapGlobalHeader, pcapRecord, readPcap, PCAP_GLOBAL_HEADER_LEN, PCAP_MAGIC_NSEC, PCAP_MAGIC_USEC } from "../packet/pcap.js";

export class PcapWriter {
  readonly path: string;
  private fd: number;

  private constructor(path: string, fd: number) {
    this.path = path;
    this.fd = fd;
  }

  /** Opens `path` for appending records; returns the writer or an error message. */
  static open(path: string): PcapWriter | string {
    let fd: number;
    try {
      fd = fs.openSync(path, "a+");
    } catch (e) {
      return `${path}: failed to open pcap file (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
    try {
      const size = fs.fstatSync(fd).size;
      if (size === 0) {
        fs.writeSync(fd, pcapGlobalHeader());
      } else {
        const head = Buffer.alloc(PCAP_GLOBAL_HEADER_LEN);
        fs.readSync(fd, head, 0, PCAP_GLOBAL_HEADER_LEN, 0);
        const le = head.readUInt32LE(0);
        const be = head.readUInt32BE(0);
        const ok = le === PCAP_MAGIC_USEC || le === PCAP_MAGIC_NSEC || be === PCAP_MAGIC_USEC || be === PCAP_MAGIC_NSEC;
        if (!ok) {
          fs.closeSync(fd);
          return `${path}: bad magic 0x${le.toString(16).padStart(8, "0")} reading pcap file`;
        }
      }
    } catch (e) {
      fs.closeSync(fd);
      return `${path}: failed to open pcap file (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
    }
    return new PcapWriter(path, fd);
  }

  /** Appends one frame (bytes `buf[start .. start+len)`), stamped now. */
  write(buf: Uint8Array, start: number, len: number): void {
    const ns = BigInt(Date.now()) * 1_000_000n;
    try {
      fs.writeSync(this.fd, pcapRecord(buf.subarray(start, start + len), ns));
    } catch {
      // A full disk must not stop the datapath; the capture is best effort.
    }
  }

  close(): void {
    try {
      fs.closeSync(this.fd);
    } catch {
      /* already closed */
    }
  }
}

/** Reads every frame of a pcap file, or returns an error message. */
export function readPcapFrames(path: string): Uint8Array[] | string {
  let bytes: Uint8Array;
  try {
    bytes = new Uint8Array(fs.readFileSync(path));
  } catch (e) {
    return `${path}: failed to open pcap file (${(e as NodeJS.ErrnoException).code ?? String(e)})`;
  }
  const f = readPcap(bytes);
  if (isPcapError(f)) return `${path}: ${f.error}`;
  return f.records.map((r) => r.data);
}
