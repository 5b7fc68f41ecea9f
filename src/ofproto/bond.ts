/**
 * Bonds (OVS 3.1's ofproto/bond.c, written anew): a bundle with several
 * member interfaces, the member each packet leaves by, which members may
 * be used at all (link state, up/down delays, LACP's verdict,
 * bond/enable-member), and which received packets NORMAL may accept.
 *
 * ## Modes
 * - active-backup: one member (the active one) carries everything;
 *   packets received on the others are refused.
 * - balance-slb: the source MAC and VLAN hash (`hashMac`) picks one of
 *   256 buckets; a bucket is bound to a member on first use (enabled
 *   members taken round-robin) and stays there until that member is
 *   disabled or `bond/migrate` / rebalancing moves it. Packets whose
 *   source MAC was learned on another port are refused (loop
 *   protection), multicast only enters by the active member.
 * - balance-tcp: needs negotiated LACP; without it nothing is sent or
 *   received (unless `lacp-fallback-ab`, which behaves as active-backup).
 *   Output recirculates, as OVS's datapath actions say it:
 *   `hash(l4(BASIS)),recirc(ID)`, and hidden table-254 rules
 *   `recirc_id=ID,dp_hash=BUCKET/0xff actions=output:MEMBER` pick the
 *   member in the second pass.
 *
 * A new active member (or a member going down) makes the bond announce
 * every MAC learned elsewhere on the bridge with a RARP from that MAC
 * out of the member it now uses (OVS's learning packets), so that the
 * switches beyond learn the new path at once.
 *
 * ## Order, as OVS's
 * OVS keeps members in a hash map keyed by the address of their ofport
 * structure, so its first choice of active member among equals is in
 * effect random (on OVS 3.1 with two fresh dummy members b1, b2 it is
 * sometimes b1, sometimes b2: checked on 6 bridges, 4 to 2). tsovs keys
 * the same kind of map (ofport-order.ts's HmapOrder) by the OpenFlow
 * port number instead: deterministic, and the same sort of order.
 * Members are registered in the order of the Port's `interfaces` (by
 * uuid, as OVS), which is also the order of the enabled list SLB's
 * round-robin starts from. Bonds themselves are listed (bond/list,
 * bond/show) in the order of OVS's global map keyed by name.
 *
 * The LACP state machine lives in lacp.ts; a bond only sees its status
 * ("off", "configured": no partner, "negotiated") and each member's
 * may-enable verdict.
 */
import { hashAdd, hashFinish } from "../flow/key-ops.js";
import * as L from "../flow/key-layout.js";
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from "../openflow/ofp-port.js";
import { formatMac } from "../openflow/ofp-codec.js";
import { vlogModule } from "../util/vlog.js";
import { onTimeWarp } from "../util/clock.js";
import { HmapOrder, hashInt, hashString } from "./ofport-order.js";
import type { XBridge, XPort } from "./xlate-types.js";
import type { Ofproto } from "./ofproto.js";
import { Match } from "../openflow/match.js";
import { flowMod } from "./flow-mod.js";
import { allocRecircId, bridgeUuid } from "./xlate-pin.js";
import { ETH_TYPE_LACP, Lacp, type LacpMemberSettings } from "./lacp.js";

const log = vlogModule("bond");

export type BondMode = "active-backup" | "balance-slb" | "balance-tcp";
export type LacpStatus = "off" | "configured" | "negotiated";

/** Bit mask of the 256 SLB / TCP hash buckets. */
export const BOND_MASK = 0xff;
const BOND_BUCKETS = BOND_MASK + 1;

/** A bond's settings, from its Port row (see vswitchd/port-config.ts). */
export interface BondSettings {
  mode: BondMode;
  /** Port.bond_updelay / bond_downdelay, ms. */
  updelay: number;
  downdelay: number;
  /** other_config:bond-hash-basis. */
  basis: number;
  /** other_config:bond-rebalance-interval, ms (0 = never; at least 1000 otherwise). */
  rebalanceInterval: number;
  /** other_config:bond-primary (active-backup's preferred member), or null. */
  primary: string | null;
  /** other_config:lacp-fallback-ab. */
  lacpFallbackAb: boolean;
  /** other_config:all-members-active (admit on every member). */
  allMembersActive: boolean;
  /** Port.lacp ("off" when absent). */
  lacp: "off" | "active" | "passive";
  /** Port.bond_active_slave: the MAC of the member that was active, or null. */
  activeMemberMac: Uint8Array | null;
  /** other_config:lacp-time=fast. */
  lacpFast?: boolean;
  /** other_config:lacp-system-id, else the bridge's address (null: none known, LACP stays off). */
  lacpSysId?: Uint8Array | null;
  /** other_config:lacp-system-priority (0: the default, 65534 for a bond). */
  lacpSysPriority?: number;
  /** Per interface name: Interface other_config:lacp-port-id (0: the OpenFlow port), -port-priority, -aggregation-key. */
  lacpMembers?: Record<string, LacpMemberSettings>;
}

/** The default settings (a Port row with only its interfaces). */
export function defaultBondSettings(): BondSettings {
  return {
    mode: "active-backup", updelay: 0, downdelay: 0, basis: 0, rebalanceInterval: 10000, primary: null,
    lacpFallbackAb: false, allMembersActive: false, lacp: "off", activeMemberMac: null,
  };
}

