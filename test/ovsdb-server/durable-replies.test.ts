/**
 * How the server answers transactions that wait for their record to be on
 * disk: in request order (a read never overtakes a write before it), with
 * OVS's "I/O error" for a commit whose record could not be written, for
 * storage that reports through callbacks (DbFile) or promises; and the
 * transaction ids a client was given (update3, monitor_cond_since) are the
 * ones monitor_cond_since resumes from.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { openJsonRpc, type JsonRpcConnection } from "../../src/jsonrpc/index.js";
import { Database, DatabaseSchema, type ChangeSet, type TransactOutcome } from "../../src/ovsdb/index.js";
import { OvsdbServer, type DbStorage } from "../../src/ovsdb/server/index.js";
import type { DurableTarget } from "../../src/ovsdb/storage/index.js";
import { REPO_ROOT, tempDir } from "../util/ovs.js";

const SCHEMA = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "schemas/vswitch.ovsschema"), "utf8")));
const DB = "Open_vSwitch";
const bump = { op: "mutate", table: "Open_vSwitch", where: [], mutations: [["next_cfg", "+=", 1]] };
const read = { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] };

/** Storage that holds every commit until the test settles it (promises only, as a DbStorage may be). */
class HeldStorage implements DbStorage {
  readonly held: ((err: Error | null) => void)[] = [];

  commit(_changes: ChangeSet, _outcome: TransactOutcome | null): Promise<void> {
    return new Promise((resolve, reject) => this.held.push((err) => (err === null ? resolve() : reject(err))));
  }

  /** Settles the oldest held commit. */
  settle(err: Error | null = null): void {
    this.held.shift()!(err);
  }
}

/** The same, reporting through commitThen as DbFile does. */
class HeldCallbackStorage extends HeldStorage {
  commitThen(_changes: ChangeSet, _outcome: TransactOutcome | null, done: DurableTarget): void {
    this.held.push((err) => done.settled(err));
  }
}

const held = (callbacks: boolean): HeldStorage => (callbacks ? new HeldCallbackStorage() : new HeldStorage());

async function withServer(storage: DbStorage, fn: (c: JsonRpcConnection, storage: DbStorage) => Promise<void>): Promise<void> {
  const dir = tempDir("tsovs-replies-");
  const server = new OvsdbServer({ probeIntervalMs: 0 });
  const db = new Database(SCHEMA);
  db.transact([{ op: "insert", table: "Open_vSwitch", row: {} }]);
  server.addDatabase(db, storage);
  assert.equal(server.addRemote(`punix:${path.join(dir, "db.sock")}`), null);
  await server.remotesReady();
  const c = await openJsonRpc(`unix:${path.join(dir, "db.sock")}`);
  try {
    await fn(c, storage);
  } finally {
    c.close();
    await server.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

/** Lets the server run until nothing is pending (replies that can go out have gone). */
const settleDown = (): Promise<void> => new Promise((r) => setTimeout(r, 30));

for (const callbacks of [true, false]) {
  const kind = callbacks ? "callback" : "promise";

  test(`replies wait for their commit and go out in request order (${kind} storage)`, async () => {
    await withServer(held(callbacks), async (c, s) => {
      const storage = s as HeldStorage;
      const order: string[] = [];
      const track = (name: string, p: Promise<unknown>): Promise<unknown> => p.then((r) => (order.push(name), r));
      const w1 = track("w1", c.request("transact", [DB, bump]));
      const r1 = track("r1", c.request("transact", [DB, read]));
      const w2 = track("w2", c.request("transact", [DB, bump, { op: "commit", durable: true }]));
      await settleDown();
      assert.deepEqual(order, [], "nothing answered before the first record is durable");
      assert.equal(storage.held.length, 2);
      storage.settle();
      await settleDown();
      assert.deepEqual(order, ["w1", "r1"], "the read goes out right after the write before it");
      storage.settle();
      assert.deepEqual(await w2, [{ count: 1 }, {}]);
      assert.deepEqual(order, ["w1", "r1", "w2"]);
      assert.deepEqual(await w1, [{ count: 1 }]);
      // The read saw the first write: it ran when it arrived, only its reply waited.
      assert.deepEqual(await r1, [{ rows: [{ next_cfg: 1 }] }]);
      // With nothing pending, a read is answered at once.
      assert.deepEqual(await c.request("transact", [DB, read]), [{ rows: [{ next_cfg: 2 }] }]);
    });
  });

  test(`a commit whose record cannot be written is answered with an I/O error (${kind} storage)`, async () => {
    await withServer(held(callbacks), async (c, s) => {
      const storage = s as HeldStorage;
      const w1 = c.request("transact", [DB, bump]);
      const r1 = c.request("transact", [DB, read]);
      const w2 = c.request("transact", [DB, bump]);
      await settleDown();
      storage.settle(new Error("disk full"));
      storage.settle(new Error("disk full"));
      await assert.rejects(w1, (e: Error & { error?: unknown }) => {
        assert.deepEqual(e.error, { error: "I/O error", details: "disk full" });
        return true;
      });
      assert.deepEqual(await r1, [{ rows: [{ next_cfg: 1 }] }]);
      await assert.rejects(w2, /I\/O error/);
    });
  });
}

test("monitor_cond_since resumes from a transaction id the client was given", async () => {
  await withServer(held(true), async (c, s) => {
    const storage = s as HeldStorage;
    const commit = async (): Promise<void> => {
      const p = c.request("transact", [DB, bump]);
      await settleDown();
      storage.settle();
      await p;
    };
    const ZERO = "00000000-0000-0000-0000-000000000000";
    const where = { Open_vSwitch: [{ columns: ["next_cfg"] }] };
    await commit();
    const first = (await c.request("monitor_cond_since", [DB, "m1", where, ZERO])) as [boolean, string, unknown];
    assert.equal(first[0], false);
    const given = first[1];
    assert.match(given, /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    assert.notEqual(given, ZERO, "the latest commit's id is named");
    const updates: unknown[] = [];
    c.on("notify", (method, params) => {
      if (method === "update3") updates.push(params);
    });
    await commit();
    await commit();
    assert.equal(updates.length, 2);
    const lastGiven = (updates[1] as [unknown, string, unknown])[1];
    // Resuming from the first id gets exactly the two commits since, and the latest id.
    const again = (await c.request("monitor_cond_since", [DB, "m2", where, given])) as [boolean, string, Record<string, Record<string, unknown>>];
    assert.equal(again[0], true);
    assert.equal(again[1], lastGiven);
    assert.deepEqual(Object.values(again[2]["Open_vSwitch"]!), [{ modify: { next_cfg: 3 } }]);
    assert.deepEqual(updates.map((u) => Object.values((u as [unknown, string, Record<string, Record<string, unknown>>])[2]["Open_vSwitch"]!)), [[{ modify: { next_cfg: 2 } }], [{ modify: { next_cfg: 3 } }]]);
    // Resuming from the latest id: nothing missed.
    const none = (await c.request("monitor_cond_since", [DB, "m3", where, lastGiven])) as [boolean, string, unknown];
    assert.deepEqual(none, [true, lastGiven, {}]);
    // An id never given out (here: made up) means "send everything".
    const unknown = (await c.request("monitor_cond_since", [DB, "m4", where, "12345678-1234-1234-1234-123456789abc"])) as [boolean, string, unknown];
    assert.equal(unknown[0], false);
  });
});
