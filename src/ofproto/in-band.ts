/**
 * In-band control (OVS's ofproto/in-band.c): when a controller or manager
 * is reached through the bridge itself, the switch must never drop the
 * traffic that keeps it reachable. For every in-band remote (IPv4 address
 * and TCP port) it keeps hidden table-0 rules, above any OpenFlow
 * priority, that send to NORMAL:
 *
 *   180000 DHCP requests from the local port (its MAC)
 *   180001 ARP replies to the local port's MAC
 *   180002 ARP requests from the local port's MAC
 *   180003 ARP replies to the next hop's MAC      (when the next hop is known)
 *   180004 ARP requests from the next hop's MAC
 *   180005 ARP replies whose target is a remote
 *   180006 ARP requests whose source is a remote
 *   180007 TCP to the remote's address and port
 *   180008 TCP from the remote's address and port
 *
 * The rules are kept in step with the remotes, the local port's address
 * (checked every second) and the next hop's address (every second while
 * unknown, every ten once known). Only changes touch the table, so a rule
 * that stays keeps its age, as in OVS. The next hop comes from the kernel's
 * main routing table and ARP cache; dummy devices have none ("Operation not
 * supported", as OVS logs it).
 */
import * as fs from "node:fs";
import { Match } from "../openflow/match.js";
import { OFPP_LOCAL, OFPP_NORMAL } from "../openflow/ofp-codec.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import { VlogRateLimit, vlogModule } from "../util/vlog.js";
import { flowMod } from "./flow-mod.js";
import type { OfprotoTables } from "./tables.js";

const log = vlogModule("in_band");
/** OVS's in-band rate limit: 60 messages a minute, bursts of 60. */
const RL = new VlogRateLimit(60, 60);

const IBR_FROM_LOCAL_DHCP = 180000;
const IBR_TO_LOCAL_ARP = 180001;
const IBR_FROM_LOCAL_ARP = 180002;
const IBR_TO_NEXT_HOP_ARP = 180003;
const IBR_FROM_NEXT_HOP_ARP = 180004;
const IBR_TO_REMOTE_ARP = 180005;
const IBR_FROM_REMOTE_ARP = 180006;
const IBR_TO_REMOTE_TCP = 180007;
const IBR_FROM_REMOTE_TCP = 180008;

const ETH_TYPE_IP = 0x0800;
const ETH_TYPE_ARP = 0x0806;
const ARP_OP_REQUEST = 1;
const ARP_OP_REPLY = 2;

/** One in-band remote: an IPv4 address (host order) and TCP port. */
export interface InBandRemote {
  ip: number;
  port: number;
}

/** A next-hop MAC, or why there is none (OVS's strerror text). */
export type NextHopLookup = (ip: number) => { mac: Uint8Array | null } | { error: string };

function ipText(ip: number): string {
  return `${ip >>> 24}.${(ip >>> 16) & 0xff}.${(ip >>> 8) & 0xff}.${ip & 0xff}`;
}

