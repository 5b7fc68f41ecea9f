/**
 * NORMAL with multicast snooping on (src/ofproto/xlate-normal.ts over
 * mcast-snooping.ts), through a recording NormalCtx on a fake bridge: IGMP
 * and MLD take the slow path and teach the table only with a packet and
 * learning allowed, reports go to routers and report-flood ports, data to
 * members + flood ports + routers, unregistered data floods (or not), and
 * link-local groups flood. The trace texts are the real ovs-vswitchd's
 * (test/e2e/mcast.test.ts compares with the daemon).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as L from "../../src/flow/key-layout.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { DpPacket } from "../../src/packet/dp-packet.js";
import { McastSnooping } from "../../src/ofproto/mcast-snooping.js";
import { xlateNormal } from "../../src/ofproto/xlate-normal.js";
import { SLOW_ACTION, type NormalCtx, type XBridge } from "../../src/ofproto/xlate-types.js";
import { fakeBridge, makeFlow, type PortSpec } from "../util/normal.js";
import { igmp, mld } from "../util/mcast.js";

const PORTS: PortSpec[] = [
  { name: "p1", ofp: 1 },
  { name: "p2", ofp: 2 },
  { name: "p3", ofp: 3 },
  { name: "p4", ofp: 4 },
];

function bridge(): { br: XBridge; ms: McastSnooping } {
  const br = fakeBridge("br0", PORTS);
  const ms = new McastSnooping(() => br.clock.now);
  Object.assign(br, { ms });
  return { br, ms };
}

interface Result {
  reports: string[];
  outputs: string[];
  slow: number;
  revalidate: boolean;
}

function run(br: XBridge, flow: Uint32Array, packet: Uint8Array | null, mayLearn = true): Result {
  const res: Result = { reports: [], outputs: [], slow: 0, revalidate: false };
  const ctx: NormalCtx = {
    bridge: br,
    flow,
    wc: new Uint32Array(L.FLOW_U32S),
    mayLearn,
    inPort: br.ports.get(flow[L.W_IN_PORT]!) ?? null,
    outputToBundle: (b) => void res.outputs.push(b.name),
    report: (text) => void res.reports.push(text),
    needRevalidate: () => void (res.revalidate = true),
    xin: { packet },
    slow: 0,
  };
  xlateNormal(ctx);
  res.slow = ctx.slow!;
  return res;
}

/** The flow of a hex frame received on OpenFlow port `inPort`, and its bytes. */
function fromHex(hex: string, inPort: number): { flow: Uint32Array; packet: Uint8Array } {
  const packet = Uint8Array.from(Buffer.from(hex, "hex"));
  const p = new DpPacket();
  p.setData(packet);
  const flow = new Uint32Array(L.FLOW_U32S);
  extractFlowKey(p, flow);
  flow[L.W_IN_PORT] = inPort;
  return { flow, packet };
}

function udpTo(inPort: number, src: string, dstMac: string, group: number): Uint32Array {
  const f = makeFlow({ inPort, src, dst: dstMac, dlType: 0x0800 });
  f[L.W_NW_PROTO] = (17 << L.S_NW_PROTO) >>> 0;
  f[L.W_NW_DST] = group >>> 0;
  return f;
}

const G1 = 0xe0010101; /* 224.1.1.1 */

test("an IGMP report: slow path, learned only with a packet and learning allowed, sent to routers", () => {
  const { br, ms } = bridge();
  const rep = fromHex(igmp("00:00:00:00:00:01", "10.0.0.1", "224.1.1.1", 0x16, "224.1.1.1"), 1);
  let r = run(br, rep.flow, null);
  assert.equal(r.slow & SLOW_ACTION, SLOW_ACTION);
  assert.equal(ms.groups.size, 0, "no packet: nothing learned");
  r = run(br, rep.flow, rep.packet, false);
  assert.equal(ms.groups.size, 0, "no side effects: nothing learned");
  r = run(br, rep.flow, rep.packet);
  assert.deepEqual(r.reports, ["multicast snooping learned that 224.1.1.1 is on port p1 in VLAN 0"]);
  assert.deepEqual(r.outputs, [], "no router yet: a report goes nowhere");
  assert.equal(r.revalidate, true);
  const q = fromHex(igmp("00:00:00:00:00:04", "10.0.0.254", "224.0.0.1", 0x11, "0.0.0.0"), 4);
  r = run(br, q.flow, q.packet);
  assert.ok(r.reports.includes("multicast snooping query from 10.0.0.254 is on port p4 in VLAN 0"));
  assert.ok(r.reports.includes("multicast traffic, flooding"));
  assert.deepEqual(r.outputs.sort(), ["br0", "p1", "p2", "p3"]);
  r = run(br, rep.flow, rep.packet);
  assert.deepEqual(r.reports.slice(-1), ["forwarding to mcast router port"]);
  assert.deepEqual(r.outputs, ["p4"]);
  ms.setPortFloodReports("p3", true);
  r = run(br, rep.flow, rep.packet);
  assert.deepEqual(r.outputs, ["p4", "p3"]);
});

