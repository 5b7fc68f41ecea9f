/**
 * NORMAL against the real ovs-vswitchd: the same bridge (dummy ports in
 * access, trunk, native-tagged, native-untagged and dot1q-tunnel modes,
 * protected and no-flood ports) and the same sequence of flows traced
 * with `ofproto/trace -generate` (so the real daemon learns as we do).
 * For every flow the trace lines under NORMAL must be identical, and the
 * outputs — each port with the VLAN tags the packet leaves with, worked
 * out from the real "Datapath actions" — must be the same set. The MAC
 * tables must then show the same entries in fdb/show.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, run } from "../util/ovs.js";
import { startRealSwitch, type Switch } from "../util/vswitchd.js";
import { fakeBridge, flowText, makeFlow, runNormal, tag, tagsText, type FlowSpec, type PortSpec } from "../util/normal.js";
import { formatFdbShow } from "../../src/ofproto/fdb-commands.js";
import * as L from "../../src/flow/key-layout.js";

const PORTS: PortSpec[] = [
  { name: "p1", ofp: 1 },
  { name: "p2", ofp: 2, tag: 10 },
  { name: "p3", ofp: 3, trunks: [10, 20] },
  { name: "p4", ofp: 4, tag: 20, mode: "native-untagged" },
  { name: "p5", ofp: 5, tag: 10, mode: "native-tagged", trunks: [20] },
  { name: "p6", ofp: 6 },
  { name: "p7", ofp: 7, tag: 100, mode: "dot1q-tunnel" },
  { name: "p8", ofp: 8, tag: 100, mode: "dot1q-tunnel", cvlans: [5, 6], qinq: 0x8100 },
  { name: "p9", ofp: 9, protected: true },
  { name: "p10", ofp: 10, protected: true },
  { name: "p11", ofp: 11, noFlood: true },
];

function vsctlPortArgs(p: PortSpec): string[] {
  const a = ["--", "add-port", "br0", p.name];
  if (p.tag !== undefined) a.push(`tag=${p.tag}`);
  if (p.mode) a.push(`vlan_mode=${p.mode}`);
  if (p.trunks) a.push(`trunks=${p.trunks.join(",")}`);
  if (p.cvlans) a.push(`cvlans=${p.cvlans.join(",")}`);
  if (p.qinq === 0x8100) a.push("other_config:qinq-ethtype=802.1q");
  if (p.protected) a.push("protected=true");
  a.push("--", "set", "interface", p.name, "type=dummy", `ofport_request=${p.ofp}`);
  return a;
}

const M = (n: number): string => `50:54:00:00:00:${n.toString(16).padStart(2, "0")}`;
const BCAST = "ff:ff:ff:ff:ff:ff";

/** The scenario: order matters (learning). */
const FLOWS: FlowSpec[] = [
  { inPort: 1, src: M(1), dst: M(2) },
  { inPort: 1, src: M(2), dst: M(1) },
  { inPort: 6, src: M(6), dst: M(1) },
  { inPort: 6, src: M(1), dst: M(6) },
  { inPort: 2, src: M(10), dst: BCAST },
  { inPort: 2, vlan: 10, src: M(10), dst: BCAST },
  { inPort: 2, vlan: 0, pcp: 5, src: M(10), dst: BCAST },
  { inPort: 3, vlan: 20, src: M(20), dst: BCAST },
  { inPort: 3, vlan: 10, src: M(21), dst: M(10) },
  { inPort: 3, vlan: 30, src: M(20), dst: BCAST },
  { inPort: 3, src: M(20), dst: BCAST },
  { inPort: 4, src: M(4), dst: BCAST },
  { inPort: 4, vlan: 10, src: M(4), dst: M(10) },
  { inPort: 4, vlan: 20, pcp: 6, src: M(4), dst: BCAST },
  { inPort: 2, src: M(10), dst: M(4) },
  { inPort: 3, vlan: 20, src: M(20), dst: M(4) },
  { inPort: 5, src: M(5), dst: BCAST },
  { inPort: 5, vlan: 20, src: M(5), dst: BCAST },
  { inPort: 5, vlan: 30, src: M(5), dst: BCAST },
  { inPort: 1, vlan: 10, src: M(11), dst: M(5) },
  { inPort: 7, src: M(7), dst: BCAST },
  { inPort: 7, vlan: 5, pcp: 3, src: M(7), dst: BCAST },
  { inPort: 8, vlan: 5, src: M(8), dst: BCAST },
  { inPort: 8, vlan: 7, src: M(8), dst: BCAST },
  { inPort: 8, src: M(8), dst: BCAST },
  { inPort: 1, vlan: 100, pcp: 2, src: M(12), dst: M(7) },
  { inPort: 7, vlan: 6, src: M(7), dst: M(8) },
  { inPort: 1, src: M(1), dst: "01:80:c2:00:00:00" },
  { inPort: 1, src: M(1), dst: "01:00:0c:cc:cc:cd" },
  { inPort: 1, src: "01:00:5e:00:00:01", dst: M(6) },
  { inPort: 1, src: M(1), dst: "01:00:5e:00:00:01" },
  { inPort: 1, src: M(30), dst: BCAST, arpOp: 1, spa: 0x0a000001, tpa: 0x0a000001 },
  { inPort: 6, src: M(31), dst: BCAST, arpOp: 1, spa: 0x0a000001, tpa: 0x0a000002 },
  { inPort: 6, src: M(31), dst: M(30), arpOp: 2, spa: 0x0a000002, tpa: 0x0a000001 },
  { inPort: 1, src: M(30), dst: BCAST, arpOp: 2 },
  { inPort: 9, src: M(9), dst: BCAST },
  { inPort: 10, src: M(40), dst: M(9) },
  { inPort: 11, src: M(41), dst: M(1) },
  { inPort: 1, src: M(1), dst: M(41) },
  { inPort: 1, src: M(1), dst: BCAST },
  { inPort: 0xfffe, src: M(50), dst: M(1) },
  { inPort: 0xfffd, src: M(51), dst: M(50) },
  { inPort: 77, src: M(1), dst: M(2) },
  { inPort: 1, src: M(1), dst: M(2), dlType: 0x8100 },
  { inPort: 1, src: M(2), dst: M(6) },
];

