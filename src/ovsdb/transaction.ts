/**
 * The RFC 7047 "transact" engine.
 *
 * What: `compose()` parses and executes a transaction's operations against
 * a copy-on-write view of the database (`Txn`); `precommit()` then applies
 * the commit-time rules; `Database.transact()` installs the result and
 * tells listeners. Results and error wording follow ovsdb-server 3.1 (the
 * differential test feeds the same transactions to both).
 *
 * Design.
 * - Committed rows are immutable. The first write to a row in a
 *   transaction makes a draft (a new Row with a copied column array and a
 *   new version); untouched columns keep sharing their datums. A failed
 *   transaction simply drops its drafts: nothing to undo.
 * - `Txn.rows` (table -> uuid -> {old, cur}) is the transaction's only
 *   state; reads see it first, then the committed table. Queries on
 *   `_uuid ==` are one lookup; queries with "==" on every column of a
 *   schema index are one hash probe plus the transaction's own rows;
 *   anything else scans the table, as OVS does.
 * - Commit-time rules, in OVS's order: (1) drop rows that did not really
 *   change; (2) strong reference counts and referential integrity, from
 *   the references each changed row gains or loses (a merge of two sorted
 *   key arrays, not a walk over whole sets); (3) garbage collection of
 *   unreferenced rows of non-root tables, to a fixed point; (4) maxRows;
 *   (5) weak references to rows that are gone are dropped, and a column
 *   left below its minimum size is an error; (6) index uniqueness against
 *   the per-table hash indexes.
 *
 * Invariants (checked by the fuzz test): an error anywhere leaves every
 * committed Row object in place; reference counts (`Row.refs`) and the
 * hash and weak-reference indexes are only updated by a commit.
 *
 * OVS quirk kept on purpose: when a row deleted by the transaction is
 * weakly referenced by a row that the same transaction also modifies, OVS
 * only re-checks the references that modification added, so an old weak
 * reference survives; we do the same so that clients see identical data.
 *
 * Numbers (bench/ovsdb-rows.ts, 100,000 Port+Interface rows): about 810 B
 * of heap per row (was 1.1 kB before row uuids were made flat strings and
 * one-pair map keys shared) against ~2.7 kB of RSS per row for OVS's
 * ovsdb-server; Queue rows of bench/ovsdb.ts (d): 353 B of heap (was 832).
 */
import { OvsdbError, syntaxError } from "./error.js";
import { JsonObjectParser } from "./json-parser.js";
import type { Atom, Datum, Symtab } from "./datum.js";
import {
  atomToJSON,
  checkAtomConstraints,
  compareAtoms,
  compareDatums,
  datumEquals,
  datumFind,
  datumFromJSON,
  datumToJSON,
  datumToString,
  defaultDatum,
  emptyDatum,
  isUuid,
  newUuid,
  singleton,
  sortDatum,
  ZERO_UUID,
} from "./datum.js";
import type { ColumnSchema, TableSchema } from "./schema.js";
import { parseColumnSet } from "./schema.js";
import { OvsdbType, UINT_MAX } from "./types.js";
import { changedColumns, nextVersion, Row, Table } from "./row.js";
import { rowMemberOrder } from "./hash-order.js";
import type { Condition } from "./condition.js";
import { conditionMatcher, parseConditions } from "./condition.js";
import type { ChangeSet, RowChange, TransactOptions, TransactOutcome } from "./database.js";
import { objectArray } from "./object-array.js";

/** What the engine needs from the database (implemented by Database). */
export interface DbState {
  readonly schema: { name: string; tables: Map<string, TableSchema> };
  readonly tables: Map<string, Table>;
  /** Weak references by target uuid: source uuid -> source table. */
  readonly weakIn: Map<string, Map<string, Table>>;
}

interface TxnRow {
  table: Table;
  uuid: string;
  old: Row | null;
  /** The row after the transaction: old (untouched), a draft, or null (deleted). */
  cur: Row | null;
}

/** Strong/weak reference columns of a table, computed once per schema. */
interface RefColumns {
  strong: ColumnSchema[];
  weak: ColumnSchema[];
}
const refColumnsCache = new WeakMap<TableSchema, RefColumns>();
export function refColumns(ts: TableSchema): RefColumns {
  let r = refColumnsCache.get(ts);
  if (r === undefined) {
    r = { strong: [], weak: [] };
    for (const c of ts.columnList) {
      if (c.type.key.isStrongRef() || c.type.value?.isStrongRef()) r.strong.push(c);
      if (c.type.key.isWeakRef() || c.type.value?.isWeakRef()) r.weak.push(c);
    }
    refColumnsCache.set(ts, r);
  }
  return r;
}

/** Calls fn(targetTable, uuid) for every reference of `kind` in column c of datum d. */
function forEachRef(c: ColumnSchema, d: Datum, kind: "strong" | "weak", fn: (table: string, uuid: string) => void): void {
  const k = c.type.key;
  if (k.refTable !== undefined && k.refType === kind) for (const a of d.keys) fn(k.refTable, a as string);
  const v = c.type.value;
  if (v !== null && v.refTable !== undefined && v.refType === kind && d.values !== null) for (const a of d.values) fn(v.refTable, a as string);
}

/**
 * Calls fn(table, uuid, +1|-1) for each reference of `kind` that column c
 * gains (+1) or loses (-1) going from `od` to `nd` (null = no row).
 */
export function diffRefs(c: ColumnSchema, od: Datum | null, nd: Datum | null, kind: "strong" | "weak", fn: (table: string, uuid: string, sign: 1 | -1) => void): void {
  if (od === nd) return;
  const k = c.type.key;
  if (k.refTable !== undefined && k.refType === kind) {
    const t = k.refTable;
    const a = od?.keys ?? [];
    const b = nd?.keys ?? [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
      if (j >= b.length) fn(t, a[i++] as string, -1);
      else if (i >= a.length) fn(t, b[j++] as string, 1);
      else {
        const x = a[i] as string;
        const y = b[j] as string;
        if (x === y) {
          i++;
          j++;
        } else if (x < y) {
          fn(t, x, -1);
          i++;
        } else {
          fn(t, y, 1);
          j++;
        }
      }
    }
  }
  const v = c.type.value;
  if (v !== null && v.refTable !== undefined && v.refType === kind) {
    const counts = new Map<string, number>();
    for (const u of od?.values ?? []) counts.set(u as string, (counts.get(u as string) ?? 0) - 1);
    for (const u of nd?.values ?? []) counts.set(u as string, (counts.get(u as string) ?? 0) + 1);
    for (const [u, n] of counts) {
      for (let x = 0; x < n; x++) fn(v.refTable, u, 1);
      for (let x = 0; x > n; x--) fn(v.refTable, u, -1);
    }
  }
}

/**
 * The hash-index key of a row for one index: the atom itself for a single
 * scalar column (no extra string per row), else a JSON text of the datums.
 */
