/**
 * Rows and tables. A committed Row is an immutable snapshot: a change makes
 * a new Row, so monitors and storage can keep and compare old and new rows.
 * Values live in one array indexed by column index; empty and default
 * datums are shared.
 */
import { randomUUID } from "node:crypto";
import type { Atom, Datum } from "./datum.js";
import { datumEquals, datumToJSON } from "./datum.js";
import type { ColumnSchema, TableSchema } from "./schema.js";

/**
 * Row versions are a random per-process prefix plus a counter, formatted as
 * a UUID only when asked for: a string per row version would cost ~60 bytes.
 */
const VERSION_PREFIX = randomUUID().slice(0, 24);
let versionCounter = 0;

/** A fresh version number for a new row version. */
export function nextVersion(): number {
  return ++versionCounter;
}

function formatVersion(v: number): string {
  return VERSION_PREFIX + v.toString(16).padStart(12, "0");
}

export class Row {
  readonly uuid: string;
  readonly table: TableSchema;
  /** @internal The version number (see `version`). */
  readonly ver: number;
  /** @internal Datums by column index (never mutate once committed). */
  readonly data: Datum[];
  /** @internal Number of strong references to this row (carried between versions). */
  refs: number;

  constructor(table: TableSchema, uuid: string, version: number, data: Datum[], refs = 0) {
    this.table = table;
    this.uuid = uuid;
    this.ver = version;
    this.data = data;
    this.refs = refs;
  }

  /** The "_version" UUID: changes with every modification of the row. */
  get version(): string {
    return formatVersion(this.ver);
  }

  /** The value of a column (including "_uuid" and "_version"). */
  get(column: string): Datum {
    if (column === "_uuid") return { keys: [this.uuid], values: null };
    if (column === "_version") return { keys: [this.version], values: null };
    const c = this.table.columns.get(column);
    if (c === undefined) throw new Error(`no column ${column} in table ${this.table.name}`);
    return this.data[c.index]!;
  }

  getByIndex(i: number): Datum {
    if (i === -1) return { keys: [this.uuid], values: null };
    if (i === -2) return { keys: [this.version], values: null };
    return this.data[i]!;
  }

  /** column -> datum JSON, for the given columns or all (with _uuid and _version). */
  toJSON(columns?: string[]): Record<string, unknown> {
    const o: Record<string, unknown> = {};
    if (columns === undefined) {
      o["_uuid"] = ["uuid", this.uuid];
      o["_version"] = ["uuid", this.version];
      for (const c of this.table.columnList) o[c.name] = datumToJSON(c.type, this.data[c.index]!);
      return o;
    }
    for (const name of columns) {
      if (name === "_uuid") o[name] = ["uuid", this.uuid];
      else if (name === "_version") o[name] = ["uuid", this.version];
      else {
        const c = this.table.columns.get(name);
        if (c !== undefined) o[name] = datumToJSON(c.type, this.data[c.index]!);
      }
    }
    return o;
  }
}

export class Table {
  readonly schema: TableSchema;
  readonly rows: Map<string, Row> = new Map();
  /** @internal One hash index per schema index: index key (see indexKey) -> row uuid. */
  readonly indexMaps: Map<Atom | string, string>[];

  constructor(schema: TableSchema) {
    this.schema = schema;
    this.indexMaps = schema.indexes.map(() => new Map<Atom | string, string>());
  }
}

/** The user columns whose values differ between two versions of a row. */
export function changedColumns(old: Row, row: Row): ColumnSchema[] {
  const out: ColumnSchema[] = [];
  for (const c of row.table.columnList) if (!datumEquals(old.data[c.index]!, row.data[c.index]!)) out.push(c);
  return out;
}
