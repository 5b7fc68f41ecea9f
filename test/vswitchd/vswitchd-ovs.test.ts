/**
 * The switch against real OVS 3.1: the same ovs-vsctl commands (real
 * ovs-vsctl, WITHOUT --no-wait, so each returns only once the switch has
 * applied it) into `tsovs start` and into ovsdb-server + ovs-vswitchd
 * (dummy devices), then the columns the switch writes compared row by
 * row (uuids, random addresses, counter values masked); the management
 * socket with ovs-ofctl; the control socket with ovs-appctl.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip } from "../util/ovs.js";
import { listByName, removeDir, runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-vswitchd", "ovs-ofctl", "ovs-appctl");

let real: Switch | null = null;
let ts: (Switch & { child: import("node:child_process").ChildProcess }) | null = null;

before(async () => {
  if (skip) return;
  [real, ts] = await Promise.all([startRealSwitch(), startTsovsSwitch()]);
});

after(async () => {
  for (const s of [ts, real]) {
    if (s === null) continue;
    await s.stop();
    await removeDir(s.dir);
  }
});

/** The same ovs-vsctl command into both switches; both must succeed alike and return promptly. */
async function both(...args: string[]): Promise<void> {
  const t0 = Date.now();
  const [r, t] = await Promise.all([runAsync("ovs-vsctl", ["--timeout=10", ...args], real!.dir), runAsync("ovs-vsctl", ["--timeout=10", ...args], ts!.dir)]);
  assert.equal(t.timedOut, false, `tsovs: ovs-vsctl ${args.join(" ")} did not return`);
  assert.deepEqual(
    { status: t.status, stdout: t.stdout, stderr: t.stderr.replace(ts!.dir, "DIR") },
    { status: r.status, stdout: r.stdout, stderr: r.stderr.replace(real!.dir, "DIR") },
    `ovs-vsctl ${args.join(" ")}`,
  );
  // Prompt: well under ovs-vsctl's 10 s timeout even on a loaded machine (typically 100-300 ms).
  assert.ok(Date.now() - t0 < 8000, `ovs-vsctl ${args.join(" ")} took ${Date.now() - t0} ms`);
}

const IFACE_COLUMNS = ["ofport", "ofport_request", "admin_state", "link_state", "link_resets", "mtu", "mac_in_use", "error", "ifindex",
  "statistics", "type", "duplex", "link_speed", "status", "lacp_current"];
const BRIDGE_COLUMNS = ["datapath_id", "datapath_version", "datapath_type", "status", "rstp_status", "fail_mode"];
const OVS_COLUMNS = ["cur_cfg", "next_cfg", "datapath_types", "iface_types", "dpdk_initialized", "dpdk_version", "statistics"];
const PORT_COLUMNS = ["tag", "trunks", "vlan_mode", "fake_bridge", "statistics", "status"];

async function compareTable(table: string, columns: readonly string[]): Promise<void> {
  const [r, t] = await Promise.all([listByName(real!.dir, table, columns), listByName(ts!.dir, table, columns)]);
  assert.deepEqual(t, r, `list ${table}`);
}

