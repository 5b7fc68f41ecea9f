/**
 * `tsovs ovsdb-tool`: manages standalone OVSDB database files, as
 * ovsdb-tool(1) of Open vSwitch 3.1 does — same commands, arguments,
 * defaults, output and error messages (clustered databases are not
 * supported).
 *
 * The files it writes are read by OVS's own tools and server, and it reads
 * theirs (src/ovsdb/storage/).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSchema, datumFromJSON, datumToString, OvsdbError } from "../ovsdb/index.js";
import {
  DbFile,
  LogError,
  createDbFile,
  detectMagic,
  lockDb,
  encodeRecord,
  encodeRecordText,
  readLogFile,
  readSchemaFromBuffer,
  scanLog,
  shashOrder,
  snapshotRecord,
  schemaRecord,
  strerror,
  OVSDB_MAGIC,
  RAFT_MAGIC,
} from "../ovsdb/storage/index.js";
import { syncDir } from "../ovsdb/storage/log-writer.js";
import { parseOvsJson } from "../ovsdb/storage/ovs-json.js";
import { dbdir, packageRoot, pkgdatadir } from "../util/dirs.js";
import { jsonToString, type Json } from "../util/table-format.js";
import { getoptLong, type LongOption } from "../util/getopt.js";
import { Fatal, OVS_VERSION, out, ovsdbErrorText, runProgram } from "./ovsdb-cli.js";

export { OVS_VERSION, ovsdbErrorText };

const PROGRAM = "ovsdb-tool";

interface Options {
  more: number;
  rbacRole: string | undefined;
}

interface Command {
  min: number;
  max: number;
  handler: (args: string[], opts: Options) => Promise<void> | void;
}


function defaultDb(): string {
  return path.join(dbdir(), "conf.db");
}

function defaultSchema(): string {
  const p = path.join(pkgdatadir(), "vswitch.ovsschema");
  if (fs.existsSync(p) || process.env["OVS_PKGDATADIR"]) return p;
  const bundled = path.join(packageRoot(), "schemas", "vswitch.ovsschema");
  return fs.existsSync(bundled) ? bundled : p;
}

/** ovsdb_schema_from_file(): reads and parses a schema file. */
export function readSchemaFile(file: string): { schema: DatabaseSchema; json: unknown } {
  let text: string;
  try {
    text = fs.readFileSync(file, "utf8");
  } catch (e) {
    throw new Fatal(
      `failed to read schema: "${file}" could not be read as JSON (error opening "${file}": ${strerror(e as NodeJS.ErrnoException)})`,
    );
  }
  const parsed = parseOvsJson(text);
  if (!parsed.ok) throw new Fatal(`failed to read schema: "${file}" could not be read as JSON (${parsed.error})`);
  const json = parsed.value;
  try {
    return { schema: DatabaseSchema.fromJSON(json), json };
  } catch (e) {
    if (e instanceof OvsdbError) {
      throw new OvsdbError(e.tag, `failed to parse "${file}" as ovsdb schema: ${e.details ?? ""}`, e.syntax);
    }
    throw e;
  }
}

function readDbSchema(file: string): DatabaseSchema {
  return readSchemaFromBuffer(readLogFile(file), file).schema;
}

/** Sorted-key JSON equality (OVS compares schemas by their JSON). */
function canonical(v: unknown): string {
  return jsonToString(v as Json, { sort: true });
}

// ---------------------------------------------------------------------------
// Commands.

async function doCreate(args: string[]): Promise<void> {
  const db = args[0] ?? defaultDb();
  const schemaFile = args[1] ?? defaultSchema();
  const { json } = readSchemaFile(schemaFile);
  await createDbFile(db, json);
}

/** Writes schema + snapshot of `file` to `target` atomically (temp + rename). */
async function writeSnapshot(file: DbFile, target: string, comment: string): Promise<void> {
  const content = Buffer.concat([encodeRecord(schemaRecord(file.schema)), encodeRecordText(snapshotRecord(file.db, comment))]);
  const tmp = `${target}.tmp`;
  let mode = 0o640;
  try {
    mode = fs.statSync(target).mode & 0o7777;
  } catch {
    /* new file */
  }
  try {
    const fd = fs.openSync(tmp, "w", mode);
    try {
      fs.writeSync(fd, content);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, target);
  } catch (e) {
    try {
      fs.unlinkSync(tmp);
    } catch {
      /* nothing to remove */
    }
    throw new LogError("I/O error", `${target}: write failed (${strerror(e as NodeJS.ErrnoException)})`);
  }
  await syncDir(path.dirname(target));
}

