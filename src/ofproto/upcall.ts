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
 * bench/vswitchd (4 tables, 1,000 rules; shared 2-core machine, medians
 * of alternating runs): 30,000 -> 45,000 setups per CPU-second with the
 * per-setup allocations gone (ukey fields in an arena, interned actions,
 * reused XlateIn and flow_put request; dpif-netdev's flowPut without a
 * 568-byte mask slice); translation is ~40 % of a setup, and within it the
 * classifier's cache misses (bench/xlate).
 *
 * A fresh switch is another matter (bench forwarding, flows10k): its
 * first ~10,000 setups cost ~110 µs of CPU each, against ~40 µs for the
 * same setups once V8 has compiled the path, because they run as
 * interpreted code while the compiler's threads (about half of that CPU)
 * build the optimized code. What keeps that phase short: word copies with
 * TypedArray builtins (fast before compilation too), objects whose shapes
 * never change after the first setups (ukey statistics in the arena, small
 * integers to the rules, one XlateIn shape), nothing decided per setup
 * that can wait (the NORMAL check of the refresh kind), and the sweep's
 * per-megaflow work in a function of its own (revalidator.ts).
 *
 * ## Megaflows off
 * `upcall/disable-megaflows` (dpif-commands.ts) makes every miss install
 * an exact-match flow (all datapath words of the key matched) until
 * `upcall/enable-megaflows`; both flush the installed flows.
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
  type DpifFlowPutRequest,
} from "../datapath/index.js";
import { OdpActionsBuilder } from "../datapath/odp-actions.js";
import { FLOW_DP_U32S, FLOW_HOT_U32S, FLOW_U32S, W_IN_PORT, W_PACKET_TYPE, W_RECIRC_ID } from "../flow/key-layout.js";
import { wordsEqual } from "../flow/key-ops.js";
import { USER_ACTION_COOKIE_LEN } from "../flow/odp-format.js";
import { OVS_ACTION_ATTR_USERSPACE, OVS_USERSPACE_ATTR_USERDATA } from "../flow/odp-attrs.js";
import { vlogModule } from "../util/vlog.js";
import { OFPP_NORMAL } from "../openflow/ofp-codec.js";
import type { OfRule } from "./rule.js";
import type { OfpAction } from "../openflow/ofp-actions.js";
import type { ActionsInterner, DatapathGlobalConfig, XBridge, XlateIn, XlateNetflow, XlateOut } from "./xlate-types.js";
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

/**
 * `upcall/disable-megaflows` turns this off for every udpif: misses then
 * install exact-match flows (every datapath word of the key matched),
 * which is what people use to tell a wildcarding bug from a translation
 * bug.
 */
let megaflowsEnabled = true;
/** `upcall/disable-ufid`: shown by upcall/show (dumps here always use the ufid). */
let ufidEnabled = true;

export function setMegaflowsEnabled(on: boolean): void {
  megaflowsEnabled = on;
}
export function megaflowsAreEnabled(): boolean {
  return megaflowsEnabled;
}
export function setUfidEnabled(on: boolean): void {
  ufidEnabled = on;
}
export function ufidIsEnabled(): boolean {
  return ufidEnabled;
}

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
/**
 * REFRESH_MAC or REFRESH_NONE, not decided yet (whether the setup's rules
 * output to NORMAL): decided by `ukeyRefreshKind` when the revalidator
 * first needs it, off the flow setup path (most megaflows never do).
 */
export const REFRESH_UNDECIDED = 3;
/** Replay interval of side effects (learn, fin_timeout) of active megaflows (ms). */
export const REFRESH_DEFERRED_MS = 1000;

/** `k.refreshKind`, deciding REFRESH_UNDECIDED from the rules of its translation. */
export function ukeyRefreshKind(k: Ukey): number {
  if (k.refreshKind === REFRESH_UNDECIDED) k.refreshKind = usesNormal(k.rules) ? REFRESH_MAC : REFRESH_NONE;
  return k.refreshKind;
}

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
export const USER_ACTION_COOKIE_SFLOW = 1;

const EMPTY = new Uint8Array(0);
const EMPTY_KEY = new Uint32Array(0);
const DROP_REPLY: DpifUpcallReply = { error: 0, actions: EMPTY, mask: null };

/* ---------------- ukeys ---------------- */

