/**
 * The fast NXM/OXM match encoder (nx-match-write.ts, what flow dumps and
 * flow_mods use) against the entry-by-entry reference encoder
 * (nxEntries): the same bytes for every match, in NXM and every OXM
 * version, for matches built field by field, for raw key/mask words
 * (states `set` never builds), with tun_metadata held by the match and
 * through a TLV map, and for the match text corpus.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MF_FIELDS } from "../../src/openflow/meta-flow.js";
import { Match } from "../../src/openflow/match.js";
import { formatMatch } from "../../src/openflow/match-format.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { encodeNxMatch, encodeNxRaw, encodeNxRawByEntries, encodeOxmMatch, putOxmMatch } from "../../src/openflow/nx-match.js";
import { isDynamicTunMetadata, mfIsValueValid, mfKey, mfValueLen, setTunMetadataMap } from "../../src/openflow/mf-key.js";
import { OfpWriter } from "../../src/openflow/ofp-buffer.js";
import { putNxRaw } from "../../src/openflow/nx-match-write.js";
import { FLOW_U32S, W_DL_TYPE, W_NW_PROTO, W_PACKET_TYPE, W_TP_SRC } from "../../src/flow/key-layout.js";
import { corpus } from "./match-corpus.js";

const VERSIONS = [0, 1, 2, 3, 4, 5, 6];
const ETH_TYPES = [0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x894f, 0x1234];
const PROTOS = [1, 6, 17, 58, 132, 2, 50];

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");

/** Fails with the match and version when the two encoders differ. */
function assertSame(m: Match, what: string): void {
  for (const v of VERSIONS) {
    const ref = encodeNxRawByEntries(m, v);
    const fast = encodeNxRaw(m, v);
    if (hex(fast) !== hex(ref)) assert.fail(`${what} version ${v}: fast ${hex(fast)} != reference ${hex(ref)}`);
  }
}

