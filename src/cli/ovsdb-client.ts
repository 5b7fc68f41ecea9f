/**
 * `tsovs ovsdb-client`: queries and monitors an OVSDB server, as
 * ovsdb-client(1) of Open vSwitch 3.1 does — the same commands, argument
 * rules (optional SERVER and DATABASE, defaults), output formats
 * (`--format=table|list|html|csv|json`, `--data`, `--no-headings`,
 * `--pretty`, `--timestamp`) and messages.
 *
 * Where OVS prints in the order of its hash tables (list-tables,
 * list-columns, monitor rows), we print in the same order (see
 * ovsdb/storage/shash-order.ts); dump sorts as OVS sorts.
 */
import * as fs from "node:fs";
import { openJsonRpc, JsonRpcError, type JsonRpcConnection } from "../jsonrpc/index.js";
import { BaseType, DatabaseSchema, OvsdbType, compareDatums, datumEquals, datumFromJSON, defaultDatum, isUuid, parseConditions, ZERO_UUID, type Datum, type TableSchema } from "../ovsdb/index.js";
import { datumCell, datumFromJson } from "../ovsdb/datum-text.js";
import { encodeRecord, readDatabaseFromBuffer, shashOrder } from "../ovsdb/storage/index.js";
import { rowMemberOrder } from "../ovsdb/hash-order.js";
import { parseOvsJson } from "../ovsdb/storage/ovs-json.js";
import { defaultDbRemote, logdir, rundir } from "../util/dirs.js";
import {
  DEFAULT_TABLE_STYLE,
  TablePrinter,
  jsonCell,
  jsonToString,
  TABLE_OPTIONS,
  TABLE_OPTIONS_HELP,
  applyTableOption,
  textCell,
  type Cell,
  type Json,
  type Table,
  type TableStyle,
} from "../util/table-format.js";
import { readSchemaFile } from "./ovsdb-tool.js";
import { Fatal, OVS_VERSION, out, ovsdbErrorText, runProgram } from "./ovsdb-cli.js";
import { getoptLong, loggingOptionsHelp, remoteOptionsHelp, type LongOption } from "../util/getopt.js";

const PROGRAM = "ovsdb-client";


type Need = "none" | "rpc" | "database";

interface Ctx {
  style: TableStyle;
  timestamp: boolean;
  /** --force (restore into a database with a different schema). */
  force?: boolean;
  printer: TablePrinter;
  rpc: JsonRpcConnection | null;
  server: string;
  database: string | null;
  args: string[];
}

interface Command {
  need: Need;
  min: number;
  max: number;
  handler: (ctx: Ctx) => Promise<void>;
}


/** A remote has the form of an OVS stream name: starts with a letter and has a colon. */
function looksLikeRemote(s: string): boolean {
  return /^[A-Za-z]/.test(s) && s.includes(":");
}

function connectError(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  return err.code === "ENOENT" ? "No such file or directory" : err.code === "ECONNREFUSED" ? "Connection refused" : err.message;
}

async function connect(server: string): Promise<JsonRpcConnection> {
  if (server.includes(",")) return connectAny(server.split(","));
  try {
    return await openJsonRpc(server);
  } catch (e) {
    throw new Fatal(`failed to connect to "${server}" (${connectError(e)})`);
  }
}

/**
 * Several remotes ("unix:a,tcp:b:6640"): like OVS's reconnecting session,
 * tries them in turn, logging its progress on the console, until one
 * accepts (forever, unless --timeout ends the program).
 */
async function connectAny(remotes: string[]): Promise<JsonRpcConnection> {
  let seq = 0;
  const info = (msg: string): void => {
    seq++;
    process.stderr.write(`${new Date().toISOString().slice(0, 19)}Z|${String(seq).padStart(5, "0")}|reconnect|INFO|${msg}\n`);
  };
  for (let round = 0; ; round++) {
    for (const remote of remotes) {
      if (round === 0) info(`${remote}: connecting...`);
      try {
        const rpc = await openJsonRpc(remote);
        info(`${remote}: connected`);
        return rpc;
      } catch (e) {
        if (round === 0) info(`${remote}: connection attempt failed (${connectError(e)})`);
      }
    }
    await new Promise((r) => setTimeout(r, 1000));
  }
}

async function request(ctx: Ctx, method: string, params: unknown[]): Promise<unknown> {
  try {
    return await ctx.rpc!.request(method, params);
  } catch (e) {
    if (e instanceof JsonRpcError) {
      throw new Fatal(`transaction returned error: ${jsonToString(e.error as Json, { sort: true, pretty: ctx.style.pretty })}`);
    }
    throw new Fatal(`transaction failed (${(e as Error).message})`);
  }
}

