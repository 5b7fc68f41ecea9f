/**
 * The generic database commands every OVS *ctl tool shares: get, list,
 * find, set, add, remove, clear, create, destroy, wait-until, show and
 * comment — with OVS's option handling, conditions (`=`, `!=`, `<`, `{>=}`,
 * `{in}`...), `--id=@name` symbols and exact error messages.
 */
import {
  CommandContext,
  CtlError,
  ctl,
  getColumn,
  getRow,
  getTable,
  parseColumnKeyValue,
  preParseColumnKeyValue,
  command,
  type CommandSyntax,
} from "./context.js";
import type { ColumnSchema, IdlRow, TableSchema } from "./idl.js";
import {
  atomFromString,
  atomToString,
  compareData,
  datumCell,
  datumFromString,
  datumToString,
  dataEqual,
  defaultDatum,
  findKey,
  includesAll,
  subtractData,
  unionData,
  type OvsdbSymbol,
  type SymbolTable,
  type TextDatum,
} from "../ovsdb/datum-text.js";
import { OvsdbType, BaseType } from "../ovsdb/types.js";
import type { Cell, Table } from "../util/table-format.js";

const UINT_MAX = 4294967295;

function withMinMax(type: OvsdbType, min: number, max: number): OvsdbType {
  return new OvsdbType(type.key, type.value, min, max);
}

function createSymbol(symtab: SymbolTable, id: string): { symbol: OvsdbSymbol; isNew: boolean } {
  if (!id.startsWith("@")) throw new CtlError(`row id "${id}" does not begin with "@"`);
  const isNew = symtab.get(id) === undefined;
  const symbol = symtab.insert(id);
  if (symbol.created) throw new CtlError(`row id "${id}" may only be specified on one --id option`);
  symbol.created = true;
  return { symbol, isNew };
}

function checkMutable(row: IdlRow, column: ColumnSchema): void {
  if (!column.mutable && !row.inserted) {
    throw new CtlError(`cannot modify read-only column ${column.name} in table ${row.table.name}`);
  }
}

/** Partial map update: delete the keys of `pairs`, then insert `pairs` (the new values win). */
function replaceMapPairs(ctx: CommandContext, row: IdlRow, column: ColumnSchema, pairs: TextDatum): void {
  const keyType = new OvsdbType(column.type.key, null, 0, Infinity);
  ctx.idl.mutate(row, column.name, "delete", { keys: [...pairs.keys], values: null }, keyType);
  ctx.idl.mutate(row, column.name, "insert", pairs, column.type);
}

/** set_column(): `column[:key]=value` on `row`. */
export function setColumn(ctx: CommandContext, table: TableSchema, row: IdlRow, arg: string): void {
  const { column, key, value } = parseColumnKeyValue(arg, table, ["="]);
  if (value === null) throw new CtlError(`${arg}: missing value`);
  checkMutable(row, column);
  ctl(() => {
    if (key !== null) {
      if (!column.type.value) throw new CtlError(`cannot specify key to set for non-map column ${column.name}`);
      const k = atomFromString(column.type.key, key, ctx.symtab).atom;
      const v = atomFromString(column.type.value, value, ctx.symtab).atom;
      if (ctx.isLast && !row.inserted) {
        replaceMapPairs(ctx, row, column, { keys: [k], values: [v] });
        return;
      }
      const d = unionData({ keys: [k], values: [v] }, ctx.idl.read(row, column.name));
      ctx.idl.write(row, column.name, d);
    } else {
      ctx.idl.write(row, column.name, datumFromString(column.type, value, ctx.symtab));
    }
  });
}

// ---------------------------------------------------------------------------
// Conditions for find / wait-until.

const RELOPS = ["=", "!=", "<", ">", "<=", ">=", "{=}", "{!=}", "{<}", "{>}", "{<=}", "{>=}", "{in}", "{not-in}"];

function evaluateRelop(a: TextDatum, b: TextDatum, op: string): boolean {
  switch (op) {
    case "=":
    case "{=}":
      return compareData(a, b) === 0;
    case "!=":
    case "{!=}":
      return compareData(a, b) !== 0;
    case "<":
      return compareData(a, b) < 0;
    case ">":
      return compareData(a, b) > 0;
    case "<=":
      return compareData(a, b) <= 0;
    case ">=":
      return compareData(a, b) >= 0;
    case "{<}":
      return b.keys.length > a.keys.length && includesAll(a, b, true);
    case "{>}":
      return a.keys.length > b.keys.length && includesAll(b, a, true);
    case "{<=}":
    case "{in}":
      return includesAll(a, b, true);
    case "{>=}":
      return includesAll(b, a, true);
    case "{not-in}":
      return a.keys.every((k, i) => {
        const j = findKey(b, k);
        return j < 0 || (a.values !== null && b.values !== null && a.values[i] !== b.values[j]);
      });
    default:
      return false;
  }
}

