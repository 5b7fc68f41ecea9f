/**
 * The `internal` and `tap` netdev types on the userspace datapath (OVS's
 * netdev-linux "tap" class): a TAP device from /dev/net/tun (IFF_TAP |
 * IFF_NO_PI) named after the port, so the host reaches the bridge through
 * it (`ip addr add ... dev br0`).
 *
 * - The device is named after the port, cut to 15 bytes as OVS does.
 * - Opening creates the device, or attaches to an existing persistent TAP
 *   of that name. As OVS does, the device is made persistent and
 *   promiscuous and left administratively down (the user brings it up);
 *   close() clears persistence and closes it, which removes it.
 * - Receive: one non-blocking read() per frame into a native buffer, then
 *   a word copy into a pool packet; an empty poll is one failed read().
 * - Transmit: a word copy into a native buffer and one write() per frame;
 *   frames written while the device is down are counted as dropped.
 * - Statistics are the kernel's, turned around (the kernel counts from
 *   the host's side: what the host sent is what we received), plus our
 *   own drops.
 */
import { DP_PACKET_HEADROOM, type DpPacketBatch, type DpPacketPool } from "../packet/dp-packet.js";
import {
  ENODEV, IFF_NO_PI, IFF_PROMISC, IFF_TAP, O_CLOEXEC, O_NONBLOCK, O_RDWR, TUNSETIFF, TUNSETPERSIST,
  ifreq, linuxFfi, tapDeviceName, updateIfFlags, type FdWatch, type LinuxFfi, type NativeBlock,
} from "./linux-ffi.js";
import { KernelDevice, copyWords, openErrorText } from "./linux-device.js";
import type { Netdev, NetdevClass } from "./netdev-provider.js";

const BATCH = 32;
/** Native receive buffer: the largest frame a TAP can hand us (64 KiB MTU). */
const RX_BUF = 65536 + 64;
const TX_BUF = 65536 + 64;
const HEADROOM_W = DP_PACKET_HEADROOM >>> 2;

export class TapNetdev extends KernelDevice implements Netdev {
  private fd: number;
  private readonly rx: NativeBlock;
  private readonly tx: NativeBlock;
  private readonly rxAddr: number;
  private readonly txAddr: number;
  private readonly rxU32: Uint32Array;
  private readonly txU32: Uint32Array;

  /**
   * Receive gate (opt-in, setRxGate): false once a read found nothing,
   * true again when the event loop saw the descriptor readable; rxBatch
   * skips the read() while it is false.
   */
  private rxReady = true;
  private gate: FdWatch | null = null;
  /** The kernel counts a TAP from the host's side. */
  protected readonly swapCounters = true;

  private constructor(ffi: LinuxFfi, name: string, type: string, fd: number, devName: string) {
    super(ffi, name, type, devName);
    this.fd = fd;
    this.rx = ffi.alloc(RX_BUF);
    this.tx = ffi.alloc(TX_BUF);
    this.rxAddr = this.rx.addr;
    this.txAddr = this.tx.addr;
    this.rxU32 = this.rx.u32;
    this.txU32 = this.tx.u32;
  }

  /** Creates (or attaches to) TAP device `name`; returns it or OVS's error text. */
  static open(name: string, type: string, options: Record<string, string> = {}): TapNetdev | string {
    const ffi = linuxFfi();
    if (typeof ffi === "string") return openErrorText(ffi, name, 0);
    const libc = ffi.libc;
    const devName = tapDeviceName(name);
    const ifr = ifreq(devName);
    if (ifr === null) return openErrorText(ffi, name, ENODEV);
    const fd = libc.open("/dev/net/tun", O_RDWR | O_NONBLOCK | O_CLOEXEC, 0);
    if (fd < 0) return openErrorText(ffi, name, ffi.errno());
    new DataView(ifr.buffer).setUint16(16, IFF_TAP | IFF_NO_PI, true);
    if (libc.ioctl(fd, TUNSETIFF, ifr) < 0) {
      const e = ffi.errno();
      libc.close(fd);
      return openErrorText(ffi, name, e);
    }
    // OVS keeps its TAPs across daemon restarts (addresses stay configured).
    libc.ioctlValue(fd, TUNSETPERSIST, 1);
    const d = new TapNetdev(ffi, name, type, fd, devName);
    updateIfFlags(ffi, devName, IFF_PROMISC, 0);
    d.setConfig(options);
    return d;
  }

