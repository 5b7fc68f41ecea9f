/**
 * An in-memory OVSDB database: tables of immutable rows, the RFC 7047
 * "transact" engine (transaction.ts), replay of stored records, and
 * commit listeners for monitors and storage.
 */
import { vlogModule } from "../util/vlog.js";
import type { DatabaseSchema, TableSchema } from "./schema.js";
import { nextVersion, Row, Table } from "./row.js";
import type { Atom, Datum } from "./datum.js";
import { applyDatumDiff, datumFind, datumFromJSON, defaultDatum, emptyDatum } from "./datum.js";
import { BaseType, OvsdbType } from "./types.js";
import type { ColumnSchema } from "./schema.js";
import { compose, diffRefs, indexColumns, indexKey, precommit, primeSchemaCaches, refColumns } from "./transaction.js";

/** True if weak-reference column c of datum d refers to `target`. */
function refersTo(c: ColumnSchema, d: Datum, target: string): boolean {
  if (c.type.key.isWeakRef() && datumFind(d, target) >= 0) return true;
  return c.type.value !== null && c.type.value.isWeakRef() && d.values !== null && d.values.includes(target);
}

const log = vlogModule("ovsdb_transaction");

export type RowChange = { old: Row | null; new: Row | null };
export type ChangeSet = Map<string, Map<string, RowChange>>;

export interface TransactOutcome {
  /** The RFC 7047 result array as ovsdb-server returns it. */
  results: unknown[];
  /** Set when the transaction committed and changed something. */
  changes: ChangeSet | null;
  /** A "commit" op with "durable": true was in the transaction. */
  durable: boolean;
  /** The text of "comment" ops joined with "\n", or undefined. */
  comment: string | undefined;
  /** An unsatisfied "wait": retry after later commits until timeoutMs (Infinity = never) has elapsed. */
  blocked: { timeoutMs: number } | null;
}

export interface TransactOptions {
  /** How long this transaction has already been waiting (for "wait" timeouts). */
  elapsedWaitMs?: number;
  /** Reject operations that write ("not allowed"). */
  readOnly?: boolean;
  /** Locks held by the session (for "assert"). */
  heldLocks?: Set<string>;
}

export type CommitListener = (changes: ChangeSet, outcome: TransactOutcome | null) => void;

/** Column types with all constraints removed, for replaying stored records. */
const relaxedCache = new WeakMap<ColumnSchema, OvsdbType>();
export class Database {
  readonly schema: DatabaseSchema;
  readonly tables: Map<string, Table> = new Map();
  /** @internal Weak references by target uuid: source uuid -> source table. */
  readonly weakIn: Map<string, Map<string, Table>> = new Map();
  private listeners: CommitListener[] = [];

  constructor(schema: DatabaseSchema) {
    this.schema = schema;
    for (const ts of schema.tables.values()) this.tables.set(ts.name, new Table(ts));
    primeSchemaCaches(schema.tables.values());
  }

  transact(ops: unknown, opts: TransactOptions = {}): TransactOutcome {
    try {
      return this.transactUnchecked(ops, opts);
    } catch (e) {
      // A bug must not take the server down: report it like OVS reports its own bugs.
      log.err(`transaction failed with internal error: ${(e as Error).stack ?? String(e)}`);
      const n = Array.isArray(ops) ? ops.length : 0;
      const results: unknown[] = new Array<unknown>(n).fill(null);
      results.push({ error: "internal error", details: String((e as Error).message ?? e) });
      return { results, changes: null, durable: false, comment: undefined, blocked: null };
    }
  }

