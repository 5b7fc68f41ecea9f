/**
 * The group table of one switch and the semantics of group_mod on it
 * (OpenFlow 1.5 §5.6, as OVS 3.1's ofproto.c and ofproto-dpif implement
 * them).
 *
 * ## Public API (what the connection manager calls)
 * - `new GroupTable<A>(tables | null, options?)`: with an `OfprotoTables`,
 *   flow_mods naming a missing group fail (OFPBAC_BAD_OUT_GROUP), a
 *   group's ref_count counts the rules forwarding to it, and deleting it
 *   deletes them (reason group_delete). Its `ActionFacts.groupsOf` names a
 *   rule's groups; bucket actions are stored as given (type `A`).
 * - `groupMod(gm: GroupMod<A>, now): GroupModResult<A>` —
 *   `{ok: true, removed}` (rules deleted with their groups, for
 *   flow_removed messages) or `{ok: false, error}` (an OpenFlow error name).
 *   The codec's `GroupModBody` is a `GroupMod<OfpAction[]>`.
 * - `descReply(groupId = OFPG_ALL): GroupDescEntry<A>[]` (OFPST_GROUP_DESC
 *   body `{groups}`), `statsReply(groupId, now): GroupStatsEntry[]`
 *   (OFPST_GROUP body `{stats}`; an unknown group gives none, as OVS),
 *   `featuresReply(): GroupFeatures` (OFPST_GROUP_FEATURES body).
 * - Bundles: `begin()` → `GroupTransaction` with `apply(gm, now)`,
 *   `commit()` (returns the rules deleted with groups; after the flow
 *   transaction's commit) and `abort()`.
 * - `hook(now, removed)`: the object `Ofproto.groups` takes (groupMod /
 *   groupStats / exists over decoded message bodies).
 * - Datapath side: `credit(groupId, bucketIndex, packets, bytes)`,
 *   `bucketIsLive` / `firstLiveBucket` / `liveBuckets` for fast failover
 *   and select groups given a port-liveness predicate.
 *
 * ## Semantics (OVS 3.1)
 * - add: OFPGMFC_INVALID_GROUP above OFPG_MAX (0xffffff00), then
 *   OFPGMFC_OUT_OF_GROUPS when the type's limit is reached, then
 *   OFPGMFC_GROUP_EXISTS. add_or_mod (OVS's extension, `--may-create
 *   mod-group`) modifies an existing group, else adds.
 * - modify: OFPGMFC_UNKNOWN_GROUP, then OUT_OF_GROUPS when the type
 *   changes into a full type. The group is replaced: new buckets, type and
 *   properties, counters from zero, creation time and rules kept.
 * - delete: OFPG_ALL deletes every group, any other id the group if it
 *   exists (never an error); the rules forwarding to a deleted group go
 *   with it. Groups chaining to it (bucket `group:N`, `watch_group`) stay:
 *   OVS allows chains and loops and checks neither.
 * - insert_bucket / remove_bucket (OpenFlow 1.5): the group keeps its type
 *   and properties. `command_bucket_id` first / last / a bucket id (insert
 *   after it; OFPGMFC_UNKNOWN_BUCKET if absent); a new bucket whose id is
 *   already in the group is OFPGMFC_BUCKET_EXISTS. remove: first / last /
 *   all / an id (UNKNOWN_BUCKET if absent); first and last of an empty
 *   group are no-ops.
 * - Bucket ids: OpenFlow 1.1–1.4 buckets have none: they are numbered by
 *   position, as OVS does when it decodes them.
 * - The checks OVS makes while decoding a group_mod (type, an indirect
 *   group's single bucket, weights only in select groups, watches only in
 *   fast-failover ones, bucket commands' `command_bucket_id`, duplicate
 *   bucket ids, a selection method other than hash / dp_hash or on a
 *   group that is not select: OFPBPC_BAD_VALUE) are made here too, so a
 *   `GroupMod` built any way gets the answer OVS gives the same message.
 * - No limit on buckets (OVS has none: never OFPGMFC_OUT_OF_BUCKETS), no
 *   OFPGMFC_CHAINING_UNSUPPORTED / LOOP / CHAINED_GROUP (OVS never sends
 *   them). A rule naming one group twice holds two references; OVS 3.1
 *   aborts (assertion in ofproto_rule_remove__) when such a group is
 *   deleted, we delete the rule once.
 *
 * ## Liveness
 * A bucket is live when it watches nothing, or its watch_port is live
 * (OFPP_CONTROLLER never is), or its watch_group has a live bucket; chains
 * deeper than 32 are dead; a select group's weight-0 buckets are never
 * used. (OVS's bucket_is_alive in ofproto-dpif-xlate.)
 *
 * ## Order
 * Replies list groups by id. OVS lists them in its hash map's order, so
 * compare sorted.
 */
