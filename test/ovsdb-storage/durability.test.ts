/**
 * Durability of database files: a child committing transactions is killed
 * with SIGKILL at random moments, and every transaction it saw acknowledged
 * must be there after reopening (and nothing out of order); torn and
 * corrupt tails are detected, logged, truncated and never accepted; group
 * commit shares fsyncs; compaction keeps the contents.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { createDbFile, encodeRecord, openDbFile, type DbFile } from "../../src/ovsdb/storage/index.js";
import { REPO_ROOT, tempDir } from "../util/ovs.js";

const SCHEMA = {
  name: "C",
  version: "1.0.0",
  tables: {
    T: { columns: { n: { type: "integer" } }, isRoot: true },
    L: { columns: { s: { type: { key: "integer", min: 0, max: "unlimited" } } }, isRoot: true },
  },
};
const CHILD = path.join(REPO_ROOT, "dist", "test", "ovsdb-storage", "commit-loop.js");

function ids(file: DbFile): number[] {
  return [...file.db.tables.get("T")!.rows.values()].map((r) => r.get("n").keys[0] as number).sort((a, b) => a - b);
}

function lSet(file: DbFile): number[] {
  const rows = [...file.db.tables.get("L")!.rows.values()];
  return rows.length === 0 ? [] : (rows[0]!.get("s").keys as number[]).slice().sort((a, b) => a - b);
}

async function commitN(file: DbFile, from: number, n: number): Promise<void> {
  const ps: Promise<void>[] = [];
  for (let i = from; i < from + n; i++) {
    const o = file.db.transact([{ op: "insert", table: "T", row: { n: i } }]);
    assert.ok(o.changes, JSON.stringify(o.results));
    ps.push(file.commit(o.changes, o));
  }
  await Promise.all(ps);
}

/** Runs the child until killed after `delayMs`; returns the acknowledged ids. */
function runAndKill(dbPath: string, delayMs: number): Promise<{ acked: number[]; compactions: number; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CHILD, dbPath], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    let timer: NodeJS.Timeout | null = null;
    const guard = setTimeout(() => child.kill("SIGKILL"), 10_000);
    child.stdout.on("data", (d: Buffer) => {
      out += d.toString();
      if (timer === null && out.includes("start")) timer = setTimeout(() => child.kill("SIGKILL"), delayMs);
    });
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    child.on("error", reject);
    child.on("close", () => {
      clearTimeout(guard);
      if (timer) clearTimeout(timer);
      const acked = out
        .split("\n")
        .filter((l) => /^\d+$/.test(l))
        .map(Number);
      resolve({ acked, compactions: out.split("\n").filter((l) => l === "compacted").length, stderr: err });
    });
  });
}