  private transactUnchecked(ops: unknown, opts: TransactOptions): TransactOutcome {
    const c = compose(this, ops, opts);
    const outcome: TransactOutcome = {
      results: c.results,
      changes: null,
      durable: c.txn?.durable ?? false,
      comment: c.txn !== null && c.txn.comments.length > 0 ? c.txn.comments.join("\n") : undefined,
      blocked: c.blocked,
    };
    if (c.txn === null) return outcome;
    const prepared = precommit(c.txn);
    if (!("changes" in prepared)) {
      outcome.results.push(prepared.toJSON());
      return outcome;
    }
    // Reference counts of rows whose data did not change are updated too.
    for (const [t, m] of prepared.refDelta) {
      for (const [uuid, d] of m) {
        if (d === 0) continue;
        const ch = prepared.changes.get(t.schema.name)?.get(uuid);
        if (ch !== undefined) continue;
        const r = t.rows.get(uuid);
        if (r !== undefined) r.refs += d;
      }
    }
    if (prepared.changes.size === 0) return outcome;
    this.applyChanges(prepared.changes, prepared.refDelta);
    outcome.changes = prepared.changes;
    this.emit(prepared.changes, outcome);
    return outcome;
  }

  /** Installs changed rows, keeping indexes, reference counts and weak-reference maps in step. */
  private applyChanges(changes: ChangeSet, refDelta: Map<Table, Map<string, number>> | null): void {
    for (const [tname, m] of changes) {
      const t = this.tables.get(tname)!;
      const icols = indexColumns(t.schema);
      const weakCols = refColumns(t.schema).weak;
      for (const [uuid, ch] of m) {
        if (ch.old !== null) {
          for (let i = 0; i < icols.length; i++) {
            const k = indexKey(ch.old, icols[i]!);
            if (t.indexMaps[i]!.get(k) === uuid) t.indexMaps[i]!.delete(k);
          }
          if (ch.new === null) {
            if (weakCols.length > 0) this.updateWeakIn(t, ch.old, -1);
            t.rows.delete(uuid);
          }
          // A modified row is replaced in place below (it keeps its place
          // in the table's order): deleting the only row of a table, then
          // adding it back, made V8 shrink and regrow the Map's storage on
          // every commit of a one-row table (bench ovsdb (b)).
        }
      }
      for (const [uuid, ch] of m) {
        if (ch.new !== null) {
          const base = ch.old?.refs ?? 0;
          ch.new.refs = base + (refDelta?.get(t)?.get(uuid) ?? 0);
          t.rows.set(uuid, ch.new);
          for (let i = 0; i < icols.length; i++) t.indexMaps[i]!.set(indexKey(ch.new, icols[i]!), uuid);
          if (weakCols.length > 0) {
            if (ch.old === null) this.updateWeakIn(t, ch.new, 1);
            else this.diffWeakIn(t, ch.old, ch.new);
          }
        }
      }
    }
  }

  /** Updates weak-reference entries for the references a modified row gains or loses. */
  private diffWeakIn(t: Table, old: Row, row: Row): void {
    const weakCols = refColumns(t.schema).weak;
    for (const c of weakCols) {
      diffRefs(c, old.data[c.index]!, row.data[c.index]!, "weak", (_tn, target, sign) => {
        if (sign > 0) {
          let m = this.weakIn.get(target);
          if (m === undefined) this.weakIn.set(target, (m = new Map()));
          m.set(row.uuid, t);
        } else if (!weakCols.some((wc) => refersTo(wc, row.data[wc.index]!, target))) {
          const m = this.weakIn.get(target);
          if (m !== undefined) {
            m.delete(row.uuid);
            if (m.size === 0) this.weakIn.delete(target);
          }
        }
      });
    }
  }

  private updateWeakIn(t: Table, row: Row, sign: 1 | -1): void {
    for (const c of refColumns(t.schema).weak) {
      const d = row.data[c.index]!;
      const visit = (base: BaseType, atoms: Atom[] | null) => {
        if (atoms === null || !base.isWeakRef()) return;
        for (const a of atoms) {
          const target = a as string;
          if (sign > 0) {
            let m = this.weakIn.get(target);
            if (m === undefined) {
              m = new Map();
              this.weakIn.set(target, m);
            }
            m.set(row.uuid, t);
          } else {
            const m = this.weakIn.get(target);
            if (m !== undefined) {
              m.delete(row.uuid);
              if (m.size === 0) this.weakIn.delete(target);
            }
          }
        }
      };
      visit(c.type.key, d.keys);
      if (c.type.value !== null) visit(c.type.value, d.values);
    }
  }

