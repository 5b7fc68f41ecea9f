/**
 * OFPST_TABLE_FEATURES against real OVS 3.1: the replies a real
 * ovs-vswitchd sends (OpenFlow 1.3, 1.4, 1.5) decode and print exactly as
 * `ovs-ofctl ofp-print` prints them and re-encode to the same bytes;
 * generated tables print the same; malformed tables get OVS's errors; and
 * decode∘encode is the identity on generated bodies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import fc from "fast-check";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import {
  bytesToHex,
  decodeMessage,
  decodeTableFeaturesStrict,
  isDecodeError,
  encodeMessage,
  hexToBytes,
  type OfpMessage,
  ofpToString,
  sortFieldNames,
  type TableFeatures,
} from "../../src/openflow/index.js";
import { multipart, printDiffs } from "./ofctl-oracle.js";
import { table, tableFeaturesSamples } from "./table-features-samples.js";

const skip = ovsSkip("ovs-ofctl", "ovs-vswitchd", "ovsdb-server");

test("table features of a real ovs-vswitchd: same text as ovs-ofctl, same bytes re-encoded", { skip, timeout: 90_000 }, async () => {
  const dir = tempDir("tsovs-tf-");
  const stop = startRealVswitchd(dir);
  try {
    const sock = path.join(dir, "br0.mgmt");
    for (let i = 0; i < 100 && !fs.existsSync(sock); i++) await new Promise((r) => setTimeout(r, 50));
    const all: Uint8Array[] = [];
    for (const version of [4, 5, 6]) {
      const req = encodeMessage({ type: "OFPST_TABLE_FEATURES_REQUEST", version, xid: 2, body: { tables: [] } });
      const parts = await multipart(sock, version, req);
      let tables = 0;
      for (const p of parts) {
        const d = decodeMessage(p);
        assert.ok(d.ok && d.msg.type === "OFPST_TABLE_FEATURES_REPLY", d.ok ? d.msg.type : d.error);
        tables += d.msg.body.tables.length;
        assert.equal(bytesToHex(encodeMessage(d.msg)), bytesToHex(p), `v${version} re-encode`);
      }
      assert.equal(tables, 254, `v${version}: all of OVS's tables`);
      all.push(...parts);
    }
    // Plus byte mutations of each version's first reply (field headers,
    // property lengths, ids): OVS's loose decoding and its condensed text.
    let seed = 77;
    const rnd = (): number => {
      seed = (Math.imul(seed, 1103515245) + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const firsts = all.filter((m, i) => i === 0 || all[i - 1]![0] !== m[0]);
    const mutants = Array.from({ length: 24 }, (_, i) => {
      const b = firsts[i % firsts.length]!.slice();
      for (let k = 0; k < 2; k++) {
        const pos = 16 + Math.floor(rnd() * (b.length - 16));
        b[pos] = rnd() < 0.5 ? Math.floor(rnd() * 256) : b[pos]! ^ (1 << Math.floor(rnd() * 8));
      }
      return b;
    });
    const msgs = [...all, ...mutants];
    const diffs = await printDiffs(msgs, msgs.map((m, i) => (i < all.length ? `v${m[0]}` : `mutant of v${m[0]}`)));
    assert.deepEqual(diffs, [], diffs.slice(0, 1).join("\n").slice(0, 4000));
  } finally {
    stop();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

function samples(): OfpMessage[] {
  const out: OfpMessage[] = [];
  for (let v = 4; v <= 6; v++) {
    for (const body of tableFeaturesSamples(v, true)) out.push({ type: "OFPST_TABLE_FEATURES_REQUEST", version: v, xid: 1, body });
    for (const body of tableFeaturesSamples(v, false)) out.push({ type: "OFPST_TABLE_FEATURES_REPLY", version: v, xid: 2, statsFlags: 1, body });
  }
  return out;
}

test("generated table features print as ovs-ofctl prints them", { skip: ovsSkip("ovs-ofctl"), timeout: 60_000 }, async () => {
  const msgs = samples();
  const diffs = await printDiffs(msgs.map((m) => encodeMessage(m)), msgs.map((m) => `${m.type} v${m.version}`));
  assert.deepEqual(diffs, [], diffs.slice(0, 2).join("\n"));
});

/* ---------------- malformed ---------------- */

