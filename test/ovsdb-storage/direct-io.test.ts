/**
 * LogWriter's direct path (O_DIRECT|O_DSYNC writes of whole blocks into the
 * reserve, see log-writer.ts): the file it leaves is byte for byte the one
 * the page-cache path leaves, at every moment a crash could freeze it,
 * across block boundaries, reserve growths, big records and replaces; OVS's
 * ovsdb-tool reads it; a write that fails cuts off what it wrote; and when
 * the path cannot be used (turned off, scratch files, a file system that
 * refuses O_DIRECT at the first write) the writer goes on without it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createDbFile, encodeRecord, openDbFile, scanLog, type DbFile } from "../../src/ovsdb/storage/index.js";
import { LogWriter, RESERVE_BYTES, SYNC_FLUSH_MAX_BYTES } from "../../src/ovsdb/storage/log-writer.js";
import { DIRECT_BLOCK, closeDirect, openDirect } from "../../src/ovsdb/storage/direct-io.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";

const SCHEMA = {
  name: "R",
  version: "1.0.0",
  tables: { T: { columns: { n: { type: "integer" }, s: { type: "string" } }, isRoot: true } },
};

/** Whether `dir`'s file system takes O_DIRECT (then the direct path must be used there). */
function directWorksIn(dir: string): boolean {
  const probe = path.join(dir, "probe");
  fs.writeFileSync(probe, "");
  const fd = openDirect(probe);
  closeDirect(fd);
  fs.rmSync(probe);
  return fd >= 0;
}

/** A writer with the direct path off (as TSOVS_DIRECT_IO=0 makes every writer). */
async function openPlain(file: string, offset: number): Promise<LogWriter> {
  const before = process.env["TSOVS_DIRECT_IO"];
  process.env["TSOVS_DIRECT_IO"] = "0";
  try {
    return await LogWriter.open(file, offset, true, true);
  } finally {
    if (before === undefined) delete process.env["TSOVS_DIRECT_IO"];
    else process.env["TSOVS_DIRECT_IO"] = before;
  }
}

/** A small deterministic PRNG (xorshift32), so a failure can be replayed. */
function prng(seed: number): (n: number) => number {
  let x = seed >>> 0 || 1;
  return (n) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % n;
  };
}

function ns(f: DbFile): number[] {
  return [...f.db.tables.get("T")!.rows.values()].map((r) => r.get("n").keys[0] as number).sort((a, b) => a - b);
}

