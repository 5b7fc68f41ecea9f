/**
 * The userspace datapath through its dpif interface: ports, flows,
 * forwarding, upcalls, EMC, flow limit, recirculation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, run, startRealOvsdb, tempDir } from "../util/ovs.js";
import { netdevSetDummyOverride } from "../../src/netdev/netdev.js";
import { DpifNetdev } from "../../src/datapath/dpif-netdev.js";
import { dpifDelete, dpifEnumerate, dpifOpen } from "../../src/datapath/dpif.js";
import { DPIF_UC_ACTION, DPIF_UC_MISS, Errno, type DpifUpcall, type DpifUpcallReply } from "../../src/datapath/dpif-provider.js";
import type { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { actOutput, actRecirc, actUserspace, concat, keyOf, maskOf, udpFrame } from "../util/datapath.js";
import { FLOW_DP_U32S, W_IN_PORT, W_NW_SRC, W_TP_SRC } from "../../src/flow/key-layout.js";

function dummy(dp: DpifNetdev, port: number): DummyNetdev {
  return dp.portNetdev(port) as DummyNetdev;
}

/** A datapath with ports p1, p2, p3 (numbers 1, 2, 3). */
function threePorts(type = "netdev"): DpifNetdev {
  const dp = new DpifNetdev("br0", type, { poolSize: 512 });
  for (const name of ["p1", "p2", "p3"]) assert.equal(dp.portAdd({ name, type: "dummy" }).error, 0);
  return dp;
}

test("ports: local port 0 named after the datapath, then lowest free numbers", () => {
  const dp = new DpifNetdev("br0", "netdev");
  assert.deepEqual(dp.portDump(), [{ name: "br0", type: "tap", portNo: 0 }]);
  assert.deepEqual(dp.portAdd({ name: "eth7", type: "dummy" }), { error: 0, portNo: 1 });
  assert.deepEqual(dp.portAdd({ name: "x", type: "dummy", portNo: 5 }), { error: 0, portNo: 5 });
  assert.deepEqual(dp.portAdd({ name: "y", type: "dummy" }), { error: 0, portNo: 2 });
  assert.equal(dp.portAdd({ name: "y", type: "dummy" }).error, Errno.EEXIST);
  assert.equal(dp.portAdd({ name: "z", type: "dummy", portNo: 5 }).error, Errno.EBUSY);
  assert.equal(dp.portDel(2).error, 0);
  assert.equal(dp.portDel(2).error, Errno.ENOENT);
  assert.equal(dp.portDel(0).error, Errno.EINVAL);
  assert.deepEqual(dp.portAdd({ name: "w", type: "dummy" }), { error: 0, portNo: 2 });
  assert.deepEqual(dp.portQueryByName("x"), { error: 0, port: { name: "x", type: "dummy", portNo: 5 } });
  assert.equal(dp.portQueryByNumber(9).error, Errno.ENOENT);
  assert.equal(dp.portAdd({ name: "q", type: "no-such-type" }).error, Errno.ENODEV);
});

test("ports: the dummy datapath numbers ports after their names, as OVS's", () => {
  const dp = new DpifNetdev("br0", "dummy");
  assert.equal(dp.portAdd({ name: "p3", type: "dummy" }).portNo, 3);
  assert.equal(dp.portAdd({ name: "br1", type: "dummy" }).portNo, 101);
  assert.equal(dp.portAdd({ name: "q3", type: "dummy" }).portNo, 1);
});

test("dpif registry: create, open, enumerate, delete", () => {
  assert.equal(dpifOpen("netdev", "dpA"), Errno.ENODEV);
  const dp = dpifOpen("netdev", "dpA", { create: true });
  assert.ok(typeof dp === "object");
  assert.equal(dpifOpen("netdev", "dpA"), dp);
  assert.equal(dpifOpen("netdev", "dpA", { create: true, exclusive: true }), Errno.EEXIST);
  assert.equal(dpifOpen("bogus", "dpA", { create: true }), Errno.EINVAL);
  assert.ok(dpifEnumerate("netdev").includes("dpA"));
  assert.equal(dpifDelete("netdev", "dpA"), 0);
  assert.equal(dpifDelete("netdev", "dpA"), Errno.ENODEV);
});