function sameMac(a: Uint8Array | null, b: Uint8Array | null): boolean {
  if (a === null || b === null) return a === b;
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** Next hops of the dummy datapath: none (its devices have no routes). */
export const NO_NEXT_HOP: NextHopLookup = () => ({ error: "Operation not supported" });

/**
 * Next hops from the kernel: the main routing table (/proc/net/route, as
 * OVS's Linux netdev reads it; longest prefix wins) and the ARP cache for
 * the gateway's or the remote's own MAC.
 */
export const KERNEL_NEXT_HOP: NextHopLookup = (ip) => {
  let routes: string;
  try {
    routes = fs.readFileSync("/proc/net/route", "latin1");
  } catch {
    return { error: "No such file or directory" };
  }
  // Columns: Iface Destination Gateway Flags RefCnt Use Metric Mask ...; addresses in little-endian hex.
  const le = (h: string): number => {
    const v = parseInt(h, 16) >>> 0;
    return (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  };
  let best: { gw: number; len: number } | null = null;
  for (const line of routes.split("\n").slice(1)) {
    const f = line.trim().split(/\s+/);
    if (f.length < 8) continue;
    const flags = parseInt(f[3]!, 16);
    if ((flags & 1) === 0) continue; // RTF_UP
    const dst = le(f[1]!);
    const mask = le(f[7]!);
    if (((ip & mask) >>> 0) !== dst) continue;
    const len = Math.clz32(~mask >>> 0);
    if (best === null || len > best.len) best = { gw: (flags & 2) !== 0 ? le(f[2]!) : 0, len };
  }
  if (best === null) return { error: "No such device or address" };
  const hop = ipText(best.gw !== 0 ? best.gw : ip);
  try {
    for (const line of fs.readFileSync("/proc/net/arp", "latin1").split("\n").slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f[0] === hop && f[3] !== undefined && f[3] !== "00:00:00:00:00:00") {
        return { mac: Uint8Array.from(f[3].split(":").map((x) => parseInt(x, 16))) };
      }
    }
  } catch {
    /* no ARP cache: the MAC stays unknown */
  }
  return { mac: null };
};

interface RemoteState extends InBandRemote {
  mac: Uint8Array | null;
}

/** The in-band rules of one bridge. */
export class InBand {
  private remotes: RemoteState[] = [];
  private localMac: Uint8Array | null = null;
  private nextLocalRefresh = 0;
  private nextRemoteRefresh = 0;
  /** The rules installed, by a key of priority and match. */
  private installed = new Map<string, { priority: number; match: Match }>();
  /** The remotes or an address changed since the rules were last brought in line. */
  private stale = true;

  constructor(
    readonly bridgeName: string,
    private readonly tables: OfprotoTables<OfpAction[]>,
    private readonly localMacOf: () => Uint8Array | null,
    private nextHop: NextHopLookup,
  ) {}

  /** Replaces the remotes (and how next hops are found); applies at once. */
  setRemotes(remotes: readonly InBandRemote[], nextHop: NextHopLookup, now: number): void {
    const same = remotes.length === this.remotes.length && remotes.every((r, i) => r.ip === this.remotes[i]!.ip && r.port === this.remotes[i]!.port);
    this.nextHop = nextHop;
    if (!same) {
      this.remotes = remotes.map((r) => ({ ip: r.ip, port: r.port, mac: null }));
      this.nextRemoteRefresh = 0;
      this.stale = true;
    }
    this.run(now);
  }

  /** True while rules are installed or remotes configured (else the caller may drop it). */
  get active(): boolean {
    return this.remotes.length > 0 || this.installed.size > 0;
  }

  /** Refreshes what is due and brings the rules in line (OVS's in_band_run). */
  run(now: number): void {
    if (now >= this.nextLocalRefresh) {
      this.nextLocalRefresh = now + 1000;
      const mac = this.localMacOf();
      if (!sameMac(mac, this.localMac)) this.stale = true;
      this.localMac = mac;
    }
    if (now >= this.nextRemoteRefresh) {
      let next = Infinity;
      for (const r of this.remotes) {
        const before = r.mac;
        next = Math.min(next, now + this.refreshRemote(r));
        if (!sameMac(before, r.mac)) this.stale = true;
      }
      this.nextRemoteRefresh = next;
    }
    // The rules follow from the remotes and the addresses: rebuilt only when one of them moved.
    if (!this.stale) return;
    this.stale = false;
    this.sync(this.wanted(), now);
  }

  /** Looks up a remote's next-hop MAC; returns ms until the next look. */
  private refreshRemote(r: RemoteState): number {
    const hop = this.nextHop(r.ip);
    if ("error" in hop) {
      r.mac = null;
      log.logRl(RL, "warn", `${this.bridgeName}: cannot find route for controller (${ipText(r.ip)}): ${hop.error}`);
      return 1000;
    }
    r.mac = hop.mac;
    return r.mac === null ? 1000 : 10_000;
  }

  private wanted(): Map<string, { priority: number; match: Match }> {
    const want = new Map<string, { priority: number; match: Match }>();
    const add = (priority: number, build: (m: Match) => void): void => {
      const match = new Match();
      build(match);
      want.set(`${priority}/${match.key.join(",")}/${match.mask.join(",")}`, { priority, match });
    };
    const local = this.localMac;
    if (this.remotes.length > 0 && local !== null && local.some((b) => b !== 0)) {
      add(IBR_FROM_LOCAL_DHCP, (m) =>
        m.setNum("in_port", OFPP_LOCAL).setNum("eth_type", ETH_TYPE_IP).set("eth_src", local).setNum("nw_proto", 17).setNum("tp_src", 68).setNum("tp_dst", 67));
      add(IBR_TO_LOCAL_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).set("eth_dst", local).setNum("arp_op", ARP_OP_REPLY));
      add(IBR_FROM_LOCAL_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).set("eth_src", local).setNum("arp_op", ARP_OP_REQUEST));
    }
    for (const r of this.remotes) {
      const mac = r.mac;
      if (mac === null) continue;
      add(IBR_TO_NEXT_HOP_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).set("eth_dst", mac).setNum("arp_op", ARP_OP_REPLY));
      add(IBR_FROM_NEXT_HOP_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).set("eth_src", mac).setNum("arp_op", ARP_OP_REQUEST));
    }
    for (const r of this.remotes) {
      add(IBR_TO_REMOTE_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).setNum("arp_op", ARP_OP_REPLY).setNum("arp_tpa", r.ip));
      add(IBR_FROM_REMOTE_ARP, (m) => m.setNum("eth_type", ETH_TYPE_ARP).setNum("arp_op", ARP_OP_REQUEST).setNum("arp_spa", r.ip));
      add(IBR_TO_REMOTE_TCP, (m) => m.setNum("eth_type", ETH_TYPE_IP).setNum("nw_proto", 6).setNum("ip_dst", r.ip).setNum("tcp_dst", r.port));
      add(IBR_FROM_REMOTE_TCP, (m) => m.setNum("eth_type", ETH_TYPE_IP).setNum("nw_proto", 6).setNum("ip_src", r.ip).setNum("tcp_src", r.port));
    }
    return want;
  }

  private sync(want: Map<string, { priority: number; match: Match }>, now: number): void {
    const normal: OfpAction[] = [{ type: "output", port: OFPP_NORMAL, maxLen: 0 }];
    for (const [k, r] of this.installed) {
      if (want.has(k)) continue;
      this.tables.flowMod(flowMod("delete_strict", r.match, normal, { priority: r.priority, tableId: 0 }), now);
      this.installed.delete(k);
    }
    for (const [k, r] of want) {
      if (this.installed.has(k)) continue;
      this.tables.flowMod(flowMod("add", r.match, normal, { priority: r.priority, tableId: 0 }), now);
      this.installed.set(k, r);
    }
  }

  /** Removes every rule (in-band turned off or the bridge going away). */
  clear(now: number): void {
    this.remotes = [];
    this.sync(new Map(), now);
  }
}
