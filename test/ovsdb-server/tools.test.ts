/**
 * The real OVS tools against `tsovs ovsdb-server`: ovs-vsctl --no-wait,
 * ovsdb-client and ovs-appctl must work exactly as with OVS's own server
 * (outputs compared with the real server's, UUIDs masked).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { openJsonRpc, type JsonRpcConnection } from "../../src/jsonrpc/index.js";
import { ovsSkip, run, tsovs, startRealOvsdb, startTsovsOvsdb, waitFor, type Daemon, type RunResult } from "../util/ovs.js";
import { maskUuids, realAndTsovsServers } from "../util/ovsdb-server.js";

const skip = ovsSkip();
const servers = realAndTsovsServers(skip);

/** Runs a command asynchronously (our server lives in another process, but keep the event loop free anyway). */
function runAsync(cmd: string, args: string[], dir: string, timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    const c = spawn(cmd, args, { env: { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir } });
    let stdout = "", stderr = "";
    c.stdout.on("data", (d) => (stdout += d));
    c.stderr.on("data", (d) => (stderr += d));
    const t = setTimeout(() => c.kill("SIGKILL"), timeoutMs);
    c.on("close", (status) => {
      clearTimeout(t);
      resolve({ status, stdout, stderr });
    });
  });
}

async function both(cmd: string, args: (d: Daemon) => string[]): Promise<[RunResult, RunResult]> {
  return Promise.all([runAsync(cmd, args(servers.real()), servers.real().dir), runAsync(cmd, args(servers.ts()), servers.ts().dir)]);
}

function same(r: [RunResult, RunResult], what: string, sortLines = false): void {
  const [a, b] = r;
  const norm = (s: string): string => {
    const m = maskUuids(s);
    return sortLines ? m.split("\n").sort().join("\n") : m;
  };
  assert.equal(b.status, a.status, `${what}: exit status (tsovs stderr: ${b.stderr})`);
  assert.equal(norm(b.stdout), norm(a.stdout), `${what}: stdout`);
}

const vsctl = (...args: string[]) => (d: Daemon): string[] => [`--db=${d.remote}`, "--no-wait", "--timeout=10", ...args];

test("ovs-vsctl --no-wait: init, add-br, add-port, set, list, show", { skip }, async () => {
  same(await both("ovs-vsctl", vsctl("init")), "init");
  same(await both("ovs-vsctl", vsctl("add-br", "br0")), "add-br");
  same(await both("ovs-vsctl", vsctl("add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=internal")), "add-port");
  same(await both("ovs-vsctl", vsctl("add-port", "br0", "p2", "tag=5")), "add-port tag");
  same(await both("ovs-vsctl", vsctl("set", "Bridge", "br0", "external_ids:owner=test", "other_config:hwaddr=00:11:22:33:44:55")), "set");
  same(await both("ovs-vsctl", vsctl("list-br")), "list-br");
  same(await both("ovs-vsctl", vsctl("list-ports", "br0")), "list-ports");
  same(await both("ovs-vsctl", vsctl("get", "Bridge", "br0", "external_ids")), "get");
  same(await both("ovs-vsctl", vsctl("--columns=name,external_ids,other_config,fail_mode", "list", "Bridge")), "list Bridge");
  same(await both("ovs-vsctl", vsctl("--columns=name,tag,trunks", "list", "Port")), "list Port", true);
  same(await both("ovs-vsctl", vsctl("show")), "show", true);
  same(await both("ovs-vsctl", vsctl("del-port", "br0", "p1")), "del-port");
  same(await both("ovs-vsctl", vsctl("list-ports", "br0")), "list-ports after del");
  same(await both("ovs-vsctl", vsctl("add-br", "br0")), "add-br duplicate fails");
  same(await both("ovs-vsctl", vsctl("--may-exist", "add-br", "br0")), "add-br --may-exist");
  same(await both("ovs-vsctl", vsctl("del-br", "br0")), "del-br");
  same(await both("ovs-vsctl", vsctl("list-br")), "list-br after del");
});