test("flows: put create/modify, get, del, dump, flush, stats", () => {
  const dp = threePorts();
  const key = keyOf(udpFrame(), 1);
  const mask = maskOf("ip");
  assert.equal(dp.flowPut({ key, mask, actions: actOutput(2), create: false, modify: true }).error, Errno.ENOENT);
  assert.equal(dp.flowPut({ key, mask, actions: actOutput(2), create: true, modify: false }).error, 0);
  assert.equal(dp.flowPut({ key, mask, actions: actOutput(2), create: true, modify: false }).error, Errno.EEXIST);
  assert.equal(dp.getStats().flows, 1);
  assert.equal(dp.getStats().masks, 1);

  dummy(dp, 1).receive(udpFrame());
  dummy(dp, 1).receive(udpFrame());
  dp.run(1000);
  assert.equal(dummy(dp, 2).takeTx().length, 2);

  const got = dp.flowGet({ key });
  assert.equal(got.error, 0);
  assert.deepEqual(got.flow!.actions, actOutput(2));
  assert.equal(got.flow!.stats.packets, 2);
  assert.equal(got.flow!.stats.bytes, 2 * udpFrame().length);
  assert.equal(got.flow!.stats.used, 1000);

  // Modify: new actions, old stats returned, optionally zeroed.
  const mod = dp.flowPut({ key, mask, actions: actOutput(3), create: false, modify: true, zeroStats: true });
  assert.equal(mod.error, 0);
  assert.equal(mod.stats!.packets, 2);
  assert.equal(dp.flowGet({ key }).flow!.stats.packets, 0);
  dummy(dp, 1).receive(udpFrame());
  dp.run(2000);
  assert.equal(dummy(dp, 3).takeTx().length, 1);
  assert.equal(dummy(dp, 2).takeTx().length, 0);

  // Dump shows the masked key and the mask (in_port forced exact).
  const dump = dp.flowDump();
  assert.equal(dump.length, 1);
  assert.equal(dump[0]!.key[0], 1);
  assert.equal(dump[0]!.mask[0], 0xffffffff);

  const del = dp.flowDel({ ufid: dump[0]!.ufid });
  assert.equal(del.error, 0);
  assert.equal(del.stats!.packets, 1);
  assert.equal(dp.flowDel({ key }).error, Errno.ENOENT);
  assert.equal(dp.getStats().flows, 0);
  assert.equal(dp.getStats().masks, 0);

  for (let i = 0; i < 10; i++) {
    assert.equal(dp.flowPut({ key: keyOf(udpFrame({ src: i }), 1), mask, actions: actOutput(2), create: true, modify: false }).error, 0);
  }
  assert.equal(dp.flowDump().length, 10);
  dp.flowFlush();
  assert.equal(dp.flowDump().length, 0);
  assert.equal(dp.flowPut({ key: new Uint32Array(3), mask, actions: actOutput(2), create: true, modify: false }).error, Errno.EINVAL);
});

test("flow limit: puts beyond it fail with EFBIG; upcalled packets are still executed", () => {
  const dp = threePorts();
  dp.setConfig({ flowLimit: 2 });
  const mask = maskOf("ip");
  let upcalls = 0;
  dp.registerUpcallHandler({
    upcall(): DpifUpcallReply {
      upcalls++;
      return { error: 0, actions: actOutput(2), mask };
    },
  });
  for (let i = 0; i < 5; i++) dummy(dp, 1).receive(udpFrame({ src: i }));
  dp.run();
  assert.equal(dp.getStats().flows, 2);
  assert.equal(upcalls, 5);
  assert.equal(dummy(dp, 2).takeTx().length, 5);
  assert.equal(dp.flowPut({ key: keyOf(udpFrame({ src: 99 }), 1), mask, actions: actOutput(2), create: true, modify: false }).error, Errno.EFBIG);
});

