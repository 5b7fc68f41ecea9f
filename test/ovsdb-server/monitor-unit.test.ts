/**
 * Unit tests of the server's pure parts: update2 set/map diffs (applying a
 * diff to the old value gives the new one, as ovsdb-server(7) specifies)
 * and the lock queue (lock/steal/unlock hand-over order).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { datumDiff, LockTable, type LockHolder } from "../../src/ovsdb/server/index.js";
import type { Datum } from "../../src/ovsdb/index.js";

function setOf(xs: number[]): Datum {
  return { keys: [...new Set(xs)].sort((a, b) => a - b), values: null };
}

function mapOf(pairs: [number, number][]): Datum {
  const m = new Map<number, number>();
  for (const [k, v] of pairs) m.set(k, v);
  const keys = [...m.keys()].sort((a, b) => a - b);
  return { keys, values: keys.map((k) => m.get(k)!) };
}

/** Applies an update2 diff as a client (the IDL) does. */
function apply(old: Datum, diff: Datum): Datum {
  if (old.values === null) {
    const s = new Set(old.keys as number[]);
    for (const k of diff.keys as number[]) {
      if (s.has(k)) s.delete(k);
      else s.add(k);
    }
    return setOf([...s]);
  }
  const m = new Map<number, number>();
  old.keys.forEach((k, i) => m.set(k as number, old.values![i] as number));
  diff.keys.forEach((k, i) => {
    const v = diff.values![i] as number;
    if (m.get(k as number) === v) m.delete(k as number);
    else m.set(k as number, v);
  });
  return mapOf([...m.entries()]);
}

test("set diffs: old + diff = new, and the diff is the symmetric difference", () => {
  fc.assert(
    fc.property(fc.array(fc.integer({ min: 0, max: 30 })), fc.array(fc.integer({ min: 0, max: 30 })), (a, b) => {
      const o = setOf(a), n = setOf(b);
      const d = datumDiff(o, n, false);
      assert.deepEqual(apply(o, d), n);
      const sa = new Set(o.keys), sb = new Set(n.keys);
      assert.deepEqual(d.keys, [...new Set([...sa].filter((x) => !sb.has(x)).concat([...sb].filter((x) => !sa.has(x))))].sort((x, y) => (x as number) - (y as number)));
    }),
  );
});

test("map diffs: old + diff = new; a changed key carries its new value", () => {
  const pair = fc.tuple(fc.integer({ min: 0, max: 20 }), fc.integer({ min: 0, max: 3 }));
  fc.assert(
    fc.property(fc.array(pair), fc.array(pair), (a, b) => {
      const o = mapOf(a), n = mapOf(b);
      const d = datumDiff(o, n, true);
      assert.deepEqual(apply(o, d), n);
    }),
  );
  assert.deepEqual(datumDiff(mapOf([[1, 1], [2, 2]]), mapOf([[2, 3], [4, 4]]), true), { keys: [1, 2, 4], values: [1, 3, 4] });
});

class Holder implements LockHolder {
  events: string[] = [];
  constructor(readonly name: string) {}
  notifyLocked(lock: string): void {
    this.events.push(`locked ${lock}`);
  }
  notifyStolen(lock: string): void {
    this.events.push(`stolen ${lock}`);
  }
}

test("lock queue: waiters get the lock in order; a robbed owner gets it back after the thief", () => {
  const t = new LockTable();
  const [a, b, c] = [new Holder("a"), new Holder("b"), new Holder("c")];
  assert.equal(t.lock("L", a), true);
  assert.equal(t.lock("L", b), false);
  t.steal("L", c);
  assert.deepEqual(a.events, ["stolen L"]);
  assert.ok(t.isOwner("L", c));
  t.unlock("L", c);
  assert.deepEqual(a.events, ["stolen L", "locked L"]);
  t.unlock("L", a);
  assert.deepEqual(b.events, ["locked L"]);
  t.unlock("L", b);
  assert.equal(t.owner("L"), undefined);
  // Stealing a lock nobody holds notifies nobody.
  t.steal("M", a);
  assert.ok(t.isOwner("M", a));
  assert.deepEqual(a.events, ["stolen L", "locked L"]);
});
