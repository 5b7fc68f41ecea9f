/**
 * Transaction records: the JSON that a standalone database file holds after
 * its schema, in OVS 3.1's format.
 *
 *   {"<table>": {"<row uuid>": {<column>: <datum>, ...} | null, ...},
 *    "_date": <ms since epoch>, "_comment": "<text>", "_is_diff": true}
 *
 * A row object for a uuid not yet in the table inserts it (its columns over
 * the defaults); for an existing row it modifies the listed columns; null
 * deletes it. With "_is_diff", modified set and map columns hold diffs
 * (datum-diff.ts); older files without it hold full values. Ephemeral
 * columns and "_version" are never written. A snapshot (the record written
 * by compaction) lists every row with its non-default columns.
 *
 * Reading converts each record to full column values against the current
 * contents, checks it as OVS does (unknown tables and columns, bad uuids,
 * deleting a missing row, datums of the wrong type) and hands it to
 * `Database.applyRecord`, which installs it without transaction checks.
 */
import {
  type ChangeSet,
  type RowChange,
  applyDatumDiff,
  datumDiff,
  type ColumnSchema,
  type Database,
  type DatabaseSchema,
  type Row,
  type TableSchema,
  datumEquals,
  datumFromJSON,
  datumJsonText,
  defaultDatum,
  isUuid,
  OvsdbError,
  syntaxError,
} from "../index.js";
import { isDiffColumn, looseType } from "./datum-diff.js";
import { hmapMask, rowMemberOrder, shashOrder, shashOrderOfDistinct } from "../hash-order.js";

type RowJson = Record<string, unknown>;
type TableJson = Record<string, RowJson | null>;
/** A checked transaction record: per table, per row uuid, column values as written (or null to delete). */
export type CheckedRecord = Record<string, TableJson>;

/*
 * Key order. OVS builds each record by walking its own hash maps (the
 * schema's tables and columns, a table's rows) and prints JSON objects in
 * hash-map order, so the bytes of a record depend on those orders. We walk
 * in the same orders (hash-order.ts), so the files we write are byte for
 * byte what OVS would write for the same contents, and `show-log` output of
 * either tool is the same. Order never affects meaning.
 */
const columnOrderCache = new WeakMap<TableSchema, ColumnSchema[]>();

/** Persistent columns in the order OVS iterates its table schema's columns. */
function persistentColumns(ts: TableSchema): ColumnSchema[] {
  let cols = columnOrderCache.get(ts);
  if (cols === undefined) {
    // The schema parser walks the JSON "columns" object (itself in shash
    // order) and adds each to a shash that already holds _uuid and _version.
    const order = rowMemberOrder(ts.columnList.map((c) => c.name));
    cols = order.map((n) => ts.columns.get(n)!).filter((c) => c.index >= 0 && !c.ephemeral);
    columnOrderCache.set(ts, cols);
  }
  return cols;
}

/** Tables in the order OVS's in-memory database iterates them. */
function tableOrder(db: Database): string[] {
  return shashOrder(shashOrder(shashOrder([...db.schema.tables.keys()])));
}

/**
 * Row uuids in (approximately) the order of OVS's hmap of rows keyed by
 * uuid_hash: by bucket of the final mask, later insertions first within a
 * bucket. A stable counting sort on typed arrays (no object per uuid).
 */
function rowOrder(uuids: string[]): string[] {
  const n = uuids.length;
  if (n < 2) return uuids;
  let mask = 0;
  for (let k = 1; k <= n; k++) if (Math.floor(k / 2) > mask) mask = hmapMask(k);
  const bucket = new Int32Array(n);
  const count = new Int32Array(mask + 2);
  for (let i = 0; i < n; i++) {
    const b = uuidPrefix(uuids[i]!) & mask;
    bucket[i] = b;
    count[b + 1]!++;
  }
  for (let b = 0; b <= mask; b++) count[b + 1]! += count[b]!;
  const out: string[] = new Array<string>(n);
  for (let i = n - 1; i >= 0; i--) out[count[bucket[i]!]!++] = uuids[i]!;
  return out;
}

/** The first 32 bits of a uuid's text (uuid_hash), as an int32; hex digits only, as uuids are. */
function uuidPrefix(u: string): number {
  let h = 0;
  for (let i = 0; i < 8; i++) {
    const c = u.charCodeAt(i);
    h = (h << 4) | (c <= 0x39 ? c - 0x30 : (c | 0x20) - 0x57);
  }
  return h;
}

/**
 * shashOrder of a row's or record's member names, memoised: the same few
 * column sets recur in every record (bench/ovsdb.ts (a): record building
 * for 2,000 inserted rows fell from ~110 ms to a few ms of CPU).
 */