export function indexKey(row: Row, cols: ColumnSchema[]): Atom | string {
  if (cols.length === 1) {
    const d = row.data[cols[0]!.index]!;
    if (cols[0]!.type.isScalar()) return d.keys[0]!;
    return d.values === null ? JSON.stringify(d.keys) : JSON.stringify([d.keys, d.values]);
  }
  const parts: unknown[] = [];
  for (const c of cols) {
    const d = row.data[c.index]!;
    parts.push(d.keys, d.values);
  }
  return JSON.stringify(parts);
}

const indexColsCache = new WeakMap<TableSchema, ColumnSchema[][]>();
export function indexColumns(ts: TableSchema): ColumnSchema[][] {
  let r = indexColsCache.get(ts);
  if (r === undefined) {
    // Built by push into an object array: Array.prototype.map makes an
    // empty table's list (no indexes) an array of another kind than the
    // others', and code optimized on one kind is thrown away on meeting
    // the other (the served database's first commit, bench ovsdb (b')).
    r = objectArray();
    for (const ix of ts.indexes) r.push(ix.map((n) => ts.columns.get(n)!));
    indexColsCache.set(ts, r);
  }
  return r;
}

/** Error raised while executing an op that must become the op's result. */
class OpFailure {
  constructor(readonly error: OvsdbError) {}
}

/** Special result: an unsatisfied "wait" that should block. */
class WaitBlocked {}

export class Txn {
  readonly db: DbState;
  readonly rows = new Map<Table, Map<string, TxnRow>>();
  private symbolMap: Map<string, { uuid: string; created: boolean }> | null = null;
  /** Resolves named-uuids (the table of symbols is made on first use: most transactions name none). */
  readonly symtab: Symtab = (name: string) => {
    let s = this.symbols.get(name);
    if (s === undefined) {
      s = { uuid: newUuid(), created: false };
      this.symbols.set(name, s);
    }
    return s.uuid;
  };
  durable = false;
  comments: string[] = [];
  timeoutMs = Infinity;

  constructor(db: DbState) {
    this.db = db;
  }

  /** The transaction's "uuid-name" symbols. */
  get symbols(): Map<string, { uuid: string; created: boolean }> {
    return (this.symbolMap ??= new Map());
  }

  private tableRows(table: Table): Map<string, TxnRow> {
    let m = this.rows.get(table);
    if (m === undefined) {
      m = new Map();
      this.rows.set(table, m);
    }
    return m;
  }

  txnRow(table: Table, uuid: string): TxnRow | undefined {
    return this.rows.get(table)?.get(uuid);
  }

  /** The row as the transaction currently sees it. */
  getRow(table: Table, uuid: string): Row | null {
    const tr = this.rows.get(table)?.get(uuid);
    if (tr !== undefined) return tr.cur;
    return table.rows.get(uuid) ?? null;
  }

  /** True if a row with this uuid may be created (not present, not deleted in this txn). */
  mayCreate(table: Table, uuid: string): boolean {
    if (table.rows.has(uuid)) return false;
    const tr = this.rows.get(table)?.get(uuid);
    return tr === undefined;
  }

  insert(table: Table, uuid: string, data: Datum[]): Row {
    const row = new Row(table.schema, uuid, nextVersion(), data);
    this.tableRows(table).set(uuid, { table, uuid, old: null, cur: row });
    return row;
  }

  /** A writable draft of `row` (created on first modification). */
  modify(table: Table, row: Row): Row {
    const m = this.tableRows(table);
    let tr = m.get(row.uuid);
    if (tr === undefined) {
      tr = { table, uuid: row.uuid, old: row, cur: row };
      m.set(row.uuid, tr);
    }
    if (tr.cur === null) throw new Error("modify of deleted row");
    if (tr.cur === tr.old) tr.cur = new Row(table.schema, row.uuid, nextVersion(), tr.old!.data.slice());
    return tr.cur;
  }

  /** Touches a row without changing it (so commit-time checks see it). */
  touch(table: Table, row: Row): TxnRow {
    const m = this.tableRows(table);
    let tr = m.get(row.uuid);
    if (tr === undefined) {
      tr = { table, uuid: row.uuid, old: row, cur: row };
      m.set(row.uuid, tr);
    }
    return tr;
  }

  delete(table: Table, row: Row): void {
    const m = this.tableRows(table);
    const tr = m.get(row.uuid);
    if (tr === undefined) m.set(row.uuid, { table, uuid: row.uuid, old: row, cur: null });
    else tr.cur = null;
  }

  /** Rows of `table` matching `conds`, as the transaction sees them. */
  query(table: Table, conds: Condition[]): Row[] {
    const out: Row[] = [];
    const match = conditionMatcher(table.schema, conds);
    // _uuid == x: one lookup.
    for (const c of conds) {
      if (c.column === "_uuid" && c.fn === "==" && c.value.keys.length === 1) {
        const r = this.getRow(table, c.value.keys[0] as string);
        if (r !== null && match(r)) out.push(r);
        return out;
      }
    }
    const trs = this.rows.get(table);
    // An index whose every column is compared with "==": hash lookup.
    const icols = indexColumns(table.schema);
    for (let i = 0; i < icols.length; i++) {
      const cols = icols[i]!;
      const vals: Datum[] = [];
      for (const col of cols) {
        const c = conds.find((x) => x.column === col.name && x.fn === "==");
        if (c === undefined) break;
        vals.push(c.value);
      }
      if (vals.length !== cols.length) continue;
      const probe = new Row(table.schema, ZERO_UUID, 0, []);
      for (let j = 0; j < cols.length; j++) probe.data[cols[j]!.index] = vals[j]!;
      const uuid = table.indexMaps[i]!.get(indexKey(probe, cols));
      if (uuid !== undefined && (trs === undefined || !trs.has(uuid))) {
        const r = table.rows.get(uuid);
        if (r !== undefined && match(r)) out.push(r);
      }
      if (trs !== undefined) for (const tr of trs.values()) if (tr.cur !== null && match(tr.cur)) out.push(tr.cur);
      return out;
    }
    if (trs === undefined) {
      for (const r of table.rows.values()) if (match(r)) out.push(r);
      return out;
    }
    for (const r of table.rows.values()) {
      if (trs.has(r.uuid)) continue;
      if (match(r)) out.push(r);
    }
    for (const tr of trs.values()) if (tr.cur !== null && match(tr.cur)) out.push(tr.cur);
    return out;
  }
}

// ---------------------------------------------------------------------------
// Parsing helpers.

function parseTable(txn: Txn, p: JsonObjectParser, member: string): Table | null {
  const name = p.member(member, "id") as string | undefined;
  if (name === undefined) return null;
  const t = txn.db.tables.get(name);
  if (t === undefined) {
    p.raise(`No table named ${name}.`);
    return null;
  }
  return t;
}

/** ovsdb_row_from_json: column -> value object into a data array. */
function parseRowInto(table: Table, json: Record<string, unknown>, symtab: Symtab, data: Datum[], included?: ColumnSchema[]): void {
  for (const name of Object.keys(json)) {
    const c = table.schema.columns.get(name);
    if (c === undefined) throw syntaxError(json, "unknown column", `No column ${name} in table ${table.schema.name}.`);
    const d = datumFromJSON(c.type, json[name], symtab);
    if (c.index >= 0) data[c.index] = d;
    included?.push(c);
  }
}

