/**
 * The OpenFlow error table against real `ovs-ofctl`: every error OVS knows,
 * encoded by tsovs in every version, prints with the same name (or as
 * NXBRC_UNENCODABLE_ERROR where the version cannot express it). One
 * ofp-print run checks a whole version: each error message carries the
 * next one as its echoed request, and ofp-print prints the nested chain.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip } from "../util/ovs.js";
import {
  bytesToHex,
  decodeMessage,
  encodeMessage,
  errorSpelling,
  negotiateVersion,
  OFP_ERRORS,
  ofpToString,
  type OfpErrorName,
} from "../../src/openflow/index.js";

const skip = ovsSkip("ovs-ofctl");
const HELLO_NAMES = new Set(["OFPHFC_INCOMPATIBLE", "OFPHFC_EPERM"]);

/** Error messages nested inside each other, innermost last in `names`. */
function chain(version: number, names: readonly OfpErrorName[]): Uint8Array {
  let inner = encodeMessage({ type: "OFPT_ECHO_REQUEST", version, xid: 0, body: { data: new Uint8Array(0) } });
  for (let i = names.length - 1; i >= 0; i--) {
    inner = encodeMessage({ type: "OFPT_ERROR", version, xid: i + 1, body: { error: names[i]!, data: inner } });
  }
  return inner;
}

test("every error in every version prints the same in ovs-ofctl and tsovs", { skip, timeout: 60_000 }, () => {
  const names = OFP_ERRORS.map((e) => e.name).filter((n) => !HELLO_NAMES.has(n)) as OfpErrorName[];
  for (let v = 1; v <= 6; v++) {
    const b = chain(v, names);
    const hex = bytesToHex(b);
    const ovs = spawnSync("ovs-ofctl", ["ofp-print", hex], { encoding: "utf8", maxBuffer: 1 << 24 }).stdout;
    const mine = ofpToString(b);
    assert.equal(mine, ovs, `version ${v}`);
    // Each line names the error tsovs meant, or its stand-in.
    const printed = [...mine.matchAll(/\): (\S+)\n/g)].map((m) => m[1]);
    names.forEach((n, i) => {
      const want = errorSpelling(n, v) ? n : "NXBRC_UNENCODABLE_ERROR";
      const got = printed[i]!;
      if (got !== want) {
        // Only the documented shared spellings may decode to another name.
        const a = errorSpelling(n, v);
        const bsp = errorSpelling(got as OfpErrorName, v);
        assert.ok(a && bsp && a.type === bsp.type && a.code === bsp.code && a.vendor === bsp.vendor, `${n} in v${v} printed as ${got}`);
      }
    });
  }
});

test("hello-failed errors carry text and print as OVS prints them", { skip }, () => {
  for (const v of [1, 4, 6]) {
    const n = negotiateVersion(1 << v, 0x07, 1 << 7);
    assert.equal(n.ok, false);
    if (n.ok) return;
    const b = encodeMessage({
      type: "OFPT_ERROR",
      version: v,
      xid: 0,
      body: { error: n.error, data: new TextEncoder().encode(n.text) },
    });
    const ovs = spawnSync("ovs-ofctl", ["ofp-print", bytesToHex(b)], { encoding: "utf8" }).stdout;
    assert.equal(ofpToString(b), ovs);
    assert.match(ovs, /We support version 0x0\d, you support version 0x07, no common versions\./);
  }
});

test("version negotiation picks the highest common version, as OVS", () => {
  const all = 0x7e;
  assert.deepEqual(negotiateVersion(all, 4, null), { ok: true, version: 4 });
  assert.deepEqual(negotiateVersion(all, 6, 0x12), { ok: true, version: 4 });
  assert.deepEqual(negotiateVersion(0x10, 1, null), {
    ok: false,
    error: "OFPHFC_INCOMPATIBLE",
    version: 1,
    text: "We support version 0x04, you support version 0x01, no common versions.",
    log: "version negotiation failed (we support version 0x04, peer supports version 0x01)",
  });
  const r = negotiateVersion(0x50, 5, 0x20);
  assert.equal(r.ok, false);
  if (!r.ok) assert.equal(r.text, "We support versions 0x04, 0x06, you support version 0x05, no common versions.");
  const r2 = negotiateVersion(0x10, 3, null);
  assert.equal(r2.ok, false);
  if (!r2.ok) assert.equal(r2.text, "We support version 0x04, you support version 0x03 and earlier, no common versions.");
});

test("errors decode to their names in each version", () => {
  for (const e of OFP_ERRORS) {
    for (let v = 1; v <= 6; v++) {
      if (!errorSpelling(e.name, v)) continue;
      const d = decodeMessage(
        encodeMessage({ type: "OFPT_ERROR", version: v, xid: 1, body: { error: e.name, data: new Uint8Array(0) } }),
      );
      assert.ok(d.ok && d.msg.type === "OFPT_ERROR");
      const sp = errorSpelling(d.msg.body.error, v)!;
      const want = errorSpelling(e.name, v)!;
      assert.deepEqual([sp.vendor, sp.type, sp.code], [want.vendor, want.type, want.code], `${e.name} v${v}`);
    }
  }
});
