/**
 * The `system` netdev type (OVS's netdev-linux for an existing Linux
 * interface): an AF_PACKET raw socket bound to the interface, promiscuous,
 * non-blocking.
 *
 * - Receive: a TPACKET_V2 ring shared with the kernel (mmap). A poll reads
 *   one status word of the next ring frame, so an empty poll costs no
 *   system call and no allocation; a hit copies frames word by word into
 *   pool packets and hands the ring frames back. Measured against
 *   recvmmsg() into native buffers (bench netdev-linux and a scratch
 *   variant, CPU time, loaded 2-core machine): empty poll 35 vs 1114 ns,
 *   draining 64-byte frames 3.3 vs 0.63 Mpps. VLAN tags the kernel
 *   stripped into the frame header are put back into the frame.
 * - Transmit: one sendmmsg() per batch from preallocated native slots
 *   (mmsghdr/iovec arrays built once; per packet only the iovec's address
 *   and length words change).
 * - Our own transmits and other outgoing frames are not received
 *   (PACKET_IGNORE_OUTGOING, and PACKET_OUTGOING frames are skipped).
 * - Frames larger than a ring frame (e.g. GSO super-frames from a veth
 *   peer with TSO on) are dropped and counted in rxErrors.
 * - MTU, MAC, up/down, carrier and ifindex go to the kernel by ioctl;
 *   statistics are the kernel's (sysfs) plus our own drops.
 */
import { DP_PACKET_HEADROOM, type DpPacket, type DpPacketBatch, type DpPacketPool } from "../packet/dp-packet.js";
import {
  AF_PACKET, EAGAIN, ENOBUFS, ETH_P_ALL, IOVEC_SIZE, MMSGHDR_SIZE, MSGHDR_IOV, MSGHDR_IOVLEN, PACKET_ADD_MEMBERSHIP,
  PACKET_IGNORE_OUTGOING, PACKET_MR_PROMISC, PACKET_OUTGOING, PACKET_RESERVE, PACKET_RX_RING, PACKET_STATISTICS, PACKET_VERSION,
  SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, SO_ERROR, SO_SNDBUF, SOL_SOCKET, TPACKET2_HDR_SIZE, TPACKET_V2,
  TP_STATUS_KERNEL, TP_STATUS_USER, TP_STATUS_VLAN_TPID_VALID, TP_STATUS_VLAN_VALID,
  getIfIndex, getIfMtu, linuxFfi, setsockoptInt, type FdWatch, type LinuxFfi, type NativeBlock,
} from "./linux-ffi.js";
import { KernelDevice, copyWords, openErrorText } from "./linux-device.js";
import type { Netdev, NetdevClass } from "./netdev-provider.js";

const BATCH = 32;
/**
 * Bytes of receive ring per port, and the most frames in it (a power of
 * two). The ring absorbs bursts while the process is not scheduled: with
 * 512 frames, half of a 64-byte stream was lost on a loaded 2-core machine
 * (bench netdev-linux).
 */
const RING_BYTES = 8 << 20;
const RING_FRAMES_MAX = 4096;
/** Bytes of a tx slot: the largest DpPacket frame plus alignment slack. */
const TX_SLOT = 9216 + 64;

/**
 * The ring's status words hand frames between the kernel and us: reading
 * a frame's bytes must not move before reading its status, nor handing it
 * back before the copy. x86 keeps loads and stores in program order (TSO),
 * so plain typed-array accesses suffice there; elsewhere they are Atomics
 * (acquire/release). Measured on x64: Atomics cost 35 -> 84..139 ns per
 * empty poll and 3.3 -> 2.8 Mpps draining (bench netdev-linux).
 */
const TSO = process.arch === "x64" || process.arch === "ia32";

/** Ring frame size for an MTU: header + reserve + frame + VLAN, to a power of two, at least 2048. */
function ringFrameSize(mtu: number): number {
  let size = 2048;
  while (size < mtu + 14 + 4 + 128) size <<= 1;
  return size;
}