const memberOrderCache = new Map<string, ArrayLike<number>>();
/** Positions of `keys` (distinct) in the order OVS prints an object built by inserting them in this order. */
function memberOrder(keys: string[]): ArrayLike<number> {
  if (keys.length > 32) return shashOrderOfDistinct(keys);
  const sig = keys.join("\u0000");
  let order = memberOrderCache.get(sig);
  if (order === undefined) {
    order = shashOrderOfDistinct(keys);
    if (memberOrderCache.size >= 4096) memberOrderCache.clear();
    memberOrderCache.set(sig, order);
  }
  return order;
}

/** `obj` rebuilt with its keys in the order OVS prints a JSON object built by inserting them in this order. */
function asOvsPrints<T>(obj: Record<string, T>): Record<string, T> {
  const keys = Object.keys(obj);
  const out: Record<string, T> = {};
  const order = memberOrder(keys);
  for (let i = 0; i < order.length; i++) out[keys[order[i]!]!] = obj[keys[order[i]!]!]!;
  return out;
}

/**
 * memberOrder of the usual record, one table's changes and its
 * annotations, by table name (no key joined per record).
 */
const oneTableOrders = new Map<string, ArrayLike<number>>();
function oneTableOrder(table: string): ArrayLike<number> {
  let order = oneTableOrders.get(table);
  if (order === undefined) {
    order = shashOrderOfDistinct([table, "_date", "_is_diff"]);
    if (oneTableOrders.size >= 1024) oneTableOrders.clear();
    oneTableOrders.set(table, order);
  }
  return order;
}

/**
 * JSON text of an object whose member names are `keys` (inserted in that
 * order) and whose values are the JSON texts `values`, printed in OVS's
 * member order. Names are column names, table names or UUIDs: JSON
 * strings without escapes.
 *
 * Records are built as text, not as objects for JSON.stringify: adding a
 * thousand UUID-named properties to an object costs V8 a dictionary insert
 * and a string internalisation each (bench ovsdb (a): half of the record
 * building time for 2,000 inserted rows).
 */
function objectText(keys: string[], values: string[]): string {
  if (keys.length === 0) return "{}";
  if (keys.length === 1) return '{"' + keys[0]! + '":' + values[0]! + "}";
  const order = keys.length === 3 && keys[1] === "_date" && keys[2] === "_is_diff" ? oneTableOrder(keys[0]!) : memberOrder(keys);
  let s = "{";
  for (let i = 0; i < order.length; i++) {
    const j = order[i]!;
    s += (i > 0 ? ',"' : '"') + keys[j]! + '":' + values[j]!;
  }
  return s + "}";
}

/** Each persistent column of a table with its default datum, in OVS's column order. */
const columnDefaultsCache = new WeakMap<TableSchema, { cols: ColumnSchema[]; defaults: ReturnType<typeof defaultDatum>[] }>();
function columnDefaults(ts: TableSchema): { cols: ColumnSchema[]; defaults: ReturnType<typeof defaultDatum>[] } {
  let cd = columnDefaultsCache.get(ts);
  if (cd === undefined) {
    const cols = persistentColumns(ts);
    cd = { cols, defaults: cols.map((c) => defaultDatum(c.type)) };
    columnDefaultsCache.set(ts, cd);
  }
  return cd;
}

/**
 * Fills the record builder's per-table caches for `schema` (see
 * primeSchemaCaches in transaction.ts: a cache miss met by optimized code
 * throws it away): done when a database file is opened.
 */
export function primeRecordCaches(schema: DatabaseSchema): void {
  for (const ts of schema.tables.values()) columnDefaults(ts);
}

/** The columns OVS writes for an inserted row: every non-default persistent one. */
function insertText(row: Row): string {
  const { cols, defaults } = columnDefaults(row.table);
  const keys: string[] = [];
  const values: string[] = [];
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    const d = row.getByIndex(c.index);
    if (d === defaults[i] || datumEquals(d, defaults[i]!)) continue;
    keys.push(c.name);
    values.push(datumJsonText(c.type, d));
  }
  return objectText(keys, values);
}

