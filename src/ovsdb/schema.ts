/**
 * Database schemas (RFC 7047 §3.2): parsing and validation with
 * ovsdb-tool's rules and wording, and the JSON form that get_schema returns.
 */
import { OvsdbError, syntaxError } from "./error.js";
import { JsonObjectParser, isId } from "./json-parser.js";
import { BaseType, OvsdbType } from "./types.js";

export class ColumnSchema {
  name: string;
  type: OvsdbType;
  ephemeral: boolean;
  mutable: boolean;
  /** Position in `table.columnList`; -1 for "_uuid", -2 for "_version". */
  index: number;

  constructor(name: string, type: OvsdbType, mutable = true, ephemeral = false, index = -1) {
    this.name = name;
    this.type = type;
    this.mutable = mutable;
    this.ephemeral = ephemeral;
    this.index = index;
  }

  static fromJSON(name: string, json: unknown, index: number): ColumnSchema {
    const p = new JsonObjectParser(json, `schema for column ${name}`);
    const mutableJson = p.member("mutable", "boolean", true) as boolean | undefined;
    const ephemeralJson = p.member("ephemeral", "boolean", true) as boolean | undefined;
    const typeJson = p.member("type", "any");
    if (p.error === null && (typeJson === null || (typeof typeJson !== "string" && (typeof typeJson !== "object" || Array.isArray(typeJson))))) {
      p.raise("Type mismatch for member 'type'.");
    }
    p.finishOrThrow();
    const type = OvsdbType.fromJSON(typeJson);
    return new ColumnSchema(name, type, mutableJson ?? true, ephemeralJson ?? false, index);
  }

  toJSON(): unknown {
    const o: Record<string, unknown> = { type: this.type.toJSON() };
    if (this.ephemeral) o["ephemeral"] = true;
    if (!this.mutable) o["mutable"] = false;
    return o;
  }
}

const UUID_TYPE = new OvsdbType(new BaseType("uuid"));

export class TableSchema {
  name: string;
  /** Every column by name, including "_uuid" and "_version". */
  columns: Map<string, ColumnSchema> = new Map();
  /** User columns in schema order (their `index` is their position here). */
  columnList: ColumnSchema[] = [];
  isRoot: boolean;
  /** Infinity when unlimited. */
  maxRows: number;
  /** Each index is a list of column names. */
  indexes: string[][];
  /** Whether "isRoot" was given in the schema JSON. */
  isRootGiven: boolean;

  constructor(name: string, columns: ColumnSchema[], isRoot = true, maxRows = Infinity, indexes: string[][] = [], isRootGiven = false) {
    this.name = name;
    this.isRoot = isRoot;
    this.maxRows = maxRows;
    this.indexes = indexes;
    this.isRootGiven = isRootGiven;
    this.columns.set("_uuid", new ColumnSchema("_uuid", UUID_TYPE, false, false, -1));
    this.columns.set("_version", new ColumnSchema("_version", UUID_TYPE, false, false, -2));
    for (const c of columns) {
      c.index = this.columnList.length;
      this.columnList.push(c);
      this.columns.set(c.name, c);
    }
  }

  static fromJSON(name: string, json: unknown): TableSchema {
    const p = new JsonObjectParser(json, `table schema for table ${name}`);
    const columnsJson = p.member("columns", "object") as Record<string, unknown> | undefined;
    const maxRowsJson = p.member("maxRows", "integer", true) as number | undefined;
    const isRootJson = p.member("isRoot", "boolean", true) as boolean | undefined;
    const indexesJson = p.member("indexes", "array", true) as unknown[] | undefined;
    p.finishOrThrow();
    const names = Object.keys(columnsJson!);
    if (names.length === 0) throw syntaxError(json, null, "table must have at least one column");
    let maxRows = Infinity;
    if (maxRowsJson !== undefined) {
      if (maxRowsJson <= 0) throw syntaxError(json, null, "maxRows must be at least 1");
      maxRows = maxRowsJson;
    }
    const cols: ColumnSchema[] = [];
    for (const cname of names) {
      if (cname.startsWith("_")) throw syntaxError(json, null, 'names beginning with "_" are reserved');
      if (!isId(cname)) throw syntaxError(json, null, "name must be a valid id");
      cols.push(ColumnSchema.fromJSON(cname, columnsJson![cname], cols.length));
    }
    const ts = new TableSchema(name, cols, isRootJson ?? false, maxRows, [], isRootJson !== undefined);
    for (const ij of indexesJson ?? []) {
      const cs = parseColumnSet(ts, ij);
      if (cs.length === 0) throw syntaxError(ij, null, "index must have at least one column");
      for (const c of cs) {
        if (c.ephemeral) throw syntaxError(ij, null, `ephemeral columns (such as ${c.name}) may not be indexed`);
        if (c.index < 0) throw syntaxError(ij, null, `${c.name} is not a valid column name`);
      }
      ts.indexes.push(cs.map((c) => c.name));
    }
    return ts;
  }