/**
 * One installed megaflow (OVS's udpif_key).
 *
 * Every megaflow keeps one of these for its lifetime, so it is kept to
 * one object of small-integer and pointer fields: the ufid, a short key
 * and the timestamps live in the ukey arena at `slot` (`ukeyUfid`,
 * `ukeyKeyInto`, `ukeyKeyWord` read them). Each typed array per ukey was
 * a V8 object (a 44-word one with a malloc'ed backing store), and each
 * field holding a ufid word or a Date.now() value a boxed heap number,
 * that every young-generation GC copied: most of a flow setup's GC cost.
 */
export class Ukey {
  /** Rules the last translation visited. */
  rules: readonly OfRule<OfpAction[]>[];
  /** NetFlow's account of the megaflow's packets (OVS's XC_NETFLOW xlate-cache entry), or null. */
  netflow: XlateNetflow | null = null;
  /** Cleared by deletion. */
  live = true;
  /** The OpenFlow number of the input port at the last translation. */
  ofpIn = 0;
  /**
   * Which side effects of the translation are replayed while the megaflow
   * carries packets, as OVS's xlate cache does, so that learned flows and
   * MAC entries stay fresh: REFRESH_NONE, REFRESH_DEFERRED (learn,
   * fin_timeout: every second), REFRESH_MAC (NORMAL: a quarter of the MAC
   * aging time); REFRESH_UNDECIDED until `ukeyRefreshKind` decides between
   * the last two.
   */
  refreshKind = 0;
  /** Tables 0-30 the last translation looked up (bit per table). */
  tables = 0;
  /**
   * The last translation looked up only this bridge's tables below 31,
   * always with the key's own packet fields (nothing modified before a
   * lookup, no resubmit to another in_port): then a new rule can only
   * change it if the rule overlaps the megaflow (revalidator.ts).
   */
  pure = false;
  /** The ukey's slot in the ukey arena (-1 once removed). */
  slot: number;
  /**
   * The original datapath key when a word from FLOW_HOT_U32S on is
   * nonzero (tunnel or conntrack metadata: DPW words); else null and the
   * FLOW_HOT_U32S words are in the arena (176 bytes instead of 568).
   */
  readonly longKey: Uint32Array | null;

  constructor(
    ufid: Uint32Array,
    key: Uint32Array,
    /** The megaflow mask (interned, DPW words). */
    public mask: Uint32Array,
    /** Installed datapath actions. */
    public actions: Uint8Array,
    readonly bridge: OfprotoDpif,
    rules: readonly OfRule<OfpAction[]>[],
    public slow: number,
    created: number,
  ) {
    this.rules = rules;
    const short = isShortKey(key);
    this.slot = ukeyArena.store(this, ufid, key, short, created);
    this.longKey = short ? null : key.slice(0, DPW);
  }

  /**
   * Packets already credited to rules. In the arena, not a field: the
   * datapath's counters are doubles, and a double stored into a field
   * that held small integers changes the shape of every ukey, which threw
   * away the compiled upcall path (a burst of deoptimizations) in the
   * middle of the first flow setups of a fresh switch.
   */
  get packets(): number {
    return this.slot >= 0 ? ukeyArena.counts[this.slot * 2]! : 0;
  }

  set packets(n: number) {
    if (this.slot >= 0) ukeyArena.counts[this.slot * 2] = n;
  }

  /** Bytes already credited to rules (see `packets`). */
  get bytes(): number {
    return this.slot >= 0 ? ukeyArena.counts[this.slot * 2 + 1]! : 0;
  }

  set bytes(n: number) {
    if (this.slot >= 0) ukeyArena.counts[this.slot * 2 + 1] = n;
  }

  /** When the megaflow was installed (ms). */
  get created(): number {
    return ukeyArena.times[this.slot * 3]!;
  }

  /** When its side effects were last replayed (ms). */
  get refreshed(): number {
    return ukeyArena.times[this.slot * 3 + 1]!;
  }

  set refreshed(t: number) {
    if (this.slot >= 0) ukeyArena.times[this.slot * 3 + 1] = t;
  }

  /** Datapath `used` at the last statistics credit (ms; 0 never). */
  get used(): number {
    return ukeyArena.times[this.slot * 3 + 2]!;
  }

  set used(t: number) {
    if (this.slot >= 0) ukeyArena.times[this.slot * 3 + 2] = t;
  }
}