function check<T>(prop: fc.IProperty<T>, params: fc.Parameters<T>): void {
  const r = fc.check(prop, params);
  if (r.failed) {
    const e = (r as { errorInstance?: unknown }).errorInstance;
    assert.fail(`after ${r.numRuns} runs (seed ${r.seed}): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** Fields a match built with `set` may hold (skb_priority has no wire form). */
const FIELDS = MF_FIELDS.filter((f) => (mfKey(f) !== null || f.name.startsWith("tun_metadata")) && f.name !== "skb_priority");

const entryArb = fc.record({
  fld: fc.constantFrom(...FIELDS),
  value: fc.uint8Array({ minLength: 124, maxLength: 124 }),
  mask: fc.option(fc.uint8Array({ minLength: 124, maxLength: 124 }), { nil: null }),
  short: fc.integer({ min: 1, max: 16 }),
});

const builtArb = fc
  .record({
    ethType: fc.option(fc.constantFrom(...ETH_TYPES), { nil: null }),
    proto: fc.option(fc.constantFrom(...PROTOS), { nil: null }),
    icmpType: fc.option(fc.constantFrom(135, 136, 3), { nil: null }),
    packetType: fc.option(fc.constantFrom(0, 0x10800, 0x186dd, 0x1ffff), { nil: null }),
    entries: fc.array(entryArb, { maxLength: 10 }),
  })
  .map(({ ethType, proto, icmpType, packetType, entries }) => {
    const m = new Match();
    if (packetType !== null) m.setNum("packet_type", packetType);
    for (const e of entries) {
      // Held by the match without a TLV map (any length); through the map only where it binds the field.
      const tunMd = isDynamicTunMetadata(e.fld);
      if (!tunMd && mfKey(e.fld) === null) continue;
      const n = tunMd ? e.short : mfValueLen(e.fld);
      const value = e.value.subarray(0, n);
      const mask = e.fld.maskable && e.mask ? e.mask.subarray(0, n) : null;
      if (!tunMd && !mfIsValueValid(e.fld, value)) continue;
      if (m.tunMdError(e.fld, value, mask)) continue;
      m.set(e.fld, value, mask);
    }
    if (ethType !== null) m.setNum("eth_type", ethType);
    if (proto !== null) m.setNum("nw_proto", proto);
    if (icmpType !== null) m.setNum("icmpv6_type", icmpType).setNum("icmpv6_code", 0);
    return m;
  });

/** Random key/mask words (key kept under its mask), with the words the encoder branches on drawn from meaningful values. */
const wordsArb = fc
  .record({
    mask: fc.array(fc.oneof(fc.constant(0), fc.constant(0xffffffff), fc.nat({ max: 0xffffffff })), { minLength: FLOW_U32S, maxLength: FLOW_U32S }),
    key: fc.array(fc.nat({ max: 0xffffffff }), { minLength: FLOW_U32S, maxLength: FLOW_U32S }),
    sparse: fc.boolean(),
    ethType: fc.constantFrom(...ETH_TYPES),
    proto: fc.constantFrom(...PROTOS),
    tp: fc.constantFrom(0x870000, 0x880000, 0x30004, 0x12345678),
    packetType: fc.constantFrom(0, 0x10800, 0x186dd, 0x1ffff, 0x20000),
  })
  .map(({ mask, key, sparse, ethType, proto, tp, packetType }) => {
    const m = new Match();
    for (let i = 0; i < FLOW_U32S; i++) {
      // Sparse matches look like real flows: most words wildcarded.
      const mk = sparse && (key[i]! & 7) !== 0 ? 0 : mask[i]! >>> 0;
      m.mask[i] = mk;
      m.key[i] = (key[i]! & mk) >>> 0;
    }
    m.key[W_PACKET_TYPE] = packetType & m.mask[W_PACKET_TYPE]!;
    m.mask[W_DL_TYPE] = (m.mask[W_DL_TYPE]! | 0xffff0000) >>> 0;
    m.key[W_DL_TYPE] = ((ethType << 16) | (m.key[W_DL_TYPE]! & 0xffff)) >>> 0;
    m.key[W_NW_PROTO] = ((proto << 24) | (m.key[W_NW_PROTO]! & 0xffffff)) & m.mask[W_NW_PROTO]!;
    m.key[W_TP_SRC] = (tp & m.mask[W_TP_SRC]!) >>> 0;
    return m;
  });

test("fast match encoder equals the reference on matches built field by field (every version)", () => {
  check(fc.property(builtArb, (m) => assertSame(m, formatMatch(m))), { numRuns: 400, seed: 5 });
});

test("fast match encoder equals the reference on raw key/mask words (every version)", () => {
  check(fc.property(wordsArb, (m) => assertSame(m, "raw words")), { numRuns: 300, seed: 11 });
});

test("fast match encoder equals the reference with a TLV map installed", () => {
  assert.equal(setTunMetadataMap([{ index: 0, offset: 0, len: 4 }, { index: 3, offset: 4, len: 8 }, { index: 63, offset: 12, len: 124 }]), null);
  try {
    check(fc.property(builtArb, (m) => assertSame(m, formatMatch(m))), { numRuns: 200, seed: 7 });
    check(fc.property(wordsArb, (m) => assertSame(m, "raw words")), { numRuns: 100, seed: 8 });
  } finally {
    setTunMetadataMap(null);
  }
});

/**
 * Matches that share one mask (the first's), with keys from the others:
 * what a classifier subtable holds. With `cover`, the mask covers the
 * words the encoder branches on (dl_type, nw_proto, the ports that carry
 * ICMP type and code), whose values then vary from match to match.
 */
const sameMaskArb = fc
  .record({
    first: fc.oneof(wordsArb, builtArb),
    cover: fc.boolean(),
    others: fc.array(
      fc.record({
        m: fc.oneof(wordsArb, builtArb),
        ethType: fc.constantFrom(0x86dd, 0x86dd, ...ETH_TYPES),
        proto: fc.constantFrom(58, 58, ...PROTOS),
        tp: fc.constantFrom(0x870000, 0x880000, 0x870001, 0x30004, 0x12345678),
      }),
      { minLength: 1, maxLength: 8 },
    ),
  })
  .map(({ first, cover, others }) => {
    const mask = first.mask.slice();
    if (cover) {
      mask[W_DL_TYPE] = (mask[W_DL_TYPE]! | 0xffff0000) >>> 0;
      mask[W_NW_PROTO] = (mask[W_NW_PROTO]! | 0xff000000) >>> 0;
      mask[W_TP_SRC] = 0xffffffff;
      mask[W_PACKET_TYPE] = 0xffffffff;
    }
    const out: Match[] = [];
    for (const o of [{ m: first, ethType: -1, proto: -1, tp: -1 }, ...others]) {
      const m = new Match();
      m.mask.set(mask);
      for (let i = 0; i < FLOW_U32S; i++) m.key[i] = (o.m.key[i]! & mask[i]!) >>> 0;
      if (o.ethType >= 0) {
        m.key[W_DL_TYPE] = (((o.ethType << 16) | (m.key[W_DL_TYPE]! & 0xffff)) & mask[W_DL_TYPE]!) >>> 0;
        m.key[W_NW_PROTO] = (((o.proto << 24) | (m.key[W_NW_PROTO]! & 0xffffff)) & mask[W_NW_PROTO]!) >>> 0;
        m.key[W_TP_SRC] = (o.tp & mask[W_TP_SRC]!) >>> 0;
        if (cover) m.key[W_PACKET_TYPE] = 0;
      }
      out.push(m);
    }
    return out;
  });

test("encoding by plan (matches given a mask key) equals the reference for every match of that mask", () => {
  check(
    fc.property(sameMaskArb, (ms) => {
      const maskKey = {};
      for (const v of VERSIONS) {
        for (const m of ms) {
          const w = new OfpWriter(16);
          w.u8(0xaa);
          const n = putNxRaw(w, m, v, maskKey);
          const planned = w.finish().subarray(1);
          assert.equal(n, planned.length);
          const ref = encodeNxRawByEntries(m, v);
          if (hex(planned) !== hex(ref)) assert.fail(`version ${v}: planned ${hex(planned)} != reference ${hex(ref)} (${formatMatch(m)})`);
        }
      }
    }),
    { numRuns: 600, seed: 13 },
  );
});

test("fast match encoder equals the reference on the match text corpus", () => {
  let n = 0;
  for (const text of corpus(1500, 3)) {
    const r = parseMatch(text);
    if ("error" in r) continue;
    assertSame(r.match, text);
    n++;
  }
  assert.ok(n > 500, `only ${n} corpus matches parsed`);
});

test("padded forms: NXM to 8 bytes with the unpadded length, OXM with its header, also in place after other bytes", () => {
  const r = parseMatch("tcp,nw_src=10.0.0.0/8,tp_dst=80,reg3=0x5/0xff");
  assert.ok(!("error" in r));
  const raw0 = encodeNxRawByEntries(r.match, 0);
  const nm = encodeNxMatch(r.match);
  assert.equal(nm.length, raw0.length);
  assert.equal(nm.bytes.length, (raw0.length + 7) & ~7);
  assert.equal(hex(nm.bytes.subarray(0, nm.length)), hex(raw0));
  assert.ok(nm.bytes.subarray(nm.length).every((x) => x === 0));
  for (const v of [3, 4, 5, 6]) {
    const raw = encodeNxRawByEntries(r.match, v);
    const ox = encodeOxmMatch(r.match, v);
    assert.equal(hex(ox.subarray(0, 4)), hex(Uint8Array.of(0, 1, (4 + raw.length) >> 8, (4 + raw.length) & 0xff)));
    assert.equal(hex(ox.subarray(4, 4 + raw.length)), hex(raw));
    assert.equal(ox.length, (4 + raw.length + 7) & ~7);
    const w = new OfpWriter(8);
    w.u8(0xaa).u8(0xbb).u8(0xcc);
    putOxmMatch(w, r.match, v);
    const out = w.finish();
    assert.equal(hex(out.subarray(3)), hex(ox));
  }
});
