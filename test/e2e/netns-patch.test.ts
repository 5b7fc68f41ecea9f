/**
 * Patch ports end to end: two bridges in one switch joined by a patch
 * pair (`type=patch`, `options:peer`).
 *
 * - Differential (real OVS 3.1 installed, no root): the same two bridges
 *   with dummy ports in tsovs and in ovs-vswitchd; `ofproto/trace` across
 *   the pair — NORMAL flooding and learning through it, explicit rules on
 *   both sides, header changes made before the pair and matched after
 *   it, a pair with one side deleted and then added back — must read the
 *   same, line for line.
 * - On real devices (root): tsovs in its own namespace, h1 on a `system`
 *   port of br0, h2 on one of br1; ping and a TCP transfer cross the
 *   pair; the datapath holds one megaflow from h1's port straight to
 *   h2's (a patch port copies no packet: it has no datapath port);
 *   deleting one side stops the traffic, adding it back restores it.
 */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { addHost, addNetns, deleteNetns, ifPrefix, linuxNetSkip, pingOnce, pingReaches, startTsovsInNetns, tcpTransfer, type NsDaemon } from "../util/linux-net.js";
import { ovsSkip, run, tempDir, tsovs, which, type RunResult } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";
import { canonicalTrace } from "../util/trace-canon.js";

const MAC1 = "50:54:00:00:00:01";
const MAC2 = "50:54:00:00:00:02";

/* ---- differential: ofproto/trace across the pair, tsovs against OVS 3.1 (dummy ports) ---- */

/** br0 (p1, patch-a) and br1 (p2, patch-b), patch-a <-> patch-b; ofports fixed. */
function pairConfig(dpType: string, portType: string): string[] {
  return [
    "add-br", "br0", "--", "set", "bridge", "br0", `datapath_type=${dpType}`,
    "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", `type=${portType}`, "ofport_request=1",
    "--", "add-port", "br0", "patch-a", "--", "set", "interface", "patch-a", "type=patch", "options:peer=patch-b", "ofport_request=2",
    "--", "add-br", "br1", "--", "set", "bridge", "br1", `datapath_type=${dpType}`,
    "--", "add-port", "br1", "p2", "--", "set", "interface", "p2", `type=${portType}`, "ofport_request=1",
    "--", "add-port", "br1", "patch-b", "--", "set", "interface", "patch-b", "type=patch", "options:peer=patch-a", "ofport_request=2",
  ];
}

/** One step of the differential script: a command whose output is compared, or a trace. */
type Step = { vsctl: string[] } | { flows: string; rules: string[] } | { trace: string; bridge?: string };

// OVS's trace parser takes udp_src/udp_dst for UDP (tp_src there needs TCP).
const UDP = `dl_src=${MAC1},dl_dst=${MAC2},udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1000,udp_dst=2000`;

const STEPS: Step[] = [
  // NORMAL on both bridges: a flood crosses the pair; learning through it with -generate.
  { trace: `in_port=1,dl_src=${MAC1},dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2` },
  { trace: `in_port=1,${UDP} -generate` },
  { trace: `in_port=1,dl_src=${MAC2},dl_dst=${MAC1},ip -generate`, bridge: "br1" },
  { trace: `in_port=1,${UDP}` },
  // Explicit rules: a VLAN pushed and a register loaded in br0, matched in br1 (registers do not cross a patch port).
  { flows: "br0", rules: ["priority=10,in_port=1,udp,actions=mod_vlan_vid:7,load:0x5->NXM_NX_REG0[],output:2", "priority=5,in_port=1,actions=output:2", "priority=1,actions=drop"] },
  { flows: "br1", rules: ["priority=20,in_port=2,dl_vlan=7,reg0=0,actions=strip_vlan,mod_nw_dst:10.0.0.9,output:1", "priority=10,in_port=2,actions=output:1,resubmit(,1)", "table=1,actions=mod_dl_src:00:00:00:00:00:99,output:LOCAL"] },
  { trace: `in_port=1,${UDP}` },
  { trace: `in_port=1,dl_src=${MAC1},dl_dst=${MAC2},tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80` },
  // One side deleted: output to patch-a goes nowhere.
  { vsctl: ["del-port", "br1", "patch-b"] },
  { trace: `in_port=1,${UDP}` },
  // Added back: traffic crosses again.
  { vsctl: ["add-port", "br1", "patch-b", "--", "set", "interface", "patch-b", "type=patch", "options:peer=patch-a", "ofport_request=2"] },
  { trace: `in_port=1,${UDP}` },
  // A peer that names a port that does not exist, then a peer that is not a patch port.
  { vsctl: ["set", "interface", "patch-a", "options:peer=nowhere"] },
  { trace: `in_port=1,${UDP}` },
  { vsctl: ["set", "interface", "patch-a", "options:peer=p2"] },
  { trace: `in_port=1,${UDP}` },
];

