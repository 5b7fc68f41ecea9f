/**
 * The OpenFlow tables of one switch and the semantics of flow_mod on them
 * (OpenFlow 1.5 §6.4, as OVS 3.1 implements it in ofproto.c).
 *
 * ## Commands
 * - add: a rule with the same match and priority in the table is replaced
 *   (its cookie kept when the add gives none, its counters kept unless
 *   reset_counts; OVS decoders set reset_counts on every OF1.0/1.1 add).
 *   Otherwise check_overlap refuses an overlapping rule of the same
 *   priority (OFPFMFC_OVERLAP), and a full table evicts or refuses
 *   (OFPFMFC_TABLE_FULL). table_id 255 adds to table 0.
 * - modify / modify_strict: every rule the match selects (loosely, or the
 *   exact match + priority) gets the new actions, keeping its timeouts,
 *   flags, importance and creation time; its cookie becomes `newCookie`
 *   when `modifyCookie`; its counters are kept unless reset_counts. out_port
 *   and out_group do not filter. When nothing is selected and the
 *   flow_mod carries a new cookie but no cookie mask (OF1.0, OF1.1, NXM
 *   without cookie match), the flow is added instead.
 * - delete / delete_strict: every rule selected (also by out_port,
 *   out_group) is removed and reported with reason delete.
 * Cookie filters select rules with `(rule.cookie ^ cookie) & mask == 0`.
 *
 * ## Transactions and versions
 * Every change goes through a transaction (`begin`): each flow_mod in it
 * works at its own classifier version above the published one, inserting
 * new rules at that version and making removed ones invisible from it, so
 * later flow_mods of the transaction see earlier ones while lookups (at
 * `version`) see none of it. `commit` publishes the last version and drops
 * the invisible rules for good; `abort` (or an error inside a bundle)
 * undoes everything. A single flow_mod is a transaction of one.
 *
 * ## Deleting many flows
 * A delete that only its match and table select (del-flows, with or
 * without a match) is one walk of each classifier (`hideLoose`): every
 * rule is hidden and marked removed as it is passed (a rollback unmarks
 * it), since with 100,000 rules each visit is a cache miss. At commit a
 * table whose flows all went drops their subtables whole
 * (`Classifier.removeAllInvisible`); the removed rules report themselves
 * (an OfRule is a RemovedRule) and `flowRemoved` names those with
 * send_flow_rem. Per table counts of published rules naming a group or a
 * meter (`nIndexed`) and with a timeout (`nExpirable`) let a delete, and
 * the expiry run every second, leave alone tables that have none.
 * Hidden rules (priority above 65535) are never selected.
 *
 * ## Tables
 * 255 tables (0..254); 254 is OVS's internal table, read-only like any
 * table configured `readonly`: flow_mods naming it get OFPBRC_EPERM
 * (unless flagged `noReadonly`, for OVS-internal rules) and "all tables"
 * flow_mods and stats skip it. A table's Flow_Table row gives its name,
 * flow limit, overflow policy and eviction groups, and prefix fields.
 * Eviction (overflow_policy=evict, or lowering the limit) only takes flows
 * with a timeout: from the largest eviction group, the lowest importance,
 * then the soonest expiry (ovs-vswitchd.conf.db(5)). Where groups tie in
 * size OVS picks one at random; we consider all of them, as the manual
 * words it.
 *
 * ## Time
 * There are no timers: callers pass `now` (ms) to flow_mods, `credit`
 * and `expire`, which removes and returns the rules whose hard timeout
 * (counted from the last add/modify) or idle timeout (from the last
 * packet) has passed.
 *
 * ## Groups and meters
 * A `GroupTable` / `MeterTable` built on these tables sets `groups` /
 * `meters`: then an add, or a modify that selects rules, whose meter
 * instruction names a missing meter fails with OFPMMFC_INVALID_METER, and
 * one forwarding to a missing group (nested lists included) with
 * OFPBAC_BAD_OUT_GROUP, after the `ActionFacts.check` (OVS's
 * ofproto_check_ofpacts). Published rules are indexed by the groups and
 * meter they name (`rulesOfGroup`, `rulesOfMeter`: OVS's group->rules,
 * meter->rules), so ref counts and deleting a group's or meter's rules
 * (`deleteRules`, reasons group_delete / meter_delete) cost what they
 * touch.
 *
 * ## Errors
 * Returned as OpenFlow error names, never thrown: OFPBRC_BAD_TABLE_ID,
 * OFPBRC_EPERM, OFPFMFC_OVERLAP, OFPFMFC_TABLE_FULL, OFPBRC_BUFFER_UNKNOWN
 * (a buffer_id: OVS 3.1 buffers no packets), OFPMMFC_INVALID_METER,
 * OFPBAC_BAD_OUT_GROUP, and whatever the action check of `ActionFacts`
 * returns. Only programming errors throw (a second open transaction).
 *
 * ## Numbers
 * - test/ofproto/tables-ovs.test.ts: every step of scripted and seeded
 *   random add/mod/del sequences (OF1.0 and OF1.4), bundles, timeouts and
 *   Flow_Table limits/eviction leaves `dump-flows` equal to real OVS 3.1's.
 * - bench/ofproto (2 shared cores, 20,000 flows): ~40-50k adds/s,
 *   ~55k replacing adds/s, ~60k strict modifies/s; a loose modify of all
 *   ~0.4 s, a delete of all ~0.2 s, an expiry scan ~10 ms.
 * - bench/openflow (100,000 flows, real `ovs-ofctl del-flows`, a loaded
 *   2-core machine): delete 119 ms vs OVS 172 ms and 318 vs 215 ms in the
 *   same runs (it was 280 vs 105 ms); in-process about 0.5 µs a flow,
 *   nearly all of it the one cache miss per rule of the classifier walk.
 */