import type { OfpErrorName } from "../openflow/ofp-errors.js";
import type { GroupProps } from "../openflow/ofp-group.js";
import { OFPG_ANY } from "./flow-mod.js";
import type { OfRule } from "./rule.js";
import type { RemovedRule, OfprotoTables } from "./tables.js";

export const OFPGT_ALL = 0;
export const OFPGT_SELECT = 1;
export const OFPGT_INDIRECT = 2;
export const OFPGT_FF = 3;

/** Group commands (OFPGC11_*, OFPGC15_*, OVS's add-or-modify). */
export const OFPGC_ADD = 0;
export const OFPGC_MODIFY = 1;
export const OFPGC_DELETE = 2;
export const OFPGC_INSERT_BUCKET = 3;
export const OFPGC_REMOVE_BUCKET = 5;
export const OFPGC_ADD_OR_MOD = 0x8000;

/** Highest group id; OFPG_ALL / OFPG_ANY (flow-mod.ts) are the wildcards. */
export const OFPG_MAX = 0xffffff00;
export const OFPG_ALL = 0xfffffffc;

/** Bucket ids (OpenFlow 1.5). */
export const OFPG15_BUCKET_MAX = 0xffffff00;
export const OFPG15_BUCKET_FIRST = 0xfffffffd;
export const OFPG15_BUCKET_LAST = 0xfffffffe;
export const OFPG15_BUCKET_ALL = 0xffffffff;

/** "No watch port" in OVS's 16-bit port space (OFPP_ANY / OFPP_NONE). */
export const WATCH_PORT_NONE = 0xffff;
const OFPP_CONTROLLER = 0xfffd;
/** How deep liveness follows watch_group chains (OVS's MAX_LIVENESS_RECURSION). */
export const MAX_LIVENESS_RECURSION = 32;

/** One bucket of a group_mod. */
export interface GroupBucket<A> {
  /** OpenFlow 1.5 bucket id; absent (OF1.1–1.4) = numbered by position. */
  bucketId?: number;
  weight: number;
  /** 16-bit port space; WATCH_PORT_NONE (0xffff) = none. */
  watchPort: number;
  /** OFPG_ANY = none. */
  watchGroup: number;
  actions: A;
}

/**
 * A select group's selection method (OpenFlow 1.5 group property, OVS
 * extension), the codec's: stored and reported as given, as OVS does.
 */
export type { GroupProps };

export const NO_GROUP_PROPS: Readonly<GroupProps> = Object.freeze({ selectionMethod: "", selectionMethodParam: 0n, fields: [] });

/** A group_mod as ofproto executes it (the codec's GroupModBody fits). */
export interface GroupMod<A> {
  /** OFPGC_*. */
  command: number;
  /** OFPGT_*. */
  type: number;
  groupId: number;
  buckets: readonly GroupBucket<A>[];
  /** OpenFlow 1.5; absent = OFPG15_BUCKET_ALL. */
  commandBucketId?: number;
  /** OpenFlow 1.5 properties; absent = none. */
  props?: GroupProps;
}

/** A bucket as the group holds it: its id always set, with counters. */
export interface Bucket<A> {
  readonly bucketId: number;
  readonly weight: number;
  readonly watchPort: number;
  readonly watchGroup: number;
  readonly actions: A;
  packetCount: number;
  byteCount: number;
}

