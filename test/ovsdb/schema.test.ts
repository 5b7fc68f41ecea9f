/**
 * Schema parsing: the bundled schemas are OVS 3.1's, they print back as
 * ovsdb-server's get_schema does, and bad schemas are rejected with
 * ovsdb-tool's wording.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DatabaseSchema, OvsdbError } from "../../src/ovsdb/index.js";
import { OVS_SCHEMA, ovsSkip, REPO_ROOT, run, startRealOvsdb, tempDir } from "../util/ovs.js";

const VSWITCH = path.join(REPO_ROOT, "schemas", "vswitch.ovsschema");
const SERVER = path.join(REPO_ROOT, "schemas", "_server.ovsschema");
const readJson = (f: string): unknown => JSON.parse(fs.readFileSync(f, "utf8"));

test("bundled vswitch.ovsschema is Open_vSwitch 8.3.1 with its 19 tables", () => {
  const s = DatabaseSchema.fromJSON(readJson(VSWITCH));
  assert.equal(s.name, "Open_vSwitch");
  assert.equal(s.version, "8.3.1");
  assert.equal(s.tables.size, 19);
  const bridge = s.tables.get("Bridge")!;
  assert.deepEqual(bridge.indexes, [["name"]]);
  assert.equal(bridge.isRoot, false);
  assert.equal(s.tables.get("Open_vSwitch")!.isRoot, true);
  assert.equal(s.tables.get("Open_vSwitch")!.maxRows, 1);
  assert.equal(bridge.columns.get("ports")!.type.key.refTable, "Port");
  assert.equal(bridge.columns.get("ports")!.type.max, Infinity);
});

test("bundled vswitch.ovsschema is identical in content to the Debian OVS file", { skip: fs.existsSync(OVS_SCHEMA) ? false : `${OVS_SCHEMA} missing` }, () => {
  assert.deepEqual(readJson(VSWITCH), readJson(OVS_SCHEMA));
});

test("schemas print back as the real ovsdb-server's get_schema", { skip: ovsSkip("ovsdb-server", "ovsdb-tool", "ovsdb-client"), timeout: 30_000 }, async () => {
  const dir = tempDir("tsovs-schema-");
  const real = await startRealOvsdb(dir, VSWITCH);
  try {
    for (const [db, file] of [["Open_vSwitch", VSWITCH], ["_Server", SERVER]] as const) {
      const r = run("ovsdb-client", ["get-schema", real.remote, db]);
      assert.equal(r.status, 0, r.stderr);
      const theirs = JSON.parse(r.stdout);
      const ours = DatabaseSchema.fromJSON(readJson(file)).toJSON();
      assert.deepEqual(ours, theirs, db);
    }
  } finally {
    await real.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

const T = (cols: unknown, extra: Record<string, unknown> = {}) => ({ name: "x", tables: { T: { columns: cols, ...extra } } });
const BAD: [unknown, string][] = [
  [{ name: "x", version: "1.2", tables: {} }, 'schema version "1.2" not in format x.y.z'],
  [{ version: "1.2.3", tables: {} }, "Parsing database schema failed: Required 'name' member is missing."],
  [{ name: "x", tables: { _T: { columns: { a: { type: "integer" } } } } }, 'names beginning with "_" are reserved'],
  [T({}), "table must have at least one column"],
  [T({ a: { type: "int" } }), '"int" is not an atomic-type'],
  [T({ a: { type: { key: "integer", min: 2 } } }), "ovsdb type fails constraint checks"],
  [T({ a: { type: { key: "integer", max: 0 } } }), "ovsdb type fails constraint checks"],
  [T({ a: { type: { key: "integer", max: "lots" } } }), "bad min or max value"],
  [T({ a: { type: { key: { type: "uuid", refTable: "U" } } } }), "column a key refers to undefined table U"],
  [T({ a: { type: { key: { type: "uuid", refTable: "T", refType: "soft" } } } }), 'refType must be "strong" or "weak" (not "soft")'],
  [T({ a: { type: { key: { type: "integer", refTable: "T" } } } }), "Parsing ovsdb type failed: Member 'refTable' is present but not allowed here."],
  [T({ a: { type: "integer" } }, { indexes: [["b"]] }), "b is not a valid column name"],
  [T({ a: { type: "integer", ephemeral: true } }, { indexes: [["a"]] }), "ephemeral columns (such as a) may not be indexed"],
  [T({ a: { type: "integer" } }, { indexes: [[]] }), "index must have at least one column"],
  [T({ a: { type: "integer" } }, { maxRows: 0 }), "maxRows must be at least 1"],
  [T({ a: { type: "integer", foo: 1 } }), "Parsing schema for column a failed: Member 'foo' is present but not allowed here."],
  [T({ a: { type: { key: { type: "integer", minInteger: 5, maxInteger: 1 } } } }), "minInteger exceeds maxInteger"],
  [T({ a: { type: { key: { type: "string", enum: ["set", []] } } } }), "set must have 1 to 4294967295 members but 0 are present"],
  [T({ "a b": { type: "integer" } }), "name must be a valid id"],
  [T({ a: { type: 5 } }), "Parsing schema for column a failed: Type mismatch for member 'type'."],
];

test("bad schemas are rejected with ovsdb-tool's words", () => {
  for (const [json, details] of BAD) {
    assert.throws(
      () => DatabaseSchema.fromJSON(json),
      (e: unknown) => e instanceof OvsdbError && e.tag === "syntax error" && e.details === details,
      `${JSON.stringify(json)} should fail with: ${details}`,
    );
  }
});

test("ovsdb-tool agrees on the bad-schema messages", { skip: ovsSkip("ovsdb-tool") }, () => {
  const dir = tempDir("tsovs-badschema-");
  try {
    for (const [json, details] of BAD) {
      fs.writeFileSync(path.join(dir, "s.json"), JSON.stringify(json));
      const r = run("ovsdb-tool", ["create", path.join(dir, "x.db"), path.join(dir, "s.json")]);
      fs.rmSync(path.join(dir, "x.db"), { force: true });
      assert.notEqual(r.status, 0);
      assert.ok(r.stderr.trimEnd().endsWith(`as ovsdb schema: ${details}`), `ovsdb-tool said: ${r.stderr}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a schema without any isRoot makes every table a root and prints no isRoot", () => {
  const s = DatabaseSchema.fromJSON({ name: "x", version: "1.0.0", tables: { A: { columns: { a: { type: "integer" } } } } });
  assert.equal(s.tables.get("A")!.isRoot, true);
  assert.deepEqual(s.toJSON(), { name: "x", version: "1.0.0", tables: { A: { columns: { a: { type: "integer" } } } } });
});
