/**
 * Tests of the adapters between OpenFlow message bodies and ofproto's
 * flow_mods, flow stats and flow_removed values.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { Match } from "../../src/openflow/index.js";
import {
  FF_CHECK_OVERLAP,
  FF_NO_BYT_COUNTS,
  FF_NO_PKT_COUNTS,
  FF_RESET_COUNTS,
  FF_SEND_FLOW_REM,
  flagsFromBits,
  flagsToBits,
  flowModFromWire,
  OFPP_ANY,
  OfprotoTables,
  OPAQUE_ACTIONS,
  WIRE_COOKIE_NONE,
  wireFlowRemoved,
  wireFlowStats,
  type WireFlowMod,
} from "../../src/ofproto/index.js";

const body = (over: Partial<WireFlowMod<string>> = {}): WireFlowMod<string> => ({
  command: 1,
  tableId: 255,
  match: new Match(),
  priority: 0x8000,
  cookie: 0n,
  cookieMask: 0n,
  newCookie: 5n,
  idleTimeout: 0,
  hardTimeout: 0,
  importance: 0,
  bufferId: 0xffffffff,
  outPort: 0xffffffff,
  outGroup: 0xffffffff,
  flags: FF_SEND_FLOW_REM | FF_RESET_COUNTS,
  actions: "drop",
  ...over,
});

test("flag bits round-trip through ofproto's flags", () => {
  for (let bits = 0; bits < 32; bits++) assert.equal(flagsToBits(flagsFromBits(bits)), bits);
  assert.deepEqual(flagsFromBits(FF_CHECK_OVERLAP | FF_NO_PKT_COUNTS | FF_NO_BYT_COUNTS), {
    ...flagsFromBits(0), checkOverlap: true, noPacketCounts: true, noByteCounts: true,
  });
});

test("decoded flow_mods: commands, cookies per version, any-port", () => {
  const of10 = flowModFromWire(body(), 1);
  assert.ok(typeof of10 !== "string");
  assert.equal(of10.command, "modify");
  assert.equal(of10.modifyCookie, true);
  assert.equal(of10.newCookie, 5n);
  assert.equal(of10.outPort, OFPP_ANY);
  assert.deepEqual([of10.flags.sendFlowRem, of10.flags.resetCounts, of10.flags.checkOverlap], [true, true, false]);
  const of13 = flowModFromWire(body({ newCookie: WIRE_COOKIE_NONE }), 4);
  assert.ok(typeof of13 !== "string");
  assert.equal(of13.newCookie, null);
  assert.equal(of13.modifyCookie, false);
  const of11 = flowModFromWire(body(), 2);
  assert.ok(typeof of11 !== "string");
  assert.equal(of11.modifyCookie, false); // OF1.1 modify may add with the cookie but never changes it
  assert.equal(flowModFromWire(body({ command: 9 }), 1), "OFPFMFC_BAD_COMMAND");
});

test("a decoded OF1.0 modify that selects nothing adds the flow with its cookie", () => {
  const t = new OfprotoTables<unknown>(OPAQUE_ACTIONS);
  const fm = flowModFromWire(body(), 1);
  assert.ok(typeof fm !== "string");
  assert.ok(t.flowMod(fm, 0).ok);
  assert.equal(t.allRules()[0]!.cookie, 5n);
});

test("flow stats and flow_removed values", () => {
  const t = new OfprotoTables<unknown>(OPAQUE_ACTIONS);
  const fm = flowModFromWire(body({ command: 0, tableId: 3, idleTimeout: 7, newCookie: 9n }), 4);
  assert.ok(typeof fm !== "string");
  assert.ok(t.flowMod(fm, 1000).ok);
  const r = t.allRules()[0]!;
  r.credit(2, 128, 2500);
  const s = wireFlowStats(r, 4250);
  assert.deepEqual(
    [s.tableId, s.durationSec, s.durationNsec, s.idleAge, s.hardAge, s.packetCount, s.byteCount, s.flags, s.cookie],
    [3, 3, 250_000_000, 1, 3, 2n, 128n, FF_SEND_FLOW_REM | FF_RESET_COUNTS, 9n],
  );
  const gone = t.expire(9501);
  assert.equal(gone.length, 1);
  const fr = wireFlowRemoved(gone[0]!.rule, gone[0]!.reason, 9501);
  assert.deepEqual([fr.reason, fr.tableId, fr.durationSec, fr.idleTimeout, fr.packetCount], [0, 3, 8, 7, 2n]);
});
