/**
 * One client connection of the OVSDB server: the RFC 7047 methods and
 * OVS's extensions, answered with OVS's exact reply shapes and error words.
 *
 * Replies are written as OVS writes them — `{"id","result","error":null}`
 * or `{"id","error"}` — and monitor updates caused by a transaction are
 * sent before that transaction's reply. A transaction blocked by a "wait"
 * operation becomes a trigger that the server retries after every commit
 * to its database and once more when its timeout expires.
 */
import type { JsonRpcConnection, JsonRpcRequest } from "../../jsonrpc/index.js";
import { OvsdbError, syntaxError, isId, type TransactOutcome, type TransactOptions } from "../index.js";
import { vlogModule } from "../../util/vlog.js";
import type { LockHolder } from "./locks.js";
import {
  Monitor,
  mergeChanges,
  parseMonitorRequests,
  renderConditionChange,
  renderInitial,
  setCondition,
  UpdateRenderer,
  type MonitorVersion,
  type RowLike,
} from "./monitor.js";
import type { OvsdbServer } from "./server.js";
import type { CommitEvent, DurableWaiter, ServedDb } from "./served-db.js";
import { schemaToJson } from "./server-db.js";
import { toShashOrder } from "../storage/index.js";
import { objectArray } from "../object-array.js";

const log = vlogModule("ovsdb_jsonrpc_server");
const jsonrpcLog = vlogModule("jsonrpc");

/** Bytes of unsent output after which a session is dropped. */
export const MAX_BACKLOG = 256 * 1024 * 1024;

/** A transaction waiting for a "wait" operation's condition. */
export interface Trigger {
  session: OvsdbSession;
  id: unknown;
  served: ServedDb;
  ops: unknown[];
  /** When it first blocked (ms; 0 until then), what "wait" timeouts count from. */
  start: number;
  timer: NodeJS.Timeout | null;
}

/** JSON text of a transaction's result array (see OvsdbSession.replyResults). */
function resultsText(results: unknown[]): string {
  let s = "[";
  for (let i = 0; i < results.length; i++) {
    if (i > 0) s += ",";
    s += opResultText(results[i]);
  }
  return s + "]";
}

/** JSON text of one operation's result: null, {} and {"count":N} by hand. */
function opResultText(r: unknown): string {
  if (r === null || r === undefined) return "null"; // as JSON.stringify prints them in an array
  if (typeof r !== "object") return JSON.stringify(r);
  let count: unknown;
  let n = 0;
  for (const k in r) {
    if (k !== "count" || ++n > 1) return JSON.stringify(r);
    count = (r as { count: unknown }).count;
  }
  if (n === 0) return Array.isArray(r) ? "[]" : "{}";
  return typeof count === "number" && Number.isSafeInteger(count) ? `{"count":${count}}` : JSON.stringify(r);
}

/** A transaction's reply waiting for its commit to be durable (and for the replies before it). */
class PendingReply implements DurableWaiter {
  ready: boolean;
  error: Error | null = null;
  constructor(
    private readonly session: OvsdbSession,
    readonly id: unknown,
    readonly results: unknown[],
    /** The commit to wait for; 0: none. */
    readonly seq: number,
  ) {
    this.ready = seq === 0;
  }

  durable(err: Error | null): void {
    this.ready = true;
    this.error = err;
    this.session.sendReadyReplies();
  }
}

export class OvsdbSession implements LockHolder {
  readonly monitors = new Map<string, Monitor>();
  /** Lock names this session has asked for (owned or waiting). */
  readonly locks = new Set<string>();
  readonly triggers = new Set<Trigger>();
  /**
   * Transaction replies not sent yet, in request order, from `replyHead`
   * on: each waits for its record to be on disk and for the replies
   * before it (callbacks, not a promise chain: fewer allocations and
   * microtasks per commit, bench ovsdb (b')).
   */
  private readonly replyQueue: PendingReply[] = objectArray();
  private replyHead = 0;
  dbChangeAware = false;
  private probeTimer: NodeJS.Timeout | null = null;
  /** When the outstanding inactivity probe was sent (0: none). */
  private probeSentAt = 0;

