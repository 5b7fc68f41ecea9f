/**
 * Property tests (fast-check) for matches: for generated matches,
 * format → parse gives the match back, NXM and OXM (1.2–1.5) decode(encode)
 * gives the match back, and the flow-key binding of every field reads back
 * what was set. Generated matches are first put in the form OVS keeps
 * (an NXM round trip, then fields whose prerequisites the match does
 * not meet are cleared).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { MF_FIELDS } from "../../src/openflow/meta-flow.js";
import { clearUnmetPrereqs, Match } from "../../src/openflow/match.js";
import { formatMatch } from "../../src/openflow/match-format.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import { decodeNxRaw, decodeOxmMatch, encodeNxRaw, encodeOxmMatch } from "../../src/openflow/nx-match.js";
import { mfGet, mfIsValueValid, mfKey, mfSet, mfValueLen, setTunMetadataMap, unboundMfFields } from "../../src/openflow/mf-key.js";
import { FLOW_U32S } from "../../src/flow/key-layout.js";

/** Fields a generated match may use (tun_metadata needs a TLV map; skb_priority has no wire form). */
const FIELDS = MF_FIELDS.filter((f) => mfKey(f) && !f.name.startsWith("tun_metadata") && f.name !== "skb_priority" && !f.name.startsWith("xxreg"));

const ETH_TYPES = [0x0800, 0x86dd, 0x0806, 0x8035, 0x8847, 0x8848, 0x894f, 0x1234];
const PROTOS = [1, 6, 17, 58, 132, 2, 50];

/** Fields whose text form OVS prints losslessly (match_format drops masks of erspan/gtpu/gbp_flags, NSH needs its dl_type). */
const TEXT_FIELDS = FIELDS.filter((f) => !/^(tun_erspan_|tun_gtpu_|tun_gbp_flags|nsh_|packet_type|ct_nw_proto|ct_tp_)/.test(f.name));

const entryOf = (fields: typeof FIELDS) => fc.record({
  fld: fc.constantFrom(...fields),
  value: fc.uint8Array({ minLength: 16, maxLength: 16 }),
  mask: fc.option(fc.uint8Array({ minLength: 16, maxLength: 16 }), { nil: null }),
});

const matchArbOf = (fields: typeof FIELDS) => fc
  .record({
    ethType: fc.option(fc.constantFrom(...ETH_TYPES), { nil: null }),
    proto: fc.option(fc.constantFrom(...PROTOS), { nil: null }),
    icmpType: fc.option(fc.constantFrom(135, 136, 3), { nil: null }),
    entries: fc.array(entryOf(fields), { maxLength: 8 }),
  })
  .map(({ ethType, proto, icmpType, entries }) => {
    const m = new Match();
    for (const e of entries) {
      const n = mfValueLen(e.fld);
      const mask = e.fld.maskable && e.mask ? e.mask.subarray(0, n) : null;
      // Values a field cannot hold are rejected on the wire (BAD_VALUE), not part of a match.
      if (!mfIsValueValid(e.fld, e.value.subarray(0, n))) continue;
      m.set(e.fld, e.value.subarray(0, n), mask);
    }
    if (ethType !== null) m.setNum("eth_type", ethType);
    if (proto !== null) m.setNum("nw_proto", proto);
    if (icmpType !== null) m.setNum("icmpv6_type", icmpType).setNum("icmpv6_code", 0);
    return m;
  });
const matchArb = matchArbOf(FIELDS);
const textMatchArb = matchArbOf(TEXT_FIELDS);

/** Runs a property and fails with the counterexample's own error message. */
function check<T>(prop: fc.IProperty<T>, params: fc.Parameters<T>): void {
  const r = fc.check(prop, params);
  if (r.failed) {
    const e = (r as { errorInstance?: unknown }).errorInstance;
    assert.fail(`after ${r.numRuns} runs (seed ${r.seed}): ${e instanceof Error ? e.message : String(e)}`);
  }
}

/** The form OVS keeps: what survives an NXM round trip (loose decoding). */
function canonical(m: Match): Match {
  const d = decodeNxRaw(encodeNxRaw(m, 0), false);
  if (!(d instanceof Match)) throw new Error(`${formatMatch(m)}: ${d.decodeError}`);
  clearUnmetPrereqs(d);
  return d;
}

test("every meta-flow field has a flow-key binding (tun_metadata beyond the default map excepted)", () => {
  assert.deepEqual(unboundMfFields().filter((n) => !n.startsWith("tun_metadata")), []);
});

