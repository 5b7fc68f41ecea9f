/**
 * A small OVSDB IDL for ovs-vsctl: a replica of the database kept up to date
 * by `monitor`, plus one transaction at a time layered on top of it.
 *
 * Reads during a transaction see the transaction's own writes, inserts and
 * deletes, as OVS's IDL does. `commit` turns the transaction into one
 * `transact` request the way ovsdb-idl does:
 *   - inserts use `uuid-name`s and references to new rows become `named-uuid`s;
 *   - updates carry only the columns whose value really changed;
 *   - deletes are sent only for root tables (other rows are garbage-collected
 *     by the server once nothing refers to them);
 *   - with nothing to change the transaction is "unchanged" and not sent;
 *   - an optional `next_cfg` increment, a dry-run `abort` and a `comment`.
 *
 * Row iteration order replays OVS's hash maps (hmap-order.ts), so `list`
 * without arguments prints rows in the order the real ovs-vsctl does.
 */
import { JsonRpcError, type JsonRpcConnection } from "../jsonrpc/index.js";
import { OvsdbType } from "../ovsdb/types.js";
import {
  datumFromJson,
  datumToJson,
  dataEqual,
  defaultDatum,
  randomUuid,
  compareAtoms,
  sortDatum,
  type TextDatum,
} from "../ovsdb/datum-text.js";
import type { Json } from "../util/table-format.js";
import { HmapSim, shashOrder, uuidHash } from "../ovsdb/hash-order.js";

export interface ColumnSchema {
  name: string;
  type: OvsdbType;
  mutable: boolean;
}

export interface TableSchema {
  name: string;
  /** Columns in schema order of names (sorted), without _uuid/_version. */
  columns: ColumnSchema[];
  byName: Map<string, ColumnSchema>;
  isRoot: boolean;
}

export interface DbSchema {
  name: string;
  version: string;
  tables: TableSchema[];
  byName: Map<string, TableSchema>;
}

export function schemaFromJson(json: unknown): DbSchema {
  const j = json as { name: string; version?: string; tables: Record<string, { columns: Record<string, { type: unknown; mutable?: boolean }>; isRoot?: boolean }> };
  const tables: TableSchema[] = [];
  for (const tname of Object.keys(j.tables).sort()) {
    const t = j.tables[tname]!;
    const columns: ColumnSchema[] = Object.keys(t.columns)
      .sort()
      .map((c) => ({ name: c, type: OvsdbType.fromJSON(t.columns[c]!.type), mutable: t.columns[c]!.mutable !== false }));
    tables.push({ name: tname, columns, byName: new Map(columns.map((c) => [c.name, c])), isRoot: t.isRoot === true });
  }
  return { name: j.name, version: j.version ?? "", tables, byName: new Map(tables.map((t) => [t.name, t])) };
}

export class IdlRow {
  /** Committed contents; null for a row inserted by the transaction. */
  old: Map<string, TextDatum> | null;
  /** Contents as the transaction sees them; null once deleted. */
  cur: Map<string, TextDatum> | null;
  readonly written = new Set<string>();
  /** Columns the transaction read before writing: checked by `wait` ops at commit (OVS's verify). */
  readonly verified = new Set<string>();
  /** Partial set/map updates sent as `mutate` operations (OVS's partial map/set writes). */
  mutations: { column: string; op: "insert" | "delete"; datum: TextDatum; type: OvsdbType }[] = [];
  constructor(
    readonly uuid: string,
    readonly table: TableSchema,
    old: Map<string, TextDatum> | null,
  ) {
    this.old = old;
    this.cur = old;
  }
  get inserted(): boolean {
    return this.old === null;
  }
}

class TableReplica {
  rows = new Map<string, IdlRow>();
  /** OVS hmap order of this table's rows (and of placeholder rows the IDL would create). */
  order = new HmapSim<string>(uuidHash);
  constructor(readonly schema: TableSchema) {}
}

const ZERO_UUID = "00000000-0000-0000-0000-000000000000";

