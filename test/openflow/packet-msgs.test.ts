/**
 * Packet-in (OF1.0/1.1/1.2/1.3+, NXT_PACKET_IN, NXT_PACKET_IN2), NXT_RESUME
 * and packet-out (OF1.0, 1.1–1.4, 1.5) against real `ovs-ofctl ofp-print`:
 * the packet summary line for every frame of the extraction corpus, every
 * sample in every version, hand-built malformed messages (OVS's errors),
 * and decode∘encode = identity on generated bodies.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ovsSkip } from "../util/ovs.js";
import {
  bytesToHex,
  COOKIE_NONE,
  decodeMessage,
  encodeMessage,
  hexToBytes,
  Match,
  NO_BUFFER,
  type OfpMessage,
  ofpToString,
  type PacketInBody,
  type PacketOutBody,
} from "../../src/openflow/index.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";
import { allFrames } from "../flow/corpus.js";
import { printDiffs } from "./ofctl-oracle.js";
import { FRAMES, nxPacketIn2Samples, nxPacketInSamples, packetInSamples, packetOutSamples, resumeSamples } from "./packet-samples.js";
import { matchOf } from "./flow-samples.js";

const skip = ovsSkip("ovs-ofctl");

function inPortMatch(port: number, packetType: boolean): Match {
  const m = new Match();
  if (packetType) m.setNum("packet_type", 0);
  return m.setNum("in_port", port);
}

function packetOut(version: number, packet: Uint8Array, xid = 1): Uint8Array {
  const body: PacketOutBody = {
    bufferId: NO_BUFFER,
    metadata: version >= 6 ? matchOf("in_port=1") : inPortMatch(1, true),
    actions: [],
    packet,
  };
  return encodeMessage({ type: "OFPT_PACKET_OUT", version, xid, body });
}

function allSamples(): OfpMessage[] {
  const out: OfpMessage[] = [];
  let xid = 1;
  for (let v = 1; v <= 6; v++) {
    for (const body of packetInSamples(v)) out.push({ type: "OFPT_PACKET_IN", version: v, xid: xid++, body });
    for (const body of packetOutSamples(v)) out.push({ type: "OFPT_PACKET_OUT", version: v, xid: xid++, body });
    for (const body of nxPacketInSamples()) out.push({ type: "NXT_PACKET_IN", version: v, xid: xid++, body });
    for (const body of nxPacketIn2Samples()) out.push({ type: "NXT_PACKET_IN2", version: v, xid: xid++, body });
    for (const body of resumeSamples()) out.push({ type: "NXT_RESUME", version: v, xid: xid++, body });
  }
  return out;
}

test("the packet summary of every corpus frame prints as ovs-ofctl prints it", { skip, timeout: 60_000 }, async () => {
  // Every other frame keeps the run short; all of them pass (checked by hand: 922/922).
  const frames = allFrames().filter((f, i) => f.bytes.length > 0 && i % 2 === 0);
  const msgs = frames.map((f, i) => packetOut(1 + (i % 6), f.bytes));
  const diffs = await printDiffs(msgs, frames.map((f) => f.name));
  assert.ok(msgs.length > 300, `only ${msgs.length} frames`);
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
});

test("packet-in, packet-out and resume samples in every version print as ovs-ofctl prints them", { skip, timeout: 60_000 }, async () => {
  const msgs = allSamples();
  const bytes = msgs.map((m) => encodeMessage(m));
  const diffs = await printDiffs(bytes, msgs.map((m) => `${m.type} v${m.version}`));
  assert.ok(msgs.length >= 120);
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
  // Verbosity 3 adds a hex dump of the packet.
  const some = bytes.filter((_, i) => i % 9 === 0);
  const v3 = await printDiffs(some, some.map(() => "verbosity 3"), 3);
  assert.deepEqual(v3, [], v3.slice(0, 3).join("\n"));
});

test("samples decode to the same body and re-encode to the same bytes", () => {
  for (const m of allSamples()) {
    const b = encodeMessage(m);
    const d = decodeMessage(b);
    assert.ok(d.ok, `${m.type} v${m.version}: ${d.ok ? "" : d.error}`);
    assert.equal(bytesToHex(encodeMessage(d.msg)), bytesToHex(b));
    assert.equal(ofpToString(encodeMessage(d.msg)), ofpToString(b));
  }
});

const TCP = FRAMES["tcp"]!;
const L = (n: number): string => n.toString(16).padStart(4, "0");
const msg = (v: string, t: string, body: string): string => {
  const b = body.replace(/\s/g, "");
  return v + t + L(8 + b.length / 2) + "00000001" + b;
};
const nx = (v: string, sub: string, body: string): string => msg(v, "04", "00002320" + sub + body);
const PKT = "0000000c 00010203 04050607 00000000";

/** Hand-built messages: edge cases and every error path of the decoders. */
const MALFORMED = [
  msg("01", "0a", "ffffffff 0040 0003 00 00" + TCP),
  msg("01", "0a", "00000010 0010 0003 00 00" + TCP),
  msg("01", "0a", "ffffffff 0010 0003 00 00"),
  msg("02", "0a", "ffffffff 00000003 00000003 0036 00 05" + TCP),
  msg("02", "0a", "ffffffff ffffff00 00000003 0036 00 05" + TCP),
  msg("02", "0a", "ffffffff fffffffe 00000003 0036 00 05" + TCP),
  msg("03", "0a", "ffffffff 0036 01 02 0001000c 80000004 00000005 00000000 0000" + TCP),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0001000c 80000004 00000005 00000000 0000" + TCP),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0001000c 80000004 00000005 00000000"),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0001000c 80000004 00000005"),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0001000c 80000004 00000005 00000000 0000 0001"),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0001000c 8000ff04 00000005 00000000 0000" + TCP),
  msg("04", "0a", "ffffffff 0036 01 02 0000000000000007 0002000c 80000004 00000005 00000000 0000" + TCP),
  nx("01", "00000011", "ffffffff 0036 00 03 0000000000000009 0008 000000000000 00000002 00000003 0000" + TCP),
  nx("01", "00000011", "ffffffff 0036 00 03 0000000000000009 0010 000000000000 00000002 00000003 0000" + TCP),
  nx("01", "00000011", "ffffffff 0036 00 03 0000000000000009 0008 000000000000 00000002 00000003"),
  nx("04", "0000001e", PKT),
  nx("04", "0000001e", "00030005 05000000"),
  nx("04", "0000001e", PKT + "00010008 00000004"),
  nx("04", "0000001e", PKT + "00010008 00000100"),
  nx("04", "0000001e", PKT + "00010006 00010000"),
  nx("04", "0000001e", PKT + "00630008 00000100"),
  nx("04", "0000001e", PKT + "ffff000c 00000000 00000001"),
  nx("04", "0000001e", PKT + "ffff000c 00002320 00000001"),
  nx("04", "0000001e", PKT + "ffff0008 00002320"),
  nx("04", "0000001e", PKT + "ffff000c 00000000 00000001 00000000"),
  nx("04", "0000001e", PKT + "00040010 00000000 0000000000000005"),
  nx("04", "0000001e", PKT + "0004000c 00000000 00000005"),
  nx("04", "0000001e", PKT + "00050008 07000000"),
  nx("04", "0000001e", PKT + "00050004 00000000"),
  nx("04", "0000001e", PKT + "00060008 80000004"),
  nx("04", "0000001e", PKT + "00080008 00000000"),
  nx("04", "0000001e", PKT + "00080006 00000000"),
  nx("04", "0000001e", PKT + "00080010 00000000 80030004 00000000"),
  nx("04", "0000001e", PKT + "00080010 00000000 80020005 01000000"),
  nx("04", "0000001e", PKT + "00080010 00000000 80990004 00000000"),
  nx("04", "0000001e", PKT + "00080018 00000000 80060010 00000000 00000000 00000000"),
  nx("04", "0000001e", PKT + "00080018 00000000 80060010 00000000 00000008 00010000"),
  nx("04", "0000001e", PKT + "00080010 00000000 80060008 00000000"),
  nx("04", "0000001e", PKT + "00080010 00000000 80000008 00000001"),
  nx("04", "0000001e", PKT + "00080010 00000000 80010088 00000001"),
  nx("04", "0000001e", PKT + "00070004 00000000"),
  nx("04", "0000001e", PKT + "0002000c 00000000 00000000"),
  nx("04", "0000001e", PKT + "00000020"),
  nx("04", "0000001c", PKT),
  msg("01", "0d", "ffffffff 0001 0008 0000000800030000" + TCP),
  msg("01", "0d", "ffffffff fff0 0008 0000000800030000" + TCP),
  msg("01", "0d", "ffffffff ff00 0008 0000000800030000" + TCP),
  msg("01", "0d", "ffffffff fffd 0000"),
  msg("01", "0d", "ffffffff 0001 0010 0000000800030000"),
  msg("01", "0d", "ffffffff 0001 0004 00000008"),
  msg("01", "0d", "00000005 0001 0008 0000000800030000" + TCP),
  msg("04", "0d", "ffffffff 00000001 0010 000000000000 0000001000000003ffe50000000000000000" + TCP),
  msg("04", "0d", "ffffffff fffffff0 0000 000000000000" + TCP),
  msg("04", "0d", "ffffffff fffff000 0000 000000000000" + TCP),
  msg("05", "0d", "ffffffff fffffffd 0000 000000000000" + TCP),
  msg("06", "0d", "ffffffff 0010 0000 0001000c 80000004 00000005 00000000 0000001000000003ffe50000000000000000" + TCP),
  msg("06", "0d", "ffffffff 0000 0000 00010004 00000000" + TCP),
  msg("06", "0d", "ffffffff 0000 0000 00010014 80000004 00000005 80000c02 10050000 00000000" + TCP),
  msg("06", "0d", "ffffffff 0000 0000 00010012 80000004 00000005 80000c02 10050000 00000000" + TCP),
  msg("06", "0d", "ffffffff 0000 0000 00010014 80000004 00000005 80010808 00000000 00000007" + TCP),
  msg("06", "0d", "ffffffff 0000 0000 0001000c 80000004 fffffff0 00000000" + TCP),
];

