/**
 * Port mirroring against OVS 3.1, through the real tools only: the same
 * `ovs-vsctl` Mirror rows and `ovs-ofctl` flows go to `tsovs start` and to
 * ovsdb-server + ovs-vswitchd (dummy datapath); `ofproto/trace` reports
 * (the whole text), Mirror.statistics after `netdev-dummy/receive`, the
 * installed megaflows, and the errors logged for bad Mirror rows must be
 * the same. A Mirror change revalidates the megaflows in tsovs (OVS 3.1
 * keeps their old actions until they expire: checked as a difference).
 *
 * The cases follow OVS's tests/ofproto-dpif.at "mirroring, ..." tests
 * (select_all, select_src, OFPP_NONE ingress, select_dst, select_vlan,
 * output_port, output_vlan, same output port, recirculation) plus NORMAL,
 * snaplen, flooding and RSPAN onto access ports. Where OVS itself is not
 * deterministic (the order of a flood over the bridge's bundles follows
 * the Port rows' random uuids) the outputs of one run are compared as a set.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

const ETH = "eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
const IP = "eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=1,tos=0,ttl=128,frag=no),icmp(type=8,code=0)";
const pkt = (port: number | string): string => `in_port(${port}),${ETH},${IP}`;
const vpkt = (port: number, vid: number, pcp = 0): string => `in_port(${port}),${ETH},eth_type(0x8100),vlan(vid=${vid},pcp=${pcp}),encap(${IP})`;

interface Case {
  name: string;
  /** ovs-vsctl commands (words split on spaces), run after the mirrors were cleared. */
  vsctl: string[];
  flows: string[];
  /** Datapath flows for `ofproto/trace ovs-dummy`, or `br0 FLOW` for a bridge trace. */
  traces: string[];
}

const M = "set Bridge br0 mirrors=@m -- --id=@p1 get Port p1 -- --id=@p2 get Port p2 -- --id=@p3 get Port p3 -- --id=@m create Mirror name=mymirror";
const OUT12 = ["in_port=1,actions=output:2", "in_port=2,actions=output:1"];

const CASES: Case[] = [
  { name: "select_all", vsctl: [`${M} select_all=true output_port=@p3`], flows: OUT12, traces: [pkt(1), pkt(2), pkt(3), vpkt(1, 10), pkt(100)] },
  { name: "select_src", vsctl: [`${M} select_src_port=@p1 output_port=@p3`], flows: OUT12, traces: [pkt(1), pkt(2)] },
  {
    name: "OFPP_NONE ingress port", vsctl: [`${M} select_all=true output_port=@p2`], flows: ["actions=output:1"],
    traces: ["br0 icmp,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8,icmp_code=0"],
  },
  { name: "select_dst", vsctl: [`${M} select_dst_port=@p2 output_port=@p3`], flows: OUT12, traces: [pkt(1), pkt(2)] },
  {
    name: "select_vlan", vsctl: [`${M} select_all=true select_vlan=11 output_port=@p3`], flows: ["in_port=1,actions=output:2"],
    traces: [pkt(1), vpkt(1, 10), vpkt(1, 11), vpkt(1, 11, 5)],
  },
  {
    name: "output_port with a VLAN rewrite", vsctl: [`${M} select_all=true output_port=@p3`],
    flows: ["in_port=1,actions=mod_vlan_vid:17,output:2", "in_port=2,actions=output:1"], traces: [pkt(1), pkt(2)],
  },
  {
    name: "output_vlan (RSPAN)", vsctl: [`${M} select_all=true output_vlan=12`],
    flows: ["in_port=1,actions=mod_vlan_vid:17,output:2", "in_port=2,actions=output:1"], traces: [pkt(1), pkt(2), vpkt(2, 12), vpkt(2, 5, 3)],
  },
  {
    name: "output_vlan onto access ports, NORMAL",
    vsctl: ["set port p1 tag=5 -- set port p3 tag=12", `${M} select_all=true output_vlan=12`],
    flows: ["actions=normal"], traces: [pkt(1), pkt(2), vpkt(2, 5), vpkt(2, 12), vpkt(1, 5)],
  },
  {
    name: "two mirrors, same output port",
    vsctl: ["set Bridge br0 mirrors=@m1,@m2 -- --id=@p1 get Port p1 -- --id=@p2 get Port p2 -- --id=@p3 get Port p3 -- --id=@m1 create Mirror name=m1 select_src_port=@p1 output_port=@p3 -- --id=@m2 create Mirror name=m2 select_dst_port=@p2 output_port=@p3"],
    flows: OUT12, traces: [pkt(1), pkt(2)],
  },
  {
    name: "two mirrors, two output ports",
    vsctl: ["set Bridge br0 mirrors=@m1,@m2 -- --id=@p1 get Port p1 -- --id=@p2 get Port p2 -- --id=@p3 get Port p3 -- --id=@p4 get Port p4 -- --id=@m1 create Mirror name=m1 select_src_port=@p1 output_port=@p3 -- --id=@m2 create Mirror name=m2 select_dst_port=@p2 output_port=@p4"],
    flows: OUT12, traces: [pkt(1), pkt(2), pkt(4)],
  },
  { name: "NORMAL with snaplen", vsctl: [`${M} select_all=true output_port=@p3 snaplen=100`], flows: ["actions=normal"], traces: [pkt(1), pkt(2), vpkt(1, 7), pkt(3)] },
  {
    name: "SPAN to an access port, NORMAL between trunk and access ports",
    vsctl: ["set port p3 tag=9 -- set port p1 tag=10", `${M} select_all=true output_port=@p3`],
    flows: ["actions=normal"], traces: [pkt(1), vpkt(2, 10, 2), vpkt(2, 11), pkt(3), vpkt(3, 9)],
  },
  { name: "RSPAN with snaplen", vsctl: [`${M} select_all=true output_vlan=12 snaplen=200`], flows: ["in_port=1,actions=mod_vlan_vid:17,output:2"], traces: [pkt(1)] },
  { name: "FLOOD and ALL with select_dst", vsctl: [`${M} select_dst_port=@p2 output_port=@p3`], flows: ["in_port=1,actions=flood", "in_port=2,actions=all"], traces: [pkt(1), pkt(2)] },
  {
    name: "recirculation keeps the mirrors already used", vsctl: [`${M} select_all=true output_port=@p3`],
    flows: ["table=0,in_port=1,ip,actions=ct(table=1)", "table=1,in_port=1,ip,actions=output:2"], traces: [pkt(1)],
  },
  {
    name: "bad rows: output port on another bridge, both outputs, no output",
    vsctl: [
      "add-br br1 -- set bridge br1 datapath-type=dummy -- add-port br1 q1 -- set interface q1 type=dummy",
      "set Bridge br0 mirrors=@m -- --id=@q1 get Port q1 -- --id=@m create Mirror name=bad1 select_all=true output_port=@q1",
    ],
    flows: ["in_port=1,actions=output:2"], traces: [pkt(1)],
  },
  {
    name: "bad rows: both outputs", vsctl: [`${M} select_all=true output_port=@p3 output_vlan=10`],
    flows: ["in_port=1,actions=output:2"], traces: [pkt(1)],
  },
  { name: "bad rows: no output", vsctl: [`${M} select_all=true`], flows: ["in_port=1,actions=output:2"], traces: [pkt(1)] },
];

