/**
 * The Linux system calls the real-device netdevs need (AF_PACKET sockets,
 * TPACKET rings, /dev/net/tun, interface ioctls), reached through the
 * koffi FFI rather than a hand-written addon, plus small helpers around
 * them: native memory blocks with stable addresses, `struct ifreq`
 * get/set, errno texts as glibc words them, and the sysfs counters.
 *
 * Everything is loaded lazily: importing this module on a machine without
 * koffi or libc costs nothing; `linuxFfi()` returns an error string there.
 *
 * Pointers handed to the kernel inside structures (iovecs, mmsghdr) are
 * plain numbers: user-space addresses fit in 53 bits on every Linux ABI
 * tsovs runs on, and numbers avoid a BigInt allocation per packet.
 */
import { createRequire } from "node:module";
import * as fs from "node:fs";

/* ---- constants (Linux UAPI, identical on x86-64 and arm64) ---- */
export const AF_INET = 2;
export const AF_PACKET = 17;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
export const SOCK_NONBLOCK = 0o4000;
export const SOCK_CLOEXEC = 0o2000000;
export const O_RDWR = 2;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const ETH_P_ALL = 0x0003;
export const SOL_SOCKET = 1;
export const SO_SNDBUF = 7;
export const SO_RCVBUF = 8;
export const SO_ERROR = 4;
export const SOL_PACKET = 263;
export const PACKET_ADD_MEMBERSHIP = 1;
export const PACKET_MR_PROMISC = 1;
export const PACKET_RX_RING = 5;
export const PACKET_STATISTICS = 6;
export const PACKET_VERSION = 10;
export const PACKET_RESERVE = 12;
export const PACKET_IGNORE_OUTGOING = 23;
export const TPACKET_V2 = 1;
export const PACKET_OUTGOING = 4;
export const TP_STATUS_KERNEL = 0;
export const TP_STATUS_USER = 1;
export const TP_STATUS_VLAN_VALID = 0x10;
export const TP_STATUS_VLAN_TPID_VALID = 0x40;
/** sizeof(struct tpacket2_hdr); the sockaddr_ll follows it in every ring frame. */
export const TPACKET2_HDR_SIZE = 32;
export const MSG_DONTWAIT = 0x40;
export const PROT_READ = 1;
export const PROT_WRITE = 2;
export const MAP_SHARED = 1;

export const SIOCGIFFLAGS = 0x8913;
export const SIOCSIFFLAGS = 0x8914;
export const SIOCGIFMTU = 0x8921;
export const SIOCSIFMTU = 0x8922;
export const SIOCSIFHWADDR = 0x8924;
export const SIOCGIFHWADDR = 0x8927;
export const SIOCGIFINDEX = 0x8933;
export const SIOCETHTOOL = 0x8946;
export const ETHTOOL_GSET = 0x1;
export const ETHTOOL_GDRVINFO = 0x3;
export const ETHTOOL_GTXCSUM = 0x16;
export const ETHTOOL_STXCSUM = 0x17;
export const ETHTOOL_GTSO = 0x1e;
export const TUNSETIFF = 0x400454ca;
export const TUNSETPERSIST = 0x400454cb;
export const IFF_UP = 0x1;
export const IFF_RUNNING = 0x40;
export const IFF_PROMISC = 0x100;
export const IFF_TAP = 0x0002;
export const IFF_NO_PI = 0x1000;
export const ARPHRD_ETHER = 1;
export const IFNAMSIZ = 16;

export const EINTR = 4;
export const ENXIO = 6;
export const EAGAIN = 11;
export const ENODEV = 19;
export const EMSGSIZE = 90;
export const ENETDOWN = 100;
export const ENOBUFS = 105;

/* ---- struct layouts (LP64) ---- */
/** sizeof(struct mmsghdr): msghdr (56) + msg_len + padding. */
export const MMSGHDR_SIZE = 64;
export const MSGHDR_IOV = 16;
export const MSGHDR_IOVLEN = 24;
export const MMSGHDR_LEN = 56;
export const IOVEC_SIZE = 16;

