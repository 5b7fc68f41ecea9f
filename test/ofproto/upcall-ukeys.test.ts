/**
 * The upcall handler's megaflow bookkeeping (src/ofproto/upcall.ts): the
 * ukey table (insert / find / replace / remove across growth), the ukey
 * arena (keys, ufids, times and credited statistics read back exactly,
 * slots reused after removal),
 * action-list interning and clearDontSend — checked against plain models.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  ActionsPool, clearDontSend, Ukey, UkeyTable, ukeyKeyInto, ukeyKeyWord, ukeyUfid, USER_ACTION_COOKIE_CONTROLLER,
} from "../../src/ofproto/upcall.js";
import { FLOW_DP_U32S, FLOW_HOT_U32S, FLOW_U32S, W_IN_PORT } from "../../src/flow/key-layout.js";
import { OdpActionsBuilder } from "../../src/datapath/odp-actions.js";
import { USER_ACTION_COOKIE_LEN } from "../../src/flow/odp-format.js";
import { OVS_ACTION_ATTR_CLONE } from "../../src/flow/odp-attrs.js";
import type { OfprotoDpif } from "../../src/ofproto/ofproto-dpif.js";

const NO_BRIDGE = null as unknown as OfprotoDpif;
const MASK = new Uint32Array(FLOW_DP_U32S);

function keyOf(i: number, long: boolean): Uint32Array {
  const k = new Uint32Array(FLOW_U32S);
  k[W_IN_PORT] = 1 + (i % 7);
  k[20] = i;
  k[FLOW_HOT_U32S - 1] = (i * 2654435761) >>> 0;
  if (long) k[FLOW_DP_U32S - 1] = i + 1;
  return k;
}

function ufidOf(i: number): Uint32Array {
  // Collisions on the first word (the table's bucket) on purpose.
  return Uint32Array.of((i % 97) * 0x01000193 >>> 0, i, (i * 31) >>> 0, 0xfffffff0 + (i & 15));
}

function ukey(i: number, long = i % 5 === 0): Ukey {
  return new Ukey(ufidOf(i), keyOf(i, long), MASK, new Uint8Array([i & 255]), NO_BRIDGE, [], 0, 1_700_000_000_000 + i);
}

test("ukey table: insert, find, replace and remove agree with a Map model across growth", () => {
  const table = new UkeyTable();
  const model = new Map<string, Ukey>();
  const id = (u: Uint32Array): string => Array.from(u).join(",");
  for (let i = 0; i < 5000; i++) {
    const k = ukey(i);
    table.insert(k);
    model.set(id(ufidOf(i)), k);
  }
  // Replacing: same ufid, new ukey; the old one is dead.
  const old = table.find(ufidOf(42))!;
  const again = ukey(42);
  table.insert(again);
  model.set(id(ufidOf(42)), again);
  assert.equal(old.live, false);
  for (let i = 0; i < 5000; i += 3) {
    const k = table.find(ufidOf(i))!;
    table.remove(k);
    model.delete(id(ufidOf(i)));
    assert.equal(k.live, false);
  }
  assert.equal(table.size, model.size);
  for (let i = 0; i < 5000; i++) {
    const want = model.get(id(ufidOf(i))) ?? null;
    assert.equal(table.find(ufidOf(i)), want, `ufid ${i}`);
  }
  assert.equal(new Set(table.all()).size, model.size);
  // Removing a removed ukey changes nothing.
  table.remove(old);
  assert.equal(table.size, model.size);
});

test("ukey arena: keys, ufids and times read back exactly; freed slots are reused without mixing keys", () => {
  const table = new UkeyTable();
  const keys: Ukey[] = [];
  for (let i = 0; i < 3000; i++) {
    const k = ukey(10_000 + i);
    table.insert(k);
    keys.push(k);
    // Statistics already credited (above 2^32 too: byte counters grow).
    k.packets = i + 1;
    k.bytes = (i + 1) * 5_000_000_000;
  }
  for (let i = 0; i < 3000; i += 2) table.remove(keys[i]!);
  // New ukeys take the freed slots.
  const fresh: Ukey[] = [];
  for (let i = 0; i < 1500; i++) {
    const k = ukey(20_000 + i);
    table.insert(k);
    fresh.push(k);
  }
  const check = (k: Ukey, i: number): void => {
    const want = keyOf(i, i % 5 === 0);
    const got = new Uint32Array(FLOW_U32S).fill(0xdeadbeef);
    ukeyKeyInto(k, got);
    assert.deepEqual(got.subarray(0, FLOW_DP_U32S), want.subarray(0, FLOW_DP_U32S), `key ${i}`);
    assert.ok(got.subarray(FLOW_DP_U32S).every((w) => w === 0), `key ${i}: words past the datapath key zeroed`);
    assert.equal(ukeyKeyWord(k, W_IN_PORT), want[W_IN_PORT]);
    assert.equal(ukeyKeyWord(k, FLOW_DP_U32S - 1), want[FLOW_DP_U32S - 1]);
    assert.deepEqual(ukeyUfid(k), ufidOf(i));
    assert.equal(k.created, 1_700_000_000_000 + i);
    assert.equal(k.used, 0);
  };
  for (let i = 1; i < 3000; i += 2) check(keys[i]!, 10_000 + i);
  for (let i = 0; i < 1500; i++) check(fresh[i]!, 20_000 + i);
  for (let i = 1; i < 3000; i += 2) {
    assert.equal(keys[i]!.packets, i + 1);
    assert.equal(keys[i]!.bytes, (i + 1) * 5_000_000_000);
  }
  // A reused slot starts from zero; a removed ukey reads zero.
  for (const k of fresh) assert.deepEqual([k.packets, k.bytes], [0, 0]);
  assert.deepEqual([keys[0]!.packets, keys[0]!.bytes], [0, 0]);
  const k = fresh[7]!;
  k.used = 1_700_000_123_456;
  k.refreshed = 1_700_000_654_321;
  assert.equal(k.used, 1_700_000_123_456);
  assert.equal(k.refreshed, 1_700_000_654_321);
  assert.equal(fresh[8]!.used, 0);
});

test("actions pool: equal lists share one array, different lists stay apart, results never alias the input", () => {
  const pool = new ActionsPool();
  const a = Uint8Array.of(8, 0, 1, 0, 2, 0, 0, 0);
  const b = Uint8Array.of(8, 0, 1, 0, 3, 0, 0, 0);
  const a1 = pool.intern(a);
  const a2 = pool.intern(a.slice());
  const b1 = pool.intern(b);
  assert.equal(a1, a2);
  assert.notEqual(a1, a);
  assert.deepEqual(a1, a);
  assert.deepEqual(b1, b);
  a[4] = 9;
  assert.equal(a1[4], 2);
  // Many distinct lists: always the right bytes back.
  for (let i = 0; i < 10_000; i++) {
    const x = Uint8Array.of(8, 0, 1, 0, i & 255, (i >> 8) & 255, 0, 0);
    assert.deepEqual(pool.intern(x), x);
  }
});

test("clearDontSend clears dont_send of controller cookies, nested ones too, and copies only then", () => {
  const cookie = (dontSend: number): Uint8Array => {
    const c = new Uint8Array(USER_ACTION_COOKIE_LEN);
    c[0] = USER_ACTION_COOKIE_CONTROLLER;
    c[24] = dontSend;
    return c;
  };
  /** Where `after` differs from `before`: [index, before, after] triples. */
  const diffs = (before: Uint8Array, after: Uint8Array): number[][] => {
    const out: number[][] = [];
    for (let i = 0; i < before.length; i++) if (before[i] !== after[i]) out.push([i, before[i]!, after[i]!]);
    return out;
  };
  const plain = new OdpActionsBuilder().output(2).userspace(0, cookie(0)).finish();
  assert.equal(clearDontSend(plain), plain);
  const set = new OdpActionsBuilder().output(2).userspace(0, cookie(1)).finish();
  const keep = set.slice();
  const cleared = clearDontSend(set);
  assert.notEqual(cleared, set);
  assert.deepEqual(cleared, plain);
  assert.deepEqual(set, keep, "the input is left alone");
  // Inside a clone(...).
  const inner = new OdpActionsBuilder().output(3).userspace(0, cookie(1)).finish();
  const withClone = new Uint8Array(4 + inner.length);
  withClone[0] = (4 + inner.length) & 255;
  withClone[1] = (4 + inner.length) >> 8;
  withClone[2] = OVS_ACTION_ATTR_CLONE;
  withClone.set(inner, 4);
  const c2 = clearDontSend(withClone);
  assert.equal(c2.length, withClone.length);
  const d = diffs(withClone, c2);
  assert.equal(d.length, 1);
  assert.deepEqual([d[0]![1], d[0]![2]], [1, 0]);
});
