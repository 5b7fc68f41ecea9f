/**
 * A long-lived OVSDB client replica, as OVS's ovsdb-idl: what ovs-vswitchd
 * uses to follow its configuration database and to write its state back.
 *
 * - Connects to `unix:` or `tcp:` remotes and keeps reconnecting with
 *   exponential backoff (1 s doubling to 8 s, as OVS's reconnect).
 * - Monitors the chosen tables and columns with `monitor_cond_since`, so a
 *   reconnecting replica asks for only what it missed since the last
 *   transaction id it saw; servers without it get `monitor_cond`, then
 *   plain `monitor`. When the server cannot say what was missed, the
 *   replica reloads and reports the difference as changes.
 * - Tracks changes (rows inserted, modified with the columns that changed,
 *   deleted with their last contents) until the owner takes them.
 * - Optionally holds a named lock (vswitchd's "ovs_vswitchd"); writes then
 *   assert it, so two daemons never both write.
 * - Transactions: insert (with references among new rows), set a column,
 *   mutate, delete, verify (fail with "try-again" if another client
 *   changed a column read), increment (and read back the new value),
 *   comment. As OVS's IDL, a commit does not change the replica by itself:
 *   the server's update does, before the reply arrives.
 */
import { EventEmitter } from "node:events";
import { JsonRpcError, openJsonRpc, type JsonRpcConnection } from "../jsonrpc/index.js";
import { vlogModule } from "../util/vlog.js";
import { type Datum, datumFromJSON, datumToJSON, datumEquals, defaultDatum, applyDatumDiff, newUuid, ZERO_UUID } from "./datum.js";
import { DatabaseSchema, type ColumnSchema, type TableSchema } from "./schema.js";

const log = vlogModule("ovsdb_idl");

export const BACKOFF_MIN_MS = 1000;
export const BACKOFF_MAX_MS = 8000;

export class IdlRow {
  constructor(
    readonly uuid: string,
    readonly table: TableSchema,
    /** Column values by column index (unmonitored columns hold their defaults). */
    readonly data: Datum[],
  ) {}

  get(column: string): Datum {
    const c = this.table.columns.get(column);
    if (c === undefined || c.index < 0) throw new Error(`${this.table.name} has no column ${column}`);
    return this.data[c.index]!;
  }

  /** The first key of a column (a scalar's value), or undefined when empty. */
  scalar(column: string): string | number | boolean | undefined {
    return this.get(column).keys[0];
  }

  /** A map column as a JS Map of its string keys to string values. */
  stringMap(column: string): Map<string, string> {
    const d = this.get(column);
    const m = new Map<string, string>();
    d.keys.forEach((k, i) => m.set(String(k), String(d.values![i])));
    return m;
  }
}

export interface TableChanges {
  inserted: Set<string>;
  /** Row uuid → names of the columns that changed. */
  modified: Map<string, Set<string>>;
  /** Row uuid → the row as it was last seen. */
  deleted: Map<string, IdlRow>;
}

export interface IdlOptions {
  /** `unix:PATH` or `tcp:IP:PORT`. */
  remote: string;
  database: string;
  /** Tables to monitor, each with its columns (or "all"); default every table and column. */
  tables?: Readonly<Record<string, readonly string[] | "all">>;
  /** A lock to hold while connected. */
  lock?: string;
  backoffMinMs?: number;
  backoffMaxMs?: number;
}

export type CommitStatus = "unchanged" | "success" | "try-again" | "not-locked" | "error";

export interface CommitResult {
  status: CommitStatus;
  /** The server's error (JSON text) for "error". */
  error?: string;
  /** Temporary uuid (from `insert`) → the row's real uuid. */
  inserted: Map<string, string>;
  /** New value of the incremented column, when `increment` was used. */
  increment?: number;
}

interface IdlEvents {
  /** The replica changed (updates arrived, or a reload). */
  change: [];
  connected: [];
  disconnected: [];
  /** The lock was granted (true) or lost/stolen (false). */
  lock: [held: boolean];
}

type RowUpdate = Record<string, unknown>;
type TableUpdates = Record<string, Record<string, RowUpdate | null>>;