import { Classifier, DEFAULT_PREFIX_FIELDS, type ClsRule, type RuleVisitor } from "../classifier/index.js";
import { MF_FIELDS, mfFromName, type MfField } from "../openflow/meta-flow.js";
import type { Match } from "../openflow/match.js";
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import {
  internFlags,
  N_TABLES,
  NO_BUFFER,
  OFPG_ANY,
  OFPP_ANY,
  OFPTT_ALL,
  TBL_INTERNAL,
  type ActionFacts,
  type OfproFlowMod,
  type RemovedReason,
} from "./flow-mod.js";
import { OfRule } from "./rule.js";
import { bytesToBig } from "../packet/bytes.js";

/** A table's configuration: OVS's Flow_Table row (plus OVS's internal read-only flag). */
export interface TableConfig {
  name: string | null;
  /** Maximum number of flows, null = unlimited. */
  flowLimit: number | null;
  overflowPolicy: "refuse" | "evict";
  /** Eviction groups: `field`, `field[]` or `field[start..end]`, field names or NXM/OXM names. */
  groups: readonly string[];
  /** Prefix-tracked fields; null = OVS's default (nw_dst, nw_src). */
  prefixes: readonly string[] | null;
  /** Flow_mods may not touch the table (OFPBRC_EPERM), as OVS's hidden tables. */
  readonly: boolean;
}

export const DEFAULT_TABLE_CONFIG: Readonly<TableConfig> = Object.freeze({
  name: null,
  flowLimit: null,
  overflowPolicy: "refuse",
  groups: [],
  prefixes: null,
  readonly: false,
});

/** One OpenFlow table. */
export class OfTable<A> {
  readonly cls = new Classifier<OfRule<A>>();
  /** Rules visible in the working version (the open transaction's view). */
  nFlows = 0;
  /** Rules visible in the published version. */
  activeCount = 0;
  lookupCount = 0;
  matchedCount = 0;
  /** Published rules that name a group or a meter: a delete in a table without any leaves the indexes alone. */
  nIndexed = 0;
  /**
   * Published rules with a timeout: expiry (every second) skips a table
   * without any instead of visiting its 100,000 permanent flows (unless
   * `OfRule.timeoutsGiven`).
   */
  nExpirable = 0;
  config: TableConfig = { ...DEFAULT_TABLE_CONFIG };
  /** Parsed `config.groups`. */
  groupSpecs: GroupSpec[] = [];
  constructor(readonly id: number) {}
}

/** A rule that left its table and why; a removed `OfRule` is one itself (a delete of many reports the rules as they are). */
export interface RemovedRule<A> {
  readonly rule: OfRule<A>;
  readonly reason: RemovedReason;
}

/**
 * `removed`: the rules deleted or evicted; `flowRemoved`: those of them
 * with send_flow_rem, which get a FLOW_REMOVED message (found without
 * visiting the others again: a delete of 100,000 flows).
 */
export type FlowModResult<A> = { ok: true; removed: RemovedRule<A>[]; flowRemoved: RemovedRule<A>[] } | { ok: false; error: OfpErrorName };
export type BundleResult<A> = { ok: true; removed: RemovedRule<A>[] } | { ok: false; error: OfpErrorName; index: number };

/** A flow stats / aggregate stats / delete selection. */
export interface FlowQuery {
  tableId: number;
  match: Match;
  /** Exact match + priority instead of "at least as specific". */
  strict?: boolean;
  priority?: number;
  cookie?: bigint;
  cookieMask?: bigint;
  outPort?: number;
  outGroup?: number;
  /** The version to look in (default: the published one; a bundle looks in its transaction's). */
  version?: number;
}

export interface FlowStats<A> {
  tableId: number;
  match: Match;
  priority: number;
  cookie: bigint;
  idleTimeout: number;
  hardTimeout: number;
  flags: OfRule<A>["flags"];
  importance: number;
  actions: A;
  durationMs: number;
  idleAgeMs: number;
  hardAgeMs: number;
  packetCount: number;
  byteCount: number;
}

export interface AggregateStats {
  packetCount: number;
  byteCount: number;
  flowCount: number;
}

export interface TableStats {
  tableId: number;
  name: string;
  activeCount: number;
  lookupCount: number;
  matchedCount: number;
}

interface GroupSpec {
  field: MfField;
  start: number;
  /** Exclusive. */
  end: number;
}

type Undo<A> =
  | { kind: "insert"; table: OfTable<A>; rule: OfRule<A> }
  | { kind: "hide"; table: OfTable<A>; rule: OfRule<A>; reason: RemovedReason | null }
  /**
   * The rules a delete hides in one table, for one reason: one record, not
   * one each. `marked`: the rules were marked removed as they were hidden
   * (`nFlowRem` of them with send_flow_rem, `nExpirable` with a timeout),
   * not at commit.
   */
  | { kind: "hideMany"; table: OfTable<A>; rules: OfRule<A>[]; reason: RemovedReason; marked: boolean; nFlowRem: number; nExpirable: number }
  | { kind: "forward"; from: OfRule<A>; to: OfRule<A> };

/** Selection criteria, OVS's rule_criteria. */
interface Criteria {
  tableId: number;
  match: Match;
  strict: boolean;
  priority: number;
  cookie: bigint;
  cookieMask: bigint;
  outPort: number;
  outGroup: number;
}

/** Flow_Table `prefixes` aliases (ovs-vswitchd.conf.db(5)). */
const PREFIX_ALIASES: Readonly<Record<string, string>> = { ip_src: "nw_src", ip_dst: "nw_dst" };

/** Parses one Flow_Table `groups` entry; null when invalid (OVS ignores those). */
function parseGroupSpec(s: string): GroupSpec | null {
  const m = /^([A-Za-z0-9_.]+)(?:\[(?:(\d+)(?:\.\.(\d+))?)?\])?$/.exec(s.trim());
  if (!m) return null;
  const field = mfFromName(m[1]!) ?? MF_FIELDS.find((f) => f.nxm?.name === m[1] || f.oxm?.name === m[1]) ?? null;
  if (!field) return null;
  const start = m[2] === undefined ? 0 : Number(m[2]);
  const end = m[2] === undefined ? field.bits : (m[3] === undefined ? start : Number(m[3])) + 1;
  if (start >= end || end > field.bits) return null;
  return { field, start, end };
}