const UFID_OUT = new Uint32Array(4);

/** The ufid of `k`, in an array shared by every call (valid until the next one). */
export function ukeyUfid(k: Ukey): Uint32Array {
  const o = UFID_OUT;
  const u = ukeyArena.ufids;
  const b = k.slot * 4;
  o[0] = u[b]!;
  o[1] = u[b + 1]!;
  o[2] = u[b + 2]!;
  o[3] = u[b + 3]!;
  return o;
}

/** Writes `k`'s datapath key into `out` (its first DPW words; the rest zeroed). */
export function ukeyKeyInto(k: Ukey, out: Uint32Array): void {
  if (k.longKey !== null) {
    out.set(k.longKey);
    out.fill(0, DPW);
    return;
  }
  const keys = ukeyArena.keys;
  const b = k.slot * FLOW_HOT_U32S;
  for (let i = 0; i < FLOW_HOT_U32S; i++) out[i] = keys[b + i]!;
  out.fill(0, FLOW_HOT_U32S);
}

/** Word `w` of `k`'s datapath key. */
export function ukeyKeyWord(k: Ukey, w: number): number {
  if (k.longKey !== null) return k.longKey[w]!;
  return w < FLOW_HOT_U32S ? ukeyArena.keys[k.slot * FLOW_HOT_U32S + w]! : 0;
}

function isShortKey(key: Uint32Array): boolean {
  return wordsEqual(key, ZERO_KEY, FLOW_HOT_U32S, DPW);
}
const ZERO_KEY = new Uint32Array(DPW);

/**
 * Per-ukey words in typed arrays indexed by slot: ufid (4 words), short
 * key (FLOW_HOT_U32S words), times (created, refreshed, used), statistics
 * credited (packets, bytes). Slots of removed ukeys are reused; the arrays
 * double when full and never shrink (peak megaflows × ~226 bytes).
 */
class UkeyArena {
  ufids = new Uint32Array(1024 * 4);
  keys = new Uint32Array(1024 * FLOW_HOT_U32S);
  times = new Float64Array(1024 * 3);
  /** Statistics already credited (packets, bytes). */
  counts = new Float64Array(1024 * 2);
  /** The ukey of each slot in use. */
  readonly owners: (Ukey | null)[] = [];
  /** The key array `hotView` views (its FLOW_HOT_U32S first words). */
  private hotOf: Uint32Array = new Uint32Array(0);
  private hotView: Uint32Array = this.hotOf;
  private cap = 1024;
  private readonly freeSlots: number[] = [];
  private top = 0;

  store(owner: Ukey, ufid: Uint32Array, key: Uint32Array, short: boolean, created: number): number {
    let slot: number;
    if (this.freeSlots.length > 0) {
      slot = this.freeSlots.pop()!;
      this.owners[slot] = owner;
    } else {
      if (this.top === this.cap) this.grow();
      slot = this.top++;
      this.owners.push(owner);
    }
    const u = this.ufids;
    u[slot * 4] = ufid[0]!;
    u[slot * 4 + 1] = ufid[1]!;
    u[slot * 4 + 2] = ufid[2]!;
    u[slot * 4 + 3] = ufid[3]!;
    // A builtin copy (see Udpif.miss), from a view kept for the key array
    // (the datapath hands every synchronous upcall the same one).
    if (short) {
      if (key !== this.hotOf) {
        this.hotOf = key;
        this.hotView = key.subarray(0, FLOW_HOT_U32S);
      }
      this.keys.set(this.hotView, slot * FLOW_HOT_U32S);
    }
    const t = this.times;
    t[slot * 3] = created;
    t[slot * 3 + 1] = created;
    t[slot * 3 + 2] = 0;
    this.counts[slot * 2] = 0;
    this.counts[slot * 2 + 1] = 0;
    return slot;
  }

  free(k: Ukey): void {
    if (k.slot < 0) return;
    this.owners[k.slot] = null;
    this.freeSlots.push(k.slot);
    k.slot = -1;
  }

  private grow(): void {
    const cap = this.cap * 2;
    const ufids = new Uint32Array(cap * 4);
    ufids.set(this.ufids);
    const keys = new Uint32Array(cap * FLOW_HOT_U32S);
    keys.set(this.keys);
    const times = new Float64Array(cap * 3);
    times.set(this.times);
    const counts = new Float64Array(cap * 2);
    counts.set(this.counts);
    this.counts = counts;
    this.ufids = ufids;
    this.keys = keys;
    this.times = times;
    this.cap = cap;
  }
}
const ukeyArena = new UkeyArena();

