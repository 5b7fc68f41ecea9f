/**
 * The OVSDB server: databases, remotes (listening sockets), sessions,
 * locks, triggers, and the `_Server` database that describes the rest.
 *
 * Remotes are configured as OVS's `--remote` strings: `punix:PATH`,
 * `ptcp:PORT[:IP]`, and `db:DB,TABLE,COLUMN`, which names a column whose
 * values are remotes — either strings, or references to rows with a
 * "target" column such as `Manager` (whose `inactivity_probe` is then
 * honoured). `db:` remotes are re-read after every commit to that
 * database, so adding a Manager row opens its listener at once.
 */
import * as fs from "node:fs";
import * as net from "node:net";
import { randomUUID } from "node:crypto";
import { JsonRpcConnection, connectActive as connectActiveSocket, parseActive, parsePassive } from "../../jsonrpc/index.js";
import { parseConditions, rowMatches, type Condition, type Database, type Row, type TableSchema } from "../index.js";
import { vlogModule } from "../../util/vlog.js";
import { LockTable } from "./locks.js";
import { UpdateRenderer, type ConditionEvaluator, type RowLike } from "./monitor.js";
import { ServedDb, type CommitEvent, type DbStorage } from "./served-db.js";
import { ServerDatabase, schemaToJson } from "./server-db.js";
import { OvsdbSession, type Trigger } from "./session.js";
import { warmUp, warmUpIo } from "./warm-up.js";

const log = vlogModule("ovsdb_server");

/** Default inactivity probe for TCP sessions (OVS: 5 s). Unix sockets get none. */
export const DEFAULT_PROBE_MS = 5000;

export interface OvsdbServerOptions {
  /** Inactivity probe for TCP remotes, in ms (0 disables). */
  probeIntervalMs?: number;
  /**
   * The warm-up's scratch server (warm-up.ts): it warms nothing itself and
   * logs nothing (its listener comes and goes unseen).
   */
  scratch?: boolean;
}

interface Listener {
  /** The remote as configured, e.g. "ptcp:6640:127.0.0.1". */
  name: string;
  server: net.Server;
  probeMs: number;
  sessions: Set<OvsdbSession>;
  /** The unix socket file to remove on close. */
  path: string | null;
  /** Resolved once listening (or failed). */
  ready: Promise<void>;
}

interface ActiveRemote {
  name: string;
  probeMs: number;
  /** The live session, or null while (re)connecting. */
  session: OvsdbSession | null;
  timer: NodeJS.Timeout | null;
  backoffMs: number;
  stopped: boolean;
}

const CONDITIONS: ConditionEvaluator = {
  parse: (table: TableSchema, json: unknown) => parseConditions(table, json),
  matches: (row: RowLike, cond: unknown) => rowMatches(row as Row, cond as Condition[]),
};

export class OvsdbServer {
  readonly locks = new LockTable();
  readonly conditions = CONDITIONS;
  /** A per-process id, reported by `get_server_id`. */
  readonly serverId = randomUUID();
  private readonly dbs = new Map<string, ServedDb>();
  private readonly serverDb = new ServerDatabase();
  private readonly sessions = new Set<OvsdbSession>();
  private readonly triggers = new Set<Trigger>();
  /** Remotes as configured (`--remote`, add-remote), in insertion order. */
  private readonly configured: string[] = [];
  /** Databases named by a configured `db:` remote (their commits may change the remotes). */
  private readonly dbRemotes = new Set<string>();
  private readonly listeners = new Map<string, Listener>();
  private readonly actives = new Map<string, ActiveRemote>();
  private sessionSeq = 0;
  private closed = false;
  private readonly probeMs: number;
  private readonly scratch: boolean;
  /** The I/O warm-up this server started (listeners open once it is done), or null. */
  private warming: Promise<void> | null = null;
  private retryScheduled = new Set<string>();
  /** `db:` remote targets → the row they came from (for status write-back). */
  private readonly remoteRows = new Map<string, { db: string; table: string; uuid: string }>();
  private statusTimer: NodeJS.Timeout;