/** The eviction group of a rule: its (masked) values of the group fields. */
function groupKey<A>(specs: readonly GroupSpec[], rule: OfRule<A>): string {
  if (specs.length === 0) return "";
  const parts: string[] = [];
  for (const g of specs) {
    const v = rule.match.isWildcarded(g.field) ? 0n : bytesToBig(rule.match.get(g.field).value);
    parts.push(((v >> BigInt(g.start)) & ((1n << BigInt(g.end - g.start)) - 1n)).toString(16));
  }
  return parts.join(",");
}

/** What a flow_mod's group and meter references are checked against (a `GroupTable`, a `MeterTable`). */
export interface ReferenceTable {
  has(id: number): boolean;
}

const EMPTY_SET: ReadonlySet<never> = new Set<never>();
/** How many recently published rules `addedSince` can name. */
const ADD_LOG_MAX = 4096;
/** The group references of the many rules that name no group (one shared array, not one each). */
const NO_GROUPS: readonly number[] = Object.freeze([]);

/**
 * Rule `i` of a selection (in table `tableId`, with `priority`) as one
 * exact double that orders it by table, then priority (highest first),
 * then `i`: 8 + 16 + 24 bits; NaN when it cannot (a hidden rule's
 * priority, too many rules).
 */
function sortKey(tableId: number, priority: number, i: number): number {
  if (priority > 0xffff || i >= 1 << 24) return NaN;
  return (tableId * 0x10000 + (0xffff - priority)) * 0x1000000 + i;
}

/**
 * The sort keys of one selection, in a buffer kept from one selection to
 * the next: a dump of 100,000 flows made an array of 100,000 numbers and
 * a typed copy of it each time, both big enough to go straight to V8's
 * old generation and bring its next full collection closer.
 */
class SortKeys {
  private buf = new Float64Array(1024);
  length = 0;
  /** A key was NaN (see sortKey): the selection is sorted by a comparator instead. */
  unsortable = false;

  reset(): this {
    this.length = 0;
    this.unsortable = false;
    return this;
  }

  push(k: number): void {
    if (Number.isNaN(k)) this.unsortable = true;
    if (this.length === this.buf.length) {
      const bigger = new Float64Array(this.buf.length * 2);
      bigger.set(this.buf);
      this.buf = bigger;
    }
    this.buf[this.length++] = k;
  }

  /** The keys, sorted in place (valid until the next reset). */
  sorted(): Float64Array {
    return this.buf.subarray(0, this.length).sort();
  }
}

const selectionKeys = new SortKeys();

/**
 * `rules` ordered by table, then priority (highest first), stably, from
 * their `sortKey`s. A dump sorts 100,000 rules: numeric keys in a typed
 * array sort natively, where a comparator reading two rules per step
 * missed the cache each time.
 */
function byTableAndPriority<A>(rules: OfRule<A>[], keys: SortKeys): OfRule<A>[] {
  if (keys.unsortable) return rules.sort((a, b) => a.tableId - b.tableId || b.priority - a.priority);
  const sorted = keys.sorted();
  const n = rules.length;
  const out = new Array<OfRule<A>>(n);
  for (let i = 0; i < n; i++) out[i] = rules[sorted[i]! % 0x1000000]!;
  return out;
}

/**
 * The rules a selection collects, with their sort keys when it has them
 * (pushed as each rule is met: with 100,000 rules every pass over them
 * misses the cache). As a classifier walk's visitor it takes the rules of
 * OpenFlow's priority range only (the switch's own rules stay out).
 */
class RuleSelection<A> implements RuleVisitor<ClsRule<OfRule<A>>> {
  readonly rules: OfRule<A>[] = [];
  /** The table being walked: its id, not the rule's, goes into the key (the rule's lies in another cache line than its priority). */
  tableId = 0;

  constructor(private readonly keys: SortKeys | null) {}

  visit(r: ClsRule<OfRule<A>>): void {
    if (r.priority <= 0xffff) this.add(r.payload);
  }

  add(r: OfRule<A>): void {
    if (this.keys !== null) this.keys.push(sortKey(this.tableId, r.priority, this.rules.length));
    this.rules.push(r);
  }
}

/** What a delete does to each rule it hides, while the rule is at hand (counted per table). */
class RemovalMarker<A> implements RuleVisitor<OfRule<A>> {
  nFlowRem = 0;
  nExpirable = 0;

  constructor(private readonly reason: RemovedReason) {}

  visit(r: OfRule<A>): void {
    r.markRemoved(this.reason);
    if (r.flags.sendFlowRem) this.nFlowRem++;
    if (r.idleTimeout > 0 || r.hardTimeout > 0) this.nExpirable++;
  }
}

export class OfprotoTables<A> {
  readonly tables: OfTable<A>[] = [];
  private publishedVersion = 0;
  /**
   * Called whenever the published version is set (a flow_mod, bundle
   * commit, expiry, eviction or group/meter deletion changed the visible
   * rules). A commit calls it before it has marked its removed rules, so
   * a listener defers its work (ofproto-dpif schedules revalidation).
   */
  onVersionChange: (() => void) | null = null;
  /** The published classifier version: what lookups see; it grows whenever the visible rules change. */
  get version(): number {
    return this.publishedVersion;
  }
  set version(v: number) {
    this.publishedVersion = v;
    if (this.onVersionChange !== null) this.onVersionChange();
  }
  private tx: Transaction<A> | null = null;
  /** The switch's groups, when it has any: adds and modifies naming a missing group fail (OFPBAC_BAD_OUT_GROUP). */
  groups: ReferenceTable | null = null;
  /** The switch's meters: adds and modifies naming a missing meter fail (OFPMMFC_INVALID_METER). */
  meters: ReferenceTable | null = null;
  /** Published rules by the groups they forward to (OVS's group->rules), when `facts.groupsOf` exists. */
  private readonly byGroup = new Map<number, Set<OfRule<A>>>();
  /** Published rules by their meter (OVS's meter->rules), when `facts.meterOf` exists. */
  private readonly byMeter = new Map<number, Set<OfRule<A>>>();
  /**
   * The rules recent commits published, oldest first, with the version
   * that published them (`addedSince`); bounded, and `addLogFloor` is the
   * newest version whose entries may have been dropped.
   */
  private addLog: { version: number; rule: OfRule<A> }[] = [];
  private addLogFloor = -1;

