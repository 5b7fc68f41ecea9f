/**
 * `system` netdevs on a veth pair (root only): frames sent from the peer
 * by an independent raw socket arrive in batches, with VLAN tags intact;
 * transmitted frames arrive at the peer; our own transmits are not
 * received back; MTU, MAC, up/down and carrier reach the kernel; kernel
 * statistics are reported; a missing device gets OVS's error text; a
 * device deleted under an open netdev does not crash it, and revalidate()
 * follows it when it comes back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { DpPacketBatch, DpPacketPool } from "../../src/packet/dp-packet.js";
import { zeroNetdevStats } from "../../src/netdev/netdev-provider.js";
import { LinuxNetdev, systemNetdevClass } from "../../src/netdev/netdev-linux.js";
import {
  createVeth, deleteLink, frameSeq, ifPrefix, ip, linuxNetSkip, openRawSocket, rawReceive, receiveFrames, testFrame,
} from "../util/linux-net.js";

const skip = linuxNetSkip();
const PFX = ifPrefix("l");

function openSystem(name: string): LinuxNetdev {
  const nd = systemNetdevClass.open(name, {});
  assert.ok(nd instanceof LinuxNetdev, String(nd));
  return nd;
}

test("system: a missing device gets OVS's error text", { skip }, () => {
  assert.equal(systemNetdevClass.open("nosuchdev", {}), "could not open network device nosuchdev (No such device)");
});

test("system: frames from the peer arrive in batches, ours do not come back", { skip }, async () => {
  const a = `${PFX}a`;
  const b = `${PFX}b`;
  createVeth(a, b);
  const nd = openSystem(a);
  const peer = openRawSocket(b);
  try {
    const pool = new DpPacketPool(256);
    // Nothing queued: an empty poll adds nothing.
    const empty = new DpPacketBatch();
    assert.equal(nd.rxBatch(empty, pool), 0);
    assert.equal(empty.count, 0);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 70; i++) {
      const f = testFrame(i, 60 + (i % 5) * 300);
      sent.push(f);
      assert.ok(peer.send(f), `send ${i}`);
    }
    const { frames, batches } = await receiveFrames(nd, pool, 70);
    assert.equal(frames.length, 70);
    assert.equal(batches[0], 32, `first batch is full: ${batches.join(",")}`);
    for (let i = 0; i < 70; i++) assert.deepEqual(frames[i], sent[i], `frame ${i}`);
    assert.equal(pool.available(), 256, "every packet went back to the pool");

    // Transmit: the peer sees them; we do not receive our own transmits.
    const batch = new DpPacketBatch();
    for (let i = 0; i < 32; i++) {
      const p = pool.alloc()!;
      p.setData(testFrame(1000 + i, 64 + i));
      batch.add(p);
    }
    nd.txBatch(batch);
    assert.equal(batch.count, 0);
    assert.equal(pool.available(), 256);
    const got = await rawReceive(peer, 32);
    assert.deepEqual(got.map(frameSeq), Array.from({ length: 32 }, (_, i) => 1000 + i));
    assert.deepEqual(got[5], testFrame(1005, 69));
    const echo = await receiveFrames(nd, pool, 1, 200);
    assert.equal(echo.frames.length, 0, "own transmits are not received");

    const own = zeroNetdevStats();
    nd.getSocketStats(own);
    assert.equal(own.txPackets, 32);
    assert.equal(own.rxPackets >= 70, true);
    const k = zeroNetdevStats();
    nd.getStats(k);
    assert.ok(k.rxPackets >= 70, `kernel rx_packets ${k.rxPackets}`);
    assert.ok(k.txPackets >= 32, `kernel tx_packets ${k.txPackets}`);
    const cols = nd.getKernelStats();
    for (const key of ["rx_packets", "tx_bytes", "collisions", "rx_crc_err", "rx_over_err", "rx_missed_errors"]) {
      assert.equal(typeof cols[key], "number", key);
    }
  } finally {
    peer.close();
    nd.close();
    deleteLink(a);
  }
});

test("system: VLAN tags stripped by the kernel are put back", { skip }, async () => {
  const a = `${PFX}c`;
  const b = `${PFX}d`;
  createVeth(a, b);
  const nd = openSystem(a);
  const peer = openRawSocket(b);
  try {
    const pool = new DpPacketPool(64);
    // dst, src, 802.1Q tag (PCP 5, VID 100), then the test EtherType.
    const inner = testFrame(7, 60);
    const tagged = new Uint8Array(64);
    tagged.set(inner.subarray(0, 12), 0);
    tagged.set([0x81, 0x00, 0xa0, 0x64], 12);
    tagged.set(inner.subarray(12), 16);
    assert.ok(peer.send(tagged));
    const batch = new DpPacketBatch();
    const deadline = Date.now() + 3000;
    while (batch.count === 0 && Date.now() < deadline) {
      if (nd.rxBatch(batch, pool) === 0) await new Promise((r) => setTimeout(r, 2));
    }
    assert.equal(batch.count, 1);
    assert.deepEqual(batch.get(0).data(), tagged);
    batch.releaseAll();
  } finally {
    peer.close();
    nd.close();
    deleteLink(a);
  }
});

test("system: MTU, MAC, up/down and carrier go to the kernel; jumbo frames pass", { skip }, async () => {
  const a = `${PFX}e`;
  const b = `${PFX}f`;
  createVeth(a, b);
  const nd = openSystem(a);
  try {
    assert.equal(nd.getMtu(), 1500);
    assert.ok(nd.getIfindex() > 0);
    assert.equal(nd.isUp(), true);
    assert.equal(nd.hasCarrier(), true);
    assert.equal(nd.setMac(Uint8Array.of(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee)), null);
    assert.match(ip("link", "show", a), /link\/ether 02:aa:bb:cc:dd:ee /);
    assert.deepEqual([...nd.getMac()], [0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee]);
    assert.equal(nd.setMtu(9000), null);
    ip("link", "set", b, "mtu", "9000");
    assert.match(ip("link", "show", a), /mtu 9000 /);
    assert.equal(nd.getMtu(), 9000);

    // The ring was rebuilt for the larger MTU: a 9014-byte frame arrives whole.
    const peer = openRawSocket(b);
    try {
      const big = testFrame(42, 9014);
      assert.ok(peer.send(big));
      const pool = new DpPacketPool(8);
      const { frames } = await receiveFrames(nd, pool, 1);
      assert.equal(frames.length, 1);
      assert.deepEqual(frames[0], big);
      // And it goes out whole too.
      const batch = new DpPacketBatch();
      const p = pool.alloc()!;
      p.setData(testFrame(43, 9014));
      batch.add(p);
      nd.txBatch(batch);
      const got = await rawReceive(peer, 1);
      assert.deepEqual(got[0], testFrame(43, 9014));
    } finally {
      peer.close();
    }

    nd.setUp(false);
    assert.equal(nd.isUp(), false);
    assert.doesNotMatch(ip("link", "show", a), /[<,]UP[,>]/);
    assert.equal(nd.hasCarrier(), false);
    // Sending on a down device drops instead of throwing.
    const pool = new DpPacketPool(4);
    const batch = new DpPacketBatch();
    batch.add(pool.alloc()!);
    batch.get(0).setData(testFrame(1));
    nd.txBatch(batch);
    assert.equal(pool.available(), 4);
    const own = zeroNetdevStats();
    nd.getSocketStats(own);
    assert.equal(own.txDropped + own.txErrors, 1);
    nd.setUp(true);
    assert.match(ip("link", "show", a), /[<,]UP[,>]/);
    assert.equal(nd.setMtu(20), `${a}: invalid MTU 20`);
  } finally {
    nd.close();
    deleteLink(a);
  }
});

test("system: an empty pool drops and counts; input readiness is signalled", { skip }, async () => {
  const a = `${PFX}g`;
  const b = `${PFX}h`;
  createVeth(a, b);
  const nd = openSystem(a);
  const peer = openRawSocket(b);
  try {
    let woken = 0;
    const watch = nd.watchRx(() => {
      woken++;
    });
    try {
      await new Promise((r) => setTimeout(r, 20));
      assert.equal(woken, 0, "no input, no wake-up");
      const pool = new DpPacketPool(2);
      for (let i = 0; i < 5; i++) assert.ok(peer.send(testFrame(i)));
      const deadline = Date.now() + 3000;
      while (woken === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.ok(woken > 0, "watchRx fired");
      await new Promise((r) => setTimeout(r, 50)); // all five in the ring
      const batch = new DpPacketBatch();
      assert.equal(nd.rxBatch(batch, pool), 2);
      // A poll that runs out of buffers drops one frame and stops.
      const own = zeroNetdevStats();
      nd.getSocketStats(own);
      assert.equal(own.rxDropped, 1);
      assert.equal(nd.rxBatch(batch, pool), 0);
      nd.getSocketStats(own);
      assert.equal(own.rxDropped, 2);
      assert.equal(nd.rxBatch(batch, pool), 0);
      batch.releaseAll();
      assert.equal(nd.rxBatch(batch, pool), 0, "the ring is empty now");
      nd.getSocketStats(own);
      assert.equal(own.rxDropped, 3);
    } finally {
      watch.close();
    }
  } finally {
    peer.close();
    nd.close();
    deleteLink(a);
  }
});

test("system: a device deleted under an open netdev does not crash it; revalidate() follows it back", { skip }, async () => {
  const a = `${PFX}i`;
  const b = `${PFX}j`;
  createVeth(a, b);
  const nd = openSystem(a);
  try {
    deleteLink(a);
    await new Promise((r) => setTimeout(r, 20));
    const pool = new DpPacketPool(4);
    const batch = new DpPacketBatch();
    assert.equal(nd.rxBatch(batch, pool), 0);
    batch.add(pool.alloc()!);
    batch.get(0).setData(testFrame(1));
    nd.txBatch(batch);
    assert.equal(pool.available(), 4);
    assert.equal(nd.exists(), false);
    const s = zeroNetdevStats();
    nd.getStats(s);
    assert.equal(s.txDropped + s.txErrors, 1);
    assert.equal(nd.revalidate(), `could not open network device ${a} (No such device)`);

    // The device comes back (a new ifindex): revalidate() follows it.
    createVeth(a, b);
    assert.equal(nd.revalidate(), null);
    assert.equal(nd.getIfindex(), Number(fs.readFileSync(`/sys/class/net/${a}/ifindex`, "latin1")));
    const peer = openRawSocket(b);
    try {
      assert.ok(peer.send(testFrame(77)));
      const { frames } = await receiveFrames(nd, pool, 1);
      assert.equal(frameSeq(frames[0]!), 77);
    } finally {
      peer.close();
    }
  } finally {
    nd.close();
    deleteLink(a);
  }
});
