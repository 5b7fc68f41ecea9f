import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FLOW_U32S,
  W_CONJ_ID,
  W_DL_TYPE,
  W_IN_PORT,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_TP_DST,
  W_IPV6_DST,
} from "../../src/flow/index.js";
import { Classifier, ClsRule, CLS_MAX_VERSION, type Conjunction } from "../../src/classifier/index.js";
import { buildMatch, modelLookup, packetArb, ruleArb, type ModelRule, type RuleSpec } from "./model.js";

const RUNS = Number(process.env.CLS_FUZZ_RUNS ?? 150);

function newKey(): Uint32Array {
  return new Uint32Array(FLOW_U32S);
}

/** A match from field assignments: [word, mask, value] triples. */
function match(...fields: [number, number, number][]): { mask: Uint32Array; key: Uint32Array } {
  const mask = newKey();
  const key = newKey();
  for (const [w, m, v] of fields) {
    mask[w] = (mask[w]! | m) >>> 0;
    key[w] = (key[w]! | (v & m)) >>> 0;
  }
  return { mask, key };
}

function packet(...fields: [number, number][]): Uint32Array {
  const p = newKey();
  for (const [w, v] of fields) p[w] = (p[w]! | v) >>> 0;
  return p;
}

const IP = 0x0800 << 16;
const DLT: [number, number, number] = [W_DL_TYPE, 0xffff0000, IP];

function rule(m: { mask: Uint32Array; key: Uint32Array }, priority: number, name: string, conj: Conjunction[] | null = null): ClsRule<string> {
  return new ClsRule(m.mask, m.key, priority, name, conj);
}

/** Inserts model rules into a classifier; returns both views. */
function load(specs: RuleSpec[], conjOf?: (i: number) => { conj: Conjunction[] | null; conjId: number | null; priority?: number }, prefixes?: string[]) {
  const cls = new Classifier<ModelRule>(prefixes);
  const model: ModelRule[] = [];
  specs.forEach((s, i) => {
    const { mask, key } = buildMatch(s);
    const extra = conjOf?.(i) ?? { conj: null, conjId: null };
    if (extra.conjId !== null) {
      mask[W_CONJ_ID] = 0xffffffff;
      key[W_CONJ_ID] = extra.conjId;
    }
    const m: ModelRule = { id: i, mask, key, priority: extra.priority ?? s.priority, conj: extra.conj, addVersion: 0, removeVersion: CLS_MAX_VERSION };
    model.push(m);
    cls.insert(new ClsRule(mask, key, m.priority, m, extra.conj), 0);
  });
  return { cls, model };
}

function checkLookup(cls: Classifier<ModelRule>, model: ModelRule[], p: Uint32Array, version: number, others: Uint32Array[]): void {
  const wc = newKey();
  const before = Uint32Array.from(p);
  const got = cls.lookup(p, version, wc);
  assert.deepEqual(p, before, "lookup must not change the flow");
  const want = modelLookup(model, p, version);
  if (want.length === 0) assert.equal(got, null, `expected no match, got rule ${got?.payload.id}`);
  else {
    assert.ok(got !== null, `expected one of ${want.map((r) => r.id)}, got none`);
    assert.ok(want.includes(got.payload), `got rule ${got.payload.id} (pri ${got.priority}), expected one of ${want.map((r) => `${r.id}@${r.priority}`)}`);
  }
  // Soundness of the un-wildcarded mask: any flow agreeing on wc gets the same answer.
  for (const q of others) {
    const p2 = newKey();
    for (let w = 0; w < FLOW_U32S; w++) p2[w] = ((p[w]! & wc[w]!) | (q[w]! & ~wc[w]!)) >>> 0;
    const want2 = modelLookup(model, p2, version);
    if (got === null) assert.equal(want2.length, 0, `wc unsound: a flow agreeing on wc matches rule ${want2[0]?.id}`);
    else assert.ok(want2.includes(got.payload), `wc unsound: agreeing flow should get rule ${got.payload.id}, model says ${want2.map((r) => r.id)}`);
  }
}