/**
 * Ukeys by ufid: open addressing with linear probing on the first ufid
 * word (ufids are hashes), each entry the ukey's arena slot + 1 (0:
 * empty), at most half full. A probe reads the arena's packed ufid words
 * rather than chasing ukey objects through a chain, and a `Map` keyed by
 * ufid words would box those above 2^30.
 */
export class UkeyTable {
  private idx = new Int32Array(2048);
  private mask = 2047;
  size = 0;

  find(ufid: Uint32Array): Ukey | null {
    return this.findWords(ufid[0]!, ufid[1]!, ufid[2]!, ufid[3]!);
  }

  private findWords(a: number, b: number, c: number, d: number): Ukey | null {
    const uf = ukeyArena.ufids;
    const idx = this.idx;
    const m = this.mask;
    for (let i = a & m; ; i = (i + 1) & m) {
      const s = idx[i]!;
      if (s === 0) return null;
      const o = (s - 1) * 4;
      if (uf[o] === a && uf[o + 1] === b && uf[o + 2] === c && uf[o + 3] === d) return ukeyArena.owners[s - 1]!;
    }
  }

  /** Adds `u`, replacing (removing) a ukey with its ufid. */
  insert(u: Ukey): void {
    const uf = ukeyArena.ufids;
    const o = u.slot * 4;
    const old = this.findWords(uf[o]!, uf[o + 1]!, uf[o + 2]!, uf[o + 3]!);
    if (old !== null) this.remove(old);
    if ((this.size + 1) * 2 > this.idx.length) this.grow();
    this.place(u.slot);
    this.size++;
  }

  private place(slot: number): void {
    const idx = this.idx;
    const m = this.mask;
    let i = ukeyArena.ufids[slot * 4]! & m;
    while (idx[i] !== 0) i = (i + 1) & m;
    idx[i] = slot + 1;
  }

  /** Removes `u` (it is dead from then on: its key slot is reused). */
  remove(u: Ukey): void {
    if (u.slot < 0) return;
    const uf = ukeyArena.ufids;
    const idx = this.idx;
    const m = this.mask;
    let i = uf[u.slot * 4]! & m;
    for (;;) {
      const s = idx[i]!;
      if (s === 0) return;
      if (s - 1 === u.slot) break;
      i = (i + 1) & m;
    }
    // Backward-shift deletion: entries after the hole that may move back do.
    for (let j = (i + 1) & m; ; j = (j + 1) & m) {
      const s = idx[j]!;
      if (s === 0) break;
      const home = uf[(s - 1) * 4]! & m;
      // It stays when its home lies cyclically in (i, j].
      if (i <= j ? i < home && home <= j : i < home || home <= j) continue;
      idx[i] = s;
      i = j;
    }
    idx[i] = 0;
    u.live = false;
    this.size--;
    ukeyArena.free(u);
  }

  /** A snapshot of every ukey. */
  all(): Ukey[] {
    const out: Ukey[] = [];
    const idx = this.idx;
    const owners = ukeyArena.owners;
    for (let i = 0; i < idx.length; i++) {
      const s = idx[i]!;
      if (s !== 0) out.push(owners[s - 1]!);
    }
    return out;
  }

  private grow(): void {
    const old = this.idx;
    this.idx = new Int32Array(old.length * 2);
    this.mask = this.idx.length - 1;
    for (let i = 0; i < old.length; i++) if (old[i] !== 0) this.place(old[i]! - 1);
  }
}

/** Interns masks: megaflows share a handful of them. */
export class MaskPool {
  private readonly byHash = new Map<number, Uint32Array[]>();

  private last: Uint32Array | null = null;

  intern(m: Uint32Array): Uint32Array {
    // Consecutive setups mostly share a mask.
    const last = this.last;
    if (last !== null && sameWords(last, m)) return last;
    const x = this.internHashed(m);
    this.last = x;
    return x;
  }

