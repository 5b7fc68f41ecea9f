/**
 * Benchmark of the kernel-backed netdevs through a veth pair (root only):
 * 64-byte frames
 * - tx: txBatch (sendmmsg, 32 a call) on one end, packets/s accepted;
 * - rx: frames sent on one end fill the other's TPACKET ring, then the
 *   time to drain it is measured: the receive path's own rate;
 * - stream: a child process transmits on one end while this process
 *   receives on the other: packets/s received and frames lost;
 * - loop: one process transmits a batch on one end and drains the other;
 * - the cost of an empty poll of a system port (ring word read) and of an
 *   internal port (one failed read(); with the rx gate on, a flag test).
 * Rates are wall-clock over `seconds` per phase. Last line: one JSON object.
 *
 * usage: npm run bench -- netdev-linux [seconds]
 */
import { spawn } from "node:child_process";
import { DpPacketBatch, DpPacketPool } from "../src/packet/dp-packet.js";
import { LinuxNetdev } from "../src/netdev/netdev-linux.js";
import { TapNetdev } from "../src/netdev/netdev-tap.js";
import { createVeth, deleteLink, linuxNetSkip, testFrame } from "../test/util/linux-net.js";

const FRAME = testFrame(1, 64, "02:00:00:00:00:02");

function open(name: string): LinuxNetdev {
  const nd = LinuxNetdev.open(name);
  if (typeof nd === "string") throw new Error(nd);
  return nd;
}

/** Fills `batch` with 32 copies of the test frame. */
function fill(batch: DpPacketBatch, pool: DpPacketPool): void {
  while (batch.count < 32) {
    const p = pool.alloc();
    if (p === null) break;
    // Word copy of the 64-byte frame into the default headroom.
    p.buf.set(FRAME, 128);
    p.start = 128;
    p.len = 64;
    batch.packets[batch.count++] = p;
  }
}

