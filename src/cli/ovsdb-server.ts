/**
 * `tsovs ovsdb-server [DATABASE...] [--remote=REMOTE]... [--pidfile[=FILE]]
 * [--log-file[=FILE]] [--unixctl=SOCKET] [-v SPEC] [--detach]`: the OVSDB
 * database server, with the options of ovsdb-server(1).
 *
 * With no DATABASE it serves `$OVS_DBDIR/conf.db`. A database file that
 * does not exist yet is created from the bundled Open_vSwitch schema (the
 * "embedded default database"), so `tsovs ovsdb-server` alone gives a
 * working switch database. The control socket answers `ovs-appctl` with
 * OVS's ovsdb-server commands (list-dbs, compact, add/remove/list-remotes,
 * exit, version, vlog/...).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { OvsdbServer, DEFAULT_PROBE_MS } from "../ovsdb/server/index.js";
import { openDbFile, createDbFile, type DbFile } from "../ovsdb/storage/index.js";
import {
  UnixctlRegistry,
  UnixctlServer,
  UnixctlError,
  registerBuiltins,
  versionText,
  createPidfile,
  type Pidfile,
} from "../unixctl/index.js";
import { dbdir, ensureDir, packageRoot, pkgdatadir, rundir } from "../util/dirs.js";
import { configureLogging, vlogModule } from "../util/vlog.js";
import { daemonOption, resolveIn, runDaemon } from "./daemon.js";

const PROGRAM = "ovsdb-server";
const log = vlogModule("ovsdb_server");

export interface OvsdbServerConfig {
  databases: string[];
  remotes: string[];
  /** Pid file path, or null for none. */
  pidfile: string | null;
  overwritePidfile: boolean;
  /** Log file path, or null for none. */
  logFile: string | null;
  /** Control socket path, "none", or null for the default. */
  unixctl: string | null;
  verbose: string[];
  probeIntervalMs: number;
  detach: boolean;
}

/** The bundled schema used to create a missing database file. */
export function defaultSchemaPath(): string {
  const bundled = path.join(packageRoot(), "schemas", "vswitch.ovsschema");
  return fs.existsSync(bundled) ? bundled : path.join(pkgdatadir(), "vswitch.ovsschema");
}

const USAGE = `ovsdb-server: Open vSwitch database server
usage: ovsdb-server [OPTIONS] [DATABASE...]
where each DATABASE is a database file in ovsdb format.
The default DATABASE, if none is given, is
$OVS_DBDIR/conf.db (created from the bundled schema if missing).

JSON-RPC options (may be specified any number of times):
  --remote=REMOTE         connect or listen to REMOTE
                          (punix:PATH, ptcp:PORT[:IP], db:DB,TABLE,COLUMN;
                          default: punix:$OVS_RUNDIR/db.sock)

Daemon options:
  --detach                run in background as daemon
  --no-chdir              do not chdir to '/' (accepted, ignored)
  --pidfile[=FILE]        create pidfile (default: $OVS_RUNDIR/ovsdb-server.pid)
  --overwrite-pidfile     with --pidfile, start even if already running

Logging options:
  -vSPEC, --verbose=SPEC   set logging levels
  -v, --verbose            set maximum verbosity level
  --log-file[=FILE]        enable logging to specified FILE
                           (default: $OVS_LOGDIR/ovsdb-server.log)

Other options:
  --unixctl=SOCKET        override default control socket name
  --inactivity-probe=MS   probe idle TCP clients after MS ms (default 5000)
  -h, --help              display this help message
  -V, --version           display version information
`;

