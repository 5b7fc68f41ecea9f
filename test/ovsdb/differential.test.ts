/**
 * Differential test: the same transactions go to the real ovsdb-server
 * (OVS 3.1) and to Database.transact; results must match once UUIDs are
 * normalized (rows of "select" results are compared as sets).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { openJsonRpc } from "../../src/jsonrpc/index.js";
import { Database, DatabaseSchema } from "../../src/ovsdb/index.js";
import { ovsSkip, REPO_ROOT, startRealOvsdb, tempDir } from "../util/ovs.js";
import { CASES, VSWITCH_CASES } from "./transact-cases.js";
import { checkBookkeeping } from "./bookkeeping.js";

const SCHEMA = path.join(REPO_ROOT, "test", "ovsdb", "testdb.ovsschema");
const VSWITCH = path.join(REPO_ROOT, "schemas", "vswitch.ovsschema");
const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;

/** Names UUIDs in order of first appearance in insert results; others become "<uuid>". */
class Namer {
  private names = new Map<string, string>();
  learn(u: string, name: string): void {
    this.names.set(u, name);
  }
  normalize(v: unknown): unknown {
    if (typeof v === "string") return sortIndexRows(v.replace(UUID_RE, (u) => this.names.get(u) ?? "<uuid>"));
    if (Array.isArray(v)) return v.map((x) => this.normalize(x));
    if (v !== null && typeof v === "object") {
      const o: Record<string, unknown> = {};
      for (const k of Object.keys(v as object).sort()) o[k] = this.normalize((v as Record<string, unknown>)[k]);
      if (Array.isArray(o["rows"])) o["rows"] = (o["rows"] as unknown[]).map((r) => JSON.stringify(r)).sort();
      return o;
    }
    return v;
  }
}

/** OVS names the two rows of an index conflict in hash order: compare them as a pair. */
function sortIndexRows(s: string): string {
  const m = /^(.*?)  First row, with UUID (.*?)  Second row, with UUID (.*)$/.exec(s);
  if (m === null) return s;
  const pair = [m[2]!, m[3]!].sort();
  return `${m[1]}  rows: ${pair.join(" / ")}`;
}

function insertUuids(results: unknown): string[] {
  const out: string[] = [];
  if (!Array.isArray(results)) return out;
  for (const r of results) {
    const u = (r as { uuid?: unknown } | null)?.uuid;
    if (Array.isArray(u) && typeof u[1] === "string") out.push(u[1]);
    else out.push("");
  }
  return out;
}

async function differential(schemaFile: string, dbName: string, cases: unknown[][]): Promise<void> {
  const dir = tempDir("tsovs-ovsdb-diff-");
  const real = await startRealOvsdb(dir, schemaFile);
  const conn = await openJsonRpc(real.remote);
  try {
    const db = new Database(DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(schemaFile, "utf8"))));
    const realNames = new Namer();
    const ourNames = new Namer();
    let n = 0;
    const mismatches: string[] = [];
    for (const ops of cases) {
      const theirs = await conn.request("transact", [dbName, ...ops]);
      const ours = db.transact(ops).results;
      const problem = checkBookkeeping(db);
      if (problem !== null) mismatches.push(`ops: ${JSON.stringify(ops)}\n  bookkeeping: ${problem}`);
      const tu = insertUuids(theirs);
      const ou = insertUuids(ours);
      for (let i = 0; i < Math.min(tu.length, ou.length); i++) {
        if (tu[i] && ou[i]) {
          const name = `#${++n}`;
          realNames.learn(tu[i]!, name);
          ourNames.learn(ou[i]!, name);
        }
      }
      const a = realNames.normalize(theirs);
      const b = ourNames.normalize(ours);
      try {
        assert.deepEqual(b, a);
      } catch {
        mismatches.push(`ops: ${JSON.stringify(ops)}\n  ovs:  ${JSON.stringify(a)}\n  ours: ${JSON.stringify(b)}`);
      }
    }
    assert.equal(mismatches.length, 0, `${mismatches.length} of ${cases.length} transactions differ:\n${mismatches.join("\n")}`);
  } finally {
    conn.close();
    await real.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

test("transact results match the real ovsdb-server (test schema)", { skip: ovsSkip("ovsdb-server", "ovsdb-tool"), timeout: 60_000 }, async () => {
  await differential(SCHEMA, "TestDB", CASES);
});

test("transact results match the real ovsdb-server (Open_vSwitch schema)", { skip: ovsSkip("ovsdb-server", "ovsdb-tool"), timeout: 60_000 }, async () => {
  await differential(VSWITCH, "Open_vSwitch", VSWITCH_CASES);
});
