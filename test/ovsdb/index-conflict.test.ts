/**
 * The details of a duplicate-index "constraint violation" match the real
 * ovsdb-tool word for word, including which row OVS calls "First row"
 * (the greater row over all columns in the schema's hash order) and how
 * each row is described. The schema is chosen so that a user column comes
 * before _version in that order, which makes OVS's choice deterministic.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, run, tempDir, tsovs, type RunResult } from "../util/ovs.js";

const SCHEMA = JSON.stringify({
  name: "I",
  version: "1.0.0",
  tables: { T: { isRoot: true, columns: { k: { type: "integer" }, v: { type: "integer" } }, indexes: [["k"]] } },
});

const ins = (k: number, v: number) => ({ op: "insert", table: "T", row: { k, v } });
const upd = (where: unknown[], row: object) => ({ op: "update", table: "T", where: [where], row });

/** Each case: transactions run in order on a fresh database; the last one fails. */
const CASES: unknown[][][] = [
  [[ins(1, 5), ins(1, 7)]],
  [[ins(1, 7), ins(1, 5)]],
  [[ins(1, 9)], [ins(1, 3)]],
  [[ins(1, 1), ins(2, 2)], [upd(["v", "==", 1], { v: 0 }), upd(["k", "==", 2], { k: 1 })]],
  [[ins(1, 1), ins(2, 2)], [upd(["v", "==", 1], { v: 1 }), upd(["k", "==", 2], { k: 1 })]],
  [[ins(1, 1), ins(2, 2)], [upd(["k", "==", 2], { k: 1 }), upd(["v", "==", 1], { v: 8 })]],
];

/** The error details of the last transaction, with uuids named by first appearance. */
function lastDetails(outputs: RunResult[]): string {
  const names = new Map<string, string>();
  let details = "";
  for (const r of outputs) {
    assert.equal(r.stderr, "");
    const text = r.stdout.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, (u) => {
      if (!names.has(u)) names.set(u, `row${names.size}`);
      return names.get(u)!;
    });
    for (const res of JSON.parse(text) as ({ details?: string } | null)[]) if (res?.details !== undefined) details = res.details;
  }
  return details;
}

function runCase(tool: (args: string[]) => RunResult, dir: string, txns: unknown[][]): string {
  const db = path.join(dir, "i.db");
  fs.rmSync(db, { force: true });
  const schema = path.join(dir, "i.ovsschema");
  fs.writeFileSync(schema, SCHEMA);
  assert.equal(tool(["create", db, schema]).status, 0);
  return lastDetails(txns.map((ops) => tool(["transact", db, JSON.stringify(["I", ...ops])])));
}

test("index conflict details name and describe the rows as ovsdb-tool does", { skip: ovsSkip("ovsdb-tool") }, () => {
  const dir = tempDir("tsovs-index-conflict-");
  try {
    for (const txns of CASES) {
      const real = runCase((a) => run("ovsdb-tool", a), dir, txns);
      const ours = runCase((a) => tsovs(["ovsdb-tool", ...a]), dir, txns);
      assert.match(real, /First row, with UUID row\d/);
      assert.equal(ours, real, JSON.stringify(txns));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
