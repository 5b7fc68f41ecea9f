/**
 * Property tests over generated message bodies: for every version a type
 * exists in, decode(encode(m)) = m for bodies drawn at random in the
 * canonical form the version can carry (so nothing is normalised away).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  decodeMessage,
  encodeMessage,
  OFP_ERRORS,
  errorSpelling,
  type OfpErrorName,
  type OfpMessage,
  type PhyPort,
} from "../../src/openflow/index.js";

const u8 = fc.integer({ min: 0, max: 0xff });
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u64 = fc.bigInt({ min: 0n, max: 0xffffffffffffffffn });
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 });
const name = fc.stringMatching(/^[a-z0-9-]{0,15}$/);
const version = fc.integer({ min: 1, max: 6 });

/** OpenFlow port numbers OVS can carry in every version. */
const portNo = fc.oneof(fc.integer({ min: 0, max: 0xfeff }), fc.integer({ min: 0xfff7, max: 0xffff }));

function roundTrip(m: OfpMessage): void {
  const d = decodeMessage(encodeMessage(m));
  assert.ok(d.ok, `${m.type} v${m.version}: ${d.ok ? "" : d.error}`);
  // structuredClone: fast-check builds records without a prototype.
  assert.deepEqual(d.msg, structuredClone(m));
}

function phyPort(v: number): fc.Arbitrary<PhyPort> {
  // Bits each version carries; OF1.0 speeds follow from its features.
  const feats = v === 1 ? fc.integer({ min: 0, max: 0xffff }).map((f) => f & 0xf87f) : fc.integer({ min: 0, max: 0xffff });
  return fc
    .record({
      portNo,
      hwAddr: mac,
      name,
      config: fc.integer({ min: 0, max: 0x7f }).map((c) => (v === 1 ? c : c & 0x65)),
      state: fc.integer({ min: 0, max: 0x307 }).map((s) => (v === 1 ? s & 0x301 : s & 7)),
      curr: feats,
      advertised: feats,
      supported: feats,
      peer: feats,
      currSpeed: u32,
      maxSpeed: u32,
    })
    .map((p) => (v === 1 ? { ...p, currSpeed: speedOf(p.curr), maxSpeed: speedOf(p.supported) } : p));
}

function speedOf(f: number): number {
  if (f & (1 << 9)) return 1_000_000_000;
  if (f & (1 << 8)) return 100_000_000;
  if (f & (1 << 7)) return 40_000_000;
  if (f & (1 << 6)) return 10_000_000;
  if (f & 0x30) return 1_000_000;
  if (f & 0xc) return 100_000;
  if (f & 0x3) return 10_000;
  return 0;
}

test("generated hello, echo and error messages round-trip", () => {
  const errors = OFP_ERRORS.map((e) => e.name) as OfpErrorName[];
  fc.assert(
    fc.property(version, u32, fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...errors), fc.integer({ min: 1, max: 0x7e }), (v, xid, data, error, bm) => {
      roundTrip({ type: "OFPT_ECHO_REQUEST", version: v, xid, body: { data } });
      roundTrip({ type: "OFPT_HELLO", version: v, xid, body: { versions: (bm & ~1) | (1 << v) } });
      // An error a version cannot spell travels as NXBRC_UNENCODABLE_ERROR.
      const sent = errorSpelling(error, v) ? error : "NXBRC_UNENCODABLE_ERROR";
      const d = decodeMessage(encodeMessage({ type: "OFPT_ERROR", version: v, xid, body: { error, data } }));
      assert.ok(d.ok && d.msg.type === "OFPT_ERROR");
      const a = errorSpelling(d.msg.body.error, v)!;
      const b = errorSpelling(sent, v)!;
      assert.deepEqual([a.vendor, a.type, a.code], [b.vendor, b.type, b.code]);
      assert.deepEqual(d.msg.body.data, data);
    }),
    { numRuns: 300 },
  );
});