/** The typed functions of libc this module uses. */
export interface LibC {
  socket(domain: number, type: number, protocol: number): number;
  bind(fd: number, addr: Uint8Array, len: number): number;
  setsockopt(fd: number, level: number, name: number, val: Uint8Array, len: number): number;
  /** `len` is a 4-byte in/out socklen_t. */
  getsockopt(fd: number, level: number, name: number, val: Uint8Array, len: Uint8Array): number;
  ioctl(fd: number, req: number, arg: Uint8Array): number;
  /** ioctl whose argument is a value, not a pointer (TUNSETPERSIST). */
  ioctlValue(fd: number, req: number, arg: number): number;
  open(path: string, flags: number, mode: number): number;
  close(fd: number): number;
  /** read/write/sendmmsg/recvmmsg take raw addresses (numbers). */
  read(fd: number, buf: number, len: number): number;
  write(fd: number, buf: number, len: number): number;
  sendmmsg(fd: number, vec: number, n: number, flags: number): number;
  recvmmsg(fd: number, vec: number, n: number, flags: number, timeout: number): number;
  munmap(addr: number, len: number): number;
  strerror(errnum: number): string;
}

export interface LinuxFfi {
  libc: LibC;
  /** errno of the last failed call (thread-local, read right after the call). */
  errno(): number;
  /** Allocates `size` bytes of native memory with a stable address. */
  alloc(size: number): NativeBlock;
  /** mmap()s `size` bytes of `fd` shared read-write; a block or -errno. `free()` unmaps. */
  mapShared(fd: number, size: number): NativeBlock | number;
  /** Watches `fd` for readability through libuv (koffi.node.poll). */
  pollReadable(fd: number, cb: () => void): FdWatch;
}

/** A readiness watch; `close()` stops it for good. */
export interface FdWatch {
  /** Stops calling back until resume() (e.g. while the poll loop is busy anyway). */
  pause(): void;
  resume(): void;
  close(): void;
  /** True once closed (by close(), or by the device when it closed its descriptor). */
  isClosed(): boolean;
  /** Lets the event loop exit while the watch is active. */
  unref(): void;
}

/** Native memory: its address and typed views of it. */
export interface NativeBlock {
  readonly addr: number;
  readonly size: number;
  readonly u8: Uint8Array;
  readonly u32: Uint32Array;
  readonly dv: DataView;
  /** Returns the memory to the C heap (views must not be used after). */
  free(): void;
}

let loaded: LinuxFfi | string | null = null;

/** The FFI, loaded on first use, or why it cannot be loaded. */
export function linuxFfi(): LinuxFfi | string {
  if (loaded === null) loaded = load();
  return loaded;
}