  constructor(opts: OvsdbServerOptions = {}) {
    this.probeMs = opts.probeIntervalMs ?? DEFAULT_PROBE_MS;
    this.scratch = opts.scratch === true;
    const sd = new ServedDb("_Server", this.serverDb.db, null, true, (s, ev) => this.committed(s, ev));
    this.dbs.set("_Server", sd);
    this.serverDb.setDatabase("_Server", schemaToJson(this.serverDb.schema));
    // OVS refreshes remote status every 2.5 s.
    this.statusTimer = setInterval(() => this.updateRemoteStatus(), 2500);
    this.statusTimer.unref();
  }

  // ---- databases ---------------------------------------------------------

  /** Serves `db` under its schema name; commits go to `storage` when given. */
  addDatabase(db: Database, storage: DbStorage | null = null): ServedDb {
    const name = db.schema.name;
    if (this.dbs.has(name)) throw new Error(`${name}: database already open`);
    const served = new ServedDb(name, db, storage, false, (s, ev) => this.committed(s, ev));
    this.dbs.set(name, served);
    this.serverDb.setDatabase(name, schemaToJson(db.schema));
    this.refreshRemotes();
    // Once per process (see warm-up.ts): at start-up, before the remotes listen.
    if (!this.scratch && warmUp(db.schema, () => new OvsdbServer({ probeIntervalMs: 0, scratch: true })) && storage !== null) {
      this.warming = warmUpIo(db.schema, () => new OvsdbServer({ probeIntervalMs: 0, scratch: true }));
    }
    return served;
  }

  async removeDatabase(name: string): Promise<boolean> {
    const served = this.dbs.get(name);
    if (!served || served.reserved) return false;
    this.dbs.delete(name);
    for (const s of this.sessions) {
      for (const [key, mon] of s.monitors) {
        if (mon.dbName !== name) continue;
        s.monitors.delete(key);
        if (s.dbChangeAware) s.notify("monitor_canceled", [mon.id]);
      }
    }
    this.serverDb.removeDatabase(name);
    await served.close();
    this.refreshRemotes();
    return true;
  }

  database(name: string): ServedDb | undefined {
    return this.dbs.get(name);
  }

  /** Database names as `list_dbs` returns them (sorted). */
  dbNames(): string[] {
    return [...this.dbs.keys()].sort();
  }

  /** Every commit of every database arrives here: update monitors, retry triggers, re-read db: remotes. */
  private committed(served: ServedDb, ev: CommitEvent): void {
    let renderer: UpdateRenderer | null = null;
    for (const s of this.sessions) {
      if (s.monitors.size > 0) s.sendUpdates(served, ev, (renderer ??= new UpdateRenderer(ev.changes, this.conditions)));
    }
    if (this.triggers.size > 0 && !this.retryScheduled.has(served.name)) {
      this.retryScheduled.add(served.name);
      setImmediate(() => {
        this.retryScheduled.delete(served.name);
        for (const t of [...this.triggers]) {
          if (t.served === served && this.triggers.has(t)) t.session.runTrigger(t);
        }
      });
    }
    if (this.dbRemotes.has(served.name)) this.refreshRemotes();
  }

  addTrigger(t: Trigger): void {
    this.triggers.add(t);
  }

  removeTrigger(t: Trigger): void {
    this.triggers.delete(t);
    t.session.triggers.delete(t);
    if (t.timer) clearTimeout(t.timer);
    t.timer = null;
  }

  cancelTriggersOf(s: OvsdbSession): void {
    for (const t of [...this.triggers]) if (t.session === s) this.removeTrigger(t);
  }

  sessionClosed(s: OvsdbSession): void {
    this.sessions.delete(s);
    for (const l of this.listeners.values()) l.sessions.delete(s);
  }

  // ---- remotes -----------------------------------------------------------

  /** Adds a remote (`--remote` / `ovsdb-server/add-remote`). Returns an error text or null. */
  addRemote(remote: string): string | null {
    if (!remote.startsWith("db:") && parsePassive(remote) === null && !/^(tcp|ssl|unix):/.test(remote)) {
      return `${remote}: unknown or malformed remote`;
    }
    if (!this.configured.includes(remote)) this.configured.push(remote);
    this.noteDbRemotes();
    this.refreshRemotes();
    return null;
  }

  removeRemote(remote: string): boolean {
    const i = this.configured.indexOf(remote);
    if (i < 0) return false;
    this.configured.splice(i, 1);
    this.noteDbRemotes();
    this.refreshRemotes();
    return true;
  }

