/**
 * Upcall handling (OVS's ofproto/ofproto-dpif-upcall.c, the handler half):
 * the synchronous upcall handler a backer registers on its datapath, and
 * the table of installed megaflows ("ukeys") the revalidator works on.
 *
 * ## A miss
 * The datapath key's in_port (an odp port) names the port and so the
 * bridge; the key becomes an ofproto flow (in_port = OpenFlow port),
 * `xlateActions` translates it with side effects allowed (MAC learning,
 * learn, packet-ins: `xout.deferred`, run here once), and the reply
 * carries the datapath actions and the megaflow mask: translation's
 * wildcards restricted to the datapath words, with in_port and recirc_id
 * always exact (the datapath requires it). A translation that must stay in
 * userspace (`xout.slow`) installs `userspace(pid=0,slow_path(REASON))`
 * instead, as OVS does, while this packet runs the translated actions.
 * The handler installs the megaflow itself (`flowPut`), so its datapath
 * statistics start at zero as OVS's do (translation credits the upcalled
 * packet to the rules). Every installed megaflow gets a ukey: its ufid,
 * original key, mask (interned: flows share a few masks), actions, the
 * rules translation visited (for statistics), the statistics already
 * credited to them, and what its translation looked up (revalidator.ts).
 *
 * ## Numbers
 * bench/vswitchd: with a translation that does nothing, this handler plus
 * the datapath set up ~60,000 megaflows/s on the shared 2-core machine
 * (flowPut ~3 µs of it); with xlate.ts and a 4-table pipeline, 12-25,000/s:
 * translation is most of a setup.
 *
 * ## Flow limit
 * As OVS's: the limit starts at min(flow-limit, 10000) and the revalidator
 * moves it with its dump duration (revalidator.ts); misses beyond it are
 * executed but not installed.
 *
 * ## userspace actions
 * A `controller(...)` cookie (xlate-pin.ts: a packet-in at every packet
 * that runs the action, the missed one included) becomes a packet-in
 * through xlate-pin's `handleControllerUpcall` (a hook may replace it). A
 * `slow_path(...)` cookie is translated with the packet and executed,
 * nothing installed.
 */
import {
  DPIF_UC_MISS,
  type DpifUpcall,
  type DpifUpcallHandler,
  type DpifUpcallReply,
} from "../datapath/index.js";
import { OdpActionsBuilder } from "../datapath/odp-actions.js";
import { FLOW_DP_U32S, FLOW_HOT_U32S, FLOW_U32S, W_IN_PORT, W_PACKET_TYPE, W_RECIRC_ID } from "../flow/key-layout.js";
import { USER_ACTION_COOKIE_LEN } from "../flow/odp-format.js";
import { OVS_ACTION_ATTR_USERSPACE, OVS_USERSPACE_ATTR_USERDATA } from "../flow/odp-attrs.js";
import { vlogModule } from "../util/vlog.js";
import { OFPP_NORMAL } from "../openflow/ofp-codec.js";
import type { OfRule } from "./rule.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { DatapathGlobalConfig, XBridge, XlateIn, XlateOut } from "./xlate-types.js";
import type { DpifBacker, OfprotoDpif } from "./ofproto-dpif.js";
import { Revalidator } from "./revalidator.js";
import { handleControllerUpcall } from "./xlate-pin.js";

const log = vlogModule("ofproto_dpif_upcall");

/** The translation function (xlate.ts's `xlateActions`). */
export type XlateFn = (xin: XlateIn) => XlateOut;

/**
 * Handles a `userspace(controller(...))` upcall (sends the packet-in);
 * the default is xlate-pin.ts's `handleControllerUpcall`.
 */
export type ControllerUpcallFn = (upcall: DpifUpcall, bridge: OfprotoDpif) => void;

let controllerUpcallHook: ControllerUpcallFn | null = null;

/** Replaces the default controller-upcall handling (tests). */
export function setControllerUpcallHandler(fn: ControllerUpcallFn | null): void {
  controllerUpcallHook = fn;
}