  toJSON(defaultIsRoot: boolean): unknown {
    const o: Record<string, unknown> = {};
    const cols: Record<string, unknown> = {};
    for (const c of this.columnList) cols[c.name] = c.toJSON();
    o["columns"] = cols;
    if (this.isRoot && !defaultIsRoot) o["isRoot"] = true;
    if (this.maxRows !== Infinity) o["maxRows"] = this.maxRows;
    if (this.indexes.length > 0) o["indexes"] = this.indexes.map((ix) => [...ix]);
    return o;
  }
}

/** Parses a JSON array of column names (RFC 7047 <column-set>). */
export function parseColumnSet(ts: TableSchema, json: unknown): ColumnSchema[] {
  if (!Array.isArray(json)) throw syntaxError(json, null, "array of distinct column names expected");
  const out: ColumnSchema[] = [];
  const seen = new Set<string>();
  for (const el of json) {
    if (typeof el !== "string") throw syntaxError(json, null, "array of distinct column names expected");
    const c = ts.columns.get(el);
    if (c === undefined) throw syntaxError(json, null, `${el} is not a valid column name`);
    if (seen.has(el)) throw syntaxError(json, null, "array of distinct column names expected");
    seen.add(el);
    out.push(c);
  }
  return out;
}

function isValidVersion(v: string): boolean {
  return /^(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$/.test(v) || /^[0-9]+\.[0-9]+\.[0-9]+$/.test(v);
}

export class DatabaseSchema {
  name: string;
  version: string;
  cksum: string | undefined;
  tables: Map<string, TableSchema>;

  constructor(name: string, version: string, tables: TableSchema[], cksum?: string) {
    this.name = name;
    this.version = version;
    this.cksum = cksum;
    this.tables = new Map(tables.map((t) => [t.name, t]));
  }

  static fromJSON(json: unknown): DatabaseSchema {
    const p = new JsonObjectParser(json, "database schema");
    const name = p.member("name", "id") as string | undefined;
    const versionJson = p.member("version", "string", true) as string | undefined;
    const cksum = p.member("cksum", "string", true) as string | undefined;
    const tablesJson = p.member("tables", "object") as Record<string, unknown> | undefined;
    p.finishOrThrow();
    let version = "";
    if (versionJson !== undefined) {
      if (!isValidVersion(versionJson)) throw syntaxError(json, null, `schema version "${versionJson}" not in format x.y.z`);
      version = versionJson;
    }
    const tables: TableSchema[] = [];
    for (const tname of Object.keys(tablesJson!)) {
      if (tname.startsWith("_")) throw syntaxError(json, null, 'names beginning with "_" are reserved');
      if (!isId(tname)) throw syntaxError(json, null, "name must be a valid id");
      tables.push(TableSchema.fromJSON(tname, tablesJson![tname]));
    }
    // Schemas older than "isRoot" have no garbage collection: every table is a root.
    if (!tables.some((t) => t.isRoot)) for (const t of tables) t.isRoot = true;
    const schema = new DatabaseSchema(name!, version, tables, cksum);
    for (const t of tables) {
      for (const c of t.columnList) {
        for (const [what, base] of [["key", c.type.key], ["value", c.type.value]] as const) {
          if (base?.refTable !== undefined && !schema.tables.has(base.refTable)) {
            throw new OvsdbError("syntax error", `column ${c.name} ${what} refers to undefined table ${base.refTable}`);
          }
        }
      }
    }
    return schema;
  }

  /** True when every table is a root (then "isRoot" is not printed). */
  private defaultIsRoot(): boolean {
    for (const t of this.tables.values()) if (!t.isRoot) return false;
    return true;
  }

  toJSON(): unknown {
    const o: Record<string, unknown> = { name: this.name };
    if (this.version !== "") o["version"] = this.version;
    if (this.cksum !== undefined) o["cksum"] = this.cksum;
    const tables: Record<string, unknown> = {};
    const dflt = this.defaultIsRoot();
    for (const t of this.tables.values()) tables[t.name] = t.toJSON(dflt);
    o["tables"] = tables;
    return o;
  }
}

export { OvsdbError };
