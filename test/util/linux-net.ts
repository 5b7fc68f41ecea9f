/**
 * Helpers for tests and benchmarks of the kernel-backed netdevs: a skip
 * reason when they cannot run here, veth pairs that are always deleted,
 * `ip` invocations, test frames, and polling a netdev until frames arrive.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { DpPacketBatch, type DpPacketPool } from "../../src/packet/dp-packet.js";
import type { Netdev } from "../../src/netdev/netdev-provider.js";
import {
  AF_PACKET, PACKET_IGNORE_OUTGOING, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, getIfIndex, linuxFfi, setsockoptInt,
} from "../../src/netdev/linux-ffi.js";

/** A skip reason unless root on Linux with the FFI, `ip` and /dev/net/tun. */
export function linuxNetSkip(): string | false {
  if (process.platform !== "linux") return "needs Linux";
  if (typeof process.getuid !== "function" || process.getuid() !== 0) return "needs root (raw sockets, veth, TAP)";
  const ffi = linuxFfi();
  if (typeof ffi === "string") return ffi;
  if (spawnSync("ip", ["-V"]).status !== 0) return "iproute2 `ip` not installed";
  if (!fs.existsSync("/dev/net/tun")) return "/dev/net/tun missing";
  return false;
}

/** Runs `ip ARGS`; throws with its stderr when it fails. */
export function ip(...args: string[]): string {
  const r = spawnSync("ip", args, { encoding: "utf8", timeout: 10_000 });
  if (r.status !== 0) throw new Error(`ip ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** True when the kernel has an interface `name`. */
export function linkExists(name: string): boolean {
  return fs.existsSync(`/sys/class/net/${name}`);
}

/** Deletes interface `name` if it exists (never throws). */
export function deleteLink(name: string): void {
  if (linkExists(name)) spawnSync("ip", ["link", "del", name], { timeout: 10_000 });
}

/** A short interface-name prefix unique to this process (names stay < 16 bytes). */
export function ifPrefix(tag: string): string {
  return `t${tag}${process.pid % 100000}`;
}

/**
 * Creates veth pair a <-> b, both up, without IPv6 (no router solicitations
 * or MLD reports in the captures), with TX offloads left as they are.
 */
export function createVeth(a: string, b: string): void {
  deleteLink(a);
  ip("link", "add", a, "type", "veth", "peer", "name", b);
  for (const n of [a, b]) {
    disableIpv6(n);
    ip("link", "set", n, "up");
  }
}

/** Turns IPv6 off on `name` so bringing it up sends no solicitations or MLD reports. */
export function disableIpv6(name: string): void {
  try {
    fs.writeFileSync(`/proc/sys/net/ipv6/conf/${name}/disable_ipv6`, "1");
  } catch {
    /* IPv6 may be compiled out: nothing to silence then */
  }
}

/** The experimental EtherType the test frames use (IEEE 802 local experimental 1). */
export const TEST_ETHERTYPE = 0x88b5;

/** An Ethernet frame of `len` bytes (>= 18) from `src` to `dst` carrying `seq`. */
export function testFrame(seq: number, len = 64, dst = "ff:ff:ff:ff:ff:ff", src = "02:00:00:00:00:01"): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst.split(":").map((h) => parseInt(h, 16)), 0);
  f.set(src.split(":").map((h) => parseInt(h, 16)), 6);
  const dv = new DataView(f.buffer);
  dv.setUint16(12, TEST_ETHERTYPE);
  dv.setUint32(14, seq);
  for (let i = 18; i < len; i++) f[i] = (i * 7 + seq) & 0xff;
  return f;
}

/** The sequence number of a test frame, or -1 for any other frame. */
export function frameSeq(f: Uint8Array): number {
  if (f.length < 18) return -1;
  const dv = new DataView(f.buffer, f.byteOffset, f.byteLength);
  return dv.getUint16(12) === TEST_ETHERTYPE ? dv.getUint32(14) : -1;
}

/**
 * Polls `nd` until `want` test frames arrived or `timeoutMs` passed;
 * returns the test frames (copies) in arrival order and the batch sizes seen.
 */
export async function receiveFrames(nd: Netdev, pool: DpPacketPool, want: number, timeoutMs = 3000): Promise<{ frames: Uint8Array[]; batches: number[] }> {
  const batch = new DpPacketBatch();
  const frames: Uint8Array[] = [];
  const batches: number[] = [];
  const deadline = Date.now() + timeoutMs;
  while (frames.length < want && Date.now() < deadline) {
    const n = nd.rxBatch(batch, pool);
    if (n === 0) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    batches.push(n);
    for (let i = 0; i < batch.count; i++) {
      const d = batch.get(i).data();
      if (frameSeq(d) >= 0) frames.push(d.slice());
    }
    batch.releaseAll();
  }
  return { frames, batches };
}

/** A plain AF_PACKET socket on one interface: the test's independent peer. */
export interface RawSocket {
  send(frame: Uint8Array): boolean;
  /** Next received frame (incoming only), or null when none is queued. */
  recv(): Uint8Array | null;
  close(): void;
}

export function openRawSocket(ifname: string): RawSocket {
  const ffi = linuxFfi();
  if (typeof ffi === "string") throw new Error(ffi);
  const libc = ffi.libc;
  const fd = libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0x0300);
  if (fd < 0) throw new Error(`socket: errno ${ffi.errno()}`);
  const sll = new Uint8Array(20);
  const dv = new DataView(sll.buffer);
  dv.setUint16(0, AF_PACKET, true);
  dv.setUint16(2, 0x0003, false);
  dv.setInt32(4, getIfIndex(ffi, ifname), true);
  if (libc.bind(fd, sll, 20) < 0) throw new Error(`bind ${ifname}: errno ${ffi.errno()}`);
  setsockoptInt(ffi, fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
  const buf = ffi.alloc(65536);
  return {
    send(frame: Uint8Array): boolean {
      buf.u8.set(frame, 0);
      return libc.write(fd, buf.addr, frame.length) === frame.length;
    },
    recv(): Uint8Array | null {
      const n = libc.read(fd, buf.addr, 65536);
      return n > 0 ? buf.u8.slice(0, n) : null;
    },
    close(): void {
      libc.close(fd);
      buf.free();
    },
  };
}

/** Reads frames from `s` until `want` test frames arrived or the timeout passed. */
export async function rawReceive(s: RawSocket, want: number, timeoutMs = 3000): Promise<Uint8Array[]> {
  const out: Uint8Array[] = [];
  const deadline = Date.now() + timeoutMs;
  while (out.length < want && Date.now() < deadline) {
    const f = s.recv();
    if (f === null) {
      await new Promise((r) => setTimeout(r, 2));
      continue;
    }
    if (frameSeq(f) >= 0) out.push(f);
  }
  return out;
}
