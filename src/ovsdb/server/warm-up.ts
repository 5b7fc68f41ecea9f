/**
 * Start-up warm-up of the server's hot paths.
 *
 * Why: V8 runs new code in its interpreter and compiles the hot functions
 * with its optimizing compiler only after watching them run for a while.
 * A fresh server therefore spent most of its first big transaction (bench
 * ovsdb (a): one ovs-vsctl transaction adding 1,000 ports) interpreting
 * and compiling: about half of its CPU went to the optimizing compiler's
 * threads. OVS's C server has no such cost, so an operator's first
 * `ovs-vsctl` after a start was the slowest one.
 *
 * What: once per process, when a database with the Open_vSwitch schema is
 * added, in two parts.
 * 1. In memory: a scratch server (never listening) serves a scratch
 *    in-memory copy of that schema to a scratch session whose socket
 *    discards what is written to it, and the session is fed, as bytes,
 *    the requests that ovs-vsctl sends: the monitors, `init`, `add-br`s,
 *    transactions adding ports with interfaces, a `del-br` of everything
 *    (garbage collection) and thousands of small transactions (mostly
 *    `next_cfg` increments). Records are built and encoded as for the
 *    file but never written.
 * 2. Over real I/O, for a database served from a file (warmUpIo): the
 *    same small transactions from a client on a Unix socket to a scratch
 *    server writing a scratch file, so that Node's socket streams, the
 *    log writer's flush and the replies that wait for it run too; the
 *    server's listeners open only when it is done.
 * The whole path (framing, JSON-RPC dispatch, transaction engine, commit
 * checks, record text and its write, monitor updates, replies) runs
 * enough times for V8 to compile it with the types real clients produce.
 *
 * Invisible: nothing is written to any client, nothing is logged (it is
 * skipped when JSON-RPC debug logging is on), the real server's databases,
 * sessions and locks are not touched, and the scratch directory of part 2
 * (on tmpfs when there is one) is removed.
 *
 * Cost: most of it is V8's optimizing compiler, which a fresh server would
 * otherwise run during its first transactions: about 1.3 s from start to
 * listening and 2 s of CPU (much of it on the compiler's threads) on a
 * loaded 2-core machine, against 0.6 s and 0.9 s for part 1 with 300
 * small transactions; bench ovsdb (a) reports it as a_start_ms and
 * a_start_cpu_ms. Smaller warm-ups were not worth it: 6 x 40 ports saved a
 * third of the (a) transaction's CPU, 20 x 40 two thirds; for bench ovsdb
 * (b') see SMALL_TXNS. TSOVS_OVSDB_WARMUP=0 in the environment skips it
 * (short-lived servers, e.g. in tests).
 */
import { EventEmitter } from "node:events";
import * as fs from "node:fs";
import type * as net from "node:net";
import * as os from "node:os";
import * as path from "node:path";
import { JsonRpcConnection, openJsonRpc } from "../../jsonrpc/index.js";
import { Database, ZERO_UUID, type DatabaseSchema, type ChangeSet, type TransactOutcome } from "../index.js";
import { changesToRecord, createDbFile, encodeRecordText, openDbFile, type DbFile } from "../storage/index.js";
import type { DbStorage } from "./served-db.js";
import { vlogModule } from "../../util/vlog.js";

/**
 * Transactions adding ports, and ports per transaction: enough rows for V8
 * to optimize the per-row code, in enough transactions for the per-commit
 * functions to be optimized as functions, not only inside one long loop
 * (on-stack replacement): 20 x 40 left less to compile during bench
 * ovsdb (a) than 3 x 250.
 */
const ROUNDS = 20;
const PORTS_PER_ROUND = 40;
/**
 * Small transactions (smallTxnOps), in memory. V8 optimizes a function
 * only after a few thousand calls, and each of these runs the whole
 * per-transaction path once: with 300 (and no I/O part), bench ovsdb
 * (b')'s first 2,000 transactions cost 3-4 times the server CPU of later
 * ones; with this and the I/O part, about 1.5 times.
 */
const SMALL_TXNS = 3000;
/**
 * Requests are fed in pieces of this size, so that values split between
 * reads (a big ovs-vsctl request arrives in 64 kB reads) are warmed too.
 */
const CHUNK = 4096;

/** The warm-up has been considered (it runs at most once per process). */
let tried = false;
/** The warm-up has run. */
let warmed = false;

