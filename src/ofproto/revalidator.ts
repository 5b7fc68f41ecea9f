/**
 * The revalidator (OVS's ofproto/ofproto-dpif-upcall.c, revalidator half):
 * keeps the installed megaflows in step with the OpenFlow tables and
 * credits their statistics to the rules.
 *
 * ## A sweep
 * For every ukey: read the megaflow's datapath statistics; credit the
 * packets and bytes since the last sweep to the rules its translation
 * visited (`used` too, which drives idle timeouts); delete it when idle
 * longer than max-idle (10 s; 100 ms while over the flow limit). When
 * something translation depends on changed since the last sweep (tables,
 * groups, meters, ports, MAC learning: `request`), translate its key
 * again without side effects: a translation that needs bits the installed
 * mask does not match on, or fails, deletes the megaflow; different
 * actions modify it in place.
 *
 * ## What a table change revalidates
 * Groups, meters, ports, MAC learning and configuration changes
 * re-translate every megaflow. A change of OpenFlow tables alone (a
 * flow_mod, expiry, learn) re-translates only the megaflows it may
 * affect: those whose last translation visited a rule that is now gone,
 * and those that looked up a table that got a new rule overlapping the
 * megaflow (some packet of the megaflow matches the rule). A rule that
 * matches no packet of a megaflow cannot change any lookup for it, so
 * that is exact as long as the lookups saw the packet's own fields:
 * translations that modified a field before a lookup, resubmitted with
 * another in_port, crossed a patch port or used tables above 30 are
 * re-translated on every table change (`Ukey.pure`). More than
 * MAX_ADDED_RULES new rules since the last sweep: everything.
 *
 * ## Side effects of active megaflows
 * Packets that hit a megaflow are not translated, so what translation did
 * besides producing actions is replayed for active megaflows (OVS's xlate
 * cache): translations with deferred side effects (learn, fin_timeout)
 * every second, NORMAL's MAC learning every quarter of the MAC aging
 * time, so learned flows and MAC entries live as long as traffic flows.
 *
 * ## When
 * `request()` schedules a full sweep on the next turn of the event loop
 * (a flow_mod is visible in the datapath right after it is answered); a
 * timer sweeps every 500 ms for statistics and idle expiry (OVS's
 * max-revalidator default). `revalidator/wait` runs a sweep at once.
 *
 * ## Numbers
 * bench/vswitchd, 100,000 megaflows through a 1,000-rule 4-table
 * pipeline, shared 2-core machine (load ~5): one flow_mod then a sweep,
 * 130-290 ms (400 megaflows translated again, the rest only have their
 * statistics read: a ufid probe into dpif-netdev's flow table, no
 * allocation); a full re-translation of all of them 1.6-2.4 s, which is
 * translation's cost (~20 µs each under that load).
 */
import { STAT_STRIDE, ST_BYTES, ST_PACKETS, ST_USED, type FlowTable } from "../datapath/flow-table.js";
import { FLOW_DP_U32S, FLOW_U32S, W_IN_PORT, W_PACKET_TYPE, W_RECIRC_ID } from "../flow/key-layout.js";
import { vlogModule } from "../util/vlog.js";
import type { Udpif, Ukey } from "./upcall.js";
import type { OfprotoDpif } from "./ofproto-dpif.js";
import type { ClsRule } from "../classifier/index.js";
import {
  clearDontSend, REFRESH_DEFERRED, REFRESH_DEFERRED_MS, REFRESH_NONE, slowPathActions, ukeyKeyInto, ukeyKeyWord, ukeyRefreshKind, ukeyUfid, xlateIn,
} from "./upcall.js";
import { sameBytes } from "../packet/bytes.js";
import { MacLearning } from "./mac-learning.js";

const log = vlogModule("ofproto_dpif_upcall");

const DPW = FLOW_DP_U32S;
/** Timer sweep interval (OVS's other_config:max-revalidator default, ms). */
export const REVALIDATE_INTERVAL = 500;
/** Beyond this many new rules since the last sweep, a table change re-translates everything. */
const MAX_ADDED_RULES = 64;
/** The largest count passed on as a small integer (V8's 31-bit Smi range). */
const SMALL_INT_MAX = 0x3fffffff;
/** Idle limit while over the flow limit (ms). */
const OVER_LIMIT_MAX_IDLE = 100;

export interface RevalidatorOptions {
  timer?: boolean;
}

