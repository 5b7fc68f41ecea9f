/**
 * Monitors: the `monitor`, `monitor_cond` and `monitor_cond_since` requests
 * of RFC 7047 §4.1.5 and ovsdb-server(7), their parsing, and the three
 * update formats they send.
 *
 * - version 1 (`monitor` → "update"): a row update is `{"new": row}` for an
 *   insert (all selected columns), `{"old": row}` for a delete, and for a
 *   modify `{"old": <only the changed columns>, "new": <all columns>}`.
 * - version 2 (`monitor_cond` → "update2") and 3 (`monitor_cond_since` →
 *   "update3", which also carries the transaction id): `{"initial": row}`
 *   and `{"insert": row}` omit columns that hold their default value,
 *   `{"delete": null}`, and `{"modify": diff}` where a set or map column
 *   (max > 1) is given as the elements that changed — the symmetric
 *   difference for sets; for maps, removed and added pairs and the new pair
 *   of a changed key — and any other column as its new value. Conditions
 *   (`where`) turn a row that starts matching into an insert and one that
 *   stops matching into a delete.
 *
 * Formatting is the expensive part when many clients monitor the same
 * thing, so a table's update for one commit is rendered once per distinct
 * "shape" (version, table, columns, conditions, select flags) and the
 * resulting JSON text is shared between every monitor of that shape.
 */
import { OvsdbError, syntaxError } from "../error.js";
import { JsonObjectParser } from "../json-parser.js";
import type { ColumnSchema, DatabaseSchema, TableSchema } from "../schema.js";
import { compareAtoms, datumEquals, datumJsonText, datumToJSON, defaultDatum, type Atom, type Datum } from "../datum.js";

/** What the monitor code needs from a row: its columns' values. */
export interface RowLike {
  /** By column index: user columns 0.., "_uuid" -1, "_version" -2 (see ColumnSchema.index). */
  getByIndex(index: number): Datum;
}

/** One row's change in a commit (either side may be absent). */
export interface RowChange {
  old: RowLike | null;
  new: RowLike | null;
}

/** Table name → row uuid → change; the engine's ChangeSet has this shape. */
export type ChangeMap = ReadonlyMap<string, ReadonlyMap<string, RowChange>>;

/** Evaluates a table's parsed `where` against a row. */
export type ConditionEvaluator = {
  parse(table: TableSchema, json: unknown): unknown;
  matches(row: RowLike, cond: unknown): boolean;
};

export type MonitorVersion = 1 | 2 | 3;

export interface SelectFlags {
  initial: boolean;
  insert: boolean;
  delete: boolean;
  modify: boolean;
}

/** What one monitor watches in one table. */
export class TableMonitor {
  /** The parsed condition, or null for "every row". */
  cond: unknown = null;
  /** The condition's JSON text, part of the cache key. */
  condText = "true";
  /** Cache key: the monitor's shape (see UpdateRenderer). */
  key = "";
  /** Each selected column's default value, for "initial"/"insert" (hoisted: -30 % render time in bench ovsdb (a)). */
  readonly defaults: Datum[];

  constructor(
    readonly table: TableSchema,
    readonly columns: ColumnSchema[],
    readonly select: SelectFlags,
    readonly version: MonitorVersion,
  ) {
    this.defaults = columns.map((c) => defaultDatum(c.type));
    this.rekey();
  }

  rekey(): void {
    const s = this.select;
    this.key =
      `${this.version === 1 ? 1 : 2}|${this.table.name}|${this.columns.map((c) => c.name).join(",")}|` +
      `${+s.initial}${+s.insert}${+s.delete}${+s.modify}|${this.condText}`;
  }
}

/** A monitor created by one `monitor*` request of one session. */
export class Monitor {
  /** The monitor id as JSON text (ids may be any JSON value); changes with monitor_cond_change. */
  idText: string;

  constructor(
    public id: unknown,
    readonly dbName: string,
    readonly version: MonitorVersion,
    readonly tables: Map<string, TableMonitor>,
  ) {
    this.idText = JSON.stringify(id);
  }
}