/** True when `schema` has what the warm-up's ovs-vsctl requests use. */
export function canWarmUp(schema: DatabaseSchema): boolean {
  if (schema.name !== "Open_vSwitch") return false;
  const need: [string, string[]][] = [
    ["Open_vSwitch", ["bridges", "next_cfg"]],
    ["Bridge", ["name", "ports", "controller", "fail_mode"]],
    ["Port", ["name", "interfaces", "fake_bridge", "tag"]],
    ["Interface", ["name", "error", "ofport"]],
    ["Controller", []],
  ];
  for (const [t, cols] of need) {
    const ts = schema.tables.get(t);
    if (ts === undefined) return false;
    for (const c of cols) if (ts.columns.get(c) === undefined) return false;
  }
  return true;
}

/** Has the warm-up run in this process? */
export function isWarm(): boolean {
  return warmed;
}

/** Skips the warm-up in this process (benchmarks that measure cold code). */
export function skipWarmUp(): void {
  warmed = true;
}

/** A socket that accepts and drops everything written to it. */
class NullSocket extends EventEmitter {
  writableLength = 0;
  write(_data: string | Uint8Array): boolean {
    return true;
  }
  destroy(): this {
    return this;
  }
  setNoDelay(): this {
    return this;
  }
}

/** Storage that builds and encodes each record exactly as the file does, then drops it. */
class ScratchStorage implements DbStorage {
  bytes = 0;
  commit(changes: ChangeSet, outcome: TransactOutcome | null): Promise<void> {
    const record = changesToRecord(changes, outcome?.comment ?? undefined, Date.now());
    if (record !== null) this.bytes += encodeRecordText(record).length;
    return Promise.resolve();
  }
}

/** What the warm-up needs from the server class (it cannot import server.ts: that imports this file). */
export interface ScratchServer {
  addDatabase(db: Database, storage: DbStorage | null): unknown;
  /** Attaches a session to an already connected socket. */
  attach(conn: JsonRpcConnection, name: string): unknown;
  close(): Promise<void>;
}

/**
 * A client of a scratch server that sends, as bytes on a socket that
 * discards replies, the requests ovs-vsctl sends for `init`, `add-br`,
 * `add-port`... (the warm-up's workload; bench/ovsdb-warm.ts times it).
 */
export class ScratchClient {
  readonly db: Database;
  private readonly server: ScratchServer;
  private readonly sock = new NullSocket();
  private readonly conn: JsonRpcConnection;
  private id = 0;
  private nPorts = 0;

  constructor(schema: DatabaseSchema, makeServer: () => ScratchServer) {
    this.server = makeServer();
    this.db = new Database(schema);
    this.server.addDatabase(this.db, new ScratchStorage());
    this.conn = new JsonRpcConnection(this.sock as unknown as net.Socket, "warm-up");
    this.server.attach(this.conn, "warm-up");
  }

  /** Feeds one request (dispatched synchronously, as when it arrives from a client). */
  send(method: string, params: unknown[]): void {
    const bytes = Buffer.from(JSON.stringify({ id: this.id++, method, params }), "utf8");
    for (let i = 0; i < bytes.length; i += CHUNK) this.sock.emit("data", bytes.subarray(i, i + CHUNK));
  }

  private uuidOf(table: string, name: string): string {
    for (const [u, r] of this.db.tables.get(table)!.rows) if (r.get("name").keys[0] === name) return u;
    return ZERO_UUID;
  }

  private onlyRow(table: string): string {
    return this.db.tables.get(table)!.rows.keys().next().value ?? ZERO_UUID;
  }

  /** ovs-vsctl's connection set-up: the _Server and Open_vSwitch monitors. */
  monitors(): void {
    this.send("get_schema", ["_Server"]);
    this.send("monitor_cond", ["_Server", ["monid", "_Server"], { Database: [{ columns: ["name", "model", "connected", "leader", "schema", "cid", "index"] }] }]);
    this.send("monitor_cond_since", [
      "Open_vSwitch",
      ["monid", "Open_vSwitch"],
      {
        Port: [{ columns: ["fake_bridge", "interfaces", "name", "tag"] }],
        Interface: [{ columns: ["error", "name", "ofport"] }],
        Controller: [{ columns: [] }],
        Bridge: [{ columns: ["controller", "fail_mode", "name", "ports"] }],
        Open_vSwitch: [{ columns: ["bridges"] }],
      },
      ZERO_UUID,
    ]);
    // A second shape, every column, as ovs-vswitchd's IDL monitors.
    this.send("monitor_cond", ["Open_vSwitch", "all", { Bridge: [{}], Port: [{}], Interface: [{}], Open_vSwitch: [{}] }]);
  }