async function sh(sw: Switch, cmd: string, args: string[], input?: string): Promise<string> {
  let a = args;
  if (input !== undefined) {
    const f = `${sw.dir}/flows-${Math.random().toString(36).slice(2)}.txt`;
    fs.writeFileSync(f, input);
    a = args.map((x) => (x === "-" ? f : x));
  }
  const r = await runAsync(cmd, a, sw.dir, 30_000);
  if (r.status !== 0) return `exit ${r.status}: ${r.stderr.trim().replaceAll(sw.dir, "$DIR").replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|\d+\|/gm, "TIME|")}`;
  return r.stdout;
}

async function runSteps(sw: Switch): Promise<string[]> {
  const out: string[] = [];
  out.push(await sh(sw, "ovs-vsctl", ["--timeout=20", ...pairConfig("dummy", "dummy")]));
  for (const s of STEPS) {
    if ("vsctl" in s) out.push(`$ ovs-vsctl ${s.vsctl.join(" ")}\n${await sh(sw, "ovs-vsctl", ["--timeout=20", ...s.vsctl])}`);
    else if ("flows" in s) {
      out.push(`$ del-flows ${s.flows}\n${await sh(sw, "ovs-ofctl", ["del-flows", s.flows])}`);
      out.push(`$ add-flows ${s.flows}\n${await sh(sw, "ovs-ofctl", ["add-flows", s.flows, "-"], s.rules.join("\n") + "\n")}`);
    }
    else {
      const br = s.bridge ?? "br0";
      const text = await sh(sw, "ovs-appctl", ["ofproto/trace", br, ...s.trace.split(" ")]);
      out.push(`$ ofproto/trace ${br} ${s.trace}\n${canonicalTrace(text)}`);
    }
  }
  const show = await sh(sw, "ovs-appctl", ["dpif/show"]);
  // Datapath port numbers of real ports are allocation order; the patch ports' lines are the point.
  out.push(`$ dpif/show (patch ports)\n${show.split("\n").filter((l) => l.includes("patch")).join("\n")}`);
  return out;
}

test("ofproto/trace across a patch pair equals OVS 3.1's (differential, dummy ports)",
  { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 90_000 }, async () => {
    const realDir = tempDir("patch-ovs-");
    const tsDir = tempDir("patch-tsovs-");
    let real: Switch | null = null;
    let ts: Switch | null = null;
    try {
      real = await startRealSwitch(realDir);
      ts = await startTsovsSwitch(tsDir);
      const want = await runSteps(real);
      const got = await runSteps(ts);
      assert.equal(got.length, want.length);
      for (let k = 0; k < want.length; k++) assert.equal(got[k], want[k]);
    } finally {
      await ts?.stop();
      await real?.stop();
      fs.rmSync(realDir, { recursive: true, force: true });
      fs.rmSync(tsDir, { recursive: true, force: true });
    }
  });

/* ---- on real devices: two namespaces, one on each bridge ---- */

const skip = linuxNetSkip();
const PFX = ifPrefix("pp");
const SW = `${PFX}s`;
const H1 = `${PFX}h1`;
const H2 = `${PFX}h2`;
let sw: NsDaemon | null = null;
let dir = "";

function vsctl(...args: string[]): RunResult {
  return which("ovs-vsctl") !== null ? run("ovs-vsctl", ["--timeout=20", ...args], dir) : tsovs(["vsctl", "--timeout=20", ...args], dir);
}

