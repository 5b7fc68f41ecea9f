/**
 * Helpers for tests and benchmarks of the kernel-backed netdevs: a skip
 * reason when they cannot run here, veth pairs that are always deleted,
 * `ip` invocations, test frames, and polling a netdev until frames arrive;
 * for end-to-end tests, network namespaces as hosts wired to a switch,
 * ping and a TCP transfer between them.
 */
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { DpPacketBatch, type DpPacketPool } from "../../src/packet/dp-packet.js";
import type { Netdev } from "../../src/netdev/netdev-provider.js";
import { TSOVS_BIN, TSOVS_NODE_ARGS } from "./ovs.js";
import {
  AF_PACKET, PACKET_IGNORE_OUTGOING, SOCK_CLOEXEC, SOCK_NONBLOCK, SOCK_RAW, SOL_PACKET, getIfIndex, linuxFfi, setTxChecksumOffload,
  setsockoptInt,
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

/* ---- network namespaces: hosts on veth pairs, a switch in its own namespace ---- */

/** Runs `cmd args` (in namespace `ns` unless null) without blocking the event loop; kills it after `timeoutMs`. */
export function nsRun(ns: string | null, cmd: string, args: string[], timeoutMs = 20_000, env?: NodeJS.ProcessEnv): Promise<{ code: number | null; out: string; err: string }> {
  return new Promise((resolve) => {
    const argv = ns === null ? [cmd, ...args] : ["ip", "netns", "exec", ns, cmd, ...args];
    const c = spawn(argv[0]!, argv.slice(1), { stdio: ["ignore", "pipe", "pipe"], env: env ?? process.env });
    let out = "";
    let err = "";
    c.stdout.on("data", (d: Buffer) => (out += d.toString()));
    c.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("close", (code) => {
      clearTimeout(t);
      resolve({ code, out, err });
    });
  });
}

/** Creates namespace `ns` with loopback up and IPv6 off (no solicitations or MLD reports in the way). */
export function addNetns(ns: string): void {
  deleteNetns(ns);
  ip("netns", "add", ns);
  ip("-n", ns, "link", "set", "lo", "up");
  spawnSync("ip", ["netns", "exec", ns, "sh", "-c",
    "echo 1 > /proc/sys/net/ipv6/conf/default/disable_ipv6; echo 1 > /proc/sys/net/ipv6/conf/all/disable_ipv6"], { timeout: 10_000 });
}

/** Deletes namespace `ns` if it exists (its devices with it; a veth takes its peer along). Never throws. */
export function deleteNetns(ns: string): void {
  if (fs.existsSync(`/run/netns/${ns}`)) spawnSync("ip", ["netns", "del", ns], { timeout: 10_000 });
}

/**
 * A host: namespace `host` whose interface `dev` (address `cidr`, if any)
 * is wired by a veth pair to `port` in namespace `swNs` (the switch's).
 * TX checksum offload is off on the host's end: a veth hands frames to a
 * packet socket with their TCP/UDP checksums still to be filled in, and a
 * userspace switch (OVS's netdev datapath as much as tsovs) forwards
 * them as they are, so the receiver would drop every TCP segment.
 */
export function addHost(swNs: string, host: string, dev: string, port: string, cidr: string | null): void {
  addNetns(host);
  const ffi = linuxFfi();
  if (typeof ffi === "string") throw new Error(ffi);
  deleteLink(port);
  deleteLink(dev);
  ip("link", "add", port, "type", "veth", "peer", "name", dev);
  const e = setTxChecksumOffload(ffi, dev, false);
  if (e !== 0) throw new Error(`${dev}: cannot turn TX checksum offload off (errno ${e})`);
  ip("link", "set", dev, "netns", host);
  ip("link", "set", port, "netns", swNs);
  if (cidr !== null) ip("-n", host, "addr", "add", cidr, "dev", dev);
  ip("-n", host, "link", "set", dev, "up");
  ip("-n", swNs, "link", "set", port, "up");
}

const TRUNK_PY = `
import json, socket, struct, sys, time
dev, probes = sys.argv[1], json.loads(sys.argv[2])
s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
s.bind((dev, 0))
s.setsockopt(263, 8, 1)  # SOL_PACKET, PACKET_AUXDATA: the VLAN tag the kernel took off
me = s.getsockname()[4]
def csum(b):
    if len(b) % 2: b += b"\\0"
    c = sum(struct.unpack("!%dH" % (len(b) // 2), b)); c = (c >> 16) + (c & 0xffff); c += c >> 16
    return ~c & 0xffff
def send(dst, vid, ethtype, payload):
    s.send(dst + me + struct.pack("!HHH", 0x8100, vid, ethtype) + payload)
def recv_until(end, pred):
    while True:
        left = end - time.time()
        if left <= 0: return None
        s.settimeout(left)
        try: data, anc, flags, addr = s.recvmsg(65536, socket.CMSG_SPACE(32))
        except socket.timeout: return None
        if addr[2] == socket.PACKET_OUTGOING: continue
        vid = None
        for lvl, typ, d in anc:
            if lvl == 263 and typ == 8 and len(d) >= 20:
                st, _, _, _, _, tci, _ = struct.unpack("IIIHHHH", d[:20])
                if st & 0x10: vid = tci & 0xfff
        if vid is None and data[12:14] == b"\\x81\\x00":
            vid = struct.unpack("!H", data[14:16])[0] & 0xfff
            data = data[:12] + data[16:]
        r = pred(vid, data)
        if r is not None: return r
out = []
for p in probes:
    vid, src, dst, size, wait = p["vid"], socket.inet_aton(p["src"]), socket.inet_aton(p["dst"]), p["size"], p["wait"]
    send(b"\\xff" * 6, vid, 0x0806, struct.pack("!HHBBH", 1, 0x0800, 6, 4, 1) + me + src + bytes(6) + dst)
    mac = recv_until(time.time() + wait, lambda v, d: d[22:28] if v == vid and d[12:14] == b"\\x08\\x06" and d[20:22] == b"\\x00\\x02" and d[28:32] == dst else None)
    res = {"arp": mac is not None, "echo": False}
    if mac is not None:
        icmp = struct.pack("!BBHHH", 8, 0, 0, 0x7357, vid) + bytes(i & 0xff for i in range(size))
        icmp = icmp[:2] + struct.pack("!H", csum(icmp)) + icmp[4:]
        iph = struct.pack("!BBHHHBBH4s4s", 0x45, 0, 20 + len(icmp), 1, 0x4000, 64, 1, 0, src, dst)
        iph = iph[:10] + struct.pack("!H", csum(iph)) + iph[12:]
        send(mac, vid, 0x0800, iph + icmp)
        def echo(v, d):
            if v != vid or d[12:14] != b"\\x08\\x00" or d[23] != 1: return None
            h = 14 + (d[14] & 15) * 4
            ok = d[h] == 0 and d[h + 4:h + 6] == b"\\x73\\x57" and len(d) - h - 8 == size
            return True if ok else None
        res["echo"] = recv_until(time.time() + wait, echo) is not None
    out.append(res)
print(json.dumps(out))
`;

/** One probe of `trunkProbe`: ARP for `dst` from `src` on VLAN `vid`, then (answered) an ICMP echo of `size` bytes. */
export interface TrunkProbe {
  vid: number;
  src: string;
  dst: string;
  /** ICMP payload bytes (1472 makes a 1518-byte tagged frame). */
  size?: number;
  /** Seconds to wait for each answer. */
  wait?: number;
}

/**
 * A trunk host without the kernel's 802.1Q support: from a packet socket
 * on `dev` in namespace `ns` (python3), sends tagged ARP requests and
 * ICMP echos and reports which were answered on the same VLAN (the tag
 * read back from the kernel's packet metadata, where it strips it to).
 */
export async function trunkProbe(ns: string, dev: string, probes: TrunkProbe[]): Promise<{ arp: boolean; echo: boolean }[]> {
  const list = probes.map((p) => ({ size: 56, wait: 1, ...p }));
  const r = await nsRun(ns, "python3", ["-c", TRUNK_PY, dev, JSON.stringify(list)], 10_000 + list.length * 3000);
  if (r.code !== 0) throw new Error(`trunk probe in ${ns}: exit ${String(r.code)}: ${r.err}`);
  return JSON.parse(r.out) as { arp: boolean; echo: boolean }[];
}

const PING_PY = `
import os, socket, struct, sys, time
dst, wait = sys.argv[1], float(sys.argv[2])
s = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident = os.getpid() & 0xffff
body = struct.pack("!BBHHH", 8, 0, 0, ident, 1) + b"tsovs-ping" * 4
c = sum(struct.unpack("!%dH" % (len(body) // 2), body))
c = (c >> 16) + (c & 0xffff); c += c >> 16
body = body[:2] + struct.pack("!H", ~c & 0xffff) + body[4:]
s.sendto(body, (dst, 0))
end = time.time() + wait
while time.time() < end:
    s.settimeout(max(0.01, end - time.time()))
    try:
        d, a = s.recvfrom(2048)
    except socket.timeout:
        break
    h = (d[0] & 15) * 4
    if a[0] == dst and d[h] == 0 and struct.unpack("!H", d[h + 4:h + 6])[0] == ident:
        sys.exit(0)
sys.exit(1)
`;

/**
 * One ICMP echo from namespace `ns` to `addr`, answered within `waitS`
 * seconds? With iputils `ping` when installed, else a raw-socket
 * echo in python3.
 */
export async function pingOnce(ns: string, addr: string, waitS = 1): Promise<boolean> {
  const r = hasPing()
    ? await nsRun(ns, "ping", ["-n", "-q", "-c", "1", "-W", String(waitS), addr], (waitS + 5) * 1000)
    : await nsRun(ns, "python3", ["-c", PING_PY, addr, String(waitS)], (waitS + 5) * 1000);
  return r.code === 0;
}

/** True when iputils `ping` is installed. */
export function hasPing(): boolean {
  return fs.existsSync("/usr/bin/ping") || fs.existsSync("/bin/ping");
}

/** One unfragmented ping of `size` payload bytes (iputils `ping -M do`); needs hasPing(). */
export async function pingSize(ns: string, addr: string, size: number, tries = 3): Promise<boolean> {
  for (let i = 0; i < tries; i++) {
    const r = await nsRun(ns, "ping", ["-n", "-q", "-c", "1", "-W", "1", "-M", "do", "-s", String(size), addr], 6000);
    if (r.code === 0) return true;
  }
  return false;
}

/** Pings until one answer or `tries` misses (ARP and first upcalls may cost the first one). */
export async function pingReaches(ns: string, addr: string, tries = 5): Promise<boolean> {
  for (let i = 0; i < tries; i++) if (await pingOnce(ns, addr, 1)) return true;
  return false;
}

/**
 * A TCP transfer of `bytes` from namespace `clientNs` to a server at
 * `addr`:`port` in `serverNs` (node scripts on both sides); returns the
 * bytes the server counted (-1 when it failed) and the client's error text.
 */
export async function tcpTransfer(serverNs: string, clientNs: string, addr: string, bytes: number, port = 5001): Promise<{ received: number; error: string }> {
  const server = nsRun(serverNs, process.execPath, ["-e", `
    const net = require("net");
    let n = 0;
    const s = net.createServer((c) => { c.on("data", (d) => (n += d.length)); c.on("end", () => { console.log(n); c.end(); s.close(); }); });
    s.listen(${port}, "${addr}", () => console.log("listening"));
    setTimeout(() => process.exit(3), 25000).unref();
  `], 30_000);
  await new Promise((r) => setTimeout(r, 300));
  const client = await nsRun(clientNs, process.execPath, ["-e", `
    const net = require("net");
    const buf = Buffer.alloc(${bytes}, 0x5a);
    function go(tries) {
      const c = net.connect(${port}, "${addr}", () => c.end(buf));
      c.setTimeout(20000, () => { console.error("timeout"); process.exit(4); });
      c.on("error", (e) => { if (tries > 0) setTimeout(() => go(tries - 1), 200); else { console.error(e.message); process.exit(2); } });
    }
    go(20);
  `], 30_000);
  const srv = await server;
  const last = srv.out.trim().split("\n").pop() ?? "";
  const received = /^\d+$/.test(last) ? Number(last) : -1;
  return { received, error: client.code === 0 ? "" : `client exit ${String(client.code)}: ${client.err}${srv.err}` };
}

/** A daemon started in a namespace, stopped by its pid. */
export interface NsDaemon {
  readonly dir: string;
  readonly pid: number;
  /** What it wrote to stderr so far. */
  stderr(): string;
  alive(): boolean;
  stop(): Promise<void>;
}

/**
 * Starts `tsovs start ARGS` in namespace `ns` (no dummy override: real
 * devices) with its run directory `dir`; resolves once the database
 * socket, pid file and control socket are there.
 */
export async function startTsovsInNetns(ns: string, dir: string, args: string[] = []): Promise<NsDaemon> {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  // `ip netns exec` execs the program: the child's pid is the daemon's.
  const child = spawn("ip", ["netns", "exec", ns, process.execPath, ...TSOVS_NODE_ARGS, TSOVS_BIN, "start", ...args], {
    env, stdio: ["ignore", "ignore", "pipe"],
  });
  let err = "";
  let exited = false;
  child.stderr.on("data", (d: Buffer) => (err += d.toString()));
  child.on("exit", () => (exited = true));
  const ready = (): boolean => fs.existsSync(path.join(dir, "db.sock")) && fs.existsSync(path.join(dir, "ovs-vswitchd.pid")) &&
    fs.readdirSync(dir).some((f) => f.startsWith("ovs-vswitchd.") && f.endsWith(".ctl"));
  const deadline = Date.now() + 20_000;
  while (!exited && !ready() && Date.now() < deadline) await new Promise((r) => setTimeout(r, 25));
  if (exited || !ready()) {
    child.kill("SIGKILL");
    throw new Error(`tsovs start in ${ns} ${exited ? "exited" : "did not get ready"}: ${err}`);
  }
  const pid = child.pid!;
  return {
    dir,
    pid,
    stderr: () => err,
    alive: () => !exited,
    stop: async () => {
      if (exited) return;
      const done = new Promise((r) => child.once("exit", r));
      process.kill(pid, "SIGTERM");
      const t = setTimeout(() => {
        if (!exited) process.kill(pid, "SIGKILL");
      }, 5000);
      await done;
      clearTimeout(t);
    },
  };
}