test("the direct path leaves the same bytes as the page-cache path, turn after turn", { timeout: 60_000 }, async () => {
  const dir = tempDir("tsovs-direct-");
  try {
    const head = encodeRecord(SCHEMA);
    const fd = path.join(dir, "direct.log");
    const fp = path.join(dir, "plain.log");
    fs.writeFileSync(fd, head);
    fs.writeFileSync(fp, head);
    const wd = await LogWriter.open(fd, head.length, true, true);
    const wp = await openPlain(fp, head.length);
    const rand = prng(20261126);
    let records = 1;
    let replaced = false;
    let grown = 0;
    let lastSize = 0;
    for (let turn = 0; turn < 500; turn++) {
      const ps: Promise<void>[] = [];
      const k = 1 + rand(4);
      for (let j = 0; j < k; j++) {
        // Mostly small records, some spanning blocks, now and then a big one (thread-pool path).
        const r = rand(100);
        const len = r < 80 ? 20 + rand(400) : r < 98 ? 3000 + rand(7000) : SYNC_FLUSH_MAX_BYTES + rand(4000);
        const rec = encodeRecord({ turn, j, s: "x".repeat(len) });
        ps.push(wd.append(rec), wp.append(rec));
        records++;
      }
      if (turn === 300) {
        // Compaction: the writers continue in a new file.
        const snap = Buffer.concat([head, encodeRecord({ snapshot: turn })]);
        ps.push(wd.replace(snap), wp.replace(snap));
        records = 2;
        replaced = true;
      }
      await Promise.all(ps);
      const size = fs.statSync(fd).size;
      if (size > lastSize + RESERVE_BYTES / 2 && lastSize > 0) grown++;
      lastSize = size;
      // What a crash now would leave: the same bytes, every record valid, the reserve last.
      const a = fs.readFileSync(fd);
      assert.ok(a.equals(fs.readFileSync(fp)), `turn ${turn}: the files differ`);
      // (Right after the replace the file has no reserve yet: checked the turn after.)
      if ((turn % 25 === 0 && turn !== 300) || turn === 301) {
        const scan = scanLog(a, fd);
        assert.equal(scan.error, null, `turn ${turn}`);
        assert.equal(scan.goodEnd, a.length);
        assert.equal(scan.records.length, records + 1);
        assert.deepEqual(scan.records.at(-1)!.json, {});
        assert.equal(scan.records.at(-1)!.offset, wd.size);
      }
    }
    assert.ok(replaced);
    assert.ok(grown >= 2, `the reserve grew ${grown} times`);
    assert.equal(wp.directWrites, 0);
    if (directWorksIn(dir)) assert.ok(wd.directWrites > 400, `${wd.directWrites} direct writes`);
    await wd.close();
    await wp.close();
    const a = fs.readFileSync(fd);
    assert.ok(a.equals(fs.readFileSync(fp)));
    const scan = scanLog(a, fd);
    assert.equal(scan.error, null);
    assert.equal(scan.records.length, records, "closed: no reserve");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a database written through the direct path reopens, and OVS reads it, crashed or closed", { timeout: 60_000 }, async () => {
  const dir = tempDir("tsovs-direct-");
  try {
    const db = path.join(dir, "r.db");
    await createDbFile(db, SCHEMA);
    const f = await openDbFile(db, { compaction: false });
    const writer = (f as unknown as { writer: LogWriter }).writer;
    // ~600 bytes a commit, some in the same turn: ~500 commits cross the reserve's end.
    const n = Math.ceil((RESERVE_BYTES * 1.5) / 600);
    const crashed = path.join(dir, "crashed.db");
    for (let i = 0; i < n; i += 3) {
      const ps: Promise<void>[] = [];
      for (let k = i; k < i + 3 && k < n; k++) {
        const o = f.db.transact([{ op: "insert", table: "T", row: { n: k, s: "y".repeat(500) } }]);
        assert.ok(o.changes);
        ps.push(f.commit(o.changes, o));
      }
      await Promise.all(ps);
      if (i === 300) fs.copyFileSync(db, crashed); // what a kill -9 now leaves
    }
    if (directWorksIn(dir)) assert.ok(writer.directWrites > n / 6, `${writer.directWrites} direct writes`);
    const open = fs.readFileSync(db);
    assert.ok(open.length > f.size + DIRECT_BLOCK, "the file still has its reserve");
    const crashImage = path.join(dir, "open.db");
    fs.writeFileSync(crashImage, open);
    await f.close();

    const all = [...Array(n).keys()];
    const upTo303 = [...Array(303).keys()];
    for (const [file, want] of [[db, all], [crashImage, all], [crashed, upTo303]] as const) {
      if (!ovsSkip("ovsdb-tool")) {
        const log = run("ovsdb-tool", ["show-log", file], dir);
        assert.equal(log.status, 0, log.stderr);
        const q = run("ovsdb-tool", ["query", file, JSON.stringify(["R", { op: "select", table: "T", where: [], columns: ["n"] }])], dir);
        assert.equal(q.status, 0, q.stderr);
        const rows = (JSON.parse(q.stdout) as { rows: { n: number }[] }[])[0]!.rows.map((r) => r.n).sort((a, b) => a - b);
        assert.deepEqual(rows, want, `ovsdb-tool query ${path.basename(file)}`);
      }
      const g = await openDbFile(file, { compaction: false });
      assert.equal(g.readError, null);
      assert.deepEqual(ns(g), want, path.basename(file));
      // It takes more commits, through the direct path again, after the reopen.
      const o = g.db.transact([{ op: "insert", table: "T", row: { n: 1_000_000, s: "" } }]);
      assert.ok(o.changes);
      await g.commit(o.changes, o);
      await g.close();
      const h = await openDbFile(file, { readOnly: true });
      assert.deepEqual(ns(h), [...want, 1_000_000]);
      await h.close();
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a failed direct write fails its batch and every later append, and leaves no partial record", async (t) => {
  const dir = tempDir("tsovs-direct-");
  if (!directWorksIn(dir)) {
    fs.rmSync(dir, { recursive: true, force: true });
    t.skip("no O_DIRECT on the temporary directory's file system");
    return;
  }
  const file = path.join(dir, "f.log");
  const head = encodeRecord(SCHEMA);
  fs.writeFileSync(file, head);
  const w = await LogWriter.open(file, head.length, true, true);
  const inner = w as unknown as { directFd: number };
  let swapped = -1;
  try {
    const good = [encodeRecord({ a: 1 }), encodeRecord({ b: 2 })];
    for (const r of good) await w.append(r);
    assert.ok(w.directWrites >= 1);
    // A read-only descriptor in place of the direct one: the write fails as a broken disk would make it fail.
    swapped = inner.directFd;
    inner.directFd = fs.openSync(file, "r");
    await assert.rejects(w.append(encodeRecord({ bad: 3 })), /write failed/);
    await assert.rejects(w.append(encodeRecord({ later: 4 })), /write failed/);
    assert.ok(fs.readFileSync(file).equals(Buffer.concat([head, ...good])), "the file ends with the last acknowledged record");
  } finally {
    await w.close();
    closeDirect(swapped);
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("without the direct path (turned off, scratch, refused at the first write) the writer goes on without it", async () => {
  const dir = tempDir("tsovs-direct-");
  try {
    const head = encodeRecord(SCHEMA);
    const recs = Array.from({ length: 30 }, (_, i) => encodeRecord({ i, s: "z".repeat(i * 37) }));
    const want = Buffer.concat([head, ...recs]);
    const check = async (w: LogWriter, file: string, label: string): Promise<void> => {
      for (let i = 0; i < recs.length; i += 2) await Promise.all([w.append(recs[i]!), w.append(recs[i + 1]!)]);
      const scan = scanLog(fs.readFileSync(file), file);
      assert.equal(scan.error, null, label);
      assert.equal(scan.records.length, 1 + recs.length + 1, label);
      await w.close();
      assert.ok(fs.readFileSync(file).equals(want), label);
    };
    const make = (name: string, d = dir): string => {
      const file = path.join(d, name);
      fs.writeFileSync(file, head);
      return file;
    };

    const off = make("off.log");
    const wOff = await openPlain(off, head.length);
    await check(wOff, off, "TSOVS_DIRECT_IO=0");
    assert.equal(wOff.directWrites, 0);

    const scratch = make("scratch.log");
    const wScratch = await LogWriter.open(scratch, head.length, false, true);
    await check(wScratch, scratch, "scratch");
    assert.equal(wScratch.directWrites, 0);

    // A file system that takes O_DIRECT at open but refuses the first
    // write (EINVAL), as some do: here, a buffer that is not aligned.
    const refused = make("refused.log");
    const wRefused = await LogWriter.open(refused, head.length, true, true);
    const inner = wRefused as unknown as { directBuf: Buffer | null; startDirect(): void };
    inner.startDirect();
    if (directWorksIn(dir)) assert.notEqual(inner.directBuf, null, "the direct path can start here");
    if (inner.directBuf !== null) inner.directBuf = Buffer.alloc(inner.directBuf.length + 1).subarray(1);
    await check(wRefused, refused, "refused");
    assert.equal(wRefused.directWrites, 0);

    // tmpfs: O_DIRECT or not depending on the kernel; the file is right either way.
    if (fs.existsSync("/dev/shm")) {
      const shm = fs.mkdtempSync("/dev/shm/tsovs-direct-");
      try {
        const file = make("shm.log", shm);
        await check(await LogWriter.open(file, head.length, true, true), file, "tmpfs");
      } finally {
        fs.rmSync(shm, { recursive: true, force: true });
      }
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