export class Revalidator {
  /** A full sweep (re-translation) is due. */
  private needFull = false;
  /** Some bridge's tables changed. */
  private needTables = false;
  /** Each bridge's tables version at the last sweep. */
  private readonly seenVersion = new WeakMap<OfprotoDpif, number>();
  /** Translations done by sweeps (for tests and the benchmark). */
  retranslations = 0;
  private scheduled: NodeJS.Immediate | null = null;
  private timer: NodeJS.Timeout | null = null;
  /** upcall/show figures. */
  dumpDuration = 0;
  avgFlows = 0;
  maxFlows = 0;
  /** Sweeps done (full ones too). */
  sweeps = 0;
  fullSweeps = 0;
  private readonly flow = new Uint32Array(FLOW_U32S);
  private readonly wc = new Uint32Array(FLOW_U32S);
  private readonly mask = new Uint32Array(FLOW_U32S);
  private readonly fullKey = new Uint32Array(FLOW_U32S);
  private waiters: (() => void)[] = [];

  constructor(private readonly udpif: Udpif, opts: RevalidatorOptions = {}) {
    if (opts.timer ?? true) {
      this.timer = setInterval(() => this.sweep(), REVALIDATE_INTERVAL);
      this.timer.unref();
    }
  }

  /** Asks for a full sweep soon. */
  request(): void {
    this.needFull = true;
    this.schedule();
  }

  /** Asks for a sweep of what table changes may affect, soon. */
  requestTables(): void {
    this.needTables = true;
    this.schedule();
  }

  private schedule(): void {
    if (this.scheduled !== null || this.timer === null) return;
    this.scheduled = setImmediate(() => {
      this.scheduled = null;
      if (this.needFull || this.needTables) this.sweep();
    });
    this.scheduled.unref();
  }

  /** True while a revalidating sweep is pending. */
  get pending(): boolean {
    return this.needFull || this.needTables;
  }

  /**
   * Per changed bridge, the rules added since the last sweep (null when
   * too many: everything of that bridge is re-translated); records the
   * versions seen.
   */
  private tableChanges(): Map<OfprotoDpif, ClsRule<unknown>[] | null> {
    const out = new Map<OfprotoDpif, ClsRule<unknown>[] | null>();
    for (const br of this.udpif.backer.bridges.values()) {
      const v = br.ofproto.tables.version;
      const last = this.seenVersion.get(br);
      this.seenVersion.set(br, v);
      if (last === v) continue;
      if (last === undefined) {
        out.set(br, null);
        continue;
      }
      const added = br.ofproto.tables.addedSince(last, MAX_ADDED_RULES);
      out.set(br, added === null ? null : added.map((r) => r.cls as ClsRule<unknown>));
    }
    return out;
  }

  /** Whether a table change may change the translation of `k`. */
  private affected(k: Ukey, changes: Map<OfprotoDpif, ClsRule<unknown>[] | null>): boolean {
    if (!k.pure) return true;
    if (!changes.has(k.bridge)) return false;
    const added = changes.get(k.bridge)!;
    if (added === null) return true;
    for (const r of k.rules) if (r.removed) return true;
    if (added.length === 0) return false;
    for (const r of added) {
      const table = r.payload as { tableId?: number };
      const t = table.tableId ?? 0;
      if (t >= 31 || (k.tables & (1 << t)) === 0) continue;
      if (overlaps(r, k, k.ofpIn)) return true;
    }
    return false;
  }

  /** Called after each datapath poll: nothing to do unless timers are off (tests drive sweeps). */
  afterRun(): void {
    // Sweeps run from their own timer / immediate.
  }

  /** Resolves after the next sweep (runs one now). */
  wait(): Promise<void> {
    this.sweep();
    return Promise.resolve();
  }

  /**
   * One pass over every megaflow: statistics, idle expiry and (when
   * requested) re-translation. Returns how many megaflows were deleted.
   */
  sweep(): number {
    const u = this.udpif;
    const start = performance.now();
    const full = this.needFull;
    const tablesChanged = this.needTables || full;
    this.needFull = false;
    this.needTables = false;
    const changes = tablesChanged ? this.tableChanges() : null;
    const dpif = u.backer.dpif;
    const ft = u.backer.netdevDp?.flows ?? null;
    const nBefore = u.ukeys.size;
    const now = u.backer.clock();
    const maxIdle = nBefore > u.flowLimit ? OVER_LIMIT_MAX_IDLE : u.maxIdle;
    let deleted = 0;
    // The per-megaflow work is a function of its own: it is compiled once
    // like any hot function, where a loop body in here was compiled anew
    // (on-stack replacement) at every sweep of a fresh switch.
    const all = u.ukeys.all();
    for (let i = 0; i < all.length; i++) {
      if (this.sweepOne(all[i]!, ft, now, maxIdle, full, changes)) deleted++;
    }
    if (full) this.fullSweeps++;
    this.sweeps++;
    const duration = Math.max(1, Math.round(performance.now() - start));
    this.dumpDuration = duration;
    // The flow count straight from the userspace datapath's table (its
    // getStats() builds a whole statistics object).
    const n = ft !== null ? ft.count : dpif.getStats().flows;
    this.avgFlows = Math.floor((this.avgFlows + n) / 2);
    this.maxFlows = Math.max(this.maxFlows, n);
    this.adaptFlowLimit(duration, nBefore);
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    return deleted;
  }

