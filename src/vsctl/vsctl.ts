/**
 * `ovs-vsctl` itself: options, command parsing, the prerequisite checks,
 * the transaction loop and output, and waiting for ovs-vswitchd.
 *
 * One run: parse options and `--`-separated commands → check table and
 * column names → connect and load the database → run every command against
 * one transaction (retrying from scratch when `wait-until` is not yet
 * satisfied) → commit (bumping `next_cfg` unless `--no-wait`) → print each
 * command's output → wait until `cur_cfg` catches up.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { openJsonRpc, type JsonRpcConnection } from "../jsonrpc/index.js";
import { rundir, logdir, pkgdatadir, packageRoot } from "../util/dirs.js";
import { TablePrinter, TABLE_OPTIONS, applyTableOption, jsonToString, type TableStyle, type Json } from "../util/table-format.js";
import { SymbolTable } from "../ovsdb/datum-text.js";
import { CommandContext, CtlError, type CommandSyntax, type ParsedCommand } from "./context.js";
import { DB_COMMANDS, postCreate } from "./db-commands.js";
import { VSCTL_COMMANDS, ExitRequest, newIfaces } from "./vsctl-commands.js";
import { Idl, schemaFromJson, type DbSchema, type IdlRow } from "./idl.js";
import { getoptLong, GetoptError, type LongOption } from "../util/getopt.js";
import { helpText, COMMANDS_TEXT, OPTIONS_TEXT } from "./help-text.js";
import { computeMonitorSet } from "./monitor-set.js";

const PROG = "ovs-vsctl";
const VERSION = "3.1.0";

export const ALL_COMMANDS = new Map<string, CommandSyntax>([...DB_COMMANDS, ...VSCTL_COMMANDS].map((c) => [c.name, c]));

/** Where output goes: the process's stdout/stderr, or a test's buffers. */
export interface VsctlIo {
  out(s: string): void;
  err(s: string): void;
}

const PROCESS_IO: VsctlIo = {
  out: (s) => void process.stdout.write(s),
  err: (s) => void process.stderr.write(s),
};

let io: VsctlIo = PROCESS_IO;

/** Log sequence number of this run, as OVS's vlog numbers its messages. */
let logSeq = 0;

function logLine(module: string, level: string, msg: string): string {
  logSeq++;
  const t = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  return `${t}|${String(logSeq).padStart(5, "0")}|${module}|${level}|${msg}\n`;
}

function warn(module: string, msg: string): void {
  io.err(logLine(module, "WARN", msg));
}

const GLOBAL_OPTIONS: LongOption[] = [
  { name: "db", hasArg: 1, id: "db" },
  { name: "no-syslog", hasArg: 0, id: "no-syslog" },
  { name: "no-wait", hasArg: 0, id: "no-wait" },
  { name: "dry-run", hasArg: 0, id: "dry-run" },
  { name: "oneline", hasArg: 0, id: "oneline" },
  { name: "timeout", hasArg: 1, id: "timeout", short: "t" },
  { name: "retry", hasArg: 0, id: "retry" },
  { name: "help", hasArg: 0, id: "help", short: "h" },
  { name: "commands", hasArg: 0, id: "commands" },
  { name: "options", hasArg: 0, id: "options" },
  { name: "leader-only", hasArg: 0, id: "leader-only" },
  { name: "no-leader-only", hasArg: 0, id: "no-leader-only" },
  { name: "shuffle-remotes", hasArg: 0, id: "shuffle-remotes" },
  { name: "no-shuffle-remotes", hasArg: 0, id: "no-shuffle-remotes" },
  { name: "version", hasArg: 0, id: "version", short: "V" },
  { name: "verbose", hasArg: 2, id: "verbose", short: "v" },
  { name: "log-file", hasArg: 2, id: "log-file" },
  { name: "syslog-method", hasArg: 1, id: "syslog-method" },
  { name: "syslog-target", hasArg: 1, id: "syslog-target" },
  ...TABLE_OPTIONS,
  { name: "private-key", hasArg: 1, id: "private-key", short: "p" },
  { name: "certificate", hasArg: 1, id: "certificate", short: "c" },
  { name: "ca-cert", hasArg: 1, id: "ca-cert", short: "C" },
  { name: "ssl-protocols", hasArg: 1, id: "ssl-protocols" },
  { name: "ssl-ciphers", hasArg: 1, id: "ssl-ciphers" },
  { name: "bootstrap-ca-cert", hasArg: 1, id: "bootstrap-ca-cert" },
  { name: "peer-ca-cert", hasArg: 1, id: "peer-ca-cert" },
];