  constructor(
    readonly server: OvsdbServer,
    readonly conn: JsonRpcConnection,
    /** Name for log messages, e.g. "unix#3". */
    readonly name: string,
    probeIntervalMs: number,
  ) {
    conn.autoEcho = false;
    conn.on("request", (req) => this.onRequest(req));
    conn.on("notify", (method, params) => this.onNotify(method, params));
    conn.on("protocolError", (msg) => log.warn(`${name}: received bad JSON-RPC message: ${msg}`));
    conn.on("close", () => this.closed());
    if (probeIntervalMs > 0) this.startProbes(probeIntervalMs);
  }

  // ---- transport helpers -------------------------------------------------

  reply(id: unknown, result: unknown): void {
    this.conn.send({ id, result, error: null });
    if (jsonrpcLog.enabled("dbg")) jsonrpcLog.dbg(`${this.name}: send reply, id=${JSON.stringify(id)}`);
  }

  /**
   * A transaction's reply, as reply() would write it: the usual results
   * ({} and {"count":N}) and a number id are printed here, without a call
   * into V8's JSON serializer per reply (bench ovsdb (b')).
   */
  replyResults(id: unknown, results: unknown[]): void {
    if (jsonrpcLog.enabled("dbg")) {
      this.reply(id, results);
      return;
    }
    const idText = typeof id === "number" ? String(id) : JSON.stringify(id);
    this.sendRaw(`{"id":${idText},"result":${resultsText(results)},"error":null}`);
  }

  replyError(id: unknown, error: unknown): void {
    this.conn.send({ id, error });
  }

  /** Writes pre-rendered JSON text. */
  sendRaw(text: string): void {
    if (this.conn.isClosed) return;
    this.conn.socket.write(text);
    this.checkBacklog();
  }

  /**
   * A client that stops reading while its monitors keep producing updates
   * would make us buffer without bound; past MAX_BACKLOG bytes it is
   * disconnected (it can reconnect and resume with monitor_cond_since).
   */
  private checkBacklog(): void {
    const backlog = this.conn.socket.writableLength;
    if (backlog > MAX_BACKLOG) {
      log.warn(`${this.name}: ${backlog} bytes of replies and updates not read by the client, disconnecting`);
      this.conn.close();
    }
  }

  notify(method: string, params: unknown[]): void {
    this.conn.send({ id: null, method, params });
  }

  /**
   * Inactivity probes (for TCP remotes, as OVS): after `interval` ms with
   * nothing received, send an echo request; if another interval passes
   * with still nothing, drop the connection.
   */
  private startProbes(interval: number): void {
    const tick = (): void => {
      if (this.conn.isClosed) return;
      const now = Date.now();
      const last = this.conn.lastReceived;
      if (this.probeSentAt !== 0) {
        if (last >= this.probeSentAt) {
          this.probeSentAt = 0; // Traffic since the probe: alive.
        } else if (now - this.probeSentAt >= interval) {
          log.warn(`${this.name}: no response to inactivity probe after ${Math.round((now - last) / 1000)} seconds, disconnecting`);
          this.conn.close();
          return;
        }
      }
      let next: number;
      if (this.probeSentAt === 0 && now - last >= interval) {
        this.probeSentAt = now;
        this.conn.request("echo", []).catch(() => undefined);
        next = interval;
      } else if (this.probeSentAt !== 0) {
        next = interval - (now - this.probeSentAt);
      } else {
        next = interval - (now - last);
      }
      this.probeTimer = setTimeout(tick, Math.max(1, next));
      this.probeTimer.unref();
    };
    this.probeTimer = setTimeout(tick, interval);
    this.probeTimer.unref();
  }

  private closed(): void {
    if (this.probeTimer) clearTimeout(this.probeTimer);
    for (const t of this.triggers) if (t.timer) clearTimeout(t.timer);
    this.triggers.clear();
    this.server.cancelTriggersOf(this);
    for (const name of this.locks) this.server.locks.unlock(name, this);
    this.locks.clear();
    this.monitors.clear();
    this.server.sessionClosed(this);
  }

  // ---- dispatch ----------------------------------------------------------

  private onNotify(method: string, params: unknown): void {
    if (method === "cancel") {
      const p = params as unknown[];
      for (const t of this.triggers) {
        if (p.length === 1 && JSON.stringify(t.id) === JSON.stringify(p[0])) {
          this.server.removeTrigger(t);
          this.replyError(t.id, "canceled");
        }
      }
    }
    // Other notifications (e.g. "echo" replies sent as notifications) are ignored, as OVS does.
  }