export function checkCondition(ctx: CommandContext, table: TableSchema, row: IdlRow, arg: string): boolean {
  const { column, key, operator, value } = parseColumnKeyValue(arg, table, RELOPS);
  if (value === null) throw new CtlError(`${arg}: missing value`);
  const op = RELOPS[operator]!;
  const have = ctx.idl.read(row, column.name);
  return ctl(() => {
    if (key !== null) {
      if (!column.type.value) throw new CtlError(`cannot specify key to check for non-map column ${column.name}`);
      const wantKey = atomFromString(column.type.key, key, ctx.symtab).atom;
      const valueType = new OvsdbType(column.type.value, null, column.type.min, Infinity);
      const b = datumFromString(valueType, value, ctx.symtab);
      const idx = findKey(have, wantKey);
      if (idx < 0 && !op.startsWith("{")) return false;
      const a: TextDatum = { keys: idx >= 0 ? [have.values![idx]!] : [], values: null };
      return evaluateRelop(a, b, op);
    }
    const want = datumFromString(column.type, value, ctx.symtab);
    return evaluateRelop(have, want, op);
  });
}

// ---------------------------------------------------------------------------
// list / find output.

const UUID_TYPE = new OvsdbType(new BaseType("uuid"));

function parseColumnNames(names: string | null | undefined, table: TableSchema): (ColumnSchema | null)[] {
  if (names === undefined || names === null) return [null, ...table.columns];
  const out: (ColumnSchema | null)[] = [];
  for (const n of names.split(/[, ]+/).filter((s) => s !== "")) {
    out.push(n.toLowerCase() === "_uuid" ? null : getColumn(table, n));
  }
  if (out.length === 0) throw new CtlError("must specify at least one column name");
  return out;
}

function makeTable(columns: (ColumnSchema | null)[]): Table {
  return { headings: columns.map((c) => (c ? c.name : "_uuid")), rows: [] };
}

function listRecord(ctx: CommandContext, row: IdlRow | null, columns: (ColumnSchema | null)[], out: Table): void {
  if (!row) return;
  const cells: Cell[] = columns.map((c) =>
    c ? datumCell(ctx.idl.read(row, c.name), c.type) : datumCell({ keys: [row.uuid], values: null }, UUID_TYPE),
  );
  out.rows.push(cells);
}

// ---------------------------------------------------------------------------
// The commands.

function preGetTable(ctx: CommandContext, name: string): TableSchema {
  return getTable(ctx.schema, name);
}

function cmdGet(ctx: CommandContext): void {
  const id = ctx.option("--id");
  const mustExist = !ctx.has("--if-exists");
  if (id !== undefined && !mustExist) throw new CtlError("--if-exists and --id may not be specified together");
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const record = ctx.argv[2]!;
  const row = getRow(ctx, table, record, mustExist);
  if (!row) return;
  if (id !== undefined && id !== null) {
    const { symbol, isNew } = createSymbol(ctx.symtab, id);
    if (!isNew) throw new CtlError(`row id "${id}" specified on "get" command was used before it was defined`);
    symbol.uuid = row.uuid;
    symbol.strongRef = true;
  }
  for (const arg of ctx.argv.slice(3)) {
    if (arg.toLowerCase() === "_uuid" || arg.toLowerCase() === "-uuid") {
      ctx.output += row.uuid + "\n";
      continue;
    }
    const { column, key } = parseColumnKeyValue(arg, table, null);
    const d = ctx.idl.read(row, column.name);
    if (key !== null) {
      if (!column.type.value) throw new CtlError(`cannot specify key to get for non-map column ${column.name}`);
      const k = ctl(() => atomFromString(column.type.key, key, ctx.symtab).atom);
      const idx = findKey(d, k);
      if (idx < 0) {
        if (mustExist) throw new CtlError(`no key "${key}" in ${table.name} record "${record}" column ${column.name}`);
      } else {
        ctx.output += atomToString(d.values![idx]!, column.type.value);
      }
    } else {
      ctx.output += datumToString(d, column.type);
    }
    ctx.output += "\n";
  }
}