  /** HOT PATH: every poll of an internal/tap port. The empty case is one read(). */
  rxBatch(batch: DpPacketBatch, pool: DpPacketPool): number {
    const fd = this.fd;
    if (fd < 0 || !this.rxReady) return 0;
    const libc = this.ffi.libc;
    const src = this.rxU32;
    const out = batch.packets;
    let count = batch.count;
    let added = 0;
    let bytes = 0;
    while (count < BATCH) {
      const n = libc.read(fd, this.rxAddr, RX_BUF);
      if (n <= 0) {
        if (this.gate !== null) this.closeGate();
        break;
      }
      const p = pool.alloc();
      if (p === null) {
        // Out of buffers: this frame is lost, the rest wait in the TAP's queue.
        this.own.rxDropped++;
        break;
      }
      const nw = (n + 3) >>> 2;
      if (HEADROOM_W + nw > p.words.length) {
        p.release();
        this.own.rxErrors++;
        continue;
      }
      copyWords(p.words, HEADROOM_W, src, 0, nw);
      p.start = DP_PACKET_HEADROOM;
      p.len = n;
      out[count++] = p;
      bytes += n;
      added++;
    }
    batch.count = count;
    this.own.rxPackets += added;
    this.own.rxBytes += bytes;
    return added;
  }

  /** HOT PATH: every output batch to an internal/tap port. */
  txBatch(batch: DpPacketBatch): void {
    const n = batch.count;
    const pkts = batch.packets;
    const fd = this.fd;
    const libc = this.ffi.libc;
    const dst = this.txU32;
    let sent = 0;
    let bytes = 0;
    for (let i = 0; i < n; i++) {
      const p = pkts[i]!;
      pkts[i] = null;
      const len = p.len;
      if (fd >= 0 && len <= TX_BUF - 4) {
        const off = p.start & 3;
        copyWords(dst, 0, p.words, p.start >>> 2, (off + len + 3) >>> 2);
        if (libc.write(fd, this.txAddr + off, len) === len) {
          sent++;
          bytes += len;
        }
      }
      p.release();
    }
    batch.count = 0;
    this.own.txPackets += sent;
    this.own.txBytes += bytes;
    // A TAP refuses frames while it is down (EIO): OVS counts them dropped.
    this.own.txDropped += n - sent;
  }

  /** The /dev/net/tun descriptor (readable when the host sent a frame). */
  getFd(): number {
    return this.fd;
  }

  watchRx(cb: () => void): FdWatch {
    const w = this.ffi.pollReadable(this.fd, cb);
    this.watches.push(w);
    return w;
  }
  /** Watches from watchRx(), closed before the descriptor is. */
  private watches: FdWatch[] = [];

  /**
   * The TAP is ours (we hold its descriptor), so it only goes away when
   * someone deletes it: then the port stays, down, as in OVS.
   */
  revalidate(): string | null {
    return this.exists() ? null : openErrorText(this.ffi, this.name, ENODEV);
  }

  /**
   * Gates receive on readiness: with the gate on, a poll after one that
   * found the TAP empty costs a flag test instead of a read() system call
   * (~1-2 us through the FFI, bench netdev-linux), until the event loop
   * reports the descriptor readable. Only for callers that let the event
   * loop turn between polls (the PMD loop does, with setImmediate): a
   * caller polling in a tight synchronous loop would never see new frames.
   */
  setRxGate(on: boolean): void {
    if (on === (this.gate !== null) || this.fd < 0) return;
    if (on) {
      this.gate = this.ffi.pollReadable(this.fd, () => this.openGate());
      this.gate.unref();
      // Ready until a read finds nothing: frames may already be queued.
      this.gate.pause();
      this.rxReady = true;
    } else {
      this.gate!.close();
      this.gate = null;
      this.rxReady = true;
    }
  }

  private openGate(): void {
    this.rxReady = true;
    this.gate?.pause();
  }

  private closeGate(): void {
    this.rxReady = false;
    this.gate!.resume();
  }

  /** Removes the device: persistence off, descriptor closed. */
  close(): void {
    if (this.fd < 0) return;
    this.setRxGate(false);
    for (const w of this.watches) w.close();
    this.watches = [];
    this.ffi.libc.ioctlValue(this.fd, TUNSETPERSIST, 0);
    this.ffi.libc.close(this.fd);
    this.fd = -1;
    this.rx.free();
    this.tx.free();
  }
}

function tapClass(type: string): NetdevClass {
  return {
    type,
    open(name: string, options: Record<string, string>): Netdev | string {
      return TapNetdev.open(name, type, options);
    },
  };
}

/** `internal` ports (and a bridge's LOCAL port) on the userspace datapath. */
export const internalNetdevClass: NetdevClass = tapClass("internal");
/** `tap` ports. */
export const tapNetdevClass: NetdevClass = tapClass("tap");
