/**
 * The reserve record at the end of a database file open for writing (see
 * src/ovsdb/storage/log-writer.ts): commits overwrite bytes the file
 * already has, the file read at any moment is a valid OVS log (the reserve
 * is an empty transaction, which OVS's ovsdb-tool reads too), a file that
 * was closed has no reserve (byte for byte what OVS writes), and one that
 * was left with its reserve (a killed server) reopens with nothing lost,
 * nothing reported, and the reserve cut off.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { createDbFile, openDbFile, scanLog, type DbFile } from "../../src/ovsdb/storage/index.js";
import { RESERVE_BYTES, SYNC_FLUSH_MAX_BYTES } from "../../src/ovsdb/storage/log-writer.js";
import { sha1OfSpacesInto } from "../../src/ovsdb/storage/sha1.js";
import { shashOrder, shashOrderOfDistinct } from "../../src/ovsdb/hash-order.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";

const SCHEMA = {
  name: "R",
  version: "1.0.0",
  tables: {
    T: { columns: { n: { type: "integer" }, s: { type: "string" } }, isRoot: true },
  },
};

function ns(f: DbFile): number[] {
  return [...f.db.tables.get("T")!.rows.values()].map((r) => r.get("n").keys[0] as number).sort((a, b) => a - b);
}

async function insert(f: DbFile, n: number, s = ""): Promise<void> {
  const o = f.db.transact([{ op: "insert", table: "T", row: { n, s } }]);
  assert.ok(o.changes, JSON.stringify(o.results));
  await f.commit(o.changes, o);
}

test("the reserve's SHA-1 (spaces then a tail) is node:crypto's", () => {
  const tail = Buffer.from("{}\n");
  const out = Buffer.alloc(42);
  const lengths = [0, 1, 52, 53, 60, 61, 62, 63, 64, 65, 127, 128, 4095, 4096, 70_000, RESERVE_BYTES];
  for (const n of lengths) {
    sha1OfSpacesInto(n, tail, out, 1);
    const want = crypto.createHash("sha1").update(Buffer.concat([Buffer.alloc(n, 0x20), tail])).digest("hex");
    assert.equal(out.toString("latin1", 1, 41), want, `${n} spaces`);
  }
  fc.assert(
    fc.property(fc.integer({ min: 0, max: 5000 }), fc.uint8Array({ minLength: 0, maxLength: 64 }), (n, t) => {
      const tb = Buffer.from(t);
      sha1OfSpacesInto(n, tb, out, 0);
      return out.toString("latin1", 0, 40) === crypto.createHash("sha1").update(Buffer.concat([Buffer.alloc(n, 0x20), tb])).digest("hex");
    }),
    { numRuns: 200 },
  );
});

test("shashOrderOfDistinct is shashOrder for distinct keys", () => {
  fc.assert(
    fc.property(fc.uniqueArray(fc.oneof(fc.uuid(), fc.string({ maxLength: 12 })), { maxLength: 300 }), (keys) => {
      const fast = [...shashOrderOfDistinct(keys)].map((i) => keys[i]);
      assert.deepEqual(fast, shashOrder(keys));
    }),
    { numRuns: 100 },
  );
});

test("an open file ends with a reserve; closed, it has none; left with one, it reopens with nothing lost", async () => {
  const dir = tempDir("tsovs-reserve-");
  try {
    const db = path.join(dir, "r.db");
    await createDbFile(db, SCHEMA);
    const f = await openDbFile(db, { compaction: false });
    for (let i = 0; i < 20; i++) await insert(f, i);
    const open = fs.readFileSync(db);
    assert.ok(open.length > f.size, "the file reaches past its records");
    // Every byte is a valid record; the last one is the empty reserve.
    const scan = scanLog(open, db);
    assert.equal(scan.error, null);
    assert.equal(scan.goodEnd, open.length);
    assert.equal(scan.records.length, 1 + 20 + 1);
    assert.deepEqual(scan.records[21]!.json, {});
    assert.equal(scan.records[21]!.offset, f.size);
    // A copy taken now is what a killed server leaves.
    const crashed = path.join(dir, "crashed.db");
    fs.writeFileSync(crashed, open);
    // Past the reserve: the file grows by RESERVE_BYTES, records stay whole.
    const big = "x".repeat(1000);
    const n0 = Math.ceil(RESERVE_BYTES / 1000) + 5;
    for (let i = 20; i < 20 + n0; i++) await insert(f, i, big);
    assert.ok(fs.statSync(db).size > f.size);
    // A big record (written through the thread pool) and small ones after it.
    const o = f.db.transact(Array.from({ length: 40 }, (_, k) => ({ op: "insert", table: "T", row: { n: 10_000 + k, s: "y".repeat(1000) } })));
    assert.ok(o.changes);
    assert.ok(40 * 1000 > SYNC_FLUSH_MAX_BYTES, "the record is a big one");
    await f.commit(o.changes, o);
    await insert(f, 20_000);
    const size = f.size;
    await f.close();
    const closed = fs.readFileSync(db);
    assert.equal(closed.length, size, "closing cuts the reserve off");
    const s2 = scanLog(closed, db);
    assert.equal(s2.error, null);
    assert.ok(s2.records.every((r) => Object.keys(r.json as object).length > 0), "no empty record left");
    const g = await openDbFile(db, { readOnly: true });
    assert.equal(ns(g).length, 20 + n0 + 40 + 1);
    await g.close();

    // The crashed copy: no error, no warning file, the 20 rows, reserve cut off.
    const h = await openDbFile(crashed, { compaction: false });
    assert.equal(h.readError, null);
    assert.deepEqual(ns(h), [...Array(20).keys()]);
    assert.equal(fs.statSync(crashed).size, h.size);
    assert.ok(!fs.existsSync(`${crashed}.discarded`));
    await insert(h, 99);
    await h.close();
    const k = await openDbFile(crashed, { readOnly: true });
    assert.deepEqual(ns(k), [...Array(20).keys(), 99]);
    await k.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a damaged reserve is a torn tail: reported, cut off, the records before it kept", async () => {
  const dir = tempDir("tsovs-reserve-");
  try {
    const db = path.join(dir, "r.db");
    await createDbFile(db, SCHEMA);
    const f = await openDbFile(db, { compaction: false });
    for (let i = 0; i < 5; i++) await insert(f, i);
    const open = fs.readFileSync(db);
    const end = f.size;
    await f.close();
    const copy = Buffer.from(open);
    copy[copy.length - 100] = 0x41; // a byte of the reserve's spaces
    fs.writeFileSync(db, copy);
    const g = await openDbFile(db, { compaction: false });
    assert.match(String(g.readError), /SHA-1/);
    assert.deepEqual(ns(g), [0, 1, 2, 3, 4]);
    assert.equal(fs.statSync(db).size, end);
    await g.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("OVS's ovsdb-tool reads a file with a reserve", { skip: ovsSkip("ovsdb-tool") }, async () => {
  const dir = tempDir("tsovs-reserve-");
  try {
    const db = path.join(dir, "r.db");
    await createDbFile(db, SCHEMA);
    const f = await openDbFile(db, { compaction: false });
    for (let i = 0; i < 3; i++) await insert(f, i, `s${i}`);
    const q = run("ovsdb-tool", ["query", db, JSON.stringify(["R", { op: "select", table: "T", where: [], columns: ["n"] }])], dir);
    assert.equal(q.status, 0, q.stderr);
    const rows = (JSON.parse(q.stdout) as { rows: { n: number }[] }[])[0]!.rows.map((r) => r.n).sort();
    assert.deepEqual(rows, [0, 1, 2]);
    const log = run("ovsdb-tool", ["show-log", db], dir);
    assert.equal(log.status, 0, log.stderr);
    assert.match(log.stdout, /record 4:\s*$/, "the reserve is an empty record");
    await f.close();
    const after = run("ovsdb-tool", ["show-log", db], dir);
    assert.doesNotMatch(after.stdout, /record 4:/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
