/**
 * A standalone OVSDB database file, open for use by a server or a tool.
 *
 * Opening reads the schema and replays every transaction record into an
 * in-memory `Database`. Reading stops at the first record that is torn or
 * corrupt (or that does not make sense as a transaction): that error is
 * logged (as OVS logs it) and, for a writable open, the file is truncated
 * right there so new records never follow garbage. Nothing after a bad
 * record is ever silently accepted.
 *
 * `commit(changes)` appends one record per committed transaction and
 * resolves only once it is on disk (LogWriter's group commit batches the
 * fsyncs of concurrent commits). While open for writing, the file ends
 * with a reserve record (an empty transaction of spaces that commits
 * overwrite, so that their fdatasync need not commit a new file size; see
 * LogWriter): closing cuts it off, and opening a file that still has one
 * (the writer was killed) cuts it off silently.
 *
 * Compaction replaces the file by its schema plus one snapshot record. It
 * runs on demand (`compact()`, `ovsdb-server/compact`) and automatically
 * with OVS's policy (ovsdb/storage.c): no sooner than 10-20 minutes after
 * the last snapshot (or open), then when at least 100 records were logged
 * since and the file exceeds 10 MB and 4 times its size right after the
 * snapshot; or after 24 hours when anything at all was logged.
 */
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import { type ChangeSet, Database, DatabaseSchema, OvsdbError } from "../index.js";
import { vlogModule } from "../../util/vlog.js";
import { changesToRecord, primeRecordCaches, replayRecord, schemaFromRecord, schemaRecord, snapshotRecord } from "./file-txn.js";
import { LogError, detectMagic, encodeRecord, encodeRecordText, scanLog, OVSDB_MAGIC, RAFT_MAGIC, type LogRecord } from "./log.js";
import { LogWriter, isReserveBody, syncDir, type DurableTarget } from "./log-writer.js";
import { lockDb, type DbLock } from "./lockfile.js";

const vlog = vlogModule("ovsdb_file");

/** Thresholds of the automatic compaction policy (OVS's values by default). */
export interface CompactionPolicy {
  /** Minimum time between snapshots (a random part up to the same is added). */
  minIntervalMs: number;
  /** Snapshot anyway after this long if anything was logged. */
  maxIntervalMs: number;
  /** Minimum records logged since the snapshot. */
  minRecords: number;
  /** Minimum file size. */
  minBytes: number;
  /** The file must exceed this many times its size right after the snapshot. */
  growthFactor: number;
}

export const OVS_COMPACTION_POLICY: Readonly<CompactionPolicy> = Object.freeze({
  minIntervalMs: 10 * 60 * 1000,
  maxIntervalMs: 24 * 60 * 60 * 1000,
  minRecords: 100,
  minBytes: 10 * 1024 * 1024,
  growthFactor: 4,
});

export interface OpenOptions {
  /** Open without writing (tools' `query`; no truncation, no commits). */
  readOnly?: boolean;
  /**
   * Read the data with this schema instead of the file's own (ovsdb-tool
   * convert): unknown tables and columns in records are skipped.
   */
  schema?: DatabaseSchema;
  /**
   * What to do with a bad record: "truncate" (servers: log it, keep what came
   * before, cut the file there) or "throw" (tools: fail as ovsdb-tool does).
   * Default: "truncate" when writable, "throw" when read-only.
   */
  onError?: "truncate" | "throw";
  /** Automatic compaction thresholds; `false` disables it. */
  compaction?: Partial<CompactionPolicy> | false;
  /** Clock for the compaction policy (tests). */
  now?: () => number;
  /**
   * A scratch file whose contents are thrown away (the server's start-up
   * warm-up): records are written but never fdatasync'ed. Never for data.
   */
  scratch?: boolean;
}

/** Reads a whole file, with OVS's error for a missing or unreadable one. */
export function readLogFile(path: string): Buffer {
  try {
    return fs.readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    throw new LogError("I/O error", `${path}: open failed (${strerror(err)})`);
  }
}