  private internHashed(m: Uint32Array): Uint32Array {
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

/**
 * Interns installed action lists: most megaflows share a few (here one
 * array per distinct list instead of a view per megaflow, each a V8
 * object that kept translation's 64 kB slab alive). Bounded: the table
 * starts over when it holds ACTIONS_POOL_MAX lists.
 */
export class ActionsPool implements ActionsInterner {
  private readonly byHash = new Map<number, Uint8Array>();

  intern(a: Uint8Array): Uint8Array {
    return this.internBytes(a, a.length);
  }

  internBytes(src: Uint8Array, n: number): Uint8Array {
    let h = 0x811c9dc5 | 0;
    for (let i = 0; i < n; i++) h = Math.imul(h ^ src[i]!, 0x01000193);
    h &= 0x3fffffff;
    const x = this.byHash.get(h);
    if (x !== undefined && x.length === n) {
      let i = 0;
      while (i < n && x[i] === src[i]) i++;
      if (i === n) return x;
    }
    if (this.byHash.size >= ACTIONS_POOL_MAX) this.byHash.clear();
    const copy = src.slice(0, n);
    this.byHash.set(h, copy);
    return copy;
  }
}
const ACTIONS_POOL_MAX = 4096;

function sameWords(a: Uint32Array, b: Uint32Array): boolean {
  return wordsEqual(a, b, 0, DPW);
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
  dontSendCopy = null;
  clearDontSendIn(actions, 0, actions.length, 0);
  const out = dontSendCopy ?? actions;
  dontSendCopy = null;
  return out;
}

/** clearDontSend's copy, made at the first cookie to change (a closure per call before). */
let dontSendCopy: Uint8Array | null = null;

function clearDontSendIn(actions: Uint8Array, off: number, end: number, depth: number): void {
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
          dontSendCopy ??= actions.slice();
          dontSendCopy[u + 24] = 0;
        }
        b += (l2 + 3) & ~3;
      }
    } else if (len > 8 && depth < 4 && wellFormed(actions, a + 4, a + len)) {
      // Nested lists (clone, sample, check_pkt_len, their nested attributes).
      clearDontSendIn(actions, a + 4, a + len, depth + 1);
    }
    a += (len + 3) & ~3;
  }
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
    if (!wordsEqual(flow, this.orig, 0, DPW)) this.pure = false;
  }
}

/* ---------------- the udpif ---------------- */

/**
 * An XlateIn of the one shape every frequent translation uses (misses,
 * revalidation, side-effect replays): objects of one shape keep
 * translation's compiled code monomorphic. The revalidator's first
 * sweep with a differently shaped object threw the compiled translation
 * away (deoptimization, compiled again) in the middle of a fresh switch's
 * first flow setups.
 */
export function xlateIn(
  bridge: XBridge, flow: Uint32Array, wc: Uint32Array | null, packet: Uint8Array | null, mayLearn: boolean,
  statsPackets: number, statsBytes: number, revalidating: boolean,
): XlateIn {
  return { bridge, flow, wc, packet, mayLearn, statsPackets, statsBytes, revalidating, actionsInterner: null, nowMs: 0 };
}

export interface UdpifOptions {
  /** Run the revalidator on timers (default true). */
  timer?: boolean;
}

/** One backer's upcall handler, megaflow table and revalidator (OVS's struct udpif). */
export class Udpif implements DpifUpcallHandler {
  readonly ukeys = new UkeyTable();
  readonly masks = new MaskPool();
  readonly actionsPool = new ActionsPool();
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
  /** The datapath words of wcBuf (the mask is copied from it with one builtin call). */
  private readonly wcDp = this.wcBuf.subarray(0, DPW);
  private readonly reply: DpifUpcallReply = { error: 0, actions: EMPTY, mask: null };
  private readonly missXin: XlateIn;
  /** The flow_put of every installing miss (the datapath keeps no reference to it). */
  private readonly missPut: DpifFlowPutRequest = { key: EMPTY_KEY, mask: EMPTY_KEY, actions: EMPTY, ufid: EMPTY_KEY, create: true, modify: false };