test("ovsdb-client: list-dbs, get-schema, list-tables, transact, dump", { skip }, async () => {
  same(await both("ovsdb-client", (d) => ["list-dbs", d.remote]), "list-dbs");
  same(await both("ovsdb-client", (d) => ["get-schema-version", d.remote, "Open_vSwitch"]), "get-schema-version");
  same(await both("ovsdb-client", (d) => ["list-tables", d.remote, "Open_vSwitch"]), "list-tables");
  same(await both("ovsdb-client", (d) => ["list-columns", d.remote, "Open_vSwitch", "Bridge"]), "list-columns", true);
  const [gr, gt] = await both("ovsdb-client", (d) => ["get-schema", d.remote, "Open_vSwitch"]);
  assert.equal(gt.status, 0, gt.stderr);
  assert.deepEqual(JSON.parse(gt.stdout), JSON.parse(gr.stdout));
  const txn = JSON.stringify(["Open_vSwitch", { op: "insert", table: "Open_vSwitch", row: {} }, { op: "select", table: "Open_vSwitch", where: [], columns: ["next_cfg"] }]);
  same(await both("ovsdb-client", (d) => ["transact", d.remote, txn]), "transact");
  same(await both("ovsdb-client", (d) => ["dump", d.remote, "Open_vSwitch", "Open_vSwitch", "next_cfg", "cur_cfg"]), "dump");
  same(await both("ovsdb-client", (d) => ["dump", d.remote, "_Server"]), "dump _Server", true);
});

test("ovsdb-client monitor prints the same updates", { skip }, async () => {
  const mon = (d: Daemon) =>
    spawn("ovsdb-client", ["monitor", d.remote, "Open_vSwitch", "Bridge", "name,fail_mode,external_ids"], {
      env: { ...process.env, OVS_RUNDIR: d.dir },
    });
  const outs: string[] = ["", ""];
  const procs = [mon(servers.real()), mon(servers.ts())];
  procs.forEach((p, i) => p.stdout.on("data", (x) => (outs[i] += x)));
  try {
    // The initial (empty) table is printed as a header once the monitor is set up.
    await waitFor(() => outs.every((o) => o.length > 0) || true, 1000);
    await new Promise((r) => setTimeout(r, 500));
    same(await both("ovs-vsctl", vsctl("add-br", "brm")), "add-br");
    same(await both("ovs-vsctl", vsctl("set", "Bridge", "brm", "fail_mode=secure", "external_ids:k=v")), "set");
    same(await both("ovs-vsctl", vsctl("del-br", "brm")), "del-br");
    await waitFor(() => outs.every((o) => o.includes("delete")), 5000, "monitor output");
  } finally {
    for (const p of procs) p.kill();
  }
  assert.equal(maskUuids(outs[1]!), maskUuids(outs[0]!));
});