  /** `init -- add-br br0`. */
  initAddBr(): void {
    this.send("transact", [
      "Open_vSwitch",
      { op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "br"] }, "uuid-name": "ovs" },
      { op: "insert", table: "Bridge", row: { name: "br0", ports: ["named-uuid", "port"] }, "uuid-name": "br" },
      { op: "insert", table: "Port", row: { name: "br0", interfaces: ["named-uuid", "iface"] }, "uuid-name": "port" },
      { op: "insert", table: "Interface", row: { name: "br0", type: "internal" }, "uuid-name": "iface" },
      { op: "comment", comment: "warm-up: init -- add-br br0" },
    ]);
  }

  /** `add-br NAME` (after initAddBr), as ovs-vsctl writes it: the whole new bridges set. */
  addBr(name: string): void {
    const ovs = this.onlyRow("Open_vSwitch");
    const bridges = [...this.db.tables.get("Open_vSwitch")!.rows.get(ovs)!.get("bridges").keys] as string[];
    this.send("transact", [
      "Open_vSwitch",
      { rows: [{ bridges: ["set", bridges.map((u) => ["uuid", u])] }], until: "==", where: [["_uuid", "==", ["uuid", ovs]]], columns: ["bridges"], timeout: 0, op: "wait", table: "Open_vSwitch" },
      { op: "insert", table: "Bridge", row: { name, ports: ["named-uuid", "port"] }, "uuid-name": "br" },
      { op: "insert", table: "Port", row: { name, interfaces: ["named-uuid", "iface"] }, "uuid-name": "port" },
      { op: "insert", table: "Interface", row: { name, type: "internal" }, "uuid-name": "iface" },
      { op: "update", table: "Open_vSwitch", where: [["_uuid", "==", ["uuid", ovs]]], row: { bridges: ["set", [...bridges.map((u) => ["uuid", u]), ["named-uuid", "br"]]] } },
      { op: "comment", comment: `warm-up: add-br ${name}` },
    ]);
  }

  /** One transaction adding `n` ports with an interface each to `bridge`, with ovs-vsctl's "wait" checks. */
  addPorts(n: number, bridge = "br0"): void {
    const br = this.uuidOf("Bridge", bridge);
    const ports = [...this.db.tables.get("Bridge")!.rows.get(br)!.get("ports").keys] as string[];
    const firstPort = ports[0] ?? ZERO_UUID;
    const firstIface = (this.db.tables.get("Port")!.rows.get(firstPort)?.get("interfaces").keys[0] as string | undefined) ?? ZERO_UUID;
    const bridges = [...this.db.tables.get("Open_vSwitch")!.rows.get(this.onlyRow("Open_vSwitch"))!.get("bridges").keys] as string[];
    const ops: unknown[] = [
      { rows: [{ ports: ports.length === 1 ? ["uuid", firstPort] : ["set", ports.map((u) => ["uuid", u])] }], until: "==", where: [["_uuid", "==", ["uuid", br]]], columns: ["ports"], timeout: 0, op: "wait", table: "Bridge" },
      { rows: [{ interfaces: ["uuid", firstIface] }], until: "==", where: [["_uuid", "==", ["uuid", firstPort]]], columns: ["interfaces"], timeout: 0, op: "wait", table: "Port" },
      { rows: [{ bridges: bridges.length === 1 ? ["uuid", br] : ["set", bridges.map((u) => ["uuid", u])] }], until: "==", where: [["_uuid", "==", ["uuid", this.onlyRow("Open_vSwitch")]]], columns: ["bridges"], timeout: 0, op: "wait", table: "Open_vSwitch" },
    ];
    const newPorts: unknown[] = [];
    for (let i = 0; i < n; i++, this.nPorts++) {
      const p = `rowp${this.nPorts}_warm_up`;
      const f = `rowi${this.nPorts}_warm_up`;
      ops.push({ "uuid-name": p, row: { name: `w${this.nPorts}`, interfaces: ["named-uuid", f] }, op: "insert", table: "Port" });
      ops.push({ "uuid-name": f, row: { name: `w${this.nPorts}` }, op: "insert", table: "Interface" });
      newPorts.push(["named-uuid", p]);
    }
    ops.push({ where: [["_uuid", "==", ["uuid", br]]], row: { ports: ["set", [...ports.map((u) => ["uuid", u]), ...newPorts]] }, op: "update", table: "Bridge" });
    ops.push({ comment: `warm-up: add-port x${n}`, op: "comment" });
    this.send("transact", ["Open_vSwitch", ...ops]);
  }

  /** Deletes every bridge: the bridges, their ports and interfaces are garbage collected. */
  delBr(): void {
    this.send("transact", [
      "Open_vSwitch",
      { op: "update", table: "Open_vSwitch", where: [["_uuid", "==", ["uuid", this.onlyRow("Open_vSwitch")]]], row: { bridges: ["set", []] } },
      { op: "comment", comment: "warm-up: del-br" },
    ]);
  }

  /** `n` small transactions (smallTxnOps), after the one Open_vSwitch row they need if there is none. */
  smallTxns(n: number): void {
    if (this.db.tables.get("Open_vSwitch")!.rows.size === 0) this.send("transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
    for (let i = 0; i < n; i++) this.send("transact", ["Open_vSwitch", ...smallTxnOps(i, n)]);
  }

  close(): void {
    this.conn.close();
    void this.server.close().catch(() => undefined);
  }
}