/** Applies an update2 "modify" diff to a set or map: toggles elements, replaces changed map values. */
function applyDiff(old: TextDatum, diff: TextDatum): TextDatum {
  const keys = [...old.keys];
  const values = old.values ? [...old.values] : null;
  diff.keys.forEach((k, i) => {
    const j = keys.findIndex((x) => compareAtoms(x, k) === 0);
    if (j < 0) {
      keys.push(k);
      if (values) values.push(diff.values![i]!);
    } else if (values && compareAtoms(values[j]!, diff.values![i]!) !== 0) {
      values[j] = diff.values![i]!;
    } else {
      keys.splice(j, 1);
      if (values) values.splice(j, 1);
    }
  });
  const d: TextDatum = { keys, values };
  sortDatum(d);
  return d;
}

export type TxnStatus = "unchanged" | "success" | "error" | "try-again";

export interface CommitResult {
  status: TxnStatus;
  /** OVS's error text (the failing result object as sorted JSON). */
  error?: Json;
  /** New value of Open_vSwitch.next_cfg when incremented. */
  nextCfg?: number;
  /** Temporary uuid → permanent uuid for inserted rows. */
  inserted: Map<string, string>;
}

export class Idl {
  readonly tables = new Map<string, TableReplica>();
  /**
   * While true, reading a committed column marks it for verification, so a
   * concurrent change makes the commit fail with "try-again" instead of
   * overwriting it (ovs-vsctl then re-runs its commands on fresh data).
   */
  verifyReads = false;
  /** Bumped on every change received from the server. */
  changeSeqno = 0;
  private waiters: (() => void)[] = [];

  constructor(
    readonly schema: DbSchema,
    readonly conn: JsonRpcConnection,
  ) {
    for (const t of schema.tables) this.tables.set(t.name, new TableReplica(t));
    conn.on("notify", (method, params) => {
      if ((method === "update" || method === "update2" || method === "update3") && Array.isArray(params)) {
        this.applyUpdates(params[method === "update3" ? 2 : 1]);
        this.changeSeqno++;
        const w = this.waiters;
        this.waiters = [];
        for (const f of w) f();
      }
    });
  }

  /**
   * Starts monitoring every table and column; resolves with the initial
   * contents loaded. `realMonitor` is what the real ovs-vsctl would monitor
   * for the same command line, used to reproduce its row order.
   */
  async monitorAll(realMonitor?: Map<string, Set<string>>): Promise<void> {
    const req: Record<string, { columns: string[] }> = {};
    for (const t of this.schema.tables) req[t.name] = { columns: t.columns.map((c) => c.name) };
    let initial: unknown;
    try {
      // OVS's IDL uses monitor_cond_since; its reply lists rows in the order the IDL sees them.
      const condReq = Object.fromEntries(Object.entries(req).map(([k, v]) => [k, [v]]));
      const r = (await this.conn.request("monitor_cond_since", [this.schema.name, "tsovs-vsctl", condReq, ZERO_UUID])) as unknown[];
      initial = r[2];
    } catch (e) {
      if (!(e instanceof JsonRpcError)) throw e;
      initial = await this.conn.request("monitor", [this.schema.name, "tsovs-vsctl", req]);
    }
    if (realMonitor) this.simulateInitialOrder(initial as Record<string, Record<string, Record<string, Record<string, unknown>>>>, realMonitor);
    this.applyUpdates(initial);
    this.changeSeqno++;
  }

