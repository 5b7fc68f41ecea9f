/**
 * The command framework shared by every ovs-vsctl command (OVS's
 * db-ctl-base): command syntax records, the per-command context, table and
 * column name matching (case-insensitive, `-` = `_`, unique prefixes),
 * record lookup by uuid / uuid prefix / "." / name columns, and the
 * `column[:key]=value` argument parser.
 *
 * Every user error is a `CtlError` whose message is printed after
 * "ovs-vsctl: " with exit status 1, as ctl_fatal() does.
 */
import type { Idl, IdlRow, TableSchema, ColumnSchema, DbSchema } from "./idl.js";
import { parseToken, isUuid, DatumTextError, type SymbolTable } from "../ovsdb/datum-text.js";
import type { Table } from "../util/table-format.js";

export class CtlError extends Error {
  constructor(message: string) {
    const nul = message.indexOf("\0");
    super(nul >= 0 ? message.slice(0, nul) : message);
    this.name = "CtlError";
  }
}

/** Runs `f`, turning datum-text errors into CtlErrors with the same text. */
export function ctl<T>(f: () => T): T {
  try {
    return f();
  } catch (e) {
    if (e instanceof DatumTextError) throw new CtlError(e.message);
    throw e;
  }
}

export type Mode = "RO" | "RW";

export interface CommandSyntax {
  name: string;
  minArgs: number;
  maxArgs: number;
  /** Argument summary, e.g. "TABLE RECORD [COLUMN[:KEY]]...". */
  arguments: string;
  /** Checks done before talking to the database (table/column names). */
  pre?: (ctx: CommandContext) => void;
  run: (ctx: CommandContext) => void;
  post?: (ctx: CommandContext) => void;
  /** Allowed options, comma separated: "--if-exists,--id=". */
  options: string;
  mode: Mode;
}

/** A row of a command table, in the order ovs-vsctl's tables list the fields. */
export function command(
  name: string,
  minArgs: number,
  maxArgs: number,
  args: string,
  run: (ctx: CommandContext) => void,
  options: string,
  mode: Mode,
  pre?: (ctx: CommandContext) => void,
): CommandSyntax {
  return pre === undefined ? { name, minArgs, maxArgs, arguments: args, run, options, mode } : { name, minArgs, maxArgs, arguments: args, pre, run, options, mode };
}

export interface ParsedCommand {
  syntax: CommandSyntax;
  /** argv[0] is the command name. */
  argv: string[];
  /** Option name ("--id") → value (null when given without "="). */
  options: Map<string, string | null>;
}

/** Warnings go through this (OVS prints them as log lines on stderr). */
export type WarnFn = (module: string, message: string) => void;

/** What commands see: the IDL, the command line, its output. */
export class CommandContext {
  output = "";
  table: Table | null = null;
  tryAgain = false;
  argv: string[] = [];
  options = new Map<string, string | null>();
  /** vsctl's bridge/port/interface cache (see vsctl-cache.ts); null when invalid. */
  cache: unknown = null;
  /** This is the last command of the invocation (OVS then uses partial map/set updates). */
  isLast = false;
  /** Verification already done this command (ports). */
  verifiedPorts = false;

  constructor(
    readonly idl: Idl,
    readonly schema: DbSchema,
    readonly symtab: SymbolTable,
    /** The Open_vSwitch row (may be newly inserted). */
    readonly ovs: IdlRow | null,
    readonly warn: WarnFn,
  ) {}

  has(option: string): boolean {
    return this.options.has(option);
  }
  option(option: string): string | null | undefined {
    return this.options.get(option);
  }
  invalidateCache(): void {
    this.cache = null;
  }
}

// ---------------------------------------------------------------------------
// Name matching.

function lowerUnderscore(c: string): string {
  return c === "-" ? "_" : c.toLowerCase();
}

/** OVS's score_partial_match: MAX for exact, MAX-1 for case-insensitive, else prefix length. */
export function scorePartialMatch(name: string, s: string): number {
  if (name === s) return Number.MAX_SAFE_INTEGER;
  let i = 0;
  for (;; i++) {
    const a = i < name.length ? lowerUnderscore(name[i]!) : "";
    const b = i < s.length ? lowerUnderscore(s[i]!) : "";
    if (a !== b) break;
    if (a === "") return Number.MAX_SAFE_INTEGER - 1;
  }
  return i >= s.length ? i : 0;
}