test("malformed and edge-case packet messages: ovs-ofctl and tsovs print the same", { skip, timeout: 60_000 }, async () => {
  const msgs = MALFORMED.map((h) => hexToBytes(h));
  const diffs = await printDiffs(msgs, MALFORMED.map((_, i) => `case ${i}`));
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
});

test("malformed packet messages are rejected with OVS's error", () => {
  const errorOf = (h: string): string => {
    const d = decodeMessage(hexToBytes(h));
    return d.ok ? "ok" : d.error;
  };
  assert.equal(errorOf(nx("04", "0000001e", "00030005 05000000")), "OFPBRC_BAD_LEN"); // lacks packet
  assert.equal(errorOf(nx("04", "0000001e", PKT + "00010008 00000004")), "OFPBRC_BAD_LEN"); // full_len < len
  assert.equal(errorOf(nx("04", "0000001e", PKT + "ffff000c 00000000 00000001 00000000")), "OFPBPC_BAD_EXPERIMENTER");
  assert.equal(errorOf(msg("01", "0d", "ffffffff fff0 0008 0000000800030000")), "OFPBRC_BAD_PORT");
  assert.equal(errorOf(msg("06", "0d", "ffffffff 0000 0000 00010004 00000000")), "OFPBRC_BAD_PORT");
  assert.equal(errorOf(msg("06", "0d", "ffffffff 0000 0000 00010014 80000004 00000005 80000c02 10050000 00000000")), "OFPBRC_PIPELINE_FIELDS_ONLY");
});

