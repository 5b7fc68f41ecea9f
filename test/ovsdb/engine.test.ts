/**
 * The transaction engine's API as the server and storage use it: commit
 * listeners and immutable rows, replay of stored records, "wait" blocking,
 * locks, read-only mode, values and conditions.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import {
  Database,
  DatabaseSchema,
  OvsdbType,
  compareAtoms,
  datumFromJSON,
  datumToJSON,
  defaultDatum,
  parseConditions,
  rowMatches,
  type ChangeSet,
} from "../../src/ovsdb/index.js";
import { REPO_ROOT } from "../util/ovs.js";

const load = (f: string) => DatabaseSchema.fromJSON(JSON.parse(fs.readFileSync(path.join(REPO_ROOT, f), "utf8")));
const TESTDB = load("test/ovsdb/testdb.ovsschema");
const VSWITCH = load("schemas/vswitch.ovsschema");

test("commits notify listeners with old and new immutable rows and a fresh _version", () => {
  const db = new Database(TESTDB);
  const seen: ChangeSet[] = [];
  const off = db.onCommit((c) => seen.push(c));
  const ins = db.transact([
    { op: "insert", table: "Other", row: { x: 1 }, "uuid-name": "o" },
    { op: "comment", comment: "one" },
    { op: "comment", comment: "two" },
    { op: "commit", durable: true },
  ]);
  assert.equal(ins.comment, "one\ntwo");
  assert.equal(ins.durable, true);
  const uuid = (ins.results[0] as { uuid: [string, string] }).uuid[1];
  const first = db.tables.get("Other")!.rows.get(uuid)!;
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.get("Other")!.get(uuid)!.old, null);
  assert.equal(seen[0]!.get("Other")!.get(uuid)!.new, first);

  const upd = db.transact([{ op: "mutate", table: "Other", where: [["_uuid", "==", ["uuid", uuid]]], mutations: [["x", "+=", 41]] }]);
  assert.deepEqual(upd.results, [{ count: 1 }]);
  const second = db.tables.get("Other")!.rows.get(uuid)!;
  assert.notEqual(second, first);
  assert.deepEqual(first.get("x").keys, [1], "the old snapshot is unchanged");
  assert.deepEqual(second.get("x").keys, [42]);
  assert.notEqual(second.version, first.version);
  assert.equal(seen[1]!.get("Other")!.get(uuid)!.old, first);

  // A no-op update commits nothing and notifies nobody.
  const noop = db.transact([{ op: "update", table: "Other", where: [], row: { x: 42 } }]);
  assert.deepEqual(noop.results, [{ count: 1 }]);
  assert.equal(noop.changes, null);
  assert.equal(seen.length, 2);
  off();
  db.transact([{ op: "delete", table: "Other", where: [] }]);
  assert.equal(seen.length, 2);
});

test("applyRecord replays inserts, modifications (also as diffs) and deletes", () => {
  const db = new Database(TESTDB);
  let n = 0;
  db.onCommit((_c, outcome) => {
    assert.equal(outcome, null);
    n++;
  });
  const u = "11111111-1111-1111-1111-111111111111";
  const c = "22222222-2222-2222-2222-222222222222";
  db.applyRecord({
    Child: { [c]: { n: 5 } },
    Root: { [u]: { name: "a", kids: ["uuid", c], weak1: ["uuid", c], m: ["map", [["k", "v"]]] } },
  });
  const row = db.tables.get("Root")!.rows.get(u)!;
  assert.equal(row.get("name").keys[0], "a");
  assert.equal(row.get("i").keys[0], 0, "missing columns get defaults");
  db.applyRecord({ Root: { [u]: { m: ["map", [["k", "v"], ["k2", "v2"]]], ints: ["set", [1, 2]] } } }, { isDiff: true });
  const row2 = db.tables.get("Root")!.rows.get(u)!;
  assert.deepEqual(datumToJSON(TESTDB.tables.get("Root")!.columns.get("m")!.type, row2.get("m")), ["map", [["k2", "v2"]]]);
  assert.deepEqual(row2.get("ints").keys, [1, 2]);
  assert.equal(row2.get("name").keys[0], "a");
  // Reference counts were rebuilt: the child cannot be deleted while referenced.
  const del = db.transact([{ op: "delete", table: "Child", where: [] }]);
  assert.equal((del.results[1] as { error: string }).error, "referential integrity violation");
  // Index maps were rebuilt: a duplicate name is refused.
  const dup = db.transact([{ op: "insert", table: "Root", row: { name: "a", i: 9, weak1: ["uuid", c] } }]);
  assert.equal((dup.results[1] as { error: string }).error, "constraint violation");
  db.applyRecord({ Root: { [u]: null } });
  assert.equal(db.tables.get("Root")!.rows.size, 0);
  assert.equal(n, 3);
});

test("applyRecord writes an optional (max 1) column whole even in a diff record", () => {
  const db = new Database(TESTDB);
  const u = "33333333-3333-3333-3333-333333333333";
  const c = "44444444-4444-4444-4444-444444444444";
  db.applyRecord({ Child: { [c]: {} }, Root: { [u]: { name: "a", r: 1.5, weak1: ["uuid", c] } } });
  // OVS writes r (max 1) as its new value, not as a diff: 2.5 replaces 1.5.
  db.applyRecord({ Root: { [u]: { r: 2.5 } } }, { isDiff: true });
  assert.deepEqual(db.tables.get("Root")!.rows.get(u)!.get("r").keys, [2.5]);
  // Writing the same value again keeps it (a diff would have removed it).
  db.applyRecord({ Root: { [u]: { r: 2.5 } } }, { isDiff: true });
  assert.deepEqual(db.tables.get("Root")!.rows.get(u)!.get("r").keys, [2.5]);
  db.applyRecord({ Root: { [u]: { r: ["set", []] } } }, { isDiff: true });
  assert.deepEqual(db.tables.get("Root")!.rows.get(u)!.get("r").keys, []);
});

test("an unsatisfied wait blocks, then times out as OVS words it", () => {
  const db = new Database(TESTDB);
  const wait = (timeout?: number) => ({
    op: "wait", table: "Other", where: [], columns: ["x"], until: "==", rows: [{ x: 1 }], ...(timeout === undefined ? {} : { timeout }),
  });
  const forever = db.transact([wait()]);
  assert.deepEqual(forever.blocked, { timeoutMs: Infinity });
  const t = db.transact([wait(500), { op: "insert", table: "Other", row: {} }], { elapsedWaitMs: 100 });
  assert.deepEqual(t.blocked, { timeoutMs: 500 });
  assert.equal(db.tables.get("Other")!.rows.size, 0);
  const late = db.transact([wait(500)], { elapsedWaitMs: 600 });
  assert.deepEqual(late.results, [{ error: "timed out", details: '"wait" timed out after 600 ms' }]);
  db.transact([{ op: "insert", table: "Other", row: { x: 1 } }]);
  assert.deepEqual(db.transact([wait()]).results, [{}]);
});

test("assert checks held locks; read-only mode and _Server refuse writes", () => {
  const db = new Database(TESTDB);
  assert.deepEqual(db.transact([{ op: "assert", lock: "l" }]).results, [{ error: "not owner", details: "Asserted lock l not held." }]);
  assert.deepEqual(db.transact([{ op: "assert", lock: "l" }], { heldLocks: new Set(["l"]) }).results, [{}]);
  const ro = db.transact([{ op: "select", table: "Other", where: [] }, { op: "insert", table: "Other", row: {} }], { readOnly: true });
  assert.deepEqual(ro.results, [{ rows: [] }, { error: "not allowed", details: "insert operation not allowed when database server is in read only mode" }]);
  const server = new Database(load("schemas/_server.ovsschema"));
  assert.deepEqual(server.transact([{ op: "insert", table: "Database", row: { name: "x", model: "standalone" } }]).results, [
    { error: "not allowed", details: "insert operation not allowed on table in reserved database _Server" },
  ]);
  assert.deepEqual(db.transact("nope").results, [{ error: "syntax error", details: "array expected", syntax: '"nope"' }]);
});

test("values: ordering, defaults, JSON round trip and constraint errors", () => {
  assert.ok(compareAtoms("a", "b") < 0);
  assert.ok(compareAtoms("\u{1F600}", "\uFFFF") > 0, "strings compare by UTF-8 bytes");
  assert.ok(compareAtoms(false, true) < 0);
  assert.ok(compareAtoms(2, 10) < 0);
  const setT = OvsdbType.fromJSON({ key: "string", min: 0, max: "unlimited" });
  const d = datumFromJSON(setT, ["set", ["b", "a", "c"]]);
  assert.deepEqual(d.keys, ["a", "b", "c"]);
  assert.deepEqual(datumToJSON(setT, d), ["set", ["a", "b", "c"]]);
  assert.deepEqual(datumToJSON(setT, datumFromJSON(setT, "x")), "x");
  const enumT = OvsdbType.fromJSON({ key: { type: "string", enum: ["set", ["secure", "standalone"]] }, min: 0, max: 1 });
  assert.throws(() => datumFromJSON(enumT, "open"), { message: /is not one of the allowed values/ });
  const mapT = OvsdbType.fromJSON({ key: "integer", value: "boolean", min: 1, max: "unlimited" });
  assert.deepEqual(defaultDatum(mapT), { keys: [0], values: [false] });
  assert.deepEqual(datumToJSON(mapT, datumFromJSON(mapT, ["map", [[2, true], [1, false]]])), ["map", [[1, false], [2, true]]]);
  const uuidT = OvsdbType.fromJSON("uuid");
  assert.deepEqual(datumFromJSON(uuidT, ["uuid", "ABCDEF01-2345-6789-ABCD-EF0123456789"]).keys, ["abcdef01-2345-6789-abcd-ef0123456789"]);
});

test("conditions parse and match rows (used by monitor_cond too)", () => {
  const db = new Database(VSWITCH);
  const r = db.transact([
    { op: "insert", table: "Open_vSwitch", row: { bridges: ["named-uuid", "b"] } },
    { op: "insert", table: "Bridge", "uuid-name": "b", row: { name: "br0", external_ids: ["map", [["a", "1"]]] } },
  ]);
  assert.equal(r.changes?.get("Bridge")?.size, 1);
  const bridge = [...db.tables.get("Bridge")!.rows.values()][0]!;
  const ts = VSWITCH.tables.get("Bridge")!;
  assert.ok(rowMatches(bridge, parseConditions(ts, [["name", "==", "br0"], ["external_ids", "includes", ["map", [["a", "1"]]]]])));
  assert.ok(!rowMatches(bridge, parseConditions(ts, [["external_ids", "excludes", ["map", [["a", "1"]]]]])));
  assert.ok(rowMatches(bridge, parseConditions(ts, [true])));
  assert.throws(() => parseConditions(ts, [["nope", "==", 1]]), { message: /No column nope in table Bridge/ });
});

test("Open_vSwitch: garbage collection of unreferenced bridges and index lookups", () => {
  const db = new Database(VSWITCH);
  db.transact([
    { op: "insert", table: "Open_vSwitch", "uuid-name": "ovs", row: { bridges: ["named-uuid", "b"] } },
    { op: "insert", table: "Bridge", "uuid-name": "b", row: { name: "br0", ports: ["named-uuid", "p"] } },
    { op: "insert", table: "Port", "uuid-name": "p", row: { name: "br0", interfaces: ["named-uuid", "i"] } },
    { op: "insert", table: "Interface", "uuid-name": "i", row: { name: "br0", type: "internal" } },
  ]);
  assert.equal(db.tables.get("Interface")!.rows.size, 1);
  const sel = db.transact([{ op: "select", table: "Bridge", where: [["name", "==", "br0"]], columns: ["name"] }]);
  assert.deepEqual(sel.results, [{ rows: [{ name: "br0" }] }]);
  // An orphan bridge is collected at commit.
  db.transact([{ op: "insert", table: "Bridge", row: { name: "orphan" } }]);
  assert.equal(db.tables.get("Bridge")!.rows.size, 1);
  // Removing the bridge from Open_vSwitch collects bridge, port and interface.
  const out = db.transact([{ op: "update", table: "Open_vSwitch", where: [], row: { bridges: ["set", []] } }]);
  assert.equal(out.changes?.get("Interface")?.size, 1);
  for (const t of ["Bridge", "Port", "Interface"]) assert.equal(db.tables.get(t)!.rows.size, 0, t);
});