test("generated port-status, port-desc and features round-trip", () => {
  fc.assert(
    fc.property(
      version.chain((v) => fc.tuple(fc.constant(v), phyPort(v), fc.array(phyPort(v), { maxLength: 4 }), u64, u32)),
      fc.integer({ min: 0, max: 2 }),
      ([v, p, ports, dpid, nb], reason) => {
        roundTrip({ type: "OFPT_PORT_STATUS", version: v, xid: 1, body: { reason, desc: p } });
        roundTrip({ type: "OFPST_PORT_DESC_REPLY", version: v, xid: 2, statsFlags: 0, body: { ports } });
        roundTrip({
          type: "OFPT_FEATURES_REPLY",
          version: v,
          xid: 3,
          body: {
            datapathId: dpid, nBuffers: nb, nTables: 254, auxiliaryId: v >= 4 ? 3 : 0,
            capabilities: v === 1 ? 0xef : 0x4f, actions: v === 1 ? 0xfff : 0, ports: v <= 3 ? ports : [],
          },
        });
      },
    ),
    { numRuns: 200 },
  );
});

test("generated statistics and meters round-trip", () => {
  const band = fc.oneof(
    fc.record({ type: fc.constant(1), rate: u32, burstSize: u32, precLevel: fc.constant(0) }),
    fc.record({ type: fc.constant(2), rate: u32, burstSize: u32, precLevel: u8 }),
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 4, max: 6 }),
      fc.array(fc.record({ meterId: u32, flags: fc.integer({ min: 0, max: 0xf }), bands: fc.array(band, { maxLength: 3 }) }), { maxLength: 3 }),
      fc.array(fc.tuple(fc.integer({ min: 0, max: 0xfeff }), u64, u64, u64, u32, fc.integer({ min: 0, max: 999999999 })), { maxLength: 3 }),
      (v, meters, qs) => {
        roundTrip({ type: "OFPST_METER_CONFIG_REPLY", version: v, xid: 7, statsFlags: 1, body: { meters } });
        for (const m of meters) {
          roundTrip({ type: "OFPT_METER_MOD", version: v, xid: 8, body: { command: 0, meter: m } });
        }
        roundTrip({
          type: "OFPST_QUEUE_REPLY",
          version: v,
          xid: 9,
          statsFlags: 0,
          body: {
            stats: qs.map(([portNo, a, b, c, q, ns]) => ({
              portNo, queueId: q, txBytes: a, txPackets: b, txErrors: c, durationSec: q, durationNsec: ns,
            })),
          },
        });
      },
    ),
    { numRuns: 200 },
  );
});

test("generated controller-session messages round-trip", () => {
  const masks = (v: number) => {
    const m = v <= 4 ? [0x7, 0x7, 0x3f, 0, 0, 0] : [0x3f, 0x7, 0x3f, 0x7, 0x18, 0x3];
    return fc.tuple(...m.map((x) => fc.integer({ min: 0, max: 0xffffffff }).map((y) => (y & x) >>> 0)));
  };
  fc.assert(
    fc.property(
      version.chain((v) => fc.tuple(fc.constant(v), masks(v), masks(v))),
      fc.constantFrom("primary", "secondary", "equal") as fc.Arbitrary<"primary" | "secondary" | "equal">,
      u64,
      fc.array(fc.record({ optionClass: u16, optionType: u8, optionLen: fc.integer({ min: 0, max: 31 }).map((x) => x * 4), index: fc.integer({ min: 0, max: 63 }) }), { maxLength: 5 }),
      ([v, p, s], role, gen, mappings) => {
        const async = { primary: [...p], secondary: [...s] };
        // The 24-byte struct (Nicira, OF1.3) carries only the first three kinds.
        const three = (x: number[]) => x.map((y, i) => (i < 3 ? y : 0));
        const struct = { primary: three(async.primary), secondary: three(async.secondary) };
        roundTrip({ type: "NXT_SET_ASYNC_CONFIG", version: v, xid: 1, body: struct });
        if (v >= 4) roundTrip({ type: "OFPT_SET_ASYNC", version: v, xid: 2, body: v === 4 ? struct : async });
        if (v >= 3) roundTrip({ type: "OFPT_ROLE_REQUEST", version: v, xid: 3, body: { role, generationId: gen } });
        roundTrip({ type: "NXT_ROLE_REPLY", version: v, xid: 4, body: { role } });
        roundTrip({ type: "NXT_TLV_TABLE_MOD", version: v, xid: 5, body: { command: 0, mappings } });
        roundTrip({ type: "NXT_TLV_TABLE_REPLY", version: v, xid: 6, body: { maxOptionSpace: 256, maxFields: 64, mappings } });
      },
    ),
    { numRuns: 200 },
  );
});