for (const prefixes of [undefined, [], ["nw_src"]]) {
  test(`lookup agrees with a linear scan and its wildcards are sound, prefixes ${prefixes?.join(",") ?? "default"} (property)`, () => {
    fc.assert(
      fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 40, size: "max" }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), fc.array(packetArb, { minLength: 1, maxLength: 8 }), (specs, pkts, others) => {
        const { cls, model } = load(specs, undefined, prefixes);
        for (const p of pkts) checkLookup(cls, model, p, 0, [...others, ...pkts]);
      }),
      { numRuns: prefixes === undefined ? RUNS : Math.ceil(RUNS / 3) },
    );
  });
}

test("lookup stays right after removals and replaces (property)", () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 40, size: "max" }), fc.array(fc.boolean(), { maxLength: 40 }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (specs, drop, pkts) => {
      const { cls, model } = load(specs);
      const live: ModelRule[] = [];
      const all = [...cls.rules()];
      assert.equal(all.length, specs.length);
      for (const r of all) {
        if (drop[r.payload.id] === true) assert.equal(cls.remove(r), true);
        else live.push(r.payload);
      }
      assert.equal(cls.count, live.length);
      assert.equal(cls.remove(new ClsRule(newKey(), newKey(), 0, {} as ModelRule)), false, "a rule never inserted");
      for (const p of pkts) checkLookup(cls, live, p, 0, pkts);
      // Re-inserting everything removed brings back the full answer.
      for (const r of all) if (drop[r.payload.id] === true) cls.insert(new ClsRule(r.payload.mask, r.payload.key, r.priority, r.payload), 0);
      for (const p of pkts) checkLookup(cls, model, p, 0, pkts);
    }),
    { numRuns: Math.ceil(RUNS / 2) },
  );
});

test("removing many rules at once leaves the same classifier as building it without them (property)", () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 160, size: "max" }), fc.integer({ min: 0, max: 3 }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (specs, how, pkts) => {
      const { cls } = load(specs);
      const all = [...cls.rules()];
      // 0: every rule (whole subtables go); 1: most rules (tries rebuilt); 2: a few (walked out); 3: one mask's rules.
      const mask0 = all[0]!.payload.mask;
      const drop = all.filter((r, i) => (how === 0 ? true : how === 1 ? i % 5 !== 0 : how === 2 ? i % 7 === 3 : r.payload.mask.every((v, w) => v === mask0[w])));
      assert.equal(cls.removeMany(drop), drop.length);
      assert.equal(cls.removeMany(drop), 0, "removed rules are gone");
      const gone = new Set(drop.map((r) => r.payload));
      const live = all.map((r) => r.payload).filter((m) => !gone.has(m));
      assert.equal(cls.count, live.length);
      // Built from the remaining rules in the order the classifier now holds
      // them: subtables of equal priority are searched in the order they
      // were made, and where the search stops changes what it looked at.
      const fresh = new Classifier<ModelRule>();
      for (const r of [...cls.rules()]) fresh.insert(new ClsRule(r.payload.mask, r.payload.key, r.priority, r.payload), 0);
      for (const p of pkts) {
        checkLookup(cls, live, p, 0, pkts);
        // Among rules of one priority that all match, which one wins (and
        // what is looked at on the way) depends on subtable order, which
        // OpenFlow leaves undefined; checkLookup has checked such a case.
        if (modelLookup(live, p, 0).length > 1) continue;
        const wc1 = newKey();
        const wc2 = newKey();
        assert.equal(cls.lookup(p, 0, wc1)?.payload ?? null, fresh.lookup(p, 0, wc2)?.payload ?? null);
        assert.deepEqual(wc1, wc2, "the wildcards are those of a classifier built without the removed rules");
      }
    }),
    { numRuns: Math.ceil(RUNS / 2) },
  );
});

