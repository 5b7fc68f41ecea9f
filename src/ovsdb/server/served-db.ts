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
  /** Rewrites the file to hold only the current contents (ovsdb-server/compact). */
  compact?(): Promise<void>;
  /** Flushes queued records and closes the file. */
  close?(): Promise<void>;
  /** The file name, for messages. */
  readonly path?: string;
}

export interface CommitEvent {
  txnId: string;
  changes: ChangeSet;
}

/** How many recent commits are kept for `monitor_cond_since`. */
export const HISTORY_LIMIT = 100;
/** ...and at most this many changed rows in all (the newest commit is always kept). */
export const HISTORY_ROWS = 10_000;

export class ServedDb {
  /** The id of the latest commit (all zeros before the first). */
  lastTxnId = ZERO_UUID;
  /** Resolves when the latest commit is on disk. */
  lastDurable: Promise<void> = Promise.resolve();
  private readonly history: CommitEvent[] = [];
  private readonly historyRows: number[] = [];
  private historyRowTotal = 0;
  private unsubscribe: () => void;

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

  private committed(changes: ChangeSet, outcome: TransactOutcome | null): void {
    const ev: CommitEvent = { txnId: randomUUID(), changes };
    if (this.storage) {
      // The record is built and written before the monitor updates are
      // rendered: a big one's fdatasync (in libuv's thread pool) then runs
      // on the other core while this one renders updates (one ovs-vsctl
      // transaction adding 1,000 ports, bench ovsdb (a), waits for the
      // disk ~10 ms less); small ones are flushed at the end of this
      // event-loop turn (see LogWriter). Commit order is kept: this runs
      // synchronously in the commit listener.
      let p: Promise<void>;
      try {
        p = this.storage.commit(changes, outcome);
      } catch (e) {
        p = Promise.reject(e as Error);
      }
      p.catch((e: Error) => log.err(`${this.name}: writing transaction failed (${e.message})`));
      this.lastDurable = p;
    }
    this.lastTxnId = ev.txnId;
    this.remember(ev);
    this.announce(this, ev);
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
    while (this.history.length > HISTORY_LIMIT || (this.historyRowTotal > HISTORY_ROWS && this.history.length > 1)) {
      this.history.shift();
      this.historyRowTotal -= this.historyRows.shift()!;
    }
  }

  /**
   * The commits made after `txnId`, oldest first, or null when `txnId` is
   * not in the history (then the client needs everything).
   */
  changesSince(txnId: string): ChangeSet[] | null {
    if (txnId === ZERO_UUID) return null;
    if (txnId === this.lastTxnId) return [];
    for (let i = this.history.length - 1; i >= 0; i--) {
      if (this.history[i]!.txnId === txnId) return this.history.slice(i + 1).map((e) => e.changes);
    }
    return null;
  }

  async close(): Promise<void> {
    this.unsubscribe();
    if (this.storage?.close) await this.storage.close();
  }
}