export class Group<A> {
  packetCount = 0;
  byteCount = 0;
  constructor(
    readonly groupId: number,
    readonly type: number,
    readonly buckets: readonly Bucket<A>[],
    readonly props: Readonly<GroupProps>,
    /** ms; kept across modifications. */
    readonly created: number,
    readonly modified: number,
  ) {}
}

/** One entry of a group-desc reply (the codec's GroupDesc, plus OF1.5's ids and properties). */
export interface GroupDescEntry<A> {
  groupId: number;
  type: number;
  buckets: { bucketId: number; weight: number; watchPort: number; watchGroup: number; actions: A }[];
  props: GroupProps;
}

/** One entry of a group stats reply (the codec's GroupStats). */
export interface GroupStatsEntry {
  groupId: number;
  refCount: number;
  packetCount: bigint;
  byteCount: bigint;
  durationSec: number;
  durationNsec: number;
  buckets: { packetCount: bigint; byteCount: bigint }[];
}

/** The group features reply body (the codec's GroupFeaturesBody). */
export interface GroupFeatures {
  types: number;
  capabilities: number;
  maxGroups: number[];
  actions: number[];
}

/**
 * What ovs-vswitchd 3.1 reports: all four types; select weight, select
 * liveness and chaining; OFPG_MAX groups of each type; and as actions,
 * every OpenFlow action OVS has (the same bits in OF1.2–1.5: output,
 * set_mpls_ttl..set_field).
 */
export const OVS_GROUP_FEATURES: Readonly<GroupFeatures> = Object.freeze({
  types: 0xf,
  capabilities: 0x7,
  maxGroups: [OFPG_MAX, OFPG_MAX, OFPG_MAX, OFPG_MAX],
  actions: [0x3ff8001, 0x3ff8001, 0x3ff8001, 0x3ff8001],
});

export type GroupModResult<A> = { ok: true; removed: RemovedRule<A>[] } | { ok: false; error: OfpErrorName };

export interface GroupTableOptions {
  /** Per-type group limits (all, select, indirect, ff); default OFPG_MAX each. */
  maxGroups?: readonly number[];
}

const hasLiveness = (b: { watchPort: number; watchGroup: number }): boolean => b.watchPort !== WATCH_PORT_NONE || b.watchGroup !== OFPG_ANY;

/** A duration in ms as OpenFlow's seconds + nanoseconds. */
function secNsec(ms: number): { sec: number; nsec: number } {
  const m = Math.max(0, Math.floor(ms));
  return { sec: Math.floor(m / 1000), nsec: (m % 1000) * 1_000_000 };
}

/**
 * The checks OVS makes while decoding a group_mod (ofp-group.c), in its
 * order; null when the group_mod is well formed.
 */
export function checkGroupMod<A>(gm: GroupMod<A>): OfpErrorName | null {
  // Only OpenFlow 1.5's group_mod names a command bucket; the older forms
  // (no commandBucketId) take insert/remove-bucket commands without it.
  const cbid = gm.commandBucketId ?? OFPG15_BUCKET_ALL;
  switch (gm.commandBucketId === undefined ? -1 : gm.command) {
    case -1:
      break;
    case OFPGC_REMOVE_BUCKET:
      if (cbid !== OFPG15_BUCKET_ALL && cbid > OFPG15_BUCKET_MAX && cbid !== OFPG15_BUCKET_FIRST && cbid !== OFPG15_BUCKET_LAST) return "OFPGMFC_BAD_COMMAND";
      break;
    case OFPGC_INSERT_BUCKET:
      if (cbid > OFPG15_BUCKET_MAX && cbid !== OFPG15_BUCKET_FIRST && cbid !== OFPG15_BUCKET_LAST) return "OFPGMFC_BAD_COMMAND";
      break;
    default:
      if (cbid !== OFPG15_BUCKET_ALL) return "OFPGMFC_BAD_COMMAND";
  }
  const ids = new Set<number>();
  for (const [i, b] of gm.buckets.entries()) {
    const id = b.bucketId ?? i;
    if (id > OFPG15_BUCKET_MAX) return "OFPGMFC_BAD_BUCKET";
    if (ids.has(id)) return "OFPGMFC_BAD_BUCKET";
    ids.add(id);
  }
  const method = gm.props?.selectionMethod ?? "";
  if (method !== "" && (gm.type !== OFPGT_SELECT || (method !== "hash" && method !== "dp_hash"))) return "OFPBPC_BAD_VALUE";
  if (gm.type > OFPGT_FF) return "OFPGMFC_BAD_TYPE";
  if (gm.type === OFPGT_INDIRECT && gm.command !== OFPGC_DELETE && gm.command !== OFPGC_INSERT_BUCKET && gm.buckets.length !== 1) return "OFPGMFC_INVALID_GROUP";
  switch (gm.command) {
    case OFPGC_ADD:
    case OFPGC_MODIFY:
    case OFPGC_ADD_OR_MOD:
    case OFPGC_DELETE:
    case OFPGC_INSERT_BUCKET:
      break;
    case OFPGC_REMOVE_BUCKET:
      if (gm.buckets.length > 0) return "OFPGMFC_BAD_BUCKET";
      break;
    default:
      return "OFPGMFC_BAD_COMMAND";
  }
  for (const b of gm.buckets) {
    if (b.weight !== 0 && gm.type !== OFPGT_SELECT) return "OFPGMFC_INVALID_GROUP";
    if ((gm.type === OFPGT_ALL || gm.type === OFPGT_INDIRECT) && hasLiveness(b)) return "OFPGMFC_WATCH_UNSUPPORTED";
    if (gm.type === OFPGT_FF && !hasLiveness(b)) return "OFPGMFC_INVALID_GROUP";
  }
  return null;
}

