/**
 * A switch started with the programmatic API is an ordinary tsovs switch:
 * the real ovs-vsctl, ovs-ofctl and ovs-appctl (OVS 3.1) configure and
 * query it through its run directory, and what they do is seen by the
 * API's port handles; the real ovs-testcontroller controls one of its
 * bridges. Skipped when the OVS tools are not installed.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { execFile, spawn, spawnSync, type ChildProcess } from "node:child_process";
import * as net from "node:net";
import { startSwitch, describePacket, type Switch } from "../../src/index.js";

const missing = ["ovs-vsctl", "ovs-ofctl", "ovs-appctl"].find((t) => spawnSync(t, ["--version"]).status !== 0);
const skip = missing !== undefined ? `${missing} (Open vSwitch 3.1) is not installed` : false;

/**
 * Runs a real OVS tool against `sw` without blocking the event loop (the
 * switch answering it runs in this process).
 */
function tool(sw: Switch, cmd: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(cmd, args, { env: { ...process.env, ...sw.env }, timeout: 10_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${cmd} ${args.join(" ")}: ${stderr || err.message}`));
      else resolve(stdout);
    });
  });
}

test("the real ovs-vsctl, ovs-ofctl and ovs-appctl drive a switch started by the API", { skip, timeout: 40_000 }, async () => {
  const sw = await startSwitch();
  try {
    const br = await sw.addBridge("br0", { failMode: "secure" });
    const p1 = await br.addPort("p1", { ofport: 1 });

    // ovs-vsctl without --no-wait returns once the switch applied the change.
    await tool(sw, "ovs-vsctl", ["--timeout=10", "add-port", "br0", "p3", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3"]);
    assert.equal((await tool(sw, "ovs-vsctl", ["get", "interface", "p3", "ofport"])).trim(), "3");
    const show = await tool(sw, "ovs-vsctl", ["show"]);
    assert.match(show, /Bridge br0\n\s+fail_mode: secure/);
    assert.match(show, /Port p3\n\s+Interface p3\n\s+type: dummy/);

    // A flow from the real ovs-ofctl moves packets sent with the API (TCP: OVS commits
    // no IPv4 rewrite for a packet with nw_proto 0).
    await tool(sw, "ovs-ofctl", ["add-flow", "br0", "in_port=1,ip,actions=mod_nw_tos:32,output:3"]);
    assert.match(await tool(sw, "ovs-ofctl", ["dump-flows", "br0"]), /ip,in_port=1 actions=mod_nw_tos:32,output:3/);
    const p3 = sw.port("p3");
    await p1.send("tcp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64");
    assert.match(describePacket(await p3.receive()), /nw_tos=32/);

    // The real ovs-appctl reaches the vswitchd: a trace, and a packet injected by it.
    const trace = await tool(sw, "ovs-appctl", ["ofproto/trace", "br0", "in_port=1,tcp,nw_ttl=64"]);
    assert.match(trace, /^Datapath actions: set\(ipv4\(tos=0x20\/0xfc\)\),3$/m, trace);
    await tool(sw, "ovs-appctl", ["netdev-dummy/receive", "p1",
      "in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:06),eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)"]);
    assert.match(describePacket(await p3.receive()), /^tcp,.*dl_src=50:54:00:00:00:05.*nw_tos=32/);
    assert.equal((await tool(sw, "ovs-appctl", ["-t", "ovsdb-server", "ovsdb-server/list-dbs"])).trim().split("\n").includes("Open_vSwitch"), true);
  } finally {
    await sw.stop();
  }
});

const tcSkip = spawnSync("ovs-testcontroller", ["--version"]).status !== 0 ? "ovs-testcontroller is not installed" : false;

test("the real ovs-testcontroller controls a bridge of the API: floods, then delivers to learned ports", { skip: tcSkip, timeout: 40_000 }, async () => {
  const free = net.createServer();
  await new Promise<void>((r) => free.listen(0, "127.0.0.1", r));
  const port = (free.address() as net.AddressInfo).port;
  await new Promise((r) => free.close(r));
  const sw = await startSwitch();
  const tc: ChildProcess = spawn("ovs-testcontroller", [`ptcp:${port}:127.0.0.1`, `--unixctl=${sw.rundir}/tc.ctl`], { stdio: "ignore" });
  try {
    const br = await sw.addBridge("br0", { failMode: "secure", controllers: [`tcp:127.0.0.1:${port}`] });
    const [p1, p2, p3] = [await br.addPort("p1", { ofport: 1 }), await br.addPort("p2", { ofport: 2 }), await br.addPort("p3", { ofport: 3 })];
    const deadline = Date.now() + 10_000;
    while ((await sw.vsctl(["get", "controller", "br0", "is_connected"])).trim() !== "true") {
      assert.ok(Date.now() < deadline, "ovs-testcontroller never connected");
      await new Promise((r) => setTimeout(r, 50));
    }
    const A = "50:54:00:00:00:0a";
    const B = "50:54:00:00:00:0b";
    const icmp = (src: string, dst: string): string => `icmp,dl_src=${src},dl_dst=${dst},nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,icmp_type=8`;
    // B unknown: the controller floods it (packet-out), p2 and p3 get it.
    await p1.send(icmp(A, B));
    assert.match(describePacket(await p2.receive({ timeoutMs: 5000 })), new RegExp(`dl_src=${A}`));
    assert.match(describePacket(await p3.receive({ timeoutMs: 5000 })), new RegExp(`dl_src=${A}`));
    // A was learned on p1: the reply goes there only.
    await p2.send(icmp(B, A));
    assert.match(describePacket(await p1.receive({ timeoutMs: 5000 })), new RegExp(`dl_src=${B}`));
    assert.equal(await p3.tryReceive({ timeoutMs: 200 }), null);
    // B learned on p2.
    await p1.send(icmp(A, B));
    assert.match(describePacket(await p2.receive({ timeoutMs: 5000 })), new RegExp(`dl_src=${A},dl_dst=${B}`));
    assert.equal(await p3.tryReceive({ timeoutMs: 200 }), null);
  } finally {
    tc.kill("SIGTERM");
    await sw.stop();
  }
});