/** Command-specific options accepted before the first command too. */
function localOptions(): LongOption[] {
  const seen = new Map<string, LongOption>();
  for (const c of ALL_COMMANDS.values()) {
    for (const o of c.options.split(",").filter((s) => s !== "")) {
      const name = o.replace(/^--/, "").replace(/[=?]$/, "");
      if (!seen.has(name)) seen.set(name, { name, hasArg: o.endsWith("=") ? 1 : o.endsWith("?") ? 2 : 0, id: "local" });
    }
  }
  return [...seen.values()];
}

interface Settings {
  db: string;
  oneline: boolean;
  dryRun: boolean;
  waitForReload: boolean;
  timeout: number;
  retry: boolean;
  style: TableStyle;
}

class Done extends Error {
  constructor(readonly status: number) {
    super("done");
  }
}

function parseCommand(argv: string[], local: Map<string, string | null>): ParsedCommand {
  const options = new Map(local);
  let i = 0;
  for (; i < argv.length; i++) {
    const opt = argv[i]!;
    if (!opt.startsWith("-")) break;
    const eq = opt.indexOf("=");
    const key = eq >= 0 ? opt.slice(0, eq) : opt;
    const value = eq >= 0 ? opt.slice(eq + 1) : null;
    if (options.has(key)) throw new CtlError(`'${opt}' option specified multiple times`);
    options.set(key, value);
  }
  if (i === argv.length) throw new CtlError("missing command name (use --help for help)");
  const name = argv[i]!;
  const syntax = ALL_COMMANDS.get(name);
  if (!syntax) throw new CtlError(`unknown command '${name}'; use --help for help`);
  for (const [key, value] of options) {
    const at = syntax.options.indexOf(key);
    const end = at >= 0 ? syntax.options[at + key.length] ?? "" : null;
    if (end === null || !(end === "=" || end === "," || end === "?" || end === " " || end === "")) {
      throw new CtlError(`'${name}' command has no '${key}' option`);
    }
    if (end !== "?" && (end === "=") !== (value !== null)) {
      if (end === "=") throw new CtlError(`missing argument to '${key}' option on '${name}' command`);
      throw new CtlError(`'${key}' option on '${name}' does not accept an argument`);
    }
  }
  const nArg = argv.length - i - 1;
  if (nArg < syntax.minArgs) throw new CtlError(`'${syntax.name}' command requires at least ${syntax.minArgs} arguments`);
  if (nArg > syntax.maxArgs) {
    if (argv.slice(i + 1).some((a) => a.startsWith("-"))) {
      throw new CtlError(
        `'${syntax.name}' command takes at most ${syntax.maxArgs} arguments (note that options must precede command names and follow a "--" argument)`,
      );
    }
    throw new CtlError(`'${syntax.name}' command takes at most ${syntax.maxArgs} arguments`);
  }
  return { syntax, argv: argv.slice(i), options };
}

function parseCommands(argv: string[], local: Map<string, string | null>): ParsedCommand[] {
  const out: ParsedCommand[] = [];
  let start = 0;
  for (let i = 0; i <= argv.length; i++) {
    if (i === argv.length || argv[i] === "--") {
      if (i > start) {
        out.push(parseCommand(argv.slice(start, i), local));
        local = new Map();
      } else if (local.size > 0) {
        throw new CtlError("missing command name (use --help for help)");
      }
      start = i + 1;
    }
  }
  if (out.length === 0) throw new CtlError("missing command name (use --help for help)");
  return out;
}