test("versioned lookup sees exactly the rules visible in its version (property)", () => {
  const verArb = fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 6 }));
  fc.assert(
    fc.property(fc.array(fc.tuple(ruleArb, verArb), { minLength: 1, maxLength: 30, size: "max" }), fc.array(packetArb, { minLength: 1, maxLength: 8 }), fc.integer({ min: 0, max: 6 }), (rs, pkts, version) => {
      const cls = new Classifier<ModelRule>();
      const model: ModelRule[] = [];
      rs.forEach(([s, [add, len]], i) => {
        const { mask, key } = buildMatch(s);
        const m: ModelRule = { id: i, mask, key, priority: s.priority, conj: null, addVersion: add, removeVersion: add + len };
        model.push(m);
        const r = new ClsRule(mask, key, s.priority, m);
        cls.insert(r, add);
        cls.makeInvisibleIn(r, add + len);
      });
      for (const p of pkts) checkLookup(cls, model, p, version, pkts);
    }),
    { numRuns: RUNS },
  );
});

test("conjunctive matches agree with the ovs-fields(7) semantics (property)", () => {
  // Soft rules: conjunction id 1 or 2 at priority 10+id (one id per
  // priority, so at most one conjunctive flow per priority as OVS
  // requires); conj_id rules match conj_id exactly plus random fields.
  const roleArb = fc.record({ kind: fc.constantFrom("hard", "soft", "soft", "conj"), id: fc.integer({ min: 1, max: 2 }), k: fc.integer({ min: 1, max: 2 }), both: fc.boolean(), n: fc.constantFrom(2, 2, 3) });
  fc.assert(
    fc.property(fc.array(fc.tuple(ruleArb, roleArb), { minLength: 1, maxLength: 40, size: "max" }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (rs, pkts) => {
      const { cls, model } = load(
        rs.map(([s]) => s),
        (i) => {
          const [s, role] = rs[i]!;
          if (role.kind === "hard") return { conj: null, conjId: null };
          if (role.kind === "conj") return { conj: null, conjId: role.id, priority: s.priority * 3 };
          const conj: Conjunction[] = [{ id: role.id, clause: Math.min(role.k, role.n), nClauses: role.n }];
          if (role.both) conj.push({ id: role.id, clause: role.n, nClauses: role.n });
          return { conj, conjId: null, priority: 10 + role.id };
        },
      );
      for (const p of pkts) checkLookup(cls, model, p, 0, pkts);
    }),
    { numRuns: RUNS },
  );
});

test("prefix tracking un-wildcards only the address bits that decide", () => {
  const cls = new Classifier<string>();
  cls.insert(rule(match(DLT, [W_NW_DST, 0xff000000, 0x0a000000]), 10, "10/8"));
  let wc = newKey();
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0xc0a80101]), 0, wc), null);
  assert.equal(wc[W_NW_DST], 0x80000000, "192.168.1.1 differs from 10/8 in the first bit");
  assert.equal(wc[W_DL_TYPE], 0, "a skipped subtable costs nothing else");
  wc = newKey();
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0x0b000001]), 0, wc), null);
  assert.equal(wc[W_NW_DST], 0xff000000 >>> 0, "11.0.0.1 agrees with 10/8 up to bit 8");
  wc = newKey();
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0x0a010203]), 0, wc)?.payload, "10/8");
  assert.equal(wc[W_NW_DST], 0xff000000 >>> 0);
  assert.equal(wc[W_DL_TYPE], 0xffff0000 >>> 0);

  // Lookup stamps restart before they could wrap; answers stay the same across the restart.
  (cls as unknown as { stamp: number }).stamp = 0x3fffffff - 2;
  for (let n = 0; n < 6; n++) {
    wc = newKey();
    const far = n % 2 === 0;
    const got = cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, far ? 0xc0a80101 : 0x0a010203]), 0, wc);
    assert.equal(got?.payload ?? null, far ? null : "10/8");
    assert.equal(wc[W_NW_DST], far ? 0x80000000 : 0xff000000 >>> 0);
  }

  // Without prefix tracking the whole mask is looked at.
  const plain = new Classifier<string>([]);
  plain.insert(rule(match(DLT, [W_NW_DST, 0xff000000, 0x0a000000]), 10, "10/8"));
  wc = newKey();
  plain.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0xc0a80101]), 0, wc);
  assert.equal(wc[W_NW_DST], 0xff000000 >>> 0);

  // IPv6 prefixes when configured.
  const v6 = new Classifier<string>(["ipv6_dst"]);
  assert.deepEqual(v6.prefixFields, ["ipv6_dst"]);
  v6.insert(rule(match([W_IPV6_DST, 0xffffffff, 0x20010db8], [W_IPV6_DST + 1, 0xffff0000, 0x00010000]), 5, "2001:db8:1::/48"));
  wc = newKey();
  assert.equal(v6.lookup(packet([W_IPV6_DST, 0xfe800000]), 0, wc), null);
  assert.equal(wc[W_IPV6_DST], 0x80000000);
  assert.equal(wc[W_IPV6_DST + 1], 0);
  wc = newKey();
  assert.equal(v6.lookup(packet([W_IPV6_DST, 0x20010db8], [W_IPV6_DST + 1, 0x00010005]), 0, wc)?.payload, "2001:db8:1::/48");
  // Reconfiguring rebuilds the tries from the rules already there.
  plain.setPrefixFields(["nw_dst"]);
  wc = newKey();
  assert.equal(plain.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0xc0a80101]), 0, wc), null);
  assert.equal(wc[W_NW_DST], 0x80000000);
  assert.equal(plain.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0x0a0a0a0a]), 0, null)?.payload, "10/8");
  plain.setPrefixFields([]);
  wc = newKey();
  plain.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0xc0a80101]), 0, wc);
  assert.equal(wc[W_NW_DST], 0xff000000 >>> 0);
  assert.throws(() => new Classifier(["tp_dst"]), /tp_dst: not a prefix field/);
  assert.throws(() => new Classifier(["nw_dst", "nw_dst"]), /duplicate prefix field/);
  assert.throws(() => new Classifier(["nw_src", "nw_dst", "ipv6_src", "ipv6_dst"]), /too many prefix fields/);
});