/** One member interface of a bond. */
export class BondMember {
  enabled = false;
  /** May be enabled as far as link state and LACP are concerned. */
  mayEnable = false;
  /** When `enabled` may change (ms), or Infinity when no change is pending. */
  delayExpires = Infinity;
  /** Bytes sent by each bucket bound here, for rebalancing. */
  txBytes = 0;
  constructor(
    readonly bond: Bond,
    public port: XPort,
  ) {}

  get name(): string {
    return this.port.name;
  }

  get ofpNo(): number {
    return this.port.ofpNo;
  }
}

/** What NORMAL does with a packet received on a member (OVS's bond_verdict). */
export const BV_ACCEPT = 0;
export const BV_DROP = 1;
export const BV_DROP_IF_MOVED = 2;

/** OVS's hash_mac: the MAC and VLAN as one 64-bit word, hashed with `basis`. */
export function hashMac(mac: Uint8Array, off: number, vlan: number, basis: number): number {
  const lo = ((mac[off + 2]! << 24) | (mac[off + 3]! << 16) | (mac[off + 4]! << 8) | mac[off + 5]!) >>> 0;
  const hi = (((vlan & 0xffff) << 16) | (mac[off]! << 8) | mac[off + 1]!) >>> 0;
  return hashFinish(hashAdd(hashAdd(basis | 0, lo), hi), 8);
}

/** hashMac of a flow's dl_src (flow layout of key-layout.ts). */
function hashFlowSrc(flow: Uint32Array, vlan: number, basis: number): number {
  const lo = flow[L.W_ETH_SRC + 1]! >>> 0;
  const hi = (((vlan & 0xffff) << 16) | (flow[L.W_ETH_SRC]! & 0xffff)) >>> 0;
  return hashFinish(hashAdd(hashAdd(basis | 0, lo), hi), 8);
}

/* ---------------- the global list of bonds ---------------- */

/* Every bond of every bridge, in OVS's map keyed by name (two bridges may both have a "bond0"). */
let bondOrder = new HmapOrder<Bond>((b) => hashString(b.name));

/** Every bond in OVS's order (bond/list, bond/show). */
export function listBonds(): Bond[] {
  return bondOrder.values();
}

/** The bond named `name`, or null. */
export function findBond(name: string): Bond | null {
  return bondOrder.values().find((b) => b.name === name) ?? null;
}

/** Forgets every bond (tests). */
export function resetBonds(): void {
  bondOrder = new HmapOrder<Bond>((b) => hashString(b.name));
}

/* ---------------- the bond ---------------- */

export class Bond {
  mode: BondMode = "active-backup";
  updelay = 0;
  downdelay = 0;
  basis = 0;
  rebalanceInterval = 0;
  nextRebalance = 0;
  primary: string | null = null;
  lacpFallbackAb = false;
  allMembersActive = false;
  lacpStatus: LacpStatus = "off";
  /** The bond's LACP (lacp.ts) when Port.lacp is active or passive. */
  lacp: Lacp | null = null;
  /** Called when a received LACP PDU changed LACP's state (BridgeBonds re-runs the bonds). */
  lacpChanged: (() => void) | null = null;
  /** The MAC of the active member (Port.bond_active_slave), zero when none. */
  activeMemberMac = new Uint8Array(6);
  /** Set when the active member changed and the Port row was not told yet. */
  activeMemberChanged = false;
  /** Gratuitous learning packets are due (a new active member, a member disabled). */
  sendLearningPackets = false;
  active: BondMember | null = null;
  /** SLB / TCP buckets: the member each is bound to (null = unbound). */
  hash: (BondMember | null)[] | null = null;
  /** Per-bucket bytes sent (for rebalancing). */
  bucketBytes: Float64Array | null = null;
  /** Recirculation id (balance modes), 0 when none. */
  recircId = 0;
  /** The bridge (recirculation ids and balance-tcp's table-254 rules), when there is one. */
  host: BondHost | null = null;
  /** balance-tcp's installed second-stage rules: bucket -> OpenFlow port. */
  readonly recircRules = new Map<number, number>();
  /** Set when installed megaflows may depend on something that changed. */
  private revalidate = false;
  private readonly members = new HmapOrder<BondMember>((m) => hashInt(m.ofpNo & 0xffff));
  private readonly byPort = new Map<XPort, BondMember>();
  /** Enabled members, in the order they were enabled (SLB's round-robin). */
  private enabledList: BondMember[] = [];

  private constructor(
    readonly name: string,
    private readonly now: () => number,
  ) {}

  /** Creates bond `name` and adds it to the global list. */
  static create(name: string, s: BondSettings, now: () => number, host: BondHost | null = null): Bond {
    const b = new Bond(name, now);
    b.host = host;
    bondOrder.insert(b);
    b.reconfigure(s);
    return b;
  }

  nowMs(): number {
    return this.now();
  }

  /** The recirculation id translation uses for output (balance-tcp), or 0 to output directly. */
  recircTarget(): number {
    return this.mayRecirc() && this.host !== null ? this.recircId : 0;
  }

  /** Removes the bond from the global list. */
  destroy(): void {
    if (this.mode === "balance-tcp") this.mode = "active-backup";
    syncRecircRules(this);
    bondOrder.remove(this);
  }

