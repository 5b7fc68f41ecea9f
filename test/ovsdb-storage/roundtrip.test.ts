/**
 * Property: any sequence of committed transactions (inserts, updates of
 * scalars, optional values, sets and maps, mutations, deletes) written to a
 * file reads back with exactly the same contents — through tsovs and,
 * differentially, through the real `ovsdb-tool query`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { createDbFile, openDbFile, type DbFile } from "../../src/ovsdb/storage/index.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";

const SCHEMA = {
  name: "R",
  version: "1.0.0",
  tables: {
    A: {
      columns: {
        k: { type: "integer" },
        name: { type: "string" },
        opt: { type: { key: "integer", min: 0, max: 1 } },
        m1: { type: { key: "string", value: "string", min: 0, max: 1 } },
        s: { type: { key: "integer", min: 0, max: "unlimited" } },
        m: { type: { key: "string", value: "integer", min: 0, max: "unlimited" } },
        eph: { type: "integer", ephemeral: true },
      },
      isRoot: true,
    },
  },
};

const smallInt = fc.integer({ min: 0, max: 6 });
const key = fc.constantFrom("a", "b", "c", "d");
const setJson = fc.uniqueArray(smallInt, { maxLength: 4 }).map((a) => ["set", a]);
const mapJson = fc.uniqueArray(fc.tuple(key, smallInt), { maxLength: 4, selector: (p) => p[0] }).map((a) => ["map", a]);
const rowJson = fc.record(
  {
    name: fc.constantFrom("x", "y", "z", ""),
    opt: fc.oneof(smallInt, fc.constant(["set", []])),
    m1: fc.oneof(fc.constant(["map", []]), fc.tuple(key, key).map(([k, v]) => ["map", [[k, v]]])),
    s: setJson,
    m: mapJson,
    eph: smallInt,
  },
  { requiredKeys: [] },
);

type Step =
  | { kind: "insert"; k: number; row: Record<string, unknown> }
  | { kind: "update"; k: number; row: Record<string, unknown> }
  | { kind: "mutate"; k: number; s: number[]; mk: string[] }
  | { kind: "delete"; k: number };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant("insert" as const), k: smallInt, row: rowJson }),
  fc.record({ kind: fc.constant("update" as const), k: smallInt, row: rowJson }),
  fc.record({ kind: fc.constant("mutate" as const), k: smallInt, s: fc.array(smallInt, { maxLength: 3 }), mk: fc.array(key, { maxLength: 2 }) }),
  fc.record({ kind: fc.constant("delete" as const), k: smallInt }),
);

function ops(st: Step): unknown[] {
  const where = [["k", "==", st.k]];
  switch (st.kind) {
    case "insert":
      return [{ op: "insert", table: "A", row: { ...st.row, k: st.k } }];
    case "update":
      return [{ op: "update", table: "A", where, row: st.row }];
    case "mutate":
      return [
        { op: "mutate", table: "A", where, mutations: [["s", "insert", ["set", st.s]], ["s", "delete", ["set", st.s.slice(0, 1)]], ["m", "delete", ["set", st.mk]]] },
      ];
    case "delete":
      return [{ op: "delete", table: "A", where }];
  }
}

const PERSISTENT = ["_uuid", "k", "name", "opt", "m1", "s", "m"];

function contents(f: DbFile): string[] {
  return [...f.db.tables.get("A")!.rows.values()].map((r) => JSON.stringify(r.toJSON(PERSISTENT))).sort();
}

/** Creates `db`, commits `steps` one transaction each, and returns its contents. */
async function writeSteps(db: string, steps: Step[]): Promise<string[]> {
  await createDbFile(db, SCHEMA);
  const f = await openDbFile(db, { compaction: false });
  for (const st of steps) {
    const o = f.db.transact(ops(st));
    if (o.changes) await f.commit(o.changes, o);
  }
  const expected = contents(f);
  await f.close();
  return expected;
}

/**
 * For `numRuns` random histories: writes each to a fresh file and calls
 * `check(file, contents)` with what the database held before closing.
 */
async function forRandomHistories(numRuns: number, check: (db: string, expected: string[]) => Promise<void> | void): Promise<void> {
  const dir = tempDir("tsovs-roundtrip-");
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 25 }), async (steps) => {
        const db = path.join(dir, `r${n++}.db`);
        await check(db, await writeSteps(db, steps));
        fs.rmSync(db);
      }),
      { numRuns },
    );
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("committed transactions read back identically (property)", async () => {
  await forRandomHistories(60, async (db, expected) => {
    const g = await openDbFile(db, { readOnly: true });
    assert.equal(g.readError, null);
    assert.deepEqual(contents(g), expected);
    await g.close();
  });
});

test("the real ovsdb-tool reads the same contents from files tsovs wrote", { skip: ovsSkip("ovsdb-tool") }, async () => {
  await forRandomHistories(15, (db, expected) => {
    const q = JSON.stringify(["R", { op: "select", table: "A", where: [], columns: PERSISTENT }]);
    const r = run("ovsdb-tool", ["query", db, q]);
    assert.equal(r.stderr, "");
    const rows = (JSON.parse(r.stdout) as { rows: Record<string, unknown>[] }[])[0]!.rows;
    const real = rows.map((row) => JSON.stringify(Object.fromEntries(PERSISTENT.map((c) => [c, row[c]])))).sort();
    assert.deepEqual(real, expected);
  });
});

test("records without _is_diff (OVS before 2.15) hold full values; with it, set/map diffs", async () => {
  const dir = tempDir("tsovs-olddiff-");
  try {
    const { encodeRecord } = await import("../../src/ovsdb/storage/index.js");
    const u = "5deb3a70-0b24-4ed8-88fe-ec9a6bdb0a88";
    const write = (recs: unknown[]): string => {
      const f = path.join(dir, `f${Math.random()}.db`);
      fs.writeFileSync(f, Buffer.concat([encodeRecord(SCHEMA), ...recs.map((r) => encodeRecord(r))]));
      return f;
    };
    const insert = { A: { [u]: { k: 1, s: ["set", [1, 2]], m: ["map", [["a", 1]]], m1: ["map", [["a", "x"]]] } }, _date: 1 };
    const change = { A: { [u]: { s: ["set", [2, 3]], m: ["map", [["a", 2], ["b", 3]]], m1: ["map", [["b", "y"]]] } }, _date: 2 };
    const old = await openDbFile(write([insert, change]), { readOnly: true });
    const row = old.db.tables.get("A")!.rows.get(u)!;
    assert.deepEqual(row.toJSON(["s", "m", "m1"]), { s: ["set", [2, 3]], m: ["map", [["a", 2], ["b", 3]]], m1: ["map", [["b", "y"]]] });
    await old.close();
    const diff = await openDbFile(write([insert, { ...change, _is_diff: true }]), { readOnly: true });
    const row2 = diff.db.tables.get("A")!.rows.get(u)!;
    // s toggles {2,3} against {1,2}; m replaces a and adds b; m1 (max 1) is a full value.
    assert.deepEqual(row2.toJSON(["s", "m", "m1"]), { s: ["set", [1, 3]], m: ["map", [["a", 2], ["b", 3]]], m1: ["map", [["b", "y"]]] });
    await diff.close();
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
