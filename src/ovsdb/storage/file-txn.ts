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
  applyDatumDiff,
  datumDiff,
  type ColumnSchema,
  type Database,
  type DatabaseSchema,
  type Row,
  type TableSchema,
  datumEquals,
  datumFromJSON,
  datumToJSON,
  defaultDatum,
  isUuid,
  OvsdbError,
  syntaxError,
} from "../index.js";
import { isDiffColumn, looseType } from "./datum-diff.js";
import { hmapMask, rowMemberOrder, shashOrder } from "../hash-order.js";

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

/** Row uuids in (approximately) the order of OVS's hmap of rows keyed by uuid_hash. */
function rowOrder(uuids: string[]): string[] {
  let mask = 0;
  for (let n = 1; n <= uuids.length; n++) if (Math.floor(n / 2) > mask) mask = hmapMask(n);
  const keyed = uuids.map((u, i) => ({ u, b: (parseInt(u.slice(0, 8), 16) & mask) >>> 0, i }));
  keyed.sort((x, y) => x.b - y.b || y.i - x.i);
  return keyed.map((k) => k.u);
}

/** `obj` rebuilt with its keys in the order OVS prints a JSON object built by inserting them in this order. */
function asOvsPrints<T>(obj: Record<string, T>): Record<string, T> {
  const out: Record<string, T> = {};
  for (const k of memberOrder(Object.keys(obj))) out[k] = obj[k]!;
  return out;
}

/**
 * shashOrder of a row's or record's member names, memoised: the same few
 * column sets recur in every record (bench/ovsdb.ts (a): record building
 * for 2,000 inserted rows fell from ~110 ms to a few ms of CPU).
 */
const memberOrderCache = new Map<string, string[]>();
function memberOrder(keys: string[]): string[] {
  if (keys.length > 32) return shashOrder(keys);
  const sig = keys.join("\u0000");
  let order = memberOrderCache.get(sig);
  if (order === undefined) {
    order = shashOrder(keys);
    if (memberOrderCache.size >= 4096) memberOrderCache.clear();
    memberOrderCache.set(sig, order);
  }
  return order;
}

function isDefault(c: ColumnSchema, row: Row): boolean {
  return datumEquals(row.getByIndex(c.index), defaultDatum(c.type));
}

/** The columns OVS writes for an inserted row: every non-default persistent one. */
function insertJson(row: Row): RowJson {
  const o: RowJson = {};
  for (const c of persistentColumns(row.table)) {
    if (!isDefault(c, row)) o[c.name] = datumToJSON(c.type, row.getByIndex(c.index));
  }
  return asOvsPrints(o);
}

/** The changed persistent columns of a modified row (null when none changed). */
function modifyJson(oldRow: Row, newRow: Row): RowJson | null {
  let o: RowJson | null = null;
  for (const c of persistentColumns(newRow.table)) {
    const a = oldRow.getByIndex(c.index);
    const b = newRow.getByIndex(c.index);
    if (a === b || datumEquals(a, b)) continue;
    o ??= {};
    o[c.name] = datumToJSON(c.type, isDiffColumn(c.type) ? datumDiff(c.type, a, b) : b);
  }
  return o === null ? null : asOvsPrints(o);
}

function annotate(record: Record<string, unknown>, comment: string | undefined, now: number, isDiff: boolean): Record<string, unknown> {
  record["_date"] = now;
  if (comment !== undefined) record["_comment"] = comment;
  if (isDiff) record["_is_diff"] = true;
  return asOvsPrints(record);
}

/**
 * The record for a committed change set, or null when it changes nothing
 * that is stored (e.g. only ephemeral columns).
 */
export function changesToRecord(changes: ChangeSet, comment?: string, now = Date.now()): Record<string, unknown> | null {
  const record: Record<string, unknown> = {};
  let any = false;
  for (const [tableName, rows] of changes) {
    let tj: TableJson | null = null;
    for (const uuid of rowOrder([...rows.keys()])) {
      const ch = rows.get(uuid)!;
      let rj: RowJson | null | undefined;
      if (ch.new === null) {
        if (ch.old === null) continue;
        rj = null;
      } else if (ch.old === null) {
        rj = insertJson(ch.new);
      } else {
        rj = modifyJson(ch.old, ch.new);
        if (rj === null) continue;
      }
      tj ??= {};
      tj[uuid] = rj;
    }
    if (tj !== null) {
      record[tableName] = asOvsPrints(tj);
      any = true;
    }
  }
  if (!any) return null;
  return annotate(record, comment, now, true);
}

/** A snapshot record: every row of `db` with its non-default columns. */
export function snapshotRecord(db: Database, comment?: string, now = Date.now()): Record<string, unknown> {
  const record: Record<string, unknown> = {};
  for (const name of tableOrder(db)) {
    const table = db.tables.get(name)!;
    if (table.rows.size === 0) continue;
    const tj: TableJson = {};
    for (const uuid of rowOrder([...table.rows.keys()])) tj[uuid] = insertJson(table.rows.get(uuid)!);
    record[name] = asOvsPrints(tj);
  }
  return annotate(record, comment, now, false);
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