test("a bad IGMP checksum teaches nothing", () => {
  const { br, ms } = bridge();
  const bad = fromHex(igmp("00:00:00:00:00:01", "10.0.0.1", "224.1.1.1", 0x16, "224.1.1.1", { badCsum: true }), 1);
  const r = run(br, bad.flow, bad.packet);
  assert.ok(r.reports.includes("multicast snooping received bad IGMP checksum on port p1 in VLAN 0"));
  assert.equal(ms.groups.size, 0);
});

test("data: members, flood ports and routers; unregistered floods unless told not to; 224.0.0.x floods", () => {
  const { br, ms } = bridge();
  ms.addGroup4(G1, 0, "p1");
  ms.addGroup4(G1, 0, "p2");
  ms.addMrouter(0, "p4");
  let r = run(br, udpTo(2, "00:00:00:00:00:02", "01:00:5e:01:01:01", G1), null, false);
  assert.deepEqual(r.reports, ["forwarding to mcast group port", "mcast group port is input port, dropping", "forwarding to mcast router port"]);
  assert.deepEqual(r.outputs, ["p1", "p4"]);
  assert.equal(r.slow, 0);
  ms.setPortFlood("p3", true);
  r = run(br, udpTo(2, "00:00:00:00:00:02", "01:00:5e:01:01:01", G1), null, false);
  assert.deepEqual(r.outputs, ["p1", "p3", "p4"]);
  r = run(br, udpTo(1, "00:00:00:00:00:01", "01:00:5e:09:09:09", 0xe0090909), null, false);
  assert.deepEqual(r.reports, ["unregistered multicast, flooding"]);
  assert.deepEqual(r.outputs.sort(), ["br0", "p2", "p3", "p4"]);
  ms.setFloodUnreg(false);
  r = run(br, udpTo(1, "00:00:00:00:00:01", "01:00:5e:09:09:09", 0xe0090909), null, false);
  assert.deepEqual(r.outputs, ["p4", "p3"]);
  r = run(br, udpTo(1, "00:00:00:00:00:01", "01:00:5e:00:00:fb", 0xe00000fb), null, false);
  assert.deepEqual(r.reports, ["RFC4541: section 2.1.2, item 2, flooding"]);
  // Broadcast is not multicast: plain NORMAL.
  r = run(br, udpTo(1, "00:00:00:00:00:01", "ff:ff:ff:ff:ff:ff", G1), null, false);
  assert.deepEqual(r.reports, ["no learned MAC for destination, flooding"]);
});

test("MLD: reports learned, queries make routers and flood", () => {
  const { br, ms } = bridge();
  const rep = fromHex(mld("00:00:00:00:00:01", "fe80::1", "ff0e::1", 131, "ff0e::1"), 1);
  let r = run(br, rep.flow, rep.packet);
  assert.ok(r.reports.includes("multicast snooping processed 1 addresses on port p1 in VLAN 0"), r.reports.join("\n"));
  assert.equal(r.slow & SLOW_ACTION, SLOW_ACTION);
  const q = fromHex(mld("00:00:00:00:00:04", "fe80::4", "ff02::1", 130, "::"), 4);
  r = run(br, q.flow, q.packet);
  assert.ok(r.reports.includes("multicast snooping query on port p4 in VLAN 0"));
  assert.ok(r.reports.includes("MLD query, flooding"));
  assert.equal(ms.mrouters.size, 1);
  assert.match(ms.showText((p) => p), /p1 +0 +ff0e::1/);
});