export class Idl extends EventEmitter<IdlEvents> {
  schema: DatabaseSchema | null = null;
  /** Replica: table name → uuid → row. */
  readonly tables = new Map<string, Map<string, IdlRow>>();
  /** Bumped on every change to the replica. */
  seqno = 0;
  hasLock = false;
  private conn: JsonRpcConnection | null = null;
  private lastTxnId = ZERO_UUID;
  private changes = new Map<string, TableChanges>();
  private backoff: number;
  private timer: NodeJS.Timeout | null = null;
  private stopped = false;
  private monitorVersion: 1 | 2 | 3 = 3;
  /**
   * Update notifications that arrived while the monitor request was
   * outstanding. The server sends them after its reply, but a reply is
   * handled a microtask later than a notification parsed from the same
   * read, so they wait here and are applied after the reply's contents
   * (else the reply's reload would wipe them out).
   */
  private heldUpdates: [string, unknown[]][] | null = null;
  /** The connection whose monitor reply has been applied (isConnected). */
  private monitoredConn: JsonRpcConnection | null = null;
  private readonly monitorId = "tsovs-idl";
  private waiters: (() => void)[] = [];

  constructor(readonly opts: IdlOptions) {
    super();
    this.backoff = opts.backoffMinMs ?? BACKOFF_MIN_MS;
  }

  /** Connected, with the replica loaded from the server (the monitor reply applied). */
  get isConnected(): boolean {
    return this.conn !== null && this.schema !== null && this.monitoredConn === this.conn;
  }

  /** Starts connecting (and reconnecting after every loss) until `close`. */
  start(): void {
    this.stopped = false;
    void this.connect();
  }

  async close(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    this.conn?.close();
    this.conn = null;
  }

