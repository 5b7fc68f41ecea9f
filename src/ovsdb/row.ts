/**
 * Rows and tables. A committed Row is an immutable snapshot: a change makes
 * a new Row, so monitors and storage can keep and compare old and new rows.
 * Values live in one array indexed by column index; empty and default
 * datums are shared.
 */
import type { Datum } from "./datum.js";
import { datumToJSON } from "./datum.js";
import type { TableSchema } from "./schema.js";

export class Row {
  readonly uuid: string;
  readonly version: string;
  readonly table: TableSchema;
  /** @internal Datums by column index (never mutate once committed). */
  readonly data: Datum[];
  /** @internal Number of strong references to this row (carried between versions). */
  refs: number;

  constructor(table: TableSchema, uuid: string, version: string, data: Datum[], refs = 0) {
    this.table = table;
    this.uuid = uuid;
    this.version = version;
    this.data = data;
    this.refs = refs;
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
  /** @internal One hash index per schema index: key text -> row uuid. */
  readonly indexMaps: Map<string, string>[];

  constructor(schema: TableSchema) {
    this.schema = schema;
    this.indexMaps = schema.indexes.map(() => new Map<string, string>());
  }
}
