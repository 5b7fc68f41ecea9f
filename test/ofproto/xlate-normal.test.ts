/**
 * xlateNormal through a recording NormalCtx on a fake bridge: VLAN
 * admission and translation per port mode, learning and forwarding,
 * flooding rules (VLAN membership, no-flood, protected, mirror output),
 * reserved destinations, and the megaflow bits NORMAL un-wildcards. The
 * trace texts here are the real ovs-vswitchd's (xlate-normal-ovs.test.ts
 * compares them with the daemon directly).
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as L from "../../src/flow/key-layout.js";
import { bundleTrunksVlan, macIsReserved } from "../../src/ofproto/xlate-normal.js";
import { fakeBridge, makeFlow, runNormal, tag, tagsText, type PortSpec } from "../util/normal.js";

const PORTS: PortSpec[] = [
  { name: "p1", ofp: 1 },
  { name: "p2", ofp: 2, tag: 10 },
  { name: "p3", ofp: 3, trunks: [10, 20] },
  { name: "p4", ofp: 4, tag: 20, mode: "native-untagged" },
  { name: "p5", ofp: 5, tag: 10, mode: "native-tagged", trunks: [20] },
  { name: "p6", ofp: 6 },
  { name: "p7", ofp: 7, tag: 100, mode: "dot1q-tunnel" },
  { name: "p8", ofp: 8, tag: 100, mode: "dot1q-tunnel", cvlans: [5, 6], qinq: 0x8100 },
];

const M1 = "50:54:00:00:00:01";
const M2 = "50:54:00:00:00:02";
const BCAST = "ff:ff:ff:ff:ff:ff";

function outs(r: ReturnType<typeof runNormal>): string[] {
  return r.outputs.map((o) => `${o.bundle} ${o.tags}`).sort();
}

describe("xlateNormal", () => {
  test("unknown destination floods to bundles of the VLAN, learns the source", () => {
    const br = fakeBridge("br0", PORTS);
    const r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2 }));
    assert.deepEqual(r.reports, [
      "-> learned that 50:54:00:00:00:01 is on port p1 in VLAN 0",
      "-> no learned MAC for destination, flooding",
    ]);
    assert.deepEqual(outs(r), ["br0 0/0", "p6 0/0"], "VLAN 0 lives on trunks of all VLANs only");
    assert.equal(r.revalidate, true);
    assert.equal(br.macs.lookup(Uint8Array.of(0x50, 0x54, 0, 0, 0, 1), 0, 0)?.bundle.name, "p1");
  });

  test("known destination: forward to its bundle, or drop when it is the input bundle", () => {
    const br = fakeBridge("br0", PORTS);
    runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2 }));
    let r = runNormal(br, makeFlow({ inPort: 6, src: M2, dst: M1 }));
    assert.deepEqual(r.reports, ["-> learned that 50:54:00:00:00:02 is on port p6 in VLAN 0", "-> forwarding to learned port"]);
    assert.deepEqual(outs(r), ["p1 0/0"]);
    r = runNormal(br, makeFlow({ inPort: 1, src: "50:54:00:00:00:09", dst: M1 }), { mayLearn: false });
    assert.deepEqual(r.reports, ["-> learned port is input port, dropping"]);
    assert.deepEqual(r.outputs, []);
    assert.equal(br.macs.count, 2, "no learning without side effects");
    // The learned bundle was removed from the bridge.
    br.bundles.delete("p6");
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2 }));
    assert.deepEqual(r.reports, [">> learned port is unknown, dropping"]);
  });

  test("access port: untagged in, tagged out on trunks; tagged input dropped", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 2, src: "50:54:00:00:00:0a", dst: BCAST }));
    assert.equal(r.reports[0], "-> learned that 50:54:00:00:00:0a is on port p2 in VLAN 10");
    const t10 = tag(10).toString(16);
    assert.deepEqual(outs(r), [`br0 ${t10}/0`, `p1 ${t10}/0`, `p3 ${t10}/0`, `p4 ${t10}/0`, `p5 ${t10}/0`, `p6 ${t10}/0`]);
    r = runNormal(br, makeFlow({ inPort: 2, vlan: 10, src: "50:54:00:00:00:0a", dst: BCAST }));
    assert.deepEqual(r.reports, [
      ">>>> dropping VLAN 10 tagged packet received on port p2 configured as VLAN 10 access port <<<<",
      ">> disallowed VLAN VID for this input port, dropping",
    ]);
    // A priority tag (VID 0) is fine and its PCP is kept.
    r = runNormal(br, makeFlow({ inPort: 2, vlan: 0, pcp: 5, src: "50:54:00:00:00:0a", dst: BCAST }));
    assert.deepEqual(r.reports, ["-> no learned MAC for destination, flooding"]);
    assert.ok(r.outputs.every((o) => o.tags === tagsText(tag(10, 5), 0)));
  });

  test("trunk port: carried VLANs pass, others are refused", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 3, vlan: 20, src: M1, dst: BCAST }));
    assert.deepEqual(outs(r), [
      `br0 ${tag(20).toString(16)}/0`, `p1 ${tag(20).toString(16)}/0`, "p4 0/0", `p5 ${tag(20).toString(16)}/0`, `p6 ${tag(20).toString(16)}/0`,
    ]);
    r = runNormal(br, makeFlow({ inPort: 3, vlan: 30, src: M1, dst: BCAST }));
    assert.deepEqual(r.reports, [
      ">>>> dropping VLAN 30 packet received on port p3 not configured for trunking VLAN 30 <<<<",
      ">> disallowed VLAN VID for this input port, dropping",
    ]);
    r = runNormal(br, makeFlow({ inPort: 3, src: M1, dst: BCAST }));
    assert.equal(r.reports[0], ">>>> dropping VLAN 0 packet received on port p3 not configured for trunking VLAN 0 <<<<");
  });

  test("native ports: untagged means the native VLAN; native-untagged strips it on output", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 4, src: M1, dst: BCAST }));
    assert.equal(r.reports[0], "-> learned that 50:54:00:00:00:01 is on port p4 in VLAN 20");
    assert.deepEqual(outs(r).map((s) => s.split(" ")[0]), ["br0", "p1", "p3", "p5", "p6"]);
    r = runNormal(br, makeFlow({ inPort: 5, src: M2, dst: BCAST }));
    assert.equal(r.reports[0], "-> learned that 50:54:00:00:00:02 is on port p5 in VLAN 10");
    assert.ok(outs(r).includes("p2 0/0"), "access port gets it untagged");
    assert.ok(outs(r).includes(`p4 ${tag(10).toString(16)}/0`), "native-untagged trunks other VLANs tagged");
    r = runNormal(br, makeFlow({ inPort: 5, vlan: 30, src: M2, dst: BCAST }));
    assert.equal(r.reports[0], ">>>> dropping VLAN 30 packet received on port p5 not configured for trunking VLAN 30 <<<<");
    assert.equal(bundleTrunksVlan(br.bundles.get("p4")!, 0), false, "a native port never trunks VLAN 0");
    assert.equal(bundleTrunksVlan(br.bundles.get("p4")!, 20), true);
    assert.equal(bundleTrunksVlan(br.bundles.get("p5")!, 10), true, "the native VLAN is trunked even if trunks omit it");
  });

  test("dot1q-tunnel: pushes the service tag, pops it on output, honours cvlans", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 7, vlan: 5, pcp: 3, src: M1, dst: BCAST }));
    const s100 = tag(100, 0, 0x88a8).toString(16);
    const c5 = tag(5, 3).toString(16);
    assert.deepEqual(outs(r), [`br0 ${s100}/${c5}`, `p1 ${s100}/${c5}`, `p4 ${s100}/${c5}`, `p6 ${s100}/${c5}`, `p8 ${c5}/0`]);
    r = runNormal(br, makeFlow({ inPort: 7, src: M1, dst: BCAST }));
    assert.ok(!r.outputs.some((o) => o.bundle === "p8"), "p8 does not take customer VLAN 0");
    r = runNormal(br, makeFlow({ inPort: 8, vlan: 7, src: M2, dst: BCAST }));
    assert.deepEqual(r.reports, [
      ">>>> dropping VLAN 7 packet received on dot1q-tunnel port p8 that excludes this VLAN <<<<",
      ">> disallowed VLAN VID for this input port, dropping",
    ]);
    // Learned in the service VLAN; a trunk frame in VLAN 100 reaches p7 untagged.
    r = runNormal(br, makeFlow({ inPort: 1, vlan: 100, pcp: 2, src: M2, dst: M1 }));
    assert.deepEqual(r.reports, ["-> learned that 50:54:00:00:00:02 is on port p1 in VLAN 100", "-> forwarding to learned port"]);
    assert.deepEqual(outs(r), ["p7 0/0"]);
  });

  test("no-flood, protected and mirror-output bundles", () => {
    const br = fakeBridge("br0", [
      { name: "a", ofp: 1, protected: true },
      { name: "b", ofp: 2, protected: true },
      { name: "c", ofp: 3, noFlood: true },
      { name: "d", ofp: 4 },
    ]);
    br.bundles.get("d")!.mirrorOut = true;
    let r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: BCAST }));
    assert.deepEqual(r.reports.slice(1), ["-> no learned MAC for destination, flooding", ">> Flow is between protected ports, skipping output."]);
    assert.deepEqual(outs(r), ["br0 0/0"]);
    r = runNormal(br, makeFlow({ inPort: 2, src: M2, dst: M1 }));
    assert.deepEqual(r.reports.slice(1), ["-> forwarding to learned port", ">> Flow is between protected ports, skipping output."]);
    assert.deepEqual(r.outputs, []);
    // A no-flood port still gets unicast to a MAC learned on it.
    runNormal(br, makeFlow({ inPort: 3, src: "50:54:00:00:00:03", dst: M1 }));
    r = runNormal(br, makeFlow({ inPort: 0xfffe, src: M2, dst: "50:54:00:00:00:03" }));
    assert.deepEqual(outs(r), ["c 0/0"]);
    r = runNormal(br, makeFlow({ inPort: 4, src: M2, dst: M1 }));
    assert.deepEqual(r.reports, [
      ">>>> dropping packet received on port d, which is reserved exclusively for mirroring <<<<",
      ">> input port is mirror output port, dropping",
    ]);
  });

  test("reserved multicast is dropped unless forward-bpdu; multicast sources are not learned", () => {
    let br = fakeBridge("br0", PORTS);
    for (const dst of ["01:80:c2:00:00:00", "01:80:c2:00:00:0e", "01:00:0c:cc:cc:cc", "00:e0:2b:00:00:04"]) {
      const r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst }));
      assert.deepEqual(r.reports, ["-> packet has reserved destination MAC, dropping"], dst);
    }
    assert.equal(br.macs.count, 0, "refused before learning");
    const b = new Uint8Array(6);
    for (const [t, want] of [["01:80:c2:00:00:10", false], ["01:00:0c:cc:cc:c7", true], ["01:00:0c:cc:cc:c8", false], ["00:e0:2b:00:00:01", false]] as const) {
      t.split(":").forEach((h, i) => (b[i] = parseInt(h, 16)));
      assert.equal(macIsReserved(b, 0), want, t);
    }
    br = fakeBridge("br0", PORTS, { forwardBpdu: true });
    let r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: "01:80:c2:00:00:00" }));
    assert.equal(r.reports[1], "-> no learned MAC for destination, flooding");
    r = runNormal(br, makeFlow({ inPort: 1, src: "01:00:00:00:00:01", dst: M2 }));
    assert.deepEqual(r.reports, ["-> no learned MAC for destination, flooding"]);
  });

  test("unknown input port, controller input, partial VLAN tag", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 9, src: M1, dst: M2 }));
    assert.deepEqual(r.reports, [">>>> received packet on unknown port 9 <<<<", ">> no input bundle, dropping"]);
    r = runNormal(br, makeFlow({ inPort: 0xfffd, src: M1, dst: M2 }));
    assert.deepEqual(r.reports, ["-> no learned MAC for destination, flooding"]);
    assert.equal(br.macs.count, 0, "nothing learned from the controller");
    assert.deepEqual(outs(r), ["br0 0/0", "p1 0/0", "p6 0/0"]);
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2, dlType: 0x8100 }));
    assert.deepEqual(r.reports, [">>>> dropping packet with partial VLAN tag received on port p1 <<<<", ">> partial VLAN tag, dropping"]);
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2, dlType: 0x88a8 }), { mayLearn: false });
    assert.deepEqual(r.reports, [">> partial VLAN tag, dropping"]);
  });

  test("megaflow: MACs, VID+CFI and in_port always; ARP fields only for broadcast ARP", () => {
    const br = fakeBridge("br0", PORTS);
    let r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2 }));
    assert.equal(r.wc[L.W_ETH_DST], 0xffffffff);
    assert.equal(r.wc[L.W_ETH_SRC], 0xffffffff);
    assert.equal(r.wc[L.W_ETH_SRC + 1], 0xffffffff);
    assert.equal(r.wc[L.W_VLAN0], 0x1fff);
    assert.equal(r.wc[L.W_IN_PORT], 0xffffffff);
    assert.equal(r.wc[L.W_NW_PROTO], 0);
    // Unicast ARP: only dl_type more.
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: M2, arpOp: 1, spa: 0x01010101, tpa: 0x01010102 }));
    assert.equal(r.wc[L.W_NW_PROTO], 0);
    assert.equal(r.wc[L.W_NW_SRC], 0);
    // Broadcast ARP reply: the opcode.
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: BCAST, arpOp: 2 }));
    assert.equal(r.wc[L.W_NW_PROTO], 0xff000000);
    assert.equal(r.wc[L.W_NW_SRC], 0);
    // Broadcast ARP request: the opcode and both addresses.
    r = runNormal(br, makeFlow({ inPort: 1, src: M1, dst: BCAST, arpOp: 1, spa: 0x01010101, tpa: 0x01010101 }));
    assert.equal(r.wc[L.W_NW_SRC], 0xffffffff);
    assert.equal(r.wc[L.W_NW_DST], 0xffffffff);
    // Drops un-wildcard just as much.
    r = runNormal(br, makeFlow({ inPort: 3, vlan: 30, src: M1, dst: BCAST }));
    assert.equal(r.wc[L.W_VLAN0], 0x1fff);
  });

  test("gratuitous ARP on a bond is not learned while the entry is locked", () => {
    const br = fakeBridge("br0", [
      { name: "p1", ofp: 1 },
      { name: "bond0", ofp: 2, bondWith: [3] },
    ]);
    const garp = { src: M1, dst: BCAST, arpOp: 1, spa: 0x0a000001, tpa: 0x0a000001 };
    let r = runNormal(br, makeFlow({ inPort: 1, ...garp }));
    assert.equal(r.reports[0], "-> learned that 50:54:00:00:00:01 is on port p1 in VLAN 0");
    r = runNormal(br, makeFlow({ inPort: 3, ...garp }));
    assert.deepEqual(r.reports, ["-> no learned MAC for destination, flooding"], "the reflection teaches nothing");
    br.clock.now += 6000;
    r = runNormal(br, makeFlow({ inPort: 3, ...garp }));
    assert.equal(r.reports[0], "-> learned that 50:54:00:00:00:01 is on port bond0 in VLAN 0");
  });
});
