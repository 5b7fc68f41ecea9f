/**
 * dpcls against a linear-scan model, the EMC, and the extraction premise
 * the EMC's IPv4 fast compare relies on.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Dpcls } from "../../src/datapath/dpcls.js";
import { Emc, emcHash, EMC_ENTRIES } from "../../src/datapath/emc.js";
import { ActionStore } from "../../src/datapath/action-store.js";
import { FLOW_U32S, REGION_TUN_START, W_DL_TYPE } from "../../src/flow/key-layout.js";
import { keyOf, udpFrame } from "../util/datapath.js";

const W = 8; // a small key keeps the property test fast; dpcls is generic over the width

const MASKS: Uint32Array[] = [
  Uint32Array.of(0xffffffff, 0, 0, 0, 0, 0, 0, 0),
  Uint32Array.of(0xffffffff, 0xffff0000, 0, 0, 0, 0, 0, 0),
  Uint32Array.of(0xffffffff, 0xffffffff, 0xff, 0, 0, 0, 0, 0),
  Uint32Array.of(0, 0, 0, 0, 0xffffffff, 0, 0, 0xf0f0f0f0),
  Uint32Array.of(0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff),
];

function matches(key: Uint32Array, mkey: Uint32Array, mask: Uint32Array): boolean {
  for (let i = 0; i < W; i++) if (((key[i]! & mask[i]!) >>> 0) !== ((mkey[i]! & mask[i]!) >>> 0)) return false;
  return true;
}

// Values from a tiny alphabet so that keys collide and masks overlap often.
const word = fc.constantFrom(0, 1, 2, 0xffff0000, 0x80000001, 0xdeadbeef);
const keyArb = fc.array(word, { minLength: W, maxLength: W }).map((a) => Uint32Array.from(a));
const opArb = fc.oneof(
  fc.record({ op: fc.constant("add" as const), key: keyArb, mask: fc.integer({ min: 0, max: MASKS.length - 1 }) }),
  fc.record({ op: fc.constant("del" as const), pick: fc.nat() }),
  fc.record({ op: fc.constant("look" as const), key: keyArb }),
);

test("dpcls: lookups agree with a linear scan over installed megaflows", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 120 }), (ops) => {
      const cls = new Dpcls(W, 4);
      const live = new Map<number, { key: Uint32Array; mask: Uint32Array }>();
      let nextId = 0;
      const batch = new Uint32Array(32 * W);
      const out = new Int32Array(32);
      for (const o of ops) {
        if (o.op === "add") {
          const mask = MASKS[o.mask]!;
          // Skip exact duplicates (the datapath's put finds those first).
          if ([...live.values()].some((f) => f.mask === mask && matches(o.key, f.key, mask))) continue;
          cls.insert(nextId, o.key, 0, mask);
          live.set(nextId++, { key: o.key, mask });
        } else if (o.op === "del") {
          const ids = [...live.keys()];
          if (ids.length === 0) continue;
          const id = ids[o.pick % ids.length]!;
          cls.remove(id);
          live.delete(id);
        } else {
          const expect = [...live.entries()].filter(([, f]) => matches(o.key, f.key, f.mask)).map(([id]) => id);
          const got = cls.lookupOne(o.key, 0);
          if (expect.length === 0) assert.equal(got, -1);
          else assert.ok(expect.includes(got), `lookup returned ${got}, expected one of ${expect}`);
          // Batch lookup, key in slot 7.
          batch.fill(0);
          batch.set(o.key, 7 * W);
          out.fill(-1);
          const missed = cls.lookupBatch(batch, W, 1 << 7, out);
          if (expect.length === 0) assert.equal(missed, 1 << 7);
          else {
            assert.equal(missed, 0);
            assert.ok(expect.includes(out[7]!));
          }
        }
      }
      assert.equal(cls.subtableCount, new Set([...live.values()].map((f) => f.mask)).size);
      for (const [id, f] of live) {
        const k = new Uint32Array(W);
        assert.ok(cls.keyOf(id, k));
        for (let i = 0; i < W; i++) assert.equal(k[i], (f.key[i]! & f.mask[i]!) >>> 0);
      }
    }),
    { numRuns: 300 },
  );
});

test("dpcls: subtables are re-ranked by hits", () => {
  const cls = new Dpcls(W);
  const a = Uint32Array.of(1, 0, 0, 0, 0, 0, 0, 0);
  const b = Uint32Array.of(2, 5, 0, 0, 0, 0, 0, 0);
  cls.insert(0, a, 0, MASKS[0]!);
  cls.insert(1, b, 0, MASKS[1]!);
  assert.deepEqual(cls.ranked[0]!.mask, MASKS[0]);
  const keys = new Uint32Array(32 * W);
  for (let i = 0; i < 32; i++) keys.set(b, i * W);
  const out = new Int32Array(32);
  for (let r = 0; r < 100; r++) cls.lookupBatch(keys, W, -1, out);
  cls.rerank();
  assert.deepEqual(cls.ranked[0]!.mask, MASKS[1], "the subtable with the hits comes first");
  assert.equal(cls.lookupOne(b, 0), 1);
  assert.equal(cls.lookupOne(a, 0), 0);
});

test("dpcls: many flows in one subtable survive growth and mass deletion", () => {
  const cls = new Dpcls(W, 4);
  const k = new Uint32Array(W);
  for (let i = 0; i < 20000; i++) {
    k[0] = i;
    k[1] = i * 7;
    cls.insert(i, k, 0, MASKS[2]!);
  }
  for (let i = 0; i < 20000; i += 2) cls.remove(i);
  for (let i = 0; i < 20000; i++) {
    k[0] = i;
    k[1] = i * 7;
    assert.equal(cls.lookupOne(k, 0), i % 2 === 0 ? -1 : i);
  }
});

test("EMC: 8192 entries, two ways, dead flows never returned", () => {
  assert.equal(EMC_ENTRIES, 8192);
  const emc = new Emc(REGION_TUN_START);
  emc.setInsertInvProb(1);
  const gen = new Uint32Array(4000);
  const keys: Uint32Array[] = [];
  for (let i = 0; i < 4000; i++) {
    const k = keyOf(udpFrame({ src: i, sport: i & 0xff }), 1);
    keys.push(k);
    emc.maybeInsert(k, 0, emcHash(k, 0), i, 0, gen);
  }
  let found = 0;
  for (let i = 0; i < 4000; i++) {
    const f = emc.lookup(keys[i]!, 0, emcHash(keys[i]!, 0), gen);
    assert.ok(f === -1 || f === i);
    if (f === i) found++;
  }
  assert.ok(found > 3500, `most keys cached (${found})`);
  gen[10] = 1; // flow 10 died
  assert.equal(emc.lookup(keys[10]!, 0, emcHash(keys[10]!, 0), gen), -1);
  // Default insertion probability is 1/100.
  const e2 = new Emc(REGION_TUN_START);
  for (let i = 0; i < 4000; i++) e2.maybeInsert(keys[i]!, 0, emcHash(keys[i]!, 0), i, 0, gen);
  const n = e2.count(gen);
  assert.ok(n > 10 && n < 100, `≈40 of 4000 inserted (${n})`);
});

test("EMC premise: IPv4 keys are zero outside the words the fast compare checks", () => {
  const checked = new Set([0, 1, 2, 3, 4, 5, 6, 7, 11, 12, 13, 14, 15, 16, 20, 21, 22, 32, 33, 34]);
  let x = 12345;
  const next = () => ((x = (Math.imul(x, 1103515245) + 12345) >>> 0), x >>> 8);
  let ipv4 = 0;
  for (let t = 0; t < 20000; t++) {
    const f = t % 3 === 0 ? udpFrame({ src: next(), sport: next() & 0xffff, vlan: next() & 0xfff }) : udpFrame({ src: next(), sport: next() & 0xffff });
    // Mutate the IP/L4 header bytes (protocol, flags, lengths) at random.
    for (let m = 0; m < 3; m++) f[14 + (next() % (f.length - 14))] = next() & 0xff;
    const k = keyOf(f, 1);
    if ((k[W_DL_TYPE]! >>> 16) !== 0x0800) continue;
    ipv4++;
    for (let w = 0; w < REGION_TUN_START; w++) if (!checked.has(w)) assert.equal(k[w], 0, `word ${w} of an IPv4 key`);
  }
  assert.ok(ipv4 > 1000);
  void FLOW_U32S;
});

test("action store: interning shares equal lists, compaction keeps contents", () => {
  const s = new ActionStore();
  const a = s.intern(Uint8Array.of(1, 2, 3, 4));
  const b = s.intern(Uint8Array.of(1, 2, 3, 4));
  assert.equal(a, b);
  assert.equal(s.count, 1);
  const ids: number[] = [];
  for (let i = 0; i < 5000; i++) ids.push(s.intern(Uint8Array.of(i & 0xff, i >> 8, 7, 7, 7, 7, 7, 7)));
  for (let i = 0; i < 5000; i += 2) s.release(ids[i]!);
  for (let i = 0; i < 3000; i++) s.intern(Uint8Array.of(9, i & 0xff, i >> 8, 9));
  for (let i = 1; i < 5000; i += 2) assert.deepEqual(s.copy(ids[i]!), Uint8Array.of(i & 0xff, i >> 8, 7, 7, 7, 7, 7, 7));
  s.release(a);
  assert.deepEqual(s.copy(b), Uint8Array.of(1, 2, 3, 4));
});
