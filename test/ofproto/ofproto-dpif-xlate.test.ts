/**
 * ofproto-dpif with the real translation (xlate.ts): megaflows of
 * controller actions and NORMAL as dpif/dump-flows prints them. Skipped
 * while xlate.ts cannot be loaded.
 */
import { test, afterEach } from "node:test";
import assert from "node:assert/strict";
import type { OfprotoDpif } from "../../src/ofproto/ofproto-dpif.js";
import { setControllerUpcallHandler, type XlateFn } from "../../src/ofproto/upcall.js";
import type { IfaceConfig } from "../../src/ofproto/xlate-types.js";
import type { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { addFlow, DpifTestEnv, hex, udpPacket } from "../util/dpif-bridge.js";

let xlate: XlateFn | null = null;
try {
  xlate = ((await import("../../src/ofproto/xlate.js")) as { xlateActions: XlateFn }).xlateActions;
} catch {
  xlate = null;
}
const skip = xlate === null ? "src/ofproto/xlate.ts is not built" : false;

const env = new DpifTestEnv();
const bridge = (name: string, type: string, ports: (string | IfaceConfig)[], x: XlateFn): OfprotoDpif => env.bridge(name, type, ports, x);
const appctl = (cmd: string, ...args: string[]): Promise<string> => env.appctl(cmd, ...args);
const netdevOf = (br: OfprotoDpif, name: string): DummyNetdev => env.netdevOf(br, name);

afterEach(() => env.closeAll());

test("controller actions: the cookie is installed and every packet reaches the packet-in path", { skip }, async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }], xlate!);
  addFlow(br.ofproto, "actions=controller", env.clock);
  const seen: number[] = [];
  setControllerUpcallHandler((u, b) => {
    assert.equal(b, br);
    seen.push(u.packet.length);
  });
  try {
    await appctl("netdev-dummy/receive", "p1", hex(udpPacket()));
    assert.deepEqual(seen, [60], "the missed packet");
    assert.match(await appctl("dpif/dump-flows", "br0"), /actions:userspace\(pid=0,controller\(reason=1,dont_send=0,continuation=0,recirc_id=\d+,rule_cookie=0,controller_id=0,max_len=65535\)\)\n$/);
    await appctl("netdev-dummy/receive", "p1", hex(udpPacket()));
    assert.deepEqual(seen, [60, 60], "a megaflow hit");
  } finally {
    setControllerUpcallHandler(null);
  }
});

test("NORMAL: learning, flooding, then a unicast megaflow", { skip }, async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }, { name: "p3", type: "dummy", options: {}, ofportRequest: 3 }], xlate!);
  addFlow(br.ofproto, "priority=0,actions=NORMAL", env.clock);
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ srcMac: 1, dstMac: 2 })));
  assert.equal(netdevOf(br, "p2").takeTx().length, 1);
  assert.equal(netdevOf(br, "p3").takeTx().length, 1);
  await appctl("netdev-dummy/receive", "p2", hex(udpPacket({ srcMac: 2, dstMac: 1 })));
  assert.equal(netdevOf(br, "p1").takeTx().length, 1);
  assert.equal(netdevOf(br, "p3").takeTx().length, 0);
  await appctl("revalidator/wait");
  const flows = (await appctl("dpif/dump-flows", "br0")).split("\n").filter((l) => l !== "").sort();
  assert.deepEqual(flows.map((l) => l.replace(/ packets.*actions:/, " actions:")), [
    "recirc_id(0),in_port(1),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(frag=no), actions:2",
    "recirc_id(0),in_port(2),packet_type(ns=0,id=0),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(frag=no), actions:1",
  ].sort());
});


test("MAC entries live as long as packets hit their megaflows", { skip }, async () => {
  const br = bridge("br0", "dummy", [{ name: "p1", type: "dummy", options: {}, ofportRequest: 1 }, { name: "p2", type: "dummy", options: {}, ofportRequest: 2 }], xlate!);
  br.setConfig({ macAgingTime: 15 });
  addFlow(br.ofproto, "priority=0,actions=NORMAL", env.clock);
  await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ srcMac: 1, dstMac: 2 })));
  await appctl("netdev-dummy/receive", "p2", hex(udpPacket({ srcMac: 2, dstMac: 1 })));
  await appctl("revalidator/wait");
  const mac = (n: number): Uint8Array => Uint8Array.of(0x50, 0x54, 0, 0, 0, n);
  for (let i = 0; i < 8; i++) {
    env.clock += 5000;
    await appctl("netdev-dummy/receive", "p1", hex(udpPacket({ srcMac: 1, dstMac: 2 })));
    await appctl("revalidator/wait");
  }
  assert.notEqual(br.macs.lookup(mac(1), 0, 0), null, "refreshed through its megaflow");
  assert.equal(br.macs.lookup(mac(2), 0, 0), null, "aged out: no traffic from it");
});