/** The constraint error of column c's default value, or null. */
function defaultViolation(c: ColumnSchema): OvsdbError | null {
  const d = defaultDatum(c.type);
  if (d.keys.length !== 1) return null;
  let e = checkAtomConstraints(c.type.key, d.keys[0]!);
  if (e === null && c.type.value !== null) e = checkAtomConstraints(c.type.value, d.values![0]!);
  return e;
}

const badDefaultsCache = new WeakMap<TableSchema, ColumnSchema[]>();
/** The columns of `ts` whose default value violates their constraints, in column order. */
function badDefaultColumns(ts: TableSchema): ColumnSchema[] {
  let cols = badDefaultsCache.get(ts);
  if (cols === undefined) {
    cols = ts.columnList.filter((c) => defaultViolation(c) !== null);
    badDefaultsCache.set(ts, cols);
  }
  return cols;
}

/**
 * Each table's column defaults, built once: a new row copies the template
 * (one packed-array copy instead of a WeakMap look-up per column; bench
 * ovsdb (a) inserts 2,000 rows of 25-50 columns).
 */
const defaultTemplates = new WeakMap<TableSchema, Datum[]>();

function defaultData(ts: TableSchema): Datum[] {
  let t = defaultTemplates.get(ts);
  if (t === undefined || t.length !== ts.columnList.length) {
    const cols = ts.columnList;
    t = [];
    for (let i = 0; i < cols.length; i++) t.push(defaultDatum(cols[i]!.type));
    defaultTemplates.set(ts, t);
  }
  return t.slice();
}

/**
 * Fills this module's per-schema caches for every table of `tables` (and
 * each column's default datum) at once. Why: a cache miss is a code path
 * that optimized code has never seen run, so meeting one later throws that
 * code away ("insufficient type feedback"); a server's real database has
 * schema objects of its own, so without this its first big transaction
 * (bench ovsdb (a)) deoptimized the insert and commit paths the start-up
 * warm-up had optimized, and ran while V8 compiled them again.
 */
export function primeSchemaCaches(tables: Iterable<TableSchema>): void {
  for (const ts of tables) {
    refColumns(ts);
    indexColumns(ts);
    badDefaultColumns(ts);
    defaultData(ts);
    for (const c of ts.columnList) {
      defaultDatum(c.type);
      if (c.type.value === null && (c.type.key.type === "integer" || c.type.key.type === "real")) scalarArgType(c.type);
    }
  }
}

// ---------------------------------------------------------------------------
// Operations.

type OpResult = Record<string, unknown>;

function execInsert(txn: Txn, p: JsonObjectParser): OpResult {
  const table = parseTable(txn, p, "table");
  const uuidJson = p.member("uuid", "string", true) as string | undefined;
  const uuidName = p.member("uuid-name", "id", true) as string | undefined;
  const rowJson = p.member("row", "object") as Record<string, unknown> | undefined;
  if (p.error !== null) throw new OpFailure(p.error);
  let uuid: string;
  if (uuidJson !== undefined) {
    if (!isUuid(uuidJson)) throw new OpFailure(syntaxError(uuidJson, null, "bad uuid"));
    uuid = uuidJson.toLowerCase();
    if (!txn.mayCreate(table!, uuid)) {
      throw new OpFailure(
        syntaxError(uuidJson, "duplicate uuid", "This UUID would duplicate a UUID already present within the table or deleted within the same transaction."),
      );
    }
  }
  if (uuidName !== undefined) {
    let sym = txn.symbols.get(uuidName);
    if (sym?.created) {
      throw new OpFailure(syntaxError(uuidName, "duplicate uuid-name", 'This "uuid-name" appeared on an earlier "insert" operation.'));
    }
    if (sym === undefined) {
      sym = { uuid: newUuid(), created: false };
      txn.symbols.set(uuidName, sym);
    }
    if (uuidJson !== undefined) sym.uuid = uuid!;
    else uuid = sym.uuid;
    sym.created = true;
  } else if (uuidJson === undefined) {
    uuid = newUuid();
  }
  const data = defaultData(table!.schema);
  try {
    parseRowInto(table!, rowJson!, txn.symtab, data);
  } catch (e) {
    throw new OpFailure(e as OvsdbError);
  }
  // Defaults may violate constraints (e.g. an enum without "" or 0).
  // Values given in the row were checked when parsed, so only columns left
  // at a default known to be invalid need a look. HOT PATH: checking every
  // column of every insert was ~15 µs per Interface row (bench/ovsdb.ts (a)).
  for (const c of badDefaultColumns(table!.schema)) {
    if (data[c.index] === defaultDatum(c.type)) throw new OpFailure(defaultViolation(c)!);
  }
  if (txn.getRow(table!, uuid!) !== null) {
    // A named-uuid forced onto an existing row: treat as duplicate.
    throw new OpFailure(syntaxError(uuidName ?? uuidJson, "duplicate uuid", "This UUID would duplicate a UUID already present within the table or deleted within the same transaction."));
  }
  txn.insert(table!, uuid!, data);
  return { uuid: ["uuid", uuid!] };
}

function parseConds(txn: Txn, table: Table, where: unknown): Condition[] {
  try {
    return parseConditions(table.schema, where, txn.symtab);
  } catch (e) {
    throw new OpFailure(e as OvsdbError);
  }
}

function parseCols(table: Table, json: unknown): ColumnSchema[] | null {
  if (json === undefined) return null;
  try {
    return parseColumnSet(table.schema, json);
  } catch (e) {
    throw new OpFailure(e as OvsdbError);
  }
}

function allColumns(ts: TableSchema): ColumnSchema[] {
  return [ts.columns.get("_uuid")!, ts.columns.get("_version")!, ...ts.columnList];
}

function execSelect(txn: Txn, p: JsonObjectParser): OpResult {
  const table = parseTable(txn, p, "table");
  const where = p.member("where", "array");
  const columnsJson = p.member("columns", "array", true);
  const sortJson = p.member("sort", "array", true);
  if (p.error !== null) throw new OpFailure(p.error);
  const conds = parseConds(txn, table!, where);
  const cols = parseCols(table!, columnsJson);
  const sort = parseCols(table!, sortJson) ?? [];
  let rows = txn.query(table!, conds);
  const outCols = cols ?? allColumns(table!.schema);
  if (cols !== null && !cols.some((c) => c.name === "_uuid")) {
    // Without _uuid the result rows are made distinct on the selected columns.
    const seen = new Set<string>();
    rows = rows.filter((r) => {
      const k = JSON.stringify(outCols.map((c) => { const d = r.getByIndex(c.index); return [d.keys, d.values]; }));
      if (seen.has(k)) return false;
      seen.add(k);
      return true;
    });
  }
  if (sort.length > 0) {
    rows.sort((a, b) => {
      for (const c of sort) {
        const x = compareDatums(a.getByIndex(c.index), b.getByIndex(c.index));
        if (x !== 0) return x;
      }
      return 0;
    });
  }
  const names = outCols.map((c) => c.name);
  return { rows: rows.map((r) => r.toJSON(names)) };
}

