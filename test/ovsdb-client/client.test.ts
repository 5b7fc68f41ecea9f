/**
 * `tsovs ovsdb-client` against the real ovsdb-client 3.1: both talk to the
 * same real ovsdb-server, and must print the same output (every format)
 * and the same errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { OVS_SCHEMA, TSOVS_BIN, ovsSkip, run, startRealOvsdb, tempDir, tsovs, waitFor, type Daemon } from "../util/ovs.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovsdb-client");

function same(d: Daemon, args: string[], normalize: (s: string) => string = (s) => s): void {
  const a = run("ovsdb-client", args, d.dir);
  const b = tsovs(["ovsdb-client", ...args], d.dir);
  const what = `ovsdb-client ${args.join(" ")}`;
  assert.equal(b.status, a.status, `exit status of ${what}\nreal: ${a.stderr}\nours: ${b.stderr}`);
  assert.equal(normalize(b.stdout), normalize(a.stdout), `stdout of ${what}`);
  assert.equal(normalize(b.stderr), normalize(a.stderr), `stderr of ${what}`);
}

async function populated(): Promise<Daemon> {
  const d = await startRealOvsdb();
  const vsctl = (...args: string[]): void => {
    const r = run("ovs-vsctl", [`--db=${d.remote}`, "--no-wait", ...args], d.dir);
    assert.equal(r.status, 0, r.stderr);
  };
  vsctl("init");
  vsctl("add-br", "br0", "--", "set", "bridge", "br0", "external_ids:a=b", "other_config:hwaddr=\"00:11:22:33:44:55\"");
  vsctl("add-port", "br0", "p1", "--", "set", "port", "p1", "tag=5", "trunks=1,2,3", "--", "set", "interface", "p1", "type=internal");
  vsctl("add-br", "br1", "--", "set-controller", "br1", "tcp:127.0.0.1:6653");
  vsctl("set", "open_vswitch", ".", "external_ids:hostname=\"a b,c\"", "other_config:x=<&>");
  return d;
}

test("schema commands, dump and transact print what ovsdb-client prints", { skip, timeout: 120_000 }, async () => {
  const d = await populated();
  try {
    const r = d.remote;
    same(d, ["list-dbs", r]);
    same(d, ["list-dbs"]); // default server from OVS_RUNDIR
    for (const cmd of ["get-schema-version", "get-schema-cksum", "list-tables", "get-schema"]) {
      same(d, [cmd, r]);
      same(d, [cmd, r, "Open_vSwitch"]);
    }
    same(d, ["list-tables", r, "_Server"]);
    same(d, ["list-columns", r]);
    same(d, ["list-columns", r, "Open_vSwitch", "Bridge"]);
    same(d, ["list-columns", r, "_Server"]);
    same(d, ["dump", r]);
    same(d, ["dump", r, "Open_vSwitch", "Port"]);
    same(d, ["dump", r, "Open_vSwitch", "Bridge", "name", "ports", "external_ids"]);
    for (const fmt of ["table", "list", "html", "csv", "json"]) {
      same(d, [`--format=${fmt}`, "dump", r]);
      same(d, [`--format=${fmt}`, "list-columns", r, "Open_vSwitch", "Port"]);
    }
    same(d, ["-f", "csv", "--no-headings", "dump", r, "Open_vSwitch", "Interface"]);
    same(d, ["--format=json", "--pretty", "dump", r, "Open_vSwitch", "Bridge"]);
    same(d, ["--data=json", "dump", r, "Open_vSwitch", "Bridge"]);
    same(d, ["--data=bare", "dump", r, "Open_vSwitch", "Bridge"]);
    same(d, ["--bare", "dump", r, "Open_vSwitch", "Bridge"]);
    same(d, ["--pretty", "get-schema", r, "_Server"]);
    const sel = '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["name","ports","external_ids"]}]';
    same(d, ["transact", r, sel], (s) => s);
    same(d, ["--pretty", "query", r, sel]);
    same(d, ["query", r, '["Open_vSwitch",{"op":"select","table":"Nope","where":[]}]']);
    same(d, ["transact", r, '["Open_vSwitch",{"op":"insert","table":"Bridge","row":{"name":"br0"}}]'], (s) =>
      s.replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, "<uuid>"),
    );
    // Errors.
    same(d, ["list-tables", r, "Nope"]);
    same(d, ["dump", r, "Open_vSwitch", "Nope"]);
    same(d, ["dump", r, "Open_vSwitch", "Bridge", "name", "nope"]);
    same(d, ["transact", r, "{}"]);
    same(d, ["transact", r, '["Nope"]']);
    same(d, ["frobnicate"]);
    same(d, []);
    same(d, ["list-columns", r, "Open_vSwitch", "Bridge", "extra"]);
    same(d, ["list-dbs", `unix:${path.join(d.dir, "nonexistent.sock")}`]);
    same(d, ["--format=xml", "list-dbs", r]);
    same(d, ["monitor-cond", r, "Open_vSwitch", '[["nope","==",1]]', "Bridge"]);
    same(d, ["monitor-cond", r, "Open_vSwitch", '[["name","==",1]]', "Bridge"]);
    same(d, ["monitor", r, "Open_vSwitch", "Nope"]);
    same(d, ["monitor", r, "Open_vSwitch", "Bridge", "name,nope"]);
    same(d, ["monitor", r, "Open_vSwitch", "Bridge", "name,name"]);
    const noTime = (x: string): string => x.replace(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\|/gm, "<ts>|");
    same(d, ["wait", r, "Open_vSwitch", "connected"], noTime);
    same(d, ["wait", r, "Open_vSwitch", "added"], noTime);
    same(d, ["wait", r, "Open_vSwitch", "bogus"]);
    // Several remotes: tried in turn, with the reconnect log on stderr.
    same(d, ["list-dbs", `unix:${path.join(d.dir, "nonexistent.sock")},${r}`], noTime);
    same(d, ["list-tables", `${r},unix:${path.join(d.dir, "nonexistent.sock")}`], noTime);
    same(d, ["list-tables", `${r},unix:${path.join(d.dir, "nonexistent.sock")}`, "Open_vSwitch"], noTime);
    same(d, ["--help"]);
    // GNU getopt behaviour and messages.
    same(d, ["--form=csv", "list-dbs", r]);
    same(d, ["list-dbs", r, "--format=csv"]);
    same(d, ["--no-such-option"]);
    same(d, ["-t0", "list-dbs", r]);
    same(d, ["-x"]);
    same(d, ["needs-conversion", r, path.join(d.dir, "nonexistent.ovsschema")]);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

/** Runs a command with `file` as its standard input (seekable, as OVS's restore needs). */
function fromFile(cmd: string, args: string[], file: string, dir: string): { status: number | null; stdout: string; stderr: string } {
  const fd = fs.openSync(file, "r");
  try {
    const r = spawnSync(cmd, args, {
      stdio: [fd, "pipe", "pipe"],
      encoding: "utf8",
      timeout: 30_000,
      env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir },
    });
    return { status: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  } finally {
    fs.closeSync(fd);
  }
}