  /**
   * One megaflow of a sweep: statistics, side-effect replay, idle expiry,
   * revalidation. True when it was deleted (idle or no longer valid); a
   * megaflow gone from the datapath only loses its ukey.
   */
  private sweepOne(
    k: Ukey, ft: FlowTable | null, now: number, maxIdle: number, full: boolean,
    changes: Map<OfprotoDpif, ClsRule<unknown>[] | null> | null,
  ): boolean {
    const u = this.udpif;
    if (!k.live) return false;
    let packets: number;
    let bytes: number;
    let used: number;
    if (ft !== null) {
      const f = ft.findByUfid(ukeyUfid(k));
      if (f < 0) {
        u.ukeys.remove(k);
        return false;
      }
      const o = f * STAT_STRIDE;
      packets = ft.stats[o + ST_PACKETS]!;
      bytes = ft.stats[o + ST_BYTES]!;
      used = ft.stats[o + ST_USED]!;
    } else {
      const r = u.backer.dpif.flowGet({ ufid: ukeyUfid(k) });
      if (r.error !== 0 || r.flow === undefined) {
        u.ukeys.remove(k);
        return false;
      }
      packets = r.flow.stats.packets;
      bytes = r.flow.stats.bytes;
      used = r.flow.stats.used;
    }
    const fresh = this.credit(k, packets, bytes, used);
    if (fresh > 0 && ukeyRefreshKind(k) !== REFRESH_NONE && now - k.refreshed >= refreshInterval(k)) this.refresh(k, now);
    const lastUsed = used > 0 ? used : k.created;
    if (now - lastUsed > maxIdle) {
      this.deleteUkey(k);
      return true;
    }
    if ((full || (changes !== null && changes.size > 0 && this.affected(k, changes))) && !this.revalidateUkey(k)) {
      this.deleteUkey(k);
      return true;
    }
    return false;
  }

  /** OVS's flow-limit adaptation to the dump duration. */
  private adaptFlowLimit(duration: number, nFlows: number): void {
    const u = this.udpif;
    if (!u.adaptiveLimit) return;
    let limit = u.flowLimit;
    if (duration > 2000) limit = Math.floor(limit / (duration / 1000));
    else if (duration > 1300) limit = Math.floor((limit * 3) / 4);
    else if (duration < 1000 && nFlows > 2000 && limit < (nFlows * 1000) / duration) limit += 1000;
    u.flowLimit = Math.min(u.flowLimitMax, Math.max(limit, 1000));
  }

  /**
   * Credits the statistics since the last sweep to the rules the
   * translation visited; returns the new packets.
   */
  private credit(k: Ukey, packets: number, bytes: number, used: number): number {
    const dp = packets - k.packets;
    const db = bytes - k.bytes;
    if (dp < 0 || db < 0) {
      // The datapath counted differently (stats zeroed): start over from here.
      k.packets = packets;
      k.bytes = bytes;
      return 0;
    }
    if (dp === 0 && db === 0) return 0;
    const t = used > 0 ? used : k.used;
    // Small counts go to the rules as small integers: the datapath's
    // counters are doubles, and a double added to a rule's integer counter
    // changes the shape of every rule (translation's compiled code is
    // thrown away, in the middle of a fresh switch's first flow setups).
    const dpi = dp <= SMALL_INT_MAX ? dp | 0 : dp;
    const dbi = db <= SMALL_INT_MAX ? db | 0 : db;
    for (const r of k.rules) if (!r.removed) r.credit(dpi, dbi, t);
    const nf = k.netflow;
    if (nf !== null) nf.exporter.update(nf.flow, nf.output, dp, db, 0);
    k.packets = packets;
    k.bytes = bytes;
    k.used = used;
    return dp;
  }

  /**
   * Replays the side effects of an active megaflow's translation (learn,
   * fin_timeout, MAC learning), as OVS's xlate cache does on each stats
   * push: learned flows and MAC entries do not age out while packets
   * still flow through the megaflow.
   */
  private refresh(k: Ukey, now: number): void {
    k.refreshed = now;
    const u = this.udpif;
    const flow = this.flow;
    ukeyKeyInto(k, flow);
    const port = u.backer.portByOdp(flow[W_IN_PORT]!, flow);
    if (port === null || port.ofport === null || port.bridge !== k.bridge) return;
    flow[W_IN_PORT] = port.ofpNo;
    const xout = u.xlate(xlateIn(k.bridge, flow, null, null, true, 0, 0, false));
    for (const d of xout.deferred) d();
    if (xout.needRevalidate === true) this.request();
  }