test("staged lookup un-wildcards only the stages it reached", () => {
  const cls = new Classifier<string>([]);
  cls.insert(rule(match([W_IN_PORT, 0xffffffff, 1], DLT, [W_NW_PROTO, 0xff000000, 6 << 24], [W_TP_DST, 0xffff, 80]), 10, "web"));
  let wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 2], [W_DL_TYPE, IP], [W_NW_PROTO, 6 << 24], [W_TP_DST, 80]), 0, wc), null);
  assert.equal(wc[W_IN_PORT], 0xffffffff >>> 0);
  assert.equal(wc[W_DL_TYPE], 0, "L2 never looked at");
  assert.equal(wc[W_NW_PROTO], 0);
  assert.equal(wc[W_TP_DST], 0);
  wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 1], [W_DL_TYPE, IP], [W_NW_PROTO, 17 << 24], [W_TP_DST, 80]), 0, wc), null);
  assert.equal(wc[W_NW_PROTO], 0xff000000 >>> 0);
  assert.equal(wc[W_TP_DST], 0, "L4 never looked at after an L3 miss");
  wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 1], [W_DL_TYPE, IP], [W_NW_PROTO, 6 << 24], [W_TP_DST, 80]), 0, wc)?.payload, "web");
  assert.equal(wc[W_TP_DST], 0xffff);
  // Ports: port 0x8050 differs from 80 in its first bit, so that bit is all it costs.
  wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 1], [W_DL_TYPE, IP], [W_NW_PROTO, 6 << 24], [W_TP_DST, 0x8050]), 0, wc), null);
  assert.equal(wc[W_TP_DST], 0x8000);
  assert.equal(wc[W_IN_PORT], 0xffffffff >>> 0, "the stages before the ports were looked at in full, as in OVS");
  assert.equal(wc[W_NW_PROTO], 0xff000000 >>> 0);
  wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 1], [W_DL_TYPE, IP], [W_NW_PROTO, 6 << 24], [W_TP_DST, 81]), 0, wc), null);
  assert.equal(wc[W_TP_DST], 0xffff, "81 and 80 differ only in the last bit");
});

