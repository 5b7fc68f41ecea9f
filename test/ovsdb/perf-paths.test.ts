/**
 * The fast paths added for bench ovsdb (a) and (b) give the same answers
 * as the general ones: JSON framing of non-ASCII text split anywhere,
 * integer mutations without BigInts, and the start-up warm-up, which must
 * leave the served database untouched while really committing on its
 * scratch copy (a warm-up whose transactions failed would warm nothing).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { JsonFramer } from "../../src/jsonrpc/index.js";
import { Database, DatabaseSchema } from "../../src/ovsdb/index.js";
import { OvsdbServer, ScratchClient, isWarm } from "../../src/ovsdb/server/index.js";
import { REPO_ROOT } from "../util/ovs.js";

const load = (f: string) => DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
const VSWITCH = load("schemas/vswitch.ovsschema");
const TESTDB = load("test/ovsdb/testdb.ovsschema");

test("the warm-up leaves the served database, sessions and monitors untouched", async () => {
  // The test runner turns the warm-up off for the servers tests start; this test is about it.
  process.env["TSOVS_OVSDB_WARMUP"] = "1";
  const server = new OvsdbServer();
  const db = new Database(VSWITCH);
  const commits: unknown[] = [];
  db.onCommit((c) => commits.push(c));
  server.addDatabase(db);
  try {
    assert.equal(isWarm(), true);
    for (const [name, t] of db.tables) assert.equal(t.rows.size, 0, `rows in ${name}`);
    assert.equal(commits.length, 0);
    assert.equal(server.sessionCount, 0);
    assert.deepEqual(server.dbNames(), ["Open_vSwitch", "_Server"]);
  } finally {
    await server.close();
  }
});

test("the warm-up's ovs-vsctl transactions really commit on the scratch database", async () => {
  const c = new ScratchClient(VSWITCH, () => new OvsdbServer({ probeIntervalMs: 0 }));
  try {
    const rows = (t: string) => c.db.tables.get(t)!.rows.size;
    c.monitors();
    c.initAddBr();
    assert.deepEqual([rows("Open_vSwitch"), rows("Bridge"), rows("Port"), rows("Interface")], [1, 1, 1, 1]);
    c.addPorts(20);
    c.addPorts(5);
    assert.deepEqual([rows("Bridge"), rows("Port"), rows("Interface")], [1, 26, 26]);
    const br = [...c.db.tables.get("Bridge")!.rows.values()][0]!;
    assert.equal(br.get("ports").keys.length, 26);
    c.delBr();
    assert.deepEqual([rows("Bridge"), rows("Port"), rows("Interface")], [0, 0, 0]);
    c.smallTxns(3);
    const ovs = [...c.db.tables.get("Open_vSwitch")!.rows.values()][0]!;
    assert.deepEqual(ovs.get("next_cfg").keys, [3]);
  } finally {
    c.close();
  }
});

test("the framer splits UTF-8 text cut at any byte into the same values", () => {
  const values = [
    [{ a: "héllo wörld €", b: 'x\\"y', c: [1, 2, { d: "日本語" }] }, "\\\\"],
    { z: "ü" },
    ["plain", "ascii", { q: '"' }],
  ];
  const bytes = Buffer.from(values.map((v) => JSON.stringify(v)).join(" \n"), "utf8");
  for (let cut = 1; cut < bytes.length; cut++) {
    for (let cut2 = cut; cut2 < bytes.length; cut2 += 5) {
      const f = new JsonFramer();
      const got: unknown[] = [];
      for (const part of [bytes.subarray(0, cut), bytes.subarray(cut, cut2), bytes.subarray(cut2)]) {
        for (const r of f.push(part)) {
          assert.ok(r.ok, `cut ${cut}/${cut2}: ${r.ok ? "" : r.error}`);
          got.push(r.value);
        }
      }
      assert.deepEqual(got, values, `cut ${cut}/${cut2}`);
      assert.equal(f.buffered, 0);
    }
  }
});

test("integer mutations give the int64 result or OVS's range error", () => {
  const INT64_MIN = -(2n ** 63n);
  const INT64_MAX = 2n ** 63n - 1n;
  const edge = fc.constantFrom(0, -0, 1, -1, 2 ** 53 - 1, -(2 ** 53 - 1), 2 ** 53, 2 ** 62, -(2 ** 62), 3037000499, 3037000500, 94906265);
  const int = fc.oneof(edge, fc.integer({ min: -(2 ** 31), max: 2 ** 31 }), fc.maxSafeInteger(), fc.integer({ min: -(2 ** 20), max: 2 ** 20 }).map((k) => k * 2 ** 40));
  fc.assert(
    fc.property(int, int, fc.constantFrom("+=", "-=", "*="), (x, y, op) => {
      const db = new Database(TESTDB);
      const ins = db.transact([{ op: "insert", table: "Other", row: { x } }]);
      assert.equal(ins.changes !== null, true);
      const out = db.transact([{ op: "mutate", table: "Other", where: [], mutations: [["x", op, y]] }]);
      const bx = BigInt(x);
      const by = BigInt(y);
      const z = op === "+=" ? bx + by : op === "-=" ? bx - by : bx * by;
      const row = [...db.tables.get("Other")!.rows.values()][0]!;
      if (z < INT64_MIN || z > INT64_MAX) {
        assert.deepEqual(out.results[0], { error: "range error", details: `Result of "${op}" operation is out of range.` });
        assert.equal(row.get("x").keys[0], x);
      } else {
        assert.deepEqual(out.results[0], { count: 1 });
        // === : a -0 left in place (0 === -0: "no change") prints as 0 all the same.
        assert.ok(row.get("x").keys[0] === Number(z), `${x} ${op} ${y}: ${String(row.get("x").keys[0])} != ${Number(z)}`);
      }
    }),
    { numRuns: 2000 },
  );
});