test("the real ovs-appctl controls tsovs ovsdb-server", { skip: ovsSkip("ovs-appctl") }, async () => {
  const d = servers.ts();
  const ctl = path.join(d.dir, `ovsdb-server.${d.pid}.ctl`);
  await waitFor(() => fs.existsSync(ctl), 5000, "control socket");
  const v = run("ovs-appctl", ["-t", ctl, "version"], d.dir);
  assert.equal(v.stdout, "ovsdb-server (Open vSwitch) 3.1.0\n");
  const dbs = run("ovs-appctl", ["-t", ctl, "ovsdb-server/list-dbs"], d.dir);
  assert.equal(dbs.stdout, "Open_vSwitch\n_Server\n");
  // By program name: ovs-appctl reads ovsdb-server.pid and checks its fcntl lock (needs python3 for the lock holder).
  const byName = run("ovs-appctl", ["-t", "ovsdb-server", "ovsdb-server/list-dbs"], d.dir);
  assert.equal(byName.stdout, "Open_vSwitch\n_Server\n", byName.stderr);
  const ours = tsovs(["appctl", "-t", "ovsdb-server", "ovsdb-server/list-dbs"], d.dir);
  assert.equal(ours.stdout, "Open_vSwitch\n_Server\n");
  const lr = run("ovs-appctl", ["-t", ctl, "ovsdb-server/list-remotes"], d.dir);
  assert.equal(lr.stdout, `punix:${path.join(d.dir, "db.sock")}\n`);
  const bad = run("ovs-appctl", ["-t", ctl, "ovsdb-server/remove-remote", "ptcp:1"], d.dir);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /^no such remote\n/);
  const c = run("ovs-appctl", ["-t", ctl, "ovsdb-server/compact"], d.dir);
  assert.equal(c.status, 0, c.stderr);
  const lc = run("ovs-appctl", ["-t", ctl, "list-commands"], d.dir);
  for (const cmd of ["exit", "ovsdb-server/compact", "ovsdb-server/add-remote", "vlog/set", "version"]) {
    assert.ok(lc.stdout.includes(`  ${cmd} `), `${cmd} listed`);
  }
});

test("the real ovs-vswitchd runs on tsovs ovsdb-server; ovs-vsctl waits for it", { skip: ovsSkip("ovs-vswitchd", "ovs-vsctl") }, async () => {
  const d = await startTsovsOvsdb();
  try {
    assert.equal((await runAsync("ovs-vsctl", ["--no-wait", "init"], d.dir)).status, 0);
    const vs = await runAsync("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--no-chdir", "--pidfile", "--log-file", `unix:${path.join(d.dir, "db.sock")}`], d.dir);
    assert.equal(vs.status, 0, vs.stderr);
    try {
      // Without --no-wait, ovs-vsctl waits until ovs-vswitchd has applied the change (cur_cfg).
      const r = await runAsync("ovs-vsctl", ["--timeout=20", "add-br", "br0", "--", "add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy"], d.dir);
      assert.equal(r.status, 0, r.stderr);
      const ofport = await runAsync("ovs-vsctl", ["--timeout=20", "get", "Interface", "p1", "ofport"], d.dir);
      assert.equal(ofport.stdout, "1\n");
      // Drop every client; ovs-vswitchd's IDL reconnects with monitor_cond_since and
      // its last transaction id, and must get the change it missed meanwhile.
      const ctl = path.join(d.dir, `ovsdb-server.${d.pid}.ctl`);
      assert.equal(run("ovs-appctl", ["-t", ctl, "ovsdb-server/reconnect"], d.dir).status, 0);
      assert.equal((await runAsync("ovs-vsctl", ["--no-wait", "add-br", "br1"], d.dir)).status, 0);
      const r2 = await runAsync("ovs-vsctl", ["--timeout=20", "add-br", "br2"], d.dir);
      assert.equal(r2.status, 0, r2.stderr);
      const show = run("ovs-appctl", ["-t", "ovs-vswitchd", "dpif/show"], d.dir);
      for (const br of ["br0", "br1", "br2"]) assert.match(show.stdout, new RegExp(`\\n  ${br}:\\n`), show.stdout);
      const log = fs.readFileSync(path.join(d.dir, "ovs-vswitchd.log"), "utf8");
      assert.doesNotMatch(log, /\|(ERR|EMER)\|/);
    } finally {
      const pid = Number(fs.readFileSync(path.join(d.dir, "ovs-vswitchd.pid"), "utf8").trim());
      process.kill(pid, "SIGTERM");
      await waitFor(() => !fs.existsSync(path.join(d.dir, "ovs-vswitchd.pid")), 10_000, "ovs-vswitchd to exit");
    }
  } finally {
    await d.stop();
    fs.rmSync(d.dir, { recursive: true, force: true });
  }
});