export class GroupTable<A> {
  private readonly groups = new Map<number, Group<A>>();
  /** Groups of each type, for the per-type limits. */
  private readonly nByType = [0, 0, 0, 0];
  readonly features: GroupFeatures;

  constructor(
    private readonly tables: OfprotoTables<A> | null = null,
    options: GroupTableOptions = {},
  ) {
    this.features = { ...OVS_GROUP_FEATURES, maxGroups: [...(options.maxGroups ?? OVS_GROUP_FEATURES.maxGroups)], actions: [...OVS_GROUP_FEATURES.actions] };
    if (tables !== null) tables.groups = this;
  }

  get size(): number {
    return this.groups.size;
  }

  has(groupId: number): boolean {
    return this.groups.has(groupId);
  }

  get(groupId: number): Group<A> | undefined {
    return this.groups.get(groupId);
  }

  /** Every group, by id. */
  all(): Group<A>[] {
    return [...this.groups.values()].sort((a, b) => a.groupId - b.groupId);
  }

  // ---- group_mod ----

  /** Executes one group_mod at time `now` (ms). */
  groupMod(gm: GroupMod<A>, now: number): GroupModResult<A> {
    const bad = checkGroupMod(gm);
    if (bad !== null) return { ok: false, error: bad };
    let error: OfpErrorName | null;
    switch (gm.command) {
      case OFPGC_ADD:
        error = this.add(gm, now);
        break;
      case OFPGC_ADD_OR_MOD:
        error = this.groups.has(gm.groupId) ? this.modify(gm, now) : this.add(gm, now);
        break;
      case OFPGC_MODIFY:
      case OFPGC_INSERT_BUCKET:
      case OFPGC_REMOVE_BUCKET:
        error = this.modify(gm, now);
        break;
      case OFPGC_DELETE:
        return { ok: true, removed: this.delete(gm.groupId) };
      default:
        error = "OFPGMFC_BAD_COMMAND";
    }
    return error === null ? { ok: true, removed: [] } : { ok: false, error };
  }

  private newBuckets(gm: GroupMod<A>): Bucket<A>[] {
    return gm.buckets.map((b, i) => ({
      bucketId: b.bucketId ?? i,
      weight: b.weight,
      watchPort: b.watchPort,
      watchGroup: b.watchGroup,
      actions: b.actions,
      packetCount: 0,
      byteCount: 0,
    }));
  }