  /** Applies `s`; true when installed megaflows must be revalidated. */
  /** Set by the first `reconfigure` (the bond's creation). */
  private configured = false;

  reconfigure(s: BondSettings): boolean {
    let revalidate = false;
    this.updelay = s.updelay;
    this.downdelay = s.downdelay;
    this.primary = s.primary;
    this.allMembersActive = s.allMembersActive;
    if (this.lacpFallbackAb !== s.lacpFallbackAb) {
      this.lacpFallbackAb = s.lacpFallbackAb;
      revalidate = true;
    }
    if (this.rebalanceInterval !== s.rebalanceInterval) {
      this.rebalanceInterval = s.rebalanceInterval;
      revalidate = true;
    }
    if (this.mode !== s.mode) {
      this.mode = s.mode;
      revalidate = true;
    }
    if (this.basis !== s.basis) {
      this.basis = s.basis;
      revalidate = true;
    }
    if (this.revalidate) {
      revalidate = true;
      this.revalidate = false;
    }
    if (this.mode !== "active-backup") {
      if (this.recircId === 0) this.recircId = allocBondRecircId(this);
    } else {
      this.recircId = 0;
    }
    if (this.mode === "active-backup" || this.hash === null || revalidate) this.resetBuckets();
    // The last run's active member (Port.bond_active_slave) counts only for a new bond, as OVS's bond_create.
    if (!this.configured && s.activeMemberMac !== null) this.activeMemberMac = s.activeMemberMac.slice();
    if (!this.configured) this.activeMemberChanged = false;
    this.configured = true;
    return revalidate;
  }

  private resetBuckets(): void {
    if (this.mode !== "active-backup") {
      this.hash = new Array<BondMember | null>(BOND_BUCKETS).fill(null);
      this.bucketBytes = new Float64Array(BOND_BUCKETS);
      this.nextRebalance = this.now() + this.rebalanceInterval;
    } else {
      this.hash = null;
      this.bucketBytes = null;
    }
  }

  /** Members in the bond's map order (bond/list). */
  memberList(): BondMember[] {
    return this.members.values();
  }

  member(port: XPort): BondMember | null {
    return this.byPort.get(port) ?? null;
  }

  memberByName(name: string): BondMember | null {
    for (const m of this.members.values()) if (m.name === name) return m;
    return null;
  }

  /**
   * Makes the members exactly `ports` (in registration order); new ones
   * start enabled when their link is up, as OVS's bond_member_register.
   */
  setMembers(ports: readonly XPort[]): void {
    const want = new Set(ports);
    for (const [port, m] of [...this.byPort]) if (!want.has(port)) this.unregister(m);
    for (const p of ports) {
      if (this.byPort.has(p)) continue;
      const m = new BondMember(this, p);
      this.byPort.set(p, m);
      this.members.insert(m);
      this.revalidate = true;
      this.enableMember(m, portCarrier(p));
    }
  }

  private unregister(m: BondMember): void {
    this.revalidate = true;
    this.enableMember(m, false);
    const wasActive = this.active === m;
    if (this.hash !== null) for (let i = 0; i < BOND_BUCKETS; i++) if (this.hash[i] === m) this.hash[i] = null;
    this.byPort.delete(m.port);
    this.members.remove(m);
    if (wasActive) this.chooseActive();
  }

  /**
   * Periodic work: member link states (with up/down delays) and the
   * active member. `mayEnable(port)` is LACP's verdict per member (true
   * without LACP). Returns true when megaflows must be revalidated.
   */
  run(lacpStatus: LacpStatus, mayEnable: (m: BondMember) => boolean): boolean {
    if (this.lacpStatus !== lacpStatus) {
      this.lacpStatus = lacpStatus;
      this.revalidate = true;
    }
    for (const m of this.members.values()) {
      m.mayEnable = portCarrier(m.port) && mayEnable(m);
      this.linkStatusUpdate(m);
    }
    const primary = this.primary !== null ? this.memberByName(this.primary) : null;
    if (this.active === null || !this.active.enabled || (primary !== null && primary.enabled && primary !== this.active)) {
      this.chooseActive();
    }
    const r = this.revalidate;
    this.revalidate = false;
    return r;
  }

  /** The earliest pending up/down delay expiry (ms), or Infinity. */
  nextWake(): number {
    let t = Infinity;
    for (const m of this.members.values()) if (m.delayExpires < t) t = m.delayExpires;
    return t;
  }

  private linkStatusUpdate(m: BondMember): void {
    const up = m.mayEnable;
    if ((up === m.enabled) !== (m.delayExpires === Infinity)) {
      log.info(`member ${m.name}: link state ${up ? "up" : "down"}`);
      if (up === m.enabled) {
        m.delayExpires = Infinity;
        log.info(`member ${m.name}: will not be ${up ? "disabled" : "enabled"}`);
      } else {
        const delay = this.lacpStatus !== "off" ? 0 : up ? this.updelay : this.downdelay;
        m.delayExpires = this.now() + delay;
        if (delay !== 0) {
          log.info(`member ${m.name}: will be ${up ? "enabled" : "disabled"} if it stays ${up ? "up" : "down"} for ${delay} ms`);
        }
      }
    }
    if (this.now() >= m.delayExpires) this.enableMember(m, up);
  }

