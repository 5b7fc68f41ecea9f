/**
 * `tsovs ovsdb-tool` against the real ovsdb-tool 3.1: the same commands on
 * the same files print the same output and errors, and files written by
 * either are read by the other (and by the real ovsdb-server) with the same
 * contents.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { OVS_SCHEMA, ovsSkip, run, startRealOvsdb, tempDir, tsovs, type RunResult } from "../util/ovs.js";

const skip = ovsSkip("ovsdb-tool", "ovsdb-server", "ovs-vsctl", "ovsdb-client");

const TEST_SCHEMA = {
  name: "T",
  version: "1.2.3",
  tables: {
    A: {
      columns: {
        name: { type: "string" },
        tag: { type: { key: "integer", min: 0, max: 1 } },
        m: { type: { key: "string", value: "string", min: 0, max: "unlimited" } },
        s: { type: { key: "integer", min: 0, max: "unlimited" } },
        r: { type: { key: { type: "uuid", refTable: "B" }, min: 0, max: "unlimited" } },
        e: { type: "integer", ephemeral: true },
      },
      isRoot: true,
      indexes: [["name"]],
    },
    B: { columns: { x: { type: "real" }, b: { type: "boolean" } } },
  },
};

const TXNS = [
  '["T",{"op":"insert","table":"A","row":{"name":"p","tag":5,"m":["map",[["a","1"],["b","2"]]],"s":["set",[1,2,3]]}}]',
  '["T",{"op":"update","table":"A","where":[],"row":{"tag":["set",[]],"m":["map",[["a","9"],["c","3"]]],"s":["set",[2,4]]}}]',
  '["T",{"op":"update","table":"A","where":[],"row":{"tag":7,"e":3}},{"op":"comment","comment":"hello"}]',
  '["T",{"op":"insert","table":"B","row":{"x":1.5},"uuid-name":"b"},{"op":"insert","table":"A","row":{"name":"w","r":["named-uuid","b"]}}]',
  '["T",{"op":"mutate","table":"A","where":[["name","==","w"]],"mutations":[["m","insert",["map",[["k","v"]]]],["s","insert",7]]}]',
  '["T",{"op":"delete","table":"A","where":[["name","==","p"]]}]',
  '["T",{"op":"insert","table":"A","row":{"name":"p"}}]',
  '["X",{"op":"select","table":"A","where":[]}]',
  '{}',
];

const QUERY =
  '["T",{"op":"select","table":"A","where":[],"columns":["_uuid","name","tag","m","s","r","e"]},{"op":"select","table":"B","where":[],"columns":["_uuid","x","b"]}]';

const UUID_RE = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g;
const DATE_RE = /\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}/g;

function real(args: string[]): RunResult {
  return run("ovsdb-tool", args);
}
function ours(args: string[]): RunResult {
  return tsovs(["ovsdb-tool", ...args]);
}

/**
 * Query output with each result's rows sorted by uuid: OVS returns rows in
 * its hash-table order, which depends on the history of the table, not only
 * on its contents.
 */
function sortRows(out: string): string {
  return out
    .split("\n")
    .map((line) => {
      if (!line.startsWith("[")) return line;
      const results = JSON.parse(line) as { rows?: { _uuid?: unknown }[] }[];
      for (const r of results) r.rows?.sort((a, b) => (JSON.stringify(a._uuid) < JSON.stringify(b._uuid) ? -1 : 1));
      return JSON.stringify(results);
    })
    .join("\n");
}

/**
 * show-log output with the row blocks of each record sorted: the order of
 * rows within a snapshot follows OVS's in-memory hash table, which depends
 * on the table's history (approximated, not reproduced, by tsovs).
 */
function sortRowBlocks(out: string): string {
  const records = out.split(/\n(?=record \d+:)/);
  return records
    .map((rec) => {
      const lines = rec.split("\n");
      const head: string[] = [];
      const blocks: string[][] = [];
      for (const l of lines) {
        if (l.startsWith("  table ")) blocks.push([l]);
        else if (blocks.length > 0 && l.startsWith("    ")) blocks[blocks.length - 1]!.push(l);
        else head.push(l);
      }
      return [...head, ...blocks.map((b) => b.join("\n")).sort()].join("\n");
    })
    .join("\n");
}