test("mfSet then mfGet reads back value & mask for every field", () => {
  check(
    fc.property(fc.constantFrom(...FIELDS), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), (fld, v, mk) => {
      const n = mfValueLen(fld);
      const key = new Uint32Array(FLOW_U32S);
      const mask = new Uint32Array(FLOW_U32S);
      mfSet(key, mask, fld, v.subarray(0, n), mk.subarray(0, n));
      const g = mfGet(key, mask, fld);
      // Reading back twice through set gives the same thing (bits the field cannot hold are dropped once).
      const key2 = new Uint32Array(FLOW_U32S);
      const mask2 = new Uint32Array(FLOW_U32S);
      mfSet(key2, mask2, fld, g.value, g.mask);
      assert.deepEqual(key2, key);
      assert.deepEqual(mask2, mask);
      for (let i = 0; i < n; i++) assert.equal(g.value[i]! & ~g.mask[i]!, 0);
    }),
    { numRuns: 2000 },
  );
});

test("NXM and OXM: decode(encode(m)) = m", () => {
  check(
    fc.property(matchArb, (m0) => {
      const m = canonical(m0);
      const nx = decodeNxRaw(encodeNxRaw(m, 0), true);
      if (!(nx instanceof Match && nx.equals(m))) throw new Error(`NXM: ${formatMatch(m)} -> ${nx instanceof Match ? formatMatch(nx) : nx.decodeError}`);
      // OXM carries the VLAN PCP only exactly (vlan_pcp), as in OVS.
      const pcpMask = m.mask[15]! & 0xe000;
      if (pcpMask !== 0 && pcpMask !== 0xe000) return;
      for (const v of [3, 4, 5, 6]) {
        const d = decodeOxmMatch(encodeOxmMatch(m, v), false);
        if ("decodeError" in d) throw new Error(`OF${v}: ${formatMatch(m)} -> ${d.decodeError}`);
        if (!d.match.equals(m)) throw new Error(`OF${v}: ${formatMatch(m)} vs ${formatMatch(d.match)}`);
      }
    }),
    { numRuns: 1500 },
  );
});

test("text: parse(format(m)) = m", () => {
  check(
    fc.property(textMatchArb, (m0) => {
      const m = canonical(m0);
      // A default packet_type with no packet field is not printed (OVS neither), so it cannot come back.
      if (m.mask[5] === 0xffffffff && m.key[5] === 0 && !FIELDS.some((f) => f.prereqs !== "none" && !m.isWildcarded(f))) m.mask[5] = 0;
      const text = formatMatch(m);
      // nw_frag "later" without "any" is a state OVS prints as "<error>" and cannot parse either.
      if (text.includes("<error>")) return;
      // nw_frag with one bit matched prints "no"/"later", words that mean both bits (OVS too).
      const fm = m.mask[22]! & 3;
      if ((fm === 1 && (m.key[22]! & 1) === 0) || (fm === 2 && (m.key[22]! & 2) !== 0)) return;
      const r = parseMatch(text);
      if (!r.ok) throw new Error(`${text}: ${r.error}`);
      const back = canonical(r.match);
      if (!back.equals(m)) {
        const diff: string[] = [];
        for (let i = 0; i < FLOW_U32S; i++) if (back.key[i] !== m.key[i] || back.mask[i] !== m.mask[i]) diff.push(`w${i}: ${m.key[i]}/${m.mask[i]} vs ${back.key[i]}/${back.mask[i]}`);
        throw new Error(`${text} -> ${formatMatch(back)} (${diff.join("; ")})`);
      }
    }),
    { numRuns: 1500 },
  );
});

test("tun_metadata follows the TLV map", () => {
  const f = MF_FIELDS.find((x) => x.name === "tun_metadata5")!;
  try {
    assert.equal(setTunMetadataMap([{ index: 5, offset: 8, len: 8 }]), null);
    const m = new Match();
    m.set(f, Uint8Array.of(1, 2, 3, 4, 5, 6, 7, 8));
    assert.equal(formatMatch(m), "tun_metadata5=0x102030405060708");
    const back = parseMatch("tun_metadata5=0x102030405060708");
    assert.ok(back.ok && back.match.equals(m));
    const d = decodeNxRaw(encodeNxRaw(m, 0));
    assert.ok(d instanceof Match && d.equals(m));
    const other = parseMatch("tun_metadata6=1");
    assert.ok(!other.ok);
    assert.match(setTunMetadataMap([{ index: 1, offset: 250, len: 4 }]) ?? "", /does not fit/);
  } finally {
    setTunMetadataMap(null);
  }
  // Without a map (ovs-ofctl offline) the match holds the value itself, as long as it needs.
  assert.equal(mfKey(f), null);
  const long = parseMatch("tun_metadata5=0x1234567890,tun_metadata6=0x1/0xff00000000ff");
  assert.ok(long.ok);
  assert.equal(formatMatch(long.match), "tun_metadata5=0x1234567890,tun_metadata6=0x1/0xff00000000ff");
  const d = decodeNxRaw(encodeNxRaw(long.match, 0));
  assert.ok(d instanceof Match && d.equals(long.match));
  const big = parseMatch(`tun_metadata0=0x${"11".repeat(124)},tun_metadata1=0x${"11".repeat(124)},tun_metadata2=0x${"11".repeat(9)}`);
  assert.ok(!big.ok && big.error === "field tun_metadata2 exceeds maximum size for tunnel metadata (used 257, max 256)");
});