/** The changed persistent columns of a modified row (null when none changed). */
function modifyText(oldRow: Row, newRow: Row): string | null {
  // The first changed column is kept aside: a small transaction usually
  // changes one, and then no arrays are made.
  let firstKey: string | null = null;
  let firstValue = "";
  let keys: string[] | null = null;
  let values: string[] | null = null;
  const cols = persistentColumns(newRow.table);
  for (let i = 0; i < cols.length; i++) {
    const c = cols[i]!;
    const a = oldRow.getByIndex(c.index);
    const b = newRow.getByIndex(c.index);
    if (a === b || datumEquals(a, b)) continue;
    const value = datumJsonText(c.type, isDiffColumn(c.type) ? datumDiff(c.type, a, b) : b);
    if (firstKey === null) {
      firstKey = c.name;
      firstValue = value;
    } else {
      if (keys === null || values === null) {
        keys = [firstKey];
        values = [firstValue];
      }
      keys.push(c.name);
      values.push(value);
    }
  }
  if (firstKey === null) return null;
  if (keys === null || values === null) return '{"' + firstKey + '":' + firstValue + "}";
  return objectText(keys, values);
}

/** The record's text for one changed row (null: nothing stored changed). */
function rowChangeText(ch: RowChange): string | null {
  if (ch.new === null) return ch.old === null ? null : "null";
  if (ch.old === null) return insertText(ch.new);
  return modifyText(ch.old, ch.new);
}

/**
 * String(now), remembered: a time in ms is not a small integer for V8, so
 * each conversion is a call into its runtime, while commits that follow
 * each other quickly share their millisecond.
 */
let lastDate = NaN;
let lastDateText = "";
function dateText(now: number): string {
  if (now !== lastDate) {
    lastDate = now;
    lastDateText = String(now);
  }
  return lastDateText;
}

/** annotatedText of a diff record without comment changing one table (whose changes are `tableText`). */
function oneTableRecord(table: string, tableText: string, now: number): string {
  const order = oneTableOrder(table);
  let s = "{";
  for (let i = 0; i < 3; i++) {
    const j = order[i]!;
    if (i > 0) s += ",";
    s += j === 0 ? '"' + table + '":' + tableText : j === 1 ? '"_date":' + dateText(now) : '"_is_diff":true';
  }
  return s + "}";
}

/** Adds the annotations and closes the record's text. */
function annotatedText(keys: string[], values: string[], comment: string | undefined, now: number, isDiff: boolean): string {
  keys.push("_date");
  values.push(dateText(now));
  if (comment !== undefined) {
    keys.push("_comment");
    values.push(JSON.stringify(comment));
  }
  if (isDiff) {
    keys.push("_is_diff");
    values.push("true");
  }
  return objectText(keys, values);
}

/**
 * The record (JSON text) for a committed change set, or null when it
 * changes nothing that is stored (e.g. only ephemeral columns).
 */
export function changesToRecord(changes: ChangeSet, comment?: string, now = Date.now()): string | null {
  if (changes.size === 1 && comment === undefined) {
    // The usual small transaction, one row of one table: no arrays.
    for (const [tableName, rows] of changes) {
      if (rows.size !== 1) break;
      for (const [uuid, ch] of rows) {
        const text = rowChangeText(ch);
        return text === null ? null : oneTableRecord(tableName, '{"' + uuid + '":' + text + "}", now);
      }
    }
  }
  const tkeys: string[] = [];
  const tvalues: string[] = [];
  for (const [tableName, rows] of changes) {
    const rkeys: string[] = [];
    const rvalues: string[] = [];
    for (const uuid of rows.size === 1 ? rows.keys() : rowOrder([...rows.keys()])) {
      const text = rowChangeText(rows.get(uuid)!);
      if (text === null) continue;
      rkeys.push(uuid);
      rvalues.push(text);
    }
    if (rkeys.length > 0) {
      tkeys.push(tableName);
      tvalues.push(objectText(rkeys, rvalues));
    }
  }
  if (tkeys.length === 0) return null;
  return annotatedText(tkeys, tvalues, comment, now, true);
}

/** A snapshot record (JSON text): every row of `db` with its non-default columns. */
export function snapshotRecord(db: Database, comment?: string, now = Date.now()): string {
  const tkeys: string[] = [];
  const tvalues: string[] = [];
  for (const name of tableOrder(db)) {
    const table = db.tables.get(name)!;
    if (table.rows.size === 0) continue;
    const uuids = rowOrder([...table.rows.keys()]);
    tkeys.push(name);
    tvalues.push(objectText(uuids, uuids.map((u) => insertText(table.rows.get(u)!))));
  }
  return annotatedText(tkeys, tvalues, comment, now, false);
}

/**
 * Checks `json` (one transaction record) against `db`'s schema and current
 * contents (types, constraints, and the size a diff leaves a column with)
 * and returns its tables as Database.applyRecord takes them. Unknown
 * tables and columns are errors unless `converting` (reading with a
 * different schema), when they are left out. Throws OvsdbError as OVS
 * words it.
 */
