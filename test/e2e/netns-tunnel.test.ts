/**
 * Native tunnels end to end in network namespaces (root only): two tsovs
 * instances, each in its own namespace with an underlay bridge `bru` (a
 * system port on the veth between them, its internal port addressed
 * 192.168.50.x/24) and an integration bridge `bri` with a host namespace
 * behind it and one tunnel port to the other switch. The hosts ping each
 * other over VXLAN, then Geneve, then GRE (the tunnel type changed at run
 * time). A Linux kernel VXLAN device (id 42) in a third namespace on A's
 * underlay answers a ping across tsovs's VXLAN port.
 *
 * Neighbours are resolved as OVS does: the first packets trigger an ARP
 * request out of the underlay bridge, the reply is snooped, later pings
 * cross.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { spawnSync } from "node:child_process";
import { addHost, addNetns, deleteNetns, ifPrefix, ip, linuxNetSkip, pingReaches, startTsovsInNetns, type NsDaemon } from "../util/linux-net.js";
import { run, tempDir, which } from "../util/ovs.js";

const PFX = ifPrefix("n");
const NS_A = `${PFX}sa`;
const NS_B = `${PFX}sb`;
const NS_K = `${PFX}kv`;
const host = (s: string): string => `${PFX}h${s}`;

function skipReason(): string | false {
  const l = linuxNetSkip();
  if (l !== false) return l;
  if (which("ovs-vsctl") === null) return "needs ovs-vsctl/ovs-appctl as clients";
  if (spawnSync("ip", ["link", "help", "vxlan"], { encoding: "utf8" }).stderr.includes("Unknown")) return "kernel vxlan not available";
  return false;
}
const skip = skipReason();

interface Side {
  ns: string;
  dir: string;
  sw: NsDaemon | null;
}
const sides: Record<"a" | "b", Side> = { a: { ns: NS_A, dir: "", sw: null }, b: { ns: NS_B, dir: "", sw: null } };

function vsctl(s: Side, ...args: string[]): string {
  const r = run("ovs-vsctl", ["--timeout=20", ...args], s.dir);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

function appctl(s: Side, ...args: string[]): string {
  const r = run("ovs-appctl", args, s.dir);
  return r.stdout + r.stderr;
}

before(async () => {
  if (skip !== false) return;
  addNetns(NS_A);
  addNetns(NS_B);
  // The underlay link between the two switches' namespaces.
  ip("link", "add", `${PFX}a0`, "type", "veth", "peer", "name", `${PFX}b0`);
  ip("link", "set", `${PFX}a0`, "netns", NS_A);
  ip("link", "set", `${PFX}b0`, "netns", NS_B);
  for (const [key, s, self, peer, hostIp] of [["a", sides.a, "192.168.50.1", "192.168.50.2", "10.1.0.1/24"], ["b", sides.b, "192.168.50.2", "192.168.50.1", "10.1.0.2/24"]] as const) {
    s.dir = tempDir(`tsovs-tnl-${key}-`);
    s.sw = await startTsovsInNetns(s.ns, s.dir);
    ip("-n", s.ns, "link", "set", `${PFX}${key}0`, "up");
    vsctl(s, "add-br", "bru", "--", "set", "bridge", "bru", "datapath_type=netdev", "--", "add-port", "bru", `${PFX}${key}0`);
    ip("-n", s.ns, "addr", "add", `${self}/24`, "dev", "bru");
    ip("-n", s.ns, "link", "set", "bru", "up");
    vsctl(s, "add-br", "bri", "--", "set", "bridge", "bri", "datapath_type=netdev",
      "--", "add-port", "bri", "tun", "--", "set", "Interface", "tun", "type=vxlan", `options:remote_ip=${peer}`, "options:key=7");
    addHost(s.ns, host(key), `${PFX}d${key}`, `${PFX}p${key}`, hostIp);
    vsctl(s, "add-port", "bri", `${PFX}p${key}`);
  }
});

after(async () => {
  try {
    await Promise.all([sides.a.sw?.stop(), sides.b.sw?.stop()]);
  } finally {
    for (const n of [host("a"), host("b"), NS_K, NS_A, NS_B]) deleteNetns(n);
    for (const s of [sides.a, sides.b]) if (s.dir !== "") fs.rmSync(s.dir, { recursive: true, force: true });
  }
});

for (const type of ["vxlan", "geneve", "gre"]) {
  test(`two tsovs joined by ${type}: the hosts behind them ping each other`, { skip, timeout: 40_000 }, async () => {
    if (type !== "vxlan") for (const s of [sides.a, sides.b]) vsctl(s, "set", "Interface", "tun", `type=${type}`);
    assert.ok(await pingReaches(host("a"), "10.1.0.2", 8), `ping over ${type}\nA:\n${appctl(sides.a, "dpctl/dump-flows")}\nB:\n${appctl(sides.b, "dpctl/dump-flows")}`);
    assert.ok(await pingReaches(host("b"), "10.1.0.1", 3), `ping back over ${type}`);
    // The underlay learned its neighbour by snooping ARP, as OVS does.
    assert.match(appctl(sides.a, "tnl/neigh/show"), /192\.168\.50\.2\s+[0-9a-f:]{17}\s+bru/);
    const flows = appctl(sides.a, "dpctl/dump-flows");
    assert.match(flows, /tnl_push\(tnl_port\(\d+\),header\(/);
    assert.match(flows, /tnl_pop\(\d+\)/);
  });
}

test("tsovs's VXLAN port talks to a Linux kernel VXLAN device", { skip, timeout: 40_000 }, async () => {
  const a = sides.a;
  addNetns(NS_K);
  ip("link", "add", `${PFX}a1`, "type", "veth", "peer", "name", `${PFX}k0`);
  ip("link", "set", `${PFX}a1`, "netns", NS_A);
  ip("link", "set", `${PFX}k0`, "netns", NS_K);
  ip("-n", NS_A, "link", "set", `${PFX}a1`, "up");
  ip("-n", NS_K, "addr", "add", "192.168.50.3/24", "dev", `${PFX}k0`);
  ip("-n", NS_K, "link", "set", `${PFX}k0`, "up");
  ip("-n", NS_K, "link", "add", "vx0", "type", "vxlan", "id", "42", "remote", "192.168.50.1", "local", "192.168.50.3", "dstport", "4789", "dev", `${PFX}k0`);
  ip("-n", NS_K, "addr", "add", "10.1.0.3/24", "dev", "vx0");
  ip("-n", NS_K, "link", "set", "vx0", "up");
  vsctl(a, "add-port", "bru", `${PFX}a1`);
  vsctl(a, "add-port", "bri", "tk", "--", "set", "Interface", "tk", "type=vxlan", "options:remote_ip=192.168.50.3", "options:key=42");
  assert.ok(await pingReaches(host("a"), "10.1.0.3", 8), `ping to the kernel VXLAN peer\n${appctl(a, "dpctl/dump-flows")}`);
  assert.match(appctl(a, "dpif/show"), /tk \d+\/\d+: \(vxlan: key=42, remote_ip=192\.168\.50\.3\)/);
});