test("a high-priority match hides lower-priority subtables from the wildcards", () => {
  const cls = new Classifier<string>([]);
  cls.insert(rule(match([W_IN_PORT, 0xffffffff, 1]), 100, "port1"));
  cls.insert(rule(match([W_NW_SRC, 0xffffffff, 0x01020304]), 5, "host"));
  const wc = newKey();
  assert.equal(cls.lookup(packet([W_IN_PORT, 1], [W_NW_SRC, 0x01020304]), 0, wc)?.payload, "port1");
  assert.equal(wc[W_NW_SRC], 0);
  assert.equal(cls.lookup(packet([W_IN_PORT, 2], [W_NW_SRC, 0x01020304]), 0, null)?.payload, "host");
});

test("insert, replace, find exact, loose iteration, remove, counts", () => {
  const cls = new Classifier<string>();
  const a = rule(match(DLT, [W_NW_DST, 0xffffff00, 0x0a000100]), 10, "a");
  const b = rule(match(DLT, [W_NW_DST, 0xffffffff, 0x0a000105]), 10, "b");
  const c = rule(match(DLT), 1, "c");
  cls.insert(a);
  cls.insert(b);
  cls.insert(c);
  assert.equal(cls.count, 3);
  assert.equal(cls.subtableCount, 3);
  const a2 = rule(match(DLT, [W_NW_DST, 0xffffff00, 0x0a0001ff]), 10, "a2"); // same masked key as a
  assert.equal(cls.replace(a2), a);
  assert.equal(cls.count, 3);
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0x0a000107]), 0, null)?.payload, "a2");
  const m = match(DLT, [W_NW_DST, 0xffffff00, 0x0a000100]);
  assert.equal(cls.findExact(m.mask, m.key, 10)?.payload, "a2");
  assert.equal(cls.findExact(m.mask, m.key, 11), null);
  const loose = (mm: { mask: Uint32Array; key: Uint32Array }) => [...cls.loose(mm.mask, mm.key)].map((r) => r.payload).sort();
  assert.deepEqual(loose(match()), ["a2", "b", "c"]);
  assert.deepEqual(loose(match(DLT)), ["a2", "b", "c"]);
  assert.deepEqual(loose(match(DLT, [W_NW_DST, 0xff000000, 0x0a000000])), ["a2", "b"]);
  assert.deepEqual(loose(match(DLT, [W_NW_DST, 0xffffffff, 0x0a000105])), ["b"]);
  assert.deepEqual(loose(match([W_NW_DST, 0xff000000, 0x0b000000])), []);
  // check_overlap: same priority and some packet matches both.
  assert.equal(cls.overlaps(match([W_NW_DST, 0xffff0000, 0x0a000000]).mask, match([W_NW_DST, 0xffff0000, 0x0a000000]).key, 10), true);
  assert.equal(cls.overlaps(match([W_NW_DST, 0xffff0000, 0x0a000000]).mask, match([W_NW_DST, 0xffff0000, 0x0a000000]).key, 9), false);
  assert.equal(cls.overlaps(match([W_NW_DST, 0xffff0000, 0x0b000000]).mask, match([W_NW_DST, 0xffff0000, 0x0b000000]).key, 10), false);
  assert.equal(cls.overlaps(match([W_IN_PORT, 0xffffffff, 3]).mask, match([W_IN_PORT, 0xffffffff, 3]).key, 1), true);
  assert.equal(cls.remove(b), true);
  assert.equal(cls.remove(b), false);
  assert.equal(cls.count, 2);
  assert.equal(cls.subtableCount, 2);
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP], [W_NW_DST, 0x0a000105]), 0, null)?.payload, "a2");
  for (const r of cls.rules()) cls.remove(r);
  assert.equal(cls.isEmpty, true);
  assert.equal(cls.subtableCount, 0);
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP]), 0, null), null);
  assert.throws(() => new ClsRule(newKey(), newKey(), 1, "x", [{ id: 1, clause: 1, nClauses: 1 }]), /n must be between 2 and 64/);
  assert.throws(() => new ClsRule(newKey(), newKey(), 1, "x", [{ id: 1, clause: 3, nClauses: 2 }]), /k must be between 1 and n/);
});