const hex = (n: number, w: number): string => n.toString(16).padStart(w * 2, "0");
const prop = (type: number, payload: string): string => {
  const p = payload.replace(/\s/g, "");
  const len = 4 + p.length / 2;
  return hex(type, 2) + hex(len, 2) + p + "00".repeat((8 - (len % 8)) % 8);
};
/** The eight required properties, with `extra` appended (and `drop` types left out). */
function props(extra = "", drop: number[] = [], over: Record<number, string> = {}): string {
  const base: Record<number, string> = {
    0: "00040004", 2: "0102", 4: "00000004", 6: "00000004 00160004", 8: "80000004 8000070c", 10: "80000004", 12: "", 14: "80000806",
    ...over,
  };
  return Object.entries(base).filter(([t]) => !drop.includes(Number(t))).map(([t, p]) => prop(Number(t), p)).join("") + extra;
}
function tableRec(id: number, body: string, cmd = 0, lenAdj = 0): string {
  const b = body.replace(/\s/g, "");
  const len = 64 + b.length / 2 + lenAdj;
  return hex(len, 2) + hex(id, 1) + hex(cmd, 1) + "00000000" + "74303030" + "00".repeat(28) + "ffffffffffffffff" + "00000000000000ff" + "00000000" + "000f4240" + b;
}
function reply(version: number, recs: string): string {
  const r = recs.replace(/\s/g, "");
  return hex(version, 1) + "13" + hex(16 + r.length / 2, 2) + "00000002" + "000c0000" + "00000000" + r;
}

const MALFORMED = [
  reply(4, tableRec(0, props())),
  reply(4, tableRec(0, props()) + tableRec(1, props())),
  reply(4, tableRec(0, props(), 0, 8)),
  reply(4, tableRec(0, props(), 0, -4)),
  reply(4, tableRec(255, props())),
  reply(6, tableRec(0, props(), 7)),
  reply(6, tableRec(0, props(), 2)),
  reply(6, tableRec(0, "", 1)),
  reply(5, tableRec(0, "")),
  reply(4, tableRec(0, props(prop(0, "00010004")))),
  reply(4, tableRec(0, props("", [10]))),
  reply(4, tableRec(0, props("", [], { 2: "01ff" }))),
  reply(4, tableRec(0, props("", [], { 10: "80000104" }))),
  reply(4, tableRec(0, props("", [], { 10: "80000108" }))),
  reply(4, tableRec(0, props("", [], { 12: "80000c04 80000d02" }))),
  reply(4, tableRec(0, props("", [], { 14: "ffff0c08 00002320" }))),
  reply(4, tableRec(0, props("", [], { 14: "ffff0003 00002320" }))),
  reply(4, tableRec(0, props("", [], { 8: "80000104 8000070c 80000b08" }))),
  reply(4, tableRec(0, props("", [], { 8: "80000004 0001ff04 8000070c" }))),
  reply(4, tableRec(0, props("", [], { 8: "800000" }))),
  reply(4, tableRec(0, props("", [], { 0: "00040004 00630004 00010008 0000" }))),
  reply(4, tableRec(0, props("", [], { 0: "00040003" }))),
  reply(4, tableRec(0, props("", [], { 4: "00000004 001b0004 00190004" }))),
  reply(4, tableRec(0, props(prop(0x63, "00000000")))),
  reply(4, tableRec(0, props(prop(0xffff, "00000000 00000001")))),
  reply(4, tableRec(0, props(prop(0xffff, "00002320 00000001")))),
  reply(4, tableRec(0, props(prop(0xfffe, "0000")))),
  reply(4, tableRec(0, props(prop(1, "00040004") + prop(5, "00000004") + prop(3, "")))),
  reply(4, tableRec(0, props() + "0000")),
  reply(4, tableRec(0, props()) + "00"),
  reply(4, tableRec(0, props()) + tableRec(1, props(), 0, 4)),
];

test("malformed table features: ovs-ofctl and tsovs print the same", { skip: ovsSkip("ovs-ofctl"), timeout: 60_000 }, async () => {
  const msgs = MALFORMED.map((h) => hexToBytes(h));
  const diffs = await printDiffs(msgs, MALFORMED.map((_, i) => `case ${i}`));
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
});

test("malformed table features are rejected with OVS's errors", () => {
  const errorOf = (h: string): string => {
    const d = decodeMessage(hexToBytes(h));
    return d.ok ? "ok" : d.error;
  };
  assert.equal(errorOf(MALFORMED[0]!), "ok");
  assert.equal(errorOf(reply(4, tableRec(255, props()))), "OFPTFFC_BAD_TABLE");
  assert.equal(errorOf(reply(6, tableRec(0, props(), 7))), "OFPTFFC_BAD_COMMAND");
  assert.equal(errorOf(reply(4, tableRec(0, props("", [10])))), "OFPTFFC_BAD_FEATURES");
  assert.equal(errorOf(reply(4, tableRec(0, props(prop(0, "00010004"))))), "OFPTFFC_BAD_FEATURES");
  assert.equal(errorOf(reply(4, tableRec(0, props("", [], { 2: "01ff" })))), "OFPBPC_BAD_VALUE");
  assert.equal(errorOf(reply(4, tableRec(0, props("", [], { 10: "80000108" })))), "OFPBMC_BAD_MASK");
  assert.equal(errorOf(reply(4, tableRec(0, props(), 0, 8))), "OFPBPC_BAD_LEN");
  // OpenFlow 1.5 allows a table without properties; 1.4 does not.
  assert.equal(errorOf(reply(6, tableRec(0, "", 1))), "ok");
  assert.equal(errorOf(reply(5, tableRec(0, ""))), "OFPTFFC_BAD_FEATURES");
});

