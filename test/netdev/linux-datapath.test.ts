/**
 * The kernel-backed netdevs inside the userspace datapath (root only):
 * with registerLinuxNetdevClasses(), a datapath's LOCAL port is a real TAP
 * named after it, `system` ports attach to veth ends, a flow forwards
 * frames from one to the other, and destroying the datapath removes the
 * TAP.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpifNetdev } from "../../src/datapath/dpif-netdev.js";
import { registerLinuxNetdevClasses } from "../../src/netdev/linux-classes.js";
import { LinuxNetdev } from "../../src/netdev/netdev-linux.js";
import { TapNetdev } from "../../src/netdev/netdev-tap.js";
import { actOutput, keyOf, maskOf } from "../util/datapath.js";
import { createVeth, deleteLink, frameSeq, ifPrefix, linkExists, linuxNetSkip, openRawSocket, rawReceive, testFrame } from "../util/linux-net.js";

const skip = linuxNetSkip();
const PFX = ifPrefix("d");

test("datapath: LOCAL is a TAP, system ports forward through a flow, destroy removes the TAP", { skip }, async () => {
  assert.equal(registerLinuxNetdevClasses(), null);
  const dpName = `${PFX}dp`;
  const [a1, b1, a2, b2] = [`${PFX}a`, `${PFX}b`, `${PFX}c`, `${PFX}e`];
  deleteLink(dpName);
  createVeth(a1, b1);
  createVeth(a2, b2);
  const peer1 = openRawSocket(b1);
  const peer2 = openRawSocket(b2);
  let dp: DpifNetdev | null = null;
  try {
    dp = new DpifNetdev(dpName, "netdev", { poolSize: 256 });
    assert.ok(dp.portNetdev(0) instanceof TapNetdev);
    assert.equal(linkExists(dpName), true, "LOCAL port TAP exists");
    const p1 = dp.portAdd({ name: a1, type: "system" });
    const p2 = dp.portAdd({ name: a2, type: "" });
    assert.equal(p1.error, 0);
    assert.equal(p2.error, 0);
    assert.ok(dp.portNetdev(p1.portNo!) instanceof LinuxNetdev);
    assert.equal(dp.portAdd({ name: `${PFX}nosuch`, type: "system" }).error !== 0, true);

    const frame = testFrame(0, 64);
    const put = dp.flowPut({ key: keyOf(frame, p1.portNo!), mask: maskOf(), actions: actOutput(p2.portNo!), create: true, modify: false });
    assert.equal(put.error, 0);
    for (let i = 0; i < 50; i++) assert.ok(peer1.send(testFrame(i, 64 + i)));
    const got: number[] = [];
    const deadline = Date.now() + 5000;
    while (got.length < 50 && Date.now() < deadline) {
      dp.run();
      for (const f of await rawReceive(peer2, 50 - got.length, 5)) got.push(frameSeq(f));
    }
    assert.deepEqual(got, Array.from({ length: 50 }, (_, i) => i));
    const flows = dp.flowDump();
    assert.equal(flows.length, 1);
    assert.equal(flows[0]!.stats.packets, 50);
  } finally {
    dp?.destroy();
    peer1.close();
    peer2.close();
    deleteLink(a1);
    deleteLink(a2);
  }
  assert.equal(linkExists(dpName), false, "destroy() removed the LOCAL TAP");
  deleteLink(dpName);
});