test("a bundle's changes appear atomically in the next version and roll back", () => {
  const cls = new Classifier<string>();
  const old = rule(match(DLT), 5, "old");
  cls.insert(old, 1);
  const p = packet([W_DL_TYPE, IP], [W_NW_DST, 0x0a000001]);
  assert.equal(cls.lookup(p, 0, null), null, "not yet visible in version 0");
  assert.equal(cls.lookup(p, 1, null)?.payload, "old");
  // Bundle at version 2: replace "old" by "new" and add "extra".
  const nu = rule(match(DLT), 5, "new");
  const extra = rule(match(DLT, [W_NW_DST, 0xffffffff, 0x0a000001]), 9, "extra");
  cls.makeInvisibleIn(old, 2);
  cls.insert(nu, 2);
  cls.insert(extra, 2);
  assert.equal(cls.lookup(p, 1, null)?.payload, "old", "readers of version 1 see none of the bundle");
  assert.equal(cls.lookup(packet([W_DL_TYPE, IP]), 2, null)?.payload, "new");
  assert.equal(cls.lookup(p, 2, null)?.payload, "extra");
  assert.equal(cls.findExact(match(DLT).mask, match(DLT).key, 5, 1)?.payload, "old");
  assert.equal(cls.findExact(match(DLT).mask, match(DLT).key, 5, 2)?.payload, "new");
  assert.deepEqual([...cls.loose(match().mask, match().key, 1)].map((r) => r.payload), ["old"]);
  // Once no reader uses version 1, "old" goes for good.
  cls.remove(old);
  assert.equal(cls.count, 2);
  // Roll back a second bundle at version 3 that deleted "extra".
  cls.makeInvisibleIn(extra, 3);
  assert.equal(cls.lookup(p, 3, null)?.payload, "new");
  cls.restoreVisibility(extra);
  assert.equal(cls.lookup(p, 3, null)?.payload, "extra");
  assert.throws(() => cls.makeInvisibleIn(extra, 2), /cannot be removed in version 2/);
});

test("conjunctive match: the ovs-fields(7) example", () => {
  const cls = new Classifier<string>();
  cls.insert(rule(match([W_CONJ_ID, 0xffffffff, 1234]), 0, "conj_id=1234"));
  for (const s of [0x0a000001, 0x0a000004, 0x0a000006, 0x0a000007]) {
    cls.insert(rule(match(DLT, [W_NW_SRC, 0xffffffff, s]), 0, `src ${s & 0xff}`, [{ id: 1234, clause: 1, nClauses: 2 }]));
  }
  for (const d of [0x0a000002, 0x0a000005, 0x0a000007, 0x0a000008]) {
    cls.insert(rule(match(DLT, [W_NW_DST, 0xffffffff, d]), 0, `dst ${d & 0xff}`, [{ id: 1234, clause: 2, nClauses: 2 }]));
  }
  const ip = (s: number, d: number) => packet([W_DL_TYPE, IP], [W_NW_SRC, 0x0a000000 | s], [W_NW_DST, 0x0a000000 | d]);
  const wc = newKey();
  assert.equal(cls.lookup(ip(1, 2), 0, wc)?.payload, "conj_id=1234");
  assert.equal(wc[W_CONJ_ID], 0xffffffff, "the first pass looked at conj_id (0 in the flow)");
  assert.equal(cls.lookup(ip(7, 7), 0, null)?.payload, "conj_id=1234");
  assert.equal(cls.lookup(ip(1, 3), 0, null), null, "one dimension only: no match");
  assert.equal(cls.lookup(ip(2, 2), 0, null), null);
  // A soft rule never matches on its own, even as the only candidate.
  cls.insert(rule(match(DLT), -1, "fallback"));
  assert.equal(cls.lookup(ip(1, 3), 0, null)?.payload, "fallback");
  // A higher-priority ordinary rule wins over the conjunction.
  cls.insert(rule(match(DLT, [W_NW_SRC, 0xffffffff, 0x0a000001]), 50, "src1 high"));
  assert.equal(cls.lookup(ip(1, 2), 0, null)?.payload, "src1 high");
});

