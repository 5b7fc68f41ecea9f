/**
 * Flow monitors: which monitors see which rule changes, full versus
 * abbreviated updates for a connection's own changes, actions only when
 * asked, the out_port filter (old actions of a modify included), initial
 * contents, and OVS's errors for duplicate and unknown monitor ids.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { NXFMF_ACTIONS, NXFMF_ADD, NXFMF_DELETE, NXFMF_INITIAL, NXFMF_MODIFY, NXFMF_OWN } from "../../src/openflow/ofp-flow.js";
import { FlowMonitors, looseMatches, type FlowMonitorSpec } from "../../src/ofproto/flow-monitor.js";
import { OfprotoTables, OFPTT_ALL } from "../../src/ofproto/index.js";
import { OfRule } from "../../src/ofproto/rule.js";
import { parseFlowMod, TEXT_ACTIONS } from "./flow-text.js";

const ALL = NXFMF_ADD | NXFMF_DELETE | NXFMF_MODIFY;

function rule(text: string, tableId = 0): OfRule<string> {
  const fm = parseFlowMod("add", text);
  return new OfRule<string>(tableId, fm.match, fm.priority, 0n, 0, 0, fm.flags, 0, fm.actions, 0);
}

function spec(id: number, flags: number, matchText = "", over: Partial<FlowMonitorSpec> = {}): FlowMonitorSpec {
  return { id, flags, outPort: 0xffff, outGroup: 0xffffffff, tableId: OFPTT_ALL, match: parseFlowMod("add", matchText).match, ...over };
}

test("a monitor sees rules at least as specific as its match", () => {
  const m = parseFlowMod("add", "ip,nw_dst=10.0.0.0/8").match;
  assert.equal(looseMatches(rule("ip,nw_dst=10.1.2.3").match, m), true);
  assert.equal(looseMatches(rule("ip,nw_dst=10.0.0.0/8,tcp").match, m), true);
  assert.equal(looseMatches(rule("ip").match, m), false);
  assert.equal(looseMatches(rule("ip,nw_dst=11.0.0.1").match, m), false);
  assert.equal(looseMatches(rule("arp").match, parseFlowMod("add", "").match), true);
});

test("changes by others are reported in full; one's own only abbreviated, once per batch, unless 'own'", () => {
  const mons = new FlowMonitors<string, string>(TEXT_ACTIONS);
  assert.equal(mons.add("a", spec(1, ALL)), null);
  assert.equal(mons.add("b", spec(1, ALL | NXFMF_OWN)), null);
  const r1 = rule("priority=5,ip,actions=output:1");
  const r2 = rule("priority=6,arp,actions=output:2");
  const changes = [{ event: "added" as const, rule: r1 }, { event: "added" as const, rule: r2 }];
  const byA = mons.report(changes, { conn: "a", xid: 42 });
  assert.deepEqual(byA.get("a"), [{ event: 3, xid: 42 }]);
  assert.deepEqual(byA.get("b")!.map((u) => u.event), [0, 0]);
  const byB = mons.report(changes, { conn: "b", xid: 7 });
  assert.deepEqual(byB.get("a")!.map((u) => u.event), [0, 0]);
  assert.deepEqual(byB.get("b")!.map((u) => u.event), [0, 0], "'own' gets its own changes in full");
  // The switch's own changes (expiry) are full for everyone, with the reason.
  const expired = mons.report([{ event: "deleted", rule: r1, reason: "idle_timeout" }], null);
  const u = expired.get("a")![0]!;
  assert.ok(u.event === 1 && u.reason === 0, "an idle timeout is reason 0");
  const hard = mons.report([{ event: "deleted", rule: r1, reason: "hard_timeout" }], null).get("a")![0]!;
  assert.ok(hard.event === 1 && hard.reason === 1);
});

test("only the events a monitor asked for, actions only with 'actions'", () => {
  const mons = new FlowMonitors<string, string>(TEXT_ACTIONS);
  mons.add("a", spec(1, NXFMF_DELETE));
  mons.add("b", spec(2, NXFMF_ADD | NXFMF_ACTIONS));
  const r = rule("priority=5,ip,actions=output:1");
  const added = mons.report([{ event: "added", rule: r }], null);
  assert.equal(added.has("a"), false);
  const ub = added.get("b")![0]!;
  assert.ok(ub.event === 0 && (ub.actions as unknown) === "output:1");
  mons.add("c", spec(3, NXFMF_ADD));
  const uc = mons.report([{ event: "added", rule: r }], null).get("c")![0]!;
  assert.ok(uc.event === 0 && Array.isArray(uc.actions) && uc.actions.length === 0);
});

test("table and out_port filters; a modify that stops outputting to the port is still seen", () => {
  const mons = new FlowMonitors<string, string>(TEXT_ACTIONS);
  mons.add("a", spec(1, ALL, "", { outPort: 2 }));
  mons.add("b", spec(1, ALL, "", { tableId: 3 }));
  const to1 = rule("ip,actions=output:1");
  const to2 = rule("ip,actions=output:2", 3);
  assert.equal(mons.report([{ event: "added", rule: to1 }], null).has("a"), false);
  assert.equal(mons.report([{ event: "added", rule: to1 }], null).has("b"), false);
  const r = mons.report([{ event: "added", rule: to2 }], null);
  assert.ok(r.has("a") && r.has("b"));
  assert.equal(mons.report([{ event: "modified", rule: to1, oldActions: "output:2" }], null).get("a")![0]!.event, 2);
});

test("initial contents, duplicate and unknown ids, dropped connections", () => {
  const t = new OfprotoTables<string>(TEXT_ACTIONS);
  for (const f of ["priority=5,ip,nw_dst=10.0.0.1,actions=output:1", "priority=5,arp,actions=output:1", "table=2,ip,nw_dst=10.9.9.9,actions=output:3"]) {
    const r = t.flowMod(parseFlowMod("add", f), 0);
    assert.ok(r.ok);
  }
  const mons = new FlowMonitors<string, string>(TEXT_ACTIONS);
  const s = spec(9, ALL | NXFMF_INITIAL, "ip,nw_dst=10.0.0.0/8");
  assert.equal(mons.add("a", s), null);
  assert.equal(mons.add("a", spec(9, ALL)), "OFPMOFC_MONITOR_EXISTS");
  const init = mons.initialUpdates([s], t.allRules());
  assert.deepEqual(init.map((u) => (u.event === 3 ? -1 : u.tableId)).sort(), [0, 2]);
  assert.equal(mons.cancel("a", 10), "OFPMOFC_UNKNOWN_MONITOR");
  assert.equal(mons.cancel("a", 9), null);
  mons.add("b", spec(1, ALL));
  mons.dropConnection("b");
  assert.equal(mons.report([{ event: "added", rule: rule("ip") }], null).size, 0);
});
