/**
 * IGMP/MLD snooping (OVS 3.1's lib/mcast-snooping.c): the multicast
 * database ("mdb") of one bridge, which the NORMAL action consults to send
 * multicast data only where it is wanted.
 *
 * ## What it holds
 * - Groups: (IPv6 address — IPv4 groups as v4-mapped ::ffff:a.b.c.d —,
 *   VLAN) → the bundles (ports) that reported membership, each with an
 *   expiry. Groups are kept least recently refreshed first, and so are the
 *   bundles of a group: expiry walks from the front, a full table evicts
 *   the front group, `mdb/show` prints in this order.
 * - Multicast routers: (VLAN, bundle) pairs that sent a query, expiring
 *   after 180 s, least recently refreshed first.
 * - Flood ports (Port other_config:mcast-snooping-flood): always get
 *   multicast data, never learn groups or become routers.
 * - Report-flood ports (mcast-snooping-flood-reports): always get
 *   reports; a leave heard on one is ignored (many hosts sit behind it).
 *
 * Bundles are named by their Port name; the translation looks them up in
 * the bridge's current bundles, so a rebuilt bundle keeps its entries.
 *
 * ## Time
 * Seconds of the bridge clock (OVS's time_now()): `idleTime` (15..3600 s,
 * default 300) after the last report a membership expires; `run(now)`
 * prunes and says whether installed megaflows must be revalidated. The
 * glue in `startTimers` runs it every second and after each `time/warp`
 * step, as OVS's main loop would.
 *
 * ## Parsing
 * `addReport` (IGMPv3) and `addMld` (MLDv1/v2) read group records out of
 * the packet as OVS does, including its quirks: an IGMPv3 record of an
 * unknown type is skipped without moving past it, and aux_len is counted
 * in bytes. Nothing here runs per data packet: reports take the slow path,
 * and data lookups happen once per megaflow.
 */
import { onTimeWarp } from "../util/clock.js";
import { ipv6ToString } from "../packet/bytes.js";

/** Default membership lifetime, seconds (OVS's MCAST_ENTRY_DEFAULT_IDLE_TIME). */
export const MCAST_DEFAULT_IDLE_TIME = 300;
/** Default maximum number of groups (MCAST_DEFAULT_MAX_ENTRIES). */
export const MCAST_DEFAULT_MAX_ENTRIES = 2048;
/** How long a multicast router port lives after its last query, seconds. */
export const MCAST_MROUTER_PORT_IDLE_TIME = 180;

/* IGMP message types (flow tp_src). */
export const IGMP_HOST_MEMBERSHIP_QUERY = 0x11;
export const IGMP_HOST_MEMBERSHIP_REPORT = 0x12;
export const IGMPV2_HOST_MEMBERSHIP_REPORT = 0x16;
export const IGMP_HOST_LEAVE_MESSAGE = 0x17;
export const IGMPV3_HOST_MEMBERSHIP_REPORT = 0x22;
/* MLD message types (ICMPv6 types). */
export const MLD_QUERY = 130;
export const MLD_REPORT = 131;
export const MLD_DONE = 132;
export const MLD2_REPORT = 143;
/* IGMPv3 / MLDv2 record types. */
const MODE_IS_INCLUDE = 1;
const CHANGE_TO_INCLUDE_MODE = 3;
const BLOCK_OLD_SOURCES = 6;

const IGMPV3_HEADER_LEN = 8;
const IGMPV3_RECORD_LEN = 8;
const MLD_HEADER_LEN = 8;
const MLD2_RECORD_LEN = 20;

/** True for an IGMP membership report or leave (OVS's mcast_snooping_is_membership). */
export function igmpIsMembership(type: number): boolean {
  return type === IGMP_HOST_MEMBERSHIP_REPORT || type === IGMPV2_HOST_MEMBERSHIP_REPORT || type === IGMPV3_HOST_MEMBERSHIP_REPORT || type === IGMP_HOST_LEAVE_MESSAGE;
}