function portName(ofp: number): string {
  return ofp === 0xfffe ? "LOCAL" : ofp === 0xfffd ? "CONTROLLER" : String(ofp);
}

/** Top-level comma split of a datapath action list. */
function splitActions(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = "";
  for (const c of s) {
    if (c === "(") depth++;
    if (c === ")") depth--;
    if (c === "," && depth === 0) {
      out.push(cur);
      cur = "";
    } else cur += c;
  }
  if (cur) out.push(cur);
  return out;
}

/** Every output of a datapath action list, with the tags the packet has at that point. */
function realOutputs(actions: string, flow: Uint32Array, odpName: Map<number, string>): string[] {
  let w0 = flow[L.W_VLAN0]!;
  let w1 = flow[L.W_VLAN1]!;
  const outs: string[] = [];
  if (actions === "drop") return outs;
  for (const a of splitActions(actions)) {
    if (/^\d+$/.test(a)) {
      outs.push(`${odpName.get(Number(a)) ?? a} ${tagsText(w0, w1)}`);
    } else if (a === "pop_vlan") {
      w0 = w1;
      w1 = 0;
    } else {
      const m = /^push_vlan\((?:tpid=0x([0-9a-f]+),)?vid=(\d+),pcp=(\d+)\)$/.exec(a);
      if (!m) throw new Error(`unexpected datapath action ${a}`);
      w1 = w0;
      w0 = tag(Number(m[2]), Number(m[3]), m[1] ? parseInt(m[1], 16) : 0x8100);
    }
  }
  return outs.sort();
}

function normalLines(trace: string): string[] {
  const lines = trace.split("\n");
  const i = lines.findIndex((l) => l.trim() === "NORMAL");
  if (i < 0) throw new Error(`no NORMAL in trace:\n${trace}`);
  const out: string[] = [];
  for (const l of lines.slice(i + 1)) {
    if (!/^ {5}\S/.test(l)) break;
    out.push(l.trim());
  }
  return out;
}

describe("NORMAL vs the real ovs-vswitchd", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-appctl", "ovs-ofctl") }, () => {
  let sw: Switch;
  let dir: string;
  const odpName = new Map<number, string>();

  before(async () => {
    sw = await startRealSwitch();
    dir = sw.dir;
    const args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy"];
    for (const p of PORTS) args.push(...vsctlPortArgs(p));
    const r = run("ovs-vsctl", args, dir);
    assert.equal(r.status, 0, r.stderr);
    assert.equal(run("ovs-ofctl", ["mod-port", "br0", "p11", "no-flood"], dir).status, 0);
    const show = run("ovs-appctl", ["dpif/show"], dir).stdout;
    for (const m of show.matchAll(/^\s+(\S+) \d+\/(\d+):/gm)) odpName.set(Number(m[2]), m[1]!);
  });

  after(async () => {
    await sw?.stop();
    if (sw) fs.rmSync(sw.dir, { recursive: true, force: true });
  });

  test("trace lines and outputs match flow by flow, then fdb/show matches", () => {
    const br = fakeBridge("br0", PORTS);
    br.clock.now = Date.now();
    for (const f of FLOWS) {
      const text = flowText(f, portName);
      const r = run("ovs-appctl", ["ofproto/trace", "br0", text, "-generate"], dir);
      assert.equal(r.status, 0, `${text}: ${r.stderr}`);
      const flow = makeFlow(f);
      br.clock.now = Date.now();
      const mine = runNormal(br, flow);
      assert.deepEqual(mine.reports, normalLines(r.stdout), `trace of ${text}`);
      const actions = /^Datapath actions: (.*)$/m.exec(r.stdout)![1]!;
      const mineOut = mine.outputs.map((o) => `${o.bundle} ${o.tags}`).sort();
      assert.deepEqual(mineOut, realOutputs(actions, flow, odpName), `outputs of ${text} (real: ${actions})`);
      // The ARP fields NORMAL looks at appear in the megaflow exactly when we un-wildcard them.
      const megaflow = /^Megaflow: (.*)$/m.exec(r.stdout)![1]!;
      if (f.arpOp !== undefined) {
        assert.equal(/arp_op=/.test(megaflow), mine.wc[L.W_NW_PROTO] !== 0, `arp_op in ${megaflow}`);
        assert.equal(/arp_spa=/.test(megaflow), mine.wc[L.W_NW_SRC] !== 0, `arp_spa in ${megaflow}`);
      }
    }
    const mask = (s: string): string[] =>
      s.split("\n").filter(Boolean).map((l) => l.replace(/ +\d+$/, " AGE")).sort();
    const real = run("ovs-appctl", ["fdb/show", "br0"], dir).stdout;
    assert.deepEqual(mask(formatFdbShow({ xbridge: br, macs: br.macs })), mask(real));
  });
});