  private noteDbRemotes(): void {
    this.dbRemotes.clear();
    for (const r of this.configured) if (r.startsWith("db:")) this.dbRemotes.add(r.slice(3).split(",")[0]!);
  }

  /** The configured remotes, sorted, as `ovsdb-server/list-remotes` prints them. */
  listRemotes(): string[] {
    return [...this.configured].sort();
  }

  /** Resolves once every current listener is listening (or failed). */
  async remotesReady(): Promise<void> {
    await Promise.all([...this.listeners.values()].map((l) => l.ready));
  }

  /** Expands `db:` remotes into targets with their probe intervals. */
  private resolveRemotes(): Map<string, number | null> {
    const out = new Map<string, number | null>();
    this.remoteRows.clear();
    for (const r of this.configured) {
      if (!r.startsWith("db:")) {
        out.set(r, null);
        continue;
      }
      const [dbName, tableName, columnName] = r.slice(3).split(",");
      const served = dbName === undefined ? undefined : this.dbs.get(dbName);
      const table = tableName === undefined ? undefined : served?.db.tables.get(tableName);
      const column = columnName === undefined ? undefined : table?.schema.columns.get(columnName);
      if (!served || !table || !column) continue;
      const refTable = column.type.key.refTable;
      for (const row of table.rows.values()) {
        const d = row.get(column.name);
        for (const k of d.keys) {
          if (column.type.key.type === "string") {
            out.set(k as string, null);
          } else if (refTable !== undefined) {
            const target = served.db.tables.get(refTable)?.rows.get(k as string);
            const ts = target?.table.columns.get("target");
            if (!target || !ts || ts.type.key.type !== "string") continue;
            const probeCol = target.table.columns.get("inactivity_probe");
            const probe = probeCol ? target.get("inactivity_probe").keys[0] : undefined;
            for (const t of target.get("target").keys) {
              out.set(t as string, typeof probe === "number" ? probe : null);
              this.remoteRows.set(t as string, { db: served.name, table: refTable, uuid: target.uuid });
            }
          }
        }
      }
    }
    return out;
  }

  private refreshRemotes(): void {
    if (this.closed) return;
    const wanted = this.resolveRemotes();
    for (const [name, l] of this.listeners) {
      if (!wanted.has(name)) this.closeListener(name, l);
    }
    for (const [name, a] of this.actives) {
      if (!wanted.has(name)) this.stopActive(name, a);
    }
    for (const [name, probe] of wanted) {
      const l = this.listeners.get(name);
      if (l) {
        if (probe !== null) l.probeMs = probe;
        continue;
      }
      const a = this.actives.get(name);
      if (a) {
        if (probe !== null) a.probeMs = probe;
        continue;
      }
      if (parseActive(name) !== null && !name.startsWith("ssl:")) this.startActive(name, probe);
      else this.openListener(name, probe);
    }
  }

  /**
   * An active remote (`tcp:IP:PORT`, `unix:PATH`, e.g. a Manager target
   * pointing at a controller): we connect out and serve the peer as any
   * client, reconnecting with OVS's backoff (1 s doubling to 8 s) whenever
   * the connection fails or drops.
   */
  private startActive(name: string, probe: number | null): void {
    const addr = parseActive(name)!;
    const a: ActiveRemote = {
      name,
      probeMs: probe ?? (addr.kind === "unix" ? 0 : this.probeMs),
      session: null,
      timer: null,
      backoffMs: 0,
      stopped: false,
    };
    this.actives.set(name, a);
    this.connectActive(a);
  }

