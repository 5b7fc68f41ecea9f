/**
 * The mirrors of one bridge (src/ofproto/mirror.ts): indexes, the masks
 * put on bundles, destinations shared by several mirrors, the 32-mirror
 * limit, mirrors whose output bundle goes away, and statistics credited
 * through the revalidator's rule-shaped entries.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { MAX_MIRRORS, MirrorBridge, configureMirrors, type MirrorSettings } from "../../src/ofproto/mirror.js";
import type { XBundle } from "../../src/ofproto/xlate-types.js";

function bundle(name: string): XBundle {
  return { name, ports: [], vlanMode: "trunk", vlan: -1, trunks: null, cvlans: null, qinqEthtype: 0x8100 };
}

function bundles(...names: string[]): Map<string, XBundle> {
  return new Map(names.map((n) => [n, bundle(n)]));
}

function span(name: string, srcs: string[], dsts: string[], out: string | null, outVlan = -1): MirrorSettings {
  return { name, srcs, dsts, vlans: null, outBundle: out, outVlan, snaplen: 0 };
}

test("bundles get the masks of the mirrors that select or output to them", () => {
  const mb = new MirrorBridge();
  const bs = bundles("p1", "p2", "p3", "p4");
  const r = configureMirrors(mb, [
    { key: "a", settings: span("m1", ["p1"], [], "p3") },
    { key: "b", settings: span("m2", [], ["p2"], "p4") },
  ], bs);
  assert.equal(r.changed, true);
  assert.equal(r.failed.size, 0);
  assert.equal(bs.get("p1")!.mirrorSrc, 1);
  assert.equal(bs.get("p2")!.mirrorDst, 2);
  assert.equal(bs.get("p3")!.mirrorOut, true);
  assert.equal(bs.get("p3")!.mirrorOutMask, 1);
  assert.equal(bs.get("p4")!.mirrorOutMask, 2);
  assert.equal(bs.get("p1")!.mirrorOut, false);
  // Different destinations: no duplicates.
  assert.equal(mb.mirror("a")!.dupMirrors, 1);
  // The same configuration again changes nothing.
  assert.equal(configureMirrors(mb, [
    { key: "a", settings: span("m1", ["p1"], [], "p3") },
    { key: "b", settings: span("m2", [], ["p2"], "p4") },
  ], bs).changed, false);
});

test("mirrors with the same destination are duplicates of each other", () => {
  const mb = new MirrorBridge();
  const bs = bundles("p1", "p2", "p3");
  configureMirrors(mb, [
    { key: "a", settings: span("m1", ["p1"], [], "p3") },
    { key: "b", settings: span("m2", [], ["p2"], "p3") },
    { key: "c", settings: span("m3", ["p2"], [], null, 12) },
  ], bs);
  assert.equal(mb.mirror("a")!.dupMirrors, 0b011);
  assert.equal(mb.mirror("b")!.dupMirrors, 0b011);
  assert.equal(mb.mirror("c")!.dupMirrors, 0b100);
});

test("an output bundle that is not on the bridge, or that goes away, ends the mirror", () => {
  const mb = new MirrorBridge();
  const bs = bundles("p1", "p2", "p3");
  const r = configureMirrors(mb, [{ key: "a", settings: span("m1", ["p1"], [], "q1") }], bs);
  assert.equal(r.failed.get("a"), "no-output-bundle");
  assert.equal(mb.hasMirrors, false);
  configureMirrors(mb, [{ key: "a", settings: span("m1", ["p1", "nope"], [], "p3") }], bs);
  assert.equal(mb.hasMirrors, true);
  assert.deepEqual([...mb.mirror("a")!.srcs], ["p1"]);
  bs.delete("p3");
  assert.equal(mb.applyToBundles(bs), true);
  assert.equal(mb.hasMirrors, false);
  assert.equal(bs.get("p1")!.mirrorSrc, 0);
});

test("at most 32 mirrors; a freed index is reused", () => {
  const mb = new MirrorBridge();
  const bs = bundles("p1", "p2");
  const list = [];
  for (let i = 0; i <= MAX_MIRRORS; i++) list.push({ key: `k${i}`, settings: span(`m${i}`, ["p1"], [], "p2") });
  const r = configureMirrors(mb, list, bs);
  assert.equal(r.failed.get(`k${MAX_MIRRORS}`), "too-many");
  assert.equal(mb.size, MAX_MIRRORS);
  assert.equal(bs.get("p1")!.mirrorSrc, 0xffffffff);
  configureMirrors(mb, list.filter((m) => m.key !== "k5"), bs);
  assert.equal(mb.mirror(`k${MAX_MIRRORS}`)!.idx, 5);
});

test("statistics: credited per mirror of a mask; a change retires the old entries", () => {
  const mb = new MirrorBridge();
  const bs = bundles("p1", "p2", "p3");
  configureMirrors(mb, [
    { key: "a", settings: span("m1", ["p1"], [], "p3") },
    { key: "b", settings: span("m2", ["p1"], [], null, 5) },
  ], bs);
  const r = mb.statsRule(0b11);
  assert.equal(mb.statsRule(0b11), r);
  r.credit(2, 200, 0);
  mb.credit(0b10, 1, 60);
  assert.deepEqual(mb.stats("a"), { packets: 2, bytes: 200 });
  assert.deepEqual(mb.stats("b"), { packets: 3, bytes: 260 });
  assert.equal(mb.stats("zz"), null);
  configureMirrors(mb, [{ key: "a", settings: span("m1", ["p1"], [], "p3") }], bs);
  assert.equal(r.removed, true);
  assert.notEqual(mb.statsRule(0b11), r);
  assert.deepEqual(mb.stats("a"), { packets: 2, bytes: 200 });
});