test("upcalls: a miss installs a megaflow; misses of one flow in a batch coalesce", () => {
  const dp = threePorts();
  const seen: DpifUpcall[] = [];
  dp.registerUpcallHandler({
    upcall(up) {
      seen.push(up);
      return { error: 0, actions: actOutput(3), mask: maskOf() };
    },
  });
  // 32 packets of different 5-tuples but one megaflow (mask: in_port + dl_type).
  for (let i = 0; i < 32; i++) dummy(dp, 1).receive(udpFrame({ sport: 1000 + i }));
  dp.run();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.type, DPIF_UC_MISS);
  assert.equal(seen[0]!.inPort, 1);
  assert.deepEqual(seen[0]!.packet, udpFrame({ sport: 1000 }));
  assert.equal(dummy(dp, 3).takeTx().length, 32);
  const s = dp.getStats();
  assert.equal(s.missed, 1);
  assert.equal(s.hits, 31);
  assert.equal(s.flows, 1);
  // The flow's stats count every packet, the upcalled one included.
  assert.equal(dp.flowDump()[0]!.stats.packets, 32);
});

test("upcalls: without a handler, misses queue for recv()", () => {
  const dp = threePorts();
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  const up = dp.recv();
  assert.ok(up !== null);
  assert.equal(up.type, DPIF_UC_MISS);
  assert.deepEqual(up.key.subarray(0, 30), keyOf(udpFrame(), 1).subarray(0, 30));
  assert.equal(dp.recv(), null);
});

test("userspace action: upcall with userdata, packet still forwarded", () => {
  const dp = threePorts();
  const seen: DpifUpcall[] = [];
  dp.registerUpcallHandler({
    upcall(up) {
      seen.push(up);
      return { error: 0, actions: new Uint8Array(0), mask: null };
    },
  });
  const ud = Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8);
  dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: concat(actUserspace(ud), actOutput(2)), create: true, modify: false });
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(seen.length, 1);
  assert.equal(seen[0]!.type, DPIF_UC_ACTION);
  assert.deepEqual(seen[0]!.userdata, ud);
  assert.equal(dummy(dp, 2).takeTx().length, 1);
});

test("recirculation: packets come back with recirc_id set", () => {
  const dp = threePorts();
  dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: actRecirc(7), create: true, modify: false });
  dp.flowPut({ key: keyOf(udpFrame(), 1, 7), mask: maskOf(), actions: actOutput(3), create: true, modify: false });
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(dummy(dp, 3).takeTx().length, 1);
  // A recirculation loop is cut at the depth limit and counted as dropped.
  dp.flowFlush();
  dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: actRecirc(0), create: true, modify: false });
  const before = dp.getStats().dropped;
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(dp.getStats().dropped, before + 1);
});

test("EMC: hits after insertion, invalidated when the flow dies", () => {
  const dp = threePorts();
  dp.setConfig({ emcInsertInvProb: 1 });
  const key = keyOf(udpFrame(), 1);
  dp.flowPut({ key, mask: maskOf(), actions: actOutput(2), create: true, modify: false });
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(dp.getStats().emcHits, 0);
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(dp.getStats().emcHits, 1);
  assert.equal(dp.flowDel({ key }).error, 0);
  // Same flow id reused by a different flow must not be reached via the stale entry.
  dp.flowPut({ key: keyOf(udpFrame({ src: 77 }), 1), mask: maskOf("ip"), actions: actOutput(3), create: true, modify: false });
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(dp.getStats().emcHits, 1);
  assert.equal(dp.getStats().missed, 1);
  assert.equal(dummy(dp, 3).takeTx().length, 0);
  // emc-insert-inv-prob=0 disables it.
  dp.setConfig({ emcInsertInvProb: 0 });
  dp.flowPut({ key, mask: maskOf(), actions: actOutput(2), create: true, modify: false });
  for (let i = 0; i < 3; i++) {
    dummy(dp, 1).receive(udpFrame());
    dp.run();
  }
  assert.equal(dp.getStats().emcHits, 1);
});