  constructor(
    readonly facts: ActionFacts<A>,
    nTables: number = N_TABLES,
  ) {
    if (!Number.isInteger(nTables) || nTables < 1 || nTables > N_TABLES) throw new RangeError(`bad number of tables ${nTables}`);
    for (let i = 0; i < nTables; i++) this.tables.push(new OfTable<A>(i));
    const internal = this.tables[TBL_INTERNAL];
    if (internal) internal.config.readonly = true;
  }

  get nTables(): number {
    return this.tables.length;
  }

  /** Applies a table's configuration; may evict rules when the limit shrinks under the evict policy. */
  configureTable(tableId: number, config: Partial<TableConfig>): { ok: true; removed: RemovedRule<A>[] } | { ok: false; error: string } {
    this.assertIdle();
    const t = this.tables[tableId];
    if (!t) return { ok: false, error: `table ${tableId} does not exist` };
    const next: TableConfig = { ...t.config, ...config };
    if (next.flowLimit !== null && (!Number.isInteger(next.flowLimit) || next.flowLimit < 0)) return { ok: false, error: `bad flow_limit ${next.flowLimit}` };
    if (config.prefixes !== undefined) {
      const names = next.prefixes ?? DEFAULT_PREFIX_FIELDS;
      try {
        // Field aliases (ip_src, ip_dst) are accepted, as OVS.
        t.cls.setPrefixFields(names.filter((n) => n !== "none").map((n) => PREFIX_ALIASES[n] ?? n));
      } catch (e) {
        return { ok: false, error: (e as Error).message };
      }
    }
    t.config = next;
    t.groupSpecs = next.groups.map(parseGroupSpec).filter((g): g is GroupSpec => g !== null);
    const removed: RemovedRule<A>[] = [];
    if (next.flowLimit !== null && next.overflowPolicy === "evict") {
      while (t.nFlows > next.flowLimit) {
        const victim = this.chooseEviction(t, this.version);
        if (!victim) break;
        this.dropCommitted(t, victim, "eviction");
        removed.push({ rule: victim, reason: "eviction" });
      }
    }
    if (removed.length > 0) this.version++;
    return { ok: true, removed };
  }

  // ---- flow_mods ----

  /** Starts a transaction (one at a time). */
  begin(): Transaction<A> {
    this.assertIdle();
    this.tx = new Transaction<A>(this);
    return this.tx;
  }

  /** Executes one flow_mod atomically. */
  flowMod(fm: OfproFlowMod<A>, now: number): FlowModResult<A> {
    const tx = this.begin();
    const error = tx.apply(fm, now);
    if (error !== null) {
      tx.abort();
      return { ok: false, error };
    }
    const removed = tx.commit();
    return { ok: true, removed, flowRemoved: tx.flowRemoved };
  }

  /** Executes flow_mods all-or-nothing (an OpenFlow bundle commit). */
  bundle(fms: readonly OfproFlowMod<A>[], now: number): BundleResult<A> {
    const tx = this.begin();
    for (let i = 0; i < fms.length; i++) {
      const error = tx.apply(fms[i]!, now);
      if (error !== null) {
        tx.abort();
        return { ok: false, error, index: i };
      }
    }
    return { ok: true, removed: tx.commit() };
  }

  /**
   * OVS's ofproto_check_ofpacts: the meter instruction must name an
   * existing meter, then every group the actions forward to must exist.
   */
  checkReferences(actions: A): OfpErrorName | null {
    if (this.meters !== null && this.facts.meterOf !== undefined) {
      const m = this.facts.meterOf(actions);
      if (m !== null && !this.meters.has(m)) return "OFPMMFC_INVALID_METER";
    }
    if (this.groups !== null && this.facts.groupsOf !== undefined) {
      for (const g of this.facts.groupsOf(actions)) if (!this.groups.has(g)) return "OFPBAC_BAD_OUT_GROUP";
    }
    return null;
  }

  /** @internal Adds a rule just published to, or removes one from, the group and meter indexes. */
  indexRule(r: OfRule<A>, add: boolean): void {
    const groupsOf = this.facts.groupsOf;
    const meterOf = this.facts.meterOf;
    if (groupsOf !== undefined) {
      if (r.groupRefs === null) {
        const refs = groupsOf(r.actions);
        r.groupRefs = refs.length === 0 ? NO_GROUPS : refs;
      }
      for (const g of r.groupRefs) {
        let set = this.byGroup.get(g);
        if (add) {
          if (set === undefined) this.byGroup.set(g, (set = new Set()));
          set.add(r);
        } else if (set !== undefined) {
          set.delete(r);
          if (set.size === 0) this.byGroup.delete(g);
        }
      }
    }
    if (meterOf !== undefined) {
      if (r.meterRef === undefined) r.meterRef = meterOf(r.actions);
      const m = r.meterRef;
      if (m !== null) {
        let set = this.byMeter.get(m);
        if (add) {
          if (set === undefined) this.byMeter.set(m, (set = new Set()));
          set.add(r);
        } else if (set !== undefined) {
          set.delete(r);
          if (set.size === 0) this.byMeter.delete(m);
        }
      }
    }
    if ((r.groupRefs !== null && r.groupRefs.length > 0) || (r.meterRef !== null && r.meterRef !== undefined)) {
      const t = this.tables[r.tableId];
      if (t !== undefined) t.nIndexed += add ? 1 : -1;
    }
  }

