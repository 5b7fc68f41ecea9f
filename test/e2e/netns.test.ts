/**
 * End to end on real devices (root only): tsovs started WITHOUT dummy
 * override in its own network namespace, a `datapath_type=netdev` bridge
 * br0 whose `system` ports are veth ends leading to host namespaces.
 *
 *   h1 (10.0.0.1) --veth-- p1 \
 *   h2 (10.0.0.2) --veth-- p2  \
 *   h3 (10.0.0.3) --veth-- p3   br0 (tsovs, namespace sw; br0 is its TAP)
 *   h4 (10.0.20.4) -veth-- p4  /
 *   h5 (tagged frames of its own) --veth-- p5 (trunk of VLANs 10, 20)
 *
 * In order: ping and a TCP transfer with NORMAL; the same with explicit
 * OpenFlow rules (and a drop rule that stops them); the switch's own
 * namespace reaching h1 through br0's internal port; Interface columns
 * from the kernel (ifindex, link state, statistics) and OVS's error for a
 * device that does not exist; VLAN access ports keeping two VLANs apart
 * and a trunk carrying both (TCP included, so tags the kernel strips on
 * receive are put back); a veth deleted under traffic and re-created.
 *
 * The switch runs in a namespace of its own so that its TAP devices (br0,
 * the datapath's ovs-netdev) cannot collide with another switch's on the
 * host. Everything is removed in `after`, whatever failed.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import {
  addHost, addNetns, deleteNetns, hasPing, ifPrefix, ip, linuxNetSkip, nsRun, pingOnce, pingReaches, pingSize, startTsovsInNetns,
  tcpTransfer, trunkProbe, type NsDaemon,
} from "../util/linux-net.js";
import { run, tempDir, tsovs, which, type RunResult } from "../util/ovs.js";

const skip = linuxNetSkip();
const PFX = ifPrefix("e");
const SW = `${PFX}sw`;
const host = (i: number): string => `${PFX}h${i}`;
const dev = (i: number): string => `${PFX}d${i}`;
const port = (i: number): string => `${PFX}p${i}`;
const TCP_BYTES = 4 << 20;

let sw: NsDaemon | null = null;
let dir = "";

/** ovs-vsctl (the real one when installed, else tsovs's) against the switch. */
function vsctl(...args: string[]): RunResult {
  const r = which("ovs-vsctl") !== null ? run("ovs-vsctl", ["--timeout=20", ...args], dir) : tsovs(["vsctl", "--timeout=20", ...args], dir);
  return r;
}