test("execute: runs actions on a given packet; unknown output port is a counted drop", () => {
  const dp = threePorts();
  assert.equal(dp.execute({ packet: udpFrame(), actions: concat(actOutput(2), actOutput(3), actOutput(42)) }).error, 0);
  assert.equal(dummy(dp, 2).takeTx().length, 1);
  assert.equal(dummy(dp, 3).takeTx().length, 1);
  assert.equal(dp.getStats().dropped, 1);
  // Port stats.
  const st = dp.portStats(2);
  assert.equal(st.stats!.txPackets, 1);
  assert.equal(st.stats!.txBytes, udpFrame().length);
});

test("handler re-entrancy: flowDel and execute from inside an upcall", () => {
  const dp = threePorts();
  const key = keyOf(udpFrame(), 1);
  dp.flowPut({ key: keyOf(udpFrame({ src: 5 }), 1), mask: maskOf("ip"), actions: actOutput(2), create: true, modify: false });
  dp.registerUpcallHandler({
    upcall() {
      // Delete the flow the other packet of this batch is grouped on.
      for (const f of dp.flowDump()) dp.flowDel({ ufid: f.ufid });
      dp.execute({ packet: udpFrame(), actions: actOutput(3) });
      return { error: 0, actions: actOutput(3), mask: null };
    },
  });
  void key;
  dummy(dp, 1).receive(udpFrame({ src: 5 }));
  dummy(dp, 1).receive(udpFrame({ src: 6 }));
  dp.run();
  assert.equal(dummy(dp, 2).takeTx().length, 1);
  assert.equal(dummy(dp, 3).takeTx().length, 2);
  assert.equal(dp.getStats().flows, 0);
});

test("the minimal fallback executor can stand in for execute.ts", async () => {
  const { setActionExecutor } = await import("../../src/datapath/dpif-netdev.js");
  const { executeActionsFallback } = await import("../../src/datapath/exec-fallback.js");
  const { executeActions } = await import("../../src/datapath/execute.js");
  setActionExecutor(executeActionsFallback);
  try {
    const dp = threePorts();
    dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: concat(actOutput(2), actOutput(3)), create: true, modify: false });
    dummy(dp, 1).receive(udpFrame());
    dp.run();
    assert.equal(dummy(dp, 2).takeTx().length, 1);
    assert.equal(dummy(dp, 3).takeTx().length, 1);
  } finally {
    setActionExecutor(executeActions);
  }
});

test("run() from inside an upcall handler is refused, not re-entered", () => {
  const dp = threePorts();
  let inner = -1;
  dp.registerUpcallHandler({
    upcall() {
      inner = dp.run();
      return { error: 0, actions: actOutput(2), mask: null };
    },
  });
  dummy(dp, 1).receive(udpFrame());
  dummy(dp, 1).receive(udpFrame({ src: 9 }));
  dp.run();
  assert.equal(inner, 0);
  assert.equal(dummy(dp, 2).takeTx().length, 2);
});