function load(): LinuxFfi | string {
  if (process.platform !== "linux") return `real network devices need Linux (this is ${process.platform})`;
  let koffi: typeof import("koffi");
  try {
    const require = createRequire(import.meta.url);
    koffi = require("koffi") as typeof import("koffi");
  } catch (e) {
    return `koffi FFI not available: ${(e as Error).message}`;
  }
  let lib: ReturnType<typeof koffi.load>;
  try {
    lib = koffi.load("libc.so.6");
  } catch (e) {
    return `cannot load libc.so.6: ${(e as Error).message}`;
  }
  const f = (proto: string): never => lib.func(proto) as never;
  const libc: LibC = {
    socket: f("int socket(int, int, int)"),
    bind: f("int bind(int, const void *, uint32_t)"),
    setsockopt: f("int setsockopt(int, int, int, const void *, uint32_t)"),
    getsockopt: f("int getsockopt(int, int, int, _Inout_ void *, _Inout_ void *)"),
    ioctl: f("int ioctl(int, unsigned long, void *)"),
    ioctlValue: lib.func("ioctl", "int", ["int", "unsigned long", "unsigned long"]) as never,
    open: f("int open(const char *, int, int)"),
    close: f("int close(int)"),
    read: f("intptr_t read(int, uintptr_t, size_t)"),
    write: f("intptr_t write(int, uintptr_t, size_t)"),
    sendmmsg: f("int sendmmsg(int, uintptr_t, unsigned int, int)"),
    recvmmsg: f("int recvmmsg(int, uintptr_t, unsigned int, int, uintptr_t)"),
    munmap: f("int munmap(uintptr_t, size_t)"),
    strerror: f("const char *strerror(int)"),
  };
  const mmap = f("void *mmap(void *, size_t, int, int, int, intptr_t)") as (a: null, l: number, p: number, fl: number, fd: number, o: number) => unknown;
  return {
    libc,
    errno: () => koffi.errno(),
    alloc(size: number): NativeBlock {
      // 64 bytes of slack so the block can start on a cache line.
      const ptr = koffi.alloc("uint8_t", size + 64);
      const raw = Number(koffi.address(ptr));
      const pad = (64 - (raw & 63)) & 63;
      const ab = koffi.view(ptr, size + 64);
      let freed = false;
      return {
        addr: raw + pad,
        size,
        u8: new Uint8Array(ab, pad, size),
        u32: new Uint32Array(ab, pad, size >>> 2),
        dv: new DataView(ab, pad, size),
        free(): void {
          if (freed) return;
          freed = true;
          koffi.free(ptr);
        },
      };
    },
    mapShared(fd: number, size: number): NativeBlock | number {
      const ptr = mmap(null, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
      const addr = ptr === null ? 0 : Number(koffi.address(ptr));
      // MAP_FAILED is (void *)-1, far above any real user-space address.
      if (addr === 0 || addr > Number.MAX_SAFE_INTEGER) return -koffi.errno();
      const ab = koffi.view(ptr, size);
      let unmapped = false;
      return {
        addr,
        size,
        u8: new Uint8Array(ab),
        u32: new Uint32Array(ab),
        dv: new DataView(ab),
        free(): void {
          if (unmapped) return;
          unmapped = true;
          libc.munmap(addr, size);
        },
      };
    },
    pollReadable(fd: number, cb: () => void): FdWatch {
      // koffi calls back with (status, events), whatever its typings say.
      const onPoll = (status: number, ev: { readable: boolean; disconnect: boolean }): void => {
        if (status < 0 || ev.readable || ev.disconnect) cb();
      };
      const h = koffi.node.poll(fd, { readable: true }, onPoll as never);
      let paused = false;
      let closed = false;
      return {
        pause(): void {
          if (paused || closed) return;
          paused = true;
          h.stop();
        },
        resume(): void {
          if (!paused || closed) return;
          paused = false;
          h.start({ readable: true }, onPoll as never);
        },
        close(): void {
          if (closed) return;
          closed = true;
          h.close();
        },
        isClosed: () => closed,
        unref: () => h.unref(),
      };
    },
  };
}

/** glibc's text for errno `e` ("No such device"), as OVS's ovs_strerror. */
export function errnoText(ffi: LinuxFfi, e: number): string {
  return ffi.libc.strerror(e);
}

/* ---- struct ifreq helpers (a shared AF_INET datagram socket for ioctls) ---- */

let ctlFd = -1;

function controlSocket(ffi: LinuxFfi): number {
  if (ctlFd < 0) ctlFd = ffi.libc.socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  return ctlFd;
}

/**
 * The kernel name a TAP for port `name` gets: cut to IFNAMSIZ-1 bytes, as
 * OVS copies port names into ifr_name (a long internal port name works).
 */
export function tapDeviceName(name: string): string {
  const b = Buffer.from(name, "utf8");
  return b.length < IFNAMSIZ ? name : b.subarray(0, IFNAMSIZ - 1).toString("utf8").replace(/\uFFFD+$/, "");
}

/** A 40-byte struct ifreq with `name` filled in; null when the name is too long. */
export function ifreq(name: string): Uint8Array | null {
  const bytes = Buffer.from(name, "utf8");
  if (bytes.length === 0 || bytes.length >= IFNAMSIZ) return null;
  const r = new Uint8Array(40);
  r.set(bytes, 0);
  return r;
}

/** Runs an interface ioctl; returns 0 or the errno. */
export function ifIoctl(ffi: LinuxFfi, req: number, ifr: Uint8Array): number {
  const fd = controlSocket(ffi);
  if (fd < 0) return ffi.errno();
  return ffi.libc.ioctl(fd, req, ifr) < 0 ? ffi.errno() : 0;
}

/** The union member of an ifreq: a short (flags) or an int (mtu, ifindex). */
function ifrInt(ifr: Uint8Array, short: boolean): number {
  const dv = new DataView(ifr.buffer, ifr.byteOffset, ifr.byteLength);
  return short ? dv.getUint16(16, true) : dv.getInt32(16, true);
}

/** ifindex of `name`, or -errno. */
export function getIfIndex(ffi: LinuxFfi, name: string): number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const e = ifIoctl(ffi, SIOCGIFINDEX, ifr);
  return e !== 0 ? -e : ifrInt(ifr, false);
}

