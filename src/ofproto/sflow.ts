/**
 * An sFlow v5 agent for one bridge (OVS's ofproto/ofproto-dpif-sflow.c with
 * InMon's sFlow library), configured from the Bridge's sFlow row.
 *
 * Translation samples packets received on the bridge's ports with the
 * datapath's sample action (1 in `sampling` packets); each sample reaches
 * `received` with its packet and the sFlow cookie that translation filled
 * in (VLAN, output), and goes to every collector as a flow sample: the
 * first `header` bytes of the frame and the extended switch data. Every
 * `polling` seconds each port's interface counters go out as counter
 * samples. Datagrams are sent over UDP to the targets ("IP:PORT", default
 * port 6343).
 *
 * As in OVS, only ports with a kernel interface index take part (sFlow
 * identifies ports by ifindex): dummy and patch ports are neither sampled
 * nor polled.
 */
import * as dgram from "node:dgram";
import * as os from "node:os";
import { vlogModule } from "../util/vlog.js";

const log = vlogModule("sflow");

export const SFL_DEFAULT_SAMPLING_RATE = 400;
export const SFL_DEFAULT_POLLING_INTERVAL = 30;
export const SFL_DEFAULT_HEADER_SIZE = 128;
const SFL_DEFAULT_COLLECTOR_PORT = 6343;

export interface SflowSettings {
  targets: string[];
  sampling: number;
  polling: number;
  header: number;
  /** Bridge.sflow's agent: an interface name or an IP address. */
  agent: string | null;
  /** The bridge's number among bridges with sFlow (the sub-agent id). */
  subId: number;
}

/** A port sFlow reports on. */
export interface SflowPort {
  odpNo: number;
  ifindex: number;
  /** bits/s, 0 when unknown. */
  speed(): number;
  up(): boolean;
  stats(): { rxPackets: number; rxBytes: number; txPackets: number; txBytes: number; rxDropped: number; txDropped: number; rxErrors: number; txErrors: number };
}

class Writer {
  private buf = new Uint8Array(1500);
  private dv = new DataView(this.buf.buffer);
  n = 0;
  u32(v: number): this {
    this.dv.setUint32(this.n, v >>> 0);
    this.n += 4;
    return this;
  }
  u64(v: number): this {
    this.dv.setBigUint64(this.n, BigInt(Math.max(0, Math.floor(v))));
    this.n += 8;
    return this;
  }
  bytes(b: Uint8Array): this {
    this.buf.set(b, this.n);
    this.n += b.length;
    while (this.n % 4 !== 0) this.buf[this.n++] = 0;
    return this;
  }
  /** Writes a length placeholder; returns its position. */
  mark(): number {
    this.n += 4;
    return this.n - 4;
  }
  fill(at: number): void {
    this.dv.setUint32(at, this.n - at - 4);
  }
  data(): Uint8Array {
    return this.buf.slice(0, this.n);
  }
}

function parseTarget(t: string): { host: string; port: number } | null {
  const m = /^\[?([^\]]+?)\]?(?::(\d+))?$/.exec(t.trim());
  if (m === null) return null;
  return { host: m[1]!, port: m[2] !== undefined ? Number(m[2]) : SFL_DEFAULT_COLLECTOR_PORT };
}

/** An IPv4 address as 4 bytes, or null. */
function ipv4Bytes(s: string): Uint8Array | null {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (m === null) return null;
  const b = Uint8Array.from([m[1], m[2], m[3], m[4]].map(Number));
  return b.some((x) => x > 255) ? null : b;
}

export class SflowAgent {
  probability = 0;
  private settings: SflowSettings;
  private readonly sock: dgram.Socket;
  private readonly started = Date.now();
  private seq = 0;
  private readonly sampleSeq = new Map<number, number>();
  private readonly pool = new Map<number, number>();
  private readonly counterSeq = new Map<number, number>();
  private timer: NodeJS.Timeout | null = null;
  private agentAddr: Uint8Array = new Uint8Array(4);

  constructor(
    settings: SflowSettings,
    /** The bridge's ports with an ifindex, by datapath port number. */
    private readonly ports: () => ReadonlyMap<number, SflowPort>,
  ) {
    this.settings = settings;
    this.sock = dgram.createSocket("udp4");
    this.sock.on("error", (e) => log.warn(`sending sFlow datagram failed (${e.message})`));
    this.sock.unref();
    this.configure(settings);
  }