  private onRequest(req: JsonRpcRequest): void {
    const params = req.params as unknown[];
    if (jsonrpcLog.enabled("dbg")) {
      jsonrpcLog.dbg(`${this.name}: received request, method="${req.method}", params=${JSON.stringify(params).slice(0, 200)}, id=${JSON.stringify(req.id)}`);
    }
    try {
      switch (req.method) {
        case "transact":
          this.transact(req.id, params);
          return;
        case "monitor":
          this.monitor(req.id, params, 1);
          return;
        case "monitor_cond":
          this.monitor(req.id, params, 2);
          return;
        case "monitor_cond_since":
          this.monitor(req.id, params, 3);
          return;
        case "monitor_cond_change":
          this.monitorCondChange(req.id, params);
          return;
        case "monitor_cancel":
          this.monitorCancel(req.id, params);
          return;
        case "get_schema": {
          const served = this.dbParam(params, "get_schema");
          this.reply(req.id, toShashOrder(schemaToJson(served.db.schema)));
          return;
        }
        case "list_dbs":
          this.reply(req.id, this.server.dbNames());
          return;
        case "lock":
          this.lock(req.id, params, "lock");
          return;
        case "steal":
          this.lock(req.id, params, "steal");
          return;
        case "unlock":
          this.unlock(req.id, params);
          return;
        case "echo":
          this.reply(req.id, params);
          return;
        case "set_db_change_aware":
          if (params.length !== 1 || typeof params[0] !== "boolean") {
            throw syntaxError(params, null, "set_db_change_aware request params must be <boolean>");
          }
          this.dbChangeAware = params[0];
          this.reply(req.id, {});
          return;
        case "get_server_id":
          this.reply(req.id, this.server.serverId);
          return;
        default:
          this.replyError(req.id, "unknown method");
      }
    } catch (e) {
      if (e instanceof OvsdbError) {
        this.replyError(req.id, e.toJSON());
      } else {
        log.err(`${this.name}: ${req.method} failed: ${(e as Error).stack ?? String(e)}`);
        this.replyError(req.id, { error: "internal error", details: (e as Error).message });
      }
    }
  }

  /** The database named by params[0], or the OVS error. */
  private dbParam(params: unknown[], method: string): ServedDb {
    const name = params[0];
    if (typeof name !== "string") throw syntaxError(params, null, `${method} request params must begin with <db-name>`);
    const served = this.server.database(name);
    if (!served) throw syntaxError(params, "unknown database", `${method} request specifies unknown database ${name}`);
    return served;
  }

  // ---- transact ----------------------------------------------------------

  private transact(id: unknown, params: unknown[]): void {
    const served = this.dbParam(params, "transact");
    const ops = params.slice(1);
    // `start` is taken if it blocks (most transactions do not: no clock read for them).
    const trigger: Trigger = { session: this, id, served, ops, start: 0, timer: null };
    this.runTrigger(trigger);
  }

  /** Runs (or re-runs) a transaction; returns true when it finished (answered). */
  runTrigger(t: Trigger): boolean {
    const held = this.heldLocks();
    // The first attempt has not waited, even if the clock ticked since the
    // request arrived: a "wait" with timeout 0 then fails as OVS words it
    // ("where" clause test failed), not as a timed-out trigger.
    const waited = this.triggers.has(t) ? Date.now() - t.start : 0;
    const opts: TransactOptions = { elapsedWaitMs: waited };
    if (held) opts.heldLocks = held;
    const outcome: TransactOutcome = t.served.db.transact(t.ops, opts);
    if (outcome.blocked) {
      if (!this.triggers.has(t)) {
        if (t.start === 0) t.start = Date.now();
        this.triggers.add(t);
        this.server.addTrigger(t);
      }
      if (t.timer) clearTimeout(t.timer);
      t.timer = null;
      // `timeoutMs` is the smallest "wait" timeout, counted from the first attempt;
      // without one the transaction waits for commits only.
      const remaining = outcome.blocked.timeoutMs - (Date.now() - t.start);
      if (Number.isFinite(remaining)) {
        t.timer = setTimeout(() => {
          t.timer = null;
          if (this.triggers.has(t)) this.runTrigger(t);
        }, Math.min(0x7fffffff, Math.max(0, remaining)));
      }
      return false;
    }
    if (this.triggers.has(t)) this.server.removeTrigger(t);
    // Every transaction that changed something is answered only once its
    // record is on disk (issue #2: "acknowledged only after fsync"), not
    // just the "durable" ones as OVS does; group commit keeps this cheap.
    // Replies go out in request order, so a read never overtakes a write.
    const seq = outcome.changes !== null ? t.served.lastCommitSeq : 0;
    if (seq === 0 && this.replyHead === this.replyQueue.length) {
      this.replyResults(t.id, outcome.results);
      return true;
    }
    const pending = new PendingReply(this, t.id, outcome.results, seq);
    this.replyQueue.push(pending);
    // A read (or a commit of a database without a file) waits only for the replies before it.
    if (seq === 0) this.sendReadyReplies();
    else t.served.whenDurable(pending);
    return true;
  }