/** Interface flags (IFF_*), or -errno. */
export function getIfFlags(ffi: LinuxFfi, name: string): number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const e = ifIoctl(ffi, SIOCGIFFLAGS, ifr);
  return e !== 0 ? -e : ifrInt(ifr, true);
}

/** Sets the bits `on` and clears `off` in the interface flags; returns 0 or errno. */
export function updateIfFlags(ffi: LinuxFfi, name: string, on: number, off: number): number {
  const ifr = ifreq(name);
  if (ifr === null) return ENODEV;
  let e = ifIoctl(ffi, SIOCGIFFLAGS, ifr);
  if (e !== 0) return e;
  const old = ifrInt(ifr, true);
  const flags = (old | on) & ~off & 0xffff;
  if (flags === old) return 0;
  new DataView(ifr.buffer).setUint16(16, flags, true);
  e = ifIoctl(ffi, SIOCSIFFLAGS, ifr);
  return e;
}

/** MTU of `name`, or -errno. */
export function getIfMtu(ffi: LinuxFfi, name: string): number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const e = ifIoctl(ffi, SIOCGIFMTU, ifr);
  return e !== 0 ? -e : ifrInt(ifr, false);
}

export function setIfMtu(ffi: LinuxFfi, name: string, mtu: number): number {
  const ifr = ifreq(name);
  if (ifr === null) return ENODEV;
  new DataView(ifr.buffer).setInt32(16, mtu, true);
  return ifIoctl(ffi, SIOCSIFMTU, ifr);
}

/** The Ethernet address of `name`, or -errno. */
export function getIfHwaddr(ffi: LinuxFfi, name: string): Uint8Array | number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const e = ifIoctl(ffi, SIOCGIFHWADDR, ifr);
  return e !== 0 ? -e : ifr.slice(18, 24);
}

export function setIfHwaddr(ffi: LinuxFfi, name: string, mac: Uint8Array): number {
  const ifr = ifreq(name);
  if (ifr === null) return ENODEV;
  new DataView(ifr.buffer).setUint16(16, ARPHRD_ETHER, true);
  ifr.set(mac.subarray(0, 6), 18);
  return ifIoctl(ffi, SIOCSIFHWADDR, ifr);
}

/**
 * An ethtool "value" command (struct ethtool_value) on `name`: returns the
 * value read back, or -errno.
 */
export function ethtoolValue(ffi: LinuxFfi, name: string, cmd: number, value = 0): number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const ev = ffi.alloc(8);
  try {
    ev.dv.setUint32(0, cmd, true);
    ev.dv.setUint32(4, value, true);
    new DataView(ifr.buffer).setBigUint64(16, BigInt(ev.addr), true);
    const e = ifIoctl(ffi, SIOCETHTOOL, ifr);
    return e !== 0 ? -e : ev.dv.getUint32(4, true);
  } finally {
    ev.free();
  }
}

/**
 * An ethtool command with a struct of `size` bytes on `name`: `fill`
 * writes the request after the command word, `read` gets the reply.
 * Returns read's value, or -errno.
 */
function ethtoolStruct<T>(ffi: LinuxFfi, name: string, cmd: number, size: number, read: (dv: DataView, u8: Uint8Array) => T): T | number {
  const ifr = ifreq(name);
  if (ifr === null) return -ENODEV;
  const blk = ffi.alloc(size);
  try {
    blk.u8.fill(0);
    blk.dv.setUint32(0, cmd, true);
    new DataView(ifr.buffer).setBigUint64(16, BigInt(blk.addr), true);
    const e = ifIoctl(ffi, SIOCETHTOOL, ifr);
    return e !== 0 ? -e : read(blk.dv, blk.u8);
  } finally {
    blk.free();
  }
}