function parseSelect(tableName: string, json: unknown): SelectFlags {
  const p = new JsonObjectParser(json, `table ${tableName} select`);
  const initial = p.member("initial", "boolean", true) as boolean | undefined;
  const insert = p.member("insert", "boolean", true) as boolean | undefined;
  const del = p.member("delete", "boolean", true) as boolean | undefined;
  const modify = p.member("modify", "boolean", true) as boolean | undefined;
  p.finishOrThrow();
  return { initial: initial ?? true, insert: insert ?? true, delete: del ?? true, modify: modify ?? true };
}

/**
 * Parses `<monitor-requests>` for database `schema`. Errors are the
 * OvsdbErrors OVS sends (e.g. "no table named X", "column x mentioned more
 * than once", "Parsing table T failed: ...").
 */
export function parseMonitorRequests(
  schema: DatabaseSchema,
  json: unknown,
  version: MonitorVersion,
  conditions: ConditionEvaluator,
): Map<string, TableMonitor> {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw syntaxError(json ?? null, null, "monitor-requests must be object");
  }
  const out = new Map<string, TableMonitor>();
  for (const [tableName, reqJson] of Object.entries(json as Record<string, unknown>)) {
    const table = schema.tables.get(tableName);
    if (!table) throw new OvsdbError("syntax error", `no table named ${tableName}`);
    const reqs = Array.isArray(reqJson) ? reqJson : [reqJson];
    const columns: ColumnSchema[] = [];
    const seen = new Set<string>();
    const select: SelectFlags = { initial: false, insert: false, delete: false, modify: false };
    const wheres: unknown[] = [];
    for (const req of reqs) {
      const p = new JsonObjectParser(req, `table ${tableName}`);
      const colsJson = p.member("columns", "array", true) as unknown[] | undefined;
      const selJson = p.member("select", "object", true);
      const whereJson = version === 1 ? undefined : p.member("where", "array", true);
      p.finishOrThrow();
      const sel = selJson === undefined ? { initial: true, insert: true, delete: true, modify: true } : parseSelect(tableName, selJson);
      select.initial ||= sel.initial;
      select.insert ||= sel.insert;
      select.delete ||= sel.delete;
      select.modify ||= sel.modify;
      let cols: ColumnSchema[];
      if (colsJson === undefined) {
        cols = [...table.columnList, table.columns.get("_version")!];
      } else {
        cols = [];
        for (const c of colsJson) {
          if (typeof c !== "string") throw syntaxError(colsJson, null, "array of column names expected");
          const col = table.columns.get(c);
          if (!col) throw syntaxError(colsJson, null, `${c} is not a valid column name`);
          cols.push(col);
        }
      }
      for (const col of cols) {
        if (seen.has(col.name)) throw syntaxError(colsJson ?? null, null, `column ${col.name} mentioned more than once`);
        seen.add(col.name);
        columns.push(col);
      }
      if (whereJson !== undefined) wheres.push(whereJson);
    }
    const tm = new TableMonitor(table, columns, select, version);
    if (wheres.length > 0) setCondition(tm, wheres[wheres.length - 1], conditions);
    out.set(tableName, tm);
  }
  return out;
}

/** Installs a `where` clause on a table monitor (validating it). */
export function setCondition(tm: TableMonitor, whereJson: unknown, conditions: ConditionEvaluator): void {
  const cond = conditions.parse(tm.table, whereJson);
  const text = JSON.stringify(whereJson);
  // An empty clause list, or [true], selects every row.
  const always = text === "[]" || text === "[true]";
  tm.cond = always ? null : cond;
  tm.condText = always ? "true" : text;
  tm.rekey();
}

function rowMatches(tm: TableMonitor, row: RowLike, conditions: ConditionEvaluator): boolean {
  return tm.cond === null || conditions.matches(row, tm.cond);
}

/** All selected columns (version 1 "new"/"old"). */
function rowAll(tm: TableMonitor, row: RowLike): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  for (const c of tm.columns) o[c.name] = datumToJSON(c.type, row.getByIndex(c.index));
  return o;
}

/** Selected columns that do not hold their default value (version 2 "initial"/"insert"). */
function rowNonDefault(tm: TableMonitor, row: RowLike): Record<string, unknown> {
  const o: Record<string, unknown> = {};
  const cols = tm.columns;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    const d = row.getByIndex(c.index);
    const dflt = tm.defaults[i]!;
    if (d !== dflt && !datumEquals(d, dflt)) o[c.name] = datumToJSON(c.type, d);
  }
  return o;
}

