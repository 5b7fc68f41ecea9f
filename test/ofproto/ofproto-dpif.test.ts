/**
 * ofproto-dpif in-process with dummy ports and a stand-in translation
 * (test/util/dpif-bridge.ts): ports and numbering, upcalls and megaflows
 * as dpif/dump-flows prints them, revalidation after flow_mods, idle
 * expiry, statistics credited to rules, packet-out, packet-ins, and the
 * appctl texts.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { OfprotoDpif } from "../../src/ofproto/ofproto-dpif.js";
import { hmapOrder } from "../../src/ofproto/ofport-order.js";
import type { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { Match } from "../../src/openflow/match.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { flowMod } from "../../src/ofproto/flow-mod.js";
import { OFPP_NONE } from "../../src/openflow/ofp-codec.js";
import { OFPPC_PORT_DOWN, OFPPS_LINK_DOWN } from "../../src/openflow/ofp-port.js";
import type { IfaceConfig } from "../../src/ofproto/xlate-types.js";
import type { XlateFn } from "../../src/ofproto/upcall.js";
import { addFlow, bundlesOf, DpifTestEnv, hex, udpPacket } from "../util/dpif-bridge.js";

const env = new DpifTestEnv();
const bridge = (name: string, type: string, ports: (string | IfaceConfig)[], xlate?: XlateFn): OfprotoDpif => env.bridge(name, type, ports, xlate);
const bundles = bundlesOf;
const appctl = (cmd: string, ...args: string[]): Promise<string> => env.appctl(cmd, ...args);
const netdevOf = (br: OfprotoDpif, name: string): DummyNetdev => env.netdevOf(br, name);

afterEach(() => env.closeAll());

test("ports: OVS numbering, dpif/show, dpif/dump-dps, ofproto/list", async () => {
  bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }]);
  bridge("br1", "dummy", ["p3"]);
  bridge("br2", "system", ["p7"]);
  assert.equal(await appctl("dpif/show"),
    "dummy@ovs-dummy: hit:0 missed:0\n" +
    "  br0:\n    br0 65534/100: (dummy-internal)\n    p1 1/1: (dummy)\n    p2 2/2: (dummy)\n" +
    "  br1:\n    br1 65534/101: (dummy-internal)\n    p3 1/3: (dummy)\n" +
    "system@ovs-system: hit:0 missed:0\n" +
    "  br2:\n    br2 65534/102: (dummy-internal)\n    p7 1/7: (dummy)\n");
  assert.equal(await appctl("dpif/dump-dps"), "dummy@br0\ndummy@br1\nsystem@br2\n");
  // The order of OVS's hash map of ofprotos, as ovs-vswitchd 3.1 printed it.
  assert.equal(await appctl("ofproto/list"), "br2\nbr0\nbr1\n");
  assert.deepEqual(hmapOrder(["br0", "br1", "br2", "br3"]), ["br3", "br2", "br0", "br1"]);
});

test("ports: numbers as ovs-vswitchd 3.1 gives them (hash order, no quick reuse); patch ports pair up", () => {
  // Real OVS: a and b added together get b=1, a=2; after deleting a and
  // adding c, c=3; a added again gets 4.
  const br = bridge("br0", "dummy", ["a", "b"]);
  assert.equal(br.portByName("b")!.ofpNo, 1);
  assert.equal(br.portByName("a")!.ofpNo, 2);
  br.setBundles(bundles("br0", ["b"]));
  br.setBundles(bundles("br0", ["b", "c"]));
  assert.equal(br.portByName("c")!.ofpNo, 3, "a freed number is not reused at once");
  br.setBundles(bundles("br0", ["b", "c", "a"]));
  assert.equal(br.portByName("a")!.ofpNo, 4);
  assert.equal(br.ofproto.ports.has(4), true);
  const br1 = bridge("br1", "dummy", [{ name: "patch1", type: "patch", options: { peer: "patch0" } }]);
  br.setBundles(bundles("br0", ["b", "c", "a", { name: "patch0", type: "patch", options: { peer: "patch1" } }]));
  const p0 = br.portByName("patch0")!;
  const p1 = br1.portByName("patch1")!;
  assert.equal(p0.odpNo, -1);
  assert.equal(p0.peer, p1);
  assert.equal(p1.peer, p0);
});

test("a bad interface type gets OVS's error and no ofport", () => {
  const br = bridge("br0", "dummy", [{ name: "x1", type: "no-such-type", options: {} }]);
  const st = br.ifaceStatus("x1")!;
  assert.equal(st.ofport, -1);
  assert.equal(st.error, "could not open network device x1 (Address family not supported by protocol)");
});

test("upcall installs a megaflow; dump-flows prints it as OVS; packets come out of the right port", async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }]);
  addFlow(br.ofproto, "priority=10,in_port=1,actions=output:2", env.clock);
  const pkt = udpPacket();
  assert.equal(await appctl("netdev-dummy/receive", "p1", hex(pkt)), "");
  const tx = netdevOf(br, "p2").takeTx();
  assert.equal(tx.length, 1);
  assert.equal(hex(tx[0]!), hex(pkt));
  assert.equal(await appctl("dpif/dump-flows", "br0"),
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth_type(0x0800),ipv4(frag=no), packets:0, bytes:0, used:never, actions:2\n");
  const verbose = await appctl("dpif/dump-flows", "-m", "br0");
  assert.match(verbose, /^ufid:[0-9a-f-]+ skb_priority\(0\/0\),.*in_port\(p1\),.*actions:p2\n$/);
  // A second packet of the same megaflow: no new upcall.
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ sport: 5 })));
  assert.equal(netdevOf(br, "p2").takeTx().length, 1);
  assert.match(await appctl("dpif/show"), /dummy@ovs-dummy: hit:1 missed:1\n/);
  assert.match(await appctl("upcall/show"), /^dummy@ovs-dummy:\n  flows         : \(current 1\) \(avg 0\) \(max 0\) \(limit 10000\)\n  dump duration : \d+ms\n  ufid enabled : true\n\n  \d+: \(keys 1\)\n$/);
  // Another bridge's flows are not listed.
  bridge("br1", "dummy", ["p3"]);
  assert.equal(await appctl("dpif/dump-flows", "br1"), "");
  await assert.rejects(appctl("dpif/dump-flows", "nosuch"), /no such bridge/);
  await assert.rejects(appctl("netdev-dummy/receive", "nosuch", "00"), /no such dummy netdev/);
});

test("revalidation: a flow_mod changes installed megaflows; stats reach the rules; idle megaflows expire", async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }, { name: "p3", type: "dummy", options: {}, ofportRequest: 3 }]);
  addFlow(br.ofproto, "priority=10,in_port=1,actions=output:2", env.clock);
  for (let i = 0; i < 3; i++) await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ sport: 100 + i })));
  assert.equal(netdevOf(br, "p2").takeTx().length, 3);
  await appctl("revalidator/wait");
  const rule = br.ofproto.tables.allRules()[0]!;
  assert.equal(rule.packetCount, 3, "the upcalled packet plus two megaflow hits");
  assert.equal(rule.byteCount, 180);
  // Replace the rule's actions: the megaflow follows.
  addFlow(br.ofproto, "priority=10,in_port=1,actions=output:3", env.clock);
  await appctl("revalidator/wait");
  assert.match(await appctl("dpif/dump-flows", "br0"), /actions:3\n$/);
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ sport: 7 })));
  assert.equal(netdevOf(br, "p3").takeTx().length, 1);
  assert.equal(netdevOf(br, "p2").takeTx().length, 0);
  // Idle beyond max-idle (10 s): gone.
  env.clock += 10_001;
  await appctl("revalidator/wait");
  assert.equal(await appctl("dpif/dump-flows", "br0"), "");
  // revalidator/purge deletes everything.
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket()));
  assert.notEqual(await appctl("dpif/dump-flows", "br0"), "");
  await appctl("revalidator/purge");
  assert.equal(await appctl("dpif/dump-flows", "br0"), "");
});

test("a flow_mod re-translates only the megaflows it may affect", async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }, { name: "p3", type: "dummy", options: {}, ofportRequest: 3 }]);
  addFlow(br.ofproto, "priority=10,ip,nw_dst=10.0.0.2,actions=output:2", env.clock);
  addFlow(br.ofproto, "priority=10,ip,nw_dst=10.0.0.3,actions=output:3", env.clock);
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ dst: 0x0a000002 })));
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ dst: 0x0a000003 })));
  await appctl("revalidator/wait");
  const rv = br.backer.udpif.revalidator;
  const before = rv.retranslations;
  // A rule no packet of the first megaflow matches, one that the second megaflow's packets match.
  addFlow(br.ofproto, "priority=20,ip,nw_dst=10.0.0.3,actions=output:1", env.clock);
  await appctl("revalidator/wait");
  assert.equal(rv.retranslations - before, 1);
  const flows = (await appctl("dpif/dump-flows", "br0")).split("\n").filter((l) => l !== "").map((l) => l.replace(/.*ipv4\(dst=([\d.]+).*actions:(.*)$/, "$1 $2")).sort();
  assert.deepEqual(flows, ["10.0.0.2 2", "10.0.0.3 1"]);
  // Deleting the rule the first megaflow used re-translates it (now no rule: drop).
  br.ofproto.tables.flowMod(flowMod("delete_strict", parseMatchOk("ip,nw_dst=10.0.0.2"), [], { priority: 10 }), env.clock);
  await appctl("revalidator/wait");
  assert.equal(rv.retranslations - before, 2);
  assert.match(await appctl("dpif/dump-flows", "br0"), /dst=10\.0\.0\.2.*actions:drop\n/);
});

test("flow limit: misses beyond it are forwarded but not installed", async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }]);
  addFlow(br.ofproto, "priority=10,ip,nw_dst=10.0.0.2,actions=output:2", env.clock);
  addFlow(br.ofproto, "priority=10,ip,nw_dst=10.0.0.3,actions=output:2", env.clock);
  br.backer.udpif.setConfig({ flowLimit: 1 });
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ dst: 0x0a000002 })));
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ dst: 0x0a000003 })));
  assert.equal(netdevOf(br, "p2").takeTx().length, 2);
  assert.equal((await appctl("dpif/dump-flows", "br0")).split("\n").filter((l) => l !== "").length, 1);
  assert.match(await appctl("upcall/show"), /\(limit 1\)/);
  br.backer.udpif.setConfig({ flowLimit: 200000 });
});

test("revalidator/wait refuses with several datapaths, as OVS", async () => {
  bridge("br0", "dummy", []);
  bridge("br1", "netdev", []);
  await assert.rejects(appctl("revalidator/wait"), /can't wait on multiple udpifs\./);
});

test("packet-out runs the message's actions through translation and the datapath", () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }]);
  const metadata = new Match();
  metadata.setNum("in_port", OFPP_NONE);
  const pkt = udpPacket();
  assert.equal(br.packetOut({ bufferId: 0xffffffff, metadata, actions: [{ type: "output", port: 2, maxLen: 0 }], packet: pkt }), null);
  assert.deepEqual(netdevOf(br, "p2").takeTx().map(hex), [hex(pkt)]);
  assert.equal(br.ofproto.packetOut !== null, true);
});

test("interface status: statistics under OVS's names; admin state follows set-admin-state", async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }]);
  addFlow(br.ofproto, "actions=output:2", env.clock);
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket()));
  const s1 = br.ifaceStatus("p1")!;
  assert.deepEqual(Object.keys(s1.statistics).sort(), ["rx_bytes", "rx_custom_packets_1", "rx_custom_packets_2", "rx_packets", "rx_q0_bytes", "rx_q0_packets", "tx_bytes", "tx_packets", "tx_q0_bytes", "tx_q0_packets"]);
  assert.equal(s1.statistics["rx_packets"], 1);
  assert.equal(br.ifaceStatus("p2")!.statistics["tx_bytes"], 60);
  assert.equal(s1.ofport, 1);
  assert.equal(br.ifaceStatus("br0")!.ofport, 65534);
  assert.equal(await appctl("netdev-dummy/set-admin-state", "p1", "down"), "OK");
  assert.equal(br.ifaceStatus("p1")!.adminState, "down");
  const op = br.ofproto.ports.get(1)!;
  assert.ok(op.config & OFPPC_PORT_DOWN);
  assert.ok(op.state & OFPPS_LINK_DOWN);
  await assert.rejects(appctl("netdev-dummy/set-admin-state", "p1", "sideways"), /Invalid Admin State/);
  await appctl("netdev-dummy/set-admin-state", "up");
  assert.equal(br.ifaceStatus("p1")!.linkState, "up");
});

test("bridge/dump-flows lists the rules and OVS's hidden table-254 rules", async () => {
  const br = bridge("br0", "dummy", []);
  addFlow(br.ofproto, "priority=0,actions=NORMAL", env.clock);
  addFlow(br.ofproto, "actions=drop", env.clock);
  const text = await appctl("bridge/dump-flows", "br0");
  // OVS lists a table's rules in its classifier's order; compare them as a set.
  const lines = text.split("\n");
  assert.deepEqual(lines.slice(0, 2).sort(), [
    "duration=0s, n_packets=0, n_bytes=0, ,actions=drop",
    "duration=0s, n_packets=0, n_bytes=0, priority=0,actions=NORMAL",
  ]);
  assert.equal(lines.slice(2).join("\n"),
    "table_id=254, duration=0s, n_packets=0, n_bytes=0, priority=2,recirc_id=0,actions=drop\n" +
    "table_id=254, duration=0s, n_packets=0, n_bytes=0, priority=0,reg0=0x1,actions=controller(reason=)\n" +
    "table_id=254, duration=0s, n_packets=0, n_bytes=0, priority=0,reg0=0x2,actions=drop\n" +
    "table_id=254, duration=0s, n_packets=0, n_bytes=0, priority=0,reg0=0x3,actions=drop\n");
  await assert.rejects(appctl("bridge/dump-flows", "nosuch"), /Unknown bridge/);
});

function parseMatchOk(text: string): Match {
  const m = parseMatch(text);
  if (!m.ok) throw new Error(m.error);
  return m.match;
}