function execUpdate(txn: Txn, p: JsonObjectParser): OpResult {
  const table = parseTable(txn, p, "table");
  const where = p.member("where", "array");
  const rowJson = p.member("row", "object") as Record<string, unknown> | undefined;
  if (p.error !== null) throw new OpFailure(p.error);
  const data: Datum[] = [];
  const cols: ColumnSchema[] = [];
  try {
    parseRowInto(table!, rowJson!, txn.symtab, data, cols);
  } catch (e) {
    throw new OpFailure(e as OvsdbError);
  }
  for (const c of cols) {
    if (!c.mutable) {
      throw new OpFailure(syntaxError(p.json, "constraint violation", `Cannot update immutable column ${c.name} in table ${table!.schema.name}.`));
    }
  }
  const conds = parseConds(txn, table!, where);
  const rows = txn.query(table!, conds);
  for (const r of rows) {
    let same = true;
    for (const c of cols) if (!datumEquals(r.data[c.index]!, data[c.index]!)) same = false;
    if (same) continue;
    const draft = txn.modify(table!, r);
    for (const c of cols) draft.data[c.index] = data[c.index]!;
  }
  return { count: rows.length };
}

interface Mutation {
  column: ColumnSchema;
  mutator: string;
  arg: Datum;
  argType: OvsdbType;
}

const MUTATORS = new Set(["+=", "-=", "*=", "/=", "%=", "insert", "delete"]);

function parseMutation(txn: Txn, ts: TableSchema, json: unknown): Mutation {
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== "string" || typeof json[1] !== "string") {
    throw syntaxError(json, null, "Parse error in mutation.");
  }
  const [cname, mname, argJson] = json as [string, string, unknown];
  const column = ts.columns.get(cname);
  if (column === undefined) throw syntaxError(json, "unknown column", `No column ${cname} in table ${ts.name}.`);
  if (!column.mutable) throw syntaxError(json, "constraint violation", `Cannot mutate immutable column ${cname} in table ${ts.name}.`);
  if (!MUTATORS.has(mname)) throw new OvsdbError("unknown mutator", `No mutator named ${mname}.`);
  const t = column.type;
  const mismatch = () =>
    syntaxError(json, null, `Type mismatch: "${mname}" operator may not be applied to column ${cname} of type ${t.describe()}.`);
  if (mname === "insert" || mname === "delete") {
    if (!t.isSetOrOptional() && !t.isMap()) throw mismatch();
    let argType = new OvsdbType(t.key, t.value, 0, mname === "delete" ? Infinity : t.max);
    try {
      return { column, mutator: mname, arg: datumFromJSON(argType, argJson, txn.symtab), argType };
    } catch (e) {
      if (!(t.isMap() && mname === "delete")) throw e;
      argType = new OvsdbType(t.key, null, 0, Infinity);
      return { column, mutator: mname, arg: datumFromJSON(argType, argJson, txn.symtab), argType };
    }
  }
  if ((!t.isScalar() && !t.isSetOrOptional()) || (t.key.type !== "integer" && t.key.type !== "real") || (mname === "%=" && t.key.type === "real")) {
    throw mismatch();
  }
  const argType = scalarArgType(t);
  return { column, mutator: mname, arg: datumFromJSON(argType, argJson, txn.symtab), argType };
}

/** The operand type of an arithmetic mutation of a column of each type (made once). */
const scalarArgTypes = new WeakMap<OvsdbType, OvsdbType>();