  configure(s: SflowSettings): void {
    this.settings = s;
    // No collector or nothing to sample: sFlow stays on but samples nothing (as OVS).
    this.probability = s.targets.length === 0 || s.sampling <= 0 ? 0 : Math.max(1, Math.floor(0xffffffff / s.sampling));
    this.agentAddr = this.agentAddress(s.agent);
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (s.polling > 0 && s.targets.length > 0) {
      this.timer = setInterval(() => this.pollCounters(), s.polling * 1000);
      this.timer.unref();
    }
  }

  /** The agent address: Bridge.sflow's agent as an address or an interface's, else a local one. */
  private agentAddress(agent: string | null): Uint8Array {
    if (agent !== null) {
      const ip = ipv4Bytes(agent);
      if (ip !== null) return ip;
      const ifs = os.networkInterfaces()[agent];
      const v4 = ifs?.find((a) => a.family === "IPv4");
      if (v4 !== undefined) return ipv4Bytes(v4.address)!;
    }
    for (const t of this.settings.targets) {
      const p = parseTarget(t);
      if (p !== null && p.host.startsWith("127.")) return Uint8Array.of(127, 0, 0, 1);
    }
    for (const list of Object.values(os.networkInterfaces())) {
      const v4 = list?.find((a) => a.family === "IPv4" && !a.internal);
      if (v4 !== undefined) return ipv4Bytes(v4.address)!;
    }
    return Uint8Array.of(127, 0, 0, 1);
  }

  ifindexOf(odpNo: number): number {
    return this.ports().get(odpNo)?.ifindex ?? 0;
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sock.close();
  }

  private header(w: Writer, nSamples: number): void {
    w.u32(5).u32(1).bytes(this.agentAddr).u32(this.settings.subId).u32(++this.seq).u32(Date.now() - this.started).u32(nSamples);
  }

  private send(w: Writer): void {
    const data = w.data();
    for (const t of this.settings.targets) {
      const p = parseTarget(t);
      if (p === null) continue;
      this.sock.send(data, p.port, p.host);
    }
  }

  /**
   * A sampled packet from port `inOdp` (OVS's dpif_sflow_received), with
   * the cookie's VLAN TCI and output as translation wrote them.
   */
  received(frame: Uint8Array, inOdp: number, vlanTci: number, output: number): void {
    const port = this.ports().get(inOdp);
    if (port === undefined || this.settings.targets.length === 0) return;
    const rate = this.settings.sampling;
    const pool = (this.pool.get(port.ifindex) ?? 0) + rate;
    this.pool.set(port.ifindex, pool);
    const seq = (this.sampleSeq.get(port.ifindex) ?? 0) + 1;
    this.sampleSeq.set(port.ifindex, seq);
    const w = new Writer();
    this.header(w, 1);
    w.u32(1); // flow_sample
    const len = w.mark();
    w.u32(seq).u32(port.ifindex).u32(rate).u32(pool).u32(0).u32(port.ifindex).u32(output).u32(2);
    // Raw packet header: Ethernet, the frame's length with its FCS, 4 bytes stripped (the FCS).
    const hl = Math.min(frame.length, this.settings.header);
    w.u32(1);
    const rl = w.mark();
    w.u32(1).u32(frame.length + 4).u32(4).u32(hl).bytes(frame.subarray(0, hl));
    w.fill(rl);
    // Extended switch data: the VLAN and priority in and out.
    const vid = vlanTci & 0xfff;
    const pcp = (vlanTci >> 13) & 7;
    w.u32(1001).u32(16).u32(vid).u32(pcp).u32(vid).u32(pcp);
    w.fill(len);
    this.send(w);
  }

  /** Counter samples of every port (generic interface counters). */
  pollCounters(): void {
    const ports = [...this.ports().values()];
    if (ports.length === 0) return;
    const w = new Writer();
    this.header(w, ports.length);
    for (const p of ports) {
      const seq = (this.counterSeq.get(p.ifindex) ?? 0) + 1;
      this.counterSeq.set(p.ifindex, seq);
      const st = p.stats();
      const up = p.up();
      w.u32(2); // counters_sample
      const len = w.mark();
      w.u32(seq).u32(p.ifindex).u32(1);
      w.u32(1).u32(88); // generic interface counters
      w.u32(p.ifindex).u32(6).u64(p.speed()).u32(1).u32(up ? 3 : 0);
      w.u64(st.rxBytes).u32(st.rxPackets).u32(0).u32(0).u32(st.rxDropped).u32(st.rxErrors).u32(0);
      w.u64(st.txBytes).u32(st.txPackets).u32(0).u32(0).u32(st.txDropped).u32(st.txErrors).u32(0);
      w.fill(len);
    }
    this.send(w);
  }
}
