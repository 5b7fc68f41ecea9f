/**
 * Dummy netdevs: injected frames come out of rxBatch, transmitted frames
 * are captured, stats count both, and pcap options write files that the
 * real `ovs-pcap` reads back.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { DpPacketBatch, DpPacketPool } from "../../src/packet/dp-packet.js";
import { readPcap, isPcapError, writePcap } from "../../src/packet/pcap.js";
import { netdevOpen, zeroNetdevStats } from "../../src/netdev/index.js";
import { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { udpFrame } from "../util/datapath.js";

function open(name: string, options: Record<string, string> = {}): DummyNetdev {
  const nd = netdevOpen(name, "dummy", options);
  assert.ok(nd instanceof DummyNetdev, String(nd));
  return nd;
}

test("dummy: receive → rxBatch → txBatch, with stats", () => {
  const nd = open("d0");
  const pool = new DpPacketPool(64, 2048);
  const batch = new DpPacketBatch();
  for (let i = 0; i < 40; i++) assert.ok(nd.receive(udpFrame({ sport: i })));
  assert.equal(nd.rxBatch(batch, pool), 32);
  assert.equal(batch.count, 32);
  assert.deepEqual(batch.get(5).data(), udpFrame({ sport: 5 }));
  nd.txBatch(batch);
  assert.equal(batch.count, 0);
  assert.equal(pool.available(), 64);
  assert.equal(nd.rxBatch(batch, pool), 8);
  batch.releaseAll();
  assert.equal(nd.rxBatch(batch, pool), 0);
  const tx = nd.takeTx();
  assert.equal(tx.length, 32);
  assert.deepEqual(tx[31], udpFrame({ sport: 31 }));
  const s = zeroNetdevStats();
  nd.getStats(s);
  assert.equal(s.rxPackets, 40);
  assert.equal(s.txPackets, 32);
  assert.equal(s.txBytes, 32 * udpFrame().length);
});

test("dummy: a full rx queue is a counted drop, an empty pool defers; down ports drop tx", () => {
  const nd = open("d1");
  nd.rxQueueLimit = 2;
  assert.ok(nd.receive(udpFrame()));
  assert.ok(nd.receive(udpFrame()));
  assert.equal(nd.receive(udpFrame()), false);
  const pool = new DpPacketPool(1, 2048);
  const batch = new DpPacketBatch();
  assert.equal(nd.rxBatch(batch, pool), 1);
  const s = zeroNetdevStats();
  nd.getStats(s);
  assert.equal(s.rxDropped, 1); // the queue overflow; the second frame waits for a buffer
  assert.equal(nd.pendingRx(), 1);
  nd.setUp(false);
  nd.txBatch(batch);
  nd.getStats(s);
  assert.equal(s.txDropped, 1);
  assert.equal(pool.available(), 1);
  assert.equal(nd.setMtu(10), "d1: invalid MTU 10");
  assert.equal(nd.setMtu(9000), null);
  assert.equal(nd.getMtu(), 9000);
  assert.equal(nd.setMac(new Uint8Array(3)), "d1: invalid Ethernet address");
});

test("dummy: ring mode loops over its frames without end", () => {
  const nd = open("d2");
  nd.setRxRing([udpFrame({ sport: 1 }), udpFrame({ sport: 2 }), udpFrame({ sport: 3 })]);
  const pool = new DpPacketPool(64, 2048);
  const batch = new DpPacketBatch();
  assert.equal(nd.rxBatch(batch, pool), 32);
  assert.deepEqual(batch.get(31).data(), udpFrame({ sport: 2 }));
  batch.releaseAll();
});

test("pcap options: tx_pcap and pcap capture frames, source_pcap receives a file", () => {
  const dir = tempDir();
  try {
    const txFile = path.join(dir, "tx.pcap");
    const bothFile = path.join(dir, "both.pcap");
    const pool = new DpPacketPool(64, 2048);
    const batch = new DpPacketBatch();

    const a = open("pa", { tx_pcap: txFile });
    a.receive(udpFrame({ sport: 7 }));
    a.rxBatch(batch, pool);
    a.txBatch(batch);
    a.close();
    let f = readPcap(new Uint8Array(fs.readFileSync(txFile)));
    assert.ok(!isPcapError(f));
    assert.equal(f.records.length, 1);
    assert.deepEqual(f.records[0]!.data, udpFrame({ sport: 7 }));

    // Appending keeps what is there.
    const a2 = open("pa", { tx_pcap: txFile });
    a2.receive(udpFrame({ sport: 8 }));
    a2.rxBatch(batch, pool);
    a2.txBatch(batch);
    a2.close();
    f = readPcap(new Uint8Array(fs.readFileSync(txFile)));
    assert.ok(!isPcapError(f));
    assert.equal(f.records.length, 2);

    const b = open("pb", { pcap: bothFile });
    b.receive(udpFrame({ sport: 1 }));
    b.rxBatch(batch, pool);
    b.txBatch(batch);
    b.close();
    f = readPcap(new Uint8Array(fs.readFileSync(bothFile)));
    assert.ok(!isPcapError(f));
    assert.equal(f.records.length, 2, "one rx and one tx record");

    const src = path.join(dir, "src.pcap");
    fs.writeFileSync(src, writePcap([udpFrame({ sport: 10 }), udpFrame({ sport: 11 })]));
    const c = open("pc", { source_pcap: src });
    assert.equal(c.rxBatch(batch, pool), 2);
    assert.deepEqual(batch.get(1).data(), udpFrame({ sport: 11 }));
    batch.releaseAll();
    c.close();

    // Bad files are errors in OVS's words, not exceptions.
    const junk = path.join(dir, "junk");
    fs.writeFileSync(junk, "definitely not a pcap file");
    assert.match(String(netdevOpen("pd", "dummy", { tx_pcap: junk })), /bad magic/);
    assert.match(String(netdevOpen("pe", "dummy", { source_pcap: path.join(dir, "missing.pcap") })), /ENOENT/);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("pcap: real ovs-pcap reads what tx_pcap wrote", { skip: ovsSkip("ovs-pcap") }, () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "p2.pcap");
    const nd = open("p2", { tx_pcap: file });
    const pool = new DpPacketPool(8, 2048);
    const batch = new DpPacketBatch();
    nd.receive(udpFrame({ sport: 1 }));
    nd.receive(udpFrame({ sport: 2, vlan: 5 }));
    nd.rxBatch(batch, pool);
    nd.txBatch(batch);
    nd.close();
    const r = run("ovs-pcap", [file]);
    assert.equal(r.status, 0, r.stdout);
    const hex = (b: Uint8Array) => Buffer.from(b).toString("hex");
    assert.deepEqual(r.stdout.trim().split("\n"), [hex(udpFrame({ sport: 1 })), hex(udpFrame({ sport: 2, vlan: 5 }))]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("netdev registry: unknown types fail with OVS's wording", () => {
  assert.match(String(netdevOpen("eth9", "no-such-type")), /could not open network device eth9/);
});