  /** OVS's bond_enable_member. */
  enableMember(m: BondMember, enable: boolean): void {
    m.delayExpires = Infinity;
    if (enable === m.enabled) return;
    this.revalidate = true;
    m.enabled = enable;
    if (enable) this.enabledList.push(m);
    else {
      this.enabledList = this.enabledList.filter((x) => x !== m);
      this.sendLearningPackets = true;
    }
    log.info(`member ${m.name}: ${enable ? "enabled" : "disabled"}`);
  }

  /** OVS's bond_find_best_member. */
  private bestMember(): BondMember | null {
    if (this.primary !== null) {
      const p = this.memberByName(this.primary);
      if (p !== null && p.enabled) return p;
    }
    const last = this.memberByMac(this.activeMemberMac);
    if (last !== null && last.enabled) return last;
    for (const m of this.members.values()) if (m.enabled) return m;
    let best: BondMember | null = null;
    for (const m of this.members.values()) {
      if (m.delayExpires !== Infinity && m.mayEnable && (best === null || m.delayExpires < best.delayExpires)) best = m;
    }
    return best;
  }

  /** The member whose interface has Ethernet address `mac`, or null. */
  memberByMac(mac: Uint8Array): BondMember | null {
    if (mac.every((b) => b === 0)) return null;
    for (const m of this.members.values()) {
      const a = m.port.hwAddr;
      if (a[0] === mac[0] && a[1] === mac[1] && a[2] === mac[2] && a[3] === mac[3] && a[4] === mac[4] && a[5] === mac[5]) return m;
    }
    return null;
  }

  private chooseActive(): void {
    const old = this.active;
    const next = this.bestMember();
    this.active = next;
    if (next !== null) {
      if (next.enabled) {
        if (next !== old) log.info(`bond ${this.name}: active member is now ${next.name}`);
      } else {
        log.info(`bond ${this.name}: active member is now ${next.name}, skipping remaining ${next.delayExpires - this.now()} ms updelay (since no member was enabled)`);
        this.enableMember(next, true);
      }
      this.sendLearningPackets = true;
      if (next !== old) this.activeChanged();
    } else if (old !== null) {
      this.activeChanged();
      log.info(`bond ${this.name}: all members disabled`);
    }
  }

  private activeChanged(): void {
    this.activeMemberMac = this.active !== null ? this.active.port.hwAddr.slice() : new Uint8Array(6);
    this.activeMemberChanged = true;
    this.revalidate = true;
  }

  /** bond/set-active-member: "done", "no change", or an error text thrown by the caller. */
  setActive(m: BondMember): boolean {
    if (this.active === m) return false;
    this.revalidate = true;
    this.active = m;
    log.info(`bond ${this.name}: active member is now ${m.name}`);
    this.sendLearningPackets = true;
    this.activeChanged();
    return true;
  }

  /**
   * Whether gratuitous learning packets must go out now (OVS's
   * bond_should_send_learning_packets: active-backup or SLB without LACP,
   * or LACP that fell back to active-backup); clears the request.
   */
  takeLearningPackets(): boolean {
    const may = ((this.lacpStatus === "off" && (this.mode === "balance-slb" || this.mode === "active-backup")) ||
      (this.lacpFallbackAb && this.lacpStatus === "configured")) && this.active !== null;
    const send = this.sendLearningPackets && may;
    this.sendLearningPackets = false;
    return send;
  }

  /** Marks the bond for revalidation (unixctl changes). */
  markRevalidate(): void {
    this.revalidate = true;
  }

  /**
   * Whether a packet received on member `port` with a multicast (or not)
   * destination may enter NORMAL (OVS's bond_check_admissibility).
   */
  checkAdmissibility(port: XPort, dstMulticast: boolean): number {
    const m = this.byPort.get(port);
    if (m === undefined) return BV_DROP;
    switch (this.lacpStatus) {
      case "negotiated":
        /* A partner that knows the bond sends right; only disabled members are refused. */
        return m.enabled ? BV_ACCEPT : BV_DROP;
      case "configured":
        if (!this.lacpFallbackAb) return BV_DROP;
        break;
      case "off":
        if (this.mode === "balance-tcp") return BV_DROP;
        break;
    }
    if (dstMulticast && this.active !== m) return BV_DROP;
    switch (this.mode) {
      case "balance-tcp":
      case "active-backup":
        /* balance-tcp gets here only with lacp-fallback-ab: it then behaves as active-backup. */
        if (this.mode === "balance-tcp" && !this.lacpFallbackAb) return BV_DROP;
        if (this.active !== m) {
          if (log.enabled("dbg")) log.dbg(`active-backup bond received packet on backup member (${m.name}) destined for ${dstMulticast ? "multicast" : "unicast"} address`);
          return BV_DROP;
        }
        return BV_ACCEPT;
      case "balance-slb":
        return this.allMembersActive ? BV_ACCEPT : BV_DROP_IF_MOVED;
    }
  }

