/**
 * LogWriter's two flush paths: small records queued in one event-loop turn
 * share one synchronous fdatasync at the end of the turn; big ones go
 * through the thread pool. Either way every append resolves only once its
 * bytes are in the file, in append order, and a replace (compaction) keeps
 * its place in the queue.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { LogWriter, SYNC_FLUSH_MAX_BYTES } from "../../src/ovsdb/storage/log-writer.js";
import { tempDir } from "../util/ovs.js";

async function withWriter(fn: (w: LogWriter, file: string) => Promise<void>): Promise<void> {
  const dir = tempDir("tsovs-logw-");
  const file = path.join(dir, "f.log");
  fs.writeFileSync(file, "HEAD\n");
  const w = await LogWriter.open(file, 5);
  try {
    await fn(w, file);
  } finally {
    await w.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("small appends of one event-loop turn share one fdatasync and resolve only when in the file", async () => {
  await withWriter(async (w, file) => {
    const done: number[] = [];
    const ps: Promise<void>[] = [];
    for (let i = 0; i < 50; i++) ps.push(w.append(Buffer.from(`rec${i}\n`)).then(() => void done.push(i)));
    // Nothing is acknowledged within the turn that queued it.
    await Promise.resolve();
    assert.equal(done.length, 0);
    await Promise.all(ps);
    assert.deepEqual(done, [...Array(50).keys()]);
    assert.equal(w.stats.fsyncs, 1);
    assert.equal(w.stats.records, 50);
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text, "HEAD\n" + [...Array(50).keys()].map((i) => `rec${i}\n`).join(""));
    assert.equal(w.size, text.length);
  });
});

test("big and small appends and a replace keep their order", async () => {
  await withWriter(async (w, file) => {
    const big = Buffer.alloc(SYNC_FLUSH_MAX_BYTES + 10, "b");
    const order: string[] = [];
    const a = w.append(Buffer.from("s1\n")).then(() => void order.push("s1"));
    const b = w.append(big).then(() => void order.push("big"));
    const c = w.append(Buffer.from("s2\n")).then(() => void order.push("s2"));
    await Promise.all([a, b, c]);
    assert.deepEqual(order, ["s1", "big", "s2"]);
    assert.equal(fs.readFileSync(file, "utf8"), "HEAD\ns1\n" + big.toString() + "s2\n");
    // Appends before a replace land in the old file; appends after it, in the new one.
    const d = w.append(Buffer.from("old\n"));
    const r = w.replace(Buffer.from("NEW\n"));
    const e = w.append(Buffer.from("after\n"));
    await Promise.all([d, r, e]);
    assert.equal(fs.readFileSync(file, "utf8"), "NEW\nafter\n");
    assert.equal(w.size, "NEW\nafter\n".length);
    // A barrier alone writes nothing and still resolves.
    const before = w.stats.fsyncs;
    await w.barrier();
    assert.equal(w.stats.fsyncs, before);
  });
});

test("appends from later turns are flushed in later batches", async () => {
  await withWriter(async (w, file) => {
    for (let i = 0; i < 5; i++) await w.append(Buffer.from(`t${i}\n`));
    assert.equal(w.stats.fsyncs, 5);
    assert.equal(fs.readFileSync(file, "utf8"), "HEAD\nt0\nt1\nt2\nt3\nt4\n");
  });
});

test("a failed write fails its batch and every later append, and leaves no partial record", async () => {
  const dir = tempDir("tsovs-logw-");
  const file = path.join(dir, "f.log");
  fs.writeFileSync(file, "HEAD\n");
  const w = await LogWriter.open(file, 5);
  await w.append(Buffer.from("good\n"));
  // Swap in a read-only descriptor: the next write fails as a full or
  // broken disk would make it fail.
  const inner = w as unknown as { fh: fs.promises.FileHandle };
  const writable = inner.fh;
  inner.fh = await fs.promises.open(file, "r");
  try {
    await assert.rejects(w.append(Buffer.from("bad\n")), /write failed/);
    await assert.rejects(w.append(Buffer.from("later\n")), /write failed/);
    assert.equal(fs.readFileSync(file, "utf8"), "HEAD\ngood\n");
  } finally {
    await w.close();
    await writable.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
