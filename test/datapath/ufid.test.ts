/**
 * Flow ids derived from datapath keys (`ufidFromKey`): keys that differ in
 * a single field must get distinct ufids, or `flowPut` would modify another
 * flow instead of adding one.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpPacketPool } from "../../src/packet/dp-packet.js";
import { DpifNetdev, ufidFromKey } from "../../src/datapath/dpif-netdev.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { FLOW_U32S, W_TP_SRC } from "../../src/flow/key-layout.js";
import { eth, ETH_TYPE_IP, ip4, ipv4, payloadBytes, udp } from "../util/packets.js";

function udpKey(): Uint32Array {
  const frame = eth({ src: "00:11:22:33:44:55", dst: "66:77:88:99:aa:bb" }, ETH_TYPE_IP,
    ipv4({ src: ip4("10.0.0.1"), dst: ip4("10.0.0.2"), proto: 17 }, udp(1, 2, payloadBytes(8))));
  const pool = new DpPacketPool(1, 2048);
  const pkt = pool.alloc()!;
  pkt.setData(frame);
  pkt.inPort = 3;
  const key = new Uint32Array(FLOW_U32S);
  extractFlowKey(pkt, key);
  return key;
}

test("100,000 keys differing in one 16-bit field get distinct ufids", () => {
  const key = udpKey();
  const word = key[W_TP_SRC]!;
  const seen = new Set<string>();
  const out = new Uint32Array(4);
  let n = 0;
  const add = (w: number): void => {
    key[W_TP_SRC] = w >>> 0;
    ufidFromKey(key, 0, out);
    seen.add(`${out[0]},${out[1]},${out[2]},${out[3]}`);
    n++;
  };
  for (let sport = 0; sport < 65536; sport++) add(((sport << 16) | (word & 0xffff)) >>> 0);
  for (let dport = 0; n < 100_000; dport++) if (dport !== (word & 0xffff)) add(((word & 0xffff0000) | dport) >>> 0);
  assert.equal(n, 100_000);
  assert.equal(seen.size, n, `${n - seen.size} ufid collisions`);
});

test("the UDP source ports 14160 and 10064 (a collision once) give two flows", () => {
  const dp = new DpifNetdev("ufid-probe", "dummy");
  try {
    const key = udpKey();
    const put = (sport: number): number => {
      key[W_TP_SRC] = ((sport << 16) | (key[W_TP_SRC]! & 0xffff)) >>> 0;
      return dp.flowPut({ key: key.slice(), mask: new Uint32Array(FLOW_U32S).fill(0xffffffff), actions: new Uint8Array(0), create: true, modify: false }).error;
    };
    assert.equal(put(14160), 0);
    assert.equal(put(10064), 0);
    assert.equal(dp.flowDump().length, 2);
  } finally {
    dp.destroy();
  }
});

test("a miss upcall carries the datapath words of its key and their ufid, with and without tunnel metadata", async () => {
  const { DpPacketBatch } = await import("../../src/packet/dp-packet.js");
  const { FLOW_DP_U32S, REGION_TUN_START, TUN_IDX_DST } = await import("../../src/flow/key-layout.js");
  const dp = new DpifNetdev("ufid-upcall", "dummy");
  try {
    assert.equal(dp.portAdd({ name: "p1", type: "dummy" }).error, 0);
    const seen: { key: Uint32Array; ufid: Uint32Array }[] = [];
    // A reply without a mask installs nothing: every packet below misses.
    dp.registerUpcallHandler({
      upcall(up) {
        seen.push({ key: up.key.slice(), ufid: up.ufid.slice() });
        return { error: 0, actions: new Uint8Array(0), mask: null };
      },
    });
    const b = new DpPacketBatch();
    for (const tunnel of [false, true, false]) {
      const p = dp.pool.alloc()!;
      p.setData(udpKeyFrame());
      if (tunnel) p.tun[TUN_IDX_DST] = 0xc0a80001;
      b.add(p);
      dp.processRx(b, 1, 1);
    }
    assert.equal(seen.length, 3);
    for (const [i, s] of seen.entries()) {
      assert.equal(s.key.length, FLOW_DP_U32S);
      const whole = new Uint32Array(FLOW_U32S);
      whole.set(s.key);
      assert.deepEqual(s.ufid, ufidFromKey(whole), `upcall ${i}`);
    }
    // The tunnel destination is in the key (and so in the ufid).
    assert.ok(seen[1]!.key.subarray(REGION_TUN_START).some((w) => w !== 0));
    assert.notDeepEqual(seen[1]!.ufid, seen[0]!.ufid);
    assert.deepEqual(seen[2]!.ufid, seen[0]!.ufid);
  } finally {
    dp.destroy();
  }
});

test("ufidFromKey over a prefix of words equals the whole key's when the rest are zero", async () => {
  const fc = (await import("fast-check")).default;
  const { FLOW_DP_U32S, REGION_TUN_START } = await import("../../src/flow/key-layout.js");
  fc.assert(fc.property(fc.array(fc.tuple(fc.nat(REGION_TUN_START - 1), fc.nat(0xffffffff)), { maxLength: 30 }), (words) => {
    const key = new Uint32Array(FLOW_U32S);
    for (const [w, v] of words) key[w] = v;
    assert.deepEqual(ufidFromKey(key, 0, new Uint32Array(4), REGION_TUN_START), ufidFromKey(key, 0, new Uint32Array(4), FLOW_DP_U32S));
  }));
});

function udpKeyFrame(): Uint8Array {
  return eth({ src: "00:11:22:33:44:55", dst: "66:77:88:99:aa:bb" }, ETH_TYPE_IP,
    ipv4({ src: ip4("10.0.0.1"), dst: ip4("10.0.0.2"), proto: 17 }, udp(1, 2, payloadBytes(8))));
}