  private connectActive(a: ActiveRemote): void {
    if (a.stopped || this.closed) return;
    const addr = parseActive(a.name)!;
    let sock: net.Socket;
    try {
      sock = connectActiveSocket(addr);
    } catch (e) {
      log.err(`${a.name}: ${(e as Error).message}`);
      return;
    }
    const retry = (): void => {
      if (a.stopped || this.closed || a.timer !== null) return;
      a.session = null;
      a.backoffMs = a.backoffMs === 0 ? 1000 : Math.min(8000, a.backoffMs * 2);
      a.timer = setTimeout(() => {
        a.timer = null;
        this.connectActive(a);
      }, a.backoffMs);
      a.timer.unref();
    };
    sock.on("error", (e) => {
      if (a.session === null) {
        log.info(`${a.name}: connection attempt failed (${e.message})`);
        retry();
      }
    });
    sock.once("connect", () => {
      if (a.stopped || this.closed) {
        sock.destroy();
        return;
      }
      log.info(`${a.name}: connected`);
      a.backoffMs = 0;
      sock.setNoDelay?.(true);
      const conn = new JsonRpcConnection(sock, a.name);
      const session = new OvsdbSession(this, conn, a.name, a.probeMs);
      a.session = session;
      this.sessions.add(session);
      conn.on("close", () => {
        if (a.session === session) {
          log.info(`${a.name}: connection closed, reconnecting`);
          retry();
        }
      });
    });
  }

  private stopActive(name: string, a: ActiveRemote): void {
    a.stopped = true;
    this.actives.delete(name);
    if (a.timer) clearTimeout(a.timer);
    a.session?.conn.close();
  }

  private openListener(name: string, probe: number | null): void {
    const addr = parsePassive(name);
    if (addr === null) {
      if (!this.warnedActive.has(name)) {
        this.warnedActive.add(name);
        log.warn(`${name}: unknown or unsupported remote (SSL is not supported), ignoring`);
      }
      return;
    }
    if (addr.kind === "pssl") {
      if (!this.warnedActive.has(name)) {
        this.warnedActive.add(name);
        log.err(`${name}: SSL is not supported`);
      }
      return;
    }
    const server = net.createServer({ noDelay: true } as net.ServerOpts);
    const l: Listener = {
      name,
      server,
      probeMs: probe ?? (addr.kind === "punix" ? 0 : this.probeMs),
      sessions: new Set(),
      path: addr.kind === "punix" ? addr.path : null,
      ready: Promise.resolve(),
    };
    this.listeners.set(name, l);
    l.ready = new Promise<void>((resolve) => {
      server.once("error", (e) => {
        log.err(`${name}: listen failed: ${e.message}`);
        this.listeners.delete(name);
        resolve();
      });
      const onListening = (): void => {
        server.removeAllListeners("error");
        server.on("error", (e) => log.err(`${name}: ${e.message}`));
        if (!this.scratch) log.info(`${name}: listening`);
        resolve();
      };
      const listen = (): void => {
        // Closed while the warm-up ran.
        if (this.closed || this.listeners.get(name) !== l) {
          resolve();
          return;
        }
        if (addr.kind === "punix") {
          try {
            fs.unlinkSync(addr.path);
          } catch {
            /* no stale socket */
          }
          server.listen(addr.path, onListening);
        } else {
          server.listen(addr.port, addr.host, onListening);
        }
      };
      // Clients come once the warm-up is over (not to wait behind it, nor
      // to find the server's code still cold).
      if (this.warming === null) listen();
      else void this.warming.then(listen);
    });
    server.on("connection", (sock) => this.accept(l, sock));
  }

  private warnedActive = new Set<string>();

  /**
   * Writes each `db:` remote's connection state back into its row, as OVS
   * does for Manager: `is_connected` (some client is connected) and
   * `status:bound_port` for a TCP listener. Only changes are written.
   */
  private updateRemoteStatus(): void {
    for (const [target, ref] of [...this.remoteRows]) {
      const served = this.dbs.get(ref.db);
      const row = served?.db.tables.get(ref.table)?.rows.get(ref.uuid);
      if (!served || !row) continue;
      const ts = row.table;
      const l = this.listeners.get(target);
      const active = this.actives.get(target);
      const set: Record<string, unknown> = {};
      const isConn = ts.columns.get("is_connected");
      if (isConn && isConn.type.key.type === "boolean" && isConn.type.isScalar()) {
        const want = (l !== undefined && l.sessions.size > 0) || (active !== undefined && active.session !== null);
        if (row.get("is_connected").keys[0] !== want) set["is_connected"] = want;
      }
      const status = ts.columns.get("status");
      const addr = l?.server.address();
      if (status && status.type.value?.type === "string" && addr && typeof addr === "object") {
        const port = String(addr.port);
        const cur = row.get("status");
        const i = cur.keys.indexOf("bound_port");
        if (i < 0 || cur.values![i] !== port) {
          const pairs: [string, string][] = [];
          for (let k = 0; k < cur.keys.length; k++) if (cur.keys[k] !== "bound_port") pairs.push([cur.keys[k] as string, cur.values![k] as string]);
          pairs.push(["bound_port", port]);
          set["status"] = ["map", pairs];
        }
      }
      if (Object.keys(set).length === 0) continue;
      const r = served.db.transact([{ op: "update", table: ref.table, where: [["_uuid", "==", ["uuid", ref.uuid]]], row: set }]);
      const err = r.results.find((x) => x !== null && typeof x === "object" && "error" in x);
      if (err) log.warn(`${target}: could not update status (${JSON.stringify(err)})`);
    }
  }