  /**
   * The member a packet of `flow` on VLAN `vlan` leaves by, or null to drop
   * (OVS's choose_output_member). SLB un-wildcards dl_src in `wc`.
   */
  chooseOutput(flow: Uint32Array, wc: Uint32Array | null, vlan: number): BondMember | null {
    let mode = this.mode;
    if (this.lacpStatus === "configured") {
      if (!this.lacpFallbackAb) return null;
      mode = "active-backup";
    }
    switch (mode) {
      case "active-backup":
        return this.active;
      case "balance-tcp":
        if (this.lacpStatus !== "negotiated") return null;
        return this.bucketMember(hashFlowTcp(flow, this.basis) & BOND_MASK);
      case "balance-slb":
        if (wc !== null) {
          wc[L.W_ETH_SRC] = (wc[L.W_ETH_SRC]! | 0xffff) >>> 0;
          wc[L.W_ETH_SRC + 1] = 0xffffffff;
        }
        return this.bucketMember(hashFlowSrc(flow, vlan, this.basis) & BOND_MASK);
    }
  }

  /** The member bucket `i` is bound to, binding it round-robin first when needed. */
  bucketMember(i: number): BondMember | null {
    const hash = this.hash;
    if (hash === null) return this.active;
    let m: BondMember | null = hash[i]!;
    if (m === null || !m.enabled) {
      m = this.nextEnabled();
      hash[i] = m;
    }
    return m;
  }

  private nextEnabled(): BondMember | null {
    const first = this.enabledList.shift();
    if (first === undefined) return null;
    this.enabledList.push(first);
    return first;
  }

  /** Counts `bytes` sent in `flow` (SLB accounting for rebalancing). */
  account(flow: Uint32Array, vlan: number, bytes: number): void {
    if (!this.isBalanced() || this.bucketBytes === null) return;
    const i = (this.mode === "balance-tcp" ? hashFlowTcp(flow, this.basis) : hashFlowSrc(flow, vlan, this.basis)) & BOND_MASK;
    this.bucketBytes[i] = this.bucketBytes[i]! + bytes;
  }

  /** Rebalancing is on (OVS's bond_is_balanced). */
  isBalanced(): boolean {
    return this.rebalanceInterval !== 0 && (this.mode === "balance-slb" || this.mode === "balance-tcp");
  }

  /** Whether the bond uses recirculation (balance-tcp: OVS's bond_may_recirc). */
  mayRecirc(): boolean {
    return this.mode === "balance-tcp" && this.recircId !== 0;
  }

  /**
   * Moves load from the busiest enabled member to the least busy one
   * when it pays (OVS's bond_rebalance); true when a bucket moved.
   */
  rebalance(): boolean {
    const now = this.now();
    if (!this.isBalanced() || now < this.nextRebalance || this.hash === null || this.bucketBytes === null) return false;
    this.nextRebalance = now + this.rebalanceInterval;
    const entries = new Map<BondMember, number[]>();
    for (const m of this.members.values()) {
      m.txBytes = 0;
      entries.set(m, []);
    }
    for (let i = 0; i < BOND_BUCKETS; i++) {
      const m = this.hash[i];
      const b = this.bucketBytes[i]!;
      if (m != null && b > 0) {
        m.txBytes += b;
        entries.get(m)?.push(i);
      }
    }
    const bals: BondMember[] = [];
    const insert = (m: BondMember): void => {
      let k = 0;
      while (k < bals.length && !(m.txBytes > bals[k]!.txBytes)) k++;
      bals.splice(k, 0, m);
    };
    for (const m of this.members.values()) if (m.enabled) insert(m);
    let moved = false;
    while (bals.length > 1) {
      const from = bals[0]!;
      const to = bals[bals.length - 1]!;
      const overload = from.txBytes - to.txBytes;
      if (overload < to.txBytes / 32 || overload < 100000) break;
      const list = entries.get(from)!;
      let pick = -1;
      if (list.length > 1) {
        for (const i of list) {
          const delta = this.bucketBytes[i]!;
          const ideal = (from.txBytes + to.txBytes) / 2;
          const newLow = Math.min(from.txBytes - delta, to.txBytes + delta);
          if (newLow > to.txBytes && newLow - to.txBytes >= (ideal - to.txBytes) / 10) {
            pick = i;
            break;
          }
        }
      }
      if (pick < 0) {
        bals.shift();
        continue;
      }
      const delta = this.bucketBytes[pick]!;
      log.info(`bond ${this.name}: shift ${Math.floor(delta / 1024)}kB of load (with hash ${pick}) from ${from.name} to ${to.name} (now carrying ${Math.floor((from.txBytes - delta) / 1024)}kB and ${Math.floor((to.txBytes + delta) / 1024)}kB load, respectively)`);
      from.txBytes -= delta;
      to.txBytes += delta;
      this.hash[pick] = to;
      list.splice(list.indexOf(pick), 1);
      bals.splice(bals.indexOf(from), 1);
      insert(from);
      bals.splice(bals.indexOf(to), 1);
      insert(to);
      moved = true;
      this.revalidate = true;
    }
    for (let i = 0; i < BOND_BUCKETS; i++) this.bucketBytes[i] = Math.floor(this.bucketBytes[i]! / 2);
    return moved;
  }