function same(args: string[], normalize: (s: string) => string = (s) => s): RunResult {
  const a = real(args);
  const b = ours(args);
  assert.equal(b.status, a.status, `exit status of ${args.join(" ")}\nreal: ${a.stderr}\nours: ${b.stderr}`);
  assert.equal(normalize(b.stdout), normalize(a.stdout), `stdout of ${args.join(" ")}`);
  assert.equal(normalize(b.stderr), normalize(a.stderr), `stderr of ${args.join(" ")}`);
  return a;
}

function setup(): { dir: string; schema: string } {
  const dir = tempDir("tsovs-tool-");
  const schema = path.join(dir, "t.ovsschema");
  fs.writeFileSync(schema, JSON.stringify(TEST_SCHEMA));
  return { dir, schema };
}

test("schema and database information commands match", { skip }, () => {
  const { dir, schema } = setup();
  try {
    const db = path.join(dir, "v.db");
    assert.equal(real(["create", db, OVS_SCHEMA]).status, 0);
    for (const cmd of ["db-name", "db-version", "db-cksum"]) same([cmd, db]);
    for (const cmd of ["schema-name", "schema-version", "schema-cksum"]) {
      same([cmd, OVS_SCHEMA]);
      same([cmd, schema]);
    }
    same(["needs-conversion", db, OVS_SCHEMA]);
    same(["needs-conversion", db, schema]);
    same(["db-is-standalone", db]);
    same(["db-is-clustered", db]);
    same(["compare-versions", "1.2.3", "<", "1.10.0"]);
    same(["compare-versions", "1.2.3", ">=", "1.10.0"]);
    // Errors.
    same(["db-name", path.join(dir, "missing.db")]);
    same(["db-name", schema]);
    same(["create", db, schema]);
    same(["schema-name", path.join(dir, "missing.ovsschema")]);
    fs.writeFileSync(path.join(dir, "bad.ovsschema"), '{"name":"x"}');
    same(["schema-name", path.join(dir, "bad.ovsschema")]);
    same([]);
    same(["frobnicate"]);
    same(["create", "a", "b", "c"]);
    same(["query"]);
    same(["--bogus"]);
    // Bad JSON arguments get OVS's JSON parser diagnostics.
    for (const j of ["bad", "", "{}x", "5", "[1,]", '{"a" 1}', '{"a":1', "[01]", "[1e999]", '["a\\q"]', '["\\u0000"]', "[1 2]", "[True]", "[\n1,\n x]"]) {
      same(["query", db, j]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("transact/query: same results, and each reads the files the other wrote", { skip }, () => {
  const { dir, schema } = setup();
  try {
    const dbReal = path.join(dir, "real.db");
    const dbOurs = path.join(dir, "ours.db");
    assert.equal(real(["create", dbReal, schema]).status, 0);
    const c = ours(["create", dbOurs, schema]);
    assert.equal(c.status, 0, c.stderr);
    const noUuids = (s: string): string => s.replace(UUID_RE, "<uuid>");
    for (const t of TXNS) {
      const a = real(["transact", dbReal, t]);
      const b = ours(["transact", dbOurs, t]);
      assert.equal(b.status, a.status);
      assert.equal(noUuids(b.stdout), noUuids(a.stdout), `result of ${t}`);
      assert.equal(b.stderr, a.stderr);
    }
    // Each tool reads both files identically (same file => same uuids).
    for (const db of [dbReal, dbOurs]) {
      same(["query", db, QUERY], sortRows);
      // A "wait" that would block cannot wait in a tool.
      same(["query", db, '["T",{"op":"select","table":"B","where":[],"columns":["x"]},{"op":"wait","table":"A","where":[],"columns":["name"],"until":"==","rows":[{"name":"zzz"}]},{"op":"select","table":"B","where":[]}]']);
      same(["show-log", db], (s) => s.replace(DATE_RE, "<date>"));
      same(["show-log", "-m", db], (s) => s.replace(DATE_RE, "<date>"));
      same(["-mm", "show-log", db], (s) => s.replace(DATE_RE, "<date>"));
    }
    // And the two files hold the same history.
    const logReal = real(["show-log", "-mm", dbReal]).stdout.replace(DATE_RE, "<date>").replace(UUID_RE, "<uuid>").replace(/\([0-9a-f]{8}\)/g, "(<id>)").replace(/row [0-9a-f]{8}:/g, "row <id>:");
    const logOurs = real(["show-log", "-mm", dbOurs]).stdout.replace(DATE_RE, "<date>").replace(UUID_RE, "<uuid>").replace(/\([0-9a-f]{8}\)/g, "(<id>)").replace(/row [0-9a-f]{8}:/g, "row <id>:");
    assert.equal(logOurs.split("\n").sort().join("\n"), logReal.split("\n").sort().join("\n"));
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("compact and convert produce what OVS's do", { skip }, () => {
  const { dir, schema } = setup();
  try {
    const db = path.join(dir, "base.db");
    assert.equal(real(["create", db, schema]).status, 0);
    for (const t of TXNS.slice(0, 5)) real(["transact", db, t]);
    const schema2 = path.join(dir, "t2.ovsschema");
    const s2 = structuredClone(TEST_SCHEMA) as { version: string; tables: Record<string, { columns: Record<string, unknown> }> };
    s2.version = "1.3.0";
    s2.tables["A"]!.columns["extra"] = { type: "string" };
    delete s2.tables["B"]!.columns["b"];
    fs.writeFileSync(schema2, JSON.stringify(s2));
    const norm = (s: string): string => s.replace(DATE_RE, "<date>");
    for (const [cmd, extra] of [["compact", [] as string[]], ["convert", [schema2]]] as const) {
      const a = path.join(dir, `${cmd}-real.db`);
      const b = path.join(dir, `${cmd}-ours.db`);
      fs.copyFileSync(db, a);
      fs.copyFileSync(db, b);
      assert.equal(real([cmd, a, ...extra]).status, 0);
      const r = ours([cmd, b, ...extra]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(sortRowBlocks(norm(real(["show-log", "-mm", b]).stdout)), sortRowBlocks(norm(real(["show-log", "-mm", a]).stdout)));
      assert.equal(sortRows(real(["query", b, QUERY.replace(',"b"]', "]")]).stdout), sortRows(real(["query", a, QUERY.replace(',"b"]', "]")]).stdout));
      // To a separate destination.
      const dst = path.join(dir, `${cmd}-dst.db`);
      assert.equal(ours([cmd, db, ...extra, dst]).status, 0);
      assert.equal(sortRows(real(["query", dst, QUERY.replace(',"b"]', "]")]).stdout), sortRows(real(["query", a, QUERY.replace(',"b"]', "]")]).stdout));
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("damaged files: same messages as ovsdb-tool", { skip }, () => {
  const { dir, schema } = setup();
  try {
    const db = path.join(dir, "d.db");
    assert.equal(real(["create", db, schema]).status, 0);
    for (const t of TXNS.slice(0, 4)) real(["transact", db, t]);
    const full = fs.readFileSync(db, "latin1");
    const second = full.indexOf("OVSDB JSON", 10);
    const header = full.slice(second, full.indexOf("\n", second));
    const sha = header.split(" ")[3]!;
    const cases: Record<string, string> = {
      torn: full.slice(0, full.length - 30),
      sha1: full.replace(sha, sha.startsWith("0") ? "1" + sha.slice(1) : "0" + sha.slice(1)),
      header: full.replace(header, header.replace(/ \d+ /, " 12x ")),
      garbage: full.slice(0, second) + "garbage here\n",
      empty: "",
      notdb: "hello\n",
    };
    for (const [name, text] of Object.entries(cases)) {
      const f = path.join(dir, `${name}.db`);
      fs.writeFileSync(f, Buffer.from(text, "latin1"));
      same(["show-log", f]);
      same(["query", f, QUERY]);
      same(["db-name", f]);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a conf.db written by the real ovsdb-server (via ovs-vsctl) reads the same in tsovs", { skip, timeout: 60_000 }, async () => {
  const d = await startRealOvsdb();
  try {
    const vsctl = (...args: string[]): void => {
      const r = run("ovs-vsctl", [`--db=${d.remote}`, "--no-wait", ...args], d.dir);
      assert.equal(r.status, 0, r.stderr);
    };
    vsctl("init");
    vsctl("add-br", "br0", "--", "set", "bridge", "br0", "external_ids:a=b", "other_config:x=y");
    vsctl("set", "bridge", "br0", "external_ids:c=d");
    vsctl("remove", "bridge", "br0", "external_ids", "a");
    vsctl("add-port", "br0", "p1", "--", "set", "port", "p1", "tag=5", "trunks=1,2,3");
    vsctl("set", "port", "p1", "trunks=2,4");
    vsctl("clear", "port", "p1", "tag");
    vsctl("add-port", "br0", "p2");
    vsctl("del-port", "p1");
    const db = path.join(d.dir, "conf.db");
    const schema = JSON.parse(fs.readFileSync(OVS_SCHEMA, "utf8")) as { tables: Record<string, { columns: Record<string, unknown> }> };
    const ops = Object.entries(schema.tables).map(([t, ts]) => ({
      op: "select",
      table: t,
      where: [],
      columns: ["_uuid", ...Object.keys(ts.columns)],
    }));
    const q = JSON.stringify(["Open_vSwitch", ...ops]);
    const a = real(["query", db, q]);
    const b = ours(["query", db, q]);
    assert.equal(b.stderr, a.stderr);
    assert.equal(sortRows(b.stdout), sortRows(a.stdout));
    same(["show-log", "-mm", db]);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test("a database written by tsovs is served by the real ovsdb-server", { skip, timeout: 60_000 }, async () => {
  const dir = tempDir("tsovs-served-");
  try {
    const db = path.join(dir, "conf.db");
    assert.equal(ours(["create", db, OVS_SCHEMA]).status, 0);
    const txns = [
      '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{"bridges":["named-uuid","br"]}},{"op":"insert","table":"Bridge","uuid-name":"br","row":{"name":"br0","external_ids":["map",[["a","b"]]],"ports":["named-uuid","p"]}},{"op":"insert","table":"Port","uuid-name":"p","row":{"name":"br0","interfaces":["named-uuid","i"]}},{"op":"insert","table":"Interface","uuid-name":"i","row":{"name":"br0","type":"internal"}}]',
      '["Open_vSwitch",{"op":"mutate","table":"Bridge","where":[],"mutations":[["external_ids","insert",["map",[["c","d"]]]],["external_ids","delete",["set",["a"]]]]}]',
      '["Open_vSwitch",{"op":"update","table":"Port","where":[],"row":{"tag":9,"trunks":["set",[1,2]]}}]',
      '["Open_vSwitch",{"op":"update","table":"Port","where":[],"row":{"tag":["set",[]],"trunks":["set",[2,3]]}}]',
    ];
    for (const t of txns) {
      const r = ours(["transact", db, t]);
      assert.equal(r.status, 0, r.stderr);
      assert.doesNotMatch(r.stdout, /error/, r.stdout);
    }
    const d = await startRealOvsdb(dir);
    try {
      let dump = run("ovsdb-client", ["dump", d.remote, "Open_vSwitch", "Bridge"], dir);
      assert.equal(dump.status, 0, dump.stderr);
      assert.match(dump.stdout, /\{c=d\}/);
      dump = run("ovsdb-client", ["dump", d.remote, "Open_vSwitch", "Port"], dir);
      assert.match(dump.stdout, /\[2, 3\]/);
      const r = run("ovs-vsctl", [`--db=${d.remote}`, "--no-wait", "set", "port", "br0", "tag=4"], dir);
      assert.equal(r.status, 0, r.stderr);
    } finally {
      await d.stop();
    }
    // The record the real server appended reads back in tsovs.
    const q = '["Open_vSwitch",{"op":"select","table":"Port","where":[],"columns":["name","tag","trunks"]}]';
    assert.equal(ours(["query", db, q]).stdout, '[{"rows":[{"name":"br0","tag":4,"trunks":["set",[2,3]]}]}]\n');
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("a database locked by a running server is not written (real and tsovs servers)", { skip, timeout: 60_000 }, async () => {
  const d = await startRealOvsdb();
  try {
    const db = path.join(d.dir, "conf.db");
    const ts = (s: string): string => s.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, "<ts>|");
    same(["transact", db, '["Open_vSwitch",{"op":"insert","table":"Open_vSwitch","row":{}}]'], ts);
    same(["compact", db], ts);
    same(["query", db, '["Open_vSwitch",{"op":"select","table":"Open_vSwitch","where":[]}]']);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
  // A tsovs process holding the database keeps tsovs tools out the same way.
  const { dir, schema } = setup();
  try {
    const db = path.join(dir, "held.db");
    assert.equal(ours(["create", db, schema]).status, 0);
    const { openDbFile } = await import("../../src/ovsdb/storage/index.js");
    const held = await openDbFile(db);
    try {
      const r = ours(["transact", db, '["T",{"op":"insert","table":"B","row":{}}]']);
      assert.equal(r.status, 1);
      assert.match(r.stderr, new RegExp(`cannot lock file because it is already locked by pid ${process.pid}`));
      assert.match(r.stderr, /I\/O error: .*held\.db: failed to lock lockfile \(Resource temporarily unavailable\)/);
    } finally {
      await held.close();
    }
    assert.equal(ours(["transact", db, '["T",{"op":"insert","table":"A","row":{"name":"ok"}}]']).status, 0);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