test("SIGKILL at random moments never loses an acknowledged transaction", { timeout: 90_000 }, async () => {
  const dir = tempDir("tsovs-crash-");
  const db = path.join(dir, "c.db");
  await createDbFile(db, SCHEMA);
  const iterations = Number(process.env["TSOVS_CRASH_ITERATIONS"] ?? 24);
  const everAcked = new Set<number>();
  let torn = 0;
  let compactions = 0;
  try {
    for (let it = 0; it < iterations; it++) {
      const delay = 30 + Math.floor(Math.random() * 270);
      const { acked, compactions: c, stderr } = await runAndKill(db, delay);
      compactions += c;
      assert.equal(stderr, "", `child failed: ${stderr}`);
      for (const a of acked) everAcked.add(a);
      // A kill cannot tear a write the kernel already took, but a power
      // failure can: every third time, leave a torn, unacknowledged record
      // (a random prefix of a real one, or garbage) at the end of the file.
      if (it % 3 === 1) {
        const rec = encodeRecord({ T: { "00000000-0000-4000-8000-000000000001": { n: -1 } }, _date: 0 });
        const torn = it % 2 === 0 ? rec.subarray(0, 1 + Math.floor(Math.random() * (rec.length - 2))) : Buffer.from("\u0000\u0007garbage");
        fs.appendFileSync(db, torn);
      }
      const file = await openDbFile(db, { compaction: false });
      if (file.readError) torn++;
      const present = ids(file);
      const presentSet = new Set(present);
      for (const a of everAcked) assert.ok(presentSet.has(a), `iteration ${it}: acknowledged transaction ${a} lost`);
      // Commits are written in order: what survived is a prefix 0..max.
      present.forEach((n, i) => assert.equal(n, i, `iteration ${it}: gap in surviving transactions`));
      assert.deepEqual(lSet(file), present, "set diffs replayed to the same contents");
      await file.close();
    }
    assert.ok(everAcked.size > 0, "no transaction was acknowledged at all");
    assert.ok(torn >= Math.floor(iterations / 3), `torn tails not all detected (${torn})`);
    process.stdout.write(`# ${iterations} kills, ${everAcked.size} acknowledged transactions, ${compactions} compactions, ${torn} torn tails truncated\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a torn last record is detected, logged and truncated, never accepted", async () => {
  const dir = tempDir("tsovs-torn-");
  try {
    const db = path.join(dir, "t.db");
    await createDbFile(db, SCHEMA);
    let f = await openDbFile(db, { compaction: false });
    await commitN(f, 0, 10);
    await f.close();
    const full = fs.readFileSync(db);
    const lastStart = full.lastIndexOf(Buffer.from("OVSDB JSON"));
    for (const cut of [lastStart + 3, lastStart + 20, lastStart + 60, full.length - 2, full.length - 1]) {
      fs.writeFileSync(db, full.subarray(0, cut));
      f = await openDbFile(db, { compaction: false });
      assert.ok(f.readError, `cut at ${cut}: damage not reported`);
      assert.deepEqual(ids(f), [0, 1, 2, 3, 4, 5, 6, 7, 8]);
      assert.equal(fs.statSync(db).size, lastStart, "file truncated at the last good record");
      assert.ok(fs.existsSync(`${db}.discarded`), "discarded bytes kept aside");
      await commitN(f, 9, 1);
      await f.close();
      f = await openDbFile(db, { compaction: false });
      assert.equal(f.readError, null);
      assert.deepEqual(ids(f), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
      await f.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a corrupt record in the middle stops replay there (bad SHA-1, bad length, bad JSON)", async () => {
  const dir = tempDir("tsovs-corrupt-");
  try {
    const db = path.join(dir, "c.db");
    await createDbFile(db, SCHEMA);
    let f = await openDbFile(db, { compaction: false });
    await commitN(f, 0, 6);
    await f.close();
    const full = fs.readFileSync(db).toString("latin1");
    const starts: number[] = [];
    for (let i = full.indexOf("OVSDB JSON"); i >= 0; i = full.indexOf("OVSDB JSON", i + 1)) starts.push(i);
    // Record 4 (transaction n=3) is damaged three ways.
    const r = starts[4]!;
    const header = full.slice(r, full.indexOf("\n", r));
    const [, , len, sha] = header.split(" ") as [string, string, string, string];
    const variants: [string, string, RegExp][] = [
      ["sha1", full.slice(0, r) + header.replace(sha, "0".repeat(40)) + full.slice(r + header.length), /have SHA-1 hash/],
      ["length", full.slice(0, r) + header.replace(` ${len} `, ` ${Number(len) + 7} `) + full.slice(r + header.length), /SHA-1|parse error|error reading/],
      ["json", full.slice(0, r + header.length + 1) + "#" + full.slice(r + header.length + 2), /have SHA-1 hash/],
    ];
    for (const [what, text, re] of variants) {
      fs.writeFileSync(db, Buffer.from(text, "latin1"));
      await assert.rejects(openDbFile(db, { readOnly: true }), re, `${what}: tools refuse the damaged file`);
      f = await openDbFile(db, { compaction: false });
      assert.ok(f.readError, `${what}: not detected`);
      assert.match(String(f.readError), re);
      assert.deepEqual(ids(f), [0, 1, 2], `${what}: only the records before the damage are used`);
      await f.close();
      assert.equal(fs.statSync(db).size, starts[4], `${what}: truncated before the damaged record`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("group commit: concurrent commits share fsyncs, each acknowledged after its record", async () => {
  const dir = tempDir("tsovs-group-");
  try {
    const db = path.join(dir, "g.db");
    await createDbFile(db, SCHEMA);
    const f = await openDbFile(db, { compaction: false });
    const t0 = Date.now();
    await commitN(f, 0, 2000);
    const ms = Date.now() - t0;
    assert.ok(f.stats.fsyncs < 200, `${f.stats.fsyncs} fsyncs for 2000 commits`);
    assert.equal(f.stats.records, 2000);
    await f.close();
    const g = await openDbFile(db, { readOnly: true });
    assert.equal(ids(g).length, 2000);
    await g.close();
    process.stdout.write(`# 2000 concurrent commits in ${ms} ms\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("compaction rewrites the file as one snapshot, atomically, keeping contents and later commits", async () => {
  const dir = tempDir("tsovs-compact-");
  try {
    const db = path.join(dir, "k.db");
    await createDbFile(db, SCHEMA);
    let now = 0;
    const f = await openDbFile(db, { now: () => now, compaction: { minRecords: 100, minBytes: 20_000, growthFactor: 4, minIntervalMs: 1000 } });
    await commitN(f, 0, 50);
    const before = fs.statSync(db).size;
    // Too early: nothing happens.
    assert.equal(f.shouldCompact(), false);
    now = 10_000;
    await commitN(f, 50, 200);
    await f.compact(); // waits for an automatic compaction if one started
    assert.ok(f.stats.replaces >= 1);
    const after = fs.statSync(db).size;
    assert.ok(after < before * 5, `compacted size ${after}`);
    await commitN(f, 250, 5);
    await f.close();
    const g = await openDbFile(db, { readOnly: true });
    assert.deepEqual(ids(g), Array.from({ length: 255 }, (_, i) => i));
    await g.close();
    assert.equal(fs.existsSync(`${db}.tmp`), false);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