  private add(gm: GroupMod<A>, now: number): OfpErrorName | null {
    if (gm.groupId > OFPG_MAX) return "OFPGMFC_INVALID_GROUP";
    if (this.nByType[gm.type]! >= this.features.maxGroups[gm.type]!) return "OFPGMFC_OUT_OF_GROUPS";
    if (this.groups.has(gm.groupId)) return "OFPGMFC_GROUP_EXISTS";
    const g = new Group<A>(gm.groupId, gm.type, this.newBuckets(gm), { ...(gm.props ?? NO_GROUP_PROPS) }, now, now);
    this.groups.set(g.groupId, g);
    this.nByType[g.type]!++;
    return null;
  }

  private modify(gm: GroupMod<A>, now: number): OfpErrorName | null {
    const old = this.groups.get(gm.groupId);
    if (old === undefined) return "OFPGMFC_UNKNOWN_GROUP";
    const bucketCommand = gm.command === OFPGC_INSERT_BUCKET || gm.command === OFPGC_REMOVE_BUCKET;
    // Bucket commands change only the buckets (EXT-570).
    const type = bucketCommand ? old.type : gm.type;
    const props = bucketCommand ? old.props : (gm.props ?? NO_GROUP_PROPS);
    if (old.type !== type && this.nByType[type]! >= this.features.maxGroups[type]!) return "OFPGMFC_OUT_OF_GROUPS";
    if (gm.groupId > OFPG_MAX) return "OFPGMFC_INVALID_GROUP";
    let buckets = this.newBuckets(gm);
    const cbid = gm.commandBucketId ?? OFPG15_BUCKET_ALL;
    const copy = (b: Bucket<A>): Bucket<A> => ({ ...b, packetCount: 0, byteCount: 0 });
    if (gm.command === OFPGC_INSERT_BUCKET) {
      if (cbid <= OFPG15_BUCKET_MAX && !old.buckets.some((b) => b.bucketId === cbid)) return "OFPGMFC_UNKNOWN_BUCKET";
      const ids = new Set(old.buckets.map((b) => b.bucketId));
      if (buckets.some((b) => ids.has(b.bucketId))) return "OFPGMFC_BUCKET_EXISTS";
      const olds = old.buckets.map(copy);
      if (cbid === OFPG15_BUCKET_LAST) buckets = [...olds, ...buckets];
      else if (cbid === OFPG15_BUCKET_FIRST) buckets = [...buckets, ...olds];
      else {
        const at = olds.findIndex((b) => b.bucketId === cbid) + 1;
        buckets = [...olds.slice(0, at), ...buckets, ...olds.slice(at)];
      }
    } else if (gm.command === OFPGC_REMOVE_BUCKET) {
      let skip: number;
      if (cbid === OFPG15_BUCKET_ALL) skip = -2;
      else if (cbid === OFPG15_BUCKET_FIRST) skip = 0;
      else if (cbid === OFPG15_BUCKET_LAST) skip = old.buckets.length - 1;
      else {
        skip = old.buckets.findIndex((b) => b.bucketId === cbid);
        if (skip < 0) return "OFPGMFC_UNKNOWN_BUCKET";
      }
      buckets = skip === -2 ? [] : old.buckets.filter((_, i) => i !== skip).map(copy);
    }
    const g = new Group<A>(old.groupId, type, buckets, { ...props }, old.created, now);
    this.groups.set(g.groupId, g);
    this.nByType[old.type]!--;
    this.nByType[type]!++;
    return null;
  }

  /** Deletes one group (or all, OFPG_ALL) and the rules forwarding to it. */
  private delete(groupId: number): RemovedRule<A>[] {
    const doomed = new Set<number>();
    if (groupId === OFPG_ALL) for (const id of this.groups.keys()) doomed.add(id);
    else if (this.groups.has(groupId)) doomed.add(groupId);
    if (doomed.size === 0) return [];
    for (const id of doomed) {
      this.nByType[this.groups.get(id)!.type]!--;
      this.groups.delete(id);
    }
    if (this.tx !== null) {
      // Inside a bundle the rules go at commit, after the flow table's transaction.
      for (const id of doomed) this.tx.deleted.add(id);
      return [];
    }
    return this.deleteRules(doomed);
  }

  private deleteRules(doomed: ReadonlySet<number>): RemovedRule<A>[] {
    const t = this.tables;
    if (t === null || t.facts.groupsOf === undefined) return [];
    const rules = new Set<OfRule<A>>();
    for (const id of doomed) for (const r of t.rulesOfGroup(id)) rules.add(r);
    return t.deleteRules(rules, "group_delete");
  }