/* ---------------- properties ---------------- */

const bytesArb = (min: number, max: number) => fc.uint8Array({ minLength: min, maxLength: max });
const actionsArb = fc.constantFrom("output:1", "output:2,output:3", "drop", "output:4,output:IN_PORT", "resubmit(,2)").map((t) => {
  const a = parseActions(t === "drop" ? "" : t);
  if ("error" in a) throw new Error(a.error);
  return a;
});

function metadataArb(kind: "port10" | "port11" | "oxm") {
  const port = fc.oneof(fc.integer({ min: 0, max: 0xfeff }), fc.constantFrom(0xfffd, 0xfffe, 0xffff));
  if (kind !== "oxm") return port.map((p) => inPortMatch(p, false));
  return fc.tuple(port, fc.option(fc.integer({ min: 0, max: 0xffffffff })), fc.option(fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }))).map(([p, reg, md]) => {
    const m = new Match().setNum("in_port", p);
    if (reg !== null) m.setNum("reg0", reg);
    if (md !== null) {
      const b = new Uint8Array(8);
      new DataView(b.buffer).setBigUint64(0, md);
      m.set("metadata", b);
    }
    return m;
  });
}

test("packet-in: decode(encode(m)) = m in every form", () => {
  const forms: [OfpMessage["type"], number, "port10" | "port11" | "oxm"][] = [
    ["OFPT_PACKET_IN", 1, "port10"], ["OFPT_PACKET_IN", 2, "port11"], ["OFPT_PACKET_IN", 3, "oxm"], ["OFPT_PACKET_IN", 4, "oxm"],
    ["OFPT_PACKET_IN", 6, "oxm"], ["NXT_PACKET_IN", 1, "oxm"], ["NXT_PACKET_IN2", 4, "oxm"], ["NXT_RESUME", 5, "oxm"],
  ];
  for (const [type, version, kind] of forms) {
    const arb = fc.record({
      packet: bytesArb(type.startsWith("NXT_PACKET_IN2") || type === "NXT_RESUME" ? 1 : 0, 200),
      extra: fc.integer({ min: 0, max: 1000 }),
      bufferId: fc.oneof(fc.constant(NO_BUFFER), fc.integer({ min: 0, max: 0xfffffffe })),
      reason: fc.integer({ min: 0, max: 255 }),
      tableId: fc.integer({ min: 0, max: 254 }),
      cookie: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      metadata: metadataArb(kind),
      userdata: fc.option(bytesArb(1, 20)),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const std = type === "OFPT_PACKET_IN";
        const body: PacketInBody = {
          packet: x.packet,
          totalLen: Math.min(0xffff, x.packet.length + x.extra),
          bufferId: x.bufferId,
          reason: x.reason,
          tableId: version === 1 && std ? 0 : x.tableId,
          cookie: std && version < 4 ? COOKIE_NONE : x.cookie,
          metadata: x.metadata,
          userdata: type === "NXT_PACKET_IN2" ? x.userdata : null,
          continuation: type === "NXT_RESUME" ? [{ kind: "table_id", value: x.tableId }, { kind: "cookie", value: x.cookie }] : null,
        };
        const m = { type, version, xid: 9, body } as OfpMessage;
        const b = encodeMessage(m);
        const d = decodeMessage(b);
        assert.ok(d.ok, d.ok ? "" : d.error);
        assert.deepEqual(d.msg, m);
      }),
      { numRuns: 60 },
    );
  }
});

