/**
 * Durable storage for OVSDB: the standalone database file format of OVS 3.1
 * (compatible both ways with OVS's ovsdb-tool and ovsdb-server).
 *
 * For a server:
 *
 *   const file = await openDbFile(path);          // replays the log
 *   // file.schema, file.db (a Database holding the file's contents)
 *   const outcome = file.db.transact(ops);
 *   if (outcome.changes) await file.commit(outcome.changes, outcome.comment);
 *   // ...reply to the client only now: the transaction is on disk.
 *   await file.compact();                           // ovsdb-server/compact
 *   await file.close();
 *
 * `commit` must be called in commit order (synchronously after `transact`
 * returns, before the next transaction), because each record is built from
 * the change set at call time; it resolves after fsync, batching the fsyncs
 * of commits that arrive while one is in flight. Automatic compaction
 * follows OVS's policy (see db-file.ts). Opening a file with a torn or
 * corrupt tail logs the error, keeps every good record before it and
 * truncates the rest (kept in `<file>.discarded`); `file.readError` says
 * what was found.
 */
export {
  DbFile,
  createDbFile,
  writeNewFile,
  readLogFile,
  readSchemaFromBuffer,
  readDatabaseFromBuffer,
  strerror,
  OVS_COMPACTION_POLICY,
  type CompactionPolicy,
  type OpenOptions,
} from "./db-file.js";
export { LogError, scanLog, encodeRecord, encodeRecordText, detectMagic, sha1Hex, OVSDB_MAGIC, RAFT_MAGIC, type LogRecord, type LogScan } from "./log.js";
export { changesToRecord, snapshotRecord, schemaRecord, checkRecord, replayRecord, type CheckedRecord } from "./file-txn.js";
export { datumDiff, applyDatumDiff, isDiffColumn } from "./datum-diff.js";
export { shashOrder, toShashOrder, ovsJsonString, ovsHashString } from "../hash-order.js";
export { ovsJsonError, parseOvsJson } from "./ovs-json.js";
export { lockDb, lockFilePath, type DbLock } from "./lockfile.js";
export type { DurableTarget } from "./log-writer.js";

import { DbFile, type OpenOptions } from "./db-file.js";

/** Opens a database file and replays it (see DbFile.open). */
export function openDbFile(path: string, opts: OpenOptions = {}): Promise<DbFile> {
  return DbFile.open(path, opts);
}