  /** Resolves at the next change to the replica. */
  nextChange(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Rows of a table (empty for an unknown or unmonitored one). */
  rows(table: string): IterableIterator<IdlRow> {
    return (this.tables.get(table) ?? new Map<string, IdlRow>()).values();
  }

  row(table: string, uuid: string): IdlRow | undefined {
    return this.tables.get(table)?.get(uuid);
  }

  /** The changes since the last call, per table; tracking starts afresh. */
  takeChanges(): Map<string, TableChanges> {
    const c = this.changes;
    this.changes = new Map();
    // A reload that found everything as it was leaves empty entries.
    for (const [t, x] of c) if (x.inserted.size + x.modified.size + x.deleted.size === 0) c.delete(t);
    return c;
  }

  transaction(): IdlTxn {
    return new IdlTxn(this);
  }

  // ---- connection ----------------------------------------------------------

  private async connect(): Promise<void> {
    if (this.stopped) return;
    let conn: JsonRpcConnection;
    try {
      conn = await openJsonRpc(this.opts.remote);
    } catch (e) {
      this.retry(`${this.opts.remote}: connection attempt failed (${(e as Error).message})`);
      return;
    }
    if (this.stopped) {
      conn.close();
      return;
    }
    this.conn = conn;
    conn.on("notify", (method, params) => this.onNotify(method, params as unknown[]));
    conn.on("close", () => {
      if (this.conn !== conn) return;
      this.conn = null;
      this.hasLock = false;
      this.emit("disconnected");
      this.retry(`${this.opts.remote}: connection dropped`);
    });
    try {
      const schemaJson = await conn.request("get_schema", [this.opts.database]);
      this.schema = DatabaseSchema.fromJSON(schemaJson);
      this.heldUpdates = [];
      try {
        await this.monitor(conn);
      } finally {
        const held = this.heldUpdates ?? [];
        this.heldUpdates = null;
        if (this.conn === conn) for (const [m, p] of held) this.onNotify(m, p);
      }
      this.monitoredConn = conn;
      if (this.opts.lock !== undefined) {
        const r = (await conn.request("lock", [this.opts.lock])) as { locked?: boolean };
        // Only a grant counts: a "locked" notification parsed with the reply may already have granted it.
        if (r.locked === true) this.setLock(true);
      }
    } catch (e) {
      if (this.conn === conn) {
        log.warn(`${this.opts.remote}: ${(e as Error).message}`);
        conn.close();
      }
      return;
    }
    this.backoff = this.opts.backoffMinMs ?? BACKOFF_MIN_MS;
    log.info(`${this.opts.remote}: connected`);
    this.emit("connected");
  }

  private retry(why: string): void {
    if (this.stopped) return;
    log.info(`${why}; reconnecting in ${this.backoff / 1000} s`);
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.connect();
    }, this.backoff);
    this.timer.unref?.();
    this.backoff = Math.min(this.backoff * 2, this.opts.backoffMaxMs ?? BACKOFF_MAX_MS);
  }

  private monitoredColumns(ts: TableSchema): ColumnSchema[] {
    const want = this.opts.tables?.[ts.name] ?? (this.opts.tables ? undefined : "all");
    if (want === undefined) return [];
    if (want === "all") return ts.columnList;
    return want.map((n) => {
      const c = ts.columns.get(n);
      if (c === undefined || c.index < 0) throw new Error(`table ${ts.name} has no column ${n}`);
      return c;
    });
  }

  private async monitor(conn: JsonRpcConnection): Promise<void> {
    const schema = this.schema!;
    const req: Record<string, { columns: string[] }> = {};
    for (const ts of schema.tables.values()) {
      const cols = this.monitoredColumns(ts);
      if (cols.length > 0) req[ts.name] = { columns: cols.map((c) => c.name) };
    }
    const asArrays = Object.fromEntries(Object.entries(req).map(([k, v]) => [k, [v]]));
    for (const version of [3, 2, 1] as const) {
      if (version > this.monitorVersion) continue;
      try {
        if (version === 3) {
          const r = (await conn.request("monitor_cond_since", [schema.name, this.monitorId, asArrays, this.lastTxnId])) as [boolean, string, TableUpdates];
          this.monitorVersion = 3;
          this.lastTxnId = r[1];
          if (r[0]) this.applyUpdates(r[2], 2);
          else this.reload(r[2], 2);
        } else if (version === 2) {
          const r = (await conn.request("monitor_cond", [schema.name, this.monitorId, asArrays])) as TableUpdates;
          this.monitorVersion = 2;
          this.reload(r, 2);
        } else {
          const r = (await conn.request("monitor", [schema.name, this.monitorId, req])) as TableUpdates;
          this.monitorVersion = 1;
          this.reload(r, 1);
        }
        return;
      } catch (e) {
        if (!(e instanceof JsonRpcError) || version === 1) throw e;
        // An older server: try the previous monitor flavour.
        this.monitorVersion = (version - 1) as 1 | 2;
      }
    }
  }

  private onNotify(method: string, params: unknown[]): void {
    if (this.heldUpdates !== null && (method === "update3" || method === "update2" || method === "update")) {
      this.heldUpdates.push([method, params]);
      return;
    }
    if (method === "update3" && params[0] === this.monitorId) {
      this.lastTxnId = params[1] as string;
      this.applyUpdates(params[2] as TableUpdates, 2);
    } else if (method === "update2" && params[0] === this.monitorId) {
      this.applyUpdates(params[1] as TableUpdates, 2);
    } else if (method === "update" && params[0] === this.monitorId) {
      this.applyUpdates(params[1] as TableUpdates, 1);
    } else if (method === "locked" && params[0] === this.opts.lock) {
      this.setLock(true);
    } else if (method === "stolen" && params[0] === this.opts.lock) {
      this.setLock(false);
    }
  }

  private setLock(held: boolean): void {
    if (held === this.hasLock) return;
    this.hasLock = held;
    log.info(`${this.opts.remote}: lock ${this.opts.lock} ${held ? "acquired" : "lost"}`);
    this.emit("lock", held);
  }

  // ---- the replica ---------------------------------------------------------

  private tableChanges(table: string): TableChanges {
    let c = this.changes.get(table);
    if (c === undefined) {
      c = { inserted: new Set(), modified: new Map(), deleted: new Map() };
      this.changes.set(table, c);
    }
    return c;
  }

  private noteInsert(table: string, uuid: string): void {
    const c = this.tableChanges(table);
    const gone = c.deleted.get(uuid);
    if (gone !== undefined) {
      // Deleted and back (a reload): a modify of whatever differs.
      c.deleted.delete(uuid);
      const now = this.tables.get(table)!.get(uuid)!;
      const cols = new Set<string>();
      for (const col of now.table.columnList) if (!datumEquals(gone.data[col.index]!, now.data[col.index]!)) cols.add(col.name);
      if (cols.size > 0) c.modified.set(uuid, cols);
      return;
    }
    c.inserted.add(uuid);
  }

  private noteModify(table: string, uuid: string, cols: Iterable<string>): void {
    const c = this.tableChanges(table);
    if (c.inserted.has(uuid)) return;
    let s = c.modified.get(uuid);
    if (s === undefined) {
      s = new Set();
      c.modified.set(uuid, s);
    }
    for (const n of cols) s.add(n);
  }

  private noteDelete(table: string, row: IdlRow): void {
    const c = this.tableChanges(table);
    if (c.inserted.delete(row.uuid)) return;
    c.modified.delete(row.uuid);
    c.deleted.set(row.uuid, row);
  }

  /** Replaces the whole replica with `initial`, recording the difference as changes. */
  private reload(initial: TableUpdates, version: 1 | 2): void {
    for (const [name, rows] of this.tables) for (const row of rows.values()) this.noteDelete(name, row);
    this.tables.clear();
    this.applyUpdates(initial, version, true);
  }

  private applyUpdates(updates: TableUpdates, version: 1 | 2, reloading = false): void {
    const schema = this.schema!;
    let any = reloading;
    for (const [tname, rows] of Object.entries(updates ?? {})) {
      const ts = schema.tables.get(tname);
      if (ts === undefined) continue;
      let replica = this.tables.get(tname);
      if (replica === undefined) {
        replica = new Map();
        this.tables.set(tname, replica);
      }
      for (const [uuid, u] of Object.entries(rows)) {
        any = true;
        const old = replica.get(uuid);
        let contents: Record<string, unknown> | null = null;
        let diff: Record<string, unknown> | null = null;
        if (version === 1) {
          const nu = u?.["new"] as Record<string, unknown> | undefined;
          if (nu !== undefined) contents = nu;
        } else if (u !== null) {
          contents = (u["initial"] ?? u["insert"] ?? null) as Record<string, unknown> | null;
          diff = (u["modify"] ?? null) as Record<string, unknown> | null;
        }
        if (contents === null && diff === null) {
          if (old !== undefined) {
            replica.delete(uuid);
            this.noteDelete(tname, old);
          }
          continue;
        }
        const data = old !== undefined ? old.data.slice() : ts.columnList.map((c) => defaultDatum(c.type));
        const changed: string[] = [];
        if (contents !== null) {
          for (const c of ts.columnList) {
            const v = c.name in contents ? datumFromJSON(c.type, contents[c.name]) : old !== undefined && version === 1 ? data[c.index]! : defaultDatum(c.type);
            if (!datumEquals(v, data[c.index]!)) changed.push(c.name);
            data[c.index] = v;
          }
        } else {
          for (const [name, j] of Object.entries(diff!)) {
            const c = ts.columns.get(name);
            if (c === undefined || c.index < 0) continue;
            data[c.index] = applyDatumDiff(c.type, data[c.index]!, datumFromJSON(c.type, j));
            changed.push(name);
          }
        }
        const row = new IdlRow(uuid, ts, data);
        replica.set(uuid, row);
        if (old === undefined) this.noteInsert(tname, uuid);
        else if (changed.length > 0) this.noteModify(tname, uuid, changed);
      }
    }
    if (!any) return;
    this.seqno++;
    const w = this.waiters;
    this.waiters = [];
    for (const f of w) f();
    this.emit("change");
  }

  /** Sends a transaction (for IdlTxn); rejects when not connected. */
  async transact(ops: unknown[]): Promise<unknown[]> {
    const conn = this.conn;
    if (conn === null || this.schema === null) throw new Error("not connected");
    return (await conn.request("transact", [this.schema.name, ...ops])) as unknown[];
  }
}