/** The C library's text for a Node errno error ("No such file or directory"). */
export function strerror(e: NodeJS.ErrnoException): string {
  const byCode: Record<string, string> = {
    ENOENT: "No such file or directory",
    EEXIST: "File exists",
    EACCES: "Permission denied",
    EISDIR: "Is a directory",
    ENOTDIR: "Not a directory",
    ENOSPC: "No space left on device",
    EROFS: "Read-only file system",
  };
  return (e.code && byCode[e.code]) ?? e.message;
}

/**
 * The database held by the bytes of a standalone database file (such as a
 * backup read from standard input): its schema and every record replayed.
 * Throws the first error (LogError or OvsdbError), as OVS's reader does.
 */
export function readDatabaseFromBuffer(buf: Buffer, path: string): { schema: DatabaseSchema; db: Database } {
  const { schema } = readSchemaFromBuffer(buf, path);
  const db = new Database(schema);
  const scan = scanLog(buf, path);
  for (let i = 1; i < scan.records.length; i++) replayRecord(db, scan.records[i]!.json);
  if (scan.error !== null) throw scan.error;
  return { schema, db };
}

/** Parses the schema record of a file's contents (throws LogError/OvsdbError). */
export function readSchemaFromBuffer(buf: Buffer, path: string): { schema: DatabaseSchema; schemaJson: unknown } {
  if (detectMagic(buf, path, [OVSDB_MAGIC, RAFT_MAGIC]) === RAFT_MAGIC) {
    throw new LogError("ovsdb error", `${path}: cannot read clustered database as standalone`);
  }
  const scan = scanLog(buf, path, OVSDB_MAGIC, 1);
  const first = scan.records[0];
  if (!first) {
    if (scan.error) throw scan.error;
    throw new LogError("I/O error", `${path}: database file contains no schema (End of file)`);
  }
  return { schema: schemaFromRecord(first.json, path, (j) => DatabaseSchema.fromJSON(j)), schemaJson: first.json };
}

export class DbFile {
  readonly path: string;
  readonly schema: DatabaseSchema;
  readonly db: Database;
  /** The error that stopped reading (already logged), or null if the file was clean. */
  readonly readError: LogError | OvsdbError | null;
  private writer: LogWriter | null;
  private policy: CompactionPolicy | null;
  private now: () => number;
  /** Records logged since the last snapshot (read at open plus written). */
  private nRecords: number;
  /** File size right after the snapshot record. */
  private baseSize: number;
  private nextSnapshotMin = 0;
  private nextSnapshotMax = 0;
  private compacting: Promise<void> | null = null;
  private closed = false;
  /** The database lock held while open for writing. */
  private lock: DbLock | null = null;

  private constructor(
    path: string,
    schema: DatabaseSchema,
    db: Database,
    readError: LogError | OvsdbError | null,
    writer: LogWriter | null,
    nRecords: number,
    baseSize: number,
    opts: OpenOptions,
  ) {
    this.path = path;
    this.schema = schema;
    this.db = db;
    this.readError = readError;
    this.writer = writer;
    this.nRecords = nRecords;
    this.baseSize = baseSize;
    this.now = opts.now ?? Date.now;
    this.policy = opts.compaction === false ? null : { ...OVS_COMPACTION_POLICY, ...(opts.compaction ?? {}) };
    this.scheduleNextSnapshot();
  }

  /** Opens and replays `path`. See OpenOptions. Throws LogError/OvsdbError. */
  static async open(path: string, opts: OpenOptions = {}): Promise<DbFile> {
    const readOnly = opts.readOnly ?? false;
    const onError = opts.onError ?? (readOnly ? "throw" : "truncate");
    if (!fs.existsSync(path)) readLogFile(path); // OVS's "open failed" error
    const lock = readOnly ? null : lockDb(path);
    try {
      const file = await DbFile.openLocked(path, opts, readOnly, onError);
      file.lock = lock;
      return file;
    } catch (e) {
      lock?.release();
      throw e;
    }
  }

