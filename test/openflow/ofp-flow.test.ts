/**
 * Flow messages against `ovs-ofctl ofp-print`: flow_mods whose fields break
 * a rule (unknown command, flags a version lacks, OF1.0 emergency flag,
 * table 255, a cookie mask on an add, actions the match does not allow)
 * fail with OVS's error in every version, and version-specific fields
 * (importance, out_group, reset_counts) are kept or dropped as OVS does.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip } from "../util/ovs.js";
import { bytesToHex, COOKIE_NONE, encodeMessage, type FlowModBody, ofpToString, type OfpMessage } from "../../src/openflow/index.js";
import { flowModSamples } from "./flow-samples.js";

const skip = ovsSkip("ovs-ofctl");

function ovsPrint(b: Uint8Array): string {
  return spawnSync("ovs-ofctl", ["ofp-print", bytesToHex(b)], { encoding: "latin1" }).stdout;
}

/** A flow_mod of `type` in `version`, with `edit` applied to its bytes (offsets from the body start). */
function flowMod(type: "OFPT_FLOW_MOD" | "NXT_FLOW_MOD", version: number, body: FlowModBody, edit?: (b: DataView, bodyAt: number) => void): Uint8Array {
  const b = encodeMessage({ type, version, xid: 9, body } as OfpMessage);
  if (edit) edit(new DataView(b.buffer, b.byteOffset, b.byteLength), type === "NXT_FLOW_MOD" ? 16 : 8);
  return b;
}

test("flow_mod field rules: tsovs and ovs-ofctl print the same", { skip, timeout: 60_000 }, () => {
  const cases: Uint8Array[] = [];
  for (let v = 1; v <= 6; v++) {
    const base = flowModSamples(v, false)[0]!;
    if (v === 1) {
      cases.push(flowMod("OFPT_FLOW_MOD", 1, base, (d, at) => d.setUint16(at + 48, 7))); // command 7
      cases.push(flowMod("OFPT_FLOW_MOD", 1, base, (d, at) => d.setUint16(at + 62, 4))); // emerg with timeouts
      cases.push(flowMod("OFPT_FLOW_MOD", 1, { ...base, idleTimeout: 0, hardTimeout: 0 }, (d, at) => d.setUint16(at + 62, 4)));
      cases.push(flowMod("OFPT_FLOW_MOD", 1, base, (d, at) => d.setUint16(at + 62, 0x40))); // unknown flag
      cases.push(flowMod("OFPT_FLOW_MOD", 1, base, (d, at) => d.setUint32(at, 0))); // exact match: priority 0xffff
    } else {
      cases.push(flowMod("OFPT_FLOW_MOD", v, base, (d, at) => d.setUint8(at + 17, 9))); // command 9
      cases.push(flowMod("OFPT_FLOW_MOD", v, base, (d, at) => d.setUint8(at + 16, 255))); // add to table 255
      cases.push(flowMod("OFPT_FLOW_MOD", v, base, (d, at) => d.setUint16(at + 36, 0x8))); // no_packet_counts
      cases.push(flowMod("OFPT_FLOW_MOD", v, base, (d, at) => d.setUint16(at + 38, 77))); // importance
      cases.push(flowMod("OFPT_FLOW_MOD", v, { ...base, command: 3, tableId: 255, outGroup: 5, cookie: 0x10n, cookieMask: 0xffn, newCookie: COOKIE_NONE }));
      cases.push(flowMod("OFPT_FLOW_MOD", v, { ...base, command: 1, cookie: 0n, cookieMask: 0n, newCookie: 0x99n }));
      cases.push(flowMod("OFPT_FLOW_MOD", v, { ...base, command: 1, cookie: 0x5n, cookieMask: 0xfn, newCookie: COOKIE_NONE }));
    }
    const nx = flowModSamples(v, true)[0]!;
    cases.push(flowMod("NXT_FLOW_MOD", v, { ...nx, command: 3, cookie: 0x10n, cookieMask: 0xffn, newCookie: COOKIE_NONE }));
    cases.push(flowMod("NXT_FLOW_MOD", v, { ...nx, command: 3, cookie: 0x10n, cookieMask: 0xffn, newCookie: COOKIE_NONE }, (d, at) => d.setUint16(at + 8, 0))); // add + cookie mask
    cases.push(flowMod("NXT_FLOW_MOD", v, nx, (d, at) => d.setUint16(at + 24, 200))); // match_len past the end
  }
  const failures: string[] = [];
  for (const b of cases) {
    const mine = ofpToString(b);
    const theirs = ovsPrint(b);
    if (mine !== theirs) failures.push(`${bytesToHex(b)}\n--- ovs-ofctl\n${theirs}--- tsovs\n${mine}`);
  }
  assert.deepEqual(failures, [], `${failures.length} of ${cases.length} differ:\n${failures.slice(0, 3).join("\n")}`);
});