function txLoop(nd: LinuxNetdev, seconds: number): number {
  const pool = new DpPacketPool(64, 2048);
  const batch = new DpPacketBatch();
  const end = performance.now() + seconds * 1000;
  let batches = 0;
  while (performance.now() < end) {
    for (let k = 0; k < 16; k++) {
      fill(batch, pool);
      nd.txBatch(batch);
    }
    batches += 16;
  }
  const s = { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
  nd.getSocketStats(s);
  return s.txPackets;
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args[0] === "--send") {
    const nd = open(args[1]!);
    const sent = txLoop(nd, Number(args[2]));
    nd.close();
    console.log(JSON.stringify({ sent }));
    return;
  }
  const seconds = Number(args[0] ?? 1.5);
  const skip = linuxNetSkip();
  if (skip !== false) {
    console.log(`netdev-linux: skipped (${skip})`);
    console.log(JSON.stringify({ bench: "netdev-linux", skipped: skip }));
    return;
  }
  const a = `bnl${process.pid % 10000}a`;
  const b = `bnl${process.pid % 10000}b`;
  const t = `bnl${process.pid % 10000}t`;
  createVeth(a, b);
  try {
    // tx
    const ta = open(a);
    const t0 = performance.now();
    const txSent = txLoop(ta, seconds);
    const txMpps = txSent / ((performance.now() - t0) * 1000);
    ta.close();

    // rx: a child process sends on a, we receive on b.
    const rb = open(b);
    const pool = new DpPacketPool(256, 2048);
    const batch = new DpPacketBatch();
    const child = spawn(process.execPath, [process.argv[1]!, "--send", a, String(seconds)], { stdio: ["ignore", "pipe", "inherit"] });
    let childOut = "";
    child.stdout.on("data", (d: Buffer) => (childOut += d.toString()));
    let done = false;
    child.on("exit", () => (done = true));
    let received = 0;
    let first = 0;
    let last = 0;
    let emptyPolls = 0;
    while (!done) {
      // Poll in bursts, yielding to the event loop now and then for the exit event.
      for (let k = 0; k < 4096; k++) {
        const n = rb.rxBatch(batch, pool);
        if (n === 0) {
          emptyPolls++;
          continue;
        }
        if (received === 0) first = performance.now();
        received += n;
        last = performance.now();
        batch.releaseAll();
      }
      await new Promise((r) => setImmediate(r));
    }
    const sentByChild = (JSON.parse(childOut.trim().split("\n").pop() ?? "{}") as { sent?: number }).sent ?? 0;
    const rxMpps = received / Math.max(1, (last - first) * 1000);
    const rxStats = { rxPackets: 0, rxBytes: 0, rxDropped: 0, rxErrors: 0, txPackets: 0, txBytes: 0, txDropped: 0, txErrors: 0 };
    rb.getSocketStats(rxStats);

    // Empty poll cost on the idle system port.
    const EMPTY = 2_000_000;
    let e0 = performance.now();
    for (let i = 0; i < EMPTY; i++) rb.rxBatch(batch, pool);
    const emptySystemNs = ((performance.now() - e0) * 1e6) / EMPTY;

    // rx alone: fill b's ring from a (kernel work, not timed), then time
    // draining it (CPU time: the machine may be shared): the receive
    // path's own cost per frame.
    const fa = open(a);
    const fpool = new DpPacketPool(64, 2048);
    const fbatch = new DpPacketBatch();
    let drained = 0;
    let drainMs = 0;
    const rEnd = performance.now() + seconds * 1000;
    while (performance.now() < rEnd) {
      for (let k = 0; k < 100; k++) {
        fill(fbatch, fpool);
        fa.txBatch(fbatch);
      }
      const d0 = process.cpuUsage();
      let n;
      while ((n = rb.rxBatch(batch, pool)) > 0) {
        drained += n;
        batch.releaseAll();
      }
      const d = process.cpuUsage(d0);
      drainMs += (d.user + d.system) / 1000;
    }
    fa.close();
    const rxDrainMpps = drained / (drainMs * 1000);

    // loop: tx on a, drain b, in one process.
    const la = open(a);
    const tpool = new DpPacketPool(64, 2048);
    const tbatch = new DpPacketBatch();
    let looped = 0;
    const l0 = performance.now();
    const lend = l0 + seconds * 1000;
    while (performance.now() < lend) {
      for (let k = 0; k < 16; k++) {
        fill(tbatch, tpool);
        la.txBatch(tbatch);
        let n;
        while ((n = rb.rxBatch(batch, pool)) > 0) {
          looped += n;
          batch.releaseAll();
        }
      }
    }
    const loopMpps = looped / ((performance.now() - l0) * 1000);
    la.close();
    rb.close();

    // Empty poll cost on an idle internal (TAP) port.
    deleteLink(t);
    const tap = TapNetdev.open(t, "internal");
    if (typeof tap === "string") throw new Error(tap);
    const TAPN = 200_000;
    e0 = performance.now();
    for (let i = 0; i < TAPN; i++) tap.rxBatch(batch, pool);
    const emptyTapNs = ((performance.now() - e0) * 1e6) / TAPN;
    tap.setRxGate(true);
    e0 = performance.now();
    for (let i = 0; i < EMPTY; i++) tap.rxBatch(batch, pool);
    const emptyTapGatedNs = ((performance.now() - e0) * 1e6) / EMPTY;
    tap.close();

    console.log(`tx (sendmmsg, 64 B): ${txMpps.toFixed(3)} Mpps`);
    console.log(`rx (TPACKET_V2 ring, 64 B, draining a filled ring): ${rxDrainMpps.toFixed(3)} Mpps (${drained} frames)`);
    console.log(`stream (a child process sends, we receive): ${rxMpps.toFixed(3)} Mpps; ${received} of ${sentByChild} sent received (ring full: ${rxStats.rxDropped} dropped), ${emptyPolls} empty polls`);
    console.log(`loop (tx a, drain b, one process): ${loopMpps.toFixed(3)} Mpps`);
    console.log(`empty poll: system ${emptySystemNs.toFixed(1)} ns, internal (TAP read) ${emptyTapNs.toFixed(1)} ns, internal with rx gate ${emptyTapGatedNs.toFixed(1)} ns`);
    console.log(JSON.stringify({
      bench: "netdev-linux", frame_bytes: 64, seconds,
      tx_mpps: +txMpps.toFixed(3), rx_mpps: +rxDrainMpps.toFixed(3),
      stream_mpps: +rxMpps.toFixed(3), stream_received: received, stream_sent_by_peer: sentByChild, stream_ring_drops: rxStats.rxDropped,
      loop_mpps: +loopMpps.toFixed(3), empty_poll_system_ns: +emptySystemNs.toFixed(1), empty_poll_tap_ns: +emptyTapNs.toFixed(1),
      empty_poll_tap_gated_ns: +emptyTapGatedNs.toFixed(1),
    }));
  } finally {
    deleteLink(a);
    deleteLink(t);
  }
}

await main();