test("ovs-appctl memory/show reports what OVS's ovsdb-server reports, state by state", { skip: ovsSkip("ovs-appctl", "ovs-vsctl") }, async () => {
  const pair = await Promise.all([startRealOvsdb(), startTsovsOvsdb()]);
  const sessions: [JsonRpcConnection, JsonRpcConnection][] = [];
  try {
    const memory = (d: Daemon): string => {
      const ctl = fs.readdirSync(d.dir).find((f) => f.startsWith("ovsdb-server.") && f.endsWith(".ctl"))!;
      const r = run("ovs-appctl", ["-t", path.join(d.dir, ctl), "memory/show"], d.dir);
      assert.equal(r.status, 0, r.stderr);
      return r.stdout;
    };
    const step = async (what: string, change: (d: Daemon, i: number) => Promise<unknown>): Promise<void> => {
      for (const [i, d] of pair.entries()) await change(d, i);
      const [ovs, ts] = pair.map(memory);
      assert.equal(ts, ovs, `after ${what}`);
    };
    const vsctl = (...args: string[]) => async (d: Daemon): Promise<void> => {
      const r = await runAsync("ovs-vsctl", [`--db=${d.remote}`, "--no-wait", ...args], d.dir);
      assert.equal(r.status, 0, r.stderr);
    };
    await step("start-up", async () => undefined);
    await step("init", vsctl("init"));
    // Maps count a key and a value each; _uuid and _version are cells too.
    await step("add-br with external_ids", vsctl("add-br", "br0", "--", "set", "Bridge", "br0", "external_ids:a=1", "external_ids:b=2"));
    await step("add-port x2", vsctl("add-port", "br0", "p1", "--", "add-port", "br0", "p2"));
    // Mirror's select_*_port columns are weak references.
    await step(
      "a mirror",
      vsctl("--", "--id=@m", "create", "Mirror", "name=m0", "--", "add", "Bridge", "br0", "mirrors", "@m", "--", "--id=@p", "get", "Port", "p1", "--", "set", "Mirror", "m0", "select_src_port=@p", "select_dst_port=@p"),
    );
    // Two sessions per server; monitors of the same tables, columns and select flags count once,
    // whatever their conditions, protocol or the order the tables and columns come in.
    for (const d of pair) sessions.push([await openJsonRpc(d.remote), await openJsonRpc(d.remote)]);
    const request = (session: 0 | 1, method: string, params: unknown[]) => (_d: Daemon, i: number) => sessions[i]![session].request(method, params);
    const monitor = (session: 0 | 1, method: string, id: string, req: unknown) => request(session, method, ["Open_vSwitch", id, req]);
    await step("a conditional monitor", monitor(0, "monitor_cond", "m1", { Bridge: [{ columns: ["name"], where: [["name", "==", "x"]] }] }));
    await step("the same with another condition, on the other session", monitor(1, "monitor_cond", "m1", { Bridge: [{ columns: ["name"], where: [["name", "==", "y"]] }] }));
    await step("the same without a condition, protocol 1", monitor(1, "monitor", "m2", { Bridge: [{ columns: ["name"] }] }));
    await step("other select flags", monitor(1, "monitor", "m3", { Bridge: [{ columns: ["name"], select: { initial: false } }] }));
    await step("two tables", monitor(1, "monitor", "m4", { Bridge: [{ columns: ["name"] }], Port: [{ columns: ["name", "tag"] }] }));
    await step("the same two tables the other way round", monitor(0, "monitor", "m5", { Port: [{ columns: ["tag", "name"] }], Bridge: [{ columns: ["name"] }] }));
    await step("a cancel of one of two equal monitors", request(1, "monitor_cancel", ["m4"]));
    await step("a session's close", async (_d, i) => {
      sessions[i]![1].close();
      await waitFor(() => memory(pair[i]!).includes("sessions:1"), 5000, "the session to go");
    });
  } finally {
    for (const c of sessions.flat()) c.close();
    for (const d of pair) {
      await d.stop();
      fs.rmSync(d.dir, { recursive: true, force: true });
    }
  }
});