test("differential: port numbers and types match real OVS's dummy datapath", { skip: ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-vswitchd", "ovs-appctl") }, async () => {
  const dir = tempDir("ovs-dp-");
  const db = await startRealOvsdb(dir);
  let vswitchdPid = 0;
  try {
    assert.equal(run("ovs-vsctl", ["--no-wait", "init"], dir).status, 0);
    const r = run("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--no-chdir", "--pidfile", "--log-file"], dir);
    assert.equal(r.status, 0, r.stderr);
    vswitchdPid = Number(fs.readFileSync(path.join(dir, "ovs-vswitchd.pid"), "utf8").trim());
    const names = ["p1", "p7", "eth", "br3", "q12"];
    const add = ["add-br", "br0"];
    for (const n of names) add.push("--", "add-port", "br0", n);
    assert.equal(run("ovs-vsctl", add, dir).status, 0);
    const show = run("ovs-appctl", ["dpctl/show"], dir);
    assert.equal(show.status, 0, show.stderr);
    const real = show.stdout.split("\n").filter((l) => /^\s+port \d+:/.test(l)).map((l) => l.trim());

    // The bridge adds the local port, then the ports in name order.
    netdevSetDummyOverride(true);
    const dp = new DpifNetdev("ovs-system", "system");
    for (const n of ["br0", ...names].sort()) assert.equal(dp.portAdd({ name: n, type: n === "br0" ? "internal" : "system" }).error, 0);
    netdevSetDummyOverride(false);
    const ours = dp.portDump().map((p) => `port ${p.portNo}: ${p.name}${p.type === "system" ? "" : ` (${p.type})`}`);
    assert.deepEqual(ours, real);
  } finally {
    if (vswitchdPid > 0) {
      try {
        process.kill(vswitchdPid, "SIGTERM");
      } catch {
        /* gone */
      }
    }
    await db.stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("EMC: packets with tunnel metadata bypass it and still hit their megaflow", async () => {
  const { DpPacketBatch } = await import("../../src/packet/dp-packet.js");
  const { TUN_IDX_DST } = await import("../../src/flow/key-layout.js");
  const dp = threePorts();
  dp.setConfig({ emcInsertInvProb: 1 });
  dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: actOutput(2), create: true, modify: false });
  const b = new DpPacketBatch();
  for (let round = 0; round < 3; round++) {
    const p = dp.pool.alloc()!;
    p.setData(udpFrame());
    p.tun[TUN_IDX_DST] = 0xc0a80001;
    b.add(p);
    dp.processRx(b, 1, 1);
  }
  const s = dp.getStats();
  assert.equal(s.emcHits, 0);
  assert.equal(s.megaflowHits, 3);
  assert.equal(dummy(dp, 2).takeTx().length, 3);
});

test("SMC: off by default; when enabled serves megaflow hits, verified against the flow", () => {
  const dp = threePorts();
  assert.equal(dp.config.smcEnable, false);
  dp.setConfig({ emcInsertInvProb: 0, smcEnable: true });
  const key = keyOf(udpFrame(), 1);
  dp.flowPut({ key, mask: maskOf("ip"), actions: actOutput(2), create: true, modify: false });
  dp.flowPut({ key: keyOf(udpFrame({ sport: 99 }), 1), mask: maskOf("ports"), actions: actOutput(3), create: true, modify: false });
  for (let r = 0; r < 3; r++) {
    dummy(dp, 1).receive(udpFrame());
    dp.run();
  }
  let s = dp.getStats();
  assert.equal(s.megaflowHits, 1);
  assert.equal(s.smcHits, 2);
  assert.equal(s.emcHits, 0);
  // After the flow dies its SMC entry must not answer.
  assert.equal(dp.flowDel({ key }).error, 0);
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  s = dp.getStats();
  assert.equal(s.smcHits, 2);
  assert.equal(s.missed, 1);
  assert.equal(dummy(dp, 2).takeTx().length, 3);
});