  /**
   * The rules published after `version` and still in their tables, or
   * null when there are more than `max` or the log no longer reaches back
   * that far: the revalidator's question, answered without walking every
   * rule (it is asked after every flow_mod).
   */
  addedSince(version: number, max: number): OfRule<A>[] | null {
    if (version < this.addLogFloor) return null;
    const out: OfRule<A>[] = [];
    for (let i = this.addLog.length - 1; i >= 0; i--) {
      const e = this.addLog[i]!;
      if (e.version <= version) break;
      if (e.rule.removed) continue;
      if (out.length >= max) return null;
      out.push(e.rule);
    }
    return out;
  }

  /** @internal Records a rule a commit published at `version`. */
  logAdded(rule: OfRule<A>, version: number): void {
    if (this.addLog.length >= ADD_LOG_MAX) {
      const drop = this.addLog.length >> 1;
      this.addLogFloor = this.addLog[drop - 1]!.version;
      this.addLog = this.addLog.slice(drop);
    }
    this.addLog.push({ version, rule });
  }

  /** The published rules that forward to group `groupId` (needs `facts.groupsOf`). */
  rulesOfGroup(groupId: number): ReadonlySet<OfRule<A>> {
    return this.byGroup.get(groupId) ?? EMPTY_SET;
  }

  /** The published rules whose meter is `meterId` (needs `facts.meterOf`). */
  rulesOfMeter(meterId: number): ReadonlySet<OfRule<A>> {
    return this.byMeter.get(meterId) ?? EMPTY_SET;
  }

  /**
   * Deletes published rules (outside a transaction), reporting them with
   * `reason` (group_delete, meter_delete), read-only tables included: OVS
   * deletes a group's or meter's rules wherever they are.
   */
  deleteRules(rules: Iterable<OfRule<A>>, reason: RemovedReason): RemovedRule<A>[] {
    this.assertIdle();
    const out: RemovedRule<A>[] = [];
    for (const r of [...rules]) {
      if (r.removed) continue;
      this.dropCommitted(this.tables[r.tableId]!, r, reason);
      out.push({ rule: r, reason });
    }
    if (out.length > 0) this.version++;
    return out;
  }

  /** Calls `fn` for every published rule (any order). */
  forEachRule(fn: (r: OfRule<A>) => void): void {
    for (const t of this.tables) {
      if (t.nFlows === 0 && t.activeCount === 0) continue;
      for (const cr of t.cls.rules()) if (cr.visibleIn(this.version)) fn(cr.payload);
    }
  }

  /** @internal */
  endTx(tx: Transaction<A>): void {
    if (this.tx === tx) this.tx = null;
  }

  private assertIdle(): void {
    if (this.tx !== null) throw new Error("a flow table transaction is open");
  }

  // ---- selection ----

  /** OVS's check_table_id and the read-only check. */
  checkTable(tableId: number, noReadonly = false): OfpErrorName | null {
    if (tableId === OFPTT_ALL) return null;
    const t = this.tables[tableId];
    if (!t) return "OFPBRC_BAD_TABLE_ID";
    if (t.config.readonly && !noReadonly) return "OFPBRC_EPERM";
    return null;
  }

  /** Rules visible in `version` that the criteria select. */
  collect(c: Criteria, version: number): OfRule<A>[] {
    return this.collectKeyed(c, version, null);
  }

  /**
   * `collect`, and with `keys`, each rule's sort key for `byTableAndPriority`
   * pushed as the rule is (while it is at hand: with 100,000 rules every
   * pass over them misses the cache).
   */
  private collectKeyed(c: Criteria, version: number, keys: SortKeys | null): OfRule<A>[] {
    const sel = new RuleSelection<A>(keys);
    const tables = c.tableId === OFPTT_ALL ? this.tables.filter((t) => !t.config.readonly) : [this.tables[c.tableId]!];
    for (const t of tables) {
      sel.tableId = t.id;
      if (t.cls.isEmpty) continue;
      if (c.strict) {
        const r = t.cls.findExact(c.match.mask, c.match.key, c.priority, version);
        if (r !== null && this.criteriaMatch(c, r.payload)) sel.add(r.payload);
      } else if (c.cookieMask === 0n && c.outPort === OFPP_ANY && c.outGroup === OFPG_ANY) {
        // No filter beyond the match (del-flows, dump-flows): only hidden rules stay out.
        t.cls.looseEach(c.match.mask, c.match.key, version, sel);
      } else {
        for (const r of t.cls.loose(c.match.mask, c.match.key, version)) if (this.criteriaMatch(c, r.payload)) sel.add(r.payload);
      }
    }
    return sel.rules;
  }

  private criteriaMatch(c: Criteria, r: OfRule<A>): boolean {
    // Hidden rules (the switch's own, priority above 65535) are outside OpenFlow requests; a strict one naming such a priority is internal.
    if (r.priority > 0xffff && !(c.strict && c.priority > 0xffff)) return false;
    if (c.cookieMask !== 0n && ((r.cookie ^ c.cookie) & c.cookieMask) !== 0n) return false;
    if (c.outPort !== OFPP_ANY && !this.facts.outputsTo(r.actions, c.outPort)) return false;
    if (c.outGroup !== OFPG_ANY && !this.facts.forwardsToGroup(r.actions, c.outGroup)) return false;
    return true;
  }

  /** The rule to evict from a full table, or null when none may be (no rule has a timeout). */
  chooseEviction(t: OfTable<A>, version: number): OfRule<A> | null {
    if (t.config.overflowPolicy !== "evict") return null;
    const groups = new Map<string, OfRule<A>[]>();
    for (const cr of t.cls.rules()) {
      const r = cr.payload;
      if (!cr.visibleIn(version) || (r.idleTimeout === 0 && r.hardTimeout === 0)) continue;
      const k = groupKey(t.groupSpecs, r);
      let g = groups.get(k);
      if (!g) groups.set(k, (g = []));
      g.push(r);
    }
    let largest = 0;
    for (const g of groups.values()) largest = Math.max(largest, g.length);
    let best: OfRule<A> | null = null;
    for (const g of groups.values()) {
      if (g.length !== largest) continue;
      for (const r of g) {
        if (best === null || r.importance < best.importance || (r.importance === best.importance && r.expiresAt() < best.expiresAt())) best = r;
      }
    }
    return best;
  }

