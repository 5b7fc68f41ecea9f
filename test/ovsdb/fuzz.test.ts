/**
 * Fuzz test of the transaction engine: randomly mutated transact requests
 * (wrong types, missing and extra members, huge numbers, bad UUIDs, deep
 * nesting) never throw, always get an RFC 7047-shaped result, and a failed
 * transaction leaves the database exactly as it was.
 *
 * FUZZ_TXNS=n sets the number of transactions (default 100000).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { Database, DatabaseSchema, type Row } from "../../src/ovsdb/index.js";
import { REPO_ROOT } from "../util/ovs.js";
import { CASES, VSWITCH_CASES } from "./transact-cases.js";
import { checkBookkeeping } from "./bookkeeping.js";

const SCHEMA = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "test", "ovsdb", "testdb.ovsschema"), "utf8")));
const VSWITCH = DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, "schemas", "vswitch.ovsschema"), "utf8")));

/** A small seeded PRNG (mulberry32) so failures can be replayed. */
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const NAMES = ["op", "table", "row", "where", "columns", "mutations", "uuid-name", "uuid", "until", "rows", "timeout", "durable", "comment", "lock", "sort", "name", "i", "r", "b", "s", "ints", "m", "kids", "weak", "weak1", "fixed", "eph", "reals", "n", "next", "tag", "child", "wm", "u", "x", "_uuid", "_version"];

function deep(n: number): unknown {
  let v: unknown = 1;
  for (let i = 0; i < n; i++) v = [v];
  return v;
}

function randomValue(rnd: () => number, depth = 0): unknown {
  const pick = Math.floor(rnd() * 22);
  switch (pick) {
    case 0: return null;
    case 1: return true;
    case 2: return false;
    case 3: return Math.floor(rnd() * 200) - 20;
    case 4: return 1e300 * (rnd() < 0.5 ? -1 : 1);
    case 5: return 9223372036854775807;
    case 6: return rnd() * 10;
    case 7: return "";
    case 8: return NAMES[Math.floor(rnd() * NAMES.length)];
    case 9: return ["uuid", "not-a-uuid"];
    case 10: return ["uuid", "00000000-0000-0000-0000-000000000000"];
    case 11: return ["named-uuid", rnd() < 0.5 ? "c" : "zz"];
    case 12: return ["set", depth < 3 ? [randomValue(rnd, depth + 1), randomValue(rnd, depth + 1)] : []];
    case 13: return ["map", depth < 3 ? [[randomValue(rnd, depth + 1), randomValue(rnd, depth + 1)]] : []];
    case 14: return deep(rnd() < 0.9 ? 50 : 5000);
    case 15: return {};
    case 16: return [];
    case 17: return ["red", "green", "blue"][Math.floor(rnd() * 3)];
    case 18: return [NAMES[Math.floor(rnd() * NAMES.length)], ["==", "!=", "<", "includes", "excludes", "insert", "delete", "+=", "/="][Math.floor(rnd() * 9)], randomValue(rnd, depth + 1)];
    case 19: return "x".repeat(Math.floor(rnd() * 10));
    case 20: return ["set"];
    default: return { [NAMES[Math.floor(rnd() * NAMES.length)]!]: depth < 3 ? randomValue(rnd, depth + 1) : 0 };
  }
}

/** Returns a mutated deep copy of `v`. */
function mutate(v: unknown, rnd: () => number): unknown {
  if (rnd() < 0.08) return randomValue(rnd);
  if (Array.isArray(v)) {
    const a = v.map((x) => (rnd() < 0.35 ? mutate(x, rnd) : x));
    const r = rnd();
    if (r < 0.05 && a.length > 0) a.splice(Math.floor(rnd() * a.length), 1);
    else if (r < 0.1) a.push(randomValue(rnd));
    else if (r < 0.12 && a.length > 0) a.push(a[0]);
    return a;
  }
  if (v !== null && typeof v === "object") {
    const o: Record<string, unknown> = {};
    for (const [k, x] of Object.entries(v)) {
      const r = rnd();
      if (r < 0.05) continue; // drop a member
      o[k] = r < 0.4 ? mutate(x, rnd) : x;
    }
    if (rnd() < 0.05) o[NAMES[Math.floor(rnd() * NAMES.length)]!] = randomValue(rnd);
    return o;
  }
  return v;
}