async function fetchDbs(ctx: Ctx): Promise<string[]> {
  const r = await request(ctx, "list_dbs", []);
  if (!Array.isArray(r)) throw new Fatal("list_dbs response is not array");
  r.forEach((n, i) => {
    if (typeof n !== "string") throw new Fatal(`list_dbs response ${i} is not string`);
  });
  return (r as string[]).slice().sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

interface FetchedSchema {
  schema: DatabaseSchema;
  json: Record<string, unknown>;
}

async function fetchSchema(ctx: Ctx, db: string): Promise<FetchedSchema> {
  const json = await request(ctx, "get_schema", [db]);
  try {
    return { schema: DatabaseSchema.fromJSON(json), json: json as Record<string, unknown> };
  } catch (e) {
    throw new Fatal(ovsdbErrorText(e));
  }
}

/** Tables in the order OVS's parsed schema iterates them. */
function tableOrder(f: FetchedSchema): string[] {
  const tables = (f.json["tables"] ?? {}) as Record<string, unknown>;
  return shashOrder(shashOrder(Object.keys(tables)));
}

/** Columns (with _uuid and _version) in the order OVS's table schema iterates them. */
function columnOrder(f: FetchedSchema, table: string): string[] {
  const tj = ((f.json["tables"] ?? {}) as Record<string, { columns?: Record<string, unknown> }>)[table];
  return shashOrder(["_uuid", "_version", ...shashOrder(Object.keys(tj?.columns ?? {}))]);
}

function columnType(ts: TableSchema, name: string): OvsdbType {
  if (name === "_uuid" || name === "_version") return new OvsdbType(new BaseType("uuid"));
  return ts.columns.get(name)!.type;
}

/** A table cell for a datum of `type` given as JSON, printed as OVS's lib/table.c prints it. */
function datumCellOf(json: unknown, type: OvsdbType | null): Cell {
  if (json === undefined) return textCell("");
  if (type === null) return jsonCell(json as Json);
  try {
    // Parse with the type's constraints, as ovsdb_datum_from_json does.
    datumFromJSON(type, json);
    return datumCell(datumFromJson(json, type), type);
  } catch {
    return jsonCell(json as Json);
  }
}

function printTable(ctx: Ctx, t: Table, withTimestamp = false): void {
  if (withTimestamp && ctx.timestamp) t = { ...t, timestamp: Date.now() };
  out(ctx.printer.format(t, ctx.style));
}

function printJson(ctx: Ctx, json: unknown): void {
  out(jsonToString(json as Json, { sort: true, pretty: ctx.style.pretty }) + "\n");
}

function parseJsonArg(s: string): unknown {
  const parsed = parseOvsJson(s);
  if (!parsed.ok) throw new Fatal(`"${s}": ${parsed.error}`);
  return parsed.value;
}

// ---------------------------------------------------------------------------
// Commands.

async function doListDbs(ctx: Ctx): Promise<void> {
  for (const db of await fetchDbs(ctx)) out(db + "\n");
}

async function doGetSchema(ctx: Ctx): Promise<void> {
  const f = await fetchSchema(ctx, ctx.database!);
  printJson(ctx, f.schema.toJSON());
}

async function doGetSchemaVersion(ctx: Ctx): Promise<void> {
  out((await fetchSchema(ctx, ctx.database!)).schema.version + "\n");
}

async function doGetSchemaCksum(ctx: Ctx): Promise<void> {
  out(((await fetchSchema(ctx, ctx.database!)).schema.cksum ?? "") + "\n");
}

async function doListTables(ctx: Ctx): Promise<void> {
  const f = await fetchSchema(ctx, ctx.database!);
  printTable(ctx, { headings: ["Table"], rows: tableOrder(f).map((t) => [textCell(t)]) });
}

async function doListColumns(ctx: Ctx): Promise<void> {
  const f = await fetchSchema(ctx, ctx.database!);
  const only = ctx.args[0];
  const headings = only === undefined ? ["Table", "Column", "Type"] : ["Column", "Type"];
  const rows: Cell[][] = [];
  for (const tname of tableOrder(f)) {
    if (only !== undefined && only !== tname) continue;
    const ts = f.schema.tables.get(tname)!;
    for (const c of columnOrder(f, tname)) {
      const row: Cell[] = [];
      if (only === undefined) row.push(textCell(tname));
      row.push(textCell(c), jsonCell(columnType(ts, c).toJSON() as Json));
      rows.push(row);
    }
  }
  printTable(ctx, { headings, rows });
}

/** Connects for transact/query, whose database comes from the transaction. */
async function transactRaw(ctx: Ctx, txn: unknown): Promise<unknown> {
  if (!Array.isArray(txn) || txn.length === 0 || typeof txn[0] !== "string") throw new Fatal("not a valid OVSDB query");
  const server = ctx.args.length > 1 ? ctx.args[0]! : defaultDbRemote();
  ctx.rpc = await connect(server);
  ctx.server = server;
  return request(ctx, "transact", txn);
}

async function doTransact(ctx: Ctx): Promise<void> {
  const txn = parseJsonArg(ctx.args[ctx.args.length - 1]!);
  printJson(ctx, await transactRaw(ctx, txn));
}

async function doQuery(ctx: Ctx): Promise<void> {
  const txn = parseJsonArg(ctx.args[ctx.args.length - 1]!);
  if (!Array.isArray(txn)) throw new Fatal("not a valid OVSDB query");
  txn.push({ op: "abort" });
  const abortIdx = txn.length - 2;
  const result = await transactRaw(ctx, txn);
  if (Array.isArray(result) && result.length === abortIdx + 1) {
    const last = result[abortIdx] as Record<string, unknown> | null;
    if (last !== null && typeof last === "object" && last["error"] === "aborted") result.pop();
  }
  printJson(ctx, result);
}

async function doDump(ctx: Ctx): Promise<void> {
  const db = ctx.database!;
  const f = await fetchSchema(ctx, db);
  let tables: string[];
  let custom: string[] | null = null;
  if (ctx.args.length > 0) {
    const tname = ctx.args[0]!;
    const ts = f.schema.tables.get(tname);
    if (!ts) throw new Fatal(`No table "${tname}" found.`);
    tables = [tname];
    for (let i = 1; i < ctx.args.length; i++) {
      const c = ctx.args[i]!;
      // (OVS names the first column in this message, whichever is missing.)
      if (c !== "_uuid" && c !== "_version" && !ts.columns.has(c)) throw new Fatal(`Table "${tname}" has no column ${c}.`);
    }
    if (ctx.args.length > 1) custom = ctx.args.slice(1);
  } else {
    tables = [...f.schema.tables.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  const colsOf = (t: string): string[] => (custom ?? columnOrder(f, t)).filter((c) => c !== "_version");
  const txn: unknown[] = [db];
  for (const t of tables) txn.push({ op: "select", table: t, where: [], columns: colsOf(t) });
  const reply = await request(ctx, "transact", txn);
  if (!Array.isArray(reply) || reply.length !== tables.length) {
    throw new Fatal(`reply is not array of ${tables.length} elements: ${jsonToString(reply as Json)}`);
  }
  tables.forEach((t, i) => {
    const ts = f.schema.tables.get(t)!;
    const opResult = reply[i] as Record<string, unknown> | null;
    const rows = opResult !== null && typeof opResult === "object" ? opResult["rows"] : undefined;
    if (!Array.isArray(rows)) {
      throw new Fatal(`${t} table reply is not an object with a "rows" member array: ${jsonToString(opResult as Json)}`);
    }
    const columns = [...new Set(colsOf(t))].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    const types = columns.map((c) => columnType(ts, c));
    const loose = types.map((ty) => ty.unconstrained());
    const data: { json: unknown[]; datums: Datum[] }[] = rows.map((row, y) => {
      if (row === null || typeof row !== "object" || Array.isArray(row)) {
        throw new Fatal(`row ${y} in table ${t} response is not a JSON object: ${jsonToString(row as Json)}`);
      }
      const r = row as Record<string, unknown>;
      const json = columns.map((c) => {
        if (!(c in r)) throw new Fatal(`row ${y} in table ${t} response lacks ${c} column`);
        return r[c];
      });
      let datums: Datum[];
      try {
        datums = json.map((j, x) => datumFromJSON(loose[x]!, j));
      } catch (e) {
        throw new Fatal(ovsdbErrorText(e));
      }
      return { json, datums };
    });
    // Rows sorted by their non-uuid columns, then by uuid columns, as OVS does.
    const order = [...columns.keys()].filter((x) => types[x]!.key.type !== "uuid");
    const uuidOrder = [...columns.keys()].filter((x) => types[x]!.key.type === "uuid");
    data.sort((a, b) => {
      for (const x of [...order, ...uuidOrder]) {
        const c = compareDatums(a.datums[x]!, b.datums[x]!);
        if (c !== 0) return c;
      }
      return 0;
    });
    printTable(ctx, {
      caption: `${t} table`,
      headings: columns,
      rows: data.map((d) => d.json.map((j, x) => datumCellOf(j, types[x]!))),
    });
  });
}

// ---- monitor ------------------------------------------------------------------

interface MonitoredTable {
  name: string;
  ts: TableSchema;
  columns: string[];
}

function parseMonitorColumns(arg: string, server: string, db: string, ts: TableSchema, columns: string[], f: FetchedSchema): Record<string, unknown> {
  const mr: Record<string, unknown> = {};
  const cols: string[] = [];
  mr["columns"] = cols;
  const sel = { initial: true, insert: true, delete: true, modify: true };
  const add = (c: string): void => {
    if (columns.includes(c)) throw new Fatal(`${server}: column "${c}" mentioned multiple times`);
    columns.push(c);
    cols.push(c);
  };
  for (const token of arg.split(",").filter((s) => s.length > 0)) {
    if (token === "!initial") sel.initial = false;
    else if (token === "!insert") sel.insert = false;
    else if (token === "!delete") sel.delete = false;
    else if (token === "!modify") sel.modify = false;
    else {
      if (token !== "_uuid" && token !== "_version" && !ts.columns.has(token)) {
        throw new Fatal(`${server}: table "${ts.name}" in ${db} does not have a column named "${token}"`);
      }
      add(token);
    }
  }
  if (cols.length === 0) {
    const names = columnOrder(f, ts.name)
      .filter((c) => c !== "_uuid" && c !== "_version")
      .sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    for (const c of names) add(c);
    add("_version");
  }
  if (!sel.initial || !sel.insert || !sel.delete || !sel.modify) mr["select"] = sel;
  return mr;
}

function monitorRow(ctx: Ctx, t: Table, mt: MonitoredTable, row: unknown, type: string, uuid: string): void {
  if (row === undefined || row === null) {
    process.stderr.write(`${PROGRAM}: missing ${type} row\n`);
    return;
  }
  if (typeof row !== "object" || Array.isArray(row)) {
    process.stderr.write(`${PROGRAM}: <row> is not object\n`);
    return;
  }
  const r = row as Record<string, unknown>;
  t.rows.push([textCell(uuid), textCell(type), ...mt.columns.map((c) => datumCellOf(r[c], columnType(mt.ts, c)))]);
}

function monitorPrint(ctx: Ctx, updates: unknown, mts: MonitoredTable[], initial: boolean, v2: boolean): void {
  if (updates === null || typeof updates !== "object" || Array.isArray(updates)) {
    process.stderr.write(`${PROGRAM}: <table-updates${v2 ? "2" : ""}> is not object\n`);
    return;
  }
  const u = updates as Record<string, unknown>;
  for (const mt of mts) {
    const tu = u[mt.name];
    if (tu === undefined) continue;
    if (tu === null || typeof tu !== "object" || Array.isArray(tu)) {
      process.stderr.write(`${PROGRAM}: <table-update> for table ${mt.name} is not object\n`);
      continue;
    }
    const t: Table = { headings: ["row", "action", ...mt.columns], rows: [] };
    if (mts.length > 1) t.caption = mt.name;
    const rows = tu as Record<string, unknown>;
    for (const uuid of shashOrder(Object.keys(rows))) {
      const ru = rows[uuid];
      if (ru === null || typeof ru !== "object" || Array.isArray(ru)) {
        process.stderr.write(`${PROGRAM}: <row-update${v2 ? "2" : ""}> is not object\n`);
        continue;
      }
      const r = ru as Record<string, unknown>;
      if (v2) {
        for (const op of ["delete", "initial", "modify", "insert"]) {
          if (!(op in r)) continue;
          if (op === "delete") {
            if (r[op] !== null) process.stderr.write(`${PROGRAM}: delete method does not expect <row>\n`);
            else t.rows.push([textCell(uuid), textCell("delete"), ...mt.columns.map(() => textCell(""))]);
          } else {
            monitorRow(ctx, t, mt, r[op], op, uuid);
          }
          break;
        }
      } else if (initial) {
        monitorRow(ctx, t, mt, r["new"], "initial", uuid);
      } else if (!("old" in r)) {
        monitorRow(ctx, t, mt, r["new"], "insert", uuid);
      } else if (!("new" in r)) {
        monitorRow(ctx, t, mt, r["old"], "delete", uuid);
      } else {
        monitorRow(ctx, t, mt, r["old"], "old", uuid);
        monitorRow(ctx, t, mt, r["new"], "new", "");
      }
    }
    printTable(ctx, t, true);
  }
}

type MonitorMethod = "monitor" | "monitor_cond" | "monitor_cond_since";

async function monitor(ctx: Ctx, method: MonitorMethod, args: string[], condition: unknown, lastId = ZERO_UUID): Promise<void> {
  const v2 = method !== "monitor";
  const db = ctx.database!;
  const server = ctx.server;
  const f = await fetchSchema(ctx, db);
  const tableName = args[0]!;
  const mts: MonitoredTable[] = [];
  const requests: Record<string, unknown> = {};
  const addTable = (ts: TableSchema, cond: unknown): void => {
    const mt: MonitoredTable = { name: ts.name, ts, columns: [] };
    const arr: unknown[] = [];
    const specs = args.length > 1 ? args.slice(1) : [""];
    specs.forEach((spec, i) => {
      const mr = parseMonitorColumns(spec, server, db, ts, mt.columns, f);
      if (i === 0 && cond !== undefined) mr["where"] = cond;
      arr.push(mr);
    });
    requests[ts.name] = arr;
    mts.push(mt);
  };
  if (tableName !== "ALL") {
    const ts = f.schema.tables.get(tableName);
    if (!ts) throw new Fatal(`${server}: ${db} does not have a table named "${tableName}"`);
    addTable(ts, condition);
  } else {
    if (condition !== undefined) throw new Fatal("ALL tables are not allowed with condition");
    for (const name of [...f.schema.tables.keys()].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0))) addTable(f.schema.tables.get(name)!, undefined);
  }
  // Ask to be told when the database goes away (ignored by old servers).
  await ctx.rpc!.request("set_db_change_aware", [true]).catch(() => undefined);
  const rpc = ctx.rpc!;
  reportFatalSignals();
  const done = new Promise<void>((resolve, reject) => {
    rpc.on("notify", (note, params) => {
      const p = params as unknown[];
      if (note === "update" && Array.isArray(p) && p.length === 2 && p[0] === null) monitorPrint(ctx, p[1], mts, false, false);
      else if (v2 && note === "update2" && Array.isArray(p) && p.length === 2 && p[0] === null) monitorPrint(ctx, p[1], mts, false, true);
      else if (method === "monitor_cond_since" && note === "update3" && Array.isArray(p) && p.length === 3 && p[0] === null) {
        // OVS prints this without a newline: the table's separator line follows.
        out(`\nlast_id: ${typeof p[1] === "string" ? p[1] : jsonToString(p[1] as Json)}`);
        monitorPrint(ctx, p[2], mts, false, true);
      } else if (note === "monitor_canceled") reject(new Fatal(`${server}: ${db} database was removed`));
    });
    rpc.on("close", () => reject(new Fatal(`${server}: receive failed (End of file)`)));
  });
  // Closing the connection after a failed request must not count as unhandled.
  done.catch(() => undefined);
  if (method === "monitor_cond_since") {
    const reply = await request(ctx, method, [db, null, requests, lastId]);
    if (!Array.isArray(reply) || reply.length !== 3) throw new Fatal(`${server}: monitor_cond_since reply is not an array of 3 elements`);
    out(`found: ${jsonToString(reply[0] as Json)}, last_id: ${typeof reply[1] === "string" ? reply[1] : jsonToString(reply[1] as Json)}\n`);
    monitorPrint(ctx, reply[2], mts, true, true);
  } else {
    const reply = await request(ctx, method, [db, null, requests]);
    monitorPrint(ctx, reply, mts, true, v2);
  }
  await done;
}

async function doMonitor(ctx: Ctx): Promise<void> {
  await monitor(ctx, "monitor", ctx.args, undefined);
}

async function doMonitorCond(ctx: Ctx): Promise<void> {
  await monitorConditional(ctx, "monitor_cond", ctx.args);
}

/** `monitor-cond-since [LASTID] CONDITION TABLE [COLUMN,...]...` */
async function doMonitorCondSince(ctx: Ctx): Promise<void> {
  const args = ctx.args;
  if (args.length > 2 && isUuid(args[0]!)) await monitorConditional(ctx, "monitor_cond_since", args.slice(1), args[0]!.toLowerCase());
  else await monitorConditional(ctx, "monitor_cond_since", args);
}

async function monitorConditional(ctx: Ctx, method: MonitorMethod, args: string[], lastId?: string): Promise<void> {
  const db = ctx.database!;
  const f = await fetchSchema(ctx, db);
  const tableName = args[1]!;
  if (!f.schema.tables.has(tableName)) throw new Fatal(`${db} does not have a table named "${tableName}"`);
  const condition = parseJsonArg(args[0]!);
  if (!Array.isArray(condition)) throw new Fatal(`syntax "${jsonToString(condition as Json)}": syntax error: Parsing condition failed: array expected`);
  // Checked locally first, as OVS does (ovsdb_condition_from_json).
  parseConditions(f.schema.tables.get(tableName)!, condition);
  await monitor(ctx, method, args.slice(1), condition, lastId);
}

async function doNeedsConversion(ctx: Ctx): Promise<void> {
  const { schema } = readSchemaFile(ctx.args[ctx.args.length - 1]!);
  await openForDatabase(ctx, schema.name);
  const f = await fetchSchema(ctx, schema.name);
  const a = jsonToString(schema.toJSON() as Json, { sort: true });
  const b = jsonToString(f.schema.toJSON() as Json, { sort: true });
  out(a === b ? "no\n" : "yes\n");
}

async function doConvert(ctx: Ctx): Promise<void> {
  const { schema } = readSchemaFile(ctx.args[ctx.args.length - 1]!);
  await openForDatabase(ctx, schema.name);
  await ctx.rpc!.request("set_db_change_aware", [true]).catch(() => undefined);
  await request(ctx, "convert", [schema.name, schema.toJSON()]);
}

async function doBackup(ctx: Ctx): Promise<void> {
  if (process.stdout.isTTY) throw new Fatal("not writing backup to a terminal; please redirect stdout to a file");
  const db = ctx.database!;
  const f = await fetchSchema(ctx, db);
  const tables = tableOrder(f);
  const txn: unknown[] = [db];
  for (const t of tables) {
    const ts = f.schema.tables.get(t)!;
    const cols = columnOrder(f, t).filter((c) => c === "_uuid" || (c !== "_version" && !ts.columns.get(c)!.ephemeral));
    txn.push({ op: "select", table: t, where: [], columns: cols });
  }
  const reply = await request(ctx, "transact", txn);
  if (!Array.isArray(reply) || reply.length !== tables.length) {
    throw new Fatal(`reply is not array of ${tables.length} elements: ${jsonToString(reply as Json)}`);
  }
  const record: Record<string, unknown> = {};
  tables.forEach((t, i) => {
    const rows = (reply[i] as { rows?: unknown }).rows;
    if (!Array.isArray(rows)) throw new Fatal(`${t} table reply is not an object with a "rows" member array: ${jsonToString(reply[i] as Json)}`);
    if (rows.length === 0) return;
    const outRows: Record<string, unknown> = {};
    for (const row of rows as Record<string, unknown>[]) {
      const { _uuid, ...rest } = row;
      if (!Array.isArray(_uuid)) throw new Fatal(`${t} table reply row lacks _uuid member: ${jsonToString(row as Json)}`);
      outRows[String(_uuid[1])] = rest;
    }
    record[t] = outRows;
  });
  out(encodeRecord(f.schema.toJSON()).toString());
  out(encodeRecord(record).toString());
}

/**
 * `wait [SERVER] DATABASE STATE`: blocks until DATABASE is "added",
 * "connected" or "removed" on the server (a "wait" operation on _Server),
 * reconnecting while the server is not up yet.
 */
async function doWait(ctx: Ctx): Promise<void> {
  const [db, state] = ctx.args.slice(-2) as [string, string];
  if (state !== "connected" && state !== "added" && state !== "removed") throw new Fatal(`${state}: unknown state`);
  const server = ctx.args.length > 2 ? ctx.args[0]! : defaultDbRemote();
  const op: Record<string, unknown> = { op: "wait", table: "Database", where: [["name", "==", db]], until: "==" };
  if (state === "connected") {
    op["columns"] = ["connected"];
    op["rows"] = [{ connected: true }];
  } else {
    op["columns"] = [];
    op["rows"] = state === "added" ? [{}] : [];
  }
  // Like OVS's reconnecting session, which logs its progress on the console.
  let seq = 0;
  const info = (msg: string): void => {
    seq++;
    process.stderr.write(`${new Date().toISOString().slice(0, 19)}Z|${String(seq).padStart(5, "0")}|reconnect|INFO|${server}: ${msg}\n`);
  };
  let announced = false;
  for (;;) {
    let rpc: JsonRpcConnection;
    if (!announced) info("connecting...");
    try {
      rpc = await openJsonRpc(server);
    } catch (e) {
      if (!announced) {
        const code = (e as NodeJS.ErrnoException).code;
        info(`connection attempt failed (${code === "ENOENT" ? "No such file or directory" : code === "ECONNREFUSED" ? "Connection refused" : (e as Error).message})`);
        announced = true;
      }
      await new Promise((r) => setTimeout(r, 200));
      continue;
    }
    info("connected");
    announced = false;
    ctx.rpc = rpc;
    try {
      await rpc.request("set_db_change_aware", [true]).catch((e: unknown) => {
        if (e instanceof JsonRpcError) throw new Fatal(`${server}: set_db_change_aware failed (${jsonToString(e.error as Json)})`);
        throw e;
      });
      const result = await rpc.request("transact", ["_Server", op]);
      const first = Array.isArray(result) ? (result[0] as Record<string, unknown> | undefined) : undefined;
      if (first && typeof first === "object" && "error" in first) {
        throw new Fatal(`transaction returned error: ${jsonToString(first as Json, { sort: true })}`);
      }
      return;
    } catch (e) {
      if (e instanceof Fatal) throw e;
      if (e instanceof JsonRpcError) throw new Fatal(`transaction returned error: ${jsonToString(e.error as Json, { sort: true })}`);
      rpc.close();
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}

/** Like OVS, say why we stop when killed, then die of the same signal. */
function reportFatalSignals(): void {
  for (const [sig, num, text] of [["SIGTERM", 15, "Terminated"], ["SIGINT", 2, "Interrupt"], ["SIGHUP", 1, "Hangup"]] as const) {
    process.once(sig, () => {
      const now = new Date().toISOString().slice(0, 19);
      process.stderr.write(`${now}Z|00001|fatal_signal|WARN|terminating with signal ${num} (${text})\n`, () => process.kill(process.pid, sig));
    });
  }
}

/**
 * `lock`, `steal`, `unlock LOCK`: sends the request, prints its reply, then
 * keeps running and prints every notification ("locked", "stolen") as its
 * method name and its params, until the connection ends. An error reply
 * (such as "unlock" of a lock not held) prints nothing, as in OVS.
 */
async function doLock(ctx: Ctx, method: "lock" | "steal" | "unlock"): Promise<void> {
  const rpc = ctx.rpc!;
  reportFatalSignals();
  const done = new Promise<void>((_resolve, reject) => {
    rpc.on("notify", (note, params) => {
      out(`${note}\n`);
      printJson(ctx, params);
    });
    rpc.on("close", () => reject(new Fatal(`${ctx.server}: receive failed (End of file)`)));
  });
  done.catch(() => undefined);
  try {
    printJson(ctx, await rpc.request(method, [ctx.args[0]!]));
  } catch (e) {
    if (!(e instanceof JsonRpcError)) throw e;
  }
  await done;
}

/**
 * `[--force] restore [SERVER] [DATABASE] < SNAPSHOT`: replaces the
 * database's contents by the backup's, in one transaction (rows get new
 * uuids; references between them are kept through named uuids).
 */
async function doRestore(ctx: Ctx): Promise<void> {
  if (process.stdin.isTTY) throw new Fatal("not reading backup from a terminal; please redirect stdin from a file");
  let input: Buffer;
  try {
    input = fs.readFileSync(0);
  } catch (e) {
    throw new Fatal(`/dev/stdin: read failed (${(e as Error).message})`);
  }
  const backup = readDatabaseFromBuffer(input, "/dev/stdin");
  const db = ctx.database!;
  const online = await fetchSchema(ctx, db);
  const a = backup.schema;
  const b = online.schema;
  if (jsonToString(a.toJSON() as Json, { sort: true }) !== jsonToString(b.toJSON() as Json, { sort: true })) {
    const why =
      a.version !== b.version
        ? `backup schema has version "${a.version}" but database schema has version "${b.version}"`
        : `backup schema and database schema are both version ${a.version} but still differ`;
    if (!ctx.force) throw new Fatal(`${why} (use --force to override differences, or "ovsdb-client convert" to change the schema)`);
  }
  const rowName = (uuid: string): string => `row${uuid.replace(/-/g, "_")}`;
  const withRowNames = (base: BaseType, atom: unknown): unknown => (base.type === "uuid" ? ["named-uuid", rowName(atom as string)] : atom);
  const txn: unknown[] = [a.name];
  for (const tableName of shashOrder(shashOrder(shashOrder([...a.tables.keys()])))) {
    const ts = a.tables.get(tableName)!;
    txn.push({ op: "delete", table: tableName, where: [] });
    const cols = rowMemberOrder(ts.columnList.map((c) => c.name))
      .map((n) => ts.columns.get(n)!)
      .filter((c) => c.index >= 0 && !c.ephemeral);
    for (const row of backup.db.tables.get(tableName)!.rows.values()) {
      const rowJson: Record<string, unknown> = {};
      for (const c of cols) {
        const d = row.getByIndex(c.index);
        if (datumEquals(d, defaultDatum(c.type))) continue;
        const t = c.type;
        if (t.value !== null) rowJson[c.name] = ["map", d.keys.map((k, i) => [withRowNames(t.key, k), withRowNames(t.value!, d.values![i])])];
        else rowJson[c.name] = d.keys.length === 1 ? withRowNames(t.key, d.keys[0]) : ["set", d.keys.map((k) => withRowNames(t.key, k))];
      }
      txn.push({ op: "insert", table: tableName, "uuid-name": rowName(row.uuid), row: rowJson });
    }
  }
  const reply = await request(ctx, "transact", txn);
  if (!Array.isArray(reply)) throw new Fatal("result is not array");
  for (const r of reply) {
    if (r === null || typeof r !== "object" || Array.isArray(r)) throw new Fatal("result array element is not object");
    if ("error" in r) throw new Fatal(`server returned error reply: ${jsonToString(r as Json, { sort: true })}`);
  }
}

/** For commands whose database comes from an argument (convert, needs-conversion). */
async function openForDatabase(ctx: Ctx, db: string): Promise<void> {
  const server = ctx.args.length > 1 ? ctx.args[0]! : defaultDbRemote();
  ctx.rpc = await connect(server);
  ctx.server = server;
  ctx.database = db;
}

const COMMANDS: Record<string, Command> = {
  "list-dbs": { need: "rpc", min: 0, max: 0, handler: doListDbs },
  "get-schema": { need: "database", min: 0, max: 0, handler: doGetSchema },
  "get-schema-version": { need: "database", min: 0, max: 0, handler: doGetSchemaVersion },
  "get-schema-cksum": { need: "database", min: 0, max: 0, handler: doGetSchemaCksum },
  "list-tables": { need: "database", min: 0, max: 0, handler: doListTables },
  "list-columns": { need: "database", min: 0, max: 1, handler: doListColumns },
  transact: { need: "none", min: 1, max: 2, handler: doTransact },
  query: { need: "none", min: 1, max: 2, handler: doQuery },
  monitor: { need: "database", min: 1, max: Infinity, handler: doMonitor },
  "monitor-cond": { need: "database", min: 2, max: 3, handler: doMonitorCond },
  "monitor-cond-since": { need: "database", min: 2, max: 4, handler: doMonitorCondSince },
  convert: { need: "none", min: 1, max: 2, handler: doConvert },
  "needs-conversion": { need: "none", min: 1, max: 2, handler: doNeedsConversion },
  dump: { need: "database", min: 0, max: Infinity, handler: doDump },
  backup: { need: "database", min: 0, max: 0, handler: doBackup },
  wait: { need: "none", min: 2, max: 3, handler: doWait },
  restore: { need: "database", min: 0, max: 0, handler: doRestore },
  lock: { need: "rpc", min: 1, max: 1, handler: (ctx) => doLock(ctx, "lock") },
  steal: { need: "rpc", min: 1, max: 1, handler: (ctx) => doLock(ctx, "steal") },
  unlock: { need: "rpc", min: 1, max: 1, handler: (ctx) => doLock(ctx, "unlock") },
};

/** OVS's open_rpc(): optional SERVER, then (when needed) an optional DATABASE. */
async function openRpc(ctx: Ctx, cmd: Command, args: string[]): Promise<string[]> {
  let i = 0;
  let server = defaultDbRemote();
  if (args.length > cmd.min && looksLikeRemote(args[0]!)) {
    server = args[0]!;
    i++;
  }
  ctx.server = server;
  if (server.includes(",") && cmd.need === "database") {
    // Which server answers is not known in advance: the name must be given.
    if (args.length - i <= cmd.min) throw new Fatal("database name is required with multiple remotes");
    ctx.database = args[i++]!;
    ctx.rpc = await connect(server);
    return args.slice(i);
  }
  ctx.rpc = await connect(server);
  if (cmd.need === "database") {
    const dbs = await fetchDbs(ctx);
    if (args.length - i > cmd.min && dbs.includes(args[i]!)) ctx.database = args[i++]!;
    else if (dbs.includes("Open_vSwitch")) ctx.database = "Open_vSwitch";
    else {
      const candidates = dbs.filter((d) => !d.startsWith("_"));
      if (candidates.length !== 1) throw new Fatal("could not find a default database, please specify a database name");
      ctx.database = candidates[0]!;
    }
  }
  return args.slice(i);
}

function usage(): string {
  return `${PROGRAM}: Open vSwitch database JSON-RPC client
usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...]

Valid commands are:

  list-dbs [SERVER]
    list databases available on SERVER

  get-schema [SERVER] [DATABASE]
    retrieve schema for DATABASE from SERVER

  get-schema-version [SERVER] [DATABASE]
    retrieve schema for DATABASE from SERVER and report only its
    version number on stdout

  get-schema-cksum [SERVER] [DATABASE]
    retrieve schema for DATABASE from SERVER and report only its
    checksum on stdout

  list-tables [SERVER] [DATABASE]
    list tables for DATABASE on SERVER

  list-columns [SERVER] [DATABASE] [TABLE]
    list columns in TABLE (or all tables) in DATABASE on SERVER

  transact [SERVER] TRANSACTION
    run TRANSACTION (params for "transact" request) on SERVER
    and print the results as JSON on stdout

  query [SERVER] TRANSACTION
    run TRANSACTION (params for "transact" request) on SERVER,
    as read-only, and print the results as JSON on stdout

  monitor [SERVER] [DATABASE] TABLE [COLUMN,...]...
    monitor contents of COLUMNs in TABLE in DATABASE on SERVER.
    COLUMNs may include !initial, !insert, !delete, !modify
    to avoid seeing the specified kinds of changes.

  monitor-cond [SERVER] [DATABASE] CONDITION TABLE [COLUMN,...]...
    monitor contents that match CONDITION of COLUMNs in TABLE in
    DATABASE on SERVER.
    COLUMNs may include !initial, !insert, !delete, !modify
    to avoid seeing the specified kinds of changes.

  monitor-cond-since [SERVER] [DATABASE] [LASTID] CONDITION TABLE [COLUMN,...]...
    monitor contents that match CONDITION of COLUMNs in TABLE in
    DATABASE on SERVER, since change after LASTID.
    LASTID specifies transaction ID after which the monitoring
    starts, which works only for cluster mode. If ignored, it
    defaults to an all-zero uuid.
    Other arguments are the same as in monitor-cond.

  convert [SERVER] SCHEMA
    convert database on SERVER named in SCHEMA to SCHEMA.

  needs-conversion [SERVER] SCHEMA
    tests whether SCHEMA's db on SERVER needs conversion.

  monitor [SERVER] [DATABASE] ALL
    monitor all changes to all columns in all tables

  wait [SERVER] DATABASE STATE
    wait until DATABASE reaches STATE ("added" or "connected" or "removed")
    in DATBASE on SERVER.

  dump [SERVER] [DATABASE]
    dump contents of DATABASE on SERVER to stdout

  backup [SERVER] [DATABASE] > SNAPSHOT
    dump database contents in the form of a database file

  [--force] restore [SERVER] [DATABASE] < SNAPSHOT
    restore database contents from a database file

  lock [SERVER] LOCK
    create or wait for LOCK in SERVER

  steal [SERVER] LOCK
    steal LOCK from SERVER

  unlock [SERVER] LOCK
    unlock LOCK from SERVER

The default SERVER is ${defaultDbRemote()}.
The default DATABASE is Open_vSwitch.

${remoteOptionsHelp("SERVER")}
${TABLE_OPTIONS_HELP}  --timestamp                 timestamp "monitor" output
Daemon options:
  --detach                run in background as daemon
  --monitor               creates a process to monitor this daemon
  --user=username[:group] changes the effective daemon user:group
  --no-chdir              do not chdir to '/'
  --pidfile[=FILE]        create pidfile (default: ${rundir()}/ovsdb-client.pid)
  --overwrite-pidfile     with --pidfile, start even if already running

${loggingOptionsHelp(`${logdir()}/ovsdb-client.log`)}
Replay options:
  --record[=DIR]            turn on writing replay files
  --replay[=DIR]            run from replay files

Other options:
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

const CLIENT_OPTIONS: LongOption[] = [
  { name: "verbose", hasArg: 2, id: "ignored", short: "v" },
  ...TABLE_OPTIONS,
  { name: "timestamp", hasArg: 0, id: "timestamp" },
  { name: "timeout", hasArg: 1, id: "timeout", short: "t" },
  { name: "db-change-aware", hasArg: 0, id: "ignored" },
  { name: "no-db-change-aware", hasArg: 0, id: "ignored" },
  { name: "leader-only", hasArg: 0, id: "ignored" },
  { name: "no-leader-only", hasArg: 0, id: "ignored" },
  { name: "force", hasArg: 0, id: "force" },
  { name: "help", hasArg: 0, id: "help", short: "h" },
  { name: "version", hasArg: 0, id: "version", short: "V" },
  { name: "detach", hasArg: 0, id: "ignored" },
  { name: "no-chdir", hasArg: 0, id: "ignored" },
  { name: "pidfile", hasArg: 2, id: "ignored" },
  { name: "overwrite-pidfile", hasArg: 0, id: "ignored" },
  { name: "monitor", hasArg: 0, id: "ignored" },
  { name: "user", hasArg: 1, id: "ignored" },
  { name: "log-file", hasArg: 2, id: "ignored" },
  { name: "syslog-method", hasArg: 1, id: "ignored" },
  { name: "syslog-target", hasArg: 1, id: "ignored" },
  { name: "private-key", hasArg: 1, id: "ignored", short: "p" },
  { name: "certificate", hasArg: 1, id: "ignored", short: "c" },
  { name: "ca-cert", hasArg: 1, id: "ignored", short: "C" },
  { name: "bootstrap-ca-cert", hasArg: 1, id: "ignored" },
  { name: "ssl-protocols", hasArg: 1, id: "ignored" },
  { name: "ssl-ciphers", hasArg: 1, id: "ignored" },
  { name: "unixctl", hasArg: 1, id: "ignored" },
];

export async function run(argv: string[]): Promise<number> {
  const style: TableStyle = { ...DEFAULT_TABLE_STYLE };
  const ctx: Ctx = { style, timestamp: false, printer: new TablePrinter(), rpc: null, server: "", database: null, args: [] };
  try {
    return await runProgram(PROGRAM, async () => {
      const { options, operands: positional } = getoptLong(argv, CLIENT_OPTIONS, PROGRAM, true);
      for (const o of options) {
        switch (o.id) {
          case "help":
            out(usage());
            return 0;
          case "version":
            out(`${PROGRAM} (Open vSwitch) ${OVS_VERSION}\n`);
            return 0;
          case "timestamp":
            ctx.timestamp = true;
            break;
          case "force":
            ctx.force = true;
            break;
          case "timeout": {
            const t = /^[0-9]+$/.test(o.arg!) ? Number(o.arg) : NaN;
            if (!(t >= 1)) throw new Fatal(`value ${o.arg} on -t or --timeout is invalid`);
            setTimeout(() => {
              process.stderr.write(`${PROGRAM}: time limit exceeded\n`);
              process.exit(1);
            }, t * 1000).unref();
            break;
          }
          default: {
            const error = applyTableOption(style, o.id, o.arg);
            if (error !== null) throw new Fatal(error);
          }
        }
      }
      const [name, ...rest] = positional;
      if (name === undefined) throw new Fatal("missing command name; use --help for help");
      const cmd = COMMANDS[name];
      if (!cmd) throw new Fatal(`unknown command '${name}'; use --help for help`);
      ctx.args = cmd.need === "none" ? rest : await openRpc(ctx, cmd, rest);
      if (ctx.args.length < cmd.min || ctx.args.length > cmd.max) throw new Fatal(`invalid syntax for '${name}' (use --help for help)`);
      await cmd.handler(ctx);
      return 0;
    });
  } finally {
    ctx.rpc?.close();
  }
}