function cmdList(ctx: CommandContext): void {
  const mustExist = !ctx.has("--if-exists");
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const columns = parseColumnNames(ctx.option("--columns"), table);
  const out = makeTable(columns);
  ctx.table = out;
  if (ctx.argv.length > 2) {
    for (const rec of ctx.argv.slice(2)) listRecord(ctx, getRow(ctx, table, rec, mustExist), columns, out);
  } else {
    for (const row of ctx.idl.rows(table.name)) listRecord(ctx, row, columns, out);
  }
}

function cmdFind(ctx: CommandContext): void {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const columns = parseColumnNames(ctx.option("--columns"), table);
  const out = makeTable(columns);
  ctx.table = out;
  for (const row of ctx.idl.rows(table.name)) {
    let ok = true;
    for (const cond of ctx.argv.slice(2)) {
      if (!checkCondition(ctx, table, row, cond)) {
        ok = false;
        break;
      }
    }
    if (ok) listRecord(ctx, row, columns, out);
  }
}

function cmdSet(ctx: CommandContext): void {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.has("--if-exists"));
  if (!row) return;
  for (const arg of ctx.argv.slice(3)) setColumn(ctx, table, row, arg);
  ctx.invalidateCache();
}

/** For add and remove (TABLE RECORD COLUMN ...): the column to edit and its value, or null (--if-exists, no row). */
function columnToEdit(ctx: CommandContext) {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const column = getColumn(table, ctx.argv[3]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.has("--if-exists"));
  if (!row) return null;
  checkMutable(row, column);
  return { table, column, row, type: column.type, old: ctx.idl.read(row, column.name) };
}

function cmdAdd(ctx: CommandContext): void {
  const target = columnToEdit(ctx);
  if (target === null) return;
  const { table, column, row, type } = target;
  let old = target.old;
  const addType = withMinMax(type, 1, Infinity);
  if (ctx.isLast) {
    // OVS sends the last command's additions as partial updates; the server checks sizes.
    const adds = ctx.argv.slice(4).map((arg) => ctl(() => datumFromString(addType, arg, ctx.symtab)));
    for (const add of adds) {
      if (type.value) replaceMapPairs(ctx, row, column, add);
      else ctx.idl.mutate(row, column.name, "insert", add, withMinMax(type, 0, Infinity));
    }
    ctx.invalidateCache();
    return;
  }
  for (const arg of ctx.argv.slice(4)) {
    const add = ctl(() => datumFromString(addType, arg, ctx.symtab));
    old = unionData(old, add);
  }
  const max = type.max === Infinity ? UINT_MAX : type.max;
  if (old.keys.length > max) {
    throw new CtlError(
      `"add" operation would put ${old.keys.length} ${type.value ? "pairs" : "values"} in column ${column.name} of table ${table.name} but the maximum number is ${max}`,
    );
  }
  ctx.idl.write(row, column.name, old);
  ctx.invalidateCache();
}

function cmdRemove(ctx: CommandContext): void {
  const target = columnToEdit(ctx);
  if (target === null) return;
  const { table, column, row, type } = target;
  let old = target.old;
  for (const arg of ctx.argv.slice(4)) {
    const rmType = withMinMax(type, 1, Infinity);
    let rm: TextDatum;
    try {
      rm = ctl(() => datumFromString(rmType, arg, ctx.symtab));
    } catch (e) {
      if (!type.value) throw e;
      const keysOnly = new OvsdbType(type.key, null, 1, Infinity);
      rm = ctl(() => datumFromString(keysOnly, arg, ctx.symtab));
    }
    old = subtractData(old, rm);
  }
  if (old.keys.length < type.min) {
    throw new CtlError(
      `"remove" operation would put ${old.keys.length} ${type.value ? "pairs" : "values"} in column ${column.name} of table ${table.name} but the minimum number is ${type.min}`,
    );
  }
  ctx.idl.write(row, column.name, old);
  ctx.invalidateCache();
}

function cmdClear(ctx: CommandContext): void {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, !ctx.has("--if-exists"));
  if (!row) return;
  for (const name of ctx.argv.slice(3)) {
    const column = getColumn(table, name);
    checkMutable(row, column);
    if (column.type.min > 0) {
      throw new CtlError(
        `"clear" operation cannot be applied to column ${column.name} of table ${table.name}, which is not allowed to be empty`,
      );
    }
    ctx.idl.write(row, column.name, { keys: [], values: column.type.value ? [] : null });
  }
  ctx.invalidateCache();
}

function preCreate(ctx: CommandContext): void {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  if (ctx.option("--id") === undefined && !table.isRoot) {
    ctx.warn("db_ctl_base", `applying "create" command to table ${table.name} without --id option will have no effect`);
  }
}