/** One transaction on an Idl: collect operations, then `commit`. */
export class IdlTxn {
  private readonly ops: unknown[] = [];
  /** Temporary uuid → uuid-name of rows inserted here. */
  private readonly names = new Map<string, string>();
  private incrementAt = -1;
  private comments: string[] = [];

  constructor(private readonly idl: Idl) {}

  private columnOf(table: string, column: string): { ts: TableSchema; c: ColumnSchema } {
    const ts = this.idl.schema?.tables.get(table);
    const c = ts?.columns.get(column);
    if (ts === undefined || c === undefined || c.index < 0) throw new Error(`no column ${table}.${column}`);
    return { ts, c };
  }

  /** JSON of a datum, references to rows inserted in this transaction as named-uuids. */
  private json(c: ColumnSchema, d: Datum): unknown {
    const j = datumToJSON(c.type, d);
    if (this.names.size === 0) return j;
    const fix = (x: unknown): unknown => {
      if (!Array.isArray(x)) return x;
      if (x.length === 2 && x[0] === "uuid" && typeof x[1] === "string" && this.names.has(x[1])) return ["named-uuid", this.names.get(x[1])];
      return x.map(fix);
    };
    return fix(j);
  }

  private static where(uuid: string): unknown[] {
    return [["_uuid", "==", ["uuid", uuid]]];
  }

