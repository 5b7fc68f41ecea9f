/**
 * An OpenFlow rule as a table holds it: its match and priority (in the
 * classifier rule), cookie, timeouts, flags, importance, actions, times
 * and counters. Times are milliseconds on the caller's clock (ofproto has
 * no timers: the caller passes `now`).
 */
import { ClsRule, type Conjunction } from "../classifier/index.js";
import { Match } from "../openflow/match.js";
import type { FlowModFlags, RemovedReason } from "./flow-mod.js";

/**
 * Rules keep their times as milliseconds from this base: small integers,
 * which V8 stores in the object, where three epoch times were three boxed
 * doubles (48 bytes) per rule (bench openflow: memory per flow).
 */
const TIME_BASE = Date.now();

/** `removedState` values: in its table, replaced; above: a RemovedReason's index + 2. */
const LIVE = 0;
const REPLACED = 1;
const REASONS: readonly RemovedReason[] = ["idle_timeout", "hard_timeout", "delete", "group_delete", "meter_delete", "eviction"];

/**
 * The rule is its own classifier rule (its payload is itself), as OVS's
 * rule embeds its cls_rule: one object per flow, not two, so what walks
 * 100,000 rules (a delete of all of them) meets each in memory once.
 */
export class OfRule<A> extends ClsRule<OfRule<A>> {
  // Field order is memory order, after the classifier's fields: what a
  // delete reads and writes of each rule (removal state, references,
  // flags) comes first, near the fields the classifier's walk touched.
  /** Whether and why the rule left its table (LIVE, REPLACED, or a reason's index + 2). */
  private removedState = LIVE;
  readonly flags: Readonly<FlowModFlags>;
  idleTimeout: number;
  hardTimeout: number;
  /** The groups its actions forward to, once the tables have asked (`ActionFacts.groupsOf`). */
  groupRefs: readonly number[] | null = null;
  /** Its meter, once the tables have asked (`ActionFacts.meterOf`); undefined = not yet. */
  meterRef: number | null | undefined = undefined;
  readonly tableId: number;
  cookie: bigint;
  readonly importance: number;
  readonly actions: A;
  private createdRel: number;
  private modifiedRel: number;
  private usedRel: number;
  packetCount = 0;
  byteCount = 0;

  /**
   * The match, kept only when it holds tun_metadata of its own (no TLV
   * map); otherwise it is rebuilt from the classifier rule, which already
   * has every matched word: a full Match is two 162-word arrays, 1.6 kB a
   * rule (bench openflow: resident memory per flow).
   */
  private readonly ownMatch: Match | null;

  constructor(
    tableId: number,
    match: Match,
    priority: number,
    cookie: bigint,
    idleTimeout: number,
    hardTimeout: number,
    flags: Readonly<FlowModFlags>,
    importance: number,
    actions: A,
    now: number,
    conjunctions: readonly Conjunction[] | null = null,
  ) {
    // The payload is the rule itself, which does not exist before super() returns.
    super(match.mask, match.key, priority, undefined as unknown as OfRule<A>, conjunctions);
    (this as { payload: OfRule<A> }).payload = this;
    this.flags = flags;
    this.tableId = tableId;
    // The usual zero cookie as the one shared constant (a decoded u64 is a fresh BigInt).
    this.cookie = cookie === 0n ? 0n : cookie;
    this.idleTimeout = idleTimeout;
    this.hardTimeout = hardTimeout;
    this.importance = importance;
    this.actions = actions;
    this.createdRel = this.modifiedRel = this.usedRel = now - TIME_BASE;
    this.ownMatch = match.hasTunMd() ? match.detached() : null;
  }

  /** The classifier rule: the rule itself. */
  get cls(): ClsRule<OfRule<A>> {
    return this;
  }

  /** When the rule was first added (kept across modifies). */
  get created(): number {
    return this.createdRel + TIME_BASE;
  }
  set created(t: number) {
    this.createdRel = t - TIME_BASE;
  }

  /** When the rule was added or last modified (hard timeouts count from here). */
  get modified(): number {
    return this.modifiedRel + TIME_BASE;
  }
  set modified(t: number) {
    this.modifiedRel = t - TIME_BASE;
  }

  /** When the rule last matched a packet (idle timeouts count from here). */
  get used(): number {
    return this.usedRel + TIME_BASE;
  }
  set used(t: number) {
    this.usedRel = t - TIME_BASE;
  }

  /**
   * Reads what a flow dump's encoding of the rule reads (its times,
   * timeouts and match words); see the dump's touchAhead.
   */
  touchForEncoding(): number {
    return this.usedRel ^ this.createdRel ^ this.idleTimeout ^ this.vals.length ^ (this.vals[0] ?? 0);
  }

  /** True once the rule has left its table (deleted, expired, evicted or replaced by a modify/add). */
  get removed(): boolean {
    return this.removedState !== LIVE;
  }
  set removed(v: boolean) {
    if (!v) this.removedState = LIVE;
    else if (this.removedState === LIVE) this.removedState = REPLACED;
  }