function scalarArgType(t: OvsdbType): OvsdbType {
  let argType = scalarArgTypes.get(t);
  if (argType === undefined) {
    argType = new OvsdbType(t.key.withoutConstraints(), null, 1, 1);
    scalarArgTypes.set(t, argType);
  }
  return argType;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

function clampInt64(v: bigint): bigint {
  return v > INT64_MAX ? INT64_MAX : v;
}

function mutateScalar(type: OvsdbType, d: Datum, mutator: string, y: number): { d: Datum } | OvsdbError {
  const keys = d.keys.slice();
  const range = () => new OvsdbError("range error", `Result of "${mutator}" operation is out of range.`);
  for (let i = 0; i < keys.length; i++) {
    const x = keys[i] as number;
    if (type.key.type === "integer") {
      // Usual case without BigInts (bench ovsdb (b) increments next_cfg):
      // exact when operands and result are safe integers ("+ 0" turns a
      // -0 product into 0, as the BigInt path gives).
      if ((mutator === "+=" || mutator === "-=" || mutator === "*=") && Number.isSafeInteger(x) && Number.isSafeInteger(y)) {
        const z = mutator === "+=" ? x + y : mutator === "-=" ? x - y : x * y;
        if (Number.isSafeInteger(z)) {
          keys[i] = z + 0;
          continue;
        }
      }
      // Doubles cannot hold INT64_MAX: 2^63 stands for it.
      const bx = clampInt64(BigInt(x));
      const by = clampInt64(BigInt(y));
      let z: bigint;
      switch (mutator) {
        case "+=":
          z = bx + by;
          break;
        case "-=":
          z = bx - by;
          break;
        case "*=":
          z = bx * by;
          break;
        default:
          if (by === 0n) return new OvsdbError("domain error", "Division by zero.");
          // INT64_MIN / -1 overflows, and OVS refuses INT64_MIN % -1 the same way.
          if (bx === INT64_MIN && by === -1n) return range();
          z = mutator === "/=" ? bx / by : bx % by;
      }
      if (z < INT64_MIN || z > INT64_MAX) return range();
      keys[i] = Number(z);
    } else {
      let z: number;
      switch (mutator) {
        case "+=":
          z = x + y;
          break;
        case "-=":
          z = x - y;
          break;
        case "*=":
          z = x * y;
          break;
        default:
          if (y === 0) return new OvsdbError("domain error", "Division by zero.");
          z = x / y;
      }
      if (!Number.isFinite(z)) return range();
      keys[i] = z;
    }
  }
  for (const k of keys) {
    const e = checkAtomConstraints(type.key, k);
    if (e !== null) return e;
  }
  const nd: Datum = { keys, values: null };
  if (sortDatum(nd, type) !== null) {
    return new OvsdbError("constraint violation", `Result of "${mutator}" operation contains duplicates.`);
  }
  return { d: nd };
}

/** a ∪ b; for maps, keys already in a keep their value. */
function datumUnion(a: Datum, b: Datum): Datum {
  if (b.keys.length === 0) return a;
  const keys: Atom[] = [];
  const values: Atom[] | null = a.values !== null || b.values !== null ? [] : null;
  let i = 0;
  let j = 0;
  while (i < a.keys.length || j < b.keys.length) {
    const c = i >= a.keys.length ? 1 : j >= b.keys.length ? -1 : compareAtoms(a.keys[i]!, b.keys[j]!);
    if (c <= 0) {
      keys.push(a.keys[i]!);
      values?.push(a.values![i]!);
      i++;
      if (c === 0) j++;
    } else {
      keys.push(b.keys[j]!);
      values?.push(b.values![j]!);
      j++;
    }
  }
  return { keys, values };
}

/** a − b; b is a map (pairs must match) or a set of keys. */
function datumSubtract(a: Datum, b: Datum, isMap: boolean): Datum {
  if (b.keys.length === 0 || a.keys.length === 0) return a;
  const keys: Atom[] = [];
  const values: Atom[] | null = isMap ? [] : null;
  for (let i = 0; i < a.keys.length; i++) {
    const j = datumFind(b, a.keys[i]!);
    const drop = j >= 0 && (b.values === null || a.values === null || b.values[j] === a.values[i]);
    if (!drop) {
      keys.push(a.keys[i]!);
      values?.push(a.values![i]!);
    }
  }
  if (keys.length === a.keys.length) return a;
  return { keys, values };
}

function checkCount(type: OvsdbType, d: Datum): OvsdbError | null {
  if (d.keys.length < type.min || d.keys.length > type.max) {
    return new OvsdbError("constraint violation", `Attempted to store ${d.keys.length} elements in ${type.describe()}.`);
  }
  return null;
}

function applyMutations(draft: Row, ms: Mutation[]): OvsdbError | null {
  for (const m of ms) {
    const i = m.column.index;
    const t = m.column.type;
    const cur = draft.data[i]!;
    switch (m.mutator) {
      case "insert": {
        const nd = datumUnion(cur, m.arg);
        const e = checkCount(t, nd);
        if (e !== null) return e;
        draft.data[i] = nd.keys.length === 0 ? emptyDatum(t) : nd;
        break;
      }
      case "delete": {
        const nd = datumSubtract(cur, m.arg, t.isMap());
        const e = checkCount(t, nd);
        if (e !== null) return e;
        draft.data[i] = nd.keys.length === 0 ? emptyDatum(t) : nd;
        break;
      }
      default: {
        const r = mutateScalar(t, cur, m.mutator, m.arg.keys[0] as number);
        if (r instanceof OvsdbError) return r;
        draft.data[i] = r.d.keys.length === 0 ? emptyDatum(t) : r.d.keys.length === 1 ? singleton(r.d.keys[0]!) : r.d;
      }
    }
  }
  return null;
}

function execMutate(txn: Txn, p: JsonObjectParser): OpResult {
  const table = parseTable(txn, p, "table");
  const where = p.member("where", "array");
  const mutationsJson = p.member("mutations", "array") as unknown[] | undefined;
  if (p.error !== null) throw new OpFailure(p.error);
  let ms: Mutation[];
  try {
    ms = mutationsJson!.map((m) => parseMutation(txn, table!.schema, m));
  } catch (e) {
    throw new OpFailure(e as OvsdbError);
  }
  const conds = parseConds(txn, table!, where);
  const rows = txn.query(table!, conds);
  for (const r of rows) {
    const draft = txn.modify(table!, r);
    const e = applyMutations(draft, ms);
    if (e !== null) throw new OpFailure(e);
  }
  return { count: rows.length };
}

function execDelete(txn: Txn, p: JsonObjectParser): OpResult {
  const where = p.member("where", "array");
  const table = parseTable(txn, p, "table");
  if (p.error !== null) throw new OpFailure(p.error);
  const conds = parseConds(txn, table!, where);
  const rows = txn.query(table!, conds);
  for (const r of rows) txn.delete(table!, r);
  return { count: rows.length };
}

function rowProjection(getter: (c: ColumnSchema) => Datum, cols: ColumnSchema[]): string {
  const parts: unknown[] = [];
  for (const c of cols) {
    const d = getter(c);
    parts.push(d.keys, d.values);
  }
  return JSON.stringify(parts);
}

function execWait(txn: Txn, p: JsonObjectParser, elapsedMs: number): OpResult {
  const timeout = p.member("timeout", "integer", true) as number | undefined;
  const where = p.member("where", "array");
  const columnsJson = p.member("columns", "array", true);
  const until = p.member("until", "string") as string | undefined;
  const rowsJson = p.member("rows", "array") as unknown[] | undefined;
  const table = parseTable(txn, p, "table");
  if (p.error !== null) throw new OpFailure(p.error);
  const conds = parseConds(txn, table!, where);
  const cols = parseCols(table!, columnsJson) ?? allColumns(table!.schema);
  let timeoutMs = Infinity;
  if (timeout !== undefined) {
    if (timeout < 0) throw new OpFailure(syntaxError(timeout, null, "timeout must be nonnegative"));
    timeoutMs = timeout;
    if (timeout < txn.timeoutMs) txn.timeoutMs = timeout;
  }
  if (until !== "==" && until !== "!=") throw new OpFailure(syntaxError(until, null, '"until" must be "==" or "!="'));
  const expected = new Set<string>();
  for (const rj of rowsJson!) {
    if (rj === null || typeof rj !== "object" || Array.isArray(rj)) {
      throw new OpFailure(syntaxError(rj, null, "row must be JSON object"));
    }
    const data = defaultData(table!.schema);
    let uuidD: Datum = { keys: [ZERO_UUID], values: null };
    let versionD: Datum = uuidD;
    try {
      const obj = rj as Record<string, unknown>;
      parseRowInto(table!, obj, txn.symtab, data);
      const uc = table!.schema.columns.get("_uuid")!;
      if ("_uuid" in obj) uuidD = datumFromJSON(uc.type, obj["_uuid"], txn.symtab);
      if ("_version" in obj) versionD = datumFromJSON(uc.type, obj["_version"], txn.symtab);
    } catch (e) {
      throw new OpFailure(e as OvsdbError);
    }
    expected.add(rowProjection((c) => (c.index === -1 ? uuidD : c.index === -2 ? versionD : data[c.index]!), cols));
  }
  let equal = true;
  const actual = new Set<string>();
  for (const r of txn.query(table!, conds)) {
    const k = rowProjection((c) => r.getByIndex(c.index), cols);
    if (!expected.has(k)) {
      equal = false;
      break;
    }
    actual.add(k);
  }
  if (equal) equal = actual.size === expected.size;
  if ((until === "==") !== equal) {
    if (timeout !== undefined && elapsedMs >= timeoutMs) {
      if (elapsedMs > 0) throw new OpFailure(new OvsdbError("timed out", `"wait" timed out after ${elapsedMs} ms`));
      throw new OpFailure(new OvsdbError("timed out", '"where" clause test failed'));
    }
    throw new WaitBlocked();
  }
  return {};
}

function execCommit(txn: Txn, p: JsonObjectParser): OpResult {
  const durable = p.member("durable", "boolean") as boolean | undefined;
  if (durable === true) txn.durable = true;
  return {};
}

function execComment(txn: Txn, p: JsonObjectParser): OpResult {
  const c = p.member("comment", "string") as string | undefined;
  if (c !== undefined) txn.comments.push(c);
  return {};
}

function execAssert(_txn: Txn, p: JsonObjectParser, locks: Set<string> | undefined): OpResult {
  const lock = p.member("lock", "id") as string | undefined;
  if (lock === undefined) return {};
  if (locks?.has(lock)) return {};
  throw new OpFailure(new OvsdbError("not owner", `Asserted lock ${lock} not held.`));
}

/** OP_UNKNOWN, OP_READ (an operation that never writes) or OP_WRITE. */
const OP_UNKNOWN = 0;
const OP_READ = 1;
const OP_WRITE = 2;
/** What kind of operation `name` is (a switch: no string hashing per operation, unlike a Set). */
function opKind(name: string): number {
  switch (name) {
    case "select":
    case "wait":
    case "abort":
    case "comment":
    case "assert":
      return OP_READ;
    case "insert":
    case "update":
    case "mutate":
    case "delete":
    case "commit":
      return OP_WRITE;
    default:
      return OP_UNKNOWN;
  }
}

/** The outcome of composing a transaction: results plus the txn if it may commit. */
export interface Composed {
  results: unknown[];
  txn: Txn | null;
  blocked: { timeoutMs: number } | null;
}

export function compose(db: DbState, ops: unknown, opts: TransactOptions): Composed {
  if (!Array.isArray(ops)) {
    return { results: [syntaxError(ops, null, "array expected").toJSON()], txn: null, blocked: null };
  }
  const txn = new Txn(db);
  const results: unknown[] = [];
  const n = ops.length;
  const reserved = db.schema.name.startsWith("_");
  let failed = false;
  for (let i = 0; i < n; i++) {
    const op = ops[i];
    const p = new JsonObjectParser(op, `ovsdb operation ${i + 1} of ${n}`);
    const name = p.member("op", "id") as string | undefined;
    const kind = name === undefined ? OP_UNKNOWN : opKind(name);
    let result: OpResult | null = null;
    let error: OvsdbError | null = null;
    if (name !== undefined) {
      if (kind === OP_UNKNOWN) p.raise(`No operation "${name}"`);
      else {
        try {
          switch (name) {
            case "insert":
              result = execInsert(txn, p);
              break;
            case "select":
              result = execSelect(txn, p);
              break;
            case "update":
              result = execUpdate(txn, p);
              break;
            case "mutate":
              result = execMutate(txn, p);
              break;
            case "delete":
              result = execDelete(txn, p);
              break;
            case "wait":
              result = execWait(txn, p, opts.elapsedWaitMs ?? 0);
              break;
            case "commit":
              result = execCommit(txn, p);
              break;
            case "abort":
              error = new OvsdbError("aborted", "aborted by request");
              break;
            case "comment":
              result = execComment(txn, p);
              break;
            case "assert":
              result = execAssert(txn, p, opts.heldLocks);
              break;
          }
        } catch (e) {
          if (e instanceof OpFailure) error = e.error;
          else if (e instanceof WaitBlocked) {
            const pe = p.finish();
            if (pe === null) return { results: [], txn: null, blocked: { timeoutMs: txn.timeoutMs } };
            error = pe;
          } else if (e instanceof OvsdbError) error = e;
          else throw e;
        }
      }
    }
    const pe = p.finish();
    if (pe !== null) error = pe;
    if (error === null && name !== undefined && kind !== OP_READ) {
      if (opts.readOnly) error = new OvsdbError("not allowed", `${name} operation not allowed when database server is in read only mode`);
      else if (reserved)
        error = new OvsdbError("not allowed", `${name} operation not allowed on table in reserved database ${db.schema.name}`);
    }
    if (error !== null) {
      results.push(error.toJSON());
      failed = true;
      break;
    }
    results.push(result ?? {});
  }
  while (results.length < n) results.push(null);
  return { results, txn: failed ? null : txn, blocked: null };
}

// ---------------------------------------------------------------------------
// Commit.

function rowsEqual(a: Row, b: Row): boolean {
  const n = a.data.length;
  for (let i = 0; i < n; i++) if (!datumEquals(a.data[i]!, b.data[i]!)) return false;
  return true;
}

/** Result of a successful precommit: what to apply. */
export interface Prepared {
  changes: ChangeSet;
  refDelta: Map<Table, Map<string, number>>;
}

type RefDelta = Map<Table, Map<string, number>>;

/** Adds `d` to the pending reference count change of `uuid` in table `tableName`; returns the table. */
function addDelta(db: DbState, refDelta: RefDelta, tableName: string, uuid: string, d: number): Table {
  const t = db.tables.get(tableName)!;
  let m = refDelta.get(t);
  if (m === undefined) {
    m = new Map();
    refDelta.set(t, m);
  }
  m.set(uuid, (m.get(uuid) ?? 0) + d);
  return t;
}

/** The strong reference count `uuid` will have after the transaction. */
function refCount(refDelta: RefDelta, t: Table, uuid: string): number {
  const base = t.rows.get(uuid)?.refs ?? 0;
  return base + (refDelta.get(t)?.get(uuid) ?? 0);
}

/**
 * Checks the commit-time rules and finalizes the transaction's rows.
 * Returns the change set to apply, or an error (nothing applied).
 *
 * Each rule is a function of its own: precommit runs once per
 * transaction, and V8 compiles (and after a deoptimization recompiles)
 * small functions far faster than one big one — compiling the former
 * single function took ~0.1-0.8 s of a compiler thread, a large part of a
 * fresh server's cost for bench ovsdb (a) and (b). Rules whose work is
 * empty for a transaction return at once.
 */
export function precommit(txn: Txn): Prepared | OvsdbError {
  // 1. Drop rows that did not really change.
  dropUnchanged(txn);
  const refDelta: RefDelta = new Map();
  if (txn.rows.size === 0) return { changes: new Map(), refDelta };
  // 2. Reference counts and referential integrity.
  const err = countStrongRefs(txn, refDelta) ?? checkDeletedUnreferenced(txn, refDelta);
  if (err !== null) return err;
  // 3. Garbage collection of unreferenced rows in non-root tables.
  collectGarbage(txn, refDelta);
  // 4. maxRows, 5. weak references, 6. index uniqueness.
  const err2 = checkMaxRows(txn) ?? dropWeakRefs(txn) ?? checkIndexes(txn);
  if (err2 !== null) return err2;
  return { changes: changeSet(txn), refDelta };
}

function dropUnchanged(txn: Txn): void {
  for (const [table, m] of txn.rows) {
    for (const [uuid, tr] of m) {
      if (tr.old === null && tr.cur === null) m.delete(uuid);
      else if (tr.old !== null && tr.cur !== null && (tr.cur === tr.old || rowsEqual(tr.old, tr.cur))) m.delete(uuid);
    }
    if (m.size === 0) txn.rows.delete(table);
  }
}

/**
 * Counts the strong references each changed row gains or loses and checks
 * that gained ones point at rows that exist. Only references that a row
 * gains or loses are counted, so a big set that changes a little costs a
 * merge of two sorted arrays, not a hash update per element.
 */
function countStrongRefs(txn: Txn, refDelta: RefDelta): OvsdbError | null {
  const db = txn.db;
  for (const m of txn.rows.values()) {
    for (const tr of m.values()) {
      const ts = tr.table.schema;
      for (const c of refColumns(ts).strong) {
        const od = tr.old?.data[c.index] ?? null;
        const nd = tr.cur?.data[c.index] ?? null;
        // An unchanged column (most of them) gains and loses nothing.
        if (od === nd) continue;
        let err: OvsdbError | null = null;
        diffRefs(c, od, nd, "strong", (tname, u, sign) => {
          addDelta(db, refDelta, tname, u, sign);
          if (sign > 0 && err === null && txn.getRow(db.tables.get(tname)!, u) === null) {
            err = new OvsdbError(
              "referential integrity violation",
              `Table ${ts.name} column ${c.name} row ${tr.uuid} references nonexistent row ${u} in table ${tname}.`,
            );
          }
        });
        if (err !== null) return err;
      }
    }
  }
  return null;
}

function checkDeletedUnreferenced(txn: Txn, refDelta: RefDelta): OvsdbError | null {
  for (const m of txn.rows.values()) {
    for (const tr of m.values()) {
      if (tr.cur === null && tr.old !== null) {
        const n = refCount(refDelta, tr.table, tr.uuid);
        if (n > 0) {
          return new OvsdbError(
            "referential integrity violation",
            `cannot delete ${tr.table.schema.name} row ${tr.uuid} because of ${n} remaining reference(s)`,
          );
        }
      }
    }
  }
  return null;
}

/** Deletes unreferenced rows of non-root tables, to a fixed point. */
function collectGarbage(txn: Txn, refDelta: RefDelta): void {
  const db = txn.db;
  // Candidates as two parallel stacks (no [table, uuid] pair per row).
  const workTables: Table[] = [];
  const workUuids: string[] = [];
  for (const [t, m] of txn.rows) {
    if (t.schema.isRoot) continue;
    for (const u of m.keys()) {
      workTables.push(t);
      workUuids.push(u);
    }
  }
  for (const [t, m] of refDelta) {
    if (t.schema.isRoot) continue;
    for (const u of m.keys()) {
      workTables.push(t);
      workUuids.push(u);
    }
  }
  while (workTables.length > 0) {
    const t = workTables.pop()!;
    const u = workUuids.pop()!;
    const row = txn.getRow(t, u);
    if (row === null || refCount(refDelta, t, u) > 0) continue;
    txn.delete(t, row);
    for (const c of refColumns(t.schema).strong) {
      forEachRef(c, row.data[c.index]!, "strong", (tn, tu) => {
        const tt = addDelta(db, refDelta, tn, tu, -1);
        if (!tt.schema.isRoot) {
          workTables.push(tt);
          workUuids.push(tu);
        }
      });
    }
  }
  // GC of rows inserted in this transaction leaves (null, null) entries.
  for (const [table, m] of txn.rows) {
    for (const [uuid, tr] of m) if (tr.old === null && tr.cur === null) m.delete(uuid);
    if (m.size === 0) txn.rows.delete(table);
  }
}

function checkMaxRows(txn: Txn): OvsdbError | null {
  for (const [t, m] of txn.rows) {
    if (t.schema.maxRows === Infinity) continue;
    let n = t.rows.size;
    for (const tr of m.values()) {
      if (tr.old === null && tr.cur !== null) n++;
      else if (tr.old !== null && tr.cur === null) n--;
    }
    if (n > t.schema.maxRows) {
      return new OvsdbError(
        "constraint violation",
        `transaction causes "${t.schema.name}" table to contain ${n} rows, greater than the schema-defined limit of ${t.schema.maxRows} row(s)`,
      );
    }
  }
  return null;
}

/**
 * Weak references: drops references to rows that are gone, then checks
 * that no weak reference column is left below its minimum size.
 */
function dropWeakRefs(txn: Txn): OvsdbError | null {
  const db = txn.db;
  const deletedTargets: string[] = [];
  let weakRows = false;
  for (const m of txn.rows.values()) {
    for (const tr of m.values()) {
      if (tr.cur === null) {
        if (tr.old !== null) deletedTargets.push(tr.uuid);
      } else if (!weakRows && refColumns(tr.table.schema).weak.length > 0) weakRows = true;
    }
  }
  // Nothing deleted and no surviving row with a weak reference column
  // (e.g. a small transaction on the Open_vSwitch row): nothing to do.
  if (deletedTargets.length === 0 && !weakRows) return null;
  const removedWeak = new Map<TxnRow, Map<ColumnSchema, number>>();
  const zeroRemoved = new Set<TxnRow>();
  const noteRemoved = (tr: TxnRow, c: ColumnSchema, n: number, before?: Datum) => {
    if (before !== undefined && (before.keys[0] === ZERO_UUID || before.values?.[0] === ZERO_UUID)) zeroRemoved.add(tr);
    let m = removedWeak.get(tr);
    if (m === undefined) {
      m = new Map();
      removedWeak.set(tr, m);
    }
    m.set(c, (m.get(c) ?? 0) + n);
  };
  if (deletedTargets.length > 0) {
    const deletedSet = new Set(deletedTargets);
    for (const target of deletedTargets) {
      const srcs = db.weakIn.get(target);
      if (srcs === undefined) continue;
      for (const [srcUuid, srcTable] of srcs) {
        const tr0 = txn.txnRow(srcTable, srcUuid);
        if (tr0 !== undefined && (tr0.cur === null || tr0.cur !== tr0.old)) continue; // deleted or already modified
        const row = srcTable.rows.get(srcUuid);
        if (row === undefined) continue;
        const draft = txn.modify(srcTable, row);
        const tr = txn.txnRow(srcTable, srcUuid)!;
        for (const c of refColumns(srcTable.schema).weak) {
          const before = draft.data[c.index]!;
          // Only references to rows this transaction deletes go (OVS leaves older dangling ones).
          const after = filterWeak(c, before, (_tn, u) => !deletedSet.has(u));
          if (after !== before) {
            noteRemoved(tr, c, before.keys.length - after.keys.length);
            draft.data[c.index] = after;
          }
        }
      }
    }
  }
  const exists = (tname: string, u: string): boolean => {
    const t = db.tables.get(tname);
    return t !== undefined && txn.getRow(t, u) !== null;
  };
  for (const m of txn.rows.values()) {
    for (const tr of m.values()) {
      if (tr.cur === null || tr.cur === tr.old) continue;
      const weak = refColumns(tr.table.schema).weak;
      if (weak.length === 0) continue;
      for (const c of weak) {
        const before = tr.cur.data[c.index]!;
        const old = tr.old?.data[c.index] ?? null;
        if (before === old) continue;
        // Only references added by this transaction are checked here.
        const after = filterWeak(c, before, (tn, u, isKey, idx) => {
          if (old !== null && refIn(old, before, isKey, idx)) return true;
          return exists(tn, u);
        });
        if (after !== before) {
          noteRemoved(tr, c, before.keys.length - after.keys.length, before);
          tr.cur.data[c.index] = after;
        }
      }
    }
  }
  for (const m of txn.rows.values()) {
    for (const tr of m.values()) {
      if (tr.cur === null) continue;
      for (const c of refColumns(tr.table.schema).weak) {
        const d = tr.cur.data[c.index]!;
        if (d.keys.length < c.type.min) {
          const how = tr.old === null ? " (inserted within this transaction)" : "";
          const n = removedWeak.get(tr)?.get(c);
          if (n === undefined || zeroRemoved.has(tr)) {
            return new OvsdbError(
              "constraint violation",
              `Weak reference column "${c.name}" in "${tr.table.schema.name}" row ${tr.uuid}${how} contained all-zeros UUID (probably as the default value for this column) but deleting this value caused a constraint volation because this column is not allowed to be empty.`,
            );
          }
          return new OvsdbError(
            "constraint violation",
            `Deletion of ${n} weak reference(s) to deleted (or never-existing) rows from column "${c.name}" in "${tr.table.schema.name}" row ${tr.uuid}${how} caused this column to become empty, but constraints on this column disallow an empty column.`,
          );
        }
      }
    }
  }
  return null;
}

/** Index uniqueness, within the transaction and against the committed rows. */
function checkIndexes(txn: Txn): OvsdbError | null {
  for (const [t, m] of txn.rows) {
    const icols = indexColumns(t.schema);
    for (let i = 0; i < icols.length; i++) {
      const cols = icols[i]!;
      const seen = new Map<Atom | string, TxnRow>();
      for (const tr of m.values()) {
        if (tr.cur === null) continue;
        const key = indexKey(tr.cur, cols);
        const other = seen.get(key);
        if (other !== undefined) return indexError(t, cols, tr.cur, other, tr);
        seen.set(key, tr);
        const u = t.indexMaps[i]!.get(key);
        if (u === undefined || u === tr.uuid) continue;
        const otr = m.get(u);
        if (otr === undefined) return indexError(t, cols, tr.cur, null, tr, t.rows.get(u)!);
        // otr is in this transaction: it conflicts only if it keeps that key (found via `seen`).
      }
    }
  }
  return null;
}

/** The change set: every row whose data really changed. */
function changeSet(txn: Txn): ChangeSet {
  const changes: ChangeSet = new Map();
  for (const [t, m] of txn.rows) {
    const cm = new Map<string, RowChange>();
    for (const tr of m.values()) {
      if (tr.old !== null && tr.cur !== null && (tr.cur === tr.old || rowsEqual(tr.old, tr.cur))) continue;
      cm.set(tr.uuid, { old: tr.old, new: tr.cur });
    }
    if (cm.size > 0) changes.set(t.schema.name, cm);
  }
  return changes;
}

/** True if the element at idx of `cur` (key or value) also exists in `old`. */
function refIn(old: Datum, cur: Datum, isKey: boolean, idx: number): boolean {
  const k = cur.keys[idx]!;
  const j = datumFind(old, k);
  if (j < 0) return false;
  if (isKey) return true;
  return old.values !== null && cur.values !== null && old.values[j] === cur.values[idx];
}

/** Removes weak references (keys or values) for which keep() is false. */
function filterWeak(c: ColumnSchema, d: Datum, keep: (table: string, uuid: string, isKey: boolean, idx: number) => boolean): Datum {
  const kb = c.type.key;
  const vb = c.type.value;
  const kw = kb.isWeakRef();
  const vw = vb !== null && vb.isWeakRef();
  let drop: boolean[] | null = null;
  for (let i = 0; i < d.keys.length; i++) {
    let ok = true;
    if (kw && !keep(kb.refTable!, d.keys[i] as string, true, i)) ok = false;
    if (ok && vw && d.values !== null && !keep(vb!.refTable!, d.values[i] as string, false, i)) ok = false;
    if (!ok) {
      drop ??= new Array<boolean>(d.keys.length).fill(false);
      drop[i] = true;
    }
  }
  if (drop === null) return d;
  const keys: Atom[] = [];
  const values: Atom[] | null = d.values !== null ? [] : null;
  for (let i = 0; i < d.keys.length; i++) {
    if (drop[i]) continue;
    keys.push(d.keys[i]!);
    values?.push(d.values![i]!);
  }
  if (keys.length === 0) return emptyDatum(c.type);
  return { keys, values };
}

/** "a", "a and b", "a, b, and c", as OVS lists things in English. */
function englishList(items: string[]): string {
  if (items.length <= 1) return items.join("");
  if (items.length === 2) return `${items[0]} and ${items[1]}`;
  return `${items.slice(0, -1).join(", ")}, and ${items[items.length - 1]}`;
}

function describeIndexValues(row: Row, cols: ColumnSchema[]): string {
  return englishList(cols.map((c) => datumText(c, row.data[c.index]!)));
}

function datumText(c: ColumnSchema, d: Datum): string {
  return datumToString(c.type, d);
}

/** The order of a table's columns (with _uuid and _version) in OVS's schema shash. */
const shashColumnOrder = new WeakMap<TableSchema, string[]>();

/**
 * Compares two rows column by column in the order OVS's schema shash
 * iterates them, each datum by its number of elements first, then its
 * atoms: the order OVS uses to say which row of an index conflict is the
 * "First row" (the greater one).
 */
function compareRowsAllColumns(a: Row, b: Row): number {
  let order = shashColumnOrder.get(a.table);
  if (order === undefined) {
    order = rowMemberOrder(a.table.columnList.map((c) => c.name));
    shashColumnOrder.set(a.table, order);
  }
  for (const name of order) {
    const x = a.get(name);
    const y = b.get(name);
    if (x.keys.length !== y.keys.length) return x.keys.length < y.keys.length ? -1 : 1;
    for (let i = 0; i < x.keys.length; i++) {
      const c = compareAtoms(x.keys[i]!, y.keys[i]!);
      if (c !== 0) return c;
    }
    if (x.values !== null && y.values !== null) {
      for (let i = 0; i < x.values.length; i++) {
        const c = compareAtoms(x.values[i]!, y.values[i]!);
        if (c !== 0) return c;
      }
    }
  }
  return 0;
}

function indexError(t: Table, cols: ColumnSchema[], newRow: Row, otherTr: TxnRow | null, newTr: TxnRow, committed?: Row): OvsdbError {
  const colWord = cols.length > 1 ? "columns" : "column";
  const colNames = englishList(cols.map((c) => `"${c.name}"`));
  const describe = (tr: TxnRow | null): string => {
    if (tr === null || (tr.old !== null && tr.cur !== null && changedColumns(tr.old, tr.cur).length === 0)) {
      return "existed in the database before this transaction and was not modified by the transaction.";
    }
    if (tr.old === null) return "was inserted by this transaction.";
    if (cols.every((c) => datumEquals(tr.old!.get(c.name), tr.cur!.get(c.name)))) {
      return "existed in the database before this transaction, which modified some of the row's columns but not any columns in this index.";
    }
    return `had the following index values before the transaction: ${describeIndexValues(tr.old, cols)}.`;
  };
  let a: [Row, TxnRow | null] = [otherTr?.cur ?? committed!, otherTr];
  let b: [Row, TxnRow | null] = [newRow, newTr];
  // OVS names the greater row (over all columns, in schema order) first.
  if (compareRowsAllColumns(a[0], b[0]) < 0) [a, b] = [b, a];
  return new OvsdbError(
    "constraint violation",
    `Transaction causes multiple rows in "${t.schema.name}" table to have identical values (${describeIndexValues(a[0], cols)}) for index on ${colWord} ${colNames}.  First row, with UUID ${a[0].uuid}, ${describe(a[1])}  Second row, with UUID ${b[0].uuid}, ${describe(b[1])}`,
  );
}

export { datumToJSON, atomToJSON, UINT_MAX };
