/**
 * Child process for the crash test: opens the database file given as
 * argv[2] and commits transactions in a loop, several in flight at a time,
 * printing each transaction's id on stdout once `commit` has acknowledged
 * it (i.e. it is on disk). The parent kills it with SIGKILL at a random
 * moment and checks that every printed id survived.
 *
 * Each transaction k inserts a row T{n: k} and adds k to the set column of
 * the single L row, so records hold both inserts and set diffs. Every 40
 * transactions it also compacts the file (while commits keep flowing).
 */
import { openDbFile } from "../../src/ovsdb/storage/index.js";

const INFLIGHT = 4;

async function main(): Promise<void> {
  const path = process.argv[2]!;
  const file = await openDbFile(path, { compaction: false });
  const t = file.db.tables.get("T")!;
  let next = 0;
  for (const row of t.rows.values()) next = Math.max(next, (row.get("n").keys[0] as number) + 1);
  if (file.db.tables.get("L")!.rows.size === 0) {
    const o = file.db.transact([{ op: "insert", table: "L", row: {} }]);
    if (!o.changes) throw new Error(`cannot create L row: ${JSON.stringify(o.results)}`);
    await file.commit(o.changes, o);
  }
  process.stdout.write(`start ${next}\n`);
  for (;;) {
    const batch: Promise<void>[] = [];
    for (let k = 0; k < INFLIGHT; k++) {
      const id = next++;
      const o = file.db.transact([
        { op: "insert", table: "T", row: { n: id } },
        { op: "mutate", table: "L", where: [], mutations: [["s", "insert", ["set", [id]]]] },
        { op: "comment", comment: `txn ${id}` },
      ]);
      if (!o.changes) throw new Error(`transaction ${id} failed: ${JSON.stringify(o.results)}`);
      batch.push(file.commit(o.changes, o).then(() => void process.stdout.write(`${id}\n`)));
      // Compact now and then, so kills also land during compactions.
      if (id % 40 === 39) batch.push(file.compact().then(() => void process.stdout.write("compacted\n")));
    }
    await Promise.all(batch);
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`commit-loop: ${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
