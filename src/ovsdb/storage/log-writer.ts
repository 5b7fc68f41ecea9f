/**
 * Appending records to a log durably, with group commit.
 *
 * `append(record)` queues the encoded record and resolves once it is on
 * disk (written and fdatasync'ed). Only one write+fdatasync runs at a time;
 * records queued while it runs, or during the same event-loop turn, are
 * written together and share one fdatasync, so many small transactions
 * cost one flush per batch rather than one each, yet none is acknowledged
 * before its bytes are durable. Small batches are flushed synchronously at
 * the end of the turn, big ones in the thread pool (see `flushNow`).
 *
 * `replace(content)` swaps the whole file for new content atomically
 * (write a temporary file beside it, fsync, rename over, fsync the
 * directory): used by compaction and conversion. It runs in queue order, so
 * records appended before it were already written to the old file and
 * records appended after it go to the new one.
 *
 * A failed write truncates the partial bytes away and fails that batch and
 * every later operation: the file is never left with a record that was not
 * acknowledged followed by ones that were.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { objectArray } from "../object-array.js";

/**
 * Queued bytes up to which records are flushed synchronously at the end of
 * the event-loop turn; above it the fdatasync runs in the thread pool.
 */
export const SYNC_FLUSH_MAX_BYTES = 32 * 1024;

/**
 * Told once an operation is durable (null) or has failed (the error). An
 * object with a method rather than a function: the server passes the same
 * kind of object for every database, so the optimized flush code, warmed
 * on the start-up warm-up's database, still fits the real one (a
 * different closure per database was a "wrong call target" for it).
 */
export interface DurableTarget {
  settled(err: Error | null): void;
}

interface Pending {
  kind: "append" | "replace" | "barrier";
  data: Buffer;
  done: DurableTarget;
}

const EMPTY = Buffer.alloc(0);

/** A DurableTarget settling a promise. */
class PromiseTarget implements DurableTarget {
  constructor(
    private readonly resolve: () => void,
    private readonly reject: (e: Error) => void,
  ) {}

  settled(err: Error | null): void {
    if (err === null) this.resolve();
    else this.reject(err);
  }
}

export class LogWriter {
  private queue: Pending[] = objectArray();
  /** Bytes of the queued appends and replaces. */
  private queuedBytes = 0;
  /** An asynchronous step (thread-pool fdatasync, replace) is in progress. */
  private running = false;
  /** The end-of-turn flush of small records, when scheduled. */
  private flushTimer: NodeJS.Immediate | null = null;
  private failed: Error | null = null;
  private closed = false;
  /** Statistics for tests and `memory/show`-like output. */
  readonly stats = { fsyncs: 0, records: 0, bytes: 0, replaces: 0 };

  private constructor(
    readonly path: string,
    private fh: fsp.FileHandle,
    /** Bytes in the file (where the next record goes). */
    public offset: number,
    /** False only for scratch files whose contents are thrown away: no fdatasync. */
    private readonly durable: boolean,
  ) {}

  /**
   * Opens `file` for appending at `offset`, cutting off anything past it.
   * `durable` false (scratch files only, see the server's warm-up) skips
   * every fdatasync.
   */
  static async open(file: string, offset: number, durable = true): Promise<LogWriter> {
    const fh = await fsp.open(file, "r+");
    const st = await fh.stat();
    if (st.size !== offset) {
      await fh.truncate(offset);
      if (durable) await fh.sync();
    }
    return new LogWriter(file, fh, offset, durable);
  }

  /** Bytes written so far (the file's size). */
  get size(): number {
    return this.offset;
  }