  /** Removes a published rule outside a transaction (expiry, configuration). */
  private dropCommitted(t: OfTable<A>, r: OfRule<A>, reason: RemovedReason): void {
    this.indexRule(r, false);
    if (r.expirable) t.nExpirable--;
    t.cls.remove(r.cls);
    t.nFlows--;
    t.activeCount--;
    r.removed = true;
    r.removedReason = reason;
  }

  // ---- time ----

  /** Removes and returns every rule whose hard or idle timeout has passed at `now`. */
  expire(now: number): RemovedRule<A>[] {
    this.assertIdle();
    const out: RemovedRule<A>[] = [];
    const all = OfRule.timeoutsGiven;
    for (const t of this.tables) {
      if (t.nFlows === 0 || (t.nExpirable <= 0 && !all)) continue;
      const due: RemovedRule<A>[] = [];
      for (const cr of t.cls.rules()) {
        const reason = cr.visibleIn(this.version) ? cr.payload.expiredReason(now) : null;
        if (reason !== null) due.push({ rule: cr.payload, reason });
      }
      for (const d of due) this.dropCommitted(t, d.rule, d.reason);
      out.push(...due);
    }
    // A new version tells caches (revalidation) that the visible rules changed.
    if (out.length > 0) this.version++;
    return out;
  }

  /** The soonest time (ms) some rule may expire, Infinity when none can: when to call `expire` next. */
  nextExpiry(): number {
    let t = Infinity;
    const all = OfRule.timeoutsGiven;
    for (const table of this.tables) {
      if (table.nFlows === 0 || (table.nExpirable <= 0 && !all)) continue;
      for (const cr of table.cls.rules()) if (cr.visibleIn(this.version)) t = Math.min(t, cr.payload.expiresAt());
    }
    return t;
  }

  // ---- lookup and statistics ----

  /**
   * The rule of table `tableId` that `flow` matches at `version` (the
   * published one by default), un-wildcarding into `wc`; counts the lookup.
   */
  lookup(tableId: number, flow: Uint32Array, wc: Uint32Array | null, version: number = this.version): OfRule<A> | null {
    const t = this.tables[tableId];
    if (t === undefined) return null;
    t.lookupCount++;
    const r = t.cls.lookup(flow, version, wc);
    if (r === null) return null;
    t.matchedCount++;
    return r.payload;
  }

  private queryCriteria(q: FlowQuery): Criteria {
    return {
      tableId: q.tableId,
      match: q.match,
      strict: q.strict ?? false,
      priority: q.priority ?? 0x8000,
      cookie: q.cookie ?? 0n,
      cookieMask: q.cookieMask ?? 0n,
      outPort: q.outPort ?? OFPP_ANY,
      outGroup: q.outGroup ?? OFPG_ANY,
    };
  }

  /** Published rules a stats request selects, by table then priority (descending). */
  select(q: FlowQuery): { ok: true; rules: OfRule<A>[] } | { ok: false; error: OfpErrorName } {
    if (q.tableId !== OFPTT_ALL && this.tables[q.tableId] === undefined) return { ok: false, error: "OFPBRC_BAD_TABLE_ID" };
    const keys = selectionKeys.reset();
    const rules = this.collectKeyed(this.queryCriteria(q), q.version ?? this.version, keys);
    return { ok: true, rules: byTableAndPriority(rules, keys) };
  }

  /** Flow stats (OFPMP_FLOW) for the rules `q` selects. */
  flowStats(q: FlowQuery, now: number): { ok: true; stats: FlowStats<A>[] } | { ok: false; error: OfpErrorName } {
    const s = this.select(q);
    if (!s.ok) return s;
    return {
      ok: true,
      stats: s.rules.map((r) => ({
        tableId: r.tableId,
        match: r.match,
        priority: r.priority,
        cookie: r.cookie,
        idleTimeout: r.idleTimeout,
        hardTimeout: r.hardTimeout,
        flags: r.flags,
        importance: r.importance,
        actions: r.actions,
        durationMs: now - r.created,
        idleAgeMs: now - r.used,
        hardAgeMs: now - r.modified,
        packetCount: r.packetCount,
        byteCount: r.byteCount,
      })),
    };
  }

  /** Aggregate stats (OFPMP_AGGREGATE) for the rules `q` selects. */
  aggregateStats(q: FlowQuery): { ok: true; stats: AggregateStats } | { ok: false; error: OfpErrorName } {
    const s = this.select(q);
    if (!s.ok) return s;
    const stats = { packetCount: 0, byteCount: 0, flowCount: s.rules.length };
    for (const r of s.rules) {
      stats.packetCount += r.packetCount;
      stats.byteCount += r.byteCount;
    }
    return { ok: true, stats };
  }

  /** Table stats (OFPMP_TABLE) of every table. */
  tableStats(): TableStats[] {
    return this.tables.map((t) => ({
      tableId: t.id,
      name: t.config.name ?? `table${t.id}`,
      activeCount: t.activeCount,
      lookupCount: t.lookupCount,
      matchedCount: t.matchedCount,
    }));
  }

  /** Every published rule, by table then priority (descending). */
  allRules(): OfRule<A>[] {
    const out: OfRule<A>[] = [];
    for (const t of this.tables) {
      const rs: OfRule<A>[] = [];
      for (const cr of t.cls.rules()) if (cr.visibleIn(this.version)) rs.push(cr.payload);
      rs.sort((a, b) => b.priority - a.priority);
      out.push(...rs);
    }
    return out;
  }
}