function cmdCreate(ctx: CommandContext): void {
  const id = ctx.option("--id");
  const table = getTable(ctx.schema, ctx.argv[1]!);
  let uuid: string | undefined;
  if (id !== undefined && id !== null) {
    const { symbol } = createSymbol(ctx.symtab, id);
    if (table.isRoot) symbol.strongRef = true;
    uuid = symbol.uuid;
  }
  const row = ctx.idl.insert(table.name, uuid);
  for (const arg of ctx.argv.slice(2)) setColumn(ctx, table, row, arg);
  ctx.output += row.uuid;
}

/** After commit: replaces the temporary uuid by the server's. */
export function postCreate(ctx: CommandContext, inserted: Map<string, string>): void {
  const real = inserted.get(ctx.output);
  if (real) ctx.output = real;
  ctx.output += "\n";
}

function cmdDestroy(ctx: CommandContext): void {
  const mustExist = !ctx.has("--if-exists");
  const all = ctx.has("--all");
  const table = getTable(ctx.schema, ctx.argv[1]!);
  if (all && ctx.argv.length > 2) throw new CtlError("--all and records argument should not be specified together");
  if (all && !mustExist) throw new CtlError("--all and --if-exists should not be specified together");
  if (!all && ctx.argv.length === 2) {
    ctx.warn("db_ctl_base", "either --all or records argument should be specified");
    return;
  }
  if (all) {
    for (const row of ctx.idl.rows(table.name)) ctx.idl.delete(row);
  } else {
    for (const rec of ctx.argv.slice(2)) {
      const row = getRow(ctx, table, rec, mustExist);
      if (row) ctx.idl.delete(row);
    }
  }
  ctx.invalidateCache();
}

function cmdWaitUntil(ctx: CommandContext): void {
  const table = getTable(ctx.schema, ctx.argv[1]!);
  const row = getRow(ctx, table, ctx.argv[2]!, false);
  if (!row) {
    ctx.tryAgain = true;
    return;
  }
  for (const cond of ctx.argv.slice(3)) {
    if (!checkCondition(ctx, table, row, cond)) {
      ctx.tryAgain = true;
      return;
    }
  }
}

// ---------------------------------------------------------------------------
// show

interface ShowTable {
  table: string;
  nameColumn: string | null;
  columns: string[];
}

/** ovs-vsctl's `show` layout. */
export const VSCTL_SHOW_TABLES: ShowTable[] = [
  { table: "Open_vSwitch", nameColumn: null, columns: ["manager_options", "bridges", "ovs_version"] },
  { table: "Bridge", nameColumn: "name", columns: ["controller", "fail_mode", "datapath_type", "ports"] },
  { table: "Port", nameColumn: "name", columns: ["tag", "trunks", "interfaces"] },
  { table: "Interface", nameColumn: "name", columns: ["type", "options", "error"] },
  { table: "Controller", nameColumn: "target", columns: ["is_connected"] },
  { table: "Manager", nameColumn: "target", columns: ["is_connected"] },
];

function showRow(ctx: CommandContext, row: IdlRow, level: number, shown: Set<string>): void {
  const show = VSCTL_SHOW_TABLES.find((s) => s.table === row.table.name);
  let out = " ".repeat(level * 4);
  if (show && show.nameColumn) {
    const c = row.table.byName.get(show.nameColumn)!;
    out += `${show.table} ${datumToString(ctx.idl.read(row, c.name), c.type)}`;
  } else out += row.uuid;
  ctx.output += out + "\n";
  if (!show || shown.has(show.table)) return;
  shown.add(show.table);
  for (const name of show.columns) {
    const column = row.table.byName.get(name);
    if (!column) continue;
    const d = ctx.idl.read(row, name);
    const type = column.type;
    if (type.key.type === "uuid" && type.key.refTable !== undefined) {
      const ref = VSCTL_SHOW_TABLES.find((s) => s.table === type.key.refTable);
      if (ref) {
        for (const u of d.keys) {
          const r = ctx.idl.get(ref.table, u as string);
          if (r) showRow(ctx, r, level + 1, shown);
        }
        continue;
      }
    } else if (type.value && type.value.type === "uuid" && type.value.refTable !== undefined) {
      const ref = VSCTL_SHOW_TABLES.find((s) => s.table === type.value!.refTable);
      if (ref && ref.nameColumn) {
        ctx.output += " ".repeat((level + 1) * 4) + `${name}:\n`;
        d.keys.forEach((k, j) => {
          const r = ctx.idl.get(ref.table, d.values![j] as string);
          let line = " ".repeat((level + 2) * 4) + atomToString(k, type.key) + "=";
          if (r) {
            const nc = r.table.byName.get(ref.nameColumn!)!;
            line += datumToString(ctx.idl.read(r, nc.name), nc.type);
          } else line += '"<null>"';
          ctx.output += line + "\n";
        });
        continue;
      }
    }
    if (!dataEqual(d, defaultDatum(type))) {
      ctx.output += " ".repeat((level + 1) * 4) + `${name}: ${datumToString(d, type)}\n`;
    }
  }
  shown.delete(show.table);
}