  /** bond/show's text for this bond (OVS 3.1's bond_print_details). */
  details(): string {
    let s = `---- ${this.name} ----\n`;
    s += `bond_mode: ${this.mode}\n`;
    const mayRecirc = this.mayRecirc();
    s += `bond may use recirculation: ${mayRecirc ? "yes" : "no"}, Recirc-ID : ${mayRecirc ? this.recircId : -1}\n`;
    s += `bond-hash-basis: ${this.basis >>> 0}\n`;
    /* other_config:lb-output-action is not supported: always the recirculation path. */
    s += "lb_output action: disabled, bond-id: -1\n";
    if (this.mode === "balance-slb") s += `all members active: ${this.allMembersActive ? "true" : "false"}\n`;
    s += `updelay: ${this.updelay} ms\n`;
    s += `downdelay: ${this.downdelay} ms\n`;
    if (this.isBalanced()) s += `next rebalance: ${this.nextRebalance - this.now()} ms\n`;
    s += `lacp_status: ${this.lacpStatus === "off" ? "off" : this.lacpStatus}\n`;
    s += `lacp_fallback_ab: ${this.lacpFallbackAb ? "true" : "false"}\n`;
    s += `active-backup primary: ${this.primary ?? "<none>"}\n`;
    const am = this.memberByMac(this.activeMemberMac);
    s += `active member mac: ${formatMac(this.activeMemberMac)}(${am !== null ? am.name : "none"})\n`;
    const sorted = this.members.values().sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    for (const m of sorted) {
      s += `\nmember ${m.name}: ${m.enabled ? "enabled" : "disabled"}\n`;
      if (m === this.active) s += "  active member\n";
      if (m.delayExpires !== Infinity) s += `  ${m.enabled ? "downdelay" : "updelay"} expires in ${m.delayExpires - this.now()} ms\n`;
      s += `  may_enable: ${m.mayEnable ? "true" : "false"}\n`;
      if (!this.isBalanced() || this.hash === null || this.bucketBytes === null) continue;
      for (let i = 0; i < BOND_BUCKETS; i++) {
        if (this.hash[i] !== m) continue;
        const k = Math.floor(this.bucketBytes[i]! / 1024);
        if (k > 0) s += `  hash ${i}: ${k} kB load\n`;
      }
    }
    return s + "\n";
  }
}

/** A member's link: up when its port is administratively up and has a link. */
function portCarrier(p: XPort): boolean {
  return (p.state & OFPPS_LINK_DOWN) === 0 && (p.config & OFPPC_PORT_DOWN) === 0;
}

/**
 * The 5-tuple hash balance-tcp would use without recirculation (OVS's
 * flow_hash_5tuple); with recirculation the datapath's dp_hash decides.
 */
function hashFlowTcp(flow: Uint32Array, basis: number): number {
  let h = basis | 0;
  h = hashAdd(h, flow[L.W_NW_SRC]!);
  h = hashAdd(h, flow[L.W_NW_DST]!);
  h = hashAdd(h, flow[L.W_TP_SRC] ?? 0);
  h = hashAdd(h, (flow[L.W_NW_PROTO]! >>> L.S_NW_PROTO) & L.M_NW_PROTO);
  return hashFinish(h, 42);
}

/* Recirculation ids of balance bonds: OVS takes them from the pool ct()
 * and friends use; here they come from their own counter, which starts
 * where OVS's first would (1), so bond/list reads the same on a bridge
 * without other recirculation. */
let nextBondRecirc = 1;
function allocBondRecircId(bond: Bond): number {
  const host = bond.host;
  if (host === null) return nextBondRecirc++;
  /* Recirculated packets resume in the internal table (254), from no port. */
  const flow = new Uint32Array(L.FLOW_U32S);
  flow[L.W_IN_PORT] = 0xffff;
  return allocRecircId({
    bridgeName: host.xbridge.name, bridgeUuid: bridgeUuid(host.xbridge), tableId: TBL_INTERNAL, flow,
    userdata: new TextEncoder().encode(`bond:${bond.name}`), actions: [],
  });
}

/** OVS's internal table and the priority of balance-tcp's second-stage rules there. */
const TBL_INTERNAL = 254;
const RECIRC_RULE_PRIORITY = 20;

/** What a bond needs of its bridge for recirculation. */
export interface BondHost {
  readonly xbridge: XBridge;
  readonly ofproto: Ofproto;
}

/**
 * balance-tcp's second stage (OVS's update_recirc_rules): every bucket
 * bound to a member (an unbound or disabled one takes the member of its
 * index among all, or the active one when that is disabled: OVS picks at
 * random there) and one hidden rule per bucket in table 254,
 * `recirc_id=ID,dp_hash=BUCKET/0xff actions=output:MEMBER`. Other modes
 * have none.
 */
function syncRecircRules(bond: Bond): void {
  const host = bond.host;
  if (host === null) return;
  const want = new Map<number, number>();
  if (bond.mayRecirc() && bond.hash !== null) {
    const members = bond.memberList();
    for (let i = 0; i < BOND_BUCKETS && members.length > 0; i++) {
      let m = bond.hash[i] ?? null;
      if (m === null || !m.enabled) {
        m = members[i % members.length]!;
        if (!m.enabled) m = bond.active;
        bond.hash[i] = m;
      }
      if (m !== null) want.set(i, m.ofpNo);
    }
  }
  const tables = host.ofproto.tables;
  const now = bond.nowMs();
  const rule = (i: number): Match => new Match().setNum("recirc_id", bond.recircId).setNum("dp_hash", i, BOND_MASK);
  const flags = { sendFlowRem: false, checkOverlap: false, resetCounts: false, noPacketCounts: false, noByteCounts: false, noReadonly: true };
  for (const [i, port] of bond.recircRules) {
    if (want.get(i) === port) continue;
    tables.flowMod(flowMod("delete_strict", rule(i), [], { priority: RECIRC_RULE_PRIORITY, tableId: TBL_INTERNAL, flags }), now);
    bond.recircRules.delete(i);
  }
  for (const [i, port] of want) {
    if (bond.recircRules.get(i) === port) continue;
    tables.flowMod(flowMod("add", rule(i), [{ type: "output", port, maxLen: 0 }], { priority: RECIRC_RULE_PRIORITY, tableId: TBL_INTERNAL, flags }), now);
    bond.recircRules.set(i, port);
  }
}