export function checkRecord(db: Database, json: unknown, converting = false): CheckedRecord {
  if (json === null || typeof json !== "object" || Array.isArray(json)) {
    throw syntaxError(json, null, "object expected");
  }
  const obj = json as Record<string, unknown>;
  const isDiff = obj["_is_diff"] === true;
  const out: CheckedRecord = {};
  for (const [tableName, tj] of Object.entries(obj)) {
    const table = db.tables.get(tableName);
    if (!table) {
      if (tableName === "_date" && typeof tj === "number" && Number.isInteger(tj)) continue;
      if (tableName === "_comment" || tableName === "_is_diff" || converting) continue;
      throw syntaxError(json, "unknown table", `No table named ${tableName}.`);
    }
    if (tj === null || typeof tj !== "object" || Array.isArray(tj)) throw syntaxError(tj, null, "object expected");
    const outTable: TableJson = {};
    for (const [uuid, rj] of Object.entries(tj as Record<string, unknown>)) {
      if (!isUuid(uuid)) throw syntaxError(tj, null, `"${uuid}" is not a valid UUID`);
      const key = uuid.toLowerCase();
      const existing = table.rows.get(key) ?? null;
      if (rj === null) {
        if (!existing) throw syntaxError(null, null, `transaction deletes row ${key} that does not exist`);
        outTable[key] = null;
        continue;
      }
      if (typeof rj !== "object" || Array.isArray(rj)) throw syntaxError(rj, null, "row must be JSON object");
      const full: RowJson = {};
      for (const [colName, value] of Object.entries(rj as Record<string, unknown>)) {
        const col = table.schema.columns.get(colName);
        if (!col || col.index < 0) {
          if (converting) continue;
          throw syntaxError(rj, "unknown column", `No column ${colName} in table ${tableName}.`);
        }
        if (existing && isDiff && isDiffColumn(col.type)) {
          // A diff may hold more or fewer elements than the column allows.
          const loose = looseType(col.type);
          const merged = applyDatumDiff(loose, existing.getByIndex(col.index), datumFromJSON(loose, value));
          if (merged.keys.length < col.type.min || merged.keys.length > col.type.max) {
            throw syntaxError(value, null, `diff leaves column ${colName} with ${merged.keys.length} elements`);
          }
        } else {
          // Parse (and so type-check) the value as written.
          datumFromJSON(col.type, value);
        }
        full[colName] = value;
      }
      outTable[key] = full;
    }
    out[tableName] = outTable;
  }
  return out;
}

/** Replays one record into `db` (see checkRecord for the checks). */
export function replayRecord(db: Database, json: unknown, converting = false): void {
  const record = checkRecord(db, json, converting);
  db.applyRecord(record, { isDiff: (json as Record<string, unknown>)["_is_diff"] === true });
}

/** The schema of a database file's first record, with OVS's wording on failure. */
export function schemaFromRecord(json: unknown, fileName: string, parse: (j: unknown) => DatabaseSchema): DatabaseSchema {
  try {
    return parse(json);
  } catch (e) {
    if (e instanceof OvsdbError) {
      throw new OvsdbError(e.tag, `failed to parse "${fileName}" as ovsdb schema: ${e.details ?? ""}`, e.syntax);
    }
    throw e;
  }
}

/**
 * The schema record as OVS writes it (ovsdb_schema_to_json, printed in
 * hash-map order), so `create` and compaction write the same bytes as OVS.
 */
export function schemaRecord(schema: DatabaseSchema): unknown {
  const json = schema.toJSON() as Record<string, unknown>;
  const tablesJson = (json["tables"] ?? {}) as Record<string, Record<string, unknown>>;
  const tables: Record<string, unknown> = {};
  for (const name of shashOrder(shashOrder(Object.keys(tablesJson)))) {
    const tj = tablesJson[name]!;
    const ts = schema.tables.get(name);
    const colsJson = (tj["columns"] ?? {}) as Record<string, unknown>;
    const cols: Record<string, unknown> = {};
    const order = ts
      ? rowMemberOrder(ts.columnList.map((c) => c.name)).filter((n) => n in colsJson)
      : Object.keys(colsJson);
    for (const c of order) cols[c] = deepOvsOrder(colsJson[c]);
    const t: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(tj)) t[k] = k === "columns" ? asOvsPrints(cols) : deepOvsOrder(v);
    tables[name] = asOvsPrints(t);
  }
  const top: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(json)) top[k] = k === "tables" ? asOvsPrints(tables) : v;
  return asOvsPrints(top);
}

function deepOvsOrder(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(deepOvsOrder);
  if (v === null || typeof v !== "object") return v;
  const o: Record<string, unknown> = {};
  for (const [k, x] of Object.entries(v as Record<string, unknown>)) o[k] = deepOvsOrder(x);
  return asOvsPrints(o);
}