/** OVS's process_escape_args(): quotes words containing specials. */
function escapeArgs(args: string[]): string {
  return args
    .map((a) => (a !== "" && !/[ "\\'\t\n]/.test(a) ? a : '"' + a.replace(/["\\]/g, (m) => "\\" + m) + '"'))
    .join(" ");
}

function localSchema(): DbSchema | null {
  for (const p of [path.join(packageRoot(), "schemas", "vswitch.ovsschema"), path.join(pkgdatadir(), "vswitch.ovsschema")]) {
    try {
      return schemaFromJson(JSON.parse(fs.readFileSync(p, "utf8")));
    } catch {
      /* try the next */
    }
  }
  return null;
}

function errnoText(e: unknown): string {
  const code = (e as { code?: string }).code;
  switch (code) {
    case "ENOENT":
      return "No such file or directory";
    case "ECONNREFUSED":
      return "Connection refused";
    case "EACCES":
      return "Permission denied";
    case "ETIMEDOUT":
      return "Connection timed out";
    case "EHOSTUNREACH":
      return "No route to host";
    default:
      return (e as Error).message ?? String(e);
  }
}

async function connect(s: Settings): Promise<JsonRpcConnection> {
  for (;;) {
    try {
      return await openJsonRpc(s.db);
    } catch (e) {
      if (!s.retry) throw new CtlError(`${s.db}: database connection failed (${errnoText(e)})`);
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

function runPrerequisites(commands: ParsedCommand[], schema: DbSchema): void {
  const idlStub = null as unknown as Idl;
  for (const c of commands) {
    if (!c.syntax.pre) continue;
    const ctx = new CommandContext(idlStub, schema, new SymbolTable(), null, warn);
    ctx.argv = c.argv;
    ctx.options = c.options;
    c.syntax.pre(ctx);
  }
}

interface Attempt {
  contexts: CommandContext[];
  tryAgain: boolean;
}

async function doVsctl(s: Settings, commands: ParsedCommand[], idl: Idl, schema: DbSchema, comment: string): Promise<number> {
  const printer = new TablePrinter();
  for (;;) {
    idl.abort();
    newIfaces.length = 0;
    const symtab = new SymbolTable();
    let ovs: IdlRow | undefined = idl.first("Open_vSwitch");
    if (!ovs) ovs = idl.insert("Open_vSwitch");
    const attempt: Attempt = { contexts: [], tryAgain: false };
    const seqnoAtStart = idl.changeSeqno;
    let cache: unknown = null;
    idl.verifyReads = true;
    for (const c of commands) {
      const ctx = new CommandContext(idl, schema, symtab, ovs, warn);
      ctx.isLast = c === commands[commands.length - 1];
      ctx.argv = c.argv;
      ctx.options = c.options;
      ctx.cache = cache;
      c.syntax.run(ctx);
      cache = ctx.cache;
      attempt.contexts.push(ctx);
      if (ctx.tryAgain) {
        attempt.tryAgain = true;
        break;
      }
    }
    idl.verifyReads = false;
    if (attempt.tryAgain) {
      idl.abort();
      await idl.nextChange();
      if (idl.conn.isClosed) throw new CtlError(`${s.db}: database connection failed (End of file)`);
      continue;
    }
    for (const [name, sym] of symtab.symbols) {
      if (!sym.created) {
        throw new CtlError(`row id "${name}" is referenced but never created (e.g. with "-- --id=${name} create ...")`);
      }
      if (!sym.strongRef) {
        if (!sym.weakRef) {
          warn("vsctl", `row id "${name}" was created but no reference to it was inserted, so it will not actually appear in the database`);
        } else {
          warn("vsctl", `row id "${name}" was created but only a weak reference to it was inserted, so it will not actually appear in the database`);
        }
      }
    }
    const expectIfaces = [...newIfaces];
    const result = await idl.commit({
      ...(s.waitForReload ? { increment: ovs } : {}),
      dryRun: s.dryRun,
      comment,
    });
    if (result.status === "success" || result.status === "unchanged") {
      commands.forEach((c, i) => {
        if (c.syntax.name === "create") postCreate(attempt.contexts[i]!, result.inserted);
      });
    }
    if (result.status === "try-again") {
      // Someone changed what we read: re-run every command on the new contents.
      idl.abort();
      if (idl.changeSeqno === seqnoAtStart) await idl.nextChange();
      continue;
    }
    if (result.status === "error") {
      const text = jsonToString(result.error as Json, { sort: true });
      warn("ovsdb_idl", `transaction error: ${text}`);
      throw new CtlError(`transaction error: ${text}`);
    }
    let out = "";
    for (const ctx of attempt.contexts) {
      if (ctx.table) out += printer.format(ctx.table, s.style);
      else if (s.oneline) {
        let o = ctx.output;
        if (o.endsWith("\n")) o = o.slice(0, -1);
        out += o.replace(/[\n\\]/g, (m) => (m === "\n" ? "\\n" : "\\\\")) + "\n";
      } else out += ctx.output;
    }
    io.out(out);
    if (s.waitForReload && result.status !== "unchanged" && result.nextCfg !== undefined) {
      await waitForCurCfg(idl, result.nextCfg);
      reloadChecks(idl, expectIfaces, result.inserted);
    }
    return 0;
  }
}

async function waitForCurCfg(idl: Idl, nextCfg: number): Promise<void> {
  idl.abort();
  for (;;) {
    for (const row of idl.rows("Open_vSwitch")) {
      const cur = idl.read(row, "cur_cfg").keys[0];
      if (typeof cur === "number" && cur >= nextCfg) return;
    }
    if (idl.conn.isClosed) return new Promise(() => {});
    await idl.nextChange();
  }
}

function reloadChecks(idl: Idl, ifaces: IdlRow[], inserted: Map<string, string>): void {
  const dead: string[] = [];
  for (const i of ifaces) {
    const real = inserted.get(i.uuid);
    if (!real) continue;
    const row = idl.get("Interface", real);
    if (!row) continue;
    const ofport = idl.read(row, "ofport").keys[0];
    if (ofport === undefined || ofport === -1) {
      const error = idl.read(row, "error");
      dead.push(`'${idl.readString(row, "name")}'` + (error.keys.length ? `: ${String(error.keys[0])}` : ""));
    }
  }
  if (dead.length) {
    io.err(`${PROG}: Error detected while setting up ${dead.join(", ")}.  See ovs-vswitchd log for details.\n`);
    io.err(`${PROG}: The default log directory is "${logdir()}".\n`);
  }
}

function parseOptions(args: string[]): { settings: Settings; rest: string[]; local: Map<string, string | null> } {
  const longs = [...GLOBAL_OPTIONS, ...localOptions()];
  const { options, optind } = getoptLong(args, longs, PROG);
  const settings: Settings = {
    db: `unix:${path.join(rundir(), "db.sock")}`,
    oneline: false,
    dryRun: false,
    waitForReload: true,
    timeout: 0,
    retry: false,
    style: { format: "list", cellFormat: "string", headings: true, pretty: false },
  };
  let dbGiven: string | null = null;
  const local = new Map<string, string | null>();
  for (const o of options) {
    switch (o.id) {
      case "db":
        dbGiven = o.arg!;
        break;
      case "oneline":
        settings.oneline = true;
        break;
      case "no-wait":
        settings.waitForReload = false;
        break;
      case "dry-run":
        settings.dryRun = true;
        break;
      case "timeout": {
        const m = /^\s*[+-]?\d+/.exec(o.arg!);
        settings.timeout = m ? Math.max(0, Number(m[0])) : 0;
        break;
      }
      case "retry":
        settings.retry = true;
        break;
      case "help":
        io.out(helpText(settings.db, path.join(logdir(), "ovs-vsctl.log")));
        throw new Done(0);
      case "commands":
        io.out(COMMANDS_TEXT);
        throw new Done(0);
      case "options":
        io.out(OPTIONS_TEXT);
        throw new Done(0);
      case "version":
        io.out(`${PROG} (Open vSwitch) ${VERSION}\nDB Schema 8.3.1\n`);
        throw new Done(0);
      case "format":
      case "data":
      case "no-headings":
      case "pretty":
      case "bare":
      case "max-column-width": {
        const error = applyTableOption(settings.style, o.id, o.arg);
        if (error !== null) throw new CtlError(error);
        break;
      }
      case "local":
        // OVS looks the option up without its "--", so repeating one is not an error.
        if (!local.has(`--${o.name}`)) local.set(`--${o.name}`, o.arg);
        break;
      default:
        /* logging, SSL, clustering options: accepted, no effect here. */
        break;
    }
  }
  if (dbGiven !== null) settings.db = dbGiven;
  return { settings, rest: args.slice(optind), local };
}

/** Runs ovs-vsctl with `args` (no program name); resolves with the exit status. */
export async function vsctlMain(args: string[], output: VsctlIo = PROCESS_IO): Promise<number> {
  io = output;
  logSeq = 0;
  let conn: JsonRpcConnection | null = null;
  let alarm: NodeJS.Timeout | null = null;
  try {
    const { settings, rest, local } = parseOptions(args);
    const commands = parseCommands(rest, local);
    const mightWrite = args.some((a) => ALL_COMMANDS.get(a)?.mode === "RW");
    if (mightWrite) logSeq++; // "Called as ..." is logged (to syslog) for commands that may write.
    if (settings.timeout > 0) {
      alarm = setTimeout(() => {
        warn("fatal_signal", "terminating with signal 14 (Alarm clock)");
        process.kill(process.pid, "SIGALRM");
      }, settings.timeout * 1000);
    }
    const pre = localSchema();
    if (pre) runPrerequisites(commands, pre);
    conn = await connect(settings);
    const schemaJson = await conn.request("get_schema", ["Open_vSwitch"]);
    const schema = schemaFromJson(schemaJson);
    if (!pre) runPrerequisites(commands, schema);
    const idl = new Idl(schema, conn);
    await idl.monitorAll(computeMonitorSet(commands, schema, settings.waitForReload));
    const comment = `${PROG}: ${escapeArgs([PROG, ...args])}`;
    return await doVsctl(settings, commands, idl, schema, comment);
  } catch (e) {
    if (e instanceof Done) return e.status;
    if (e instanceof ExitRequest) return e.status;
    if (e instanceof GetoptError) {
      io.err(e.message + "\n");
      return 1;
    }
    if (e instanceof CtlError) {
      io.err(`${PROG}: ${e.message}\n`);
      return 1;
    }
    throw e;
  } finally {
    if (alarm) clearTimeout(alarm);
    conn?.close();
  }
}
