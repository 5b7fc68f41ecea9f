/**
 * A database as the server serves it: the engine's `Database`, where its
 * commits go to disk (a `DbStorage`, or nowhere for an in-memory or
 * reserved database), and a bounded history of recent commits.
 *
 * Every commit, whoever made it, passes through the database's commit
 * listener here: it gets a transaction id (a fresh UUID), is handed to
 * storage in commit order, is remembered in the history (so a client that
 * reconnects with `monitor_cond_since` and a recent id gets only what it
 * missed), and is then announced to the server, which updates monitors.
 */
import { randomUUID } from "node:crypto";
import type { ChangeSet, Database, TransactOutcome } from "../index.js";
import { ZERO_UUID } from "../index.js";
import { vlogModule } from "../../util/vlog.js";
import { objectArray } from "../object-array.js";
import type { DurableTarget } from "../storage/index.js";

const log = vlogModule("ovsdb_server");

/**
 * Where a served database's commits are persisted.
 *
 * `commit` is called synchronously, in commit order, right after the
 * engine applied the transaction; it must queue the record at once (so
 * later commits are written after it) and resolve when the record is on
 * disk and fsync'ed. The server waits for that promise before answering
 * any transaction that changed the database (stricter than OVS, which
 * waits only for "durable" ones): an acknowledged transaction survives a
 * crash of the process and of the machine.
 */
export interface DbStorage {
  commit(changes: ChangeSet, outcome: TransactOutcome | null): Promise<void>;
  /**
   * The same telling `done.settled` instead, exactly once, in commit
   * order (DbFile has it: no promise per transaction). Used when present.
   */
  commitThen?(changes: ChangeSet, outcome: TransactOutcome | null, done: DurableTarget): void;
  /** Rewrites the file to hold only the current contents (ovsdb-server/compact). */
  compact?(): Promise<void>;
  /** Flushes queued records and closes the file. */
  close?(): Promise<void>;
  /** The file name, for messages. */
  readonly path?: string;
}

/**
 * One commit. Its transaction id is made when first asked for: most
 * commits are never named to any client (no `update3` monitor, no
 * `monitor_cond_since` that reaches them), and an id no client was given
 * can never be asked about, so drawing one lazily changes nothing a client
 * can see and saves a random UUID per commit.
 */
export class CommitEvent {
  private id: string | null = null;
  constructor(readonly changes: ChangeSet) {}

  get txnId(): string {
    return (this.id ??= randomUUID());
  }

  /** The id if one was made (a client can only ask about those). */
  get givenTxnId(): string | null {
    return this.id;
  }
}

/** Stands in the history for a commit dropped from it. */
const DROPPED = new CommitEvent(new Map());

/** How many recent commits are kept for `monitor_cond_since`. */
export const HISTORY_LIMIT = 100;
/** ...and at most this many changed rows in all (the newest commit is always kept). */
export const HISTORY_ROWS = 10_000;

/** Waits for a commit to be durable (ServedDb.whenDurable). */
export interface DurableWaiter {
  /** The commit waited for (ServedDb.lastCommitSeq when it was made). */
  readonly seq: number;
  /** Called once: null when the commit is on disk, else why it is not. */
  durable(err: Error | null): void;
}

export class ServedDb implements DurableTarget {
  /**
   * Commits handed to storage so far, and how many of them have settled
   * (storage settles them in commit order): commit number n is durable
   * once `settledSeq` >= n, unless it is at or after `failedSeq` (a log
   * that failed fails every later write too).
   */
  private commitSeq = 0;
  private settledSeq = 0;
  private failedSeq = Infinity;
  private failure: Error | null = null;
  /** Waiters by increasing seq, from `waiterHead` on. */
  private waiters: DurableWaiter[] = objectArray();
  private waiterHead = 0;
  /**
   * Recent commits, oldest first, from `historyStart` on: dropped ones are
   * only skipped, and cut off in one splice once they are as many as the
   * kept ones (Array.prototype.shift on every commit moved the whole array
   * in V8's runtime, bench ovsdb (b)).
   */
  private history: CommitEvent[] = objectArray();
  private historyRows: number[] = [];
  private historyStart = 0;
  private historyRowTotal = 0;
  private unsubscribe: () => void;
  private readonly settledOk = (): void => this.settled(null);
  private readonly settledErr = (err: Error): void => this.settled(err);

  constructor(
    readonly name: string,
    readonly db: Database,
    readonly storage: DbStorage | null,
    /** Reserved databases (`_Server`) accept only reads from clients. */
    readonly reserved: boolean,
    private readonly announce: (served: ServedDb, ev: CommitEvent) => void,
  ) {
    this.unsubscribe = db.onCommit((changes, outcome) => this.committed(changes, outcome));
  }