/** The elements that differ between two datums of a set or map type (see the file comment). */
export function datumDiff(oldD: Datum, newD: Datum, isMap: boolean): Datum {
  const keys: Atom[] = [];
  const values: Atom[] | null = isMap ? [] : null;
  const ok = oldD.keys, nk = newD.keys;
  let i = 0, j = 0;
  while (i < ok.length || j < nk.length) {
    const c = i >= ok.length ? 1 : j >= nk.length ? -1 : compareAtoms(ok[i]!, nk[j]!);
    if (c < 0) {
      keys.push(ok[i]!);
      if (values) values.push(oldD.values![i]!);
      i++;
    } else if (c > 0) {
      keys.push(nk[j]!);
      if (values) values.push(newD.values![j]!);
      j++;
    } else {
      if (values && oldD.values![i] !== newD.values![j]) {
        keys.push(nk[j]!);
        values.push(newD.values![j]!);
      }
      i++;
      j++;
    }
  }
  return { keys, values };
}

/** Version 1 "old" for a modify: the changed columns' old values; null if none changed. */
function rowChangedOld(tm: TableMonitor, oldRow: RowLike, newRow: RowLike): Record<string, unknown> | null {
  let o: Record<string, unknown> | null = null;
  for (const c of tm.columns) {
    const od = oldRow.getByIndex(c.index);
    const nd = newRow.getByIndex(c.index);
    if (od === nd || datumEquals(od, nd)) continue;
    o ??= {};
    o[c.name] = datumToJSON(c.type, od);
  }
  return o;
}

/** The version 1 `<row-update>` for one change, or null if nothing to say (v1 has no conditions). */
function rowUpdate1(tm: TableMonitor, ch: RowChange): unknown {
  const s = tm.select;
  if (ch.old === null) return ch.new !== null && s.insert ? { new: rowAll(tm, ch.new) } : null;
  if (ch.new === null) return s.delete ? { old: rowAll(tm, ch.old) } : null;
  if (!s.modify) return null;
  const old = rowChangedOld(tm, ch.old, ch.new);
  return old === null ? null : { new: rowAll(tm, ch.new), old };
}

/** rowNonDefault as JSON text (an object's members in the same order). */
function rowNonDefaultText(tm: TableMonitor, row: RowLike): string {
  let s = "{";
  const cols = tm.columns;
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    const d = row.getByIndex(c.index);
    const dflt = tm.defaults[i]!;
    if (d === dflt || datumEquals(d, dflt)) continue;
    s += (s.length > 1 ? ',"' : '"') + c.name + '":' + datumJsonText(c.type, d);
  }
  return s + "}";
}

/** Version 2 "modify" contents as JSON text; null when no selected column changed. */
function rowModify2Text(tm: TableMonitor, oldRow: RowLike, newRow: RowLike): string | null {
  let s: string | null = null;
  for (const c of tm.columns) {
    const od = oldRow.getByIndex(c.index);
    const nd = newRow.getByIndex(c.index);
    if (od === nd || datumEquals(od, nd)) continue;
    const v = c.type.max > 1 ? datumJsonText(c.type, datumDiff(od, nd, c.type.value !== null)) : datumJsonText(c.type, nd);
    s = (s === null ? '{"' : s + ',"') + c.name + '":' + v;
  }
  return s === null ? null : s + "}";
}

/**
 * The `<row-update>` (v1) or `<row-update2>` (v2, v3) for one change as
 * JSON text, or null. Version 2 and 3 updates are built as text (no object
 * per row and column: bench ovsdb (a) renders 2,000 inserted rows); column
 * names are schema ids, printed without escapes.
 */
function rowUpdateText(tm: TableMonitor, ch: RowChange, conditions: ConditionEvaluator): string | null {
  if (tm.version === 1) {
    const u = rowUpdate1(tm, ch);
    return u === null ? null : JSON.stringify(u);
  }
  const s = tm.select;
  const oldIn = ch.old !== null && rowMatches(tm, ch.old, conditions);
  const newIn = ch.new !== null && rowMatches(tm, ch.new, conditions);
  if (oldIn && newIn) {
    if (!s.modify) return null;
    const m = rowModify2Text(tm, ch.old!, ch.new!);
    return m === null ? null : '{"modify":' + m + "}";
  }
  if (newIn) return s.insert ? '{"insert":' + rowNonDefaultText(tm, ch.new!) + "}" : null;
  if (oldIn) return s.delete ? '{"delete":null}' : null;
  return null;
}