  private static async openLocked(path: string, opts: OpenOptions, readOnly: boolean, onError: "truncate" | "throw"): Promise<DbFile> {
    const buf = readLogFile(path);
    const { schema: fileSchema } = readSchemaFromBuffer(buf, path);
    const schema = opts.schema ?? fileSchema;
    const converting = opts.schema !== undefined;
    const db = new Database(schema);
    primeRecordCaches(schema);
    const scan = scanLog(buf, path);
    let error: LogError | OvsdbError | null = null;
    let goodEnd = scan.records[0]!.end;
    let nRecords = 0;
    let baseSize = goodEnd;
    // A reserve record that a killed server left last (see LogWriter) is
    // not data: a writer cuts it off silently, and writes where it starts.
    let nData = scan.records.length;
    let reserveEnd = -1;
    const last = scan.records[nData - 1]!;
    if (!readOnly && nData > 1 && isReserveRecord(buf, last)) {
      nData--;
      reserveEnd = last.end;
    }
    for (let i = 1; i < nData; i++) {
      const rec = scan.records[i]!;
      try {
        replayRecord(db, rec.json, converting);
      } catch (e) {
        if (!(e instanceof OvsdbError)) throw e;
        error = e;
        break;
      }
      goodEnd = rec.end;
      nRecords++;
      if (i === 1) baseSize = rec.end;
    }
    if (error === null && scan.error !== null) error = scan.error;
    if (error !== null) {
      if (onError === "throw") throw error;
      vlog.err(errorText(error));
    }
    let writer: LogWriter | null = null;
    if (!readOnly) {
      // Bytes after a reserve that replay reached are all that is unusable.
      const unusable = reserveEnd >= 0 && goodEnd === scan.records[nData]!.offset ? reserveEnd : goodEnd;
      if (unusable < buf.length) {
        vlog.warn(`${path}: truncating ${buf.length - unusable} bytes of unusable data at offset ${unusable}`);
        saveDiscarded(path, buf.subarray(unusable));
      }
      writer = await LogWriter.open(path, goodEnd, opts.scratch !== true, true);
    }
    return new DbFile(path, schema, db, error, writer, nRecords, baseSize, opts);
  }

  /**
   * Appends the record of a committed transaction (with the transaction's
   * comment, given as a string or as the engine's TransactOutcome); resolves once it is on
   * disk. A change set that touches nothing persistent writes nothing (but
   * still waits for earlier commits to be durable). Rejects if the file is
   * read-only, closed, or a write failed (after which every commit fails).
   */
  commit(changes: ChangeSet, commentOrOutcome?: string | { comment?: string | undefined } | null): Promise<void> {
    return new Promise((resolve, reject) =>
      this.commitThen(changes, commentOrOutcome, { settled: (err) => (err === null ? resolve() : reject(err)) }),
    );
  }

  /**
   * commit() telling `done` instead of settling a promise (the server's
   * path, once per transaction): `done.settled` is called exactly once, in
   * commit order, when the record is durable or has failed — possibly
   * before this returns.
   */
  commitThen(changes: ChangeSet, commentOrOutcome: string | { comment?: string | undefined } | null | undefined, done: DurableTarget): void {
    if (this.writer === null) {
      done.settled(new Error(`${this.path}: database is read-only`));
      return;
    }
    const comment = typeof commentOrOutcome === "string" ? commentOrOutcome : (commentOrOutcome?.comment ?? undefined);
    const now = this.now();
    const record = changesToRecord(changes, comment, now);
    if (record === null) {
      this.writer.barrierThen(done);
      return;
    }
    this.writer.appendThen(encodeRecordText(record), done);
    this.nRecords++;
    if (this.shouldCompact(now)) {
      void this.compact().catch((e: unknown) => vlog.err(`${this.path}: compaction failed (${(e as Error).message})`));
    }
  }

  /** Size of the file in bytes (including queued records). */
  get size(): number {
    return this.writer?.size ?? 0;
  }

  /** Write statistics (fsyncs, records, bytes, replaces). */
  get stats(): Readonly<LogWriter["stats"]> {
    return this.writer?.stats ?? { fsyncs: 0, records: 0, bytes: 0, replaces: 0 };
  }

  private scheduleNextSnapshot(): void {
    if (!this.policy) return;
    const now = this.now();
    this.nextSnapshotMin = now + this.policy.minIntervalMs + Math.floor(Math.random() * this.policy.minIntervalMs);
    this.nextSnapshotMax = now + this.policy.maxIntervalMs;
  }