function startMonitor(cmd: string[], dir: string, outFile: string): ChildProcess {
  const fd = fs.openSync(outFile, "w");
  const child = spawn(cmd[0]!, cmd.slice(1), {
    stdio: ["ignore", fd, "ignore"],
    env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir },
  });
  fs.closeSync(fd);
  return child;
}

test("monitor and monitor-cond print the same updates as ovsdb-client", { skip, timeout: 120_000 }, async () => {
  const d = await populated();
  const children: ChildProcess[] = [];
  try {
    const r = d.remote;
    const variants: string[][] = [
      ["monitor", r, "Open_vSwitch", "Bridge"],
      ["monitor", r, "Open_vSwitch", "ALL"],
      ["--format=list", "monitor", r, "Open_vSwitch", "Port", "name,tag,trunks,!initial"],
      ["--format=csv", "monitor", r, "Open_vSwitch", "Bridge", "name,external_ids,!delete"],
      ["monitor-cond", r, "Open_vSwitch", '[["name","==","br9"]]', "Bridge", "name,external_ids"],
      ["--format=json", "monitor", r, "Open_vSwitch", "Interface", "name,type"],
      ["monitor-cond-since", r, "Open_vSwitch", "[true]", "Bridge", "name,external_ids"],
      ["--format=csv", "monitor-cond-since", r, "Open_vSwitch", "00000000-0000-0000-0000-000000000000", '[["name","!=","br0"]]', "Bridge", "name"],
      ["--timestamp", "monitor", r, "Open_vSwitch", "Bridge", "name,external_ids"],
      ["--timestamp", "--format=list", "monitor-cond", r, "Open_vSwitch", "[true]", "Port", "name,tag"],
      ["--timestamp", "--format=html", "monitor-cond-since", r, "Open_vSwitch", "[true]", "Bridge", "name"],
    ];
    const files: [string, string][] = [];
    variants.forEach((v, i) => {
      const a = path.join(d.dir, `mon${i}-real.txt`);
      const b = path.join(d.dir, `mon${i}-ours.txt`);
      children.push(startMonitor(["ovsdb-client", ...v], d.dir, a));
      children.push(startMonitor([process.execPath, TSOVS_BIN, "ovsdb-client", ...v], d.dir, b));
      files.push([a, b]);
    });
    // Wait until every monitor has printed its initial contents (or, for
    // !initial / empty condition, at least connected: give them time).
    const size = (f: string): number => (fs.existsSync(f) ? fs.statSync(f).size : 0);
    await waitFor(() => files.every(([a, b], i) => (i === 2 || i === 4 ? true : size(a) > 0 && size(b) > 0)), 30_000, "initial monitor output");
    await new Promise((res) => setTimeout(res, 1500));
    const vsctl = (...args: string[]): void => {
      const x = run("ovs-vsctl", [`--db=${r}`, "--no-wait", ...args], d.dir);
      assert.equal(x.status, 0, x.stderr);
    };
    const settle = (): Promise<void> => new Promise((res) => setTimeout(res, 400));
    vsctl("add-br", "br9", "--", "set", "bridge", "br9", "external_ids:k=v");
    await settle();
    vsctl("set", "port", "p1", "tag=7", "trunks=2,4");
    await settle();
    vsctl("set", "bridge", "br9", "external_ids:k=w");
    await settle();
    vsctl("del-br", "br9");
    await settle();
    for (const c of children) c.kill("SIGTERM");
    await Promise.all(children.map((c) => new Promise((res) => (c.exitCode !== null ? res(null) : c.once("exit", res)))));
    children.length = 0;
    files.forEach(([a, b], i) => {
      const ra = fs.readFileSync(a, "utf8");
      assert.ok(ra.length > 0 || i === 4, `real monitor ${i} printed nothing`);
      // --timestamp lines differ in their milliseconds only.
      const noTime = (x: string): string => x.replace(/\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/gm, "<time>");
      if (variants[i]![0] === "--timestamp") assert.match(ra, /^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}$/m);
      assert.equal(noTime(fs.readFileSync(b, "utf8")), noTime(ra), `output of ovsdb-client ${variants[i]!.join(" ")}`);
    });
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test("backup writes a database file that ovsdb-tool reads back", { skip, timeout: 60_000 }, async () => {
  const d = await populated();
  const dir = tempDir("tsovs-backup-");
  try {
    const file = path.join(dir, "backup.db");
    const r = tsovs(["ovsdb-client", "backup", d.remote], d.dir);
    assert.equal(r.status, 0, r.stderr);
    fs.writeFileSync(file, r.stdout);
    const q = '["Open_vSwitch",{"op":"select","table":"Bridge","where":[],"columns":["_uuid","name","external_ids"]}]';
    const fromFile = run("ovsdb-tool", ["query", file, q]);
    assert.equal(fromFile.status, 0, fromFile.stderr);
    const live = run("ovsdb-client", ["query", d.remote, q], d.dir);
    const rows = (s: string): unknown => (JSON.parse(s) as { rows: { _uuid: string[] }[] }[])[0]!.rows.sort((x, y) => (x._uuid[1]! < y._uuid[1]! ? -1 : 1));
    assert.deepEqual(rows(fromFile.stdout), rows(live.stdout));
    assert.equal(run("ovsdb-tool", ["db-version", file]).stdout, run("ovsdb-tool", ["schema-version", OVS_SCHEMA]).stdout);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("lock, steal and unlock print replies and notifications as ovsdb-client does", { skip, timeout: 60_000 }, async () => {
  const d = await startRealOvsdb();
  const children: ChildProcess[] = [];
  const pause = (ms: number): Promise<void> => new Promise((res) => setTimeout(res, ms));
  const exited = (c: ChildProcess): Promise<unknown> => new Promise((res) => (c.exitCode !== null || c.signalCode !== null ? res(null) : c.once("exit", res)));
  /** Runs the scenario with one implementation; returns what each client printed. */
  const scenario = async (cmd: string[], tag: string): Promise<string[]> => {
    const start = (args: string[], name: string): [ChildProcess, string] => {
      const f = path.join(d.dir, `${tag}-${name}.txt`);
      const c = startMonitor([...cmd, ...args], d.dir, f);
      children.push(c);
      return [c, f];
    };
    const [holder, f1] = start(["lock", d.remote, "L"], "holder");
    await waitFor(() => fs.existsSync(f1) && fs.statSync(f1).size > 0, 10_000, "lock reply");
    const [waiter, f2] = start(["lock", d.remote, "L"], "waiter");
    await waitFor(() => fs.statSync(f2).size > 0, 10_000, "second lock reply");
    const [thief, f3] = start(["steal", d.remote, "L"], "thief");
    await waitFor(() => fs.statSync(f3).size > 0 && fs.readFileSync(f1, "utf8").includes("stolen"), 10_000, "steal");
    const [unlocker, f4] = start(["--pretty", "unlock", d.remote, "L"], "unlocker");
    await pause(300);
    thief.kill("SIGTERM");
    await exited(thief);
    await waitFor(() => /locked\n/.test(fs.readFileSync(f1, "utf8").replace('{"locked":true}', "")), 10_000, "lock handed back");
    // The holder goes first; only then does the waiter get the lock, and it
    // must live long enough to print that.
    holder.kill("SIGTERM");
    await exited(holder);
    await waitFor(() => /\nlocked\n/.test(fs.readFileSync(f2, "utf8")), 10_000, "lock passed to the waiter");
    for (const c of [waiter, unlocker]) c.kill("SIGTERM");
    await Promise.all([waiter, unlocker].map(exited));
    return [f1, f2, f3, f4].map((f) => fs.readFileSync(f, "utf8"));
  };
  try {
    const real = await scenario(["ovsdb-client"], "real");
    const ours = await scenario([process.execPath, TSOVS_BIN, "ovsdb-client"], "ours");
    assert.equal(real[0], '{"locked":true}\nstolen\n["L"]\nlocked\n["L"]\n');
    assert.deepEqual(ours, real);
  } finally {
    for (const c of children) c.kill("SIGKILL");
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test("restore puts a backup's contents back as ovsdb-client does", { skip, timeout: 60_000 }, async () => {
  const d = await populated();
  try {
    const r = d.remote;
    const backup = path.join(d.dir, "backup.db");
    fs.writeFileSync(backup, run("ovsdb-client", ["backup", r], d.dir).stdout);
    const input = fs.readFileSync(backup, "latin1");
    const vsctl = (...args: string[]): string => run("ovs-vsctl", [`--db=${r}`, "--no-wait", ...args], d.dir).stdout;
    // Row uuids change (restore inserts new rows), so compare contents only.
    const state = (): string[] => [
      vsctl("--format=csv", "--data=bare", "--no-headings", "--columns=name,external_ids", "list", "bridge").split("\n").sort().join("|"),
      vsctl("list-ports", "br0"),
      vsctl("get-controller", "br1"),
    ];
    const before = state();
    vsctl("add-br", "br7", "--", "del-br", "br1");
    assert.notDeepEqual(state(), before);
    const b = tsovs(["ovsdb-client", "restore", r], d.dir, input);
    assert.equal(b.status, 0, b.stderr);
    assert.equal(b.stdout + b.stderr, "");
    assert.deepEqual(state(), before);
    // The real one (which needs a seekable stdin) gives the same result.
    vsctl("add-br", "br7", "--", "del-br", "br1");
    const a = fromFile("ovsdb-client", ["restore", r], backup, d.dir);
    assert.equal(a.status, 0, a.stderr);
    assert.deepEqual(state(), before);
    // A backup of another schema is refused with OVS's words, unless --force.
    const other = path.join(d.dir, "other.db");
    assert.equal(run("ovsdb-tool", ["create", other, path.join(import.meta.dirname, "../../../test/ovsdb/testdb.ovsschema")]).status, 0);
    const ra = fromFile("ovsdb-client", ["restore", r], other, d.dir);
    const rb = fromFile(process.execPath, [TSOVS_BIN, "ovsdb-client", "restore", r], other, d.dir);
    assert.equal(rb.status, ra.status);
    assert.equal(rb.stderr, ra.stderr);
    assert.match(ra.stderr, /use --force to override differences/);
    const empty = path.join(d.dir, "empty");
    fs.writeFileSync(empty, "");
    const ea = fromFile("ovsdb-client", ["restore", r], empty, d.dir);
    const eb = fromFile(process.execPath, [TSOVS_BIN, "ovsdb-client", "restore", r], empty, d.dir);
    assert.equal(eb.stderr, ea.stderr);
    assert.equal(eb.status, ea.status);
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});