/**
 * Renders commits for monitors, sharing work between monitors of the same
 * shape. Create one per commit (or per batch of commits sent together).
 */
export class UpdateRenderer {
  private readonly cache = new Map<string, string | null>();

  constructor(private readonly changes: ChangeMap, private readonly conditions: ConditionEvaluator) {}

  /** The `<table-updates>` / `<table-updates2>` JSON text for `monitor`, or null if empty. */
  render(monitor: Monitor): string | null {
    let out = "";
    for (const [tableName, tm] of monitor.tables) {
      const rows = this.changes.get(tableName);
      if (!rows || rows.size === 0) continue;
      let text = this.cache.get(tm.key);
      if (text === undefined) {
        // Built as text row by row rather than as one object with a member
        // per row: an object with thousands of uuid members goes into V8's
        // slow dictionary mode (bench/ovsdb.ts (a): the update for 2,000
        // inserted rows took ~60 ms to render that way).
        let body = "";
        for (const [uuid, ch] of rows) {
          const u = rowUpdateText(tm, ch, this.conditions);
          if (u !== null) body += (body === "" ? '{"' : ',"') + uuid + '":' + u;
        }
        text = body === "" ? null : body + "}";
        this.cache.set(tm.key, text);
      }
      if (text === null) continue;
      out += (out === "" ? "{" : ",") + JSON.stringify(tableName) + ":" + text;
    }
    return out === "" ? null : out + "}";
  }
}

/** The initial contents of a monitor: `<table-updates>` (v1) or `<table-updates2>`. */
export function renderInitial(
  monitor: Monitor,
  rowsOf: (table: string) => Iterable<[string, RowLike]>,
  conditions: ConditionEvaluator,
): Record<string, Record<string, unknown>> {
  const out: Record<string, Record<string, unknown>> = {};
  for (const [tableName, tm] of monitor.tables) {
    if (!tm.select.initial) continue;
    let t: Record<string, unknown> | null = null;
    for (const [uuid, row] of rowsOf(tableName)) {
      if (monitor.version === 1) {
        (t ??= {})[uuid] = { new: rowAll(tm, row) };
      } else if (rowMatches(tm, row, conditions)) {
        (t ??= {})[uuid] = { initial: rowNonDefault(tm, row) };
      }
    }
    if (t !== null) out[tableName] = t;
  }
  return out;
}

/**
 * The update that moves a monitor from its old conditions to new ones
 * (`monitor_cond_change`): rows that stop matching are deleted, rows that
 * start matching are inserted.
 */
export function renderConditionChange(
  tm: TableMonitor,
  oldCond: unknown,
  rows: Iterable<[string, RowLike]>,
  conditions: ConditionEvaluator,
): Record<string, unknown> | null {
  let t: Record<string, unknown> | null = null;
  for (const [uuid, row] of rows) {
    const was = oldCond === null || conditions.matches(row, oldCond);
    const is = rowMatches(tm, row, conditions);
    if (was && !is) (t ??= {})[uuid] = { delete: null };
    else if (!was && is) (t ??= {})[uuid] = { insert: rowNonDefault(tm, row) };
  }
  return t;
}

/** Merges consecutive commits into one change map (first old, last new). */
export function mergeChanges(list: ChangeMap[]): ChangeMap {
  if (list.length === 1) return list[0]!;
  const out = new Map<string, Map<string, RowChange>>();
  for (const cs of list) {
    for (const [table, rows] of cs) {
      let t = out.get(table);
      if (!t) out.set(table, (t = new Map()));
      for (const [uuid, ch] of rows) {
        const prev = t.get(uuid);
        if (!prev) t.set(uuid, { old: ch.old, new: ch.new });
        else if (prev.old === null && ch.new === null) t.delete(uuid);
        else t.set(uuid, { old: prev.old, new: ch.new });
      }
    }
  }
  return out;
}
