import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FLOW_U32S,
  applyMask,
  compactKey,
  expandKey,
  flowKeyHash,
  keyEquals,
  maskedEquals,
  maskedHash,
  maskWords,
  newFlowKey,
  COMPACT_MAP_U32S,
} from "../../src/flow/index.js";

const sparseKey = fc
  .array(fc.tuple(fc.integer({ min: 0, max: FLOW_U32S - 1 }), fc.integer({ min: 0, max: 0xffffffff })), { maxLength: 40 })
  .map((pairs) => {
    const k = newFlowKey();
    for (const [i, v] of pairs) k[i] = v;
    return k;
  });

test("compactKey/expandKey round-trip and store only nonzero words", () => {
  fc.assert(
    fc.property(sparseKey, (k) => {
      const c = compactKey(k);
      let nz = 0;
      for (const v of k) if (v !== 0) nz++;
      assert.equal(c.length, COMPACT_MAP_U32S + nz);
      const back = expandKey(c, newFlowKey().fill(0xdeadbeef));
      assert.ok(keyEquals(back, k));
    }),
  );
});

test("keys equal under a mask hash equal with maskedHash; maskedEquals agrees", () => {
  fc.assert(
    fc.property(sparseKey, sparseKey, sparseKey, fc.integer(), (a, b, mask, basis) => {
      // Make b agree with a on the mask bits.
      for (let i = 0; i < FLOW_U32S; i++) b[i] = ((a[i]! & mask[i]!) | (b[i]! & ~mask[i]!)) >>> 0;
      const words = maskWords(mask);
      assert.equal(maskedHash(a, mask, words, basis), maskedHash(b, mask, words, basis));
      const masked = applyMask(a, mask, newFlowKey());
      assert.ok(maskedEquals(b, mask, masked, words));
      assert.equal(maskedHash(masked, mask, words, basis), maskedHash(a, mask, words, basis));
    }),
  );
});

test("hashes are deterministic, depend on basis and content, and are unsigned 32-bit", () => {
  const k = newFlowKey();
  k[3] = 7;
  const h = flowKeyHash(k, 0);
  assert.equal(flowKeyHash(k, 0), h);
  assert.ok(h >= 0 && h <= 0xffffffff && Number.isInteger(h));
  assert.notEqual(flowKeyHash(k, 1), h);
  const k2 = k.slice();
  k2[FLOW_U32S - 1] = 1;
  assert.notEqual(flowKeyHash(k2, 0), h);
  // Distribution sanity: 10000 single-word keys land in distinct-enough buckets.
  const buckets = new Uint32Array(256);
  for (let i = 0; i < 10000; i++) {
    k[20] = i;
    buckets[flowKeyHash(k, 0, 44) & 255]!++;
  }
  assert.ok(Math.max(...buckets) < 80, `max bucket ${Math.max(...buckets)}`);
});