  /**
   * Replays how OVS's IDL would have inserted the initial rows into its
   * per-table hash maps: tables and rows in the iteration order of the
   * reply's JSON objects, each row's reference columns (only the monitored
   * ones carry data; others hold their defaults) creating placeholder rows
   * for referenced uuids not yet seen.
   */
  private simulateInitialOrder(initial: Record<string, Record<string, Record<string, Record<string, unknown>>>>, mon: Map<string, Set<string>>): void {
    // The table-name objects pass through five OVS string hash maps between
    // the IDL's request (schema order) and the IDL's processing of the reply.
    const requested = this.schema.tables.map((t) => t.name).filter((n) => mon.has(n));
    let order = shashOrder(shashOrder(shashOrder(requested)));
    order = order.filter((n) => initial[n] && Object.keys(initial[n]!).length > 0);
    order = shashOrder(shashOrder(order));
    for (const tname of order) {
      const t = this.tables.get(tname);
      if (!t) continue;
      const cols = mon.get(tname)!;
      for (const uuid of shashOrder(Object.keys(initial[tname]!))) {
        if (!t.order.has(uuid)) t.order.insert(uuid);
        const change = initial[tname]![uuid]!;
        const rowJson = change["new"] ?? change["initial"] ?? {};
        for (const c of t.schema.columns) {
          const type = c.type;
          const keyRef = type.key.type === "uuid" ? type.key.refTable : undefined;
          const valueRef = type.value?.type === "uuid" ? type.value.refTable : undefined;
          if (keyRef === undefined && valueRef === undefined) continue;
          const d = cols.has(c.name) && c.name in rowJson ? datumFromJson(rowJson[c.name], type) : defaultDatum(type);
          d.keys.forEach((k, i) => {
            if (keyRef !== undefined) this.placeholder(keyRef, k as string);
            if (valueRef !== undefined && d.values) this.placeholder(valueRef, d.values[i] as string);
          });
        }
      }
    }
  }

  private placeholder(table: string, uuid: string): void {
    const t = this.tables.get(table);
    if (t && !t.order.has(uuid)) t.order.insert(uuid);
  }