function vsctlOk(...args: string[]): string {
  const r = vsctl(...args);
  assert.equal(r.status, 0, `ovs-vsctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout.trim();
}

function appctl(...args: string[]): string {
  const r = which("ovs-appctl") !== null ? run("ovs-appctl", args, dir) : tsovs(["appctl", ...args], dir);
  assert.equal(r.status, 0, `ovs-appctl ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

before(async () => {
  if (skip) return;
  dir = tempDir("tsovs-patch-");
  addNetns(SW);
  addHost(SW, H1, `${PFX}d1`, `${PFX}p1`, "10.0.0.1/24");
  addHost(SW, H2, `${PFX}d2`, `${PFX}p2`, "10.0.0.2/24");
  sw = await startTsovsInNetns(SW, dir);
  vsctlOk(...pairConfig("netdev", "system").map((a) => (a === "p1" ? `${PFX}p1` : a === "p2" ? `${PFX}p2` : a))
    .filter((a) => a !== "type=system"));
});

after(async () => {
  try {
    await sw?.stop();
  } finally {
    for (const ns of [H1, H2, SW]) deleteNetns(ns);
    if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
  }
});

/** The MAC address of `dev` in namespace `ns`. */
function hostMac(ns: string, dev: string): string {
  const r = run("ip", ["-n", ns, "-j", "link", "show", "dev", dev]);
  return (JSON.parse(r.stdout) as { address: string }[])[0]!.address;
}

/** The datapath port number of `name` in `dpif/show` ("name ofport/odp: (type)"). */
function odpPort(show: string, name: string): string {
  const m = new RegExp(`^\\s+${name} \\d+/(\\d+):`, "m").exec(show);
  assert.ok(m !== null, `${name} in dpif/show:\n${show}`);
  return m[1]!;
}

test("ping and TCP cross a patch pair between two bridges; the datapath forwards port to port", { skip, timeout: 45_000 }, async () => {
  const show = appctl("dpif/show");
  assert.match(show, /patch-a 2\/none: \(patch: peer=patch-b\)/);
  assert.match(show, /patch-b 2\/none: \(patch: peer=patch-a\)/);
  assert.ok(await pingReaches(H1, "10.0.0.2"), "h1 -> h2 across the patch pair");
  assert.ok(await pingOnce(H2, "10.0.0.1"), "h2 -> h1");
  const t = await tcpTransfer(H2, H1, "10.0.0.2", 4 << 20, 5011);
  assert.equal(t.error, "");
  assert.equal(t.received, 4 << 20);
  // One datapath hop: h1's port straight to h2's, with packets counted.
  const p1 = odpPort(show, `${PFX}p1`);
  const p2 = odpPort(show, `${PFX}p2`);
  const flows = appctl("dpctl/dump-flows");
  assert.match(flows, new RegExp(`in_port\\(${p1}\\).*eth_type\\(0x0800\\).*packets:[1-9].*actions:${p2}$`, "m"), flows);
  // Both bridges learned both hosts (NORMAL on each side of the pair): h1 behind p1 on br0 and behind patch-b on br1, h2 the other way.
  const mac1 = hostMac(H1, `${PFX}d1`);
  const mac2 = hostMac(H2, `${PFX}d2`);
  assert.match(appctl("fdb/show", "br0"), new RegExp(`^\\s+1\\s+0\\s+${mac1}\\s`, "m"));
  assert.match(appctl("fdb/show", "br0"), new RegExp(`^\\s+2\\s+0\\s+${mac2}\\s`, "m"));
  assert.match(appctl("fdb/show", "br1"), new RegExp(`^\\s+1\\s+0\\s+${mac2}\\s`, "m"));
  assert.match(appctl("fdb/show", "br1"), new RegExp(`^\\s+2\\s+0\\s+${mac1}\\s`, "m"));
});

test("deleting one side of the pair stops the traffic; adding it back restores it", { skip, timeout: 45_000 }, async () => {
  vsctlOk("del-port", "br1", "patch-b");
  assert.equal(await pingOnce(H1, "10.0.0.2", 1), false, "ping with patch-b gone");
  assert.equal(await pingOnce(H2, "10.0.0.1", 1), false, "ping back with patch-b gone");
  vsctlOk("add-port", "br1", "patch-b", "--", "set", "interface", "patch-b", "type=patch", "options:peer=patch-a");
  assert.ok(await pingReaches(H1, "10.0.0.2"), "h1 -> h2 once patch-b is back");
  const t = await tcpTransfer(H2, H1, "10.0.0.2", 1 << 20, 5012);
  assert.equal(t.received, 1 << 20, t.error);
});