export class LinuxNetdev extends KernelDevice implements Netdev {
  private fd = -1;
  private ifindex: number;

  /* receive ring */
  private ring: NativeBlock | null = null;
  private ringU32: Uint32Array = new Uint32Array(0);
  private ringU8: Uint8Array = new Uint8Array(0);
  private frameWords = 0;
  private frameMask = 0;
  private ringPos = 0;
  private ringMtu = 0;

  /* transmit: mmsghdr[BATCH] | iovec[BATCH] | slots */
  private tx: NativeBlock | null = null;
  private txU32: Uint32Array = new Uint32Array(0);
  private txAddr = 0;
  /** Word index in txU32 of each iovec's base (low word) and length. */
  private readonly iovBaseW = new Int32Array(BATCH);
  /** Low 32 bits of each slot's address and the slot's first word index. */
  private readonly slotLo = new Float64Array(BATCH);
  private readonly slotW = new Int32Array(BATCH);

  protected readonly swapCounters = false;

  private constructor(ffi: LinuxFfi, name: string, ifindex: number) {
    super(ffi, name, "system");
    this.ifindex = ifindex;
  }

  /** Opens `name` or returns OVS's error text. */
  static open(name: string, options: Record<string, string> = {}): LinuxNetdev | string {
    const ffi = linuxFfi();
    if (typeof ffi === "string") return openErrorText(ffi, name, 0);
    const ifindex = getIfIndex(ffi, name);
    if (ifindex < 0) return openErrorText(ffi, name, -ifindex);
    const d = new LinuxNetdev(ffi, name, ifindex);
    const e = d.openSocket();
    if (e !== 0) {
      d.close();
      return openErrorText(ffi, name, e);
    }
    d.setConfig(options);
    return d;
  }

  /** Creates, configures and binds the packet socket and its ring; 0 or errno. */
  private openSocket(): number {
    const ffi = this.ffi;
    const libc = ffi.libc;
    // Protocol 0 until bind: no frames are queued before the ring exists.
    const fd = libc.socket(AF_PACKET, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return ffi.errno();
    this.fd = fd;
    let e = setsockoptInt(ffi, fd, SOL_PACKET, PACKET_VERSION, TPACKET_V2);
    // The kernel puts the network header of a ring frame at a 16-byte
    // boundary plus the reserve (80 + reserve for TPACKET_V2), so the
    // Ethernet header at 66 + reserve: a reserve of 2 makes it 4-aligned
    // and the copy into the packet a whole-word copy.
    if (e === 0) e = setsockoptInt(ffi, fd, SOL_PACKET, PACKET_RESERVE, 2);
    if (e === 0) e = setsockoptInt(ffi, fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, 1);
    if (e === 0) e = this.setupRing();
    if (e === 0) {
      const sll = new Uint8Array(20);
      const dv = new DataView(sll.buffer);
      dv.setUint16(0, AF_PACKET, true);
      dv.setUint16(2, ETH_P_ALL, false);
      dv.setInt32(4, this.ifindex, true);
      if (libc.bind(fd, sll, 20) < 0) e = ffi.errno();
    }
    if (e === 0) {
      const mreq = new Uint8Array(16);
      const dv = new DataView(mreq.buffer);
      dv.setInt32(0, this.ifindex, true);
      dv.setUint16(4, PACKET_MR_PROMISC, true);
      if (libc.setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, mreq, 16) < 0) e = ffi.errno();
    }
    if (e === 0) setsockoptInt(ffi, fd, SOL_SOCKET, SO_SNDBUF, 1 << 20);
    if (e === 0) e = this.setupTx();
    return e;
  }