test("conjunctive match without a conj_id flow counts as no match", () => {
  const cls = new Classifier<string>();
  cls.insert(rule(match(DLT, [W_NW_SRC, 0xffffffff, 1]), 10, "s1", [{ id: 7, clause: 1, nClauses: 2 }]));
  cls.insert(rule(match(DLT, [W_NW_DST, 0xffffffff, 2]), 10, "d2", [{ id: 7, clause: 2, nClauses: 2 }]));
  cls.insert(rule(match(DLT), 1, "low"));
  const p = packet([W_DL_TYPE, IP], [W_NW_SRC, 1], [W_NW_DST, 2]);
  assert.equal(cls.lookup(p, 0, null)?.payload, "low");
  const conj = rule(match([W_CONJ_ID, 0xffffffff, 7]), 3, "conj7");
  cls.insert(conj, 1);
  assert.equal(cls.lookup(p, 0, null)?.payload, "low", "conj_id flow not visible in version 0");
  assert.equal(cls.lookup(p, 1, null)?.payload, "conj7");
  // Three dimensions need all three.
  cls.insert(rule(match(DLT, [W_NW_SRC, 0xffffffff, 1]), 20, "3a", [{ id: 8, clause: 1, nClauses: 3 }]));
  cls.insert(rule(match(DLT, [W_NW_DST, 0xffffffff, 2]), 20, "3b", [{ id: 8, clause: 2, nClauses: 3 }]));
  // The conj_id search is an ordinary one: "low" (priority 1) would beat a priority-0 conj_id flow.
  cls.insert(rule(match([W_CONJ_ID, 0xffffffff, 8]), 5, "conj8"));
  assert.equal(cls.lookup(p, 1, null)?.payload, "conj7");
  cls.insert(rule(match([W_IN_PORT, 0xffffffff, 4]), 20, "3c", [{ id: 8, clause: 3, nClauses: 3 }]));
  assert.equal(cls.lookup(p, 1, null)?.payload, "conj7");
  p[W_IN_PORT] = 4;
  assert.equal(cls.lookup(p, 1, null)?.payload, "conj8");
});

test("loose iteration, findExact and overlaps agree with a scan (property)", () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 40, size: "max" }), fc.array(ruleArb, { minLength: 1, maxLength: 6 }), (specs, crits) => {
      const { cls, model } = load(specs);
      for (const c of crits) {
        const { mask, key } = buildMatch(c);
        const want = model
          .filter((r) => {
            for (let w = 0; w < FLOW_U32S; w++) {
              if ((r.mask[w]! & mask[w]!) >>> 0 !== mask[w]) return false;
              if (((r.key[w]! ^ key[w]!) & mask[w]!) !== 0) return false;
            }
            return true;
          })
          .map((r) => r.id)
          .sort((a, b) => a - b);
        assert.deepEqual([...cls.loose(mask, key)].map((r) => r.payload.id).sort((a, b) => a - b), want);
        const overlap = model.some((r) => {
          if (r.priority !== c.priority) return false;
          for (let w = 0; w < FLOW_U32S; w++) if (((r.key[w]! ^ key[w]!) & r.mask[w]! & mask[w]!) !== 0) return false;
          return true;
        });
        assert.equal(cls.overlaps(mask, key, c.priority), overlap);
      }
      for (const r of model) {
        const got = cls.findExact(r.mask, r.key, r.priority);
        assert.ok(got !== null);
        assert.equal(got.priority, r.priority);
        assert.deepEqual(got.mask, r.mask);
        assert.deepEqual(got.key(), r.key);
      }
    }),
    { numRuns: RUNS },
  );
});