/**
 * An open set of flow_mods: applied to the classifiers at versions above
 * the published one, published by `commit`, undone by `abort`.
 */
export class Transaction<A> {
  private readonly undo: Undo<A>[] = [];
  /** The version the last applied flow_mod worked at. */
  private working: number;

  /** After `commit`: the rules it deleted or evicted that asked for a FLOW_REMOVED (send_flow_rem). */
  readonly flowRemoved: RemovedRule<A>[] = [];

  /** The version that shows the transaction's changes so far. */
  get view(): number {
    return this.working;
  }
  private done = false;

  constructor(private readonly ofp: OfprotoTables<A>) {
    this.working = ofp.version;
  }

  /**
   * Applies one flow_mod. On error nothing of this flow_mod remains (the
   * earlier ones of the transaction do: abort to drop them too).
   */
  apply(fm: OfproFlowMod<A>, now: number): OfpErrorName | null {
    if (this.done) throw new Error("transaction already finished");
    if (fm.bufferId !== NO_BUFFER) return "OFPBRC_BUFFER_UNKNOWN";
    const mark = this.undo.length;
    const version = ++this.working;
    const error = this.apply1(fm, version, now);
    if (error !== null) this.unwind(mark);
    return error;
  }

  private apply1(fm: OfproFlowMod<A>, version: number, now: number): OfpErrorName | null {
    switch (fm.command) {
      case "add":
        return this.add(fm, version, now);
      case "modify":
      case "modify_strict":
        return this.modify(fm, version, now);
      case "delete":
      case "delete_strict":
        return this.delete(fm, version);
    }
  }

  private add(fm: OfproFlowMod<A>, version: number, now: number): OfpErrorName | null {
    const tableId = fm.tableId === OFPTT_ALL ? 0 : fm.tableId;
    const t = this.ofp.tables[tableId];
    if (t === undefined) return "OFPBRC_BAD_TABLE_ID";
    if (t.config.readonly && !fm.flags.noReadonly) return "OFPBRC_EPERM";
    const bad = this.ofp.facts.check?.(fm.actions, tableId) ?? this.ofp.checkReferences(fm.actions);
    if (bad !== null) return bad;
    const m = fm.match;
    // The classifier rule copies the matched words; only a match the rule keeps whole (tun_metadata) keeps its own copy.
    const rule = new OfRule<A>(tableId, m, fm.priority, fm.newCookie ?? 0n, fm.idleTimeout, fm.hardTimeout, internFlags(fm.flags), fm.importance, fm.actions, now, this.ofp.facts.conjunctions?.(fm.actions) ?? null);
    const old = t.cls.findExactOf(rule.cls, version)?.payload ?? null;
    if (old !== null) {
      if (fm.newCookie === null) rule.cookie = old.cookie;
      this.hide(t, old, null, version);
      if (!fm.flags.resetCounts) this.undo.push({ kind: "forward", from: old, to: rule });
    } else {
      if (fm.flags.checkOverlap && t.cls.overlaps(m.mask, m.key, fm.priority, version)) return "OFPFMFC_OVERLAP";
      const limit = t.config.flowLimit;
      if (limit !== null && t.nFlows >= limit) {
        const victim = this.ofp.chooseEviction(t, version);
        if (victim === null) return "OFPFMFC_TABLE_FULL";
        this.hide(t, victim, "eviction", version);
      }
    }
    t.cls.insert(rule.cls, version);
    t.nFlows++;
    this.undo.push({ kind: "insert", table: t, rule });
    return null;
  }

  private modify(fm: OfproFlowMod<A>, version: number, now: number): OfpErrorName | null {
    const bad = this.ofp.checkTable(fm.tableId, fm.flags.noReadonly);
    if (bad !== null) return bad;
    const olds = this.ofp.collect(
      {
        tableId: fm.tableId,
        match: fm.match,
        strict: fm.command === "modify_strict",
        priority: fm.priority,
        cookie: fm.cookie,
        cookieMask: fm.cookieMask,
        outPort: OFPP_ANY,
        outGroup: OFPG_ANY,
      },
      version,
    );
    if (olds.length === 0) {
      if (fm.newCookie !== null && fm.cookieMask === 0n) return this.add(fm, version, now);
      return null;
    }
    const checked = new Set<number>();
    for (const old of olds) {
      if (checked.has(old.tableId)) continue;
      checked.add(old.tableId);
      const e = this.ofp.facts.check?.(fm.actions, old.tableId) ?? null;
      if (e !== null) return e;
    }
    const refs = this.ofp.checkReferences(fm.actions);
    if (refs !== null) return refs;
    for (const old of olds) {
      const t = this.ofp.tables[old.tableId]!;
      const cookie = fm.modifyCookie && fm.newCookie !== null ? fm.newCookie : old.cookie;
      const rule = new OfRule<A>(old.tableId, old.match, old.priority, cookie, old.idleTimeout, old.hardTimeout, old.flags, old.importance, fm.actions, now, this.ofp.facts.conjunctions?.(fm.actions) ?? null);
      rule.created = old.created;
      this.hide(t, old, null, version);
      if (!fm.flags.resetCounts) this.undo.push({ kind: "forward", from: old, to: rule });
      t.cls.insert(rule.cls, version);
      t.nFlows++;
      this.undo.push({ kind: "insert", table: t, rule });
    }
    return null;
  }