  append(data: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue("append", data, new PromiseTarget(resolve, reject)));
  }

  /**
   * append() telling `done` instead of settling a promise: the server's
   * commit path (one per transaction), where a promise and its reactions
   * cost more. `done.settled` is called exactly once, in append order,
   * possibly before this returns (a writer that already failed).
   */
  appendThen(data: Buffer, done: DurableTarget): void {
    this.enqueue("append", data, done);
  }

  /** Resolves once every operation queued before it is durable. */
  barrier(): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue("barrier", EMPTY, new PromiseTarget(resolve, reject)));
  }

  /** barrier() with a callback (see appendThen). */
  barrierThen(done: DurableTarget): void {
    this.enqueue("barrier", EMPTY, done);
  }

  replace(content: Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.enqueue("replace", content, new PromiseTarget(resolve, reject)));
  }

  private enqueue(kind: Pending["kind"], data: Buffer, done: DurableTarget): void {
    if (this.failed) {
      done.settled(this.failed);
      return;
    }
    if (this.closed) {
      done.settled(new Error(`${this.path}: log is closed`));
      return;
    }
    this.queue.push({ kind, data, done });
    this.queuedBytes += data.length;
    if (this.running) return; // The running drain takes it.
    if (kind === "replace" || this.queuedBytes >= SYNC_FLUSH_MAX_BYTES) {
      this.cancelFlush();
      void this.drain();
    } else if (this.flushTimer === null) {
      this.flushTimer = setImmediate(LogWriter.flushImmediate, this);
    }
  }

  private cancelFlush(): void {
    if (this.flushTimer !== null) {
      clearImmediate(this.flushTimer);
      this.flushTimer = null;
    }
  }

  /**
   * The end-of-turn flush of small records: every append and barrier
   * queued during this event-loop turn is written and fdatasync'ed right
   * here, synchronously, and resolved (group commit per turn).
   *
   * Why synchronously: a small record's fdatasync handed to libuv's thread
   * pool costs a thread wake-up, a completion event back to the loop and
   * a promise step. bench/ovsdb-fsync.ts on the 2-core development VM:
   * 126 µs of CPU per call here against 230 µs in the thread pool, and a
   * lower latency floor (p10 221 µs against 286 µs). Bench ovsdb (b')'s
   * 10,000 durable transactions on tmpfs, where the flush itself costs
   * nothing: 387 -> 248 µs and 235 -> 171 µs of server CPU per transaction
   * (OVS: 220 µs). A commit's
   * reply waits for its fdatasync either way; the loop blocks only for
   * small records, once per turn, after every request read in that turn
   * has been handled, as OVS's own server blocks on a durable commit.
   * Big records (bench ovsdb (a)) keep the asynchronous path, so that
   * their flush overlaps the rendering of monitor updates.
   */
  /**
   * The immediate's callback: one function for every writer, so that the
   * optimized event loop code calling it is not thrown away when another
   * writer's flush comes (the server's start-up warm-up has its own).
   */
  private static flushImmediate(w: LogWriter): void {
    w.flushNow();
  }

  private flushNow(): void {
    this.flushTimer = null;
    if (this.running || this.queue.length === 0) return;
    if (this.queue[0]!.kind === "replace" || this.queuedBytes >= SYNC_FLUSH_MAX_BYTES) {
      void this.drain();
      return;
    }
    let batch: Pending[];
    if (!hasReplace(this.queue)) {
      // The usual case: the whole queue is the batch.
      batch = this.queue;
      this.queue = [];
    } else {
      batch = [];
      while (this.queue.length > 0 && (this.queue[0]!.kind as Pending["kind"]) !== "replace") batch.push(this.queue.shift()!);
    }
    const data = this.takeAppends(batch);
    if (data !== null) {
      const start = this.offset;
      const err = this.writeSyncAll(data) ?? (this.durable ? syncData(this.fh.fd) : null);
      if (err !== null) {
        truncateQuietly(this.fh.fd, start);
        this.offset = start;
        this.fail(err, batch);
        return;
      }
    }
    for (const p of batch) p.done.settled(null);
    // A replace queued behind the batch runs now, asynchronously.
    if (this.queue.length > 0) void this.drain();
  }

  /** The bytes of the appends in `batch` (null: none), counted in the statistics. */
  private takeAppends(batch: Pending[]): Buffer | null {
    let n = 0;
    let bytes = 0;
    let only: Buffer | null = null;
    for (const p of batch) {
      this.queuedBytes -= p.data.length;
      if (p.kind !== "append") continue;
      n++;
      bytes += p.data.length;
      only = p.data;
    }
    if (n === 0) return null;
    this.stats.fsyncs++;
    this.stats.records += n;
    this.stats.bytes += bytes;
    if (n === 1) return only;
    const bufs: Buffer[] = [];
    for (const p of batch) if (p.kind === "append") bufs.push(p.data);
    return Buffer.concat(bufs, bytes);
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) {
        if (this.queue[0]!.kind === "replace") {
          const op = this.queue.shift()!;
          this.queuedBytes -= op.data.length;
          try {
            await this.doReplace(op.data);
            op.done.settled(null);
          } catch (e) {
            this.fail(e as Error, [op]);
          }
          continue;
        }
        // Take every append/barrier up to the next replace as one batch.
        const batch: Pending[] = [];
        while (this.queue.length > 0 && (this.queue[0]!.kind as Pending["kind"]) !== "replace") batch.push(this.queue.shift()!);
        const data = this.takeAppends(batch);
        try {
          if (data !== null) {
            // The write and the start of the fdatasync happen in the same
            // synchronous step as the append() that woke an idle writer:
            // the disk flush then runs in the thread pool while the caller
            // goes on (the server renders monitor updates meanwhile).
            const start = this.offset;
            const err = this.writeSyncAll(data);
            if (err !== null) throw err;
            if (this.durable) await fdatasync(this.fh.fd).catch(async (e: Error) => {
              // Remove whatever part of the batch reached the file.
              await this.fh.truncate(start).catch(() => undefined);
              this.offset = start;
              throw e;
            });
          }
          for (const p of batch) p.done.settled(null);
        } catch (e) {
          this.fail(e as Error, batch);
        }
      }
    } finally {
      this.running = false;
    }
  }

  /**
   * Writes `data` at the end of the file (into the page cache: ~10 µs for a
   * small record, less than a thread-pool round trip); on failure cuts off
   * whatever part was written and returns the error.
   */
  private writeSyncAll(data: Buffer): Error | null {
    const start = this.offset;
    let done = 0;
    try {
      while (done < data.length) {
        done += fs.writeSync(this.fh.fd, data, done, data.length - done, start + done);
      }
    } catch (e) {
      if (done > 0) truncateQuietly(this.fh.fd, start);
      return new Error(`${this.path}: write failed (${(e as Error).message})`);
    }
    this.offset = start + data.length;
    return null;
  }

  private async doReplace(content: Buffer): Promise<void> {
    const tmp = `${this.path}.tmp`;
    const fh = await fsp.open(tmp, "w", 0o640);
    try {
      let done = 0;
      while (done < content.length) {
        const { bytesWritten } = await fh.write(content, done, content.length - done, done);
        done += bytesWritten;
      }
      await fh.sync();
    } catch (e) {
      await fh.close().catch(() => undefined);
      await fsp.unlink(tmp).catch(() => undefined);
      throw e;
    }
    // Keep the original file's permissions on the replacement.
    try {
      const st = await this.fh.stat();
      await fh.chmod(st.mode & 0o7777);
    } catch {
      /* best effort */
    }
    await fh.close();
    await fsp.rename(tmp, this.path);
    await syncDir(path.dirname(this.path));
    await this.fh.close();
    this.fh = await fsp.open(this.path, "r+");
    this.offset = content.length;
    this.stats.replaces++;
  }

  private fail(e: Error, batch: Pending[]): void {
    this.failed = e;
    this.cancelFlush();
    this.queuedBytes = 0;
    for (const p of batch) p.done.settled(e);
    for (const p of this.queue.splice(0)) p.done.settled(e);
  }

  /** Waits for queued operations, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.barrier().catch(() => undefined);
    this.closed = true;
    await this.fh.close().catch(() => undefined);
  }
}

function hasReplace(queue: Pending[]): boolean {
  for (let i = 0; i < queue.length; i++) if (queue[i]!.kind === "replace") return true;
  return false;
}

/**
 * fdatasync covers the data and the file size, all that recovery needs,
 * and skips the time stamps a full fsync also flushes.
 */
function fdatasync(fd: number): Promise<void> {
  return new Promise((resolve, reject) => fs.fdatasync(fd, (e) => (e ? reject(e) : resolve())));
}

/** fdatasyncSync, returning its error (as the asynchronous path reports it) instead of throwing. */
function syncData(fd: number): Error | null {
  try {
    fs.fdatasyncSync(fd);
    return null;
  } catch (e) {
    return e as Error;
  }
}

function truncateQuietly(fd: number, size: number): void {
  try {
    fs.ftruncateSync(fd, size);
  } catch {
    /* the batch fails anyway, and so does every later one */
  }
}

/** fsync a directory so a rename or create in it is durable. */
export async function syncDir(dir: string): Promise<void> {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch {
    /* some file systems refuse fsync on directories */
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}