/**
 * The operations of small transaction `i` of `n` (both parts of the
 * warm-up run the same mix, so that the second part meets nothing the
 * first did not, which would throw optimized code away): mostly
 * `next_cfg` increments as ovs-vsctl sends them, some with a durable
 * commit, some adding to a map, some reads; half way, `next_cfg` jumps
 * past the small integers that share one datum each (datum.ts singleton).
 */
function smallTxnOps(i: number, n: number): unknown[] {
  const next = { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] };
  if (n >= 64 && i === n >> 1) return [{ op: "update", table: "Open_vSwitch", where: [], row: { next_cfg: 5000 } }];
  switch (i & 7) {
    case 1:
    case 5:
      return [next, { op: "commit", durable: true }];
    case 3:
      return [{ op: "mutate", table: "Open_vSwitch", where: [], mutations: [["external_ids", "insert", ["map", [[`k${i & 15}`, `v${i}`]]]]] }];
    case 7:
      return [{ op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] }];
    default:
      return [next];
  }
}

/** What the I/O warm-up needs from a scratch server (made with OvsdbServerOptions.scratch). */
export interface ScratchIoServer extends ScratchServer {
  addRemote(remote: string): string | null;
  remotesReady(): Promise<void>;
}

/** Small transactions of the I/O warm-up's main round (see warmUpIo): as many, for the I/O path. */
const IO_TXNS = 3000;

/** The I/O warm-up has been started in this process. */
let ioTried = false;

/**
 * The second part of the warm-up, for a database served from a file: small
 * transactions, one after another, from a client on a real Unix socket to
 * a scratch server committing to a real database file (in a scratch
 * directory, on tmpfs when there is one; the file is never fdatasync'ed,
 * see OpenOptions.scratch), so that what the in-memory part cannot reach
 * runs too: Node's socket streams both ways, the log writer's end-of-turn
 * flush, the replies that wait for it, and the server's storage path with
 * its own classes (a warmed function that later meets other classes is
 * thrown away and compiled again).
 *
 * Why: after the in-memory part alone, the first 2,000 transactions of
 * bench ovsdb (b') still cost 2-3 times the server CPU of later ones.
 *
 * Resolves when done (never rejects: a failure only leaves code cold).
 * The caller starts listening after it, so no client ever waits behind it.
 */
export async function warmUpIo(schema: DatabaseSchema, makeServer: () => ScratchIoServer): Promise<void> {
  if (ioTried || !warmed || !canWarmUp(schema)) return;
  ioTried = true;
  let dir: string | null = null;
  try {
    dir = fs.mkdtempSync(path.join(scratchParent(), "tsovs-warm-up-"));
    // A short round first, torn down like the long one: closing a
    // connection, a server, a file sets fields that had kept their first
    // value until then ("closed"...), and V8 throws away the optimized code
    // that had counted on that value. Done once before the long round,
    // that happens before the code that matters is optimized, not after.
    if (await ioRound(dir, "prelude", schema, makeServer, IO_PRELUDE_TXNS)) {
      await ioRound(dir, "main", schema, makeServer, IO_TXNS);
    }
  } catch {
    /* A warm-up that failed only leaves code cold. */
  } finally {
    if (dir !== null) removeScratchDir(dir);
  }
}

