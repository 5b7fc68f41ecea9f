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
 *
 * The reserve (opened with `reserve`: database files). An fdatasync after
 * an append that grows the file must also write the file's new size (the
 * inode, or a journal commit); after a write into bytes the file already
 * has, it writes only the data. A 250-byte write + fdatasync on the
 * development VM's ext4: p50 ~200 -> ~160 µs, CPU ~73 -> ~60 µs (bench
 * ovsdb (b'), 10,000 durable transactions: ~0.97 -> ~0.86 of OVS's time,
 * which appends). So the file is kept
 * RESERVE_BYTES longer than its records, the extra bytes being one more
 * record that OVS's readers accept and replay as an empty transaction:
 *
 *   OVSDB JSON <n> <sha1>\n<n - 3 spaces>{}\n
 *
 * Each commit overwrites the reserve's start with its records followed by
 * a new, shorter reserve header (the spaces after it are already there),
 * in one write; when the records do not fit, the write goes on to a new
 * end RESERVE_BYTES further (the file grows once per ~1,000 small
 * commits). A file that is closed has its reserve cut off, so it is byte
 * for byte what OVS writes; one that was killed ends with the reserve,
 * which DbFile recognises and cuts off when it opens the file again.
 * `size` never counts it. A crash can tear a commit's write as it can tear
 * an append: the damaged reserve then fails its SHA-1 check and is cut off
 * as any torn tail.
 *
 * The direct path (durable files with a reserve; see `writeDirect`). A
 * record written into the page cache and then fdatasync'ed goes through
 * writeback: the write dirties a page (and may wait for the page's previous
 * writeback), fdatasync finds the dirty page, submits it, waits for it,
 * then flushes the disk's cache. Writing the record's block(s) straight to
 * the disk with a descriptor opened O_DIRECT|O_DSYNC does the same work in
 * one system call, without the page cache. Measured on the development VM
 * (ext4 on virtio, 2 shared cores, 3,000 ops into a preallocated file):
 * 250-byte pwrite + fdatasync 148-277 µs/op, CPU 45-82 µs; one aligned
 * 4096-byte pwrite on an O_DIRECT|O_DSYNC descriptor 142-221 µs/op, CPU
 * 38-45 µs (O_DIRECT then fdatasync: the same time, one more call; plain
 * O_DSYNC without O_DIRECT: no better than fdatasync; 512-byte sectors
 * instead of 4096-byte blocks: no different). In the server during bench
 * ovsdb (b') (perf trace): pwritev ~38 µs + fdatasync ~203 µs per commit
 * before, one pwrite ~208 µs after. Two writers in one process committing
 * turn about (so both see the same load): p50 195-258 against 205-270 µs,
 * mean 8-30 µs less. End to end (bench ovsdb (b'), 10,000 transactions)
 * the gain, ~5-8%, was within the noise of the shared VM.
 *
 * O_DIRECT writes whole blocks from block-aligned memory (koffi, loaded
 * at the first write that can take the path, see direct-io.ts), so the writer keeps a mirror of the file's last partial
 * block (the end of the records before `offset`), copies the batch and the
 * reserve's new header after it, pads with the spaces the reserve already
 * has there, and writes from the block's start. It writes only into the
 * reserve's blocks, never over the reserve's "{}\n" tail nor past the end
 * of the file: the blocks are already allocated and written, so O_DSYNC
 * has no metadata to commit (the reason it needs the reserve). Bytes of
 * earlier records in the first block are rewritten with their own values,
 * as page-cache writeback rewrites whole pages anyway, so a torn write
 * exposes nothing more than before. A batch that does not fit goes the
 * page-cache way (growing the reserve), as do big batches, replaces and
 * scratch files; any write but the direct path's marks the mirror stale
 * and the next direct write re-reads the block first. Without koffi, or
 * on a file system that refuses O_DIRECT (at open, or EINVAL at the first
 * write: nothing was written), or with TSOVS_DIRECT_IO=0, the writer
 * silently keeps the page-cache path; the file's bytes are the same
 * either way (test/ovsdb-storage/direct-io.test.ts).
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { objectArray } from "../object-array.js";
import { DIRECT_BLOCK, DIRECT_BUFFER_BYTES, closeDirect, directIoEnabled, openDirect, releaseAlignedBuffer, takeAlignedBuffer } from "./direct-io.js";
import { sha1OfSpacesInto } from "./sha1.js";

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
/** writeDirect's answer when it did not take the write (the ordinary path must). */
const NOT_DIRECT = new Error("not written directly");

/** How far past its records a file with a reserve is made to reach when it has to grow. */
export const RESERVE_BYTES = 256 * 1024;
/** The reserve's body ends so (after spaces). */
const RESERVE_TAIL = Buffer.from("{}\n", "latin1");
const RESERVE_PREFIX = "OVSDB JSON ";
/** Spaces to write a reserve's body from (shared, never written to). */
let spaceBytes = Buffer.alloc(0);
function spaces(n: number): Buffer {
  if (spaceBytes.length < n) spaceBytes = Buffer.alloc(Math.max(n, RESERVE_BYTES), 0x20);
  return spaceBytes.subarray(0, n);
}

/** Decimal digits of a positive integer. */
function digits(n: number): number {
  let d = 1;
  while (n >= 10) {
    n = Math.floor(n / 10);
    d++;
  }
  return d;
}

/**
 * Writes into `out` (at 0) the header of a reserve record filling exactly
 * `room` bytes, and returns its length; 0 when no reserve fits `room`
 * exactly (too small, or a length at a change of digit count).
 */
function reserveHeaderInto(room: number, out: Buffer): number {
  // "OVSDB JSON " + digits + " " + 40 hex + "\n" = 53 + digits.
  for (let d = 1; d <= 9; d++) {
    const body = room - 53 - d;
    if (body < RESERVE_TAIL.length) return 0;
    if (digits(body) !== d) continue;
    let at = out.write(RESERVE_PREFIX, 0, "latin1");
    at += out.write(String(body), at, "latin1");
    out[at++] = 0x20;
    sha1OfSpacesInto(body - RESERVE_TAIL.length, RESERVE_TAIL, out, at);
    at += 40;
    out[at++] = 0x0a;
    return at;
  }
  return 0;
}

/** True if `body` is a reserve record's body (spaces, then "{}\n"). */
export function isReserveBody(body: Buffer): boolean {
  const n = body.length;
  if (n < 3 || body[n - 3] !== 0x7b || body[n - 2] !== 0x7d || body[n - 1] !== 0x0a) return false;
  for (let i = 0; i < n - 3; i++) if (body[i] !== 0x20) return false;
  return true;
}

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
  /** Batches written by the direct path (tests check which path was taken). */
  directWrites = 0;
  /**
   * With a reserve: the file's size (the reserve's end; `offset` when
   * there is none yet), and the end of the reserve's header (the bytes
   * from there to the reserve's last three are spaces).
   */
  private fileEnd: number;
  private reserveHeaderEnd: number;
  /** The reserve header being written (one per writer, reused). */
  private readonly header = Buffer.alloc(64);
  /** The pieces of one write (reused; see objectArray). */
  private readonly pieces: Buffer[] = objectArray();
  /**
   * The direct path (see the file comment): whether it is to be tried, the
   * block-aligned buffer (null until the first write that can take the
   * path: loading koffi costs ~17 ms, not to be spent at start-up), the
   * O_DIRECT|O_DSYNC descriptor, and the file offset of the buffer's first
   * byte when its bytes up to `offset` are the file's (the mirror of the
   * last partial block; -1: stale, re-read before the next direct write).
   */
  private directWanted = false;
  private directBuf: Buffer | null = null;
  private directFd = -1;
  private mirrorStart = -1;

  private constructor(
    readonly path: string,
    private fh: fsp.FileHandle,
    /** Bytes in the file (where the next record goes). */
    public offset: number,
    /** False only for scratch files whose contents are thrown away: no fdatasync. */
    private readonly durable: boolean,
    /** Keep a reserve record at the end (see the file comment). */
    private readonly reserve: boolean,
  ) {
    this.fileEnd = offset;
    this.reserveHeaderEnd = offset;
  }

  /**
   * Opens `file` for appending at `offset`, cutting off anything past it.
   * `durable` false (scratch files only, see the server's warm-up) skips
   * every fdatasync. `reserve` keeps a reserve record at the end (database
   * files; see the file comment).
   */
  static async open(file: string, offset: number, durable = true, reserve = false): Promise<LogWriter> {
    const fh = await fsp.open(file, "r+");
    const st = await fh.stat();
    if (st.size !== offset) {
      await fh.truncate(offset);
      if (durable) await fh.sync();
    }
    const w = new LogWriter(file, fh, offset, durable, reserve);
    w.directWanted = durable && reserve && directIoEnabled();
    return w;
  }

  /** Turns the direct path on if the memory and the file system allow it, else off for good. */
  private startDirect(): void {
    const buf = takeAlignedBuffer();
    const fd = buf === null ? -1 : openDirect(this.path);
    if (fd < 0) {
      if (buf !== null) releaseAlignedBuffer(buf);
      this.directWanted = false;
      return;
    }
    this.directBuf = buf;
    this.directFd = fd;
    this.mirrorStart = -1;
  }

  /** Turns the direct path off for good (refused, or the writer closes). */
  private stopDirect(): void {
    this.directWanted = false;
    if (this.directBuf !== null) releaseAlignedBuffer(this.directBuf);
    this.directBuf = null;
    closeDirect(this.directFd);
    this.directFd = -1;
    this.mirrorStart = -1;
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
      let err = this.directWanted ? this.writeDirect(data) : NOT_DIRECT;
      if (err === NOT_DIRECT) err = this.writeSyncAll(data) ?? (this.durable ? syncData(this.fh.fd) : null);
      if (err !== null) {
        truncateQuietly(this.fh.fd, start);
        this.offset = start;
        this.fileEnd = start;
        this.reserveHeaderEnd = start;
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
              this.fileEnd = start;
              this.reserveHeaderEnd = start;
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
   * whatever part was written and returns the error. With a reserve, the
   * same write renews the reserve after the data (growing the file by
   * RESERVE_BYTES if the data does not fit in it, unless the data is big:
   * its fdatasync then commits the new size anyway).
   */
  private writeSyncAll(data: Buffer): Error | null {
    this.mirrorStart = -1; // The direct path re-reads the last block after this.
    const start = this.offset;
    const end = start + data.length;
    const pieces = this.pieces;
    pieces.push(data);
    let newFileEnd = end;
    let headerEnd = end;
    if (this.reserve) {
      let n = this.fileEnd > end ? reserveHeaderInto(this.fileEnd - end, this.header) : 0;
      if (n > 0) {
        newFileEnd = this.fileEnd;
        pieces.push(this.header.subarray(0, n));
        // Spaces where the old header was, if the new one ends before it did.
        if (end + n < this.reserveHeaderEnd) pieces.push(spaces(this.reserveHeaderEnd - end - n));
      } else if (data.length < SYNC_FLUSH_MAX_BYTES || this.fileEnd > end) {
        newFileEnd = end + RESERVE_BYTES;
        n = reserveHeaderInto(RESERVE_BYTES, this.header);
        if (n === 0) newFileEnd = end + RESERVE_BYTES + 1; // a length at a change of digit count
        if (n === 0) n = reserveHeaderInto(RESERVE_BYTES + 1, this.header);
        pieces.push(this.header.subarray(0, n));
        pieces.push(spaces(newFileEnd - end - n - RESERVE_TAIL.length));
        pieces.push(RESERVE_TAIL);
      }
      headerEnd = end + n;
    }
    let done = 0;
    let err: Error | null = null;
    try {
      if (pieces.length === 1) {
        while (done < data.length) done += fs.writeSync(this.fh.fd, data, done, data.length - done, start + done);
      } else {
        let total = 0;
        for (let i = 0; i < pieces.length; i++) total += pieces[i]!.length;
        done = fs.writevSync(this.fh.fd, pieces, start);
        if (done < total) {
          // Short write (not seen on regular files): the rest, from one buffer.
          const all = Buffer.concat(pieces);
          while (done < all.length) done += fs.writeSync(this.fh.fd, all, done, all.length - done, start + done);
        }
      }
    } catch (e) {
      err = new Error(`${this.path}: write failed (${(e as Error).message})`);
    }
    while (pieces.length > 0) pieces.pop();
    if (err !== null) {
      // Cut off what was written, and the reserve with it.
      if (done > 0 || this.fileEnd > start) truncateQuietly(this.fh.fd, start);
      this.fileEnd = start;
      this.reserveHeaderEnd = start;
      return err;
    }
    this.offset = end;
    this.fileEnd = newFileEnd > headerEnd ? newFileEnd : end;
    this.reserveHeaderEnd = headerEnd;
    return null;
  }

  /**
   * The direct path: writes `data` and the reserve's new header into the
   * reserve through the O_DIRECT|O_DSYNC descriptor, whole blocks from the
   * one `data` starts in, so that it is durable when this returns. Returns
   * NOT_DIRECT, having written nothing, when the write does not fit in the
   * reserve's blocks (the ordinary path then writes it, growing the file)
   * or the file system turns out to refuse O_DIRECT; on failure cuts off
   * what was written and returns the error, as writeSyncAll does.
   */
  private writeDirect(data: Buffer): Error | null {
    const start = this.offset;
    const end = start + data.length;
    if (end >= this.fileEnd) return NOT_DIRECT;
    const n = reserveHeaderInto(this.fileEnd - end, this.header);
    if (n === 0) return NOT_DIRECT;
    const blockStart = start - (start % DIRECT_BLOCK);
    // Cover the old header too, should the new one end before it did.
    const covered = end + n > this.reserveHeaderEnd ? end + n : this.reserveHeaderEnd;
    const writeEnd = covered + ((DIRECT_BLOCK - (covered % DIRECT_BLOCK)) % DIRECT_BLOCK);
    // Whole blocks of spaces only: never the reserve's tail, never past the end.
    if (writeEnd > this.fileEnd - RESERVE_TAIL.length || writeEnd - blockStart > DIRECT_BUFFER_BYTES) return NOT_DIRECT;
    if (this.directBuf === null) {
      this.startDirect();
      if (this.directBuf === null) return NOT_DIRECT;
    }
    const buf = this.directBuf;
    if (this.mirrorStart !== blockStart && !this.loadMirror(buf, blockStart, start)) return NOT_DIRECT;
    data.copy(buf, start - blockStart);
    this.header.copy(buf, end - blockStart, 0, n);
    buf.fill(0x20, end + n - blockStart, writeEnd - blockStart);
    const length = writeEnd - blockStart;
    let err: Error | null = null;
    try {
      const written = fs.writeSync(this.directFd, buf, 0, length, blockStart);
      if (written !== length) err = new Error(`${this.path}: write failed (short write)`);
    } catch (e) {
      // A file system that refuses O_DIRECT may say so only now, having
      // written nothing: go on without it.
      if ((e as NodeJS.ErrnoException).code === "EINVAL" && this.directWrites === 0) {
        this.stopDirect();
        return NOT_DIRECT;
      }
      err = new Error(`${this.path}: write failed (${(e as Error).message})`);
    }
    if (err !== null) {
      // Cut off what was written, and the reserve with it.
      this.mirrorStart = -1;
      truncateQuietly(this.fh.fd, start);
      this.fileEnd = start;
      this.reserveHeaderEnd = start;
      return err;
    }
    this.directWrites++;
    this.offset = end;
    this.reserveHeaderEnd = end + n;
    // The new last partial block, at the buffer's start for the next write.
    const endBlock = end - (end % DIRECT_BLOCK);
    if (endBlock !== blockStart) buf.copyWithin(0, endBlock - blockStart, end - blockStart);
    this.mirrorStart = endBlock;
    return null;
  }

  /** Reads the file's bytes [blockStart, start) into `buf` (the mirror); false on failure. */
  private loadMirror(buf: Buffer, blockStart: number, start: number): boolean {
    this.mirrorStart = -1;
    const want = start - blockStart;
    let got = 0;
    try {
      while (got < want) {
        const r = fs.readSync(this.fh.fd, buf, got, want - got, blockStart + got);
        if (r === 0) return false;
        got += r;
      }
    } catch {
      return false;
    }
    this.mirrorStart = blockStart;
    return true;
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
    if (this.directBuf !== null) {
      // The direct descriptor still writes the old file.
      closeDirect(this.directFd);
      this.directFd = openDirect(this.path);
      if (this.directFd < 0) this.stopDirect();
    }
    this.mirrorStart = -1;
    this.offset = content.length;
    this.fileEnd = content.length;
    this.reserveHeaderEnd = content.length;
    this.stats.replaces++;
  }

  private fail(e: Error, batch: Pending[]): void {
    this.failed = e;
    this.cancelFlush();
    this.queuedBytes = 0;
    for (const p of batch) p.done.settled(e);
    for (const p of this.queue.splice(0)) p.done.settled(e);
  }

  /** Waits for queued operations, cuts off the reserve, then closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    if (!this.failed) await this.barrier().catch(() => undefined);
    this.closed = true;
    if (this.fileEnd > this.offset) {
      try {
        await this.fh.truncate(this.offset);
        if (this.durable) await this.fh.datasync();
      } catch {
        /* the reserve stays: a valid (empty) record, cut off at the next open */
      }
      this.fileEnd = this.offset;
    }
    this.stopDirect();
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