  /** Sends the replies at the head of the queue that are ready, in order. */
  sendReadyReplies(): void {
    const q = this.replyQueue;
    while (this.replyHead < q.length) {
      const r = q[this.replyHead]!;
      if (!r.ready) return;
      this.replyHead++;
      if (r.error === null) this.replyResults(r.id, r.results);
      else this.replyError(r.id, { error: "I/O error", details: r.error.message });
    }
    // pop(), not `length = 0`: setting the length is a call into V8's runtime.
    while (q.length > 0) q.pop();
    this.replyHead = 0;
  }

  private heldLocks(): Set<string> | undefined {
    if (this.locks.size === 0) return undefined;
    const held = new Set<string>();
    for (const name of this.locks) if (this.server.locks.isOwner(name, this)) held.add(name);
    return held;
  }

  // ---- monitors ----------------------------------------------------------

  private monitor(id: unknown, params: unknown[], version: MonitorVersion): void {
    const method = version === 1 ? "monitor" : version === 2 ? "monitor_cond" : "monitor_cond_since";
    if (version === 3 && params.length !== 4) throw syntaxError(params, null, "invalid parameters");
    const served = this.dbParam(params, method);
    const monitorId = params[1];
    const idText = JSON.stringify(monitorId ?? null);
    let lastId: string | null = null;
    if (version === 3) {
      const l = params[3];
      if (typeof l !== "string" || !/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(l)) {
        throw syntaxError(l, null, "last-txn-id must be UUID format.");
      }
      lastId = l.toLowerCase();
    }
    if (this.monitors.has(idText)) throw syntaxError(monitorId ?? null, null, "duplicate monitor ID");
    const tables = parseMonitorRequests(served.db.schema, params[2], version, this.server.conditions);
    const mon = new Monitor(monitorId ?? null, served.name, version, tables);
    const rowsOf = (t: string): Iterable<[string, RowLike]> => served.db.tables.get(t)!.rows;
    if (version === 3) {
      const since = lastId === null ? null : served.changesSince(lastId);
      this.monitors.set(idText, mon);
      if (since !== null) {
        const text = since.length === 0 ? null : new UpdateRenderer(mergeChanges(since), this.server.conditions).render(mon);
        this.sendRaw(
          `{"id":${JSON.stringify(id)},"result":[true,${JSON.stringify(served.lastTxnId)},${text ?? "{}"}],"error":null}`,
        );
      } else {
        this.reply(id, [false, served.lastTxnId, renderInitial(mon, rowsOf, this.server.conditions)]);
      }
      return;
    }
    this.monitors.set(idText, mon);
    this.reply(id, renderInitial(mon, rowsOf, this.server.conditions));
  }