  /** The id of the latest commit (all zeros before the first). */
  get lastTxnId(): string {
    const n = this.history.length;
    return n > this.historyStart ? this.history[n - 1]!.txnId : ZERO_UUID;
  }

  private committed(changes: ChangeSet, outcome: TransactOutcome | null): void {
    const ev = new CommitEvent(changes);
    this.remember(ev);
    // Monitor updates go out before the record is built and written: a
    // client (ovs-vsctl adding 1,000 ports, bench ovsdb (a)) reads and
    // applies a big update while this builds the record, and its reply,
    // sent once the record is durable, then waits on the client rather
    // than the client on the record. Only replies wait for durability,
    // updates never did. A failure here must not keep the commit from
    // its record.
    try {
      this.announce(this, ev);
    } catch (e) {
      log.err(`${this.name}: ${(e as Error).stack ?? String(e)}`);
    }
    if (this.storage) {
      // Commit order is kept: this runs synchronously in the commit
      // listener. Small records are flushed at the end of this event-loop
      // turn, big ones' fdatasync runs in libuv's thread pool (LogWriter).
      this.commitSeq++;
      try {
        if (this.storage.commitThen !== undefined) this.storage.commitThen(changes, outcome, this);
        else this.storage.commit(changes, outcome).then(this.settledOk, this.settledErr);
      } catch (e) {
        this.settled(e as Error);
      }
    }
  }

  /** The number of the latest commit handed to storage (0: none, nothing to wait for). */
  get lastCommitSeq(): number {
    return this.commitSeq;
  }

  /**
   * Tells `w` when commit `w.seq` is durable (or failed): at once when it
   * is settled already, else once storage says so. Waiters of one commit,
   * and of successive commits, are told in the order they asked.
   */
  whenDurable(w: DurableWaiter): void {
    if (w.seq <= this.settledSeq) w.durable(w.seq >= this.failedSeq ? this.failure : null);
    else this.waiters.push(w);
  }

  /** Storage's word on the oldest commit not settled yet (commits settle in commit order). */
  settled(err: Error | null): void {
    const seq = ++this.settledSeq;
    if (err !== null) {
      log.err(`${this.name}: writing transaction failed (${err.message})`);
      if (this.failure === null) {
        this.failure = err;
        this.failedSeq = seq;
      }
    }
    const ws = this.waiters;
    while (this.waiterHead < ws.length && ws[this.waiterHead]!.seq <= seq) {
      const w = ws[this.waiterHead++]!;
      try {
        w.durable(w.seq >= this.failedSeq ? this.failure : null);
      } catch (e) {
        log.err(`${this.name}: ${(e as Error).stack ?? String(e)}`);
      }
    }
    if (this.waiterHead === ws.length) {
      // pop(), not `length = 0`: setting the length is a call into V8's runtime.
      while (ws.length > 0) ws.pop();
      this.waiterHead = 0;
    }
  }

  /**
   * Keeps `ev` in the history, dropping the oldest commits beyond
   * HISTORY_LIMIT commits or HISTORY_ROWS changed rows (a bulk load must
   * not pin every row change in memory).
   */
  private remember(ev: CommitEvent): void {
    let rows = 0;
    for (const t of ev.changes.values()) rows += t.size;
    this.history.push(ev);
    this.historyRows.push(rows);
    this.historyRowTotal += rows;
    let kept = this.history.length - this.historyStart;
    while (kept > HISTORY_LIMIT || (this.historyRowTotal > HISTORY_ROWS && kept > 1)) {
      this.historyRowTotal -= this.historyRows[this.historyStart]!;
      // Let go of the dropped commit's rows now, not at the next splice.
      this.history[this.historyStart] = DROPPED;
      this.historyStart++;
      kept--;
    }
    if (this.historyStart >= kept && this.historyStart >= 16) {
      this.history = this.history.slice(this.historyStart);
      this.historyRows = this.historyRows.slice(this.historyStart);
      this.historyStart = 0;
    }
  }

  /**
   * The commits made after `txnId`, oldest first, or null when `txnId` is
   * not in the history (then the client needs everything).
   */
  changesSince(txnId: string): ChangeSet[] | null {
    if (txnId === ZERO_UUID) return null;
    if (txnId === this.lastTxnId) return [];
    for (let i = this.history.length - 1; i >= this.historyStart; i--) {
      if (this.history[i]!.givenTxnId === txnId) return this.history.slice(i + 1).map((e) => e.changes);
    }
    return null;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    if (this.storage?.close) await this.storage.close();
  }
}
