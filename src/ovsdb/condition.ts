/**
 * Conditions (RFC 7047 §5.1 <condition>): parsing with OVS's checks and
 * wording, and evaluation against rows. Used by select/update/delete/wait
 * and by monitor_cond.
 */
import { OvsdbError, syntaxError } from "./error.js";
import type { Datum, Symtab } from "./datum.js";
import { compareAtoms, datumEquals, datumFind, datumFromJSON, EMPTY_SET } from "./datum.js";
import type { ColumnSchema, TableSchema } from "./schema.js";
import { OvsdbType } from "./types.js";
import type { Row } from "./row.js";

export type Condition = { column: string; fn: string; value: Datum };

const FUNCTIONS = new Set(["<", "<=", "==", "!=", ">=", ">", "includes", "excludes"]);

/** A parsed condition with its column resolved (internal, fast form). */
interface Clause {
  column: ColumnSchema;
  fn: string;
  value: Datum;
}

const clauseCache = new WeakMap<Condition, Clause>();

function parseClause(table: TableSchema, json: unknown, symtab?: Symtab): Condition {
  if (json === true || json === false) {
    return { column: "_uuid", fn: json ? "true" : "false", value: EMPTY_SET };
  }
  if (!Array.isArray(json) || json.length !== 3 || typeof json[0] !== "string" || typeof json[1] !== "string") {
    throw syntaxError(json, null, "Parse error in condition.");
  }
  const [cname, fname, arg] = json as [string, string, unknown];
  const column = table.columns.get(cname);
  if (column === undefined) throw syntaxError(json, "unknown column", `No column ${cname} in table ${table.name}.`);
  if (!FUNCTIONS.has(fname)) throw new OvsdbError("unknown function", `No function named ${fname}.`);
  let type = column.type;
  switch (fname) {
    case "<":
    case "<=":
    case ">":
    case ">=":
      if (!(type.isScalar() || type.isOptionalScalar()) || (type.key.type !== "integer" && type.key.type !== "real")) {
        throw syntaxError(json, null, `Type mismatch: "${fname}" operator may not be applied to column ${cname} of type ${type.describe()}.`);
      }
      break;
    case "excludes":
      if (!type.isScalar()) type = new OvsdbType(type.key, type.value, 0, Infinity);
      break;
    case "includes":
      if (!type.isScalar()) type = new OvsdbType(type.key, type.value, 0, type.max);
      break;
  }
  const value = datumFromJSON(type, arg, symtab);
  const cond: Condition = { column: cname, fn: fname, value };
  clauseCache.set(cond, { column, fn: fname, value });
  return cond;
}

/** Parses a JSON array of conditions for `table`. Throws OvsdbError. */
export function parseConditions(table: TableSchema, json: unknown, symtab?: Symtab): Condition[] {
  if (!Array.isArray(json)) throw syntaxError(json, null, "Parse error in condition.");
  return json.map((c) => parseClause(table, c, symtab));
}

/** True if every element of `sub` (keys, and values for maps) is in `sup`. */
function includesAll(sup: Datum, sub: Datum): boolean {
  for (let i = 0; i < sub.keys.length; i++) {
    const j = datumFind(sup, sub.keys[i]!);
    if (j < 0) return false;
    if (sub.values !== null && sup.values !== null && sub.values[i] !== sup.values[j]) return false;
  }
  return true;
}

/** True if no element of `sub` is in `sup`. */
function excludesAll(sup: Datum, sub: Datum): boolean {
  for (let i = 0; i < sub.keys.length; i++) {
    const j = datumFind(sup, sub.keys[i]!);
    if (j >= 0 && (sub.values === null || sup.values === null || sub.values[i] === sup.values[j])) return false;
  }
  return true;
}

function evalClause(row: Row, column: ColumnSchema, fn: string, arg: Datum): boolean {
  if (fn === "true") return true;
  if (fn === "false") return false;
  const type = column.type;
  const field = row.getByIndex(column.index);
  if (type.isOptionalScalar() && field.keys.length === 0) {
    return fn === "!=" || fn === "excludes";
  }
  if (type.isScalar() || type.isOptionalScalar()) {
    const cmp = compareAtoms(field.keys[0]!, arg.keys[0]!);
    switch (fn) {
      case "<":
        return cmp < 0;
      case "<=":
        return cmp <= 0;
      case "==":
      case "includes":
        return cmp === 0;
      case "!=":
      case "excludes":
        return cmp !== 0;
      case ">=":
        return cmp >= 0;
      case ">":
        return cmp > 0;
    }
    return false;
  }
  switch (fn) {
    case "==":
      return datumEquals(field, arg);
    case "!=":
      return !datumEquals(field, arg);
    case "includes":
      return includesAll(field, arg);
    case "excludes":
      return excludesAll(field, arg);
  }
  return false;
}

/**
 * Compiles conditions for `table` into a predicate (resolves columns once;
 * use it when testing many rows against the same conditions).
 */
export function conditionMatcher(table: TableSchema, conds: Condition[]): (row: Row) => boolean {
  const clauses: Clause[] = [];
  for (const c of conds) {
    if (c.fn === "true") continue;
    if (c.fn === "false") return () => false;
    const cl = clauseCache.get(c);
    const column = cl?.column ?? table.columns.get(c.column);
    if (column === undefined) return () => false;
    clauses.push({ column, fn: c.fn, value: c.value });
  }
  if (clauses.length === 0) return () => true;
  if (clauses.length === 1) {
    const { column, fn, value } = clauses[0]!;
    return (row) => evalClause(row, column, fn, value);
  }
  return (row) => {
    for (const cl of clauses) if (!evalClause(row, cl.column, cl.fn, cl.value)) return false;
    return true;
  };
}

export function rowMatches(row: Row, conds: Condition[]): boolean {
  for (const c of conds) {
    let cl = clauseCache.get(c);
    if (cl === undefined) {
      if (c.fn === "true" || c.fn === "false") {
        if (c.fn === "false") return false;
        continue;
      }
      const column = row.table.columns.get(c.column);
      if (column === undefined) return false;
      cl = { column, fn: c.fn, value: c.value };
      clauseCache.set(c, cl);
    }
    if (!evalClause(row, cl.column, cl.fn, cl.value)) return false;
  }
  return true;
}