/**
 * The datapath actions as the set of outputs, each with the VLAN header and
 * truncation in force when it happens, when they are only outputs, VLAN
 * pushes/pops and truncations; otherwise unchanged.
 */
function canonActions(actions: string, flowLine: string): string {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < actions.length; i++) {
    if (actions[i] === "(") depth++;
    else if (actions[i] === ")") depth--;
    else if (actions[i] === "," && depth === 0) {
      parts.push(actions.slice(start, i));
      start = i + 1;
    }
  }
  parts.push(actions.slice(start));
  if (!parts.every((a) => /^\d+$/.test(a) || /^(push_vlan|pop_vlan|trunc)\b/.test(a))) return actions;
  const input = /\bdl_vlan=(\d+),dl_vlan_pcp=(\d+)/.exec(flowLine);
  let vlan = input ? `vid=${input[1]},pcp=${input[2]}` : "untagged";
  let trunc = "";
  const outs: string[] = [];
  for (const a of parts) {
    if (a.startsWith("push_vlan")) vlan = a.slice(10, -1);
    else if (a === "pop_vlan") vlan = "untagged";
    else if (a.startsWith("trunc")) trunc = a;
    else {
      outs.push(`${a}:${vlan}${trunc}`);
      trunc = "";
    }
  }
  return `{${outs.sort().join(" ")}}`;
}

function canonTrace(text: string): string {
  let flowLine = "";
  return text.split("\n").map((l) => {
    if (l.startsWith("Flow: ")) flowLine = l;
    const m = /^Datapath actions: (.*)$/.exec(l);
    return m === null ? l : `Datapath actions: ${canonActions(m[1]!, flowLine)}`;
  }).join("\n");
}