/** Link speed and duplex as the driver reports them (ETHTOOL_GSET). */
export interface LinkSettings {
  /** Mb/s; 0 or 0xffffffff when unknown. */
  speedMbps: number;
  /** "full", "half", or null when unknown. */
  duplex: "full" | "half" | null;
  /** The connector (PORT_TP 0, PORT_FIBRE 3, ...). */
  port: number;
  autoneg: boolean;
}

/** The driver's link settings of `name` (struct ethtool_cmd), or -errno. */
export function getLinkSettings(ffi: LinuxFfi, name: string): LinkSettings | number {
  return ethtoolStruct(ffi, name, ETHTOOL_GSET, 44, (dv) => {
    const speed = dv.getUint16(12, true) | (dv.getUint16(28, true) << 16);
    const d = dv.getUint8(14);
    return { speedMbps: speed >>> 0, duplex: d === 1 ? "full" : d === 0 ? "half" : null, port: dv.getUint8(15), autoneg: dv.getUint8(18) !== 0 };
  });
}

/** The driver of `name` as `ethtool -i` shows it (struct ethtool_drvinfo), or -errno. */
export function getDriverInfo(ffi: LinuxFfi, name: string): { driver: string; version: string; firmware: string } | number {
  return ethtoolStruct(ffi, name, ETHTOOL_GDRVINFO, 196, (_dv, u8) => {
    const str = (at: number): string => {
      let end = at;
      while (end < at + 32 && u8[end] !== 0) end++;
      return Buffer.from(u8.subarray(at, end)).toString("latin1");
    };
    return { driver: str(4), version: str(36), firmware: str(68) };
  });
}

/**
 * Turns transmit checksum offload (and with it TSO/GSO, which depend on
 * it) on or off for `name`, as `ethtool -K NAME tx off` does. A veth end
 * whose stack sends TCP must have it off for a userspace switch, or the
 * frames it receives carry unfinished checksums and 64 KiB super-frames
 * (OVS's own tests do the same). Returns 0 or errno.
 */
export function setTxChecksumOffload(ffi: LinuxFfi, name: string, on: boolean): number {
  const r = ethtoolValue(ffi, name, ETHTOOL_STXCSUM, on ? 1 : 0);
  return r < 0 ? -r : 0;
}

/** setsockopt with an int value; returns 0 or errno. */
export function setsockoptInt(ffi: LinuxFfi, fd: number, level: number, opt: number, value: number): number {
  const v = new Uint8Array(4);
  new DataView(v.buffer).setInt32(0, value, true);
  return ffi.libc.setsockopt(fd, level, opt, v, 4) < 0 ? ffi.errno() : 0;
}

/* ---- sysfs ---- */

/** Reads /sys/class/net/NAME/statistics/COUNTER as a number (0 when unreadable). */
export function sysfsCounter(name: string, counter: string): number {
  try {
    return Number(fs.readFileSync(`/sys/class/net/${name}/statistics/${counter}`, "latin1").trim()) || 0;
  } catch {
    return 0;
  }
}

/** Carrier state from /sys/class/net/NAME/carrier (false when down or unreadable). */
export function sysfsCarrier(name: string): boolean {
  try {
    return fs.readFileSync(`/sys/class/net/${name}/carrier`, "latin1").trim() === "1";
  } catch {
    return false;
  }
}

/** The kernel counters of a device, named as in sysfs. */
export const SYSFS_COUNTERS = [
  "rx_packets", "rx_bytes", "rx_dropped", "rx_errors", "tx_packets", "tx_bytes", "tx_dropped", "tx_errors",
  "multicast", "collisions", "rx_crc_errors", "rx_frame_errors", "rx_missed_errors", "rx_over_errors",
] as const;

export function sysfsCounters(name: string): Record<string, number> {
  const out: Record<string, number> = {};
  for (const c of SYSFS_COUNTERS) out[c] = sysfsCounter(name, c);
  return out;
}