test("between overlapping rules of equal priority, the subtable that reached that priority first wins, as in OVS", () => {
  const cls = new Classifier<string>();
  cls.insert(rule(match(), 0, "normal"));
  cls.insert(rule(match([W_IN_PORT, 0xffffffff, 3]), 32768, "in_port=3"));
  // A catch-all joins the older catch-all subtable and raises it to 32768 without a lookup in between.
  cls.insert(rule(match(), 32768, "drop"));
  assert.equal(cls.lookup(packet([W_IN_PORT, 3]), 0, null)?.payload, "in_port=3");
  assert.equal(cls.lookup(packet([W_IN_PORT, 4]), 0, null)?.payload, "drop");
});

test("a delete's hideLoose + removeAllInvisible leaves the same classifier as building it without the rules (property)", () => {
  fc.assert(
    fc.property(fc.array(ruleArb, { minLength: 1, maxLength: 120, size: "max" }), fc.integer({ min: 0, max: 2 }), fc.integer({ min: 0, max: 20 }), fc.array(packetArb, { minLength: 1, maxLength: 10 }), (specs, how, maxPri, pkts) => {
      const { cls, model } = load(specs);
      const byPayload = new Map<ModelRule, ClsRule<ModelRule>>();
      for (const r of cls.rules()) byPayload.set(r.payload, r);
      // 0: every rule (a del-flows); 1: rules up to a priority (hidden rules stay); 2: a loose match (one rule's).
      const sel = how === 2 ? { mask: model[0]!.mask, key: model[0]!.key } : { mask: newKey(), key: newKey() };
      const limit = how === 1 ? maxPri : Infinity;
      const want = cls.loose(sel.mask, sel.key, 0).filter((r) => r.priority <= limit).map((r) => r.payload);
      const hidden: ModelRule[] = [];
      assert.equal(cls.hideLoose(sel.mask, sel.key, 1, limit, hidden), want.length);
      assert.deepEqual(hidden, want, "the rules loose() selects, in its order");
      // Version 0 still sees every rule; version 1 none of the hidden ones.
      const gone = new Set(hidden);
      const live = model.filter((m) => !gone.has(m));
      for (const p of pkts) {
        checkLookup(cls, model, p, 0, pkts);
        checkLookup(cls, live, p, 1, pkts);
      }
      // A rolled-back delete: everything visible again, then hidden again.
      for (const m of hidden) cls.restoreVisibility(byPayload.get(m)!);
      assert.equal(cls.removeAllInvisible(hidden.length), false, "nothing is invisible after a rollback");
      for (const p of pkts) checkLookup(cls, model, p, 1, pkts);
      const again: ModelRule[] = [];
      cls.hideLoose(sel.mask, sel.key, 2, limit, again);
      assert.deepEqual(again, hidden);
      const whole = cls.removeAllInvisible(again.length);
      if (how === 0) assert.equal(whole, true, "a delete of every rule drops whole subtables");
      if (!whole) assert.equal(cls.removeMany(again.map((m) => byPayload.get(m)!)), again.length);
      assert.equal(cls.count, live.length);
      // Built from the remaining rules in the order the classifier now holds
      // them: subtables of equal priority are searched in the order they
      // were made, and where the search stops changes what it looked at.
      const fresh = new Classifier<ModelRule>();
      for (const r of [...cls.rules()]) fresh.insert(new ClsRule(r.payload.mask, r.payload.key, r.priority, r.payload), 0);
      for (const p of pkts) {
        checkLookup(cls, live, p, 2, pkts);
        if (modelLookup(live, p, 0).length > 1) continue;
        const wc1 = newKey();
        const wc2 = newKey();
        assert.equal(cls.lookup(p, 2, wc1)?.payload ?? null, fresh.lookup(p, 0, wc2)?.payload ?? null);
        assert.deepEqual(wc1, wc2, "the wildcards are those of a classifier built without the removed rules");
      }
      // The removed rule objects can go back in (a dropped subtable no longer holds them).
      for (const m of hidden) cls.insert(byPayload.get(m)!, 3);
      assert.equal(cls.count, model.length);
      for (const p of pkts) checkLookup(cls, model, p, 3, pkts);
    }),
    { numRuns: Math.ceil(RUNS / 2) },
  );
});
