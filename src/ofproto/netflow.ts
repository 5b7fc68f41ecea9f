/**
 * A NetFlow v5 exporter for one bridge (OVS's ofproto/netflow.c),
 * configured from the Bridge's NetFlow row.
 *
 * Translation, when it accounts packets (a flow's first packet, then
 * the revalidator's statistics), adds them to the NetFlow flow of the IPv4
 * 5-tuple, ToS and input port (`update`); on such bridges the megaflows
 * keep those fields (`maskWildcards`). A flow's record is exported when it
 * has been active for `active_timeout` seconds (then counting starts
 * again) and when the bridge or the exporter goes away. Records go out
 * as v5 datagrams (up to 30 records) over UDP to every target.
 */
import * as dgram from "node:dgram";
import { vlogModule } from "../util/vlog.js";
import { S_NW_PROTO, S_NW_TOS, W_DL_TYPE, W_IN_PORT, W_NW_DST, W_NW_PROTO, W_NW_SRC, W_TP_SRC } from "../flow/key-layout.js";

const log = vlogModule("netflow");

/** NetFlow's output interface for a flow that went to several ports / was flooded / was dropped. */
export const NF_OUT_FLOOD = 0xffff;
export const NF_OUT_MULTI = 0xfffe;
export const NF_OUT_DROP = 0xfffd;

const NETFLOW_V5_VERSION = 5;
const MAX_RECORDS = 30;
const IP_DSCP_MASK = 0xfc;

export interface NetflowSettings {
  targets: string[];
  engineType: number;
  engineId: number;
  /** Seconds; 0: no active timeout; -1 (the column's default) means 600. */
  activeTimeout: number;
  addIdToInterface: boolean;
}

interface NfFlow {
  inPort: number;
  src: number;
  dst: number;
  proto: number;
  tos: number;
  srcPort: number;
  dstPort: number;
  outPort: number;
  packets: number;
  bytes: number;
  tcpFlags: number;
  created: number;
  first: number;
  last: number;
  lastExpired: number;
}

export class NetflowExporter {
  private settings: NetflowSettings;
  private readonly sock: dgram.Socket;
  private readonly flows = new Map<string, NfFlow>();
  private readonly boot = Date.now();
  private seq = 0;
  private timer: NodeJS.Timeout | null = null;

  constructor(settings: NetflowSettings, private readonly now: () => number) {
    this.settings = settings;
    this.sock = dgram.createSocket("udp4");
    this.sock.on("error", (e) => log.warn(`sending NetFlow datagram failed (${e.message})`));
    this.sock.unref();
    this.timer = setInterval(() => this.run(), 1000);
    this.timer.unref();
  }

  configure(s: NetflowSettings): void {
    this.settings = s;
  }

  private get activeTimeoutMs(): number {
    const t = this.settings.activeTimeout;
    return (t < 0 ? 600 : t) * 1000;
  }

  /** OVS's netflow_mask_wc: IPv4 megaflows keep the fields a record carries. */
  static maskWildcards(flow: Uint32Array, wc: Uint32Array): void {
    if (flow[W_DL_TYPE]! >>> 16 !== 0x0800) return;
    wc[W_NW_SRC] = 0xffffffff;
    wc[W_NW_DST] = 0xffffffff;
    wc[W_TP_SRC] = 0xffffffff;
    wc[W_NW_PROTO] = (wc[W_NW_PROTO]! | (0xff << S_NW_PROTO) | (IP_DSCP_MASK << S_NW_TOS)) >>> 0;
  }

  /** Accounts `packets`/`bytes` of `flow` (input port, 5-tuple, ToS) that went to `outPort` (or NF_OUT_*). */
  update(flow: Uint32Array, outPort: number, packets: number, bytes: number, tcpFlags: number): void {
    if (packets <= 0) return;
    const key = this.keyOf(flow);
    if (key === null) return;
    const now = this.now();
    let e = this.flows.get(key);
    if (e === undefined) {
      const nw = flow[W_NW_PROTO]!;
      e = {
        inPort: flow[W_IN_PORT]! & 0xffff, src: flow[W_NW_SRC]!, dst: flow[W_NW_DST]!, proto: nw >>> S_NW_PROTO,
        tos: (nw >>> S_NW_TOS) & IP_DSCP_MASK, srcPort: flow[W_TP_SRC]! >>> 16, dstPort: flow[W_TP_SRC]! & 0xffff,
        outPort, packets: 0, bytes: 0, tcpFlags: 0, created: now, first: now, last: now, lastExpired: now,
      };
      this.flows.set(key, e);
    }
    if (e.packets === 0) e.first = now;
    e.packets += packets;
    e.bytes += bytes;
    e.tcpFlags |= tcpFlags;
    e.last = now;
    if (outPort !== e.outPort) e.outPort = e.outPort === NF_OUT_DROP ? outPort : NF_OUT_MULTI;
  }