/**
 * Removes the scratch directory and the files in it, one by one: the
 * recursive fs.rmSync loads a module whose start-up made V8 throw away
 * optimized code of the commit path, just before the server opens.
 */
function removeScratchDir(dir: string): void {
  try {
    for (const f of fs.readdirSync(dir)) fs.unlinkSync(path.join(dir, f));
    fs.rmdirSync(dir);
  } catch {
    /* best effort: it is a scratch directory under tmpfs or /tmp */
  }
}

/** Transactions of the I/O warm-up's first, short round. */
const IO_PRELUDE_TXNS = 64;

/** One round of the I/O warm-up in `dir`: a file, a server, a client, `n` transactions, all closed. Returns false on failure. */
async function ioRound(dir: string, name: string, schema: DatabaseSchema, makeServer: () => ScratchIoServer, n: number): Promise<boolean> {
  let server: ScratchIoServer | null = null;
  let file: DbFile | null = null;
  let client: JsonRpcConnection | null = null;
  try {
    const dbPath = path.join(dir, `${name}.db`);
    await createDbFile(dbPath, schema.toJSON());
    // As the real file is opened (a compaction policy, fdatasyncs), so
    // that the commit path meets nothing new later: a branch never taken
    // here (the policy's checks, the fdatasync call) would throw its
    // optimized code away on the first real commit (bench ovsdb (b')).
    // Its thresholds are never reached; fdatasync is free on tmpfs, and
    // skipped anywhere else.
    file = await openDbFile(dbPath, { scratch: !onTmpfs(dir), compaction: { minIntervalMs: 24 * 60 * 60 * 1000 } });
    server = makeServer();
    server.addDatabase(file.db, file);
    const sock = path.join(dir, `${name}.sock`);
    if (server.addRemote(`punix:${sock}`) !== null) return false;
    await server.remotesReady();
    client = await openJsonRpc(`unix:${sock}`);
    await client.request("transact", ["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }]);
    for (let i = 0; i < n; i++) await client.request("transact", ["Open_vSwitch", ...smallTxnOps(i, n)]);
    return true;
  } catch {
    return false;
  } finally {
    client?.close();
    await server?.close().catch(() => undefined);
    await file?.close().catch(() => undefined);
  }
}

/** True if `dir` is on /dev/shm (tmpfs, where fdatasync costs nothing). */
function onTmpfs(dir: string): boolean {
  return dir.startsWith("/dev/shm/");
}

/** Where the I/O warm-up's scratch directory goes: tmpfs when there is one. */
function scratchParent(): string {
  try {
    fs.accessSync("/dev/shm", fs.constants.W_OK);
    if (fs.statSync("/dev/shm").isDirectory()) return "/dev/shm";
  } catch {
    /* no tmpfs there */
  }
  return os.tmpdir();
}

/**
 * Runs the warm-up (once per process) on `makeServer()`'s scratch server
 * with a scratch database of `schema`. Returns false when skipped.
 */
export function warmUp(schema: DatabaseSchema, makeServer: () => ScratchServer): boolean {
  if (tried || !canWarmUp(schema)) return false;
  tried = true;
  // Opt-out for short-lived servers (e.g. a test suite starting many).
  if (process.env["TSOVS_OVSDB_WARMUP"] === "0") return false;
  // With JSON-RPC debugging on, the scratch session's requests would be
  // logged: not invisible, and nobody debugs for speed.
  if (vlogModule("jsonrpc").enabled("dbg") || vlogModule("ovsdb_jsonrpc_server").enabled("dbg")) return false;
  warmed = true;
  const c = new ScratchClient(schema, makeServer);
  c.monitors();
  c.initAddBr();
  // Each round on a bridge of its own: the port sets that every request
  // repeats stay small, so the warm-up's cost grows linearly.
  for (let round = 0; round < ROUNDS; round++) {
    if (round > 0) c.addBr(`br${round}`);
    c.addPorts(PORTS_PER_ROUND, `br${round}`);
  }
  c.delBr();
  c.smallTxns(SMALL_TXNS);
  c.close();
  return true;
}