function bestMatches<T>(items: T[], nameOf: (t: T) => string, s: string): T[] {
  let best = 0;
  let out: T[] = [];
  for (const it of items) {
    const score = scorePartialMatch(nameOf(it), s);
    if (score && score >= best) {
      if (score > best) out = [];
      out.push(it);
      best = score;
    }
  }
  return out;
}

export function getTable(schema: DbSchema, name: string): TableSchema {
  const m = bestMatches(schema.tables, (t) => t.name, name);
  if (m.length === 0) throw new CtlError(`unknown table "${name}"`);
  if (m.length > 1) {
    throw new CtlError(`"${name}" matches multiple table names: ${m.map((t) => t.name).sort().join(", ")}`);
  }
  return m[0]!;
}

export function getColumn(table: TableSchema, name: string): ColumnSchema {
  const m = bestMatches(table.columns, (c) => c.name, name);
  if (m.length === 0) throw new CtlError(`${table.name} does not contain a column whose name matches "${name}"`);
  if (m.length > 1) {
    throw new CtlError(
      `${table.name} contains more than one column whose name matches "${name}": ${m.map((c) => c.name).sort().join(", ")}`,
    );
  }
  return m[0]!;
}

// ---------------------------------------------------------------------------
// Record lookup.

/** How records of a table are named: by a column of some table, maybe through a reference column. */
export interface RowId {
  /** Table holding the name column. */
  table: string;
  nameColumn: string;
  /** Column of that table referring to the wanted row (null: the row itself). */
  uuidColumn: string | null;
}

/** ovs-vsctl's record naming (its `tables[]` row_ids). */
export const VSCTL_ROW_IDS: Record<string, RowId[]> = {
  Bridge: [{ table: "Bridge", nameColumn: "name", uuidColumn: null }],
  Controller: [{ table: "Bridge", nameColumn: "name", uuidColumn: "controller" }],
  Interface: [{ table: "Interface", nameColumn: "name", uuidColumn: null }],
  Mirror: [{ table: "Mirror", nameColumn: "name", uuidColumn: null }],
  Manager: [{ table: "Manager", nameColumn: "target", uuidColumn: null }],
  NetFlow: [{ table: "Bridge", nameColumn: "name", uuidColumn: "netflow" }],
  Port: [{ table: "Port", nameColumn: "name", uuidColumn: null }],
  QoS: [{ table: "Port", nameColumn: "name", uuidColumn: "qos" }],
  sFlow: [{ table: "Bridge", nameColumn: "name", uuidColumn: "sflow" }],
  Flow_Table: [{ table: "Flow_Table", nameColumn: "name", uuidColumn: null }],
  IPFIX: [{ table: "Bridge", nameColumn: "name", uuidColumn: "ipfix" }],
  AutoAttach: [{ table: "Bridge", nameColumn: "name", uuidColumn: "auto_attach" }],
  Flow_Sample_Collector_Set: [{ table: "Flow_Sample_Collector_Set", nameColumn: "id", uuidColumn: null }],
};

function recordIdEquals(name: string | number, record: string): boolean {
  if (typeof name === "number") return /^[0-9]+$/.test(record) && name === Number(record);
  if (name === record) return true;
  return record.length >= 4 && isUuid(name) && name.startsWith(record);
}

function getRowById(ctx: CommandContext, table: TableSchema, id: RowId, record: string): IdlRow | null {
  const idTable = ctx.schema.byName.get(id.table);
  if (!idTable) return null;
  const nameCol = idTable.byName.get(id.nameColumn);
  if (!nameCol) return null;
  if (nameCol.type.key.type === "integer" && !/^[0-9]+$/.test(record)) return null;
  let referrer: IdlRow | null = null;
  for (const row of ctx.idl.rows(id.table)) {
    const d = ctx.idl.read(row, id.nameColumn);
    if (d.keys.length !== 1) continue;
    if (recordIdEquals(d.keys[0] as string | number, record)) {
      if (referrer) throw new CtlError(`multiple rows in ${id.table} match "${record}"`);
      referrer = row;
    }
  }
  if (!referrer) return null;
  if (!id.uuidColumn) return referrer;
  const u = ctx.idl.read(referrer, id.uuidColumn);
  if (u.keys.length !== 1) return null;
  return ctx.idl.get(table.name, u.keys[0] as string) ?? null;
}

