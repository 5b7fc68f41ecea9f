import { test } from "node:test";
import assert from "node:assert/strict";
import { BATCH_SIZE, DpPacket, DpPacketBatchPool, DpPacketPool, DP_PACKET_HEADROOM } from "../../src/packet/index.js";

test("a pool hands out its packets, then drops and counts instead of growing", () => {
  const pool = new DpPacketPool(3, 256);
  const got = [pool.alloc(), pool.alloc(), pool.alloc()];
  assert.ok(got.every((p) => p !== null));
  assert.equal(pool.alloc(), null);
  assert.equal(pool.drops, 1);
  got[0]!.inPort = 5;
  got[0]!.release();
  const again = pool.alloc()!;
  assert.equal(again, got[0]);
  assert.equal(again.inPort, 0, "metadata reset on alloc");
  assert.equal(again.start, DP_PACKET_HEADROOM);
  // A foreign packet is not accepted.
  pool.free(new DpPacket(64));
  assert.equal(pool.available(), 0);
});

test("batches hold at most 32 packets and release them to their pool", () => {
  const pool = new DpPacketPool(40, 256);
  const bpool = new DpPacketBatchPool(1);
  const b = bpool.alloc()!;
  assert.equal(bpool.alloc(), null);
  for (let i = 0; i < BATCH_SIZE; i++) assert.ok(b.add(pool.alloc()!));
  assert.ok(b.isFull());
  const extra = pool.alloc()!;
  assert.equal(b.add(extra), false);
  b.releaseAll();
  assert.equal(b.count, 0);
  assert.equal(pool.available(), 40 - 1);
  b.release();
  assert.equal(bpool.available(), 1);
});

test("push/pull/insert/remove move the frame and keep cached offsets right", () => {
  const p = new DpPacket(256);
  const frame = Uint8Array.from({ length: 60 }, (_, i) => i);
  assert.ok(p.setData(frame));
  p.l3Ofs = 14;
  p.l4Ofs = 34;
  // Insert a 4-byte VLAN tag after the MACs.
  assert.ok(p.insertAt(12, 4));
  assert.equal(p.len, 64);
  assert.deepEqual([...p.data().subarray(0, 12)], [...frame.subarray(0, 12)]);
  assert.deepEqual([...p.data().subarray(16, 20)], [12, 13, 14, 15]);
  assert.equal(p.l3Ofs, 18);
  assert.equal(p.l4Ofs, 38);
  assert.ok(p.removeAt(12, 4));
  assert.deepEqual([...p.data()], [...frame]);
  assert.equal(p.l3Ofs, 14);
  // Push an outer header, then pull it.
  const at = p.push(50);
  assert.equal(at, DP_PACKET_HEADROOM - 50);
  assert.equal(p.l3Ofs, 64);
  assert.ok(p.pull(50));
  assert.equal(p.l3Ofs, 14);
  assert.equal(p.push(DP_PACKET_HEADROOM + 1), -1, "headroom exhausted");
  assert.equal(p.pull(1000), false);
  assert.equal(p.setData(new Uint8Array(300)), false, "too big for the buffer");
  const q = new DpPacket(256);
  p.setData(frame);
  p.tun[3] = 9;
  p.ctLabel[1] = 2;
  assert.ok(q.copyFrom(p));
  assert.deepEqual([...q.data()], [...frame]);
  assert.equal(q.tun[3], 9);
  assert.ok(q.hasTunnel());
  assert.equal(q.ctLabel[1], 2);
});

test("reset on alloc clears tunnel, Geneve and conntrack arrays; copyFrom copies or clears them", () => {
  const pool = new DpPacketPool(1, 512);
  const p = pool.alloc()!;
  p.tun[3] = 0x0a000001; // tun_dst
  p.tun[16] = 4; // Geneve option length
  p.tunGeneve[0] = 0xabcd;
  p.ctLabel[2] = 7;
  p.ctOrigTupleIpv6 = true;
  p.ctIpv6Src[0] = 1;
  p.ctIpv6Dst[3] = 2;
  p.release();
  const q = pool.alloc()!;
  assert.equal(q, p);
  assert.deepEqual(Array.from(q.tun), new Array(17).fill(0));
  assert.equal(q.tunGeneve.some((w) => w !== 0), false);
  assert.deepEqual(Array.from(q.ctLabel), [0, 0, 0, 0]);
  assert.equal(q.ctOrigTupleIpv6, false);
  assert.deepEqual(Array.from(q.ctIpv6Src).concat(Array.from(q.ctIpv6Dst)), new Array(8).fill(0));
  // tun_id alone also counts as something to clear.
  q.tun[1] = 5;
  q.reset();
  assert.equal(q.tun[1], 0);

  const src = new DpPacket(512);
  src.setData(Uint8Array.of(1, 2, 3, 4));
  src.tun[3] = 9;
  src.tunGeneve[5] = 6;
  src.ctLabel[0] = 8;
  src.ctOrigTupleIpv6 = true;
  src.ctIpv6Dst[1] = 4;
  const dst = new DpPacket(512);
  assert.ok(dst.copyFrom(src));
  assert.deepEqual(dst.data(), Uint8Array.of(1, 2, 3, 4));
  assert.equal(dst.tun[3], 9);
  assert.equal(dst.tunGeneve[5], 6);
  assert.equal(dst.ctLabel[0], 8);
  assert.equal(dst.ctOrigTupleIpv6, true);
  assert.equal(dst.ctIpv6Dst[1], 4);
  // Copying a plain packet over it clears what it held.
  const plain = new DpPacket(512);
  plain.setData(Uint8Array.of(9));
  assert.ok(dst.copyFrom(plain));
  assert.equal(dst.tun.some((w) => w !== 0) || dst.tunGeneve.some((w) => w !== 0), false);
  assert.equal(dst.ctLabel.some((w) => w !== 0) || dst.ctIpv6Dst.some((w) => w !== 0), false);
  assert.equal(dst.ctOrigTupleIpv6, false);
});
