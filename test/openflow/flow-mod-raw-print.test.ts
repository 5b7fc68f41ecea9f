/**
 * At verbosity 3 and up ofp-print shows a flow_mod's match in its wire form
 * (NXM entries for NXT_FLOW_MOD, every OpenFlow 1.0 field for OFPT_FLOW_MOD
 * in 1.0) followed by `pri:N`: checked against ovs-ofctl for matches of the
 * match corpus, for mutated OpenFlow 1.0 matches, and for `parse-flow -m`.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { decodeMessage, encodeMessage, formatMessage, ofpToString, type FlowModBody, type OfpMessage } from "../../src/openflow/index.js";
import { ovsSkip, run, tsovs } from "../util/ovs.js";
import { corpus, rng } from "./match-corpus.js";
import { flowModSamples, matchOf } from "./flow-samples.js";
import { printDiffs } from "./ofctl-oracle.js";

const skip = ovsSkip("ovs-ofctl");

function flowMod(type: "NXT_FLOW_MOD" | "OFPT_FLOW_MOD", body: FlowModBody, xid: number): Uint8Array | null {
  try {
    return encodeMessage({ type, version: 1, xid, body } as OfpMessage);
  } catch {
    return null; // a match OpenFlow 1.0 cannot carry
  }
}

function corpusFlowMods(): { msgs: Uint8Array[]; labels: string[] } {
  const base = flowModSamples(1, true)[0]!;
  const msgs: Uint8Array[] = [];
  const labels: string[] = [];
  corpus(120, 7).forEach((text, i) => {
    let match;
    try {
      match = matchOf(text);
    } catch {
      return;
    }
    const body: FlowModBody = { ...base, match, priority: [0x8000, 0, 7, 0xffff][i % 4]!, cookie: 0n, cookieMask: 0n, command: i % 5 === 3 ? 3 : 0 };
    if (body.command === 3) Object.assign(body, { cookie: 0x10n, cookieMask: 0xf0n });
    for (const type of ["NXT_FLOW_MOD", "OFPT_FLOW_MOD"] as const) {
      const b = flowMod(type, type === "OFPT_FLOW_MOD" ? { ...body, cookieMask: 0n, cookie: 0n } : body, i + 1);
      if (b === null || !decodeMessage(b).ok) continue;
      msgs.push(b);
      labels.push(`${type} ${text}`);
    }
  });
  return { msgs, labels };
}

test("flow_mods of the match corpus print at verbosity 3 and 4 as ovs-ofctl prints them", { skip, timeout: 60_000 }, async () => {
  const { msgs, labels } = corpusFlowMods();
  assert.ok(msgs.filter((m) => m[1] === 4).length > 80, "NXT_FLOW_MOD cases");
  assert.ok(msgs.filter((m) => m[1] === 14).length > 30, "OFPT_FLOW_MOD cases");
  const diffs = await printDiffs(msgs, labels, 3);
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
  const some = msgs.filter((_, i) => i % 7 === 0);
  const d4 = await printDiffs(some, some.map(() => "verbosity 4"), 4);
  assert.deepEqual(d4, [], d4.slice(0, 3).join("\n"));
  // And verbosity 2 keeps the parsed form.
  assert.doesNotMatch(ofpToString(msgs[0]!, 2), /NXM_OF_|\*/);
});

test("OpenFlow 1.0 matches print their wire fields, wildcards and all", { skip, timeout: 60_000 }, async () => {
  const r = rng(11);
  const base = flowMod("OFPT_FLOW_MOD", flowModSamples(1, false)[0]!, 1)!;
  const msgs: Uint8Array[] = [];
  for (let i = 0; i < 120; i++) {
    const m = Uint8Array.from(base);
    const dv = new DataView(m.buffer);
    // Random wildcards (any nw_src/nw_dst prefix, including >= 32) and field bytes.
    dv.setUint32(8, Math.floor(r() * 0x400000));
    for (let o = 12; o < 48; o++) if (r() < 0.5) m[o] = Math.floor(r() * 256);
    // Common Ethernet types and IP protocols often, so the shorthands show.
    if (r() < 0.7) dv.setUint16(30, [0x0800, 0x0806, 0x8035, 0x8847, 0x8848, 0x86dd][i % 6]!);
    if (r() < 0.6) m[33] = [1, 6, 17, 132, 2][i % 5]!;
    if (decodeMessage(m).ok) msgs.push(m);
  }
  assert.ok(msgs.length > 60, `only ${msgs.length} decodable`);
  const diffs = await printDiffs(msgs, msgs.map((_, i) => `mutant ${i}`), 3);
  assert.deepEqual(diffs, [], diffs.slice(0, 3).join("\n"));
});

test("parse-flow -m -m -m prints the wire form as ovs-ofctl does", { skip }, () => {
  const flows = [
    "tcp,nw_src=1.2.3.4,tp_dst=80,actions=drop",
    "priority=5,actions=drop",
    "actions=drop",
    "in_port=3,dl_src=00:01:02:03:04:05/ff:ff:ff:00:00:00,ipv6,ipv6_src=::1,actions=drop",
    "tcp,tcp_flags=+syn,ct_state=+trk,reg0=5/0xff,priority=9,actions=output:2",
    "arp,arp_op=2,actions=NORMAL",
  ];
  for (const f of flows) {
    for (const fmt of ["nxm", "openflow10"]) {
      const args = ["-m", "-m", "-m", "parse-flow", "-F", fmt, f];
      const want = run("ovs-ofctl", args);
      const got = tsovs(["ofctl", ...args]);
      assert.equal(got.stdout, want.stdout, `${fmt} ${f}`);
      assert.equal(got.status, want.status, `${fmt} ${f}`);
    }
  }
});

test("a flow_mod built in memory prints its match re-encoded", () => {
  const body = { ...flowModSamples(1, true)[0]!, match: matchOf("udp,tp_src=53"), priority: 7 };
  const text = formatMessage({ type: "NXT_FLOW_MOD", version: 1, xid: 1, body } as OfpMessage, 3);
  assert.match(text, /NXM_OF_ETH_TYPE\(0800\), NXM_OF_IP_PROTO\(11\), NXM_OF_UDP_SRC\(0035\) .*pri:7 /);
});
