/**
 * Fuzz test: a million random and mutated frames (truncation, bit flips,
 * corrupted length/type fields, random tails, pure noise) through
 * extraction. Nothing may throw, and the offsets extraction caches must
 * stay inside the frame. TSOVS_FUZZ_FRAMES raises the count for long runs.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { extractFlowKey, FLOW_U32S, newFlowKey } from "../../src/flow/index.js";
import { DpPacket, DP_PACKET_HEADROOM } from "../../src/packet/index.js";
import { malformedFrames, validFrames } from "./corpus.js";
import { mutateInto, Rng } from "./mutate.js";

const FRAMES = Number(process.env["TSOVS_FUZZ_FRAMES"] ?? 1_000_000);

test(`extraction survives ${FRAMES} random and mutated frames`, () => {
  const corpus = [...validFrames(), ...malformedFrames()].map((f) => f.bytes);
  const pkt = new DpPacket(4096);
  const key = newFlowKey();
  const rng = new Rng(0xdecafbad);
  const scratch = new Uint8Array(4096);
  let withL3 = 0;
  let withL4 = 0;
  for (let i = 0; i < FRAMES; i++) {
    let n: number;
    if ((i & 15) === 0) {
      // Pure noise, sometimes with a plausible ethertype.
      n = rng.below(200);
      for (let j = 0; j < n; j++) scratch[j] = rng.next() & 0xff;
      if (n >= 14 && (i & 16) !== 0) {
        const types = [0x08, 0x00, 0x86, 0xdd, 0x81, 0x00, 0x88, 0x47, 0x08, 0x06, 0x89, 0x4f];
        const k = rng.below(6) * 2;
        scratch[12] = types[k]!;
        scratch[13] = types[k + 1]!;
      }
    } else {
      n = mutateInto(corpus[rng.below(corpus.length)]!, scratch, rng);
    }
    pkt.reset();
    pkt.buf.set(scratch.subarray(0, n), DP_PACKET_HEADROOM);
    pkt.len = n;
    pkt.inPort = i & 7;
    extractFlowKey(pkt, key);
    if (pkt.l3Ofs >= 0) {
      withL3++;
      if (pkt.l3Ofs > n) assert.fail(`l3Ofs ${pkt.l3Ofs} beyond ${n} bytes`);
    }
    if (pkt.l4Ofs >= 0) {
      withL4++;
      if (pkt.l4Ofs > n || pkt.l4Ofs < pkt.l3Ofs) assert.fail(`l4Ofs ${pkt.l4Ofs} outside l3Ofs ${pkt.l3Ofs}..${n}`);
    }
    if (key.length !== FLOW_U32S || key[0] !== (i & 7)) assert.fail("key metadata lost");
  }
  // The mutations keep most frames parseable, so the fuzz reaches deep layers.
  assert.ok(withL3 > FRAMES / 2, `only ${withL3} frames reached L3`);
  assert.ok(withL4 > FRAMES / 4, `only ${withL4} frames reached L4`);
});