  /** OVS's rule for compacting on its own (see the file comment). */
  shouldCompact(now = this.now()): boolean {
    if (!this.policy || this.writer === null || this.compacting !== null) return false;
    if (now < this.nextSnapshotMin) return false;
    if (now < this.nextSnapshotMax) {
      const size = this.writer.size;
      return (
        this.nRecords >= this.policy.minRecords &&
        size > this.policy.minBytes &&
        size / this.policy.growthFactor > this.baseSize
      );
    }
    return this.nRecords > 0;
  }

  /**
   * Rewrites the file as schema + one snapshot of the current contents,
   * atomically (temporary file, fsync, rename). Commits made before the call
   * are in the snapshot; commits made after it go into the new file.
   */
  compact(comment = "compacting database online"): Promise<void> {
    if (this.writer === null) return Promise.reject(new Error(`${this.path}: database is read-only`));
    if (this.compacting) return this.compacting;
    const schemaRec = encodeRecord(schemaRecord(this.schema));
    const snap = encodeRecordText(snapshotRecord(this.db, comment, this.now()));
    const content = Buffer.concat([schemaRec, snap]);
    const before = this.writer.size;
    this.nRecords = 0;
    this.baseSize = content.length;
    const p = this.writer.replace(content).then(
      () => {
        this.compacting = null;
        this.scheduleNextSnapshot();
        vlog.info(`${this.path}: compacted ${before} bytes into ${content.length}`);
      },
      (e: unknown) => {
        this.compacting = null;
        throw e;
      },
    );
    this.compacting = p;
    return p;
  }

  /** Waits for pending commits and closes the file. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    if (this.compacting) await this.compacting.catch(() => undefined);
    await this.writer?.close();
    this.lock?.release();
  }
}

/** True if `rec` (of `buf`) is a reserve record: an empty transaction of spaces then "{}". */
function isReserveRecord(buf: Buffer, rec: LogRecord): boolean {
  const json = rec.json as Record<string, unknown>;
  for (const _ in json) return false;
  const nl = buf.indexOf(0x0a, rec.offset);
  return nl >= 0 && nl < rec.end && isReserveBody(buf.subarray(nl + 1, rec.end));
}

function errorText(e: LogError | OvsdbError): string {
  if (e instanceof LogError) return e.toString();
  return e.details !== undefined ? `${e.tag}: ${e.details}` : e.tag;
}

/**
 * Keeps the bytes cut off a file beside it (`<file>.discarded`), so an
 * operator can inspect what a crash or corruption left behind.
 */
function saveDiscarded(path: string, data: Buffer): void {
  try {
    fs.appendFileSync(`${path}.discarded`, data, { mode: 0o600 });
  } catch {
    /* best effort: the truncation itself has been logged */
  }
}

/**
 * Creates a new database file holding only `schemaJson` (validated), as
 * `ovsdb-tool create` does. Fails if the file exists.
 */
export async function createDbFile(path: string, schemaJson: unknown): Promise<void> {
  const schema = DatabaseSchema.fromJSON(schemaJson);
  await writeNewFile(path, [encodeRecord(schemaRecord(schema))]);
}

/** Writes a new file (fails if it exists), fsyncs it and its directory. */
export async function writeNewFile(path: string, records: Buffer[]): Promise<void> {
  let fh: fsp.FileHandle;
  try {
    fh = await fsp.open(path, "wx", 0o640);
  } catch (e) {
    throw new LogError("I/O error", `${path}: create failed (${strerror(e as NodeJS.ErrnoException)})`);
  }
  try {
    await fh.writeFile(Buffer.concat(records));
    await fh.sync();
  } catch (e) {
    await fh.close().catch(() => undefined);
    await fsp.unlink(path).catch(() => undefined);
    throw new LogError("I/O error", `${path}: write failed (${strerror(e as NodeJS.ErrnoException)})`);
  }
  await fh.close();
  await syncDir(dirOf(path));
}

function dirOf(p: string): string {
  const i = p.lastIndexOf("/");
  return i < 0 ? "." : i === 0 ? "/" : p.slice(0, i);
}