  /** A megaflow of `flow` went away: its NetFlow flow is exported (if it counted packets) and forgotten. */
  expireFlow(flow: Uint32Array): void {
    const key = this.keyOf(flow);
    const e = key !== null ? this.flows.get(key) : undefined;
    if (e === undefined) return;
    this.flows.delete(key!);
    if (e.packets > 0) this.export([e]);
  }

  private keyOf(flow: Uint32Array): string | null {
    if (flow[W_DL_TYPE]! >>> 16 !== 0x0800) return null;
    const nw = flow[W_NW_PROTO]!;
    return `${flow[W_IN_PORT]! & 0xffff}|${flow[W_NW_SRC]}|${flow[W_NW_DST]}|${nw >>> S_NW_PROTO}|${(nw >>> S_NW_TOS) & IP_DSCP_MASK}|${flow[W_TP_SRC]! >>> 16}|${flow[W_TP_SRC]! & 0xffff}`;
  }

  /** Exports flows active longer than the active timeout. */
  run(): void {
    const now = this.now();
    const t = this.activeTimeoutMs;
    const out: NfFlow[] = [];
    for (const e of this.flows.values()) {
      if (t > 0 && now - e.lastExpired >= t && e.packets > 0) {
        out.push({ ...e });
        e.packets = 0;
        e.bytes = 0;
        e.tcpFlags = 0;
        e.lastExpired = now;
      }
    }
    this.export(out);
  }

  /** Exports every flow with unsent counts and forgets them all (bridge or exporter gone). */
  flush(): void {
    this.export([...this.flows.values()].filter((e) => e.packets > 0));
    this.flows.clear();
  }

  private export(records: NfFlow[]): void {
    for (let i = 0; i < records.length; i += MAX_RECORDS) this.send(records.slice(i, i + MAX_RECORDS));
  }

  private send(records: NfFlow[]): void {
    if (records.length === 0 || this.settings.targets.length === 0) return;
    const b = new Uint8Array(24 + 48 * records.length);
    const dv = new DataView(b.buffer);
    const wall = Date.now();
    dv.setUint16(0, NETFLOW_V5_VERSION);
    dv.setUint16(2, records.length);
    dv.setUint32(4, (wall - this.boot) >>> 0);
    dv.setUint32(8, Math.floor(wall / 1000));
    dv.setUint32(12, (wall % 1000) * 1_000_000);
    dv.setUint32(16, this.seq >>> 0);
    b[20] = this.settings.engineType & 0xff;
    b[21] = this.settings.engineId & 0xff;
    this.seq += records.length;
    const ifId = (p: number): number => (this.settings.addIdToInterface && p < 0xfffd ? ((this.settings.engineId & 0x7f) << 9) | (p & 0x1ff) : p);
    const up = (t: number): number => (t - this.now() + (wall - this.boot)) >>> 0;
    records.forEach((r, i) => {
      const o = 24 + 48 * i;
      dv.setUint32(o, r.src);
      dv.setUint32(o + 4, r.dst);
      dv.setUint32(o + 8, 0);
      dv.setUint16(o + 12, ifId(r.inPort));
      dv.setUint16(o + 14, ifId(r.outPort));
      dv.setUint32(o + 16, Math.min(r.packets, 0xffffffff));
      dv.setUint32(o + 20, Math.min(r.bytes, 0xffffffff));
      dv.setUint32(o + 24, up(r.first));
      dv.setUint32(o + 28, up(r.last));
      dv.setUint16(o + 32, r.srcPort);
      dv.setUint16(o + 34, r.dstPort);
      b[o + 37] = r.tcpFlags & 0xff;
      b[o + 38] = r.proto;
      b[o + 39] = r.tos;
    });
    for (const t of this.settings.targets) {
      const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(t.trim());
      if (m !== null) this.sock.send(b, Number(m[2]), m[1]!);
      else log.warn(`${t}: bad NetFlow target (IP:PORT expected)`);
    }
  }

  close(): void {
    this.flush();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sock.close();
  }
}