async function compactOrConvert(src: string, dst: string | undefined, schema: DatabaseSchema | undefined, comment: string): Promise<void> {
  // Rewriting in place needs the database's lock, as in OVS.
  let lock: { release(): void } | null = null;
  if (dst === undefined) {
    readLogFile(src);
    try {
      lock = lockDb(src);
    } catch (e) {
      throw new Fatal((e as LogError).message);
    }
  }
  try {
    await compactOrConvert2(src, dst, schema, comment);
  } finally {
    lock?.release();
  }
}

async function compactOrConvert2(src: string, dst: string | undefined, schema: DatabaseSchema | undefined, comment: string): Promise<void> {
  const opts = schema ? { readOnly: true, schema, onError: "throw" as const, compaction: false as const } : { readOnly: true, onError: "throw" as const, compaction: false as const };
  const file = await DbFile.open(src, opts);
  await writeSnapshot(file, dst ?? src, comment);
  await file.close();
}

async function doCompact(args: string[]): Promise<void> {
  await compactOrConvert(args[0] ?? defaultDb(), args[1], undefined, `compacted by ovsdb-tool ${OVS_VERSION}`);
}

async function doConvert(args: string[]): Promise<void> {
  const db = args[0] ?? defaultDb();
  const { schema } = readSchemaFile(args[1] ?? defaultSchema());
  await compactOrConvert(db, args[2], schema, `converted by ovsdb-tool ${OVS_VERSION}`);
}

function doNeedsConversion(args: string[]): void {
  const a = readDbSchema(args[0] ?? defaultDb());
  const { schema: b } = readSchemaFile(args[1] ?? defaultSchema());
  out(canonical(a.toJSON()) === canonical(b.toJSON()) ? "no\n" : "yes\n");
}

function doDbName(args: string[]): void {
  out(readDbSchema(args[0] ?? defaultDb()).name + "\n");
}
function doDbVersion(args: string[]): void {
  out(readDbSchema(args[0] ?? defaultDb()).version + "\n");
}
function doDbCksum(args: string[]): void {
  out((readDbSchema(args[0] ?? defaultDb()).cksum ?? "") + "\n");
}
function doSchemaName(args: string[]): void {
  out(readSchemaFile(args[0] ?? defaultSchema()).schema.name + "\n");
}
function doSchemaVersion(args: string[]): void {
  out(readSchemaFile(args[0] ?? defaultSchema()).schema.version + "\n");
}
function doSchemaCksum(args: string[]): void {
  out((readSchemaFile(args[0] ?? defaultSchema()).schema.cksum ?? "") + "\n");
}

function fileMagic(file: string): string {
  return detectMagic(readLogFile(file), file, [OVSDB_MAGIC, RAFT_MAGIC]);
}

function doDbIsStandalone(args: string[]): void {
  if (fileMagic(args[0]!) !== OVSDB_MAGIC) throw new Fatal("", 2);
}
function doDbIsClustered(args: string[]): void {
  if (fileMagic(args[0]!) !== RAFT_MAGIC) throw new Fatal("", 2);
}