function cmdShow(ctx: CommandContext): void {
  const shown = new Set<string>();
  for (const row of ctx.idl.rows(VSCTL_SHOW_TABLES[0]!.table)) showRow(ctx, row, 0, shown);
}

// ---------------------------------------------------------------------------

function preTableAndColumns(first: number) {
  return (ctx: CommandContext): void => {
    const table = preGetTable(ctx, ctx.argv[1]!);
    for (const arg of ctx.argv.slice(first)) preParseColumnKeyValue(arg, table);
  };
}

/** TABLE RECORD COLUMN ...: the table and that one column must exist. */
function preTableColumn(ctx: CommandContext): void {
  getColumn(preGetTable(ctx, ctx.argv[1]!), ctx.argv[3]!);
}

function preGet(ctx: CommandContext): void {
  // Like OVS: warn a person at a terminal that "get" without columns prints nothing.
  if (ctx.option("--id") === undefined && ctx.argv.length <= 3 && process.stdout.isTTY) {
    ctx.warn("db_ctl_base", '"get" command without row arguments or "--id" is possibly erroneous');
  }
  const table = preGetTable(ctx, ctx.argv[1]!);
  for (const arg of ctx.argv.slice(3)) {
    if (arg.toLowerCase() === "_uuid" || arg.toLowerCase() === "-uuid") continue;
    preParseColumnKeyValue(arg, table);
  }
}

function preList(ctx: CommandContext): void {
  parseColumnNames(ctx.option("--columns"), preGetTable(ctx, ctx.argv[1]!));
}

function preFind(ctx: CommandContext): void {
  const table = preGetTable(ctx, ctx.argv[1]!);
  parseColumnNames(ctx.option("--columns"), table);
  for (const arg of ctx.argv.slice(2)) preParseColumnKeyValue(arg, table);
}

function preClear(ctx: CommandContext): void {
  const table = preGetTable(ctx, ctx.argv[1]!);
  for (const c of ctx.argv.slice(3)) getColumn(table, c);
}

function preDestroy(ctx: CommandContext): void {
  preGetTable(ctx, ctx.argv[1]!);
}

const INF = Infinity;

export const DB_COMMANDS: CommandSyntax[] = [
  command("comment", 0, INF, "[ARG]...", () => {}, "", "RO"),
  command("get", 2, INF, "TABLE RECORD [COLUMN[:KEY]]...", cmdGet, "--if-exists,--id=", "RO", preGet),
  command("list", 1, INF, "TABLE [RECORD]...", cmdList, "--if-exists,--columns=", "RO", preList),
  command("find", 1, INF, "TABLE [COLUMN[:KEY]=VALUE]...", cmdFind, "--columns=", "RO", preFind),
  command("set", 3, INF, "TABLE RECORD COLUMN[:KEY]=VALUE...", cmdSet, "--if-exists", "RW", preTableAndColumns(3)),
  command("add", 4, INF, "TABLE RECORD COLUMN [KEY=]VALUE...", cmdAdd, "--if-exists", "RW", preTableColumn),
  command("remove", 4, INF, "TABLE RECORD COLUMN KEY|VALUE|KEY=VALUE...", cmdRemove, "--if-exists", "RW", preTableColumn),
  command("clear", 3, INF, "TABLE RECORD COLUMN...", cmdClear, "--if-exists", "RW", preClear),
  command("create", 2, INF, "TABLE COLUMN[:KEY]=VALUE...", cmdCreate, "--id=", "RW", preCreate),
  command("destroy", 1, INF, "TABLE [RECORD]...", cmdDestroy, "--if-exists,--all", "RW", preDestroy),
  command("wait-until", 2, INF, "TABLE RECORD [COLUMN[:KEY]=VALUE]...", cmdWaitUntil, "", "RO", preTableAndColumns(3)),
  command("show", 0, 0, "", cmdShow, "", "RO"),
];