  // ---- bundles ----

  private tx: GroupTransaction<A> | null = null;

  /**
   * Starts a bundle's group changes: `apply` executes group_mods at once
   * (so later flow_mods of the bundle see them), `abort` restores the
   * groups as they were, `commit` keeps them and deletes the rules of the
   * groups deleted (call it after the flow table's transaction committed,
   * which must be closed by then). One at a time.
   */
  begin(): GroupTransaction<A> {
    if (this.tx !== null) throw new Error("a group transaction is open");
    this.tx = new GroupTransaction<A>(this, new Map(this.groups), [...this.nByType]);
    return this.tx;
  }

  /** @internal */
  endTx(tx: GroupTransaction<A>, restore: boolean): RemovedRule<A>[] {
    if (this.tx !== tx) throw new Error("transaction already finished");
    this.tx = null;
    if (restore) {
      this.groups.clear();
      for (const [k, v] of tx.savedGroups) this.groups.set(k, v);
      for (let i = 0; i < 4; i++) this.nByType[i] = tx.savedCounts[i]!;
      return [];
    }
    // A group deleted and added again in the bundle keeps the rules that name it.
    const doomed = new Set([...tx.deleted].filter((id) => !this.groups.has(id)));
    return doomed.size === 0 ? [] : this.deleteRules(doomed);
  }

  // ---- replies ----

  /** The group-desc reply entries for `groupId` (OFPG_ALL = every group), by id. */
  descReply(groupId: number = OFPG_ALL): GroupDescEntry<A>[] {
    return this.select(groupId).map((g) => ({
      groupId: g.groupId,
      type: g.type,
      buckets: g.buckets.map((b) => ({ bucketId: b.bucketId, weight: b.weight, watchPort: b.watchPort, watchGroup: b.watchGroup, actions: b.actions })),
      props: { ...g.props },
    }));
  }

  /** The group stats reply entries for `groupId` (OFPG_ALL = every group; unknown = none), by id. */
  statsReply(groupId: number, now: number): GroupStatsEntry[] {
    const groups = this.select(groupId);
    if (groups.length === 0) return [];
    return groups.map((g) => {
      const d = secNsec(now - g.created);
      return {
        groupId: g.groupId,
        refCount: this.refCount(g.groupId),
        packetCount: BigInt(g.packetCount),
        byteCount: BigInt(g.byteCount),
        durationSec: d.sec,
        durationNsec: d.nsec,
        buckets: g.buckets.map((b) => ({ packetCount: BigInt(b.packetCount), byteCount: BigInt(b.byteCount) })),
      };
    });
  }

  /** The group features reply body. */
  featuresReply(): GroupFeatures {
    return { ...this.features, maxGroups: [...this.features.maxGroups], actions: [...this.features.actions] };
  }

  private select(groupId: number): Group<A>[] {
    if (groupId === OFPG_ALL) return this.all();
    const g = this.groups.get(groupId);
    return g === undefined ? [] : [g];
  }

  /** How many references published rules hold to each group (OVS's ref_count: one per group action). */
  refCounts(): Map<number, number> {
    const out = new Map<number, number>();
    const t = this.tables;
    if (t === null || t.facts.groupsOf === undefined) return out;
    for (const id of this.groups.keys()) out.set(id, this.refCount(id));
    return out;
  }

  /** How many references published rules hold to group `groupId`. */
  refCount(groupId: number): number {
    const t = this.tables;
    if (t === null) return 0;
    let n = 0;
    for (const r of t.rulesOfGroup(groupId)) for (const g of r.groupRefs ?? []) if (g === groupId) n++;
    return n;
  }

  // ---- the switch's hook ----