/* ---------------- properties ---------------- */

const FIELDS = ["in_port", "metadata", "eth_src", "eth_dst", "eth_type", "vlan_vid", "ip_src", "ip_dst", "ipv6_src", "nw_proto", "tcp_src", "tcp_dst", "reg0", "reg1", "reg2", "reg5", "xreg0", "tun_id", "tun_metadata3", "ct_state", "pkt_mark", "nd_target", "nsh_c1"];
const ACTIONS = ["output", "group", "set_field", "strip_vlan", "push_vlan", "mod_nw_ttl", "dec_ttl", "set_mpls_ttl", "dec_mpls_ttl", "push_mpls", "pop_mpls", "set_queue"];
const INSTS = ["meter", "apply_actions", "clear_actions", "write_actions", "write_metadata", "goto_table"];

const subset = (all: readonly string[]) => fc.subarray([...all]);

test("table features: decode(encode(m)) = m for generated tables", () => {
  for (const version of [4, 5, 6]) {
    const actionsArb = fc.record({ actions: subset(ACTIONS), setFields: subset(FIELDS).map(sortFieldNames) }).map((x) => ({ ...x }));
    const instArb = fc.record({
      next: fc.uniqueArray(fc.integer({ min: 0, max: 254 }), { maxLength: 20 }).map((a) => a.sort((x, y) => x - y)),
      instructions: subset(version >= 6 ? INSTS.slice(1) : INSTS),
      write: actionsArb,
      apply: actionsArb,
    }).map((x) => ({ ...x }));
    const tableArb = fc.record({
      tableId: fc.integer({ min: 0, max: 254 }),
      name: fc.stringMatching(/^[a-z0-9_]{0,31}$/),
      command: fc.integer({ min: 0, max: version >= 6 ? 3 : 0 }),
      metadataMatch: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      metadataWrite: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      eviction: fc.boolean(),
      vacancy: fc.boolean(),
      maxEntries: fc.integer({ min: 0, max: 0xffffffff }),
      nonmiss: instArb,
      miss: instArb,
      match: subset(FIELDS),
      maskPick: subset(FIELDS),
      wcPick: subset(FIELDS),
    });
    fc.assert(
      fc.property(fc.array(tableArb, { minLength: 1, maxLength: 4 }), (ts) => {
        const tables: TableFeatures[] = ts.map((t) => {
          const match = sortFieldNames(t.match);
          const mask = sortFieldNames(t.maskPick.filter((n) => match.includes(n)));
          const wildcard = sortFieldNames([...mask, ...t.wcPick.filter((n) => match.includes(n))]);
          return {
            ...table(version, t.tableId), name: t.name, command: t.command, metadataMatch: t.metadataMatch, metadataWrite: t.metadataWrite,
            supportsEviction: version >= 5 ? t.eviction : null, supportsVacancyEvents: version >= 5 ? t.vacancy : null,
            maxEntries: t.maxEntries, nonmiss: t.nonmiss, miss: t.miss, match, mask, wildcard,
          };
        });
        const m: OfpMessage = { type: "OFPST_TABLE_FEATURES_REPLY", version, xid: 5, statsFlags: 0, body: { tables } };
        const b = encodeMessage(m);
        const d = decodeMessage(b);
        assert.ok(d.ok, d.ok ? "" : d.error);
        assert.deepEqual(d.msg, m);
        assert.equal(ofpToString(encodeMessage(d.msg)), ofpToString(b));
      }),
      { numRuns: 40 },
    );
  }
});

test("a switch decodes table-features requests strictly, as OVS's switch does", () => {
  const strict = (h: string): string => {
    const r = decodeTableFeaturesStrict(hexToBytes(h).subarray(16), 4);
    return isDecodeError(r) ? r.decodeError : `${r.length} tables`;
  };
  const loose = (h: string): string => {
    const d = decodeMessage(hexToBytes(h));
    return d.ok ? "ok" : d.error;
  };
  const good = reply(4, tableRec(0, props()) + tableRec(1, props()));
  assert.equal(strict(good), "2 tables");
  for (const [h, err] of [
    [reply(4, tableRec(0, props("", [], { 8: "80000004 8000ff04" }))), "OFPBMC_BAD_FIELD"],
    [reply(4, tableRec(0, props("", [], { 0: "00040004 00630004" }))), "OFPBIC_UNKNOWN_INST"],
    [reply(4, tableRec(0, props(prop(0x63, "00000000")))), "OFPBPC_BAD_TYPE"],
    [reply(4, tableRec(0, props(prop(0xffff, "00002320 00000001")))), "OFPBPC_BAD_EXP_TYPE"],
  ] as const) {
    assert.equal(loose(h), "ok", "ofp-print skips what it does not know");
    assert.equal(strict(h), err);
  }
});