/* ---------------- a bridge's bonds ---------------- */

/** The part of a bundle the bond glue needs (ofproto-dpif's bundles). */
export interface BondedBundle {
  readonly name: string;
  ports: XPort[];
  bond?: Bond | null;
}

/**
 * NORMAL's special processing of LACP (OVS's process_special): a frame
 * with the slow protocols ethertype received on a member of a bond that
 * runs LACP goes to LACP (when there is a packet) and is otherwise
 * consumed, handled in the userspace slow path. True when it was one.
 */
export function lacpSpecial(inPort: XPort | null, dlType: number, packet: Uint8Array | null): boolean {
  const lacp = inPort?.bundle?.bond?.lacp;
  if (lacp == null || dlType !== ETH_TYPE_LACP) return false;
  if (packet !== null && lacp.processPacket(inPort!, packet)) inPort!.bundle!.bond!.lacpChanged?.();
  return true;
}

/**
 * The bonds of one bridge: creates, reconfigures and destroys them (and
 * their LACP) with their bundles, runs them (link states, delays, LACP
 * timers and PDUs) and wakes itself when a delay or timer ends.
 */
export class BridgeBonds {
  private timer: NodeJS.Timeout | null = null;
  private wakeAt = Infinity;
  private immediate: NodeJS.Immediate | null = null;
  /** Each member's carrier as LACP last heard of it. */
  private readonly carriers = new Map<XPort, boolean>();

  constructor(
    private readonly now: () => number,
    /** Called when a delay or timer expired: the owner runs `run` again and revalidates. */
    private readonly wake: () => void,
    /** Sends a frame (a LACP PDU) out of a member port. */
    private readonly send: (port: XPort, frame: Uint8Array) => void = () => undefined,
    /** The bridge, for balance-tcp's recirculation. */
    private readonly host: BondHost | null = null,
  ) {
    // time/warp moves the clock past delays and LACP timers without waiting.
    this.unwarp = onTimeWarp((now) => {
      if (now >= this.wakeAt) this.wake();
    });
  }

  private readonly unwarp: () => void;

  /** Keeps `xb.bond` in step with `settings` (undefined: not a bond); true when megaflows must be revalidated. */
  configure(xb: BondedBundle, settings: BondSettings | undefined): boolean {
    let changed = false;
    if (settings !== undefined && xb.ports.length > 0) {
      let bond = xb.bond ?? null;
      if (bond === null) {
        bond = Bond.create(xb.name, settings, this.now, this.host);
        bond.lacpChanged = () => this.wakeSoon();
        xb.bond = bond;
        changed = true;
      } else if (bond.reconfigure(settings)) {
        changed = true;
      }
      bond.setMembers(xb.ports);
      this.configureLacp(bond, xb.ports, settings);
    } else if (xb.bond != null) {
      this.destroy(xb);
      changed = true;
    }
    return changed;
  }

  private configureLacp(bond: Bond, ports: readonly XPort[], s: BondSettings): void {
    const sysId = s.lacpSysId ?? null;
    if (s.lacp === "off" || sysId === null || sysId.every((b) => b === 0)) {
      if (s.lacp !== "off") log.warn(`port ${bond.name}: Invalid zero LACP system ID.`);
      bond.lacp?.destroy();
      bond.lacp = null;
      return;
    }
    bond.lacp ??= new Lacp(bond.name, this.now);
    const pri = s.lacpSysPriority ?? 0;
    bond.lacp.configure({
      active: s.lacp === "active",
      fast: s.lacpFast ?? false,
      sysId,
      sysPriority: pri > 0 && pri <= 0xffff ? pri : ports.length > 1 ? 0xfffe : 0xffff,
      fallbackAb: s.lacpFallbackAb,
    });
    for (const p of ports) {
      const m = s.lacpMembers?.[p.name];
      const portId = m !== undefined && m.portId > 0 && m.portId <= 0xffff ? m.portId : p.ofpNo & 0xffff;
      const prio = m !== undefined && m.portPriority > 0 && m.portPriority <= 0xffff ? m.portPriority : 0xffff;
      const key = m !== undefined && m.key >= 0 && m.key <= 0xffff ? m.key : 0;
      bond.lacp.registerMember(p, { portId, portPriority: prio, key });
    }
    bond.lacp.retainMembers(new Set(ports));
  }

  /** Drops the bundle's bond. */
  destroy(xb: BondedBundle): void {
    if (xb.bond == null) return;
    xb.bond.lacp?.destroy();
    xb.bond.lacp = null;
    xb.bond.lacpChanged = null;
    xb.bond.destroy();
    xb.bond = null;
  }