/** True for an IGMP query. */
export function igmpIsQuery(type: number): boolean {
  return type === IGMP_HOST_MEMBERSHIP_QUERY;
}

/** The bridge-wide settings (Bridge.other_config:mcast-snooping-*). */
export interface McastSnoopingSettings {
  /** mcast-snooping-aging-time, seconds (normalized to 15..3600). */
  idleTime: number;
  /** mcast-snooping-table-size (normalized to 10..1000000). */
  maxEntries: number;
  /** Unregistered multicast is flooded (not mcast-snooping-disable-flood-unregistered). */
  floodUnreg: boolean;
}

/** One port's settings (Port.other_config:mcast-snooping-flood / -flood-reports). */
export interface McastPortSettings {
  flood: boolean;
  floodReports: boolean;
}

/** A group's membership on one bundle. */
export interface McastGroupBundle {
  /** The bundle (Port) name. */
  readonly port: string;
  /** Seconds of the bridge clock when it expires. */
  expires: number;
}

/** One multicast group in one VLAN. */
export interface McastGroup {
  /** The group as 16 bytes (IPv4 v4-mapped). */
  readonly addr: Uint8Array;
  readonly vlan: number;
  /** Members, least recently refreshed first (keyed by port name). */
  readonly bundles: Map<string, McastGroupBundle>;
}

/** A port where a multicast router was heard (a query). */
export interface McastMrouter {
  readonly vlan: number;
  readonly port: string;
  expires: number;
}

/** The group's table key: VLAN and the address words. */
function groupKey(vlan: number, w0: number, w1: number, w2: number, w3: number): string {
  return `${vlan}/${w0 >>> 0}/${w1 >>> 0}/${w2 >>> 0}/${w3 >>> 0}`;
}