  private setupRing(): number {
    const mtu = Math.max(getIfMtu(this.ffi, this.devName), 1500);
    const frameSize = ringFrameSize(mtu);
    const blockSize = Math.max(frameSize, 1 << 16);
    const framesPerBlock = blockSize / frameSize;
    const frames = Math.min(RING_FRAMES_MAX, Math.max(framesPerBlock, RING_BYTES / frameSize));
    const blocks = Math.max(1, frames / framesPerBlock);
    const req = new Uint8Array(16);
    const dv = new DataView(req.buffer);
    dv.setUint32(0, blockSize, true);
    dv.setUint32(4, blocks, true);
    dv.setUint32(8, frameSize, true);
    dv.setUint32(12, blocks * framesPerBlock, true);
    if (this.ffi.libc.setsockopt(this.fd, SOL_PACKET, PACKET_RX_RING, req, 16) < 0) return this.ffi.errno();
    const ring = this.ffi.mapShared(this.fd, blockSize * blocks);
    if (typeof ring === "number") return -ring;
    this.ring = ring;
    this.ringU32 = ring.u32;
    this.ringU8 = ring.u8;
    this.frameWords = frameSize >>> 2;
    this.frameMask = blocks * framesPerBlock - 1;
    this.ringPos = 0;
    this.ringMtu = mtu;
    return 0;
  }

  private setupTx(): number {
    const tx = this.ffi.alloc(BATCH * (MMSGHDR_SIZE + IOVEC_SIZE) + BATCH * TX_SLOT);
    this.tx = tx;
    this.txU32 = tx.u32;
    this.txAddr = tx.addr;
    const iovOff = BATCH * MMSGHDR_SIZE;
    const slotOff = iovOff + BATCH * IOVEC_SIZE;
    const dv = tx.dv;
    for (let i = 0; i < BATCH; i++) {
      const m = i * MMSGHDR_SIZE;
      const iov = iovOff + i * IOVEC_SIZE;
      const slot = slotOff + i * TX_SLOT;
      dv.setBigUint64(m + MSGHDR_IOV, BigInt(tx.addr + iov), true);
      dv.setBigUint64(m + MSGHDR_IOVLEN, 1n, true);
      const slotAddr = tx.addr + slot;
      dv.setBigUint64(iov, BigInt(slotAddr), true);
      this.iovBaseW[i] = iov >>> 2;
      // Slots are 64-aligned, so adding 0..3 to the low word never carries.
      this.slotLo[i] = slotAddr % 0x100000000;
      this.slotW[i] = slot >>> 2;
    }
    return 0;
  }

  /**
   * HOT PATH: every poll of a system port. The empty case reads one word.
   */
  rxBatch(batch: DpPacketBatch, pool: DpPacketPool): number {
    const ring = this.ringU32;
    const fw = this.frameWords;
    let pos = this.ringPos;
    let base = pos * fw;
    if (fw === 0 || ((TSO ? ring[base]! : Atomics.load(ring, base)) & TP_STATUS_USER) === 0) return 0;
    const u8 = this.ringU8;
    const mask = this.frameMask;
    const out = batch.packets;
    let count = batch.count;
    let added = 0;
    let bytes = 0;
    while (count < BATCH) {
      const status = TSO ? ring[base]! : Atomics.load(ring, base);
      if ((status & TP_STATUS_USER) === 0) break;
      const len = ring[base + 1]!;
      const snap = ring[base + 2]!;
      const mac = ring[base + 3]! & 0xffff;
      const pkttype = u8[(base << 2) + TPACKET2_HDR_SIZE + 10]!;
      if (pkttype === PACKET_OUTGOING) {
        // Not ours to switch (PACKET_IGNORE_OUTGOING should keep these out).
      } else if (snap < len) {
        this.own.rxErrors++;
      } else {
        const p = pool.alloc();
        if (p === null) {
          // Out of buffers: drop this frame and stop (the contract); the
          // rest wait in the ring for the next poll.
          this.own.rxDropped++;
          if (TSO) ring[base] = TP_STATUS_KERNEL;
          else Atomics.store(ring, base, TP_STATUS_KERNEL);
          pos = (pos + 1) & mask;
          break;
        } else {
          const mis = mac & 3;
          const start = mis === 0 ? DP_PACKET_HEADROOM : DP_PACKET_HEADROOM - 4 + mis;
          const nw = (mis + len + 3) >>> 2;
          if ((start >>> 2) + nw + 1 > p.words.length) {
            p.release();
            this.own.rxErrors++;
          } else {
            copyWords(p.words, start >>> 2, ring, base + (mac >>> 2), nw);
            p.start = start;
            p.len = len;
            if ((status & TP_STATUS_VLAN_VALID) !== 0) this.restoreVlan(p.buf, p, ring[base + 6]!, status);
            out[count++] = p;
            bytes += p.len;
            added++;
          }
        }
      }
      if (TSO) ring[base] = TP_STATUS_KERNEL;
      else Atomics.store(ring, base, TP_STATUS_KERNEL);
      pos = (pos + 1) & mask;
      base = pos * fw;
    }
    batch.count = count;
    this.ringPos = pos;
    this.own.rxPackets += added;
    this.own.rxBytes += bytes;
    return added;
  }