async function ok(dir: string, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

async function setupBridge(dir: string): Promise<void> {
  await ok(dir, "ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath-type=dummy", "fail-mode=secure"]);
  const args: string[] = [];
  for (let i = 1; i <= 4; i++) args.push("--", "add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`);
  await ok(dir, "ovs-vsctl", args.slice(1));
}

/** Runs every case on one switch; returns the report text per case. */
async function runCases(dir: string): Promise<string[]> {
  const out: string[] = [];
  for (const c of CASES) {
    await ok(dir, "ovs-vsctl", ["--", "--if-exists", "clear", "bridge", "br0", "mirrors", "--", "--if-exists", "del-br", "br1"]);
    await ok(dir, "ovs-vsctl", ["clear", "port", "p1", "tag", "--", "clear", "port", "p3", "tag"]);
    await ok(dir, "ovs-ofctl", ["del-flows", "br0"]);
    for (const v of c.vsctl) await ok(dir, "ovs-vsctl", v.split(" "));
    for (const f of c.flows) await ok(dir, "ovs-ofctl", ["add-flow", "br0", f]);
    let text = "";
    for (const t of c.traces) {
      const args = t.startsWith("br0 ") ? ["ofproto/trace", "br0", t.slice(4)] : ["ofproto/trace", "ovs-dummy", t];
      const r = await runAsync("ovs-appctl", args, dir);
      text += `## ${t}\n${r.stdout}${r.stderr}`;
    }
    out.push(canonTrace(text));
  }
  return out;
}

/** Mirror errors in the switch's log, without timestamps. */
function mirrorErrors(dir: string): string[] {
  const lines: string[] = [];
  for (const f of fs.readdirSync(dir)) {
    if (!f.endsWith(".log") && f !== "ts.out") continue;
    for (const l of fs.readFileSync(path.join(dir, f), "utf8").split("\n")) {
      const m = /\|bridge\|ERR\|(bridge br0: mirror .*)$/.exec(l);
      if (m !== null) lines.push(m[1]!);
    }
  }
  return [...new Set(lines)].sort();
}

async function both<T>(fn: (sw: Switch) => Promise<T>): Promise<[T, T]> {
  const real = await startRealSwitch(tempDir("ovs-mirror-"));
  const ts = await startTsovsSwitch(tempDir("tsovs-mirror-"), ["--enable-dummy=override", "--disable-system", "--log-file"]);
  try {
    await Promise.all([setupBridge(real.dir), setupBridge(ts.dir)]);
    return await Promise.all([fn(real), fn(ts)]);
  } finally {
    await Promise.all([real.stop(), ts.stop()]);
    fs.rmSync(real.dir, { recursive: true, force: true });
    fs.rmSync(ts.dir, { recursive: true, force: true });
  }
}

test("mirroring: ofproto/trace and bad Mirror rows as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 120_000 }, async () => {
  const [[realOut, realErr], [tsOut, tsErr]] = await both(async (sw) => {
    const o = await runCases(sw.dir);
    return [o, mirrorErrors(sw.dir)] as const;
  });
  for (let i = 0; i < CASES.length; i++) assert.equal(tsOut[i], realOut[i], `case "${CASES[i]!.name}"`);
  assert.deepEqual(tsErr, realErr);
  assert.equal(realErr.length, 3);
});

test("mirroring: Mirror.statistics after netdev-dummy/receive, revalidation on a mirror change", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 60_000 }, async () => {
  const [real, ts] = await both(async (sw) => {
    const d = sw.dir;
    await ok(d, "ovs-vsctl", `${M} select_all=true select_vlan=11 output_port=@p3`.split(" "));
    await ok(d, "ovs-ofctl", ["add-flow", "br0", "in_port=1,actions=output:2"]);
    for (const v of [10, 10, 11, 11, 11]) await ok(d, "ovs-appctl", ["netdev-dummy/receive", "p1", vpkt(1, v)]);
    await ok(d, "ovs-appctl", ["netdev-dummy/receive", "p1", pkt(1)]);
    // Statistics are written every stats-update-interval (at least 5 s).
    await new Promise((r) => setTimeout(r, 6000));
    const stats = await ok(d, "ovs-vsctl", ["get", "mirror", "mymirror", "statistics"]);
    const dump = async (): Promise<string> =>
      (await ok(d, "ovs-appctl", ["dpctl/dump-flows"])).split("\n").filter((l) => l.startsWith("recirc")).map((l) => l.replace(/ packets:.*actions:/, " actions:")).sort().join("\n");
    const before = await dump();
    await ok(d, "ovs-vsctl", ["set", "mirror", "mymirror", "select_vlan=10"]);
    await ok(d, "ovs-appctl", ["revalidator/wait"]);
    await ok(d, "ovs-appctl", ["revalidator/wait"]);
    for (const v of [10, 11]) await ok(d, "ovs-appctl", ["netdev-dummy/receive", "p1", vpkt(1, v)]);
    const after = await dump();
    return { stats: stats.trim(), before, after };
  });
  assert.equal(ts.stats, real.stats);
  assert.equal(ts.before, real.before);
  assert.equal(real.stats, "{tx_bytes=330, tx_packets=3}");
  // A Mirror change revalidates the installed megaflows (OVS 3.1 leaves
  // them with their old actions until they expire, as its own dump shows).
  assert.match(ts.after, /vid=10.*actions:3,2$/m);
  assert.match(ts.after, /vid=11.*actions:2$/m);
  assert.match(real.after, /vid=10.*actions:2$/m);
});