/** ctl_get_row(): finds a record by uuid, ".", name, or uuid prefix. */
export function getRow(ctx: CommandContext, table: TableSchema, record: string, mustExist: boolean): IdlRow | null {
  let row: IdlRow | null = null;
  if (isUuid(record)) row = ctx.idl.get(table.name, record.toLowerCase()) ?? null;
  if (!row && record === ".") {
    const rows = ctx.idl.rows(table.name);
    if (rows.length === 1) row = rows[0]!;
  }
  if (!row) {
    for (const id of VSCTL_ROW_IDS[table.name] ?? []) {
      row = getRowById(ctx, table, id, record);
      if (row) break;
    }
  }
  if (!row && partialUuidLength(record) >= 4) {
    const lower = record.toLowerCase();
    for (const r of ctx.idl.rows(table.name)) {
      if (r.uuid.startsWith(lower)) {
        if (!row) row = r;
        else {
          throw new CtlError(
            `${table.name} contains 2 or more rows whose UUIDs begin with ${record}: at least ${row.uuid} and ${r.uuid}`,
          );
        }
      }
    }
  }
  if (mustExist && !row) throw new CtlError(`no row "${record}" in table ${table.name}`);
  return row;
}

/** Length of `s` if it is a prefix of a uuid's text form, else 0. */
function partialUuidLength(s: string): number {
  const tmpl = "xxxxxxxx-xxxx-xxxx-xxxx-xxxxxxxxxxxx";
  if (s.length > tmpl.length) return 0;
  for (let i = 0; i < s.length; i++) {
    if (tmpl[i] === "-") {
      if (s[i] !== "-") return 0;
    } else if (!/[0-9a-fA-F]/.test(s[i]!)) return 0;
  }
  return s.length;
}

// ---------------------------------------------------------------------------
// column[:key][op value] arguments.

export interface ColumnKeyValue {
  column: ColumnSchema;
  key: string | null;
  /** Index of the operator in the allowed list (when a value was parsed). */
  operator: number;
  value: string | null;
}

function missingOperatorError(arg: string, ops: string[]): CtlError {
  let s = `${arg}: argument does not end in "${ops[0]}"`;
  if (ops.length === 2) s += ` or "${ops[1]}"`;
  else if (ops.length > 2) {
    for (let i = 1; i < ops.length - 1; i++) s += `, "${ops[i]}"`;
    s += `, or "${ops[ops.length - 1]}"`;
  }
  return new CtlError(s + " followed by a value.");
}

/**
 * Splits `arg` into column, optional key and (when `ops` is given) operator
 * and value, with OVS's error messages.
 */
export function parseColumnKeyValue(arg: string, table: TableSchema, ops: string[] | null): ColumnKeyValue {
  return ctl(() => {
    let t = parseToken(arg, 0);
    if (t.token === "") throw new CtlError(`${arg}: missing column name`);
    const column = getColumn(table, t.token);
    let p = t.pos;
    let key: string | null = null;
    if (arg[p] === ":") {
      t = parseToken(arg, p + 1);
      key = t.token;
      p = t.pos;
    }
    if (ops) {
      let best = -1;
      let bestLen = 0;
      ops.forEach((op, i) => {
        if (op.length > bestLen && arg.startsWith(op, p) && p + op.length < arg.length) {
          best = i;
          bestLen = op.length;
        }
      });
      if (best < 0) throw missingOperatorError(arg, ops);
      return { column, key, operator: best, value: arg.slice(p + bestLen) };
    }
    if (p < arg.length) throw new CtlError(`${arg}: trailing garbage "${arg.slice(p)}" in argument`);
    return { column, key, operator: -1, value: null };
  });
}

/** Column-name check done in the prerequisites phase. */
export function preParseColumnKeyValue(arg: string, table: TableSchema): void {
  ctl(() => {
    const t = parseToken(arg, 0);
    if (t.token === "") throw new CtlError(`${arg}: missing column name`);
    getColumn(table, t.token);
  });
}
