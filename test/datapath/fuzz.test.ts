/**
 * Bad input through the whole datapath: random and mutated frames go
 * through extraction, EMC, dpcls, upcalls (installing, executing only,
 * failing), recirculation and execution. Nothing may throw, and every
 * frame must be accounted for: transmitted, or counted as dropped.
 *
 * FUZZ_FRAMES sets the number of frames (default 1,000,000).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpifNetdev } from "../../src/datapath/dpif-netdev.js";
import { Errno, type DpifUpcall, type DpifUpcallReply } from "../../src/datapath/dpif-provider.js";
import { FLOW_U32S, W_DL_TYPE, W_IN_PORT, W_NW_PROTO, W_RECIRC_ID, W_NW_SRC, W_TP_SRC } from "../../src/flow/key-layout.js";
import type { DummyNetdev } from "../../src/netdev/netdev-dummy.js";
import { actOutput, actRecirc, actUserspace, concat, udpFrame } from "../util/datapath.js";

const FRAMES = Number(process.env["FUZZ_FRAMES"] ?? 1_000_000);

/** xorshift32: deterministic across runs. */
function rng(seed: number): () => number {
  let x = seed | 0 || 1;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return x >>> 0;
  };
}

function hex(s: string): Uint8Array {
  return Uint8Array.from(s.replace(/\s+/g, "").match(/../g)!.map((b) => Number.parseInt(b, 16)));
}

const ETH = "505400000002505400000001";
/** Seed frames covering the parser's branches. */
const SEEDS: Uint8Array[] = [
  udpFrame(),
  udpFrame({ vlan: 0x0064 }),
  // IPv4/TCP SYN
  hex(ETH + "0800 4500002800010000 40060000 0a000001 0a000002 04d20050 00000001 00000000 50022000 00000000"),
  // IPv4 fragment (later fragment, MF clear, offset 8)
  hex(ETH + "0800 4500001c00010001 40110000 0a000001 0a000002 0000000000000000"),
  // IPv6/UDP with a hop-by-hop header
  hex(ETH + "86dd 6000000000100040 fe800000000000000000000000000001 fe800000000000000000000000000002 1100000000000000 04d2162e00080000"),
  // ICMPv6 neighbor solicitation with SLL option
  hex(ETH + "86dd 6000000000203aff fe800000000000000000000000000001 ff0200000000000000000001ff000002 8700000000000000 fe800000000000000000000000000002 0101505400000001"),
  // ARP request
  hex(ETH + "0806 0001080006040001 505400000001 0a000001 000000000000 0a000002"),
  // MPLS, 2 labels
  hex(ETH + "8847 00001100 00002140 45000014000000004001000000000000"),
  // 802.2 LLC/SNAP
  hex(ETH + "0020 aaaa03000000 0800 4500"),
  // QinQ
  hex(ETH + "88a8 0064 8100 00c8 0800 45000014000000004011000001020304 05060708"),
];

test(`fuzz: ${FRAMES} random and mutated frames are forwarded, upcalled or counted as dropped`, { timeout: 600_000 }, () => {
  const dp = new DpifNetdev("fz0", "netdev", { poolSize: 1024 });
  for (const name of ["p1", "p2", "p3"]) dp.portAdd({ name, type: "dummy" });
  const rx = dp.portNetdev(1) as DummyNetdev;
  const tx2 = dp.portNetdev(2) as DummyNetdev;
  const tx3 = dp.portNetdev(3) as DummyNetdev;
  tx2.captureTx = false;
  tx3.captureTx = false;
  dp.setConfig({ emcInsertInvProb: 10, flowLimit: 5000, smcEnable: true });

  const wide = new Uint32Array(FLOW_U32S);
  wide[W_IN_PORT] = 0xffffffff;
  wide[W_RECIRC_ID] = 0xffffffff;
  wide[W_DL_TYPE] = 0xffff0000;
  wide[W_NW_PROTO] = 0xff000000;
  const narrow = wide.slice();
  narrow[W_NW_SRC] = 0xffffffff;
  narrow[W_TP_SRC] = 0xffff0000;

  let upcalls = 0;
  const replies: DpifUpcallReply[] = [
    { error: 0, actions: actOutput(2), mask: wide },
    { error: 0, actions: actOutput(3), mask: narrow },
    { error: 0, actions: new Uint8Array(0), mask: narrow }, // drop flow
    { error: 0, actions: actOutput(2), mask: null }, // execute only
    { error: Errno.EINVAL, actions: new Uint8Array(0), mask: null }, // handler failure
    { error: 0, actions: concat(actUserspace(Uint8Array.of(9, 9)), actOutput(3)), mask: narrow },
    { error: 0, actions: actRecirc(1), mask: wide },
    { error: 0, actions: actOutput(99), mask: narrow }, // no such port
  ];
  const recircReply: DpifUpcallReply = { error: 0, actions: actOutput(3), mask: wide };
  const noActions: DpifUpcallReply = { error: 0, actions: new Uint8Array(0), mask: null };
  dp.registerUpcallHandler({
    upcall(up: DpifUpcall): DpifUpcallReply {
      upcalls++;
      if (up.type !== 0) return noActions;
      if (up.key[W_RECIRC_ID] !== 0) return recircReply;
      const h = (up.key[W_DL_TYPE]! ^ up.key[W_NW_PROTO]! ^ up.key[W_NW_SRC]! ^ up.key[W_TP_SRC]! ^ up.packet.length) >>> 0;
      return replies[h % replies.length]!;
    },
  });

  const next = rng(0x5eed);
  const buf = new Uint8Array(256);
  let sent = 0;
  while (sent < FRAMES) {
    for (let k = 0; k < 32 && sent < FRAMES; k++, sent++) {
      const r = next();
      let len: number;
      if ((r & 7) === 0) {
        // Entirely random bytes.
        len = next() % 200;
        for (let i = 0; i < len; i++) buf[i] = next() & 0xff;
      } else {
        const seed = SEEDS[r % SEEDS.length]!;
        buf.set(seed);
        len = seed.length;
        const flips = next() & 3;
        for (let f = 0; f < flips; f++) buf[next() % len] = next() & 0xff;
        const cut = next() & 15;
        if (cut === 0) len = next() % (len + 1);
        else if (cut === 1) {
          const extra = next() % 40;
          for (let i = 0; i < extra; i++) buf[len + i] = next() & 0xff;
          len += extra;
        }
      }
      rx.receive(buf.subarray(0, len));
    }
    dp.run();
  }
  while (rx.pendingRx() > 0) dp.run();

  const s1 = dp.portStats(1).stats!;
  const s2 = dp.portStats(2).stats!;
  const s3 = dp.portStats(3).stats!;
  const st = dp.getStats();
  assert.equal(s1.rxPackets, FRAMES, "every frame received");
  assert.equal(s1.rxDropped, 0);
  assert.equal(s2.txPackets + s3.txPackets + st.dropped, FRAMES, "forwarded + dropped = received");
  assert.ok(st.missed > 100 && upcalls >= st.missed, `upcalls happened (${st.missed})`);
  assert.ok(st.hits > FRAMES / 2, `most frames hit installed flows (${st.hits})`);
  assert.ok(st.emcHits > 0, "the EMC served some");
  assert.ok(st.smcHits > 0, "the SMC served some");
  assert.ok(st.lost > 0, "handler failures counted as lost");
  assert.ok(st.flows <= 5000, "flow limit respected");
  assert.equal(dp.pool.available(), dp.pool.capacity, "no packet buffer leaked");
});