  /**
   * Replays a stored change without constraint checks. Per table, per row
   * uuid: column -> datum JSON (only changed columns for modifications), or
   * null to delete. With `isDiff` (OVS "_is_diff" records), set and map
   * columns whose type allows more than one element are diffs applied to
   * the old value (OVS writes an optional value, max 1, whole).
   */
  applyRecord(record: Record<string, Record<string, Record<string, unknown> | null>>, opts: { isDiff?: boolean } = {}): void {
    const changes: ChangeSet = new Map();
    const refDelta = new Map<Table, Map<string, number>>();
    const addDelta = (tname: string, uuid: string, d: number) => {
      const t = this.tables.get(tname);
      if (t === undefined) return;
      let m = refDelta.get(t);
      if (m === undefined) refDelta.set(t, (m = new Map()));
      m.set(uuid, (m.get(uuid) ?? 0) + d);
    };
    const countRefs = (t: Table, row: Row, sign: number) => {
      for (const c of refColumns(t.schema).strong) {
        const d = row.data[c.index]!;
        const k = c.type.key;
        if (k.isStrongRef()) for (const a of d.keys) addDelta(k.refTable!, a as string, sign);
        const v = c.type.value;
        if (v !== null && v.isStrongRef() && d.values) for (const a of d.values) addDelta(v.refTable!, a as string, sign);
      }
    };
    for (const tname of Object.keys(record)) {
      if (tname.startsWith("_")) continue;
      const t = this.tables.get(tname);
      if (t === undefined) throw new Error(`unknown table ${tname} in record`);
      const rows = record[tname];
      if (rows === null || typeof rows !== "object") continue;
      const cm = new Map<string, RowChange>();
      for (const uuid of Object.keys(rows)) {
        const rj = rows[uuid];
        const old = t.rows.get(uuid) ?? null;
        if (rj === null) {
          if (old !== null) {
            cm.set(uuid, { old, new: null });
            countRefs(t, old, -1);
          }
          continue;
        }
        const data = old !== null ? old.data.slice() : t.schema.columnList.map((c) => defaultDatum(c.type));
        for (const cname of Object.keys(rj)) {
          const c = t.schema.columns.get(cname);
          if (c === undefined || c.index < 0) continue;
          const rt = c.type.unconstrained();
          const d = datumFromJSON(rt, rj[cname]);
          data[c.index] = opts.isDiff && old !== null && c.type.max > 1 ? applyDatumDiff(rt, data[c.index]!, d) : d.keys.length === 0 ? emptyDatum(c.type) : d;
        }
        const row = new Row(t.schema, uuid, nextVersion(), data);
        if (old !== null) countRefs(t, old, -1);
        countRefs(t, row, 1);
        cm.set(uuid, { old, new: row });
      }
      if (cm.size > 0) changes.set(tname, cm);
    }
    if (changes.size === 0) return;
    for (const [t, m] of refDelta) {
      for (const [uuid, d] of m) {
        if (changes.get(t.schema.name)?.has(uuid)) continue;
        const r = t.rows.get(uuid);
        if (r !== undefined) r.refs += d;
      }
    }
    this.applyChanges(changes, refDelta);
    this.emit(changes, null);
  }

  onCommit(listener: CommitListener): () => void {
    this.listeners = [...this.listeners, listener];
    return () => {
      this.listeners = this.listeners.filter((l) => l !== listener);
    };
  }

  private emit(changes: ChangeSet, outcome: TransactOutcome | null): void {
    // onCommit and its unsubscribe replace the array, never change it, so
    // listeners added or removed by a listener do not disturb this loop.
    const listeners = this.listeners;
    for (let i = 0; i < listeners.length; i++) listeners[i]!(changes, outcome);
  }

  /** The table schema by name (convenience). */
  tableSchema(name: string): TableSchema | undefined {
    return this.schema.tables.get(name);
  }
}