test("ovs-vsctl without --no-wait: bridges, ports, fake bridges, errors; written columns as OVS's", { skip, timeout: 60_000 }, async () => {
  await both("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
  await both("add-port", "br0", "p1", "--", "set", "Interface", "p1", "ofport_request=5", "type=dummy");
  await both("add-port", "br0", "p2", "tag=10");
  await both("add-port", "br0", "p3", "trunks=10,20", "--", "set", "Interface", "p3", "type=dummy");
  await both("add-br", "fk", "br0", "20");
  await both("add-br", "br1");
  await both("add-port", "br1", "q1", "--", "set", "Interface", "q1", "ofport_request=7");
  await both("del-port", "br0", "p2");
  await both("del-br", "br1");
  // A port moving between two bridges of one datapath in one transaction.
  await both("add-br", "br2", "--", "set", "bridge", "br2", "datapath_type=dummy");
  await both("del-port", "br0", "p3", "--", "add-port", "br2", "p3", "trunks=10,20", "--", "set", "Interface", "p3", "type=dummy");
  await both("add-port", "br0", "p4", "--", "set", "Interface", "p4", "type=dummy", "ofport_request=3");
  // Statistics are written on a timer: wait until both switches wrote them.
  await new Promise((r) => setTimeout(r, 1500));
  await compareTable("Open_vSwitch", OVS_COLUMNS);
  // What ovs-ctl records at start (tsovs start does it; a bare ovs-vswitchd does not).
  const ids = (await listByName(ts!.dir, "Open_vSwitch", ["ovs_version", "db_version", "system_type", "system_version"]))["."]!;
  assert.equal(ids["ovs_version"], '"3.1.0"');
  assert.equal(ids["db_version"], '"8.3.1"');
  assert.match(ids["system_type"] ?? "", /^"?[a-z]/);
  await compareTable("Bridge", BRIDGE_COLUMNS);
  await compareTable("Port", PORT_COLUMNS);
  await compareTable("Interface", IFACE_COLUMNS);
});

test("an interface that cannot be set up is reported as OVS reports it", { skip, timeout: 30_000 }, async () => {
  const [r, t] = await Promise.all(["bad", "bad"].map((_, i) => runAsync("ovs-vsctl", ["--timeout=10", "add-port", "br0", "bad", "--", "set", "Interface", "bad", "type=nonexistent"], i === 0 ? real!.dir : ts!.dir)));
  assert.match(r!.stderr, /Error detected while setting up 'bad'/);
  assert.match(t!.stderr, /Error detected while setting up 'bad'/);
  const [rl, tl] = await Promise.all([listByName(real!.dir, "Interface", ["ofport", "error"]), listByName(ts!.dir, "Interface", ["ofport", "error"])]);
  assert.equal(tl["bad"]?.["ofport"], rl["bad"]?.["ofport"]);
  assert.match(tl["bad"]?.["error"] ?? "", /^"could not open network device bad/);
  await both("del-port", "br0", "bad");
});

test("controllers: set, status written, NORMAL flow removed and restored", { skip, timeout: 30_000 }, async () => {
  const flows = async (dir: string): Promise<string> => {
    const r = await runAsync("ovs-ofctl", ["dump-flows", "br0"], dir);
    assert.equal(r.status, 0, r.stderr);
    return r.stdout.replace(/duration=[0-9.]+s, /g, "").replace(/idle_age=\d+, /g, "");
  };
  assert.equal(await flows(ts!.dir), await flows(real!.dir));
  assert.match(await flows(ts!.dir), /priority=0 actions=NORMAL/);
  await both("set-controller", "br0", "tcp:127.0.0.1:1");
  assert.equal(await flows(ts!.dir), await flows(real!.dir));
  assert.doesNotMatch(await flows(ts!.dir), /actions=NORMAL/);
  // Both switches try to connect and fail; the status lands within a few seconds.
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [r, t] = await Promise.all([listByName(real!.dir, "Controller", ["is_connected", "role", "status"]), listByName(ts!.dir, "Controller", ["is_connected", "role", "status"])]);
    const norm = (x: Record<string, Record<string, string>>) => JSON.stringify(x).replace(/state=\w+/, "state=S");
    if (norm(r) === norm(t) && /last_error/.test(JSON.stringify(t))) {
      assert.match(JSON.stringify(t), /last_error=\\"Connection refused\\"/);
      break;
    }
    if (Date.now() > deadline) assert.deepEqual(t, r, "Controller status");
    await new Promise((res) => setTimeout(res, 250));
  }
  await both("del-controller", "br0");
  assert.equal(await flows(ts!.dir), await flows(real!.dir));
  assert.match(await flows(ts!.dir), /priority=0 actions=NORMAL/);
});

test("an interface's admin state set down shows in the Interface row as in OVS", { skip, timeout: 30_000 }, async () => {
  for (const sw of [real!, ts!]) {
    const r = await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "netdev-dummy/set-admin-state", "p1", "down"], sw.dir);
    assert.equal(r.status, 0, r.stderr);
  }
  const cols = ["admin_state", "link_state", "link_resets"];
  const deadline = Date.now() + 10_000;
  for (;;) {
    const [r, t] = await Promise.all([listByName(real!.dir, "Interface", cols), listByName(ts!.dir, "Interface", cols)]);
    if (JSON.stringify(r["p1"]) === JSON.stringify(t["p1"]) && r["p1"]?.["admin_state"] === "down") break;
    if (Date.now() > deadline) assert.deepEqual(t["p1"], r["p1"]);
    await new Promise((res) => setTimeout(res, 250));
  }
  for (const sw of [real!, ts!]) await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "netdev-dummy/set-admin-state", "p1", "up"], sw.dir);
});

test("ovs-ofctl show works through the management socket", { skip, timeout: 30_000 }, async () => {
  const t = await runAsync("ovs-ofctl", ["show", "br0"], ts!.dir);
  assert.equal(t.status, 0, t.stderr);
  const dpid = (await runAsync("ovs-vsctl", ["get", "bridge", "br0", "datapath_id"], ts!.dir)).stdout.trim().replace(/"/g, "");
  assert.match(t.stdout, new RegExp(`dpid:${dpid}`));
  for (const port of [" 5(p1):", " 4(p4):", " 3(fk):", " LOCAL(br0):"]) assert.ok(t.stdout.includes(port), `${port} in\n${t.stdout}`);
});

test("ovs-appctl: version, list-commands, qos/show, bridge/reconnect, exit", { skip, timeout: 30_000 }, async () => {
  const app = (dir: string, ...args: string[]) => runAsync("ovs-appctl", ["-t", "ovs-vswitchd", ...args], dir);
  const v = await app(ts!.dir, "version");
  assert.deepEqual([v.status, v.stdout], [0, "ovs-vswitchd (Open vSwitch) 3.1.0\n"]);
  const l = await app(ts!.dir, "list-commands");
  assert.equal(l.status, 0);
  for (const c of ["exit", "memory/show", "coverage/show", "bridge/reconnect", "qos/show", "dpctl/dump-flows", "version", "vlog/set"]) {
    assert.match(l.stdout, new RegExp(`^  ${c.replace("/", "\\/")} `, "m"));
  }
  for (const args of [["qos/show", "p1"], ["qos/show", "nosuch"], ["qos/show-types", "p1"], ["bridge/reconnect", "nosuch"], ["bridge/reconnect"], ["qos/show"]]) {
    const [r, t] = await Promise.all([app(real!.dir, ...args), app(ts!.dir, ...args)]);
    assert.deepEqual({ status: t.status, stdout: t.stdout, stderr: t.stderr }, { status: r.status, stdout: r.stdout, stderr: r.stderr }, args.join(" "));
  }
  const e = await app(ts!.dir, "exit");
  assert.equal(e.status, 0);
  // The database server of `tsovs start` keeps running until told to exit too.
  const db = await runAsync("ovs-appctl", ["-t", "ovsdb-server", "exit"], ts!.dir);
  assert.equal(db.status, 0, db.stderr);
  await new Promise<void>((resolve) => {
    if (ts!.child.exitCode !== null) resolve();
    else ts!.child.once("exit", () => resolve());
  });
  assert.equal(ts!.child.exitCode, 0);
});