/** Words of a datapath key. */
const DPW = FLOW_DP_U32S;
/** OVS's default `other_config:flow-limit`. */
export const DEFAULT_FLOW_LIMIT = 200000;
/** OVS's default `other_config:max-idle` (ms). */
export const DEFAULT_MAX_IDLE = 10000;
/** The flow limit OVS starts every udpif with (before the revalidator adapts it). */
export const INITIAL_FLOW_LIMIT = 10000;

/** Ukey.refreshKind values. */
export const REFRESH_NONE = 0;
export const REFRESH_DEFERRED = 1;
export const REFRESH_MAC = 2;
/** Replay interval of side effects (learn, fin_timeout) of active megaflows (ms). */
export const REFRESH_DEFERRED_MS = 1000;

/** Whether some rule's actions include output to NORMAL (nested lists too). */
function usesNormal(rules: readonly OfRule<OfpAction[]>[]): boolean {
  for (const r of rules) if (actionsUseNormal(r.actions, 0)) return true;
  return false;
}

function actionsUseNormal(list: readonly OfpAction[], depth: number): boolean {
  if (depth > 4) return false;
  for (const a of list) {
    if (a.type === "output" && a.port === OFPP_NORMAL) return true;
    const nested = (a as { actions?: unknown }).actions;
    if (Array.isArray(nested) && actionsUseNormal(nested as OfpAction[], depth + 1)) return true;
  }
  return false;
}

/** user_action_cookie types (OVS's enum user_action_cookie_type). */
export const USER_ACTION_COOKIE_SLOW_PATH = 2;
export const USER_ACTION_COOKIE_CONTROLLER = 5;

const EMPTY = new Uint8Array(0);
const DROP_REPLY: DpifUpcallReply = { error: 0, actions: EMPTY, mask: null };

/* ---------------- ukeys ---------------- */

/** One installed megaflow (OVS's udpif_key). */
export class Ukey {
  /** Next in the hash chain. */
  next: Ukey | null = null;
  /** Stats already credited to rules. */
  packets = 0;
  bytes = 0;
  used = 0;
  /** Rules the last translation visited. */
  rules: readonly OfRule<OfpAction[]>[];
  /** Cleared by deletion. */
  live = true;
  /** The OpenFlow number of the input port at the last translation. */
  ofpIn = 0;
  /**
   * Which side effects of the translation are replayed while the megaflow
   * carries packets, as OVS's xlate cache does, so that learned flows and
   * MAC entries stay fresh: REFRESH_NONE, REFRESH_DEFERRED (learn,
   * fin_timeout: every second), REFRESH_MAC (NORMAL: a quarter of the MAC
   * aging time).
   */
  refreshKind = 0;
  /** When they were last replayed. */
  refreshed = 0;
  /** Tables 0-30 the last translation looked up (bit per table). */
  tables = 0;
  /**
   * The last translation looked up only this bridge's tables below 31,
   * always with the key's own packet fields (nothing modified before a
   * lookup, no resubmit to another in_port): then a new rule can only
   * change it if the rule overlaps the megaflow (revalidator.ts).
   */
  pure = false;

  constructor(
    readonly ufid: Uint32Array,
    /**
     * The original datapath key: FLOW_HOT_U32S words when the rest is zero
     * (an untunnelled packet without conntrack state: 176 bytes instead of
     * 568 per megaflow), else DPW words.
     */
    readonly key: Uint32Array,
    /** The megaflow mask (interned, DPW words). */
    public mask: Uint32Array,
    /** Installed datapath actions. */
    public actions: Uint8Array,
    readonly bridge: OfprotoDpif,
    rules: readonly OfRule<OfpAction[]>[],
    public slow: number,
    readonly created: number,
  ) {
    this.rules = rules;
  }
}

/** Ukeys by ufid: chained on the first ufid word (ufids are hashes). */
export class UkeyTable {
  private readonly heads = new Map<number, Ukey>();
  size = 0;

