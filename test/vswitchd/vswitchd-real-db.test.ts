/**
 * `tsovs vswitchd` against OVS's own ovsdb-server: it takes the
 * ovs_vswitchd lock, applies what the real ovs-vsctl configures (which
 * returns without --no-wait), writes the status columns, answers the real
 * ovs-appctl, and a second vswitchd on the same database stays idle while
 * the first holds the lock.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip, startRealOvsdb, type Daemon } from "../util/ovs.js";
import { removeDir, runAsync, startTsovsVswitchd, type Switch } from "../util/vswitchd.js";

const skip = ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-appctl");

let db: Daemon | null = null;
let vs: Switch | null = null;

before(async () => {
  if (skip) return;
  db = await startRealOvsdb();
  const init = await runAsync("ovs-vsctl", ["--no-wait", "init"], db.dir);
  assert.equal(init.status, 0, init.stderr);
  vs = await startTsovsVswitchd(db.dir);
});

after(async () => {
  await vs?.stop();
  if (db !== null) {
    await db.stop();
    if (process.env["TSOVS_KEEP"] === undefined) await removeDir(db.dir);
    else process.stderr.write(`kept ${db.dir}\n`);
  }
});

test("tsovs vswitchd follows OVS's ovsdb-server", { skip, timeout: 30_000 }, async () => {
  const dir = db!.dir;
  const vsctl = async (...args: string[]) => {
    const r = await runAsync("ovs-vsctl", ["--timeout=10", `--log-file=${dir}/vsctl.log`, "-vjsonrpc:file:dbg", "-vreconnect:file:dbg", ...args], dir);
    assert.equal(r.status, 0, `${args.join(" ")}: ${r.stderr}`);
    return r.stdout;
  };
  await vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy");
  await vsctl("add-port", "br0", "p1", "--", "set", "Interface", "p1", "type=dummy", "ofport_request=9");
  assert.equal((await vsctl("get", "Interface", "p1", "ofport")).trim(), "9");
  assert.equal((await vsctl("get", "Interface", "br0", "ofport")).trim(), "65534");
  const [cur, next] = (await vsctl("get", "Open_vSwitch", ".", "cur_cfg", "next_cfg")).trim().split("\n");
  assert.equal(cur, next);
  assert.match(await vsctl("get", "Bridge", "br0", "datapath_id"), /^"[0-9a-f]{16}"\n$/);
  const v = await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "version"], dir);
  assert.deepEqual([v.status, v.stdout], [0, "ovs-vswitchd (Open vSwitch) 3.1.0\n"]);
  const list = await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "ofproto/list"], dir);
  assert.equal(list.stdout, "br0\n");
  // A bare vswitchd, as OVS's, leaves the versions to ovs-ctl.
  assert.equal((await vsctl("get", "Open_vSwitch", ".", "ovs_version")).trim(), "[]");
  await vsctl("del-br", "br0");
  const after = await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "ofproto/list"], dir);
  assert.equal(after.stdout, "");
});

test("a second vswitchd on the same database waits for the lock", { skip, timeout: 30_000 }, async () => {
  const dir = db!.dir;
  const second = await startTsovsVswitchd(dir, ["--enable-dummy=override", "--unixctl=second.ctl"], `${dir}/second.ctl`);
  try {
    const r = await runAsync("ovs-vsctl", ["--timeout=10", "add-br", "br9", "--", "set", "bridge", "br9", "datapath_type=dummy"], dir);
    assert.equal(r.status, 0, r.stderr);
    const first = await runAsync("ovs-appctl", ["-t", "ovs-vswitchd", "ofproto/list"], dir);
    const other = await runAsync("ovs-appctl", ["-t", `${dir}/second.ctl`, "ofproto/list"], dir);
    assert.equal(first.stdout, "br9\n");
    assert.equal(other.stdout, "", "the daemon without the lock configures nothing");
  } finally {
    await second.stop();
  }
});