  private monitorCondChange(id: unknown, params: unknown[]): void {
    if (params.length !== 3) throw syntaxError(params, null, "invalid parameters");
    const oldText = JSON.stringify(params[0]);
    const mon = this.monitors.get(oldText);
    if (!mon) throw syntaxError(params[0], null, "unknown monitor session");
    const newText = JSON.stringify(params[1]);
    if (newText !== oldText && this.monitors.has(newText)) throw syntaxError(params[1], null, "duplicate monitor ID");
    const reqs = params[2];
    if (reqs === null || typeof reqs !== "object" || Array.isArray(reqs)) {
      throw syntaxError(reqs, null, "monitor-cond-change-requests must be object");
    }
    const served = this.server.database(mon.dbName)!;
    // Validate everything before changing anything.
    const changes: [string, unknown][] = [];
    for (const [tableName, reqJson] of Object.entries(reqs as Record<string, unknown>)) {
      const tm = mon.tables.get(tableName);
      if (!tm) throw syntaxError(reqJson, null, `no table named ${tableName}`);
      const list = Array.isArray(reqJson) ? reqJson : [reqJson];
      for (const r of list) {
        if (r === null || typeof r !== "object" || Array.isArray(r)) throw syntaxError(r, null, "Object expected.");
        const o = r as Record<string, unknown>;
        if ("columns" in o) throw syntaxError(r, null, "changing columns is unsupported");
        if ("where" in o) {
          this.server.conditions.parse(tm.table, o["where"]);
          changes.push([tableName, o["where"]]);
        }
      }
    }
    if (newText !== oldText) {
      this.monitors.delete(oldText);
      mon.id = params[1];
      mon.idText = newText;
      this.monitors.set(newText, mon);
    }
    const update: Record<string, unknown> = {};
    let any = false;
    for (const [tableName, where] of changes) {
      const tm = mon.tables.get(tableName)!;
      const oldCond = tm.cond;
      setCondition(tm, where, this.server.conditions);
      const t = renderConditionChange(tm, oldCond, served.db.tables.get(tableName)!.rows, this.server.conditions);
      if (t !== null) {
        update[tableName] = t;
        any = true;
      }
    }
    if (any) {
      if (mon.version === 3) this.notify("update3", [mon.id, served.lastTxnId, update]);
      else this.notify("update2", [mon.id, update]);
    }
    this.reply(id, {});
  }

  private monitorCancel(id: unknown, params: unknown[]): void {
    if (params.length !== 1) {
      this.replyError(id, "invalid parameters");
      return;
    }
    const key = JSON.stringify(params[0]);
    if (!this.monitors.delete(key)) {
      this.replyError(id, "unknown monitor");
      return;
    }
    this.reply(id, {});
  }

  /** Sends this session's monitors their part of a commit. */
  sendUpdates(served: ServedDb, ev: CommitEvent, renderer: UpdateRenderer): void {
    if (this.conn.isClosed) return;
    for (const mon of this.monitors.values()) {
      if (mon.dbName !== served.name) continue;
      const text = renderer.render(mon);
      if (text === null) continue;
      if (mon.version === 1) this.sendRaw(`{"id":null,"method":"update","params":[${mon.idText},${text}]}`);
      else if (mon.version === 2) this.sendRaw(`{"id":null,"method":"update2","params":[${mon.idText},${text}]}`);
      else this.sendRaw(`{"id":null,"method":"update3","params":[${mon.idText},"${ev.txnId}",${text}]}`);
    }
  }

  // ---- locks -------------------------------------------------------------

  private lockName(params: unknown[], method: string): string {
    const name = params[0];
    if (params.length !== 1 || typeof name !== "string" || !isId(name)) {
      throw syntaxError(params, null, `${method} request params must be <id>`);
    }
    return name;
  }

  private lock(id: unknown, params: unknown[], mode: "lock" | "steal"): void {
    const name = this.lockName(params, mode);
    if (this.locks.has(name)) throw syntaxError(params, null, `must issue "unlock" before new "${mode}"`);
    this.locks.add(name);
    if (mode === "lock") {
      const owner = this.server.locks.lock(name, this);
      this.reply(id, { locked: owner });
    } else {
      this.server.locks.steal(name, this);
      this.reply(id, { locked: true });
    }
  }

  private unlock(id: unknown, params: unknown[]): void {
    const name = this.lockName(params, "unlock");
    if (!this.locks.has(name)) throw syntaxError(params, null, `unlock: "unlock" without "lock" or "steal"`);
    this.locks.delete(name);
    this.server.locks.unlock(name, this);
    this.reply(id, {});
  }

  notifyLocked(name: string): void {
    this.notify("locked", [name]);
  }

  notifyStolen(name: string): void {
    this.notify("stolen", [name]);
  }
}