  find(ufid: Uint32Array): Ukey | null {
    for (let u = this.heads.get(ufid[0]!) ?? null; u !== null; u = u.next) {
      if (u.ufid[1] === ufid[1] && u.ufid[2] === ufid[2] && u.ufid[3] === ufid[3]) return u;
    }
    return null;
  }

  insert(u: Ukey): void {
    const old = this.find(u.ufid);
    if (old !== null) this.remove(old);
    u.next = this.heads.get(u.ufid[0]!) ?? null;
    this.heads.set(u.ufid[0]!, u);
    this.size++;
  }

  remove(u: Ukey): void {
    const h = u.ufid[0]!;
    let prev: Ukey | null = null;
    for (let x = this.heads.get(h) ?? null; x !== null; prev = x, x = x.next) {
      if (x !== u) continue;
      if (prev === null) {
        if (x.next === null) this.heads.delete(h);
        else this.heads.set(h, x.next);
      } else {
        prev.next = x.next;
      }
      x.next = null;
      x.live = false;
      this.size--;
      return;
    }
  }

  /** A snapshot of every ukey. */
  all(): Ukey[] {
    const out: Ukey[] = [];
    for (const h of this.heads.values()) for (let u: Ukey | null = h; u !== null; u = u.next) out.push(u);
    return out;
  }
}

/** A copy of a datapath key, short when its cold words are all zero. */
function compactKey(key: Uint32Array): Uint32Array {
  for (let i = FLOW_HOT_U32S; i < DPW; i++) if (key[i] !== 0) return key.slice(0, DPW);
  return key.slice(0, FLOW_HOT_U32S);
}

/** Interns masks: megaflows share a handful of them. */
export class MaskPool {
  private readonly byHash = new Map<number, Uint32Array[]>();