  private closeListener(name: string, l: Listener): void {
    this.listeners.delete(name);
    l.server.close();
    if (l.path) {
      try {
        fs.unlinkSync(l.path);
      } catch {
        /* gone */
      }
    }
    for (const s of l.sessions) s.conn.close();
  }

  private accept(l: Listener, sock: net.Socket): void {
    if (this.closed) {
      sock.destroy();
      return;
    }
    sock.setNoDelay(true);
    const kind = l.path ? "unix" : "tcp";
    const sessionName = `${kind}#${this.sessionSeq++}`;
    const conn = new JsonRpcConnection(sock, sessionName);
    l.sessions.add(this.attach(conn, sessionName, l.probeMs));
  }

  /** Serves a client on an already connected JSON-RPC connection. */
  attach(conn: JsonRpcConnection, name: string, probeMs = 0): OvsdbSession {
    const session = new OvsdbSession(this, conn, name, probeMs);
    this.sessions.add(session);
    return session;
  }

  /** Number of connected clients (for tests and memory/show). */
  get sessionCount(): number {
    return this.sessions.size;
  }

  /**
   * What `memory/show` reports, under OVS's names and as OVS counts them,
   * so that scripts reading them find the same keys: `cells` (rows times
   * columns, `_uuid` and `_version` included), `atoms` (the values in
   * those cells, a map's key and value each counting), `n-weak-refs`
   * (weak references from one row to another), `monitors` and, when there
   * are any, `sessions`.
   */
  memoryUsage(): Map<string, number> {
    let cells = 0;
    let atoms = 0;
    let weakRefs = 0;
    for (const served of this.dbs.values()) {
      for (const t of served.db.tables.values()) {
        const columns = t.schema.columnList;
        cells += t.rows.size * (columns.length + 2);
        for (const row of t.rows.values()) {
          atoms += 2;
          for (const c of columns) {
            const d = row.data[c.index]!;
            atoms += d.keys.length + (d.values !== null ? d.values.length : 0);
            if (c.type.key.isWeakRef()) weakRefs += d.keys.length;
            if (c.type.value?.isWeakRef() && d.values !== null) weakRefs += d.values.length;
          }
        }
      }
    }
    // Monitors of the same tables, columns and select flags are one, whatever
    // their conditions, protocol version or the order they were named in.
    const monitors = new Set<string>();
    for (const session of this.sessions) {
      for (const m of session.monitors.values()) {
        const tables = [...m.tables.values()].map((tm) => {
          const sel = tm.select;
          return `${tm.table.name}:${tm.columns.map((c) => c.name).sort().join(",")}:${+sel.initial}${+sel.insert}${+sel.delete}${+sel.modify}`;
        });
        monitors.add(`${m.dbName}|${tables.sort().join("|")}`);
      }
    }
    const usage = new Map<string, number>([
      ["atoms", atoms],
      ["cells", cells],
      ["monitors", monitors.size],
      ["n-weak-refs", weakRefs],
    ]);
    if (this.sessions.size > 0) usage.set("sessions", this.sessions.size);
    return usage;
  }

  /** Stops listening, drops every client and flushes storage. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.statusTimer);
    for (const [name, l] of this.listeners) this.closeListener(name, l);
    for (const [name, a] of this.actives) this.stopActive(name, a);
    for (const s of [...this.sessions]) s.conn.close();
    for (const t of [...this.triggers]) this.removeTrigger(t);
    for (const served of this.dbs.values()) await served.close();
  }
}