  /** Puts back the 802.1Q/802.1ad tag the kernel moved into the ring header. */
  private restoreVlan(buf: Uint8Array, p: DpPacket, tciWord: number, status: number): void {
    if (!p.insertAt(12, 4)) return;
    const tpid = (status & TP_STATUS_VLAN_TPID_VALID) !== 0 && tciWord >>> 16 !== 0 ? tciWord >>> 16 : 0x8100;
    const tci = tciWord & 0xffff;
    const at = p.start + 12;
    buf[at] = tpid >>> 8;
    buf[at + 1] = tpid & 0xff;
    buf[at + 2] = tci >>> 8;
    buf[at + 3] = tci & 0xff;
  }

  /** HOT PATH: every output batch to a system port. */
  txBatch(batch: DpPacketBatch): void {
    const n = batch.count;
    const pkts = batch.packets;
    if (n === 0) return;
    if (this.fd < 0) {
      for (let i = 0; i < n; i++) {
        pkts[i]!.release();
        pkts[i] = null;
      }
      this.own.txDropped += n;
      batch.count = 0;
      return;
    }
    const u32 = this.txU32;
    let bytes = 0;
    let m = 0;
    for (let i = 0; i < n; i++) {
      const p = pkts[i]!;
      pkts[i] = null;
      const off = p.start & 3;
      const len = p.len;
      if (off + len > TX_SLOT) {
        // Larger than any frame a pool packet of the default size holds.
        this.own.txErrors++;
        p.release();
        continue;
      }
      copyWords(u32, this.slotW[m]!, p.words, p.start >>> 2, (off + len + 3) >>> 2);
      const iw = this.iovBaseW[m]!;
      u32[iw] = this.slotLo[m]! + off;
      u32[iw + 2] = len;
      bytes += len;
      m++;
      p.release();
    }
    batch.count = 0;
    const libc = this.ffi.libc;
    let sent = 0;
    while (sent < m) {
      const r = libc.sendmmsg(this.fd, this.txAddr + sent * MMSGHDR_SIZE, m - sent, 0);
      if (r <= 0) {
        // A full queue is a drop (as OVS counts it); anything else (device
        // down or gone) an error.
        const e = r < 0 ? this.ffi.errno() : EAGAIN;
        if (e === EAGAIN || e === ENOBUFS) this.own.txDropped += m - sent;
        else this.own.txErrors += m - sent;
        break;
      }
      sent += r;
    }
    this.own.txPackets += sent;
    if (sent === m) this.own.txBytes += bytes;
    else for (let i = 0; i < sent; i++) this.own.txBytes += u32[this.iovBaseW[i]! + 2]!;
  }