/** Identity snapshot of all rows: committed rows are immutable objects. */
function snapshot(db: Database): Map<string, Row> {
  const m = new Map<string, Row>();
  for (const t of db.tables.values()) for (const [u, r] of t.rows) m.set(`${t.schema.name}/${u}`, r);
  return m;
}

function sameSnapshot(a: Map<string, Row>, b: Map<string, Row>): boolean {
  if (a.size !== b.size) return false;
  for (const [k, r] of a) if (b.get(k) !== r) return false;
  return true;
}

function show(v: unknown): string {
  try {
    return JSON.stringify(v).slice(0, 2000);
  } catch {
    return "<too deep to print>";
  }
}

function isErrorObject(x: unknown): boolean {
  return x !== null && typeof x === "object" && typeof (x as { error?: unknown }).error === "string";
}

function fuzz(schema: DatabaseSchema, cases: unknown[][], n: number, seed: number): void {
  const rnd = prng(seed);
  let db = new Database(schema);
  let failures = 0;
  let commits = 0;
  let blocked = 0;
  for (let i = 0; i < n; i++) {
    if (i % 500 === 0) {
      db = new Database(schema);
      // Seed some state so updates, deletes and references have targets.
      for (const ops of cases.slice(0, 60)) db.transact(ops);
    }
    const base = cases[Math.floor(rnd() * cases.length)]!;
    const ops = mutate(base, rnd);
    const before = snapshot(db);
    let out;
    try {
      out = db.transact(ops, { elapsedWaitMs: rnd() < 0.5 ? 0 : 100 });
    } catch (e) {
      assert.fail(`transaction ${i} threw ${(e as Error).stack}\nops: ${show(ops)}`);
    }
    assert.ok(Array.isArray(out.results));
    if (out.blocked !== null) {
      blocked++;
      assert.ok(sameSnapshot(before, snapshot(db)), `blocked transaction ${i} changed the database`);
      continue;
    }
    const nOps = Array.isArray(ops) ? ops.length : 1;
    assert.ok(out.results.length === nOps || out.results.length === nOps + 1, `result length ${out.results.length} for ${nOps} ops`);
    for (const r of out.results) if (!(r === null || (typeof r === "object" && !Array.isArray(r)))) assert.fail(`bad result element ${show(r)}`);
    if (out.results.some((r) => (r as { error?: string } | null)?.error === "internal error")) {
      assert.fail(`transaction ${i} hit an internal error: ${show(out.results)}\nops: ${show(ops)}`);
    }
    const failed = out.results.some(isErrorObject);
    if (failed) {
      failures++;
      assert.equal(out.changes, null);
      if (!sameSnapshot(before, snapshot(db))) assert.fail(`failed transaction ${i} changed the database: ${show(ops)}`);
    } else {
      if (out.changes !== null) {
        commits++;
        if (commits % 20 === 0) {
          const problem = checkBookkeeping(db);
          if (problem !== null) assert.fail(`after transaction ${i}: ${problem}\nops: ${show(ops)}`);
        }
      }
      assert.ok(!out.results.includes(null), "successful transaction has null results");
    }
  }
  assert.ok(failures > n / 10, `too few failures (${failures}): the fuzzer is not reaching error paths`);
  assert.ok(commits > n / 100, `too few commits (${commits}): the fuzzer is not reaching commit paths`);
  void blocked;
}

test("mutated transactions never throw and failures change nothing", { timeout: 120_000 }, () => {
  fuzz(SCHEMA, CASES, Number(process.env["FUZZ_TXNS"] ?? 100_000), Number(process.env["FUZZ_SEED"] ?? 12345));
});

test("the same holds for mutated ovs-vsctl-like transactions on Open_vSwitch", { timeout: 120_000 }, () => {
  fuzz(VSWITCH, VSWITCH_CASES, Number(process.env["FUZZ_TXNS"] ?? 100_000) / 5, Number(process.env["FUZZ_SEED"] ?? 12345) + 1);
});