  /** Resolves when the next update arrives (or the connection closes). */
  nextChange(): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push(resolve);
      this.conn.once("close", () => resolve());
    });
  }

  /**
   * Applies table updates: `monitor`'s {old,new} format, or `update2`'s
   * {initial|insert|modify|delete} format where "modify" carries, for set
   * and map columns, the elements that changed (added or removed).
   */
  private applyUpdates(updates: unknown): void {
    if (!updates || typeof updates !== "object") return;
    type Change = { new?: Record<string, unknown>; old?: unknown; initial?: Record<string, unknown>; insert?: Record<string, unknown>; modify?: Record<string, unknown>; delete?: unknown };
    for (const [tname, rows] of Object.entries(updates as Record<string, Record<string, Change>>)) {
      const t = this.tables.get(tname);
      if (!t) continue;
      for (const [uuid, change] of Object.entries(rows)) {
        const full = change.new ?? change.initial ?? change.insert;
        if (!full && !change.modify) {
          t.rows.delete(uuid);
          t.order.remove(uuid);
          continue;
        }
        let row = t.rows.get(uuid);
        const data = new Map<string, TextDatum>(row?.old ?? []);
        for (const c of t.schema.columns) {
          if (full) {
            if (c.name in full) data.set(c.name, datumFromJson(full[c.name], c.type));
            else if (change.new === undefined) data.delete(c.name);
          } else if (change.modify && c.name in change.modify) {
            const diff = datumFromJson(change.modify[c.name], c.type);
            data.set(c.name, c.type.max > 1 || c.type.value ? applyDiff(data.get(c.name) ?? defaultDatum(c.type), diff) : diff);
          }
        }
        if (!row) {
          row = new IdlRow(uuid, t.schema, data);
          t.rows.set(uuid, row);
          if (!t.order.has(uuid)) t.order.insert(uuid);
        } else {
          row.old = data;
          row.cur = data;
        }
      }
    }
  }


  // -------------------------------------------------------------------------
  // Reading (sees the current transaction).

  table(name: string): TableReplica {
    const t = this.tables.get(name);
    if (!t) throw new Error(`table ${name} not in schema`);
    return t;
  }

  /** Live rows of `table` in OVS hash-map iteration order. */
  rows(table: string): IdlRow[] {
    const t = this.table(table);
    const out: IdlRow[] = [];
    for (const uuid of t.order) {
      const r = t.rows.get(uuid);
      if (r && r.cur !== null) out.push(r);
    }
    return out;
  }

  first(table: string): IdlRow | undefined {
    return this.rows(table)[0];
  }

  get(table: string, uuid: string): IdlRow | undefined {
    const r = this.table(table).rows.get(uuid);
    return r && r.cur !== null ? r : undefined;
  }

  read(row: IdlRow, column: string): TextDatum {
    const c = row.table.byName.get(column)!;
    if (this.verifyReads && row.old !== null && row.cur !== null && !row.written.has(column)) row.verified.add(column);
    return row.cur?.get(column) ?? row.old?.get(column) ?? defaultDatum(c.type);
  }

  /** Reads a string scalar column ("" when empty). */
  readString(row: IdlRow, column: string): string {
    const d = this.read(row, column);
    return d.keys.length ? String(d.keys[0]) : "";
  }

  readUuids(row: IdlRow, column: string): string[] {
    return this.read(row, column).keys as string[];
  }

  // -------------------------------------------------------------------------
  // Writing.

  insert(table: string, uuid?: string): IdlRow {
    const t = this.table(table);
    const row = new IdlRow(uuid ?? randomUuid(), t.schema, null);
    row.cur = new Map();
    t.rows.set(row.uuid, row);
    t.order.insert(row.uuid);
    return row;
  }

  write(row: IdlRow, column: string, d: TextDatum): void {
    if (row.cur === null) return;
    if (row.cur === row.old) row.cur = new Map(row.old ?? []);
    row.cur.set(column, d);
    row.written.add(column);
  }

  /**
   * Records a partial update of a set or map column: `insert` adds elements
   * (or pairs), `delete` removes elements, keys (a set of keys) or pairs.
   */
  mutate(row: IdlRow, column: string, op: "insert" | "delete", datum: TextDatum, type: OvsdbType): void {
    if (row.cur === null) return;
    row.mutations.push({ column, op, datum, type });
  }

  delete(row: IdlRow): void {
    if (row.inserted) {
      const t = this.table(row.table.name);
      t.rows.delete(row.uuid);
      t.order.remove(row.uuid);
      return;
    }
    row.cur = null;
  }

  /** Throws away the transaction's changes. */
  abort(): void {
    for (const t of this.tables.values()) {
      for (const [uuid, r] of t.rows) {
        if (r.inserted) {
          t.rows.delete(uuid);
          t.order.remove(uuid);
        } else {
          r.cur = r.old;
          r.written.clear();
          r.verified.clear();
          r.mutations = [];
        }
      }
    }
  }

  private changedRows(): IdlRow[] {
    const out: IdlRow[] = [];
    for (const t of this.tables.values()) for (const r of t.rows.values()) if (r.inserted || r.cur !== r.old || r.mutations.length) out.push(r);
    return out;
  }

  /**
   * Sends the transaction. `increment` names the Open_vSwitch row whose
   * next_cfg to bump; `comment` is recorded in the database log.
   */
  async commit(opts: { increment?: IdlRow; dryRun: boolean; comment: string }): Promise<CommitResult> {
    const ops: Json[] = [];
    const inserted = new Map<string, string>();
    const newRows = new Set<string>();
    for (const t of this.tables.values()) for (const r of t.rows.values()) if (r.inserted) newRows.add(r.uuid);
    const rowName = (u: string): string => "row" + u.replace(/-/g, "_");
    const toJson = (d: TextDatum, type: OvsdbType, forceSet = false): Json => {
      let j = datumToJson(d, type);
      if (forceSet && !type.value && !(Array.isArray(j) && j[0] === "set")) j = ["set", [j]];
      if (type.key.type !== "uuid" && type.value?.type !== "uuid") return j;
      const fix = (x: Json): Json => {
        if (Array.isArray(x)) {
          if (x.length === 2 && x[0] === "uuid" && typeof x[1] === "string" && newRows.has(x[1])) return ["named-uuid", rowName(x[1])];
          return x.map(fix);
        }
        return x;
      };
      return fix(j);
    };
    let anyUpdates = false;
    const insertIndex = new Map<number, string>();
    for (const r of this.changedRows()) {
      const where: Json = [["_uuid", "==", ["uuid", r.uuid]]];
      if (r.cur === null) {
        if (r.table.isRoot) {
          ops.push({ op: "delete", table: r.table.name, where });
          anyUpdates = true;
        }
        continue;
      }
      const rowJson: Record<string, Json> = {};
      for (const c of r.table.columns) {
        if (!r.written.has(c.name)) continue;
        const d = r.cur.get(c.name)!;
        if (r.old && dataEqual(d, r.old.get(c.name) ?? defaultDatum(c.type))) continue;
        rowJson[c.name] = toJson(d, c.type);
      }
      if (r.inserted) {
        insertIndex.set(ops.length, r.uuid);
        ops.push({ op: "insert", table: r.table.name, row: rowJson, "uuid-name": rowName(r.uuid) });
        anyUpdates = true;
      } else if (Object.keys(rowJson).length > 0) {
        ops.push({ op: "update", table: r.table.name, where, row: rowJson });
        anyUpdates = true;
      }
      if (!r.inserted && r.mutations.length > 0) {
        const mutations = r.mutations.map((m): Json => [m.column, m.op, toJson(m.datum, m.type, true)]);
        ops.push({ op: "mutate", table: r.table.name, where, mutations });
        anyUpdates = true;
      }
    }
    if (!anyUpdates) return { status: "unchanged", inserted };
    // Verifications go first; they only matter when something is written.
    const waits: Json[] = [];
    for (const t of this.tables.values()) {
      for (const r of t.rows.values()) {
        if (r.old === null || r.verified.size === 0) continue;
        const cols = r.table.columns.filter((c) => r.verified.has(c.name));
        const row: Record<string, Json> = {};
        for (const c of cols) row[c.name] = datumToJson(r.old.get(c.name) ?? defaultDatum(c.type), c.type);
        waits.push({
          op: "wait",
          table: r.table.name,
          where: [["_uuid", "==", ["uuid", r.uuid]]],
          timeout: 0,
          until: "==",
          columns: cols.map((c) => c.name),
          rows: [row],
        });
      }
    }
    if (waits.length > 0) {
      ops.unshift(...waits);
      const shifted = new Map<number, string>();
      for (const [i, u] of insertIndex) shifted.set(i + waits.length, u);
      insertIndex.clear();
      for (const [i, u] of shifted) insertIndex.set(i, u);
    }
    let incIndex = -1;
    if (opts.increment) {
      const where: Json = [["_uuid", "==", newRows.has(opts.increment.uuid) ? ["named-uuid", rowName(opts.increment.uuid)] : ["uuid", opts.increment.uuid]]];
      ops.push({ op: "mutate", table: "Open_vSwitch", where, mutations: [["next_cfg", "+=", 1]] });
      incIndex = ops.length;
      ops.push({ op: "select", table: "Open_vSwitch", where, columns: ["next_cfg"] });
    }
    if (opts.dryRun) ops.push({ op: "abort" });
    ops.push({ op: "comment", comment: opts.comment });
    const reply = (await this.conn.request("transact", [this.schema.name, ...ops])) as unknown[];
    let error: Json | undefined;
    let tryAgain = false;
    for (const res of reply) {
      if (res && typeof res === "object" && "error" in (res as object)) {
        const e = (res as { error: unknown }).error;
        if (e === "aborted" && opts.dryRun) continue;
        if (e === "timed out") {
          tryAgain = true;
          continue;
        }
        error ??= res as Json;
      }
    }
    if (tryAgain && error === undefined) return { status: "try-again", inserted };
    for (const [i, tmp] of insertIndex) {
      const res = reply[i] as { uuid?: [string, string] } | null;
      if (res && Array.isArray(res.uuid)) inserted.set(tmp, res.uuid[1]);
    }
    if (error !== undefined) return { status: "error", error, inserted };
    const result: CommitResult = { status: "success", inserted };
    if (incIndex >= 0) {
      const sel = reply[incIndex] as { rows?: { next_cfg?: number }[] } | null;
      const v = sel?.rows?.[0]?.next_cfg;
      if (typeof v === "number") result.nextCfg = v;
    }
    return result;
  }
}