  /**
   * What `Ofproto.groups` takes (its GroupHook): group_mods from decoded
   * OFPT_GROUP_MOD bodies (any version: 1.1-1.4 bodies have no bucket
   * ids), group stats and desc requests (`{groupId}` bodies) answered with
   * reply bodies; the rules a group delete removes go to `removed` (for
   * flow_removed messages).
   */
  hook(now: () => number, removed: (rules: RemovedRule<A>[]) => void) {
    return {
      groupMod: (body: unknown, _version: number, _conn: unknown): OfpErrorName | null => {
        const r = this.groupMod(body as GroupMod<A>, now());
        if (!r.ok) return r.error;
        if (r.removed.length > 0) removed(r.removed);
        return null;
      },
      groupStats: (type: string, body: unknown, _version: number): unknown => {
        const groupId = (body as { groupId?: number } | null)?.groupId ?? OFPG_ALL;
        if (type === "OFPST_GROUP_REQUEST") return { stats: this.statsReply(groupId, now()) };
        if (type === "OFPST_GROUP_FEATURES_REQUEST") return this.featuresReply();
        return { groups: this.descReply(groupId) };
      },
      exists: (groupId: number): boolean => this.has(groupId),
    };
  }

  // ---- datapath side ----

  /** Counts packets through a group and (when >= 0) one of its buckets (by position). */
  credit(groupId: number, bucketIndex: number, packets: number, bytes: number): void {
    const g = this.groups.get(groupId);
    if (g === undefined) return;
    g.packetCount += packets;
    g.byteCount += bytes;
    const b = g.buckets[bucketIndex];
    if (b !== undefined) {
      b.packetCount += packets;
      b.byteCount += bytes;
    }
  }

  /** Whether `bucket` of `group` may be used, given which ports are live. */
  bucketIsLive(group: Group<A>, bucket: Bucket<A>, portIsLive: (port: number) => boolean, depth = 0): boolean {
    if (depth >= MAX_LIVENESS_RECURSION) return false;
    if (group.type === OFPGT_SELECT && bucket.weight === 0) return false;
    if (!hasLiveness(bucket)) return true;
    if (bucket.watchPort !== WATCH_PORT_NONE && bucket.watchPort !== OFPP_CONTROLLER && portIsLive(bucket.watchPort)) return true;
    if (bucket.watchGroup !== OFPG_ANY) {
      const w = this.groups.get(bucket.watchGroup);
      if (w !== undefined && this.groupIsLive(w, portIsLive, depth + 1)) return true;
    }
    return false;
  }

  /** Whether some bucket of `group` is live. */
  groupIsLive(group: Group<A>, portIsLive: (port: number) => boolean, depth = 0): boolean {
    return group.buckets.some((b) => this.bucketIsLive(group, b, portIsLive, depth));
  }

  /** The bucket a fast-failover group uses: its first live one (null = drop). */
  firstLiveBucket(groupId: number, portIsLive: (port: number) => boolean): Bucket<A> | null {
    const g = this.groups.get(groupId);
    if (g === undefined) return null;
    for (const b of g.buckets) if (this.bucketIsLive(g, b, portIsLive)) return b;
    return null;
  }

  /** The buckets a select group chooses among (live, weight > 0). */
  liveBuckets(groupId: number, portIsLive: (port: number) => boolean): Bucket<A>[] {
    const g = this.groups.get(groupId);
    if (g === undefined) return [];
    return g.buckets.filter((b) => this.bucketIsLive(g, b, portIsLive));
  }
}

/** A bundle's group changes (`GroupTable.begin`). */
export class GroupTransaction<A> {
  /** Groups deleted in the transaction (their rules go at commit). */
  readonly deleted = new Set<number>();

  constructor(
    private readonly table: GroupTable<A>,
    /** @internal */ readonly savedGroups: ReadonlyMap<number, Group<A>>,
    /** @internal */ readonly savedCounts: readonly number[],
  ) {}

  /** Executes one group_mod of the bundle; on error nothing of it remains (abort to drop the others). */
  apply(gm: GroupMod<A>, now: number): OfpErrorName | null {
    const r = this.table.groupMod(gm, now);
    return r.ok ? null : r.error;
  }

  /** Keeps the changes; returns the rules deleted with deleted groups. */
  commit(): RemovedRule<A>[] {
    return this.table.endTx(this, false);
  }

  /** Restores the groups as they were at `begin`. */
  abort(): void {
    this.table.endTx(this, true);
  }
}