  /** Inserts a row; returns a temporary uuid usable in other rows' columns and in `CommitResult.inserted`. */
  insert(table: string, values: Readonly<Record<string, Datum>>): string {
    const tmp = newUuid();
    const name = `row${tmp.replace(/-/g, "_")}`;
    this.names.set(tmp, name);
    const row: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(values)) row[k] = this.json(this.columnOf(table, k).c, v);
    this.ops.push({ op: "insert", table, row, "uuid-name": name });
    return tmp;
  }

  /** Sets a column of an existing row. */
  set(row: IdlRow, column: string, value: Datum): void {
    const { c } = this.columnOf(row.table.name, column);
    this.ops.push({ op: "update", table: row.table.name, where: IdlTxn.where(row.uuid), row: { [column]: this.json(c, value) } });
  }

  /** Applies `mutator` ("+=", "insert", "delete", ...) with `value` to a column. */
  mutate(row: IdlRow, column: string, mutator: string, value: Datum): void {
    const { c } = this.columnOf(row.table.name, column);
    this.ops.push({ op: "mutate", table: row.table.name, where: IdlTxn.where(row.uuid), mutations: [[column, mutator, this.json(c, value)]] });
  }

  delete(row: IdlRow): void {
    this.ops.push({ op: "delete", table: row.table.name, where: IdlTxn.where(row.uuid) });
  }

  /** Makes the commit fail with "try-again" if the column no longer holds what the replica has. */
  verify(row: IdlRow, column: string): void {
    const { c } = this.columnOf(row.table.name, column);
    this.ops.push({
      op: "wait", table: row.table.name, timeout: 0, where: IdlTxn.where(row.uuid), columns: [column], until: "==",
      rows: [{ [column]: datumToJSON(c.type, row.data[c.index]!) }],
    });
  }

  /** Adds 1 to an integer column on commit and reports its new value (OVS's next_cfg handling). */
  increment(row: IdlRow, column: string): void {
    this.ops.push({ op: "mutate", table: row.table.name, where: IdlTxn.where(row.uuid), mutations: [[column, "+=", 1]] });
    this.incrementAt = this.ops.length;
    this.ops.push({ op: "select", table: row.table.name, where: IdlTxn.where(row.uuid), columns: [column] });
  }

  comment(text: string): void {
    this.comments.push(text);
  }

  get isEmpty(): boolean {
    return this.ops.length === 0;
  }

  async commit(): Promise<CommitResult> {
    const inserted = new Map<string, string>();
    if (this.ops.length === 0) return { status: "unchanged", inserted };
    const ops: unknown[] = [];
    const lock = this.idl.opts.lock;
    if (lock !== undefined) ops.push({ op: "assert", lock });
    const base = ops.length;
    ops.push(...this.ops);
    if (this.comments.length > 0) ops.push({ op: "comment", comment: this.comments.join("\n") });
    let results: unknown[];
    try {
      results = await this.idl.transact(ops);
    } catch (e) {
      if (e instanceof JsonRpcError) return { status: "error", error: JSON.stringify(e.error), inserted };
      return { status: "try-again", error: (e as Error).message, inserted };
    }
    for (let i = 0; i < results.length; i++) {
      const r = results[i] as Record<string, unknown> | null;
      if (r !== null && typeof r === "object" && "error" in r) {
        if (r["error"] === "not owner") return { status: "not-locked", inserted };
        if (r["error"] === "timed out") return { status: "try-again", inserted };
        return { status: "error", error: JSON.stringify(r), inserted };
      }
    }
    const result: CommitResult = { status: "success", inserted };
    const tmps = [...this.names.keys()];
    let k = 0;
    this.ops.forEach((op, i) => {
      if ((op as { op: string }).op !== "insert") return;
      const r = results[base + i] as { uuid?: [string, string] };
      if (r?.uuid) inserted.set(tmps[k]!, r.uuid[1]);
      k++;
    });
    if (this.incrementAt >= 0) {
      const sel = results[base + this.incrementAt] as { rows?: Record<string, unknown>[] };
      const v = sel?.rows?.[0] ? Object.values(sel.rows[0])[0] : undefined;
      if (typeof v === "number") result.increment = v;
    }
    return result;
  }
}
