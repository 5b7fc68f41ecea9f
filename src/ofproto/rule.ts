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

export class OfRule<A> {
  readonly cls: ClsRule<OfRule<A>>;
  private createdRel: number;
  private modifiedRel: number;
  private usedRel: number;
  packetCount = 0;
  byteCount = 0;
  /** Whether and why the rule left its table (LIVE, REPLACED, or a reason's index + 2). */
  private removedState = LIVE;
  /** The groups its actions forward to, once the tables have asked (`ActionFacts.groupsOf`). */
  groupRefs: readonly number[] | null = null;
  /** Its meter, once the tables have asked (`ActionFacts.meterOf`); undefined = not yet. */
  meterRef: number | null | undefined = undefined;

  /**
   * The match, kept only when it holds tun_metadata of its own (no TLV
   * map); otherwise it is rebuilt from the classifier rule, which already
   * has every matched word: a full Match is two 162-word arrays, 1.6 kB a
   * rule (bench openflow: resident memory per flow).
   */
  private readonly ownMatch: Match | null;

  constructor(
    readonly tableId: number,
    match: Match,
    priority: number,
    public cookie: bigint,
    public idleTimeout: number,
    public hardTimeout: number,
    readonly flags: Readonly<FlowModFlags>,
    readonly importance: number,
    readonly actions: A,
    now: number,
    conjunctions: readonly Conjunction[] | null = null,
  ) {
    this.cls = new ClsRule<OfRule<A>>(match.mask, match.key, priority, this, conjunctions);
    this.ownMatch = match.hasTunMd() ? match : null;
    // The usual zero cookie as the one shared constant (a decoded u64 is a fresh BigInt).
    if (cookie === 0n) this.cookie = 0n;
    this.createdRel = this.modifiedRel = this.usedRel = now - TIME_BASE;
  }

  get priority(): number {
    return this.cls.priority;
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

  /** True once the rule has left its table (deleted, expired, evicted or replaced by a modify/add). */
  get removed(): boolean {
    return this.removedState !== LIVE;
  }
  set removed(v: boolean) {
    if (!v) this.removedState = LIVE;
    else if (this.removedState === LIVE) this.removedState = REPLACED;
  }

  /** Why it left, when it was not replaced. */
  get removedReason(): RemovedReason | null {
    return this.removedState >= 2 ? REASONS[this.removedState - 2]! : null;
  }
  set removedReason(r: RemovedReason | null) {
    this.removedState = r === null ? (this.removedState === LIVE ? LIVE : REPLACED) : REASONS.indexOf(r) + 2;
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
  matchInto(scratch: Match): Match {
    if (this.ownMatch !== null) return this.ownMatch;
    this.cls.key(scratch.key);
    scratch.mask.set(this.cls.mask);
    return scratch;
  }

  /**
   * Lowers the timeouts to at most `idle` / `hard` seconds (0 = leave), as
   * the fin_timeout action does when a TCP connection closes.
   */
  reduceTimeouts(idle: number, hard: number): void {
    if (idle > 0 && (this.idleTimeout === 0 || this.idleTimeout > idle)) this.idleTimeout = idle;
    if (hard > 0 && (this.hardTimeout === 0 || this.hardTimeout > hard)) this.hardTimeout = hard;
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
