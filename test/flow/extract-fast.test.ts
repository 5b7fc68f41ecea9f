/**
 * The datapath's IPv4 fast extraction (extractFlowKeyTracked after a plain
 * IPv4 packet) against the generic extractFlowKey, on mutated frames: the
 * key and the cached offsets must be the same for every frame, whichever
 * path took it.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractFlowKey, extractFlowKeyTracked, FLOW_U32S, KEY_COLD_ALL, KEY_HOT_IP4, newFlowKey } from "../../src/flow/index.js";
import { DpPacket, DP_PACKET_HEADROOM } from "../../src/packet/index.js";
import { eth, ipv4, tcp, udp, ETH_TYPE_IP } from "../util/packets.js";
import { validFrames } from "./corpus.js";
import { mutateInto, Rng } from "./mutate.js";

const FRAMES = Number(process.env["TSOVS_FUZZ_FRAMES"] ?? 200_000);

test(`IPv4 fast extraction equals the generic one on ${FRAMES} mutated frames`, () => {
  const primer = eth({}, ETH_TYPE_IP, ipv4({}, udp(7, 8)));
  const corpus = [...validFrames().map((f) => f.bytes), primer, eth({}, ETH_TYPE_IP, ipv4({ proto: 6 }, tcp({ srcPort: 1, dstPort: 2 })))];
  const pkt = new DpPacket(4096);
  const pp = new DpPacket(4096);
  const key = newFlowKey();
  const fresh = newFlowKey();
  const rng = new Rng(0x5eed1234);
  const scratch = new Uint8Array(4096);
  let fast = 0;
  for (let i = 0; i < FRAMES; i++) {
    // Prime the key with a plain IPv4 packet (so the next one may take the fast path).
    pp.setData(primer);
    pp.inPort = 3;
    let dirty = extractFlowKeyTracked(pp, key, KEY_COLD_ALL);
    assert.equal(dirty, KEY_HOT_IP4);
    const n = mutateInto(corpus[rng.below(corpus.length)]!, scratch, rng);
    pkt.reset();
    pkt.buf.set(scratch.subarray(0, n), DP_PACKET_HEADROOM);
    pkt.len = n;
    pkt.inPort = i & 7;
    pkt.ctZone = i & 0x1ff;
    pkt.ctMark = i;
    dirty = extractFlowKeyTracked(pkt, key, dirty);
    const l2_5 = pkt.l2_5Ofs;
    const l3 = pkt.l3Ofs;
    const l4 = pkt.l4Ofs;
    const pad = pkt.l2PadSize;
    if (dirty === KEY_HOT_IP4) fast++;
    extractFlowKey(pkt, fresh);
    for (let w = 0; w < FLOW_U32S; w++) {
      if (key[w] !== fresh[w]) assert.fail(`frame ${i} word ${w}: ${key[w]} vs ${fresh[w]} (${Buffer.from(scratch.subarray(0, n)).toString("hex")})`);
    }
    assert.deepEqual([l2_5, l3, l4, pad], [pkt.l2_5Ofs, pkt.l3Ofs, pkt.l4Ofs, pkt.l2PadSize], `frame ${i} offsets`);
  }
  assert.ok(fast > FRAMES / 10, `only ${fast} frames were plain IPv4`);
});
