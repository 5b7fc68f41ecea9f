/**
 * checkActionsAgainstFlow against OVS's ofpacts_check: which actions are refused for
 * which match (OFPBAC_MATCH_INCONSISTENT, bad ports, goto_table going
 * backwards). Expected results were taken from ovs-ofctl parse-flow and are
 * re-checked against it when the binary is present.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip } from "../util/ovs.js";
import { parseActions } from "../../src/openflow/ofp-actions-codec.js";
import { checkActionsAgainstFlow } from "../../src/openflow/ofp-actions-check.js";
import { parseMatch } from "../../src/openflow/match-parse.js";
import type { OfpAction } from "../../src/openflow/ofp-actions.js";

/** [match, actions, OVS's error or null]. */
const CASES: [string, string, string | null][] = [
  ["ip", "mod_nw_src:1.2.3.4", null],
  ["", "mod_nw_src:1.2.3.4", null],
  ["ipv6", "mod_nw_src:1.2.3.4", null],
  ["ip", "mod_nw_tos:4", null],
  ["", "mod_nw_tos:4", null],
  ["ipv6", "mod_nw_tos:4", null],
  ["ip", "mod_tp_src:1", null],
  ["tcp", "mod_tp_src:1", null],
  ["udp", "mod_tp_dst:1", null],
  ["", "strip_vlan", null],
  ["dl_vlan=5", "strip_vlan", null],
  ["", "mod_vlan_vid:5", null],
  ["", "set_field:5->reg0", null],
  ["", "set_field:1.2.3.4->ip_src", "OFPBAC_MATCH_INCONSISTENT"],
  ["ip", "set_field:1.2.3.4->ip_src", null],
  ["", "set_field:4101->vlan_vid", "OFPBAC_MATCH_INCONSISTENT"],
  ["", "ct", "OFPBAC_MATCH_INCONSISTENT"],
  ["ip", "ct(commit)", null],
  ["ip", "ct(alg=ftp)", "OFPBAC_MATCH_INCONSISTENT"],
  ["tcp", "ct(alg=ftp)", null],
  ["ipv6", "ct(commit,nat(src=1.2.3.4))", "OFPBAC_MATCH_INCONSISTENT"],
  ["ip", "ct(commit,nat(src=1.2.3.4))", null],
  ["", "move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]", "OFPBAC_MATCH_INCONSISTENT"],
  ["ip", "move:NXM_OF_IP_SRC[]->NXM_NX_REG0[]", null],
  ["", "move:NXM_NX_REG1[]->NXM_NX_REG0[]", null],
  ["", "output:NXM_OF_TCP_SRC[]", "OFPBAC_MATCH_INCONSISTENT"],
  ["tcp", "output:NXM_OF_TCP_SRC[]", null],
  ["", "dec_mpls_ttl", null],
  ["mpls", "dec_mpls_ttl", null],
  ["", "push_mpls:0x8847,dec_mpls_ttl", null],
  ["mpls", "pop_mpls:0x0800,mod_nw_src:1.2.3.4", null],
  ["", "dec_ttl", null],
  ["", "fin_timeout(idle_timeout=1)", null],
  ["", "clone(mod_nw_src:1.2.3.4)", null],
  ["", "write_actions(mod_nw_src:1.2.3.4)", null],
  ["", "learn(load:NXM_OF_IP_SRC[]->NXM_NX_REG0[])", "OFPBAC_MATCH_INCONSISTENT"],
  ["", "mod_dl_src:00:00:00:00:00:01", null],
  ["", "mod_vlan_pcp:3", null],
  ["", "set_vlan_pcp:3", null],
  ["", "ct(zone=NXM_NX_REG0[0..15])", "OFPBAC_MATCH_INCONSISTENT"],
  ["arp", "set_field:1.2.3.4->arp_spa", null],
  ["", "set_field:1.2.3.4->arp_spa", "OFPBAC_MATCH_INCONSISTENT"],
  ["", "push:NXM_OF_IP_SRC[]", "OFPBAC_MATCH_INCONSISTENT"],
  ["", "set_mpls_ttl:4", null],
  ["", "multipath(eth_src,50,modulo_n,1,0,NXM_OF_IP_SRC[])", "OFPBAC_MATCH_INCONSISTENT"],
];

function check(matchText: string, actions: string, extra: { maxPorts?: number; tableId?: number } = {}): string | null {
  const pm = parseMatch(matchText);
  assert.ok(pm.ok, matchText);
  const list = parseActions(actions);
  assert.ok(!("error" in list), actions);
  return checkActionsAgainstFlow(list as OfpAction[], { match: pm.match, ...extra });
}

test("actions are refused for the matches OVS refuses them", () => {
  for (const [m, a, want] of CASES) assert.equal(check(m, a), want, `${m} actions=${a}`);
});

test("output ports and goto_table are checked against the switch", () => {
  assert.equal(check("", "output:5", { maxPorts: 4 }), "OFPBAC_BAD_OUT_PORT");
  assert.equal(check("", "output:3,LOCAL,IN_PORT", { maxPorts: 4 }), null);
  assert.equal(check("", "enqueue:9:1", { maxPorts: 4 }), "OFPBAC_BAD_OUT_PORT");
  assert.equal(check("", "goto_table:2", { tableId: 2 }), "OFPBIC_BAD_TABLE_ID");
  assert.equal(check("", "goto_table:3", { tableId: 2 }), null);
});

test("the expected results are still what ovs-ofctl says", { skip: ovsSkip("ovs-ofctl") }, () => {
  for (const [m, a, want] of CASES) {
    const r = spawnSync("ovs-ofctl", ["parse-flow", `${m ? m + "," : ""}actions=${a}`], { encoding: "utf8", timeout: 20_000 });
    const ovs = r.status === 0 ? null : /\((OFP\w+)\)/.exec(r.stderr)?.[1] ?? r.stderr;
    assert.equal(ovs, want, `${m} actions=${a}`);
  }
});