  constructor(
    readonly backer: DpifBacker,
    readonly xlateFn: XlateFn,
    opts: UdpifOptions = {},
  ) {
    this.revalidator = new Revalidator(this, { timer: opts.timer ?? true });
    this.missXin = xlateIn(null as unknown as XBridge, this.flowBuf, this.wcBuf, null, true, 1, 0, false);
    this.missXin.actionsInterner = this.actionsPool;
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
    const port = this.backer.portByOdp(u.key[W_IN_PORT]!, u.key);
    if (port === null || port.ofport === null) {
      // A port no bridge has (the datapath's own local port): drop, install nothing.
      this.counters.noPort++;
      return DROP_REPLY;
    }
    const bridge = port.bridge;
    const flow = this.flowBuf;
    const key = u.key;
    // Builtin copies and fills: as fast as compiled loops, and much faster
    // than interpreted ones (a fresh switch sets up its first flows before
    // the JIT has compiled this path).
    if (key.length >= DPW) flow.set(key.length === DPW ? key : key.subarray(0, DPW));
    else {
      flow.fill(0);
      flow.set(key);
    }
    flow.fill(0, DPW);
    flow[W_IN_PORT] = port.ofpNo;
    const wc = this.wcBuf;
    wc.fill(0);
    const rec = this.recorder;
    rec.start(flow, bridge);
    // One XlateIn for every miss (translation keeps no reference to it).
    const xin = this.missXin;
    const now = bridge.now();
    xin.bridge = bridge;
    xin.nowMs = now;
    xin.packet = u.packet;
    xin.statsBytes = u.packet.length;
    const xout = this.xlateFn(xin);
    xin.packet = null;
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
    if (megaflowsEnabled) mask.set(this.wcDp);
    else mask.fill(0xffffffff, 0, DPW);
    mask[W_IN_PORT] = 0xffffffff;
    mask[W_RECIRC_ID] = 0xffffffff;
    mask[W_PACKET_TYPE] = 0xffffffff;
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
    // Interned by translation (missXin.actionsInterner).
    const actions = xout.actions;
    const put = this.missPut;
    put.key = u.key;
    put.mask = imask;
    put.actions = actions;
    put.ufid = u.ufid;
    const r = this.backer.dpif.flowPut(put);
    put.key = EMPTY_KEY;
    put.ufid = EMPTY_KEY;
    if (r.error === 0) this.addUkey(u, imask, actions, bridge, xout, now, 0, 0);
    return reply;
  }

  private addUkey(u: DpifUpcall, mask: Uint32Array, actions: Uint8Array, bridge: OfprotoDpif, xout: XlateOut, now: number, packets: number, bytes: number): void {
    const k = new Ukey(u.ufid, u.key, mask, actions, bridge, xout.rules, xout.slow, now);
    if (xout.netflow !== undefined) k.netflow = xout.netflow;
    // Statistics already credited (translation credited the upcalled packet itself).
    k.packets = packets;
    k.bytes = bytes;
    if (packets > 0) k.used = now;
    k.tables = this.recorder.tables;
    k.pure = this.recorder.pure;
    k.ofpIn = this.flowBuf[W_IN_PORT]!;
    k.refreshKind = xout.deferred.length > 0 ? REFRESH_DEFERRED : REFRESH_UNDECIDED;
    this.ukeys.insert(k);
    this.counters.installs++;
  }

  private actionUpcall(u: DpifUpcall): DpifUpcallReply {
    this.counters.actionUpcalls++;
    const type = cookieType(u.userdata);
    if (type !== USER_ACTION_COOKIE_CONTROLLER && type !== USER_ACTION_COOKIE_SLOW_PATH && type !== USER_ACTION_COOKIE_SFLOW) return DROP_REPLY;
    const port = this.backer.portByOdp(u.key[W_IN_PORT]!, u.key);
    if (port === null || port.ofport === null) return DROP_REPLY;
    if (type === USER_ACTION_COOKIE_SFLOW) {
      // A sampled packet for the bridge's sFlow agent (cookie: VLAN TCI at 24, output at 28).
      const dv = new DataView(u.userdata!.buffer, u.userdata!.byteOffset, u.userdata!.length);
      port.bridge.sflow?.received(u.packet, u.key[W_IN_PORT]!, dv.getUint16(24, false), dv.getUint32(28, true));
      return DROP_REPLY;
    }
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
    const xout = this.xlateFn(xlateIn(port.bridge, flow, null, u.packet, true, 1, u.packet.length, false));
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
      this.backer.dpif.flowDel({ ufid: ukeyUfid(k) });
      this.ukeys.remove(k);
    }
    this.requestRevalidation();
  }

  close(): void {
    this.revalidator.close();
  }
}
