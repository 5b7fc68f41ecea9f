import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  FLOW_FIELDS,
  FLOW_U32S,
  FLOW_HOT_U32S,
  GENEVE_U32S,
  REGION_CTX_START,
  REGION_GENEVE_START,
  REGION_L2_START,
  REGION_L3_START,
  REGION_L4_START,
  REGION_NSH_START,
  REGION_OF_START,
  REGION_TUN_START,
  TUN_U32S,
  flowField,
  getField,
  getFieldBytes,
  newFlowKey,
  setField,
  setFieldBytes,
  getFieldU64,
  setFieldU64,
  keyByte,
  type FlowField,
} from "../../src/flow/index.js";
import { PKT_GENEVE_U32S, PKT_TUN_U32S } from "../../src/packet/index.js";

function bitsOf(f: FlowField): number[] {
  const out: number[] = [];
  if (f.bytes !== 0) {
    for (let i = 0; i < f.bytes * 8; i++) {
      const byte = f.offset + (i >> 3);
      out.push((byte >> 2) * 32 + (31 - 8 * (byte & 3) - (i & 7)));
    }
  } else {
    for (let i = 0; i < f.bits; i++) out.push(f.word * 32 + f.shift + i);
  }
  return out;
}

test("no two fields share a bit and every field lies inside the key", () => {
  const owner = new Map<number, string>();
  for (const f of FLOW_FIELDS) {
    for (const bit of bitsOf(f)) {
      assert.ok(bit >= 0 && bit < FLOW_U32S * 32, `${f.name} bit ${bit} outside key`);
      const prev = owner.get(bit);
      assert.equal(prev, undefined, `${f.name} overlaps ${prev}`);
      owner.set(bit, f.name);
    }
    if (f.bytes === 0) assert.ok(f.shift + f.bits <= 32, `${f.name} crosses a word`);
    else assert.equal(f.word, f.offset >> 2, `${f.name} word/offset disagree`);
  }
});

test("fields sit in their documented regions, hottest first", () => {
  const ranges: Record<FlowField["region"], [number, number]> = {
    meta: [0, REGION_L2_START],
    l2: [REGION_L2_START, REGION_L3_START],
    l3: [REGION_L3_START, REGION_L4_START],
    l4: [REGION_L4_START, REGION_NSH_START],
    nsh: [REGION_NSH_START, REGION_TUN_START],
    tun: [REGION_TUN_START, REGION_CTX_START],
    ctx: [REGION_CTX_START, REGION_GENEVE_START],
    geneve: [REGION_GENEVE_START, REGION_OF_START],
    of: [REGION_OF_START, FLOW_U32S],
  };
  for (const f of FLOW_FIELDS) {
    const [lo, hi] = ranges[f.region];
    const lastWord = f.bytes ? (f.offset + f.bytes - 1) >> 2 : f.word;
    assert.ok(f.word >= lo && lastWord < hi, `${f.name} (${f.word}..${lastWord}) outside ${f.region} ${lo}..${hi - 1}`);
  }
  assert.equal(FLOW_HOT_U32S, REGION_NSH_START);
  assert.equal(TUN_U32S, PKT_TUN_U32S, "dp-packet's tunnel words match the key's TUN region");
  assert.equal(GENEVE_U32S, PKT_GENEVE_U32S);
  assert.equal(REGION_OF_START - REGION_GENEVE_START, GENEVE_U32S);
});

test("names are unique and aliases resolve", () => {
  const names = new Set(FLOW_FIELDS.map((f) => f.name));
  assert.equal(names.size, FLOW_FIELDS.length);
  assert.equal(flowField("arp_op"), flowField("nw_proto"));
  assert.equal(flowField("nd_sll"), flowField("arp_sha"));
  assert.equal(flowField("no_such_field"), undefined);
  for (const n of ["in_port", "dl_src", "vlan_tci", "mpls_lse2", "ipv6_label", "tcp_flags", "nd_target", "tun_id", "tun_geneve", "ct_label", "reg15", "metadata", "nsh_c4"]) {
    assert.ok(flowField(n), n);
  }
});