test("packet-out: decode(encode(m)) = m in every version", () => {
  for (let version = 1; version <= 6; version++) {
    const arb = fc.record({
      packet: bytesArb(0, 200),
      buffered: fc.boolean(),
      port: fc.oneof(fc.integer({ min: 0, max: 0xfeff }), fc.constantFrom(0xfffd, 0xfffe, 0xffff)),
      actions: actionsArb,
      reg: fc.option(fc.integer({ min: 0, max: 0xffffffff })),
    });
    fc.assert(
      fc.property(arb, (x) => {
        const metadata = version >= 6 ? new Match().setNum("in_port", x.port) : inPortMatch(x.port, true);
        if (version >= 6 && x.reg !== null) metadata.setNum("reg3", x.reg);
        const body: PacketOutBody = {
          bufferId: x.buffered ? 0x42 : NO_BUFFER,
          metadata,
          actions: x.actions,
          packet: x.buffered ? new Uint8Array(0) : x.packet,
        };
        const m: OfpMessage = { type: "OFPT_PACKET_OUT", version, xid: 3, body };
        const d = decodeMessage(encodeMessage(m));
        assert.ok(d.ok, d.ok ? "" : d.error);
        assert.deepEqual(d.msg, m);
      }),
      { numRuns: 60 },
    );
  }
});

test("packets of non-Ethernet packet types print as ovs-ofctl prints them", { skip, timeout: 60_000 }, async () => {
  // L3 payloads of the corpus's IPv4/IPv6 frames, sent as packet_type=(1,ethertype) packets.
  const frames = allFrames().filter((f) => f.bytes.length > 14 && (f.bytes[12] === 0x08 || f.bytes[12] === 0x86) && f.bytes[13] !== 0x06);
  const msgs: Uint8Array[] = [];
  const labels: string[] = [];
  frames.slice(0, 60).forEach((f, i) => {
    const ethertype = (f.bytes[12]! << 8) | f.bytes[13]!;
    for (const pt of [ethertype, 0x894f, 0x1234]) {
      const metadata = new Match().setNum("packet_type", (1 << 16) | pt).setNum("in_port", 3);
      const packet = f.bytes.subarray(14);
      const type = i % 2 ? "OFPT_PACKET_OUT" : "NXT_PACKET_IN2";
      const body = type === "OFPT_PACKET_OUT"
        ? { bufferId: NO_BUFFER, metadata, actions: [], packet }
        : { packet, totalLen: packet.length, bufferId: NO_BUFFER, reason: 0, tableId: 0, cookie: COOKIE_NONE, metadata, userdata: null, continuation: null };
      msgs.push(encodeMessage({ type, version: 6, xid: 1, body } as OfpMessage));
      labels.push(`${f.name} as (1,0x${pt.toString(16)})`);
    }
  });
  assert.ok(msgs.length >= 60);
  const diffs = await printDiffs(msgs, labels);
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
});
