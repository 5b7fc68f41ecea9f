/**
 * MacLearning on its own, with a fake clock: learning and lookup per
 * (MAC, VLAN), refusal of multicast sources and flood VLANs, moves,
 * aging, the size limit's fair eviction, static entries, the gratuitous
 * ARP lock, flushes and the statistics — plus a model check against a
 * plain Map.
 */
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MacLearning, normalizeIdleTime, normalizeMaxEntries } from "../../src/ofproto/mac-learning.js";
import type { XBundle } from "../../src/ofproto/xlate-types.js";

function bundle(name: string): XBundle {
  return { name, ports: [], vlanMode: "trunk", vlan: -1, trunks: null, cvlans: null, qinqEthtype: 0x8100 };
}

function mac(n: number): Uint8Array {
  return Uint8Array.of(0x50, 0x54, 0, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff);
}

const A = bundle("p1");
const B = bundle("p2");
const C = bundle("p3");

describe("MacLearning", () => {
  test("learns per (MAC, VLAN) and finds it again", () => {
    const ml = new MacLearning();
    assert.equal(ml.learn(mac(1), 0, 0, A, 0), true);
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, A);
    assert.equal(ml.lookup(mac(1), 0, 10), null, "another VLAN is another entry");
    assert.equal(ml.learn(mac(1), 0, 10, B, 0), true);
    assert.equal(ml.lookup(mac(1), 0, 10)?.bundle, B);
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, A);
    assert.equal(ml.count, 2);
    assert.deepEqual([...ml.lookup(mac(1), 0, 0)!.mac], [...mac(1)]);
    // The MAC may sit at an offset in a bigger buffer.
    const buf = new Uint8Array(20);
    buf.set(mac(1), 7);
    assert.equal(ml.lookup(buf, 7, 0)?.bundle, A);
  });

  test("refuses multicast sources, never finds multicast destinations", () => {
    const ml = new MacLearning();
    const mc = Uint8Array.of(0x01, 0, 0x5e, 0, 0, 1);
    assert.equal(ml.mayLearn(mc, 0, 0), false);
    assert.equal(ml.learn(mc, 0, 0, A, 0), false);
    assert.equal(ml.count, 0);
    ml.addStatic(mc, 0, 0, A, 0);
    assert.equal(ml.lookup(mc, 0, 0), null, "a multicast destination is always flooded");
    assert.equal(ml.lookup(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0xff, 0xff), 0, 0), null);
  });

  test("flood VLANs learn nothing", () => {
    const ml = new MacLearning();
    assert.equal(ml.setFloodVlans(new Set([5])), true);
    assert.equal(ml.setFloodVlans(new Set([5])), false);
    assert.equal(ml.learn(mac(1), 0, 5, A, 0), false);
    assert.equal(ml.learn(mac(1), 0, 6, A, 0), true);
    assert.equal(ml.lookup(mac(1), 0, 5), null);
  });

  test("a known MAC on the same bundle changes nothing; on another it moves", () => {
    const ml = new MacLearning();
    assert.equal(ml.learn(mac(1), 0, 0, A, 1000), true);
    assert.equal(ml.run(1000), true, "learning latches revalidation");
    assert.equal(ml.run(1000), false);
    assert.equal(ml.learn(mac(1), 0, 0, A, 1500), false);
    assert.equal(ml.learn(mac(1), 0, 0, A, 5000), false, "a refresh is not a change");
    assert.equal(ml.learn(mac(1), 0, 0, B, 5000), true);
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, B);
    assert.deepEqual(ml.stats(), { current: 1, max: 8192, static: 0, learned: 1, expired: 0, evicted: 0, moved: 1 });
    assert.equal(ml.run(5000), true);
  });

  test("a rebuilt bundle object with the same name is the same bundle", () => {
    const ml = new MacLearning();
    ml.learn(mac(1), 0, 0, A, 0);
    const A2 = bundle("p1");
    assert.equal(ml.learn(mac(1), 0, 0, A2, 0), false);
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, A2);
    assert.equal(ml.stats().moved, 0);
  });

  test("entries age out idleTime seconds after their last refresh", () => {
    const ml = new MacLearning(15);
    ml.learn(mac(1), 0, 0, A, 0);
    ml.learn(mac(2), 0, 0, A, 0);
    ml.learn(mac(2), 0, 0, A, 10_000); // refreshed at 10 s
    ml.run(14_999);
    assert.equal(ml.count, 2);
    assert.equal(ml.age(ml.lookup(mac(1), 0, 0)!, 14_999), 14);
    assert.equal(ml.nextExpiry(14_000), 1000);
    ml.run(15_000);
    assert.equal(ml.lookup(mac(1), 0, 0), null);
    assert.notEqual(ml.lookup(mac(2), 0, 0), null);
    ml.run(25_000);
    assert.equal(ml.count, 0);
    assert.equal(ml.stats().expired, 2);
    assert.equal(ml.nextExpiry(25_000), null);
  });

  test("aging time and size are clamped like OVS", () => {
    assert.equal(normalizeIdleTime(1), 15);
    assert.equal(normalizeIdleTime(300), 300);
    assert.equal(normalizeIdleTime(99999), 3600);
    assert.equal(normalizeMaxEntries(3), 10);
    assert.equal(normalizeMaxEntries(2_000_000), 1_000_000);
    const ml = new MacLearning(300);
    ml.learn(mac(1), 0, 0, A, 0);
    ml.setIdleTime(60);
    assert.equal(ml.age(ml.lookup(mac(1), 0, 0)!, 30_000), 30, "age is kept across a change");
    ml.run(59_000);
    assert.equal(ml.count, 1);
    ml.run(60_000);
    assert.equal(ml.count, 0);
  });

  test("a full table evicts the LRU entry of the bundle with the most entries", () => {
    const ml = new MacLearning(300, 10);
    for (let i = 1; i <= 7; i++) ml.learn(mac(i), 0, 0, A, i * 1000);
    for (let i = 8; i <= 10; i++) ml.learn(mac(i), 0, 0, B, i * 1000);
    ml.learn(mac(1), 0, 0, A, 11_000); // mac 1 is now A's most recent
    ml.learn(mac(11), 0, 0, C, 12_000);
    assert.equal(ml.count, 10);
    assert.equal(ml.lookup(mac(2), 0, 0), null, "A's least recently used went");
    assert.notEqual(ml.lookup(mac(1), 0, 0), null);
    assert.notEqual(ml.lookup(mac(8), 0, 0), null, "B keeps its entries");
    assert.equal(ml.stats().evicted, 1);
    assert.equal(ml.stats().learned, 11);
  });

  test("lowering the limit sheds the oldest entries at the next run", () => {
    const ml = new MacLearning(300, 100);
    for (let i = 1; i <= 20; i++) ml.learn(mac(i), 0, 0, A, i);
    ml.setMaxEntries(12);
    ml.run(100);
    assert.equal(ml.count, 12);
    assert.equal(ml.lookup(mac(8), 0, 0), null);
    assert.notEqual(ml.lookup(mac(9), 0, 0), null);
    assert.equal(ml.stats().expired, 8);
  });

  test("static entries: never age, never move, survive flush, only fdb/del removes them", () => {
    const ml = new MacLearning(15);
    assert.deepEqual(ml.addStatic(mac(1), 0, 0, A, 0), { previous: null });
    assert.deepEqual(ml.addStatic(mac(1), 0, 0, A, 0), { previous: null }, "same static again is silent");
    assert.equal(ml.learn(mac(1), 0, 0, B, 1000), false);
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, A);
    assert.equal(ml.lookup(mac(1), 0, 0)?.isStatic, true);
    ml.run(1_000_000);
    assert.notEqual(ml.lookup(mac(1), 0, 0), null);
    assert.equal(ml.age(ml.lookup(mac(1), 0, 0)!, 5), null);
    ml.learn(mac(2), 0, 0, B, 1_000_000);
    ml.flush();
    assert.equal(ml.count, 1);
    assert.equal(ml.staticCount, 1);
    // Overriding: a dynamic entry becomes static (and says what it was).
    ml.learn(mac(3), 0, 0, B, 0);
    const r = ml.addStatic(mac(3), 0, 0, A, 0);
    assert.equal(r.previous?.isStatic, false);
    assert.equal(r.previous?.bundle.name, "p2");
    assert.equal(ml.addStatic(mac(3), 0, 0, B, 0).previous?.isStatic, true);
    assert.equal(ml.staticCount, 2);
    assert.deepEqual(ml.stats().learned, 2, "fdb/add does not count as learning");
    assert.equal(ml.delStatic(mac(3), 0, 0), true);
    assert.equal(ml.delStatic(mac(3), 0, 0), false);
    ml.learn(mac(4), 0, 0, B, 0);
    assert.equal(ml.delStatic(mac(4), 0, 0), false, "fdb/del leaves dynamic entries");
    assert.equal(ml.staticCount, 1);
  });

  test("gratuitous ARP on a non-bond locks the entry against bonds for 5 s", () => {
    const ml = new MacLearning();
    assert.equal(ml.learn(mac(1), 0, 0, A, 10_000, true, false), true);
    assert.equal(ml.learn(mac(1), 0, 0, B, 12_000, true, true), false, "reflection refused");
    assert.equal(ml.lookup(mac(1), 0, 0)?.bundle, A);
    assert.equal(ml.learn(mac(1), 0, 0, B, 12_000, false, true), true, "an ordinary packet still moves it");
    assert.equal(ml.learn(mac(1), 0, 0, A, 13_000, true, false), true);
    assert.equal(ml.learn(mac(1), 0, 0, B, 18_000, true, true), true, "the lock is over");
  });

  test("flush per bundle and per VLAN", () => {
    const ml = new MacLearning();
    ml.learn(mac(1), 0, 0, A, 0);
    ml.learn(mac(2), 0, 10, A, 0);
    ml.learn(mac(3), 0, 10, B, 0);
    ml.addStatic(mac(4), 0, 0, A, 0);
    assert.equal(ml.flushVlan(10), 2);
    assert.equal(ml.count, 2);
    assert.equal(ml.flushBundle(A), 2, "a bundle's static entries go with it");
    assert.equal(ml.count, 0);
    assert.equal(ml.staticCount, 0);
  });

  test("statistics clear but the table stays", () => {
    const ml = new MacLearning();
    ml.learn(mac(1), 0, 0, A, 0);
    ml.learn(mac(1), 0, 0, B, 0);
    ml.clearStats();
    assert.deepEqual(ml.stats(), { current: 1, max: 8192, static: 0, learned: 0, expired: 0, evicted: 0, moved: 0 });
  });

  test("grows past its initial hash size and still finds everything", () => {
    const ml = new MacLearning(300, 5000);
    for (let i = 0; i < 3000; i++) ml.learn(mac(i), 0, i % 7, i % 2 ? A : B, 0);
    assert.equal(ml.count, 3000);
    for (let i = 0; i < 3000; i++) assert.equal(ml.lookup(mac(i), 0, i % 7)?.bundle, i % 2 ? A : B);
    assert.equal(ml.flush(), 3000);
    assert.equal(ml.count, 0);
  });

  test("model check: learn/lookup/run agree with a plain map", () => {
    const bundles = [A, B, C];
    const op = fc.oneof(
      fc.record({ k: fc.constant("learn" as const), m: fc.integer({ min: 0, max: 6 }), v: fc.integer({ min: 0, max: 2 }), b: fc.integer({ min: 0, max: 2 }), dt: fc.integer({ min: 0, max: 9000 }) }),
      fc.record({ k: fc.constant("run" as const), dt: fc.integer({ min: 0, max: 20_000 }) }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
        const ml = new MacLearning(15);
        const model = new Map<string, { b: string; last: number }>();
        let now = 0;
        for (const o of ops) {
          now += o.dt;
          const sec = Math.floor(now / 1000);
          if (o.k === "learn") {
            const key = `${o.m}/${o.v}`;
            const cur = model.get(key);
            const changed = ml.learn(mac(o.m), 0, o.v, bundles[o.b]!, now);
            assert.equal(changed, cur === undefined || cur.b !== bundles[o.b]!.name);
            model.set(key, { b: bundles[o.b]!.name, last: sec });
          } else {
            ml.run(now);
            for (const [k, e] of model) if (sec >= e.last + 15) model.delete(k);
          }
          for (let m = 0; m <= 6; m++) {
            for (let v = 0; v <= 2; v++) {
              assert.equal(ml.lookup(mac(m), 0, v)?.bundle.name ?? null, model.get(`${m}/${v}`)?.b ?? null);
            }
          }
        }
        assert.equal(ml.count, model.size);
      }),
      { numRuns: 200 },
    );
  });
});