test("setting one field never disturbs another (property)", () => {
  const ints = FLOW_FIELDS.filter((f) => f.bytes === 0);
  fc.assert(
    fc.property(fc.integer({ min: 0, max: ints.length - 1 }), fc.integer({ min: 0, max: 0xffffffff }), fc.integer({ min: 0, max: 0xffffffff }), (fi, fill, v) => {
      const f = ints[fi]!;
      const key = newFlowKey().fill(fill);
      const before = key.slice();
      setField(key, f, v);
      const mask = f.bits === 32 ? 0xffffffff : (1 << f.bits) - 1;
      assert.equal(getField(key, f), (v & mask) >>> 0);
      for (let w = 0; w < FLOW_U32S; w++) {
        const allowed = w === f.word ? ((mask << f.shift) >>> 0) : 0;
        assert.equal((key[w]! & ~allowed) >>> 0, (before[w]! & ~allowed) >>> 0, `word ${w} changed by ${f.name}`);
      }
    }),
  );
});

test("byte fields round-trip big-endian", () => {
  const key = newFlowKey();
  const src = flowField("dl_src")!;
  setFieldBytes(key, src, Uint8Array.of(1, 2, 3, 4, 5, 6));
  assert.deepEqual([...getFieldBytes(key, src)], [1, 2, 3, 4, 5, 6]);
  assert.equal(keyByte(key, src.offset), 1);
  // dl_dst+dl_src are the 12 wire bytes: src starts in the low half of word 12.
  assert.equal(key[src.word]! & 0xffff, 0x0102);
  const v6 = flowField("ipv6_src")!;
  setFieldBytes(key, v6, Uint8Array.from({ length: 16 }, (_, i) => i + 0x10));
  assert.equal(key[v6.word], 0x10111213);
  assert.equal(key[v6.word + 3], 0x1c1d1e1f);
  const tunId = flowField("tun_id")!;
  setFieldU64(key, tunId, 0x0123456789abcdefn);
  assert.equal(getFieldU64(key, tunId), 0x0123456789abcdefn);
  assert.deepEqual([...getFieldBytes(key, flowField("tp_src")!)], [0, 0]);
  setFieldBytes(key, flowField("tp_dst")!, Uint8Array.of(0x12, 0x34));
  assert.equal(getField(key, flowField("tp_dst")!), 0x1234);
  assert.throws(() => getField(key, src), RangeError);
});

test("DpPacket.tun indexes are the TUN region's words", async () => {
  const L = await import("../../src/flow/index.js");
  assert.equal(L.TUN_IDX_ID, L.W_TUN_ID - L.REGION_TUN_START);
  assert.equal(L.TUN_IDX_DST, L.W_TUN_DST - L.REGION_TUN_START);
  assert.equal(L.TUN_IDX_IPV6_DST, L.W_TUN_IPV6_DST - L.REGION_TUN_START);
  assert.equal(L.TUN_IDX_GENEVE_LEN, L.W_TUN_GENEVE_LEN - L.REGION_TUN_START);
  assert.equal(L.TUN_IDX_GENEVE_LEN, L.TUN_U32S - 1);
});

test("DpPacket.hasTunnel looks at the key layout's tun_dst words", async () => {
  const L = await import("../../src/flow/index.js");
  const { DpPacket } = await import("../../src/packet/index.js");
  const p = new DpPacket(64);
  assert.equal(p.hasTunnel(), false);
  p.tun[L.TUN_IDX_DST] = 1;
  assert.equal(p.hasTunnel(), true);
  p.tun.fill(0);
  p.tun[L.TUN_IDX_IPV6_DST + 3] = 1;
  assert.equal(p.hasTunnel(), true);
  p.tun.fill(0);
  p.tun[L.TUN_IDX_SRC] = 1;
  assert.equal(p.hasTunnel(), false);
});