  intern(m: Uint32Array): Uint32Array {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < DPW; i++) {
      const v = m[i]!;
      if (v !== 0) h = Math.imul(h ^ v ^ (i << 24), 0x01000193);
    }
    let list = this.byHash.get(h);
    if (list === undefined) {
      list = [];
      this.byHash.set(h, list);
    }
    for (const x of list) if (sameWords(x, m)) return x;
    const copy = m.slice(0, DPW);
    list.push(copy);
    return copy;
  }
}

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  for (let i = 0; i < DPW; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/* ---------------- cookies ---------------- */

/** A `userspace(pid=0,slow_path(REASONS))` action list. */
export function slowPathActions(reason: number, ofpInPort: number): Uint8Array {
  const c = new Uint8Array(USER_ACTION_COOKIE_LEN);
  const dv = new DataView(c.buffer);
  dv.setUint16(0, USER_ACTION_COOKIE_SLOW_PATH, true);
  dv.setUint16(2, ofpInPort & 0xffff, true);
  dv.setUint32(24, reason >>> 0, true);
  return new OdpActionsBuilder().userspace(0, c).finish();
}

/** The cookie type of a userspace action's userdata (0 when not a cookie). */
export function cookieType(userdata: Uint8Array | null): number {
  if (userdata === null || userdata.length !== USER_ACTION_COOKIE_LEN) return 0;
  return userdata[0]! | (userdata[1]! << 8);
}

/**
 * `actions` with every controller cookie's dont_send cleared (the same
 * array when there is none set). dont_send=1 is what ofproto/trace shows
 * for a translation without side effects; an installed megaflow never
 * carries it (OVS's revalidation keeps 0), or its packets would stop
 * reaching the controller.
 */
export function clearDontSend(actions: Uint8Array): Uint8Array {
  let out: Uint8Array | null = null;
  const walk = (off: number, end: number, depth: number): void => {
    let a = off;
    while (a + 4 <= end) {
      const len = actions[a]! | (actions[a + 1]! << 8);
      const type = (actions[a + 2]! | (actions[a + 3]! << 8)) & 0x3fff;
      if (len < 4 || a + len > end) return;
      if (type === OVS_ACTION_ATTR_USERSPACE && depth >= 0) {
        let b = a + 4;
        while (b + 4 <= a + len) {
          const l2 = actions[b]! | (actions[b + 1]! << 8);
          const t2 = (actions[b + 2]! | (actions[b + 3]! << 8)) & 0x3fff;
          if (l2 < 4 || b + l2 > a + len) break;
          const u = b + 4;
          if (t2 === OVS_USERSPACE_ATTR_USERDATA && l2 - 4 === USER_ACTION_COOKIE_LEN &&
              (actions[u]! | (actions[u + 1]! << 8)) === USER_ACTION_COOKIE_CONTROLLER && actions[u + 24] !== 0) {
            out ??= actions.slice();
            out[u + 24] = 0;
          }
          b += (l2 + 3) & ~3;
        }
      } else if (len > 8 && depth < 4 && wellFormed(actions, a + 4, a + len)) {
        // Nested lists (clone, sample, check_pkt_len, their nested attributes).
        walk(a + 4, a + len, depth + 1);
      }
      a += (len + 3) & ~3;
    }
  };
  walk(0, actions.length, 0);
  return out ?? actions;
}

function wellFormed(buf: Uint8Array, off: number, end: number): boolean {
  let a = off;
  while (a + 4 <= end) {
    const len = buf[a]! | (buf[a + 1]! << 8);
    if (len < 4 || a + len > end) return false;
    a += (len + 3) & ~3;
  }
  return a >= end;
}

/* ---------------- lookup recording ---------------- */

/**
 * Records, during one translation, which tables were looked up and
 * whether every lookup saw the original flow's packet fields (ofproto-dpif
 * wraps each bridge's `tables.lookup` to call `note`).
 */
export class LookupRecorder {
  active = false;
  tables = 0;
  pure = true;
  private orig: Uint32Array = new Uint32Array(FLOW_U32S);
  private bridge: unknown = null;

  start(orig: Uint32Array, bridge: unknown): void {
    this.active = true;
    this.tables = 0;
    this.pure = true;
    this.orig = orig;
    this.bridge = bridge;
  }

  stop(): void {
    this.active = false;
  }

  note(bridge: unknown, tableId: number, flow: Uint32Array): void {
    if (tableId < 31) this.tables |= 1 << tableId;
    else this.pure = false;
    if (!this.pure) return;
    if (bridge !== this.bridge) {
      this.pure = false;
      return;
    }
    const o = this.orig;
    for (let i = 0; i < DPW; i++) {
      if (flow[i] !== o[i]) {
        this.pure = false;
        return;
      }
    }
  }
}

/* ---------------- the udpif ---------------- */

export interface UdpifOptions {
  /** Run the revalidator on timers (default true). */
  timer?: boolean;
}

/** One backer's upcall handler, megaflow table and revalidator (OVS's struct udpif). */
export class Udpif implements DpifUpcallHandler {
  readonly ukeys = new UkeyTable();
  readonly masks = new MaskPool();
  readonly recorder = new LookupRecorder();
  readonly revalidator: Revalidator;
  /** Configured flow-limit and the adaptive limit (OVS's udpif->flow_limit). */
  flowLimitMax = DEFAULT_FLOW_LIMIT;
  flowLimit = Math.min(INITIAL_FLOW_LIMIT, DEFAULT_FLOW_LIMIT);
  /** When false the limit stays at flowLimitMax (benchmarks). */
  adaptiveLimit = true;
  maxIdle = DEFAULT_MAX_IDLE;
  /** Counters (coverage-style). */
  readonly counters = { upcalls: 0, misses: 0, actionUpcalls: 0, installs: 0, limitHits: 0, noPort: 0, xlateErrors: 0, packetIns: 0 };
  private readonly flowBuf = new Uint32Array(FLOW_U32S);
  private readonly wcBuf = new Uint32Array(FLOW_U32S);
  private readonly maskBuf = new Uint32Array(FLOW_U32S);
  private readonly reply: DpifUpcallReply = { error: 0, actions: EMPTY, mask: null };

  constructor(
    readonly backer: DpifBacker,
    readonly xlateFn: XlateFn,
    opts: UdpifOptions = {},
  ) {
    this.revalidator = new Revalidator(this, { timer: opts.timer ?? true });
    backer.dpif.registerUpcallHandler(this);
  }

  setConfig(cfg: DatapathGlobalConfig): void {
    if (cfg.flowLimit !== undefined && cfg.flowLimit >= 0) {
      this.flowLimitMax = Math.floor(cfg.flowLimit);
      this.flowLimit = this.adaptiveLimit ? Math.min(this.flowLimit, this.flowLimitMax) : this.flowLimitMax;
      // The datapath never refuses what the udpif decides to install.
      this.backer.dpif.setConfig({ flowLimit: Math.max(this.flowLimitMax, DEFAULT_FLOW_LIMIT) });
    }
    if (cfg.maxIdle !== undefined && cfg.maxIdle > 0) this.maxIdle = cfg.maxIdle;
  }

  /** Benchmarks: a fixed flow limit (no adaptation). */
  setFixedFlowLimit(limit: number): void {
    this.adaptiveLimit = false;
    this.flowLimitMax = limit;
    this.flowLimit = limit;
    this.backer.dpif.setConfig({ flowLimit: limit });
  }

  /**
   * Translation outside the upcall path (packet-out): an exception (a bug
   * in translation) is logged and becomes an error result, never a crash.
   */
  xlate(xin: XlateIn): XlateOut {
    try {
      return this.xlateFn(xin);
    } catch (e) {
      log.err(`translation failed: ${e instanceof Error ? e.message : String(e)}`);
      return { actions: EMPTY, slow: 0, finalFlow: xin.flow.slice(), rules: [], error: "translation failed", deferred: [] };
    }
  }

  // HOT PATH: flow setup (bench vswitchd "setups/s").
  upcall(u: DpifUpcall): DpifUpcallReply {
    this.counters.upcalls++;
    if (u.type === DPIF_UC_MISS) return this.miss(u);
    return this.actionUpcall(u);
  }

  private miss(u: DpifUpcall): DpifUpcallReply {
    this.counters.misses++;
    const port = this.backer.portByOdp(u.key[W_IN_PORT]!);
    if (port === null || port.ofport === null) {
      // A port no bridge has (the datapath's own local port): drop, install nothing.
      this.counters.noPort++;
      return DROP_REPLY;
    }
    const bridge = port.bridge;
    const flow = this.flowBuf;
    flow.fill(0, DPW);
    flow.set(u.key.subarray(0, DPW));
    flow[W_IN_PORT] = port.ofpNo;
    const wc = this.wcBuf;
    wc.fill(0);
    const rec = this.recorder;
    rec.start(flow, bridge);
    const xout = this.xlateFn({
      bridge, flow, wc, packet: u.packet, mayLearn: true,
      statsPackets: 1, statsBytes: u.packet.length,
    });
    rec.stop();
    if (xout.error !== null) this.counters.xlateErrors++;
    for (let i = 0; i < xout.deferred.length; i++) xout.deferred[i]!();
    if (xout.needRevalidate === true) this.requestRevalidation();
    const reply = this.reply;
    reply.actions = xout.actions;
    reply.mask = null;
    if (this.ukeys.size >= this.flowLimit) {
      this.counters.limitHits++;
      return reply;
    }
    const mask = this.maskBuf;
    for (let i = 0; i < DPW; i++) mask[i] = wc[i]!;
    mask[W_IN_PORT] = 0xffffffff;
    mask[W_RECIRC_ID] = 0xffffffff;
    mask[W_PACKET_TYPE] = 0xffffffff;
    const now = bridge.now();
    const imask = this.masks.intern(mask);
    if (xout.slow !== 0) {
      // Installed with a userspace action; this packet runs the translation.
      const slow = slowPathActions(xout.slow, port.ofpNo);
      const r = this.backer.dpif.flowPut({ key: u.key, mask: imask, actions: slow, ufid: u.ufid, create: true, modify: true, zeroStats: true });
      if (r.error === 0) this.addUkey(u, imask, slow, bridge, xout, now, 0, 0);
      return reply;
    }
    // Installed here rather than by the reply's mask: the datapath then
    // does not count the upcalled packet in the megaflow's statistics,
    // which OVS's dump-flows shows ("packets:0, ..., used:never");
    // translation has credited it to the rules already.
    const r = this.backer.dpif.flowPut({ key: u.key, mask: imask, actions: xout.actions, ufid: u.ufid, create: true, modify: false });
    if (r.error === 0) this.addUkey(u, imask, xout.actions, bridge, xout, now, 0, 0);
    return reply;
  }

  private addUkey(u: DpifUpcall, mask: Uint32Array, actions: Uint8Array, bridge: OfprotoDpif, xout: XlateOut, now: number, packets: number, bytes: number): void {
    const k = new Ukey(u.ufid.slice(0, 4), compactKey(u.key), mask, actions, bridge, xout.rules, xout.slow, now);
    // Statistics already credited (translation credited the upcalled packet itself).
    k.packets = packets;
    k.bytes = bytes;
    k.used = packets > 0 ? now : 0;
    k.tables = this.recorder.tables;
    k.pure = this.recorder.pure;
    k.ofpIn = this.flowBuf[W_IN_PORT]!;
    k.refreshKind = xout.deferred.length > 0 ? REFRESH_DEFERRED : usesNormal(xout.rules) ? REFRESH_MAC : REFRESH_NONE;
    k.refreshed = now;
    this.ukeys.insert(k);
    this.counters.installs++;
  }

  private actionUpcall(u: DpifUpcall): DpifUpcallReply {
    this.counters.actionUpcalls++;
    const type = cookieType(u.userdata);
    if (type !== USER_ACTION_COOKIE_CONTROLLER && type !== USER_ACTION_COOKIE_SLOW_PATH) return DROP_REPLY;
    const port = this.backer.portByOdp(u.inPort);
    if (port === null || port.ofport === null) return DROP_REPLY;
    const flow = new Uint32Array(FLOW_U32S);
    flow.set(u.key.subarray(0, DPW));
    flow[W_IN_PORT] = port.ofpNo;
    if (type === USER_ACTION_COOKIE_CONTROLLER) {
      this.counters.packetIns++;
      if (controllerUpcallHook !== null) controllerUpcallHook(u, port.bridge);
      else handleControllerUpcall(u.userdata, u.packet, (_uuid, name) => (name !== null ? this.bridgeByName(name) : port.bridge));
      return DROP_REPLY;
    }
    // Slow path: the whole translation, with side effects, for this packet.
    const xout = this.xlateFn({
      bridge: port.bridge, flow, wc: null, packet: u.packet, mayLearn: true,
      statsPackets: 1, statsBytes: u.packet.length,
    });
    for (const d of xout.deferred) d();
    if (xout.needRevalidate === true) this.requestRevalidation();
    return { error: 0, actions: xout.actions, mask: null };
  }

  /** A bridge of this backer by name (the controller cookie's frozen state names it). */
  private bridgeByName(name: string): OfprotoDpif | null {
    return this.backer.bridges.get(name) ?? null;
  }

  /* ---------- revalidation ---------- */

  /** Something translation depends on changed: revalidate every megaflow soon. */
  requestRevalidation(): void {
    this.revalidator.request();
  }

  /** A bridge's OpenFlow tables changed: revalidate the megaflows that may depend on the change. */
  tablesChanged(): void {
    this.revalidator.requestTables();
  }

  /** Called by the backer after each poll. */
  afterRun(): void {
    this.revalidator.afterRun();
  }

  /** Deletes the megaflows of a bridge that goes away. */
  dropBridge(br: OfprotoDpif): void {
    for (const k of this.ukeys.all()) {
      if (k.bridge !== br) continue;
      this.backer.dpif.flowDel({ ufid: k.ufid });
      this.ukeys.remove(k);
    }
    this.requestRevalidation();
  }

  close(): void {
    this.revalidator.close();
  }
}