  /** Runs every bond of `bundles`; true when megaflows must be revalidated. */
  run(bundles: Iterable<BondedBundle>): boolean {
    let revalidate = false;
    let next = Infinity;
    for (const xb of bundles) {
      const bond = xb.bond;
      if (bond == null) continue;
      const lacp = bond.lacp;
      let status: LacpStatus = "off";
      if (lacp !== null) {
        for (const m of bond.memberList()) {
          /* OVS tells LACP when a device's carrier-reset counter moves; dummy devices have none. */
          if (m.port.type === "dummy") continue;
          const up = portCarrier(m.port);
          if (this.carriers.get(m.port) !== up) {
            if (this.carriers.has(m.port)) lacp.carrierChanged(m.port, up);
            this.carriers.set(m.port, up);
          }
        }
        const at = lacp.run(this.send);
        if (at < next) next = at;
        status = lacp.status();
      }
      if (bond.run(status, (m) => lacp === null || lacp.mayEnable(m.port))) revalidate = true;
      if (bond.rebalance()) revalidate = true;
      syncRecircRules(bond);
      if (bond.takeLearningPackets()) this.sendLearning(xb, bond);
      const w = bond.nextWake();
      if (w < next) next = w;
    }
    this.schedule(next);
    return revalidate;
  }

  /**
   * Tells the network where the MACs learned on the bridge's other ports
   * are now reached (OVS's bundle_send_learning_packets): one RARP per
   * MAC, from that MAC, out of the member its traffic would take.
   */
  private sendLearning(xb: BondedBundle, bond: Bond): void {
    const macs = this.host?.xbridge.macs as { entries?: () => Iterable<{ mac: Uint8Array; vlan: number; bundle: { name: string } }> } | undefined;
    if (macs?.entries === undefined) return;
    const flow = new Uint32Array(L.FLOW_U32S);
    let n = 0;
    for (const e of macs.entries()) {
      if (e.bundle.name === xb.name) continue;
      const m = e.mac;
      flow[L.W_ETH_SRC] = ((m[0]! << 8) | m[1]!) >>> 0;
      flow[L.W_ETH_SRC + 1] = ((m[2]! << 24) | (m[3]! << 16) | (m[4]! << 8) | m[5]!) >>> 0;
      const member = bond.chooseOutput(flow, null, e.vlan);
      if (member === null) continue;
      this.send(member.port, composeRarp(m, e.vlan));
      n++;
    }
    if (log.enabled("dbg")) log.dbg(`bond ${bond.name}: sent ${n} gratuitous learning packets`);
  }

  private wakeSoon(): void {
    if (this.immediate !== null) return;
    this.immediate = setImmediate(() => {
      this.immediate = null;
      this.wake();
    });
  }

  private schedule(at: number): void {
    if (at === this.wakeAt) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.wakeAt = at;
    if (at === Infinity) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      this.wakeAt = Infinity;
      this.wake();
    }, Math.max(0, at - this.now()));
    this.timer.unref();
  }

  close(bundles: Iterable<BondedBundle>): void {
    this.unwarp();
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    if (this.immediate !== null) clearImmediate(this.immediate);
    this.immediate = null;
    for (const xb of bundles) this.destroy(xb);
  }
}

/** A RARP request announcing `mac` (OVS's compose_rarp), tagged with `vlan` when nonzero. */
export function composeRarp(mac: Uint8Array, vlan: number): Uint8Array {
  const tag = vlan !== 0 ? 4 : 0;
  const f = new Uint8Array(42 + tag);
  f.fill(0xff, 0, 6);
  f.set(mac, 6);
  let o = 12;
  if (tag !== 0) {
    f[12] = 0x81;
    f[13] = 0x00;
    f[14] = (vlan >>> 8) & 0x0f;
    f[15] = vlan & 0xff;
    o = 16;
  }
  f[o] = 0x80;
  f[o + 1] = 0x35;
  const a = o + 2;
  f[a + 1] = 1; /* Ethernet */
  f[a + 2] = 0x08; /* IPv4 */
  f[a + 4] = 6;
  f[a + 5] = 4;
  f[a + 7] = 3; /* reverse request */
  f.set(mac, a + 8);
  f.set(mac, a + 18);
  return f;
}

/** What OVS's bridge writes for a bond (bridge.c's port_refresh_bond_status, iface lacp_current). */
export interface BondPortStatus {
  /** Port.bond_active_slave: the active member's MAC ("00:00:00:00:00:00" when none), or null when unchanged since last asked. */
  activeSlave: string | null;
  /** Interface.lacp_current per member name; empty when the bond runs no LACP. */
  lacpCurrent: Map<string, boolean>;
}

/** The status of `bond` to write; `force` reports the active member even when unchanged. */
export function bondPortStatus(bond: Bond, force = false): BondPortStatus {
  let activeSlave: string | null = null;
  if (bond.activeMemberChanged || force) {
    activeSlave = formatMac(bond.activeMemberMac);
    bond.activeMemberChanged = false;
  }
  const lacpCurrent = new Map<string, boolean>();
  if (bond.lacp !== null) {
    for (const m of bond.memberList()) {
      const c = bond.lacp.isCurrent(m.port);
      if (c !== null) lacpCurrent.set(m.name, c);
    }
  }
  return { activeSlave, lacpCurrent };
}