/** Parses the command line; returns a config, or an exit status after printing. */
export function parseArgs(args: string[]): OvsdbServerConfig | number {
  const cfg: OvsdbServerConfig = {
    databases: [],
    remotes: [],
    pidfile: null,
    overwritePidfile: false,
    logFile: null,
    unixctl: null,
    verbose: [],
    probeIntervalMs: DEFAULT_PROBE_MS,
    detach: false,
  };
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (!a.startsWith("-") || a === "-") {
      cfg.databases.push(path.resolve(a));
      continue;
    }
    const eq = a.indexOf("=");
    const name = a.startsWith("--") && eq > 0 ? a.slice(0, eq) : a;
    const inline = a.startsWith("--") && eq > 0 ? a.slice(eq + 1) : undefined;
    const value = (): string | null => {
      if (inline !== undefined) return inline;
      if (i + 1 < args.length) return args[++i]!;
      process.stderr.write(`ovsdb-server: option '${name}' requires an argument\n`);
      return null;
    };
    const common = daemonOption(cfg, PROGRAM, () => USAGE, a, name, inline, value);
    if (typeof common === "number") return common;
    if (common) continue;
    switch (name) {
      case "--remote": {
        const v = value();
        if (v === null) return 1;
        cfg.remotes.push(v);
        break;
      }
      case "--inactivity-probe": {
        const v = value();
        if (v === null) return 1;
        const n = Number(v);
        if (!Number.isInteger(n) || n < 0) {
          process.stderr.write(`ovsdb-server: --inactivity-probe: "${v}" is not a valid number of milliseconds\n`);
          return 1;
        }
        cfg.probeIntervalMs = n;
        break;
      }
      case "--no-dbs": // accepted for compatibility
        break;
      default:
        process.stderr.write(`ovsdb-server: unrecognized option '${a}'\n`);
        return 1;
    }
  }
  if (cfg.databases.length === 0) cfg.databases.push(path.join(dbdir(), "conf.db"));
  // Unlike OVS (whose init scripts pass --remote), listen on the usual socket when given none.
  if (cfg.remotes.length === 0) cfg.remotes.push(`punix:${path.join(rundir(), "db.sock")}`);
  return cfg;
}

/** A running server process: the OVSDB server, its control socket and files. */
export interface RunningOvsdbServer {
  server: OvsdbServer;
  registry: UnixctlRegistry;
  unixctl: UnixctlServer | null;
  files: Map<string, DbFile>;
  /** Stops everything and removes the pid file and control socket. */
  shutdown(): Promise<void>;
  /** Resolves when the server has shut down (exit command, signal). */
  done: Promise<void>;
}

/** Opens (creating if needed) a database file. */
async function openDatabase(file: string): Promise<DbFile> {
  if (!fs.existsSync(file)) {
    // Debian's openvswitch packages leave /etc/openvswitch/conf.db as a
    // dangling symlink into /var/lib/openvswitch: create the database where
    // the link points, so the link (and OVS's own tools) find it.
    const target = danglingLinkTarget(file) ?? file;
    const schemaPath = defaultSchemaPath();
    const schemaJson: unknown = JSON.parse(fs.readFileSync(schemaPath, "utf8"));
    ensureDir(path.dirname(target));
    await createDbFile(target, schemaJson);
    log.info(`${target}: created database from ${schemaPath}`);
  }
  return openDbFile(file);
}

/** Where `file` points when it is a symbolic link to nothing, else null. */
function danglingLinkTarget(file: string): string | null {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return null;
    return path.resolve(path.dirname(file), fs.readlinkSync(file));
  } catch {
    return null;
  }
}

/**
 * Starts the server in this process as configured. Throws (with a message
 * for the user) when a database cannot be opened or a socket not bound.
 */