test("portSetConfig: tx_pcap on a live port captures what it sends", () => {
  const dir = tempDir("dp-pcap-");
  try {
    const dp = threePorts();
    const file = path.join(dir, "p2.pcap");
    assert.equal(dp.portSetConfig(2, { tx_pcap: file }).error, 0);
    assert.equal(dp.portSetConfig(9, {}).error, Errno.ENOENT);
    const bad = dp.portSetConfig(3, { source_pcap: path.join(dir, "nope.pcap") });
    assert.equal(bad.error, Errno.EINVAL);
    assert.match(bad.message!, /nope\.pcap/);
    dp.execute({ packet: udpFrame(), actions: actOutput(2) });
    dp.portSetConfig(2, {}); // closes the capture
    const bytes = fs.readFileSync(file);
    assert.equal(bytes.length, 24 + 16 + udpFrame().length);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("diagnostics channels report upcalls and flow installs", async () => {
  const diagnostics = await import("node:diagnostics_channel");
  const events: string[] = [];
  const onUp = (m: unknown) => events.push(`upcall:${(m as { upcall: DpifUpcall }).upcall.inPort}`);
  const onFlow = (m: unknown) => events.push(`flow:${(m as { event: string }).event}`);
  diagnostics.subscribe("tsovs:dpif-netdev:upcall", onUp);
  diagnostics.subscribe("tsovs:dpif-netdev:flow", onFlow);
  try {
    const dp = threePorts();
    dp.registerUpcallHandler({ upcall: () => ({ error: 0, actions: actOutput(2), mask: maskOf() }) });
    dummy(dp, 1).receive(udpFrame());
    dp.run();
    dp.flowFlush();
    assert.deepEqual(events, ["upcall:1", "flow:add", "flow:del"]);
  } finally {
    diagnostics.unsubscribe("tsovs:dpif-netdev:upcall", onUp);
    diagnostics.unsubscribe("tsovs:dpif-netdev:flow", onFlow);
  }
});

test("flowDumpPage walks a big table in pages", () => {
  const dp = threePorts();
  for (let i = 0; i < 250; i++) {
    assert.equal(dp.flowPut({ key: keyOf(udpFrame({ src: i }), 1), mask: maskOf("ip"), actions: actOutput(2), create: true, modify: false }).error, 0);
  }
  for (let i = 0; i < 250; i += 5) dp.flowDel({ key: keyOf(udpFrame({ src: i }), 1) });
  const seen = new Set<number>();
  let cursor = 0;
  let pages = 0;
  while (cursor >= 0) {
    const page = dp.flowDumpPage(cursor, 64);
    for (const f of page.flows) seen.add(f.key[20]!);
    cursor = page.next;
    pages++;
  }
  assert.equal(seen.size, 200);
  assert.ok(pages >= 4);
});

test("PmdLoop forwards queued frames from the event loop and idles when quiet", async () => {
  const { PmdLoop } = await import("../../src/datapath/pmd.js");
  const dp = threePorts();
  dp.flowPut({ key: keyOf(udpFrame(), 1), mask: maskOf(), actions: actOutput(2), create: true, modify: false });
  const pmd = new PmdLoop(dp, { idleRounds: 4, idleMs: 1 });
  pmd.start();
  try {
    for (let i = 0; i < 100; i++) dummy(dp, 1).receive(udpFrame());
    pmd.kick();
    const deadline = Date.now() + 5000;
    while (dp.portStats(2).stats!.txPackets < 100 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(dp.portStats(2).stats!.txPackets, 100);
    // Later frames are picked up by the idle timer without a kick.
    await new Promise((r) => setTimeout(r, 20));
    dummy(dp, 1).receive(udpFrame());
    while (dp.portStats(2).stats!.txPackets < 101 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 5));
    assert.equal(dp.portStats(2).stats!.txPackets, 101);
  } finally {
    pmd.stop();
  }
});

test("a throwing upcall handler costs the packet, not the datapath", () => {
  const dp = threePorts();
  let calls = 0;
  dp.registerUpcallHandler({
    upcall(): DpifUpcallReply {
      calls++;
      if (calls === 1) throw new Error("bug in the layer above");
      return { error: 0, actions: actOutput(2), mask: null };
    },
  });
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  dummy(dp, 1).receive(udpFrame());
  dp.run();
  assert.equal(calls, 2);
  assert.equal(dp.getStats().lost, 1);
  assert.equal(dummy(dp, 2).takeTx().length, 1);
  assert.equal(dp.pool.available(), dp.pool.capacity);
});

test("dumps and gets return the key as installed, not the masked key", () => {
  const dp = threePorts();
  // flow_put: bits outside the mask (nw_src /16 of 10.1.2.3) come back as given.
  const key = keyOf(udpFrame({ src: 0x0a010203 }), 1);
  const mask = maskOf();
  mask[W_NW_SRC] = 0xffff0000;
  assert.equal(dp.flowPut({ key, mask, actions: actOutput(2), create: true, modify: false }).error, 0);
  const [f] = dp.flowDump();
  assert.equal(f!.key[W_NW_SRC], 0x0a010203);
  assert.equal(f!.mask[W_NW_SRC], 0xffff0000);
  assert.deepEqual(f!.key.subarray(0, FLOW_DP_U32S), key.subarray(0, FLOW_DP_U32S));
  assert.deepEqual(dp.flowGet({ ufid: f!.ufid }).flow!.key, f!.key);
  // An upcall-installed flow keeps the upcalled packet's whole key.
  dp.registerUpcallHandler({ upcall: () => ({ error: 0, actions: actOutput(3), mask: maskOf() }) });
  dummy(dp, 2).receive(udpFrame({ sport: 4242 }));
  dp.run();
  const up = dp.flowDump().find((x) => x.key[W_IN_PORT] === 2)!;
  assert.deepEqual(up.key.subarray(0, FLOW_DP_U32S), keyOf(udpFrame({ sport: 4242 }), 2).subarray(0, FLOW_DP_U32S));
});

test("installed keys survive the residual store's compaction under churn", () => {
  const dp = threePorts();
  const live = new Map<number, Uint32Array>();
  for (let i = 0; i < 3000; i++) {
    const key = keyOf(udpFrame({ sport: i & 0xffff, src: (0x0a000000 + i) >>> 0 }), 1);
    const mask = maskOf("ports");
    assert.equal(dp.flowPut({ key, mask, actions: actOutput(2), create: true, modify: false }).error, 0);
    live.set(i, key);
    if (i % 3 !== 0) {
      // delete an older one
      const j = i - 1;
      if (live.has(j)) {
        assert.equal(dp.flowDel({ key: live.get(j)! }).error, 0);
        live.delete(j);
      }
    }
  }
  const dump = dp.flowDump();
  assert.equal(dump.length, live.size);
  const want = new Set([...live.values()].map((k) => Array.from(k.subarray(0, FLOW_DP_U32S)).join(",")));
  for (const f of dump) assert.ok(want.has(Array.from(f.key.subarray(0, FLOW_DP_U32S)).join(",")));
});

test("a batch executes flow by flow in order of first appearance (OVS's grouping), runs or not", () => {
  const dp = threePorts();
  const fa = udpFrame({ sport: 1 });
  const fb = udpFrame({ sport: 2 });
  const fa2 = udpFrame({ sport: 1, payload: 30 });
  for (const f of [fa, fb]) {
    assert.equal(dp.flowPut({ key: keyOf(f, 1), mask: maskOf("ports"), actions: actOutput(3), create: true, modify: false }).error, 0);
  }
  // Split flow (A B A): grouped, so A's packets leave before B's.
  for (const f of [fa, fb, fa2]) dummy(dp, 1).receive(f);
  dp.run();
  assert.deepEqual(dummy(dp, 3).takeTx(), [fa, fa2, fb]);
  // Contiguous runs (A A B, then B A): arrival order.
  for (const f of [fa, fa2, fb]) dummy(dp, 1).receive(f);
  dp.run();
  for (const f of [fb, fa]) dummy(dp, 1).receive(f);
  dp.run();
  assert.deepEqual(dummy(dp, 3).takeTx(), [fa, fa2, fb, fb, fa]);
  const stats = dp.flowDump().map((f) => [f.key[W_TP_SRC]! >>> 16, f.stats.packets, f.stats.bytes]).sort();
  assert.deepEqual(stats, [[1, 5, 2 * fa.length + 2 * fa2.length + fa.length], [2, 3, 3 * fb.length]].sort());
});
