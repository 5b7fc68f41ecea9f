/**
 * The real `ovs-testcontroller` controlling a `fail_mode=secure` bridge on
 * real devices (root only): tsovs in a namespace of its own with a
 * datapath_type=netdev bridge whose system ports lead to two host
 * namespaces. Without a controller a secure bridge forwards nothing; once
 * the controller is connected (it learns MACs and installs flows) ping
 * crosses both ways, and the flows it installed are in the table.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, type ChildProcess } from "node:child_process";
import * as fs from "node:fs";
import { addHost, addNetns, deleteNetns, ifPrefix, linuxNetSkip, pingOnce, pingReaches, startTsovsInNetns, type NsDaemon } from "../util/linux-net.js";
import { run, tempDir, which } from "../util/ovs.js";

const skip = linuxNetSkip() || (which("ovs-testcontroller") === null ? "ovs-testcontroller is not installed (Debian openvswitch-testcontroller)" : false)
  || (which("ovs-vsctl") === null ? "the OVS tools are not installed" : false);
const PFX = ifPrefix("c");
const SW = `${PFX}sw`;
const host = (i: number): string => `${PFX}h${i}`;
const PORT = 16653;

let sw: NsDaemon | null = null;
let controller: ChildProcess | null = null;
let dir = "";

function vsctl(...args: string[]): string {
  const r = run("ovs-vsctl", ["--timeout=20", ...args], dir);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

before(async () => {
  if (skip) return;
  dir = tempDir("tsovs-netns-tc-");
  addNetns(SW);
  addHost(SW, host(1), `${PFX}d1`, `${PFX}p1`, "10.0.9.1/24");
  addHost(SW, host(2), `${PFX}d2`, `${PFX}p2`, "10.0.9.2/24");
  sw = await startTsovsInNetns(SW, dir);
  vsctl("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev", "fail_mode=secure",
    "--", "add-port", "br0", `${PFX}p1`, "--", "add-port", "br0", `${PFX}p2`);
});

after(async () => {
  try {
    if (controller?.pid !== undefined) process.kill(controller.pid, "SIGTERM");
    await sw?.stop();
  } finally {
    deleteNetns(host(1));
    deleteNetns(host(2));
    deleteNetns(SW);
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("ovs-testcontroller drives a secure bridge: nothing passes without it, ping crosses with it", { skip, timeout: 60_000 }, async () => {
  assert.equal(await pingOnce(host(1), "10.0.9.2"), false, "a secure bridge without a controller drops");
  // The controller listens in the switch's namespace, where tsovs dials it.
  controller = spawn("ip", ["netns", "exec", SW, "ovs-testcontroller", `ptcp:${PORT}:127.0.0.1`], { stdio: "ignore" });
  vsctl("set-controller", "br0", `tcp:127.0.0.1:${PORT}`);
  const deadline = Date.now() + 15_000;
  while (vsctl("get", "controller", "br0", "is_connected") !== "true") {
    if (Date.now() > deadline) assert.fail("the controller never connected");
    await new Promise((r) => setTimeout(r, 200));
  }
  assert.equal(await pingReaches(host(1), "10.0.9.2"), true, "h1 reaches h2 through the controller");
  assert.equal(await pingReaches(host(2), "10.0.9.1"), true, "h2 reaches h1 through the controller");
  const flows = run("ovs-ofctl", ["dump-flows", "br0"], dir).stdout;
  assert.match(flows, /actions=output:/, `the controller installed flows:\n${flows}`);
});