export async function startOvsdbServer(cfg: OvsdbServerConfig): Promise<RunningOvsdbServer> {
  configureLogging(cfg.verbose, cfg.logFile);
  log.info(versionText(PROGRAM).trim());
  // The pid file comes first, so that a second server on the same files stops before touching them.
  const pidfile: Pidfile | null = cfg.pidfile !== null ? await createPidfile(cfg.pidfile, cfg.overwritePidfile) : null;
  const server = new OvsdbServer({ probeIntervalMs: cfg.probeIntervalMs });
  const files = new Map<string, DbFile>();
  try {
    for (const dbPath of cfg.databases) {
      const file = await openDatabase(dbPath);
      if (server.database(file.schema.name)) {
        await file.close();
        throw new Error(`${dbPath}: duplicate database name`);
      }
      server.addDatabase(file.db, file);
      files.set(file.schema.name, file);
    }
  } catch (e) {
    await server.close();
    pidfile?.remove();
    throw e;
  }
  ensureDir(rundir());

  for (const r of cfg.remotes) {
    const err = server.addRemote(r);
    if (err !== null) log.err(err);
  }
  await server.remotesReady();

  const registry = new UnixctlRegistry();
  registerBuiltins(registry, PROGRAM);
  let unixctl: UnixctlServer | null = null;
  if (cfg.unixctl !== "none") {
    const sockPath = cfg.unixctl === null ? path.join(rundir(), `${PROGRAM}.${process.pid}.ctl`) : resolveIn(rundir(), cfg.unixctl);
    // The alias (named after the pid in the pid file) first: it works as soon as the socket exists.
    pidfile?.aliasControlSocket(sockPath, PROGRAM);
    unixctl = await UnixctlServer.listen(sockPath, registry);
  }

  let resolveDone!: () => void;
  const done = new Promise<void>((r) => (resolveDone = r));
  let shuttingDown: Promise<void> | null = null;
  const shutdown = (): Promise<void> => {
    shuttingDown ??= (async () => {
      unixctl?.close();
      await server.close();
      pidfile?.remove();
      resolveDone();
    })();
    return shuttingDown;
  };

  pidfile?.onLost(() => {
    log.info(`${cfg.pidfile}: pid file holder exited (killed?), exiting`);
    void shutdown();
  });
  registry.register("exit", "", 0, 0, () => {
    setImmediate(() => void shutdown());
    return "";
  });
  registry.register("ovsdb-server/list-dbs", "", 0, 0, () => server.dbNames().map((n) => n + "\n").join(""));
  registry.register("ovsdb-server/list-remotes", "", 0, 0, () => server.listRemotes().map((r) => r + "\n").join(""));
  registry.register("ovsdb-server/add-remote", "REMOTE", 1, 1, (args) => {
    const err = server.addRemote(args[0]!);
    if (err !== null) throw new UnixctlError(err);
    return "";
  });
  registry.register("ovsdb-server/remove-remote", "REMOTE", 1, 1, (args) => {
    if (!server.removeRemote(args[0]!)) throw new UnixctlError("no such remote");
    return "";
  });
  registry.register("ovsdb-server/compact", "", 0, 1, async (args) => {
    const names = args.length > 0 ? args : [...files.keys()];
    for (const n of names) {
      const f = files.get(n);
      if (!f) throw new UnixctlError("no database by that name");
      log.info(`compacting ${n} database by user request`);
      try {
        await f.compact();
      } catch (e) {
        throw new UnixctlError(`${n}: compaction failed (${(e as Error).message})`);
      }
    }
    return "";
  });
  registry.register("ovsdb-server/add-db", "DB", 1, 1, async (args) => {
    const p = path.resolve(args[0]!);
    let file: DbFile;
    try {
      file = await openDbFile(p);
    } catch (e) {
      throw new UnixctlError((e as Error).message);
    }
    if (server.database(file.schema.name)) {
      await file.close();
      throw new UnixctlError(`${file.schema.name}: db already open`);
    }
    server.addDatabase(file.db, file);
    files.set(file.schema.name, file);
    return "";
  });
  registry.register("ovsdb-server/remove-db", "DB", 1, 1, async (args) => {
    const n = args[0]!;
    if (!files.has(n)) throw new UnixctlError("Failed to find the database.");
    await server.removeDatabase(n);
    files.delete(n);
    return "";
  });
  registry.register("ovsdb-server/reconnect", "", 0, 0, () => {
    for (const r of server.listRemotes()) {
      server.removeRemote(r);
      server.addRemote(r);
    }
    return "";
  });
  registry.register("memory/show", "", 0, 0, () => {
    const usage = [...server.memoryUsage()].sort(([a], [b]) => (a < b ? -1 : 1));
    return usage.map(([k, v]) => `${k}:${v}`).join(" ") + "\n";
  });

  return { server, registry, unixctl, files, shutdown, done };
}


export async function run(args: string[]): Promise<number | undefined> {
  const cfg = parseArgs(args);
  if (typeof cfg === "number") return cfg;
  return runDaemon({ subcommand: PROGRAM, program: "ovsdb-server", args, detach: cfg.detach, log, start: () => startOvsdbServer(cfg) });
}