  /**
   * Translates the ukey's key again (no side effects); modifies the
   * megaflow's actions when they changed. False: delete it.
   */
  private revalidateUkey(k: Ukey): boolean {
    const u = this.udpif;
    const flow = this.flow;
    ukeyKeyInto(k, flow);
    const port = u.backer.portByOdp(flow[W_IN_PORT]!, flow);
    if (port === null || port.ofport === null || port.bridge !== k.bridge || k.bridge.isClosed) return false;
    flow[W_IN_PORT] = port.ofpNo;
    const wc = this.wc;
    wc.fill(0);
    let xout;
    const rec = u.recorder;
    rec.start(flow, k.bridge);
    this.retranslations++;
    try {
      const xin = xlateIn(k.bridge, flow, wc, null, false, 0, 0, true);
      // Unchanged actions come back as the very array the ukey holds.
      xin.actionsInterner = u.actionsPool;
      xout = u.xlateFn(xin);
    } catch (e) {
      log.warn(`revalidation failed: ${e instanceof Error ? e.message : String(e)}`);
      return false;
    } finally {
      rec.stop();
    }
    k.tables = rec.tables;
    k.pure = rec.pure;
    k.ofpIn = port.ofpNo;
    if (xout.error !== null) return false;
    const mask = this.mask;
    for (let i = 0; i < DPW; i++) mask[i] = wc[i]!;
    mask[W_IN_PORT] = 0xffffffff;
    mask[W_RECIRC_ID] = 0xffffffff;
    mask[W_PACKET_TYPE] = 0xffffffff;
    // The installed megaflow must match on every bit the new translation looked at.
    const old = k.mask;
    if (old !== mask) {
      for (let i = 0; i < DPW; i++) if ((mask[i]! & ~old[i]!) !== 0) return false;
    }
    const actions = xout.slow !== 0 ? slowPathActions(xout.slow, port.ofpNo) : clearDontSend(xout.actions);
    // The refresh kind is the setup's: decided from its rules before they go.
    ukeyRefreshKind(k);
    k.rules = xout.rules;
    k.netflow = xout.netflow ?? null;
    k.slow = xout.slow;
    if (actions === k.actions || sameBytes(actions, k.actions)) return true;
    // The datapath takes whole keys; the ukey may keep a short one.
    const key = this.fullKey;
    ukeyKeyInto(k, key);
    const r = u.backer.dpif.flowPut({ key, mask: k.mask, actions, ufid: ukeyUfid(k), create: false, modify: true });
    if (r.error !== 0) return false;
    k.actions = actions;
    return true;
  }

  /** Deletes a megaflow and credits its last statistics. */
  deleteUkey(k: Ukey): void {
    const r = this.udpif.backer.dpif.flowDel({ ufid: ukeyUfid(k) });
    if (r.error === 0 && r.stats !== undefined) this.credit(k, r.stats.packets, r.stats.bytes, r.stats.used);
    // The megaflow is gone: NetFlow exports its flow now (OVS's netflow_flow_clear).
    if (k.netflow !== null) k.netflow.exporter.expireFlow(k.netflow.flow);
    this.udpif.ukeys.remove(k);
  }

  /** revalidator/purge: every megaflow goes. */
  purge(): void {
    for (const k of this.udpif.ukeys.all()) this.deleteUkey(k);
  }

  close(): void {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    if (this.scheduled !== null) clearImmediate(this.scheduled);
    this.scheduled = null;
  }
}

/**
 * Whether some packet of the megaflow `k` matches rule `r` (in the
 * datapath words; in_port compared as the OpenFlow port; OpenFlow-only
 * words such as registers may hold anything).
 */
function overlaps(r: ClsRule<unknown>, k: Ukey, ofpIn: number): boolean {
  const words = r.words;
  const maskVals = r.maskVals;
  const vals = r.vals;
  const mask = k.mask;
  for (let i = 0; i < words.length; i++) {
    const w = words[i]!;
    if (w >= DPW) continue;
    const kv = w === W_IN_PORT ? ofpIn : ukeyKeyWord(k, w);
    if (((kv ^ vals[i]!) & maskVals[i]! & mask[w]!) !== 0) return false;
  }
  return true;
}

/** How often a megaflow's side effects are replayed (ms). */
function refreshInterval(k: Ukey): number {
  if (k.refreshKind === REFRESH_DEFERRED) return REFRESH_DEFERRED_MS;
  const macs = k.bridge.macs;
  const idle = macs instanceof MacLearning ? macs.idleTime : 300;
  return Math.max(1000, (idle * 1000) / 4);
}
