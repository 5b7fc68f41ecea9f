/**
 * EMC-hit batches in the datapath: the run check done during the EMC
 * lookups (flows interleaved or contiguous in a batch) and the per-flow
 * stats stride.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpifNetdev } from "../../src/datapath/dpif-netdev.js";
import type { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { actOutput, keyOf, maskOf, udpFrame } from "../util/datapath.js";

function dummy(dp: DpifNetdev, port: number): DummyNetdev {
  return dp.portNetdev(port) as DummyNetdev;
}

function threePorts(): DpifNetdev {
  const dp = new DpifNetdev("br0", "netdev", { poolSize: 512 });
  for (const name of ["p1", "p2", "p3"]) assert.equal(dp.portAdd({ name, type: "dummy" }).error, 0);
  return dp;
}

test("EMC hits: interleaved or contiguous flows in a batch: each sent to its port, packets and bytes counted per flow", () => {
  const dp = threePorts();
  dp.setConfig({ emcInsertInvProb: 1 });
  const a = udpFrame({ sport: 1001 });
  const b = udpFrame({ sport: 1002 });
  assert.equal(dp.flowPut({ key: keyOf(a, 1), mask: maskOf("ports"), actions: actOutput(2), create: true, modify: false }).error, 0);
  assert.equal(dp.flowPut({ key: keyOf(b, 1), mask: maskOf("ports"), actions: actOutput(3), create: true, modify: false }).error, 0);
  const sport = (f: Uint8Array): number => (f[34]! << 8) | f[35]!;
  // Round 1 fills the EMC (dpcls hits); rounds 2 and 3 are all EMC hits.
  for (let round = 0; round < 3; round++) {
    for (const f of [a, b, a, b, a]) dummy(dp, 1).receive(f);
    dp.run();
  }
  assert.equal(dp.getStats().emcHits, 10);
  const tx2 = dummy(dp, 2).takeTx();
  const tx3 = dummy(dp, 3).takeTx();
  assert.deepEqual(tx2.map(sport), Array(9).fill(1001));
  assert.deepEqual(tx3.map(sport), Array(6).fill(1002));
  const stats = dp.flowDump().map((f) => f.stats.packets).sort((x, y) => x - y);
  assert.deepEqual(stats, [6, 9]);
  const bytes = dp.flowDump().map((f) => f.stats.bytes).sort((x, y) => x - y);
  assert.deepEqual(bytes, [6 * b.length, 9 * a.length]);
  // Contiguous runs (a a b b) after interleaved batches: counted per run.
  for (const f of [a, a, b, b]) dummy(dp, 1).receive(f);
  dp.run();
  assert.equal(dp.getStats().emcHits, 14);
  assert.deepEqual(dp.flowDump().map((f) => f.stats.packets).sort((x, y) => x - y), [8, 11]);
  assert.equal(dummy(dp, 2).takeTx().length, 2);
  assert.equal(dummy(dp, 3).takeTx().length, 2);
});
