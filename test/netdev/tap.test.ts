/**
 * `internal` and `tap` netdevs (root only): the TAP device appears in
 * `ip link` as OVS makes it (persistent, promiscuous, down), MAC and MTU
 * set through the netdev show there, frames the host sends reach rxBatch
 * in batches, frames from txBatch reach the host, statistics are turned
 * around to the port's point of view, and close() removes the device.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpPacketBatch, DpPacketPool } from "../../src/packet/dp-packet.js";
import { zeroNetdevStats } from "../../src/netdev/netdev-provider.js";
import { TapNetdev, internalNetdevClass, tapNetdevClass } from "../../src/netdev/netdev-tap.js";
import {
  createVeth, deleteLink, disableIpv6, frameSeq, ifPrefix, ip, linkExists, linuxNetSkip, openRawSocket, rawReceive, receiveFrames, testFrame,
} from "../util/linux-net.js";

const skip = linuxNetSkip();
const PFX = ifPrefix("t");

function openTap(name: string, type: "internal" | "tap"): TapNetdev {
  const nd = (type === "internal" ? internalNetdevClass : tapNetdevClass).open(name, {});
  assert.ok(nd instanceof TapNetdev, String(nd));
  return nd;
}

test("internal: a TAP named after the port, with MAC/MTU/up set, removed on close", { skip }, () => {
  const name = `${PFX}a`;
  deleteLink(name);
  const nd = openTap(name, "internal");
  try {
    assert.equal(nd.type, "internal");
    const shown = ip("-d", "link", "show", name);
    assert.match(shown, /tun type tap pi off vnet_hdr off persist on/);
    assert.match(shown, /PROMISC/);
    assert.equal(nd.isUp(), false, "left down, as OVS leaves it");
    assert.equal(nd.setMac(Uint8Array.of(0x02, 0x11, 0x22, 0x33, 0x44, 0x55)), null);
    assert.equal(nd.setMtu(1400), null);
    nd.setUp(true);
    const after = ip("link", "show", name);
    assert.match(after, /link\/ether 02:11:22:33:44:55 /);
    assert.match(after, /mtu 1400 /);
    assert.match(after, /[<,]UP[,>]/);
    assert.equal(nd.getMtu(), 1400);
    assert.deepEqual([...nd.getMac()], [0x02, 0x11, 0x22, 0x33, 0x44, 0x55]);
    assert.ok(nd.getIfindex() > 0);
  } finally {
    nd.close();
  }
  assert.equal(linkExists(name), false, "close() removed the device");
  deleteLink(name);
});

test("internal: host frames reach rxBatch in batches; txBatch frames reach the host", { skip }, async () => {
  const name = `${PFX}b`;
  deleteLink(name);
  const nd = openTap(name, "internal");
  disableIpv6(name);
  nd.setUp(true);
  const host = openRawSocket(name);
  try {
    const pool = new DpPacketPool(128);
    const empty = new DpPacketBatch();
    assert.equal(nd.rxBatch(empty, pool), 0);
    const sent: Uint8Array[] = [];
    for (let i = 0; i < 40; i++) {
      const f = testFrame(i, 60 + i * 30);
      sent.push(f);
      assert.ok(host.send(f), `host send ${i}`);
    }
    const { frames, batches } = await receiveFrames(nd, pool, 40);
    assert.equal(frames.length, 40);
    assert.equal(batches[0], 32, `first batch is full: ${batches.join(",")}`);
    for (let i = 0; i < 40; i++) assert.deepEqual(frames[i], sent[i], `frame ${i}`);
    assert.equal(pool.available(), 128);

    const batch = new DpPacketBatch();
    for (let i = 0; i < 20; i++) {
      const p = pool.alloc()!;
      p.setData(testFrame(500 + i, 61 + i));
      batch.add(p);
    }
    nd.txBatch(batch);
    assert.equal(batch.count, 0);
    assert.equal(pool.available(), 128);
    const got = await rawReceive(host, 20);
    assert.deepEqual(got.map(frameSeq), Array.from({ length: 20 }, (_, i) => 500 + i));
    assert.deepEqual(got[3], testFrame(503, 64));

    // The port's view: what the host sent is what the port received.
    const s = zeroNetdevStats();
    nd.getStats(s);
    assert.ok(s.rxPackets >= 40, `rx ${s.rxPackets}`);
    assert.ok(s.txPackets >= 20, `tx ${s.txPackets}`);
    const own = zeroNetdevStats();
    nd.getSocketStats(own);
    assert.equal(own.txPackets, 20);
    assert.ok(own.rxPackets >= 40);
  } finally {
    host.close();
    nd.close();
    deleteLink(name);
  }
});

test("internal: a down TAP drops transmits; readiness is signalled", { skip }, async () => {
  const name = `${PFX}c`;
  deleteLink(name);
  const nd = openTap(name, "internal");
  try {
    const pool = new DpPacketPool(8);
    const batch = new DpPacketBatch();
    batch.add(pool.alloc()!);
    batch.get(0).setData(testFrame(1));
    nd.txBatch(batch);
    assert.equal(pool.available(), 8);
    const own = zeroNetdevStats();
    nd.getSocketStats(own);
    assert.equal(own.txDropped, 1);
    assert.equal(own.txPackets, 0);

    disableIpv6(name);
    nd.setUp(true);
    const host = openRawSocket(name);
    let woken = 0;
    const watch = nd.watchRx(() => {
      woken++;
    });
    try {
      host.send(testFrame(9));
      const deadline = Date.now() + 3000;
      while (woken === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
      assert.ok(woken > 0, "watchRx fired");
      const { frames } = await receiveFrames(nd, pool, 1);
      assert.equal(frameSeq(frames[0]!), 9);
    } finally {
      watch.close();
      host.close();
    }
  } finally {
    nd.close();
    deleteLink(name);
  }
});

test("tap: attaches to an existing TAP; a non-TAP name is refused", { skip }, () => {
  const name = `${PFX}d`;
  const veth = `${PFX}e`;
  deleteLink(name);
  ip("tuntap", "add", "dev", name, "mode", "tap");
  try {
    const nd = openTap(name, "tap");
    assert.equal(nd.type, "tap");
    nd.setUp(true);
    assert.match(ip("link", "show", name), /[<,]UP[,>]/);
    nd.close();
  } finally {
    deleteLink(name);
  }
  createVeth(veth, `${PFX}f`);
  try {
    assert.equal(tapNetdevClass.open(veth, {}), `could not open network device ${veth} (Invalid argument)`);
  } finally {
    deleteLink(veth);
  }
});

test("internal: a port name longer than 15 bytes gets a TAP named by its first 15", { skip }, () => {
  const name = `${PFX}g-a-rather-long-port-name`;
  const dev = name.slice(0, 15);
  deleteLink(dev);
  const nd = openTap(name, "internal");
  try {
    assert.equal(nd.name, name);
    assert.equal(nd.devName, dev);
    assert.equal(linkExists(dev), true);
    assert.equal(nd.setMtu(1280), null);
    assert.match(ip("link", "show", dev), /mtu 1280 /);
  } finally {
    nd.close();
    deleteLink(dev);
  }
  assert.equal(linkExists(dev), false);
});

test("internal: with the receive gate on, polls skip read() until the event loop sees input", { skip }, async () => {
  const name = `${PFX}h`;
  deleteLink(name);
  const nd = openTap(name, "internal");
  disableIpv6(name);
  nd.setUp(true);
  const host = openRawSocket(name);
  try {
    nd.setRxGate(true);
    const pool = new DpPacketPool(8);
    const batch = new DpPacketBatch();
    assert.equal(nd.rxBatch(batch, pool), 0, "nothing queued: the gate closes");
    assert.ok(host.send(testFrame(1)));
    // The frame waits in the TAP, but no event-loop turn has reported it.
    assert.equal(nd.rxBatch(batch, pool), 0, "gated: no read()");
    await new Promise((r) => setTimeout(r, 20));
    assert.equal(nd.rxBatch(batch, pool), 1, "readiness opened the gate");
    assert.equal(frameSeq(batch.get(0).data()), 1);
    batch.releaseAll();
    // Several frames, then the gate off again: plain polling reads at once.
    assert.equal(nd.rxBatch(batch, pool), 0);
    nd.setRxGate(false);
    assert.ok(host.send(testFrame(2)));
    assert.equal(nd.rxBatch(batch, pool), 1);
    batch.releaseAll();
  } finally {
    host.close();
    nd.close();
    deleteLink(name);
  }
});