  /** Marks the rule as left its table for `reason` (or, null, as in it again: a rolled-back delete). */
  markRemoved(reason: RemovedReason | null): void {
    this.removedState = reason === null ? LIVE : REASONS.indexOf(reason) + 2;
  }

  /** Why it left, when it was not replaced. */
  get removedReason(): RemovedReason | null {
    return this.removedState >= 2 ? REASONS[this.removedState - 2]! : null;
  }
  set removedReason(r: RemovedReason | null) {
    this.removedState = r === null ? (this.removedState === LIVE ? LIVE : REPLACED) : REASONS.indexOf(r) + 2;
  }

  /**
   * As a `RemovedRule` (tables.ts) the rule reports itself, with the
   * reason it left: a delete of 100,000 flows then allocates no object
   * per rule to say so.
   */
  get rule(): OfRule<A> {
    return this;
  }
  get reason(): RemovedReason {
    return this.removedReason ?? "delete";
  }

  /** The rule's match (a fresh object unless the rule keeps its own; do not modify). */
  get match(): Match {
    return this.ownMatch ?? new Match(this.cls.key(), this.cls.mask.slice());
  }

  /**
   * The rule's match written into `scratch` (or the rule's own), for a
   * reader done with it before the next rule: a flow dump encodes 100,000
   * matches and must not allocate two flow-sized arrays for each.
   */
  matchInto(scratch: MatchScratch): Match {
    if (this.ownMatch !== null) return this.ownMatch;
    const m = scratch.match;
    const words = this.words;
    const vals = this.vals;
    const key = m.key;
    // Rules of one subtable share `words` and the mask: then only the
    // values change (a dump reads rules subtable by subtable).
    if (words !== scratch.words) {
      const old = scratch.words;
      if (old === null) key.fill(0);
      else for (let i = 0; i < old.length; i++) key[old[i]!] = 0;
      scratch.words = words;
    }
    for (let i = 0; i < words.length; i++) key[words[i]!] = vals[i]!;
    const mask = this.mask;
    if (mask !== scratch.mask) {
      m.mask.set(mask);
      // A rule outside a classifier makes a fresh mask each time: not worth remembering.
      scratch.mask = this.subtable !== null ? mask : null;
    }
    return m;
  }

  /**
   * Lowers the timeouts to at most `idle` / `hard` seconds (0 = leave), as
   * the fin_timeout action does when a TCP connection closes.
   */
  reduceTimeouts(idle: number, hard: number): void {
    if ((idle > 0 && this.idleTimeout === 0) || (hard > 0 && this.hardTimeout === 0)) OfRule.timeoutsGiven = true;
    if (idle > 0 && (this.idleTimeout === 0 || this.idleTimeout > idle)) this.idleTimeout = idle;
    if (hard > 0 && (this.hardTimeout === 0 || this.hardTimeout > hard)) this.hardTimeout = hard;
  }

  /**
   * Set once some rule got a timeout after it was added (fin_timeout on a
   * permanent rule): from then on the tables cannot count their expirable
   * rules, and expiry looks at every rule.
   */
  static timeoutsGiven = false;

  /** Whether the rule has a timeout. */
  get expirable(): boolean {
    return this.idleTimeout > 0 || this.hardTimeout > 0;
  }

  /** When the rule times out (ms), or Infinity for a permanent rule. */
  expiresAt(): number {
    let t = Infinity;
    if (this.hardTimeout > 0) t = this.modified + this.hardTimeout * 1000;
    if (this.idleTimeout > 0) t = Math.min(t, this.used + this.idleTimeout * 1000);
    return t;
  }

  /** The timeout that has fired at `now`, if any (hard first, as OVS). */
  expiredReason(now: number): "hard_timeout" | "idle_timeout" | null {
    if (this.hardTimeout > 0 && now > this.modified + this.hardTimeout * 1000) return "hard_timeout";
    if (this.idleTimeout > 0 && now > this.used + this.idleTimeout * 1000) return "idle_timeout";
    return null;
  }

  /** Counts packets that matched the rule (OVS counts even with no_packet_counts/no_byte_counts: they are hints). */
  credit(packets: number, bytes: number, now: number): void {
    this.packetCount += packets;
    this.byteCount += bytes;
    if (packets > 0 && now > this.used) this.used = now;
  }
}

/**
 * One Match that rules' matches are written into in turn (`matchInto`,
 * for a flow dump): it remembers which key words and which mask the last
 * rule left in it.
 */
export class MatchScratch {
  readonly match = new Match();
  /** @internal The key words the last rule set (null: unknown, clear all). */
  words: Int32Array | null = null;
  /** @internal The mask last copied in (a subtable's), or null. */
  mask: Uint32Array | null = null;
}