function parseVersion(s: string): number[] | null {
  const m = /^(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (!m) return null;
  const v = [Number(m[1]), Number(m[2]), Number(m[3])];
  return v.every((x) => x <= 0xffffffff) ? v : null;
}

function doCompareVersions(args: string[]): void {
  const [a, op, b] = args as [string, string, string];
  const va = parseVersion(a);
  if (!va) throw new Fatal(`${a}: not an OVSDB version number in format x.y.z`);
  const vb = parseVersion(b);
  if (!vb) throw new Fatal(`${b}: not an OVSDB version number in format x.y.z`);
  let c = 0;
  for (let i = 0; i < 3 && c === 0; i++) c = Math.sign(va[i]! - vb[i]!);
  let ok: boolean;
  switch (op) {
    case "<":
      ok = c < 0;
      break;
    case "<=":
      ok = c <= 0;
      break;
    case "==":
      ok = c === 0;
      break;
    case ">=":
      ok = c >= 0;
      break;
    case ">":
      ok = c > 0;
      break;
    case "!=":
      ok = c !== 0;
      break;
    default:
      throw new Fatal(`${op}: unknown comparison operator`);
  }
  if (!ok) throw new Fatal("", 2);
}

/** Parses a JSON argument, failing as OVS's parse_json() does. */
function parseJsonArg(s: string): unknown {
  const parsed = parseOvsJson(s);
  if (!parsed.ok) throw new Fatal(`"${s}": ${parsed.error}`);
  return parsed.value;
}

async function transact(args: string[], rw: boolean): Promise<void> {
  const dbFile = args.length >= 2 ? args[0]! : defaultDb();
  const request = args[args.length - 1]!;
  const file = await DbFile.open(dbFile, { readOnly: !rw, onError: "throw", compaction: false });
  try {
    const params = parseJsonArg(request);
    let result: unknown;
    if (!Array.isArray(params)) {
      result = new OvsdbError("syntax error", "array expected", canonical(params)).toJSON();
    } else if (params.length === 0 || params[0] !== file.schema.name) {
      result = new OvsdbError("syntax error", "database name expected as first parameter", canonical(params)).toJSON();
    } else {
      const outcome = file.db.transact(params.slice(1));
      if (outcome.blocked !== null) {
        result = await blockedResults(dbFile, params.slice(1));
      } else {
        if (rw && outcome.changes) await file.commit(outcome.changes, outcome);
        result = outcome.results;
      }
    }
    out(canonical(result) + "\n");
  } finally {
    await file.close();
  }
}

/**
 * The results OVS prints when a "wait" would block: a tool cannot wait, so
 * that operation fails with "not supported", the operations before it have
 * their results, and those after it null (nothing is committed).
 */
async function blockedResults(dbFile: string, ops: unknown[]): Promise<unknown[]> {
  const fresh = (): Promise<DbFile> => DbFile.open(dbFile, { readOnly: true, onError: "throw", compaction: false });
  for (let w = 0; w < ops.length; w++) {
    const op = ops[w] as { op?: unknown } | null;
    if (op === null || typeof op !== "object" || op.op !== "wait") continue;
    const probe = await fresh();
    const blocked = probe.db.transact(ops.slice(0, w + 1)).blocked !== null;
    await probe.close();
    if (!blocked) continue;
    const before = await fresh();
    const prefix = before.db.transact(ops.slice(0, w)).results;
    await before.close();
    const notSupported = { details: "triggers not supported", error: "not supported" };
    return [...prefix, notSupported, ...ops.slice(w + 1).map(() => null)];
  }
  return [];
}

// ---- show-log ---------------------------------------------------------------

function formatDate(ms: number): string {
  if (ms < 2147483647) ms *= 1000; // Old files wrote seconds.
  const d = new Date(ms);
  const p = (n: number, w = 2): string => String(n).padStart(w, "0");
  return (
    `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ` +
    `${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}`
  );
}

function printDbChanges(record: Record<string, unknown>, names: Map<string, string>, schema: DatabaseSchema | null, more: number): void {
  const isDiff = record["_is_diff"] === true;
  let i = 0;
  let s = "";
  for (const table of shashOrder(Object.keys(record))) {
    const rows = record[table];
    if (table.startsWith("_") || rows === null || typeof rows !== "object" || Array.isArray(rows)) continue;
    if (i++ === 0) s += "\n";
    const tableSchema = schema?.tables.get(table) ?? null;
    const rowsObj = rows as Record<string, unknown>;
    for (const uuid of shashOrder(Object.keys(rowsObj))) {
      const columns = rowsObj[uuid];
      const oldName = names.get(uuid);
      let newName: string | null = null;
      const isObj = columns !== null && typeof columns === "object" && !Array.isArray(columns);
      if (isObj) {
        const n = (columns as Record<string, unknown>)["name"];
        if (n !== undefined) newName = canonical(n);
      }
      s += `  table ${table}`;
      if (oldName === undefined) {
        s += newName !== null ? ` insert row ${newName} (${uuid.slice(0, 8)}):\n` : ` insert row ${uuid.slice(0, 8)}:\n`;
      } else {
        s += ` row ${oldName} (${uuid.slice(0, 8)})${isDiff ? " diff" : ""}:\n`;
      }
      if (isObj) {
        const cols = columns as Record<string, unknown>;
        if (more > 1) {
          for (const col of shashOrder(Object.keys(cols))) {
            const value = cols[col];
            let text: string | null = null;
            const cs = tableSchema?.columns.get(col);
            if (cs && cs.index >= 0) {
              try {
                text = datumToString(cs.type, datumFromJSON(cs.type, value));
              } catch {
                text = null;
              }
            }
            s += `    ${col}=${text ?? canonical(value)}\n`;
          }
        }
        if (newName !== null && (oldName === undefined || oldName !== newName)) names.set(uuid, newName);
        else if (oldName === undefined) names.set(uuid, uuid.slice(0, 8));
      } else if (columns === null) {
        s += "    delete row\n";
        names.delete(uuid);
      }
    }
  }
  out(s);
}

function doShowLog(args: string[], opts: Options): void {
  const file = args[0] ?? defaultDb();
  const buf = readLogFile(file);
  if (detectMagic(buf, file, [OVSDB_MAGIC, RAFT_MAGIC]) === RAFT_MAGIC) {
    throw new Fatal(`${file}: clustered databases are not supported by tsovs`);
  }
  const scan = scanLog(buf, file);
  const names = new Map<string, string>();
  let schema: DatabaseSchema | null = null;
  scan.records.forEach((rec, i) => {
    let s = `record ${i}:`;
    if (i === 0) {
      try {
        schema = DatabaseSchema.fromJSON(rec.json);
      } catch (e) {
        out(s);
        throw e;
      }
      s += ` "${schema.name}" schema, version="${schema.version}", cksum="${schema.cksum ?? ""}"\n`;
      out(s);
    } else {
      const json = rec.json;
      if (json !== null && typeof json === "object" && !Array.isArray(json)) {
        const obj = json as Record<string, unknown>;
        const date = obj["_date"];
        if (typeof date === "number" && Number.isInteger(date)) s += ` ${formatDate(date)}`;
        const comment = obj["_comment"];
        if (typeof comment === "string") s += ` "${comment}"`;
        out(s);
        if (opts.more > 0) printDbChanges(obj, names, schema, opts.more);
      } else {
        out(s);
      }
    }
    out("\n");
  });
  if (scan.error) throw scan.error;
}

/** Commands about clustered (Raft) databases, which tsovs does not implement. */
function clusterOnly(fileArg: number): (args: string[]) => void {
  return (args) => {
    const file = args[fileArg]!;
    if (fileMagic(file) !== RAFT_MAGIC) throw new Fatal(`${file}: not a clustered database`);
    throw new Fatal(`${file}: clustered databases are not supported by tsovs`);
  };
}

function doClusterToStandalone(args: string[]): void {
  const src = args[1]!;
  if (fileMagic(src) !== RAFT_MAGIC) throw new Fatal("Database is not clustered db.\n");
  throw new Fatal(`${src}: clustered databases are not supported by tsovs`);
}

function noClusters(): void {
  throw new Fatal("clustered databases are not supported by tsovs");
}

// ---------------------------------------------------------------------------

const COMMANDS: Record<string, Command> = {
  create: { min: 0, max: 2, handler: doCreate },
  compact: { min: 0, max: 2, handler: doCompact },
  convert: { min: 0, max: 3, handler: doConvert },
  "needs-conversion": { min: 0, max: 2, handler: doNeedsConversion },
  "db-name": { min: 0, max: 1, handler: doDbName },
  "db-version": { min: 0, max: 1, handler: doDbVersion },
  "db-cksum": { min: 0, max: 1, handler: doDbCksum },
  "db-is-clustered": { min: 1, max: 1, handler: doDbIsClustered },
  "db-is-standalone": { min: 1, max: 1, handler: doDbIsStandalone },
  "schema-name": { min: 0, max: 1, handler: doSchemaName },
  "schema-version": { min: 0, max: 1, handler: doSchemaVersion },
  "schema-cksum": { min: 0, max: 1, handler: doSchemaCksum },
  "compare-versions": { min: 3, max: 3, handler: doCompareVersions },
  query: { min: 1, max: 2, handler: (a) => transact(a, false) },
  transact: { min: 1, max: 2, handler: (a) => transact(a, true) },
  "show-log": { min: 0, max: 1, handler: doShowLog },
  "db-cid": { min: 1, max: 1, handler: clusterOnly(0) },
  "db-sid": { min: 1, max: 1, handler: clusterOnly(0) },
  "db-local-address": { min: 1, max: 1, handler: clusterOnly(0) },
  "cluster-to-standalone": { min: 2, max: 2, handler: doClusterToStandalone },
  "create-cluster": { min: 3, max: 3, handler: noClusters },
  "join-cluster": { min: 4, max: Infinity, handler: noClusters },
};

function usage(): string {
  return `${PROGRAM}: Open vSwitch database management utility
usage: ${PROGRAM} [OPTIONS] COMMAND [ARG...]
  create [DB [SCHEMA]]    create DB with the given SCHEMA
  compact [DB [DST]]      compact DB in-place (or to DST)
  convert [DB [SCHEMA [DST]]]   convert DB to SCHEMA (to DST)
  db-name [DB]            report name of schema used by DB
  db-version [DB]         report version of schema used by DB
  db-cksum [DB]           report checksum of schema used by DB
  db-is-clustered DB      test whether DB is clustered
  db-is-standalone DB     test whether DB is standalone
  schema-name [SCHEMA]    report SCHEMA's name
  schema-version [SCHEMA] report SCHEMA's schema version
  schema-cksum [SCHEMA]   report SCHEMA's checksum
  compare-versions A OP B  compare OVSDB schema version numbers
  query [DB] TRNS         execute read-only transaction on DB
  transact [DB] TRNS      execute read/write transaction on DB
  [-m]... show-log [DB]   print DB's log entries
The default DB is ${defaultDb()}.
The default SCHEMA is ${defaultSchema()}.

Other options:
  -m, --more                  increase show-log verbosity
  --rbac-role=ROLE            RBAC role for transact and query commands
  -h, --help                  display this help message
  -V, --version               display version information
`;
}

const TOOL_OPTIONS: LongOption[] = [
  { name: "more", hasArg: 0, id: "more", short: "m" },
  { name: "rbac-role", hasArg: 1, id: "rbac-role" },
  { name: "election-timer", hasArg: 1, id: "ignored" },
  { name: "cid", hasArg: 1, id: "ignored" },
  { name: "verbose", hasArg: 2, id: "ignored", short: "v" },
  { name: "log-file", hasArg: 2, id: "ignored" },
  { name: "syslog-method", hasArg: 1, id: "ignored" },
  { name: "syslog-target", hasArg: 1, id: "ignored" },
  { name: "help", hasArg: 0, id: "help", short: "h" },
  { name: "version", hasArg: 0, id: "version", short: "V" },
];

export async function run(argv: string[]): Promise<number> {
  const opts: Options = { more: 0, rbacRole: undefined };
  return runProgram(PROGRAM, async () => {
    const { options, operands: positional } = getoptLong(argv, TOOL_OPTIONS, PROGRAM, true);
    for (const o of options) {
      switch (o.id) {
        case "more":
          opts.more++;
          break;
        case "rbac-role":
          opts.rbacRole = o.arg!;
          break;
        case "help":
          out(usage());
          return 0;
        case "version":
          out(`${PROGRAM} (Open vSwitch) ${OVS_VERSION}\n`);
          return 0;
      }
    }
    const [name, ...args] = positional;
    if (name === undefined) throw new Fatal("missing command name; use --help for help");
    const cmd = COMMANDS[name];
    if (!cmd) throw new Fatal(`unknown command '${name}'; use --help for help`);
    if (args.length < cmd.min) throw new Fatal(`'${name}' command requires at least ${cmd.min} arguments`);
    if (args.length > cmd.max) throw new Fatal(`'${name}' command takes at most ${cmd.max} arguments`);
    await cmd.handler(args, opts);
    return 0;
  });
}
