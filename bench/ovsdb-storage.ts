/**
 * Durable commits to a standalone database file: 10,000 small transactions
 * committed one after another (each awaited: one fsync each), then 10,000
 * committed concurrently (group commit shares fsyncs), then reopening
 * (replay) and compaction of the result.
 *
 *   npm run bench -- ovsdb-storage [N]
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { createDbFile, openDbFile, type DbFile } from "../src/ovsdb/storage/index.js";

const N = Number(process.argv[2] ?? 10_000);
const SCHEMA = {
  name: "B",
  tables: { T: { columns: { n: { type: "integer" }, s: { type: { key: "string", value: "string", min: 0, max: "unlimited" } } } } },
};

function txn(file: DbFile, i: number): Promise<void> {
  const o = file.db.transact([{ op: "insert", table: "T", row: { n: i, s: ["map", [["k", String(i)]]] } }]);
  if (!o.changes) throw new Error(JSON.stringify(o.results));
  return file.commit(o.changes, o);
}

async function main(): Promise<void> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "tsovs-bench-storage-"));
  try {
    const db = path.join(dir, "b.db");
    await createDbFile(db, SCHEMA);
    let file = await openDbFile(db, { compaction: false });
    let t0 = performance.now();
    for (let i = 0; i < N; i++) await txn(file, i);
    const sequentialMs = performance.now() - t0;
    const sequentialFsyncs = file.stats.fsyncs;
    t0 = performance.now();
    await Promise.all(Array.from({ length: N }, (_, i) => txn(file, N + i)));
    const concurrentMs = performance.now() - t0;
    const concurrentFsyncs = file.stats.fsyncs - sequentialFsyncs;
    await file.close();
    const bytes = fs.statSync(db).size;
    t0 = performance.now();
    file = await openDbFile(db, { compaction: false });
    const replayMs = performance.now() - t0;
    t0 = performance.now();
    await file.compact();
    const compactMs = performance.now() - t0;
    const compactedBytes = fs.statSync(db).size;
    await file.close();
    const r = {
      bench: "ovsdb-storage",
      transactions: N,
      sequential_txn_per_s: Math.round((N / sequentialMs) * 1000),
      sequential_us_per_txn: Math.round((sequentialMs * 1000) / N),
      sequential_fsyncs: sequentialFsyncs,
      concurrent_txn_per_s: Math.round((N / concurrentMs) * 1000),
      concurrent_fsyncs: concurrentFsyncs,
      file_bytes: bytes,
      replay_ms: Math.round(replayMs),
      compact_ms: Math.round(compactMs),
      compacted_bytes: compactedBytes,
    };
    console.log(`sequential: ${r.sequential_txn_per_s} txn/s, concurrent (group commit): ${r.concurrent_txn_per_s} txn/s with ${concurrentFsyncs} fsyncs`);
    console.log(JSON.stringify(r));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

await main();