function vsctlOk(...args: string[]): string {
  const r = vsctl(...args);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function ofctl(...args: string[]): string {
  const r = which("ovs-ofctl") !== null ? run("ovs-ofctl", args, dir) : tsovs(["ofctl", ...args], dir);
  assert.equal(r.status, 0, `ovs-ofctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function appctl(...args: string[]): string {
  const r = which("ovs-appctl") !== null ? run("ovs-appctl", args, dir) : tsovs(["appctl", ...args], dir);
  assert.equal(r.status, 0, `ovs-appctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function ofport(name: string): number {
  return Number(vsctlOk("get", "Interface", name, "ofport"));
}

/** `ovs-vsctl get Interface NAME COLUMN` (unquoted). */
function ifaceColumn(name: string, column: string): string {
  return vsctlOk("get", "Interface", name, column).replace(/^"(.*)"$/, "$1");
}

/** Waits until `f()` is true (status columns are written every second). */
async function eventually(f: () => boolean, what: string, ms = 8000): Promise<void> {
  const end = Date.now() + ms;
  while (!f()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

function sysfs(ns: string, ifname: string, file: string): string {
  const r = run("ip", ["netns", "exec", ns, "cat", `/sys/class/net/${ifname}/${file}`]);
  return r.stdout.trim();
}

before(async () => {
  if (skip) return;
  dir = tempDir("tsovs-netns-");
  addNetns(SW);
  addHost(SW, host(1), dev(1), port(1), "10.0.0.1/24");
  addHost(SW, host(2), dev(2), port(2), "10.0.0.2/24");
  sw = await startTsovsInNetns(SW, dir);
  vsctlOk("add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
    "--", "add-port", "br0", port(1), "--", "add-port", "br0", port(2));
});

after(async () => {
  try {
    await sw?.stop();
  } finally {
    for (let i = 1; i <= 5; i++) deleteNetns(host(i));
    deleteNetns(SW);
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("NORMAL: ping and a TCP transfer between two namespaces on system ports", { skip, timeout: 40_000 }, async () => {
  assert.equal(appctl("dpif/show").includes(`${port(1)} `), true);
  assert.match(appctl("dpif/show"), new RegExp(`${port(1)} \\d+/\\d+: \\(system\\)`));
  assert.ok(await pingReaches(host(1), "10.0.0.2"), "h1 -> h2 ping");
  assert.ok(await pingOnce(host(2), "10.0.0.1"), "h2 -> h1 ping");
  if (hasPing()) {
    // A frame wakes the idle switch at once (its ports' readiness watches),
    // not at its next housekeeping tick (100 ms): each echo crosses it twice.
    const r = await nsRun(host(1), "ping", ["-n", "-q", "-c", "10", "-i", "0.05", "10.0.0.2"], 10_000);
    const rtt = /= ([\d.]+)\/([\d.]+)\/([\d.]+)/.exec(r.out);
    assert.ok(rtt !== null, r.out);
    assert.ok(Number(rtt[2]) < 25, `average of 10 pings ${rtt[2]} ms`);
  }
  const t = await tcpTransfer(host(2), host(1), "10.0.0.2", TCP_BYTES);
  assert.equal(t.error, "");
  assert.equal(t.received, TCP_BYTES);
  // The datapath switched it: megaflows with packets, MACs learned on both ports.
  assert.match(appctl("dpctl/dump-flows"), /packets:[1-9]/);
  const fdb = appctl("fdb/show", "br0");
  for (const i of [1, 2]) {
    const mac = sysfs(host(i), dev(i), "address");
    assert.match(fdb, new RegExp(`\\s${ofport(port(i))}\\s+0\\s+${mac}`), `fdb/show:\n${fdb}`);
  }
});

test("explicit OpenFlow rules: ping and TCP follow them; a drop rule stops them", { skip, timeout: 40_000 }, async () => {
  const p1 = ofport(port(1));
  const p2 = ofport(port(2));
  try {
    ofctl("del-flows", "br0");
    ofctl("add-flow", "br0", `in_port=${p1},actions=output:${p2}`);
    ofctl("add-flow", "br0", `in_port=${p2},actions=output:${p1}`);
    assert.ok(await pingReaches(host(1), "10.0.0.2"), "ping through the rules");
    const t = await tcpTransfer(host(2), host(1), "10.0.0.2", TCP_BYTES, 5002);
    assert.equal(t.error, "");
    assert.equal(t.received, TCP_BYTES);
    // Rule statistics follow the megaflows' (pushed by the revalidator).
    const used = (): number[] => [...ofctl("dump-flows", "br0").matchAll(/n_packets=(\d+)/g)].map((m) => Number(m[1]));
    await eventually(() => used().length === 2 && used().every((n) => n > 100), "both rules counting the transfer");

    ofctl("add-flow", "br0", `priority=40000,in_port=${p1},icmp,actions=drop`);
    assert.equal(await pingOnce(host(1), "10.0.0.2"), false, "a drop rule stops h1's pings");
    ofctl("del-flows", "br0", `in_port=${p1},icmp`);
    assert.ok(await pingReaches(host(1), "10.0.0.2", 3), "pings pass again once the drop rule is gone");
  } finally {
    ofctl("del-flows", "br0");
    ofctl("add-flow", "br0", "actions=NORMAL");
  }
});

test("the switch's host reaches a namespace through br0's internal port", { skip, timeout: 30_000 }, async () => {
  assert.match(appctl("dpif/show"), /br0 65534\/\d+: \(tap\)/);
  // br0 is a real TAP in the switch's namespace, down until the user brings it up (as OVS leaves it).
  assert.equal(ifaceColumn("br0", "admin_state"), "down");
  ip("-n", SW, "addr", "add", "10.0.0.254/24", "dev", "br0");
  ip("-n", SW, "link", "set", "br0", "up");
  assert.ok(await pingReaches(SW, "10.0.0.1"), "switch host -> h1 through br0");
  assert.ok(await pingOnce(host(2), "10.0.0.254"), "h2 -> switch host");
  const t = await tcpTransfer(host(1), SW, "10.0.0.1", 1 << 20, 5003);
  assert.equal(t.received, 1 << 20, t.error);
  await eventually(() => ifaceColumn("br0", "admin_state") === "up" && ifaceColumn("br0", "link_state") === "up", "br0 up in Interface");
  assert.equal(ifaceColumn("br0", "ifindex"), sysfs(SW, "br0", "ifindex"));
});

test("Interface columns come from the kernel; a missing device is an error as OVS words it", { skip, timeout: 40_000 }, async () => {
  const p = port(1);
  assert.equal(ifaceColumn(p, "ifindex"), sysfs(SW, p, "ifindex"));
  assert.equal(ifaceColumn(p, "mac_in_use"), sysfs(SW, p, "address"));
  assert.equal(ifaceColumn(p, "mtu"), "1500");
  assert.equal(ifaceColumn(p, "admin_state"), "up");
  assert.equal(ifaceColumn(p, "link_state"), "up");
  assert.equal(ifaceColumn(p, "error"), "[]");
  // Statistics: the fourteen counters OVS's netdev-linux writes, refreshed every 5 s.
  await eventually(() => /rx_packets=[1-9]/.test(vsctlOk("get", "Interface", p, "statistics")), "statistics", 12_000);
  const stats = vsctlOk("get", "Interface", p, "statistics");
  assert.deepEqual([...stats.matchAll(/(\w+)=/g)].map((m) => m[1]), [
    "collisions", "rx_bytes", "rx_crc_err", "rx_dropped", "rx_errors", "rx_frame_err", "rx_missed_errors", "rx_multicast_packets",
    "rx_over_err", "rx_packets", "tx_bytes", "tx_dropped", "tx_errors", "tx_packets",
  ]);

  // The far end goes down: carrier lost, admin state unchanged, OpenFlow port LINK_DOWN.
  ip("-n", host(1), "link", "set", dev(1), "down");
  try {
    await eventually(() => ifaceColumn(p, "link_state") === "down", "link_state down");
    assert.equal(ifaceColumn(p, "admin_state"), "up");
    await eventually(() => new RegExp(`\\(${p}\\)[^]*?state:\\s+LINK_DOWN`).test(ofctl("show", "br0")), "OpenFlow port state LINK_DOWN");
  } finally {
    ip("-n", host(1), "link", "set", dev(1), "up");
  }
  await eventually(() => ifaceColumn(p, "link_state") === "up", "link_state up again");
  assert.ok(await pingReaches(host(1), "10.0.0.2"), "traffic again after the link came back");

  // ovs-vsctl reports the error and still succeeds (the port row exists).
  // mtu_request reaches the kernel; larger frames than the ring was built for pass once it is rebuilt.
  if (hasPing()) {
    vsctlOk("set", "Interface", port(1), "mtu_request=4000", "--", "set", "Interface", port(2), "mtu_request=4000");
    assert.equal(sysfs(SW, port(1), "mtu"), "4000");
    await eventually(() => ifaceColumn(port(2), "mtu") === "4000", "Interface.mtu 4000");
    try {
      for (const i of [1, 2]) ip("-n", host(i), "link", "set", dev(i), "mtu", "4000");
      assert.ok(await pingSize(host(1), "10.0.0.2", 3900), "3942-byte frames through the switch");
    } finally {
      vsctlOk("set", "Interface", port(1), "mtu_request=1500", "--", "set", "Interface", port(2), "mtu_request=1500");
      for (const i of [1, 2]) ip("-n", host(i), "link", "set", dev(i), "mtu", "1500");
    }
  }

  const r = vsctl("add-port", "br0", `${PFX}none`);
  assert.match(r.stderr, new RegExp(`Error detected while setting up '${PFX}none': could not open network device ${PFX}none \\(No such device\\)`));
  assert.equal(ifaceColumn(`${PFX}none`, "ofport"), "-1");
  assert.equal(ifaceColumn(`${PFX}none`, "error"), `could not open network device ${PFX}none (No such device)`);
  // The device appears: the next reconfiguration opens it (OVS tries again on each).
  ip("-n", SW, "link", "add", `${PFX}none`, "type", "veth", "peer", "name", `${PFX}nonf`);
  vsctlOk("set", "Interface", `${PFX}none`, "external_ids:retry=1");
  assert.ok(Number(ifaceColumn(`${PFX}none`, "ofport")) > 0);
  assert.equal(ifaceColumn(`${PFX}none`, "error"), "[]");
  vsctlOk("del-port", "br0", `${PFX}none`);
  ip("-n", SW, "link", "del", `${PFX}none`);
});

test("VLANs: access ports keep two VLANs apart, a trunk carries both", { skip, timeout: 60_000 }, async () => {
  // h3 shares h1's subnet but sits in VLAN 20: nothing may pass between them.
  addHost(SW, host(3), dev(3), port(3), "10.0.0.3/24");
  ip("-n", host(3), "addr", "add", "10.0.20.3/24", "dev", dev(3));
  addHost(SW, host(4), dev(4), port(4), "10.0.20.4/24");
  // The trunk host speaks tagged frames itself (this kernel may lack 802.1Q devices).
  addHost(SW, host(5), dev(5), port(5), null);
  vsctlOk("set", "Port", port(1), "tag=10", "--", "set", "Port", port(2), "tag=10",
    "--", "add-port", "br0", port(3), "tag=20", "--", "add-port", "br0", port(4), "tag=20",
    "--", "add-port", "br0", port(5), "trunks=10,20");
  // The switch's own address was on VLAN 0 (br0 is a trunk of all VLANs): out of the way.
  ip("-n", SW, "addr", "flush", "dev", "br0");
  for (const i of [1, 2]) ip("-n", host(i), "neigh", "flush", "all");

  assert.ok(await pingReaches(host(1), "10.0.0.2"), "VLAN 10: h1 -> h2");
  assert.ok(await pingReaches(host(4), "10.0.20.3"), "VLAN 20: h4 -> h3");
  assert.equal(await pingOnce(host(1), "10.0.0.3"), false, "h1 (VLAN 10) must not reach h3 (VLAN 20)");
  assert.equal(await pingOnce(host(3), "10.0.0.2"), false, "h3 (VLAN 20) must not reach h2 (VLAN 10)");

  // Full-sized tagged frames (1518 bytes) both ways over the trunk, on each VLAN.
  const got = await trunkProbe(host(5), dev(5), [
    { vid: 10, src: "10.0.0.5", dst: "10.0.0.1", size: 1472 },
    { vid: 20, src: "10.0.20.5", dst: "10.0.20.4", size: 1472 },
    { vid: 10, src: "10.0.0.5", dst: "10.0.0.3" },
    { vid: 20, src: "10.0.0.5", dst: "10.0.0.3" },
    { vid: 30, src: "10.0.0.5", dst: "10.0.0.1" },
  ]);
  assert.deepEqual(got, [
    { arp: true, echo: true },
    { arp: true, echo: true },
    { arp: false, echo: false }, // 10.0.0.3 is h3, in VLAN 20
    { arp: true, echo: true }, // ... which the trunk reaches on VLAN 20
    { arp: false, echo: false }, // VLAN 30 is not in the trunk's list
  ]);

  // The trunk host's MAC is learned once per VLAN.
  const fdb = appctl("fdb/show", "br0");
  const mac5 = sysfs(host(5), dev(5), "address");
  const p5 = ofport(port(5));
  assert.match(fdb, new RegExp(`\\s${p5}\\s+10\\s+${mac5}`), fdb);
  assert.match(fdb, new RegExp(`\\s${p5}\\s+20\\s+${mac5}`), fdb);
  assert.doesNotMatch(fdb, new RegExp(`\\s${p5}\\s+30\\s+`), fdb);

  // TCP within a VLAN.
  const t = await tcpTransfer(host(2), host(1), "10.0.0.2", TCP_BYTES, 5004);
  assert.equal(t.error, "");
  assert.equal(t.received, TCP_BYTES);
});

test("a veth deleted under traffic leaves the port down and the switch running; re-created, it works again", { skip, timeout: 40_000 }, async () => {
  const p2 = port(2);
  const before = ofport(p2);
  // UDP from h1 to h2 as fast as node sends it, for 2 s.
  const flood = nsRun(host(1), process.execPath, ["-e", `
    const s = require("dgram").createSocket("udp4");
    const buf = Buffer.alloc(512, 1);
    const end = Date.now() + 2000;
    (function burst() {
      for (let i = 0; i < 64; i++) s.send(buf, 9, "10.0.0.2");
      if (Date.now() < end) setImmediate(burst); else s.close();
    })();
  `], 20_000);
  await new Promise((r) => setTimeout(r, 500));
  ip("-n", SW, "link", "del", p2);
  await flood;
  assert.ok(sw!.alive(), `switch exited: ${sw!.stderr()}`);
  await eventually(() => ifaceColumn(p2, "admin_state") === "down" && ifaceColumn(p2, "ifindex") === "0", "p2 shown down, ifindex 0");
  // As OVS: the port keeps its number and shows no error.
  assert.equal(ofport(p2), before);
  assert.equal(ifaceColumn(p2, "error"), "[]");
  assert.ok(await pingReaches(host(4), "10.0.20.3", 3), "the rest of the switch still works");

  deleteNetns(host(2));
  addHost(SW, host(2), dev(2), p2, "10.0.0.2/24");
  ip("-n", host(1), "neigh", "flush", "all");
  await eventually(() => ifaceColumn(p2, "ifindex") === sysfs(SW, p2, "ifindex"), "the new device picked up");
  assert.ok(await pingReaches(host(1), "10.0.0.2"), "h1 -> re-created h2");
  assert.equal(ofport(p2), before);
});