  /**
   * Frames the kernel could not put in our ring (it was full) since the
   * last call, added to rxDropped: PACKET_STATISTICS resets on reading.
   */
  protected override refreshOwnCounters(): void {
    if (this.fd < 0) return;
    const st = new Uint8Array(8);
    const len = Uint8Array.of(8, 0, 0, 0);
    if (this.ffi.libc.getsockopt(this.fd, SOL_PACKET, PACKET_STATISTICS, st, len) === 0) {
      this.own.rxDropped += new DataView(st.buffer).getUint32(4, true);
    }
  }

  /** The packet socket (readable when the ring has a frame for us). */
  getFd(): number {
    return this.fd;
  }

  /** The bound interface's ifindex; once the socket is closed (the device vanished), the kernel's answer now. */
  override getIfindex(): number {
    return this.fd >= 0 ? this.ifindex : super.getIfindex();
  }

  /** A larger MTU needs larger ring frames: the socket is rebuilt. */
  override setMtu(mtu: number): string | null {
    const err = super.setMtu(mtu);
    if (err === null && ringFrameSize(mtu) > ringFrameSize(this.ringMtu) && this.fd >= 0) {
      this.closeSocket();
      const e = this.openSocket();
      if (e !== 0) return openErrorText(this.ffi, this.name, e);
    }
    return err;
  }

  /**
   * Follows the kernel device after it was deleted or re-created (a veth
   * or NIC that comes and goes under the port): when `name` now has a
   * different ifindex the socket is rebuilt on it; when it is gone the
   * socket is closed (rx finds nothing, tx counts errors). Returns null
   * when the port works, else OVS's error text. Readiness watches on the
   * old socket must be made again when the fd changed (see getFd()).
   */
  revalidate(): string | null {
    const now = getIfIndex(this.ffi, this.devName);
    if (now === this.ifindex && this.fd >= 0) return null;
    this.closeSocket();
    if (now < 0) return openErrorText(this.ffi, this.name, -now);
    this.ifindex = now;
    const e = this.openSocket();
    if (e !== 0) {
      this.closeSocket();
      return openErrorText(this.ffi, this.name, e);
    }
    return null;
  }

  /**
   * Watches the socket. A link that went down leaves an error pending on
   * it (ENETDOWN) that would keep the descriptor ready forever: every
   * wake-up reads and so clears it first.
   */
  watchRx(cb: () => void): FdWatch {
    const w = this.ffi.pollReadable(this.fd, () => {
      this.takeSocketError();
      cb();
    });
    this.watches.push(w);
    return w;
  }
  /**
   * Watches made on the current socket: closed with it, before its
   * descriptor is (libuv must not watch a closed descriptor, and one
   * reused by a new socket could not be watched again).
   */
  private watches: FdWatch[] = [];

  /** Reads (and so clears) the socket's pending error; returns it (0 for none). */
  takeSocketError(): number {
    if (this.fd < 0) return 0;
    const v = this.errBuf;
    const len = this.errLen;
    len[0] = 4;
    if (this.ffi.libc.getsockopt(this.fd, SOL_SOCKET, SO_ERROR, v, len) !== 0) return 0;
    return v[0]! | (v[1]! << 8) | (v[2]! << 16) | (v[3]! << 24);
  }
  private readonly errBuf = new Uint8Array(4);
  private readonly errLen = new Uint8Array(4);

  private closeSocket(): void {
    for (const w of this.watches) w.close();
    this.watches = [];
    if (this.fd >= 0) this.ffi.libc.close(this.fd);
    this.fd = -1;
    if (this.ring !== null) this.ring.free();
    this.ring = null;
    this.ringU32 = new Uint32Array(0);
    this.ringU8 = new Uint8Array(0);
    this.frameWords = 0;
    if (this.tx !== null) this.tx.free();
    this.tx = null;
    this.txU32 = new Uint32Array(0);
  }

  close(): void {
    this.closeSocket();
  }
}

export const systemNetdevClass: NetdevClass = {
  type: "system",
  open(name: string, options: Record<string, string>): Netdev | string {
    return LinuxNetdev.open(name, options);
  },
};
