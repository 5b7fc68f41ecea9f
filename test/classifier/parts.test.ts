import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { FLOW_U32S, W_IPV6_SRC, W_NW_DST } from "../../src/flow/index.js";
import { PrefixTrie, prefixLength, unwildcardPrefix } from "../../src/classifier/index.js";
import { HashIndex } from "../../src/classifier/hash-index.js";

/** Bit i (0 = most significant) of a field starting at word w. */
function bitOf(k: Uint32Array, w: number, i: number): number {
  return (k[w + (i >>> 5)]! >>> (31 - (i & 31))) & 1;
}
function samePrefix(a: Uint32Array, b: Uint32Array, w: number, n: number): boolean {
  for (let i = 0; i < n; i++) if (bitOf(a, w, i) !== bitOf(b, w, i)) return false;
  return true;
}

for (const [name, word, bits] of [["nw_dst", W_NW_DST, 32], ["ipv6_src", W_IPV6_SRC, 128]] as const) {
  test(`prefix trie over ${name}: marks exactly the matching lengths, with sound check bits (property)`, () => {
    const nWords = bits / 32;
    // Addresses near each other so prefixes share long starts and nodes split.
    const addr = fc.array(fc.constantFrom(0x0a000000, 0x0a000001, 0x0a0000ff, 0x0a800000, 0xc0a80000, 0xffffffff, 0), { minLength: nWords, maxLength: nWords }).chain((ws) =>
      fc.integer({ min: 0, max: 0xff }).map((low) => {
        const k = new Uint32Array(FLOW_U32S);
        ws.forEach((v, i) => (k[word + i] = v));
        k[word + nWords - 1] = (k[word + nWords - 1]! ^ low) >>> 0;
        return k;
      }),
    );
    const op = fc.tuple(fc.boolean(), addr, fc.integer({ min: 1, max: bits }));
    fc.assert(
      fc.property(fc.array(op, { maxLength: 40, size: "max" }), fc.array(addr, { minLength: 1, maxLength: 8 }), (ops, probes) => {
        const trie = new PrefixTrie(name, word, bits);
        const stored: [Uint32Array, number][] = [];
        for (const [add, k, plen] of ops) {
          if (add || stored.length === 0) {
            trie.insert(k, plen);
            stored.push([k, plen]);
          } else {
            const [k2, p2] = stored.pop()!;
            assert.equal(trie.remove(k2, p2), true);
          }
        }
        assert.equal(trie.size, stored.length);
        const marks = new Int32Array(bits + 1).fill(-1);
        let stamp = 0;
        for (const p of probes) {
          stamp++;
          const cb = trie.lookup(p, marks, stamp);
          for (let L = 1; L <= bits; L++) {
            const want = stored.some(([k, pl]) => pl === L && samePrefix(k, p, word, L));
            assert.equal(marks[L] === stamp, want, `plen ${L}`);
          }
          // Any address agreeing on the first cb bits marks the same lengths.
          for (const q of probes) {
            if (!samePrefix(p, q, word, cb)) continue;
            const m2 = new Int32Array(bits + 1).fill(-1);
            trie.lookup(q, m2, 1);
            for (let L = 1; L <= bits; L++) assert.equal(m2[L] === 1, marks[L] === stamp, `check bits ${cb} unsound at plen ${L}`);
          }
        }
        for (const [k, pl] of stored) assert.equal(trie.remove(k, pl), true);
        assert.equal(trie.size, 0);
        assert.equal(trie.nodeCount, 0, "every node freed");
      }),
      { numRuns: 200 },
    );
  });
}

test("prefix trie: removing what is not there changes nothing", () => {
  const t = new PrefixTrie("nw_dst", W_NW_DST, 32);
  const k = new Uint32Array(FLOW_U32S);
  k[W_NW_DST] = 0x0a000000;
  t.insert(k, 8);
  assert.equal(t.remove(k, 16), false);
  k[W_NW_DST] = 0x0b000000;
  assert.equal(t.remove(k, 8), false);
  assert.equal(t.size, 1);
});

test("prefixLength and unwildcardPrefix", () => {
  const m = new Uint32Array(FLOW_U32S);
  assert.equal(prefixLength(m, W_NW_DST, 32), 0);
  m[W_NW_DST] = 0xffffff00;
  assert.equal(prefixLength(m, W_NW_DST, 32), 24);
  m[W_NW_DST] = 0xff00ff00;
  assert.equal(prefixLength(m, W_NW_DST, 32), -1);
  m[W_IPV6_SRC] = 0xffffffff;
  m[W_IPV6_SRC + 1] = 0xffff0000;
  assert.equal(prefixLength(m, W_IPV6_SRC, 128), 48);
  m[W_IPV6_SRC + 3] = 1;
  assert.equal(prefixLength(m, W_IPV6_SRC, 128), -1);
  const wc = new Uint32Array(FLOW_U32S);
  unwildcardPrefix(wc, W_IPV6_SRC, 40);
  assert.deepEqual([...wc.subarray(W_IPV6_SRC, W_IPV6_SRC + 4)], [0xffffffff, 0xff000000, 0, 0]);
});

test("hash index agrees with a Map under churn (property)", () => {
  const op = fc.tuple(fc.constantFrom("inc", "dec", "set", "del"), fc.integer({ min: 0, max: 40 }).map((x) => (x * 0x9e3779b1) >>> 0));
  fc.assert(
    fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
      const h = new HashIndex<string>();
      const counts = new Map<number, number>();
      const vals = new Map<number, string>();
      for (const [o, k] of ops) {
        if (o === "inc") {
          h.increment(k);
          counts.set(k, (counts.get(k) ?? 0) + 1);
        } else if (o === "dec") {
          h.decrement(k);
          const c = (counts.get(k) ?? 0) - 1;
          if (c <= 0) counts.delete(k);
          else counts.set(k, c);
          if (c <= 0) vals.delete(k);
        } else if (o === "set") {
          if (!counts.has(k)) counts.set(k, 1);
          h.set(k, `v${k}`);
          vals.set(k, `v${k}`);
        } else {
          h.set(k, null);
          counts.delete(k);
          vals.delete(k);
        }
        for (let x = 0; x <= 40; x++) {
          const key = (x * 0x9e3779b1) >>> 0;
          assert.equal(h.has(key), counts.has(key));
          assert.equal(h.get(key), vals.get(key) ?? null);
        }
      }
      assert.equal(h.size, counts.size);
    }),
    { numRuns: 100 },
  );
});