function word(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

/** 16 bytes of a v4-mapped IPv6 address for `ip4` (a host-order uint32). */
export function v4Mapped(ip4: number): Uint8Array {
  const a = new Uint8Array(16);
  a[10] = 0xff;
  a[11] = 0xff;
  a[12] = ip4 >>> 24;
  a[13] = (ip4 >>> 16) & 0xff;
  a[14] = (ip4 >>> 8) & 0xff;
  a[15] = ip4 & 0xff;
  return a;
}

/** OVS's ipv6_format_mapped: dotted quad for a v4-mapped address, else the IPv6 text. */
export function formatMcastAddr(a: Uint8Array): string {
  let mapped = a[10] === 0xff && a[11] === 0xff;
  for (let i = 0; i < 10 && mapped; i++) if (a[i] !== 0) mapped = false;
  if (mapped) return `${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  return ipv6ToString(a);
}

function normalizeIdleTime(t: number): number {
  return t < 15 ? 15 : t > 3600 ? 3600 : t;
}

function normalizeMaxEntries(n: number): number {
  return n < 10 ? 10 : n > 1_000_000 ? 1_000_000 : n;
}

export class McastSnooping {
  /** Groups, least recently refreshed first. */
  readonly groups = new Map<string, McastGroup>();
  /** Multicast router ports, least recently refreshed first (key: "vlan/port"). */
  readonly mrouters = new Map<string, McastMrouter>();
  /** Flood ports, in the order they were flagged. */
  readonly fports: string[] = [];
  /** Report-flood ports, in the order they were flagged. */
  readonly rports: string[] = [];
  idleTime = MCAST_DEFAULT_IDLE_TIME;
  maxEntries = MCAST_DEFAULT_MAX_ENTRIES;
  floodUnreg = true;
  /** Something changed that installed megaflows may depend on. */
  needRevalidate = false;
  private timer: NodeJS.Timeout | null = null;
  private unwarp: (() => void) | null = null;

  /** @param now the bridge clock in ms. */
  constructor(private readonly now: () => number) {}

  /** Seconds of the bridge clock (OVS's time_now()). */
  nowSec(): number {
    return Math.floor(this.now() / 1000);
  }

  /* ---------------- settings ---------------- */

  /** Changes the membership lifetime, moving existing expiries by the difference. */
  setIdleTime(t: number): void {
    const idle = normalizeIdleTime(t);
    if (idle === this.idleTime) return;
    const delta = idle - this.idleTime;
    for (const g of this.groups.values()) for (const b of g.bundles.values()) b.expires += delta;
    this.idleTime = idle;
  }

  setMaxEntries(n: number): void {
    this.maxEntries = normalizeMaxEntries(n);
  }

  /** Returns true when the setting changed. */
  setFloodUnreg(enable: boolean): boolean {
    const prev = this.floodUnreg;
    this.floodUnreg = enable;
    return prev !== enable;
  }

  private static setFlag(list: string[], port: string, on: boolean): boolean {
    const i = list.indexOf(port);
    if (on && i < 0) list.push(port);
    else if (!on && i >= 0) list.splice(i, 1);
    else return false;
    return true;
  }

  setPortFlood(port: string, flood: boolean): void {
    if (McastSnooping.setFlag(this.fports, port, flood)) this.needRevalidate = true;
  }

  setPortFloodReports(port: string, flood: boolean): void {
    if (McastSnooping.setFlag(this.rports, port, flood)) this.needRevalidate = true;
  }

  isFloodPort(port: string): boolean {
    return this.fports.includes(port);
  }

  /* ---------------- groups ---------------- */

  /** The group `addr` (16 bytes at `off`) in `vlan`, or null. */
  lookup(addr: Uint8Array, off: number, vlan: number): McastGroup | null {
    return this.groups.get(groupKey(vlan, word(addr, off), word(addr, off + 4), word(addr, off + 8), word(addr, off + 12))) ?? null;
  }

  /** The IPv4 group `ip4` (host-order uint32) in `vlan`, or null. */
  lookup4(ip4: number, vlan: number): McastGroup | null {
    return this.groups.get(groupKey(vlan, 0, 0, 0xffff, ip4)) ?? null;
  }

  /** The group whose address is the flow's four IPv6 words. */
  lookupWords(w0: number, w1: number, w2: number, w3: number, vlan: number): McastGroup | null {
    return this.groups.get(groupKey(vlan, w0, w1, w2, w3)) ?? null;
  }

  private mrouterKey(vlan: number, port: string): string {
    return `${vlan}/${port}`;
  }

  /**
   * Adds `port` to the group (or refreshes it). Returns true when the
   * group is new. A router or flood port never joins: it gets the traffic
   * anyway.
   */
  addGroup(addr: Uint8Array, off: number, vlan: number, port: string): boolean {
    if (this.mrouters.has(this.mrouterKey(vlan, port)) || this.fports.includes(port)) return false;
    const key = groupKey(vlan, word(addr, off), word(addr, off + 4), word(addr, off + 8), word(addr, off + 12));
    let g = this.groups.get(key);
    let learned = false;
    if (g === undefined) {
      if (this.groups.size >= this.maxEntries) {
        const lru = this.groups.values().next();
        if (!lru.done) this.flushGroup(lru.value);
      }
      // A copy: `addr` may be a view of a packet buffer (a Node Buffer's slice would share it).
      g = { addr: new Uint8Array(addr.subarray(off, off + 16)), vlan, bundles: new Map() };
      learned = true;
      this.needRevalidate = true;
    } else {
      this.groups.delete(key);
    }
    this.groups.set(key, g);
    g.bundles.delete(port);
    g.bundles.set(port, { port, expires: this.nowSec() + this.idleTime });
    return learned;
  }

  addGroup4(ip4: number, vlan: number, port: string): boolean {
    return this.addGroup(v4Mapped(ip4), 0, vlan, port);
  }

  /** Removes `port` from the group; true when it was a member. Report-flood ports never leave. */
  leaveGroup(addr: Uint8Array, off: number, vlan: number, port: string): boolean {
    if (this.rports.includes(port)) return false;
    const g = this.lookup(addr, off, vlan);
    if (g !== null && g.bundles.delete(port)) {
      this.needRevalidate = true;
      return true;
    }
    return false;
  }

  leaveGroup4(ip4: number, vlan: number, port: string): boolean {
    return this.leaveGroup(v4Mapped(ip4), 0, vlan, port);
  }

  private groupKeyOf(g: McastGroup): string {
    const a = g.addr;
    return groupKey(g.vlan, word(a, 0), word(a, 4), word(a, 8), word(a, 12));
  }

  private flushGroup(g: McastGroup): void {
    g.bundles.clear();
    this.groups.delete(this.groupKeyOf(g));
    this.needRevalidate = true;
  }

  /**
   * IGMPv3 report at `l4` (`len` bytes of L4): each known record joins
   * its group, or leaves it when it is INCLUDE with no sources. Returns
   * the number of records that changed something.
   */
  addReport(p: Uint8Array, l4: number, end: number, vlan: number, port: string): number {
    if (l4 + IGMPV3_HEADER_LEN > end) return 0;
    let ngrp = (p[l4 + 6]! << 8) | p[l4 + 7]!;
    let off = l4 + IGMPV3_HEADER_LEN;
    let count = 0;
    while (ngrp-- > 0) {
      if (off + IGMPV3_RECORD_LEN > end) break;
      const type = p[off]!;
      // As OVS: an unknown record is passed over without moving past it.
      if (type < MODE_IS_INCLUDE || type > BLOCK_OLD_SOURCES) continue;
      const auxLen = p[off + 1]!;
      const nsrcs = (p[off + 2]! << 8) | p[off + 3]!;
      const ip4 = word(p, off + 4);
      const ret = nsrcs === 0 && (type === MODE_IS_INCLUDE || type === CHANGE_TO_INCLUDE_MODE)
        ? this.leaveGroup4(ip4, vlan, port)
        : this.addGroup4(ip4, vlan, port);
      if (ret) count++;
      off += IGMPV3_RECORD_LEN + nsrcs * 4 + auxLen;
    }
    return count;
  }

  /** An MLD report, done or MLDv2 report at `l4`; returns the number of changes. */
  addMld(p: Uint8Array, l4: number, end: number, vlan: number, port: string): number {
    if (l4 + MLD_HEADER_LEN > end) return 0;
    const type = p[l4]!;
    let ngrp = (p[l4 + 6]! << 8) | p[l4 + 7]!;
    let off = l4 + MLD_HEADER_LEN;
    let count = 0;
    switch (type) {
      case MLD_REPORT:
        if (off + 16 <= end && this.addGroup(p, off, vlan, port)) count++;
        break;
      case MLD_DONE:
        if (off + 16 <= end && this.leaveGroup(p, off, vlan, port)) count++;
        break;
      case MLD2_REPORT:
        while (ngrp-- > 0) {
          if (off + MLD2_RECORD_LEN > end) break;
          const rtype = p[off]!;
          const auxLen = p[off + 1]!;
          const nsrcs = (p[off + 2]! << 8) | p[off + 3]!;
          if (rtype >= MODE_IS_INCLUDE && rtype <= BLOCK_OLD_SOURCES) {
            const ret = nsrcs === 0 && (rtype === MODE_IS_INCLUDE || rtype === CHANGE_TO_INCLUDE_MODE)
              ? this.leaveGroup(p, off + 4, vlan, port)
              : this.addGroup(p, off + 4, vlan, port);
            if (ret) count++;
          }
          off += MLD2_RECORD_LEN + nsrcs * 16 + auxLen;
        }
        break;
    }
    return count;
  }

  /* ---------------- routers ---------------- */

  /**
   * Records (or refreshes) a multicast router on `port` in `vlan`. Returns
   * true when the table has changes not yet revalidated (OVS's answer).
   */
  addMrouter(vlan: number, port: string): boolean {
    if (this.fports.includes(port)) return false;
    const key = this.mrouterKey(vlan, port);
    const m = this.mrouters.get(key);
    if (m !== undefined) this.mrouters.delete(key);
    else this.needRevalidate = true;
    this.mrouters.set(key, { vlan, port, expires: this.nowSec() + MCAST_MROUTER_PORT_IDLE_TIME });
    return this.needRevalidate;
  }

  /* ---------------- flush and run ---------------- */

  /** `mdb/flush`: forgets groups and routers (flood flags stay). */
  mdbFlush(): void {
    for (const g of [...this.groups.values()]) this.flushGroup(g);
    this.mrouters.clear();
  }

  /** Forgets everything a bundle that went away had. */
  flushBundle(port: string): void {
    for (const g of [...this.groups.values()]) {
      if (g.bundles.delete(port)) {
        this.needRevalidate = true;
        if (g.bundles.size === 0) this.flushGroup(g);
      }
    }
    for (const [k, m] of [...this.mrouters]) {
      if (m.port === port) {
        this.mrouters.delete(k);
        this.needRevalidate = true;
      }
    }
    if (this.fports.includes(port)) this.setPortFlood(port, false);
    if (this.rports.includes(port)) this.setPortFloodReports(port, false);
  }

  /** Drops expired members of `g` (and `g` when none is left); returns how many went. */
  private pruneExpired(g: McastGroup, now: number): number {
    let expired = 0;
    for (const [port, b] of g.bundles) {
      if (b.expires > now) break;
      g.bundles.delete(port);
      expired++;
    }
    if (g.bundles.size === 0) {
      this.groups.delete(this.groupKeyOf(g));
      expired++;
    }
    if (expired > 0) this.needRevalidate = true;
    return expired;
  }

  /**
   * Periodic work: evicts groups over the limit, expires members and
   * routers. Returns true when installed megaflows need revalidation.
   */
  run(now = this.nowSec()): boolean {
    for (;;) {
      const first = this.groups.values().next();
      if (first.done) break;
      if (this.groups.size > this.maxEntries) this.flushGroup(first.value);
      else if (this.pruneExpired(first.value, now) === 0) break;
    }
    for (const [k, m] of this.mrouters) {
      if (now < m.expires) break;
      this.mrouters.delete(k);
      this.needRevalidate = true;
    }
    const r = this.needRevalidate;
    this.needRevalidate = false;
    return r;
  }

  /** Seconds since the membership was last refreshed. */
  bundleAge(b: McastGroupBundle, now = this.nowSec()): number {
    return this.idleTime - (b.expires - now);
  }

  /** Seconds since the router was last heard. */
  mrouterAge(m: McastMrouter, now = this.nowSec()): number {
    return MCAST_MROUTER_PORT_IDLE_TIME - (m.expires - now);
  }

  /**
   * `ovs-appctl mdb/show` text: memberships, then routers. `portName`
   * gives the text in the port column (OVS prints an OpenFlow port number
   * of the bundle).
   */
  showText(portName: (port: string) => string): string {
    const now = this.nowSec();
    let out = " port  VLAN  GROUP                Age\n";
    for (const g of this.groups.values()) {
      for (const b of g.bundles.values()) {
        out += `${portName(b.port).padStart(5)}  ${String(g.vlan).padStart(4)}  ${formatMcastAddr(g.addr)}         ${String(this.bundleAge(b, now)).padStart(3)}\n`;
      }
    }
    for (const m of this.mrouters.values()) {
      out += `${portName(m.port).padStart(5)}  ${String(m.vlan).padStart(4)}  querier             ${String(this.mrouterAge(m, now)).padStart(3)}\n`;
    }
    return out;
  }

  /* ---------------- timers ---------------- */

  /**
   * Runs the table every second and after every `time/warp` step, calling
   * `changed` when megaflows need revalidation.
   */
  startTimers(changed: () => void): void {
    if (this.timer !== null) return;
    const tick = (): void => {
      if (this.run()) changed();
    };
    this.timer = setInterval(tick, 1000);
    this.timer.unref();
    this.unwarp = onTimeWarp(tick);
  }

  /** Stops the timers (snooping turned off or bridge deleted). */
  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.unwarp?.();
    this.unwarp = null;
  }
}