  private delete(fm: OfproFlowMod<A>, version: number): OfpErrorName | null {
    const bad = this.ofp.checkTable(fm.tableId, fm.flags.noReadonly);
    if (bad !== null) return bad;
    const reason = fm.deleteReason ?? "delete";
    if (fm.command === "delete" && fm.cookieMask === 0n && fm.outPort === OFPP_ANY && fm.outGroup === OFPG_ANY) {
      // Only the match selects (del-flows, with or without one): the classifier
      // selects and hides in one pass; hidden rules (priority above 65535) stay.
      const tables = fm.tableId === OFPTT_ALL ? this.ofp.tables : [this.ofp.tables[fm.tableId]!];
      // Each rule is marked removed as it is hidden (a rollback unmarks it).
      for (const t of tables) {
        if (t.cls.isEmpty || (fm.tableId === OFPTT_ALL && t.config.readonly)) continue;
        const rules: OfRule<A>[] = [];
        const mark = new RemovalMarker<A>(reason);
        const n = t.cls.hideLoose(fm.match.mask, fm.match.key, version, 0xffff, rules, mark);
        if (n === 0) continue;
        t.nFlows -= n;
        this.undo.push({ kind: "hideMany", table: t, rules, reason, marked: true, nFlowRem: mark.nFlowRem, nExpirable: mark.nExpirable });
      }
      return null;
    }
    const rules = this.ofp.collect(
      {
        tableId: fm.tableId,
        match: fm.match,
        strict: fm.command === "delete_strict",
        priority: fm.priority,
        cookie: fm.cookie,
        cookieMask: fm.cookieMask,
        outPort: fm.outPort,
        outGroup: fm.outGroup,
      },
      version,
    );
    if (rules.length === 0) return null;
    // One record per table (collect returns them table by table).
    const tables = this.ofp.tables;
    let t: OfTable<A> | null = null;
    let run: OfRule<A>[] = [];
    for (const r of rules) {
      if (t === null || r.tableId !== t.id) {
        t = tables[r.tableId]!;
        this.undo.push({ kind: "hideMany", table: t, rules: (run = []), reason, marked: false, nFlowRem: 0, nExpirable: 0 });
      }
      t.cls.makeInvisibleIn(r.cls, version);
      t.nFlows--;
      run.push(r);
    }
    return null;
  }

  private hide(t: OfTable<A>, r: OfRule<A>, reason: RemovedReason | null, version: number): void {
    t.cls.makeInvisibleIn(r.cls, version);
    t.nFlows--;
    this.undo.push({ kind: "hide", table: t, rule: r, reason });
  }

  private unwind(mark: number): void {
    while (this.undo.length > mark) {
      const u = this.undo.pop()!;
      if (u.kind === "insert") {
        u.table.cls.remove(u.rule.cls);
        u.table.nFlows--;
      } else if (u.kind === "hide") {
        u.table.cls.restoreVisibility(u.rule.cls);
        u.table.nFlows++;
      } else if (u.kind === "hideMany") {
        const cls = u.table.cls;
        for (const r of u.rules) {
          cls.restoreVisibility(r.cls);
          if (u.marked) r.markRemoved(null);
        }
        u.table.nFlows += u.rules.length;
      }
    }
  }

  /** Publishes the transaction; returns the rules it deleted or evicted (not those it replaced). */
  commit(): RemovedRule<A>[] {
    if (this.done) throw new Error("transaction already finished");
    this.done = true;
    this.ofp.version = this.working;
    const removed: RemovedRule<A>[] = [];
    const flowRemoved = this.flowRemoved;
    // Hidden rules leave their classifiers in one batch per table (a delete of thousands is then cheap).
    const leaving = new Map<OfTable<A>, OfRule<A>[][]>();
    const leave = (t: OfTable<A>, rules: OfRule<A>[]): void => {
      const lists = leaving.get(t);
      if (lists === undefined) leaving.set(t, [rules]);
      else lists.push(rules);
    };
    for (const u of this.undo) {
      if (u.kind === "forward") {
        // A rule replaced in the same transaction twice forwards along the chain, in order.
        u.to.packetCount += u.from.packetCount;
        u.to.byteCount += u.from.byteCount;
        u.to.used = u.from.used;
      } else if (u.kind === "insert") {
        this.ofp.indexRule(u.rule, true);
        if (u.rule.expirable) u.table.nExpirable++;
        this.ofp.logAdded(u.rule, this.working);
      } else if (u.kind === "hide") {
        // A rule inserted and hidden again in the transaction was indexed just above.
        this.ofp.indexRule(u.rule, false);
        if (u.rule.expirable) u.table.nExpirable--;
        leave(u.table, [u.rule]);
        u.rule.removed = true;
        if (u.reason !== null) {
          u.rule.removedReason = u.reason;
          const x = { rule: u.rule, reason: u.reason };
          removed.push(x);
          if (u.rule.flags.sendFlowRem) flowRemoved.push(x);
        }
      } else if (u.kind === "hideMany") {
        const reason = u.reason;
        leave(u.table, u.rules);
        // The rules report themselves (an OfRule is a RemovedRule): no object per rule.
        if (u.table.nIndexed > 0) for (const r of u.rules) this.ofp.indexRule(r, false);
        if (u.marked) {
          for (const r of u.rules) removed.push(r);
          if (u.nFlowRem > 0) for (const r of u.rules) if (r.flags.sendFlowRem) flowRemoved.push(r);
          u.table.nExpirable -= u.nExpirable;
        } else {
          for (const r of u.rules) {
            r.markRemoved(reason);
            removed.push(r);
            if (r.flags.sendFlowRem) flowRemoved.push(r);
            if (r.expirable) u.table.nExpirable--;
          }
        }
      }
    }
    for (const [t, lists] of leaving) {
      // Every rule hidden in a table is in its lists: a table emptied of its flows drops its subtables whole.
      let n = 0;
      for (const l of lists) n += l.length;
      if (t.cls.removeAllInvisible(n)) continue;
      const cls: ClsRule<OfRule<A>>[] = [];
      for (const l of lists) for (const r of l) cls.push(r.cls);
      t.cls.removeMany(cls);
    }
    for (const u of this.undo) {
      if (u.kind === "insert" || u.kind === "hide") u.table.activeCount = u.table.nFlows;
    }
    for (const t of leaving.keys()) t.activeCount = t.nFlows;
    this.ofp.endTx(this);
    return removed;
  }

  /** Drops every change of the transaction. */
  abort(): void {
    if (this.done) return;
    this.done = true;
    this.unwind(0);
    this.ofp.endTx(this);
  }
}
