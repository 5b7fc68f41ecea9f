/**
 * Differential test: the same ovs-ofctl add-flow / mod-flows / del-flows
 * commands go to a real ovs-vswitchd 3.1 (dummy datapath) and to
 * OfprotoTables; after each, `ovs-ofctl -O OpenFlow14 --no-stats
 * dump-flows` (sorted) must equal our rules printed the same way, and an
 * error from OVS must be an error from us.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { startRealVswitchd, stopRealVswitchd } from "../util/dpctl.js";
import { OfprotoTables, type FlowModCommand } from "../../src/ofproto/index.js";
import { formatRule, parseFlowMod, TEXT_ACTIONS } from "./flow-text.js";

const skip = ovsSkip("ovs-vswitchd", "ovs-ofctl", "ovsdb-server");

type Step = [cmd: "add-flow" | "mod-flows" | "del-flows", strict: boolean, flow: string];

const COMMAND: Record<string, [FlowModCommand, FlowModCommand]> = {
  "add-flow": ["add", "add"],
  "mod-flows": ["modify", "modify_strict"],
  "del-flows": ["delete", "delete_strict"],
};

const SCRIPT: Step[] = [
  ["add-flow", false, "priority=10,ip,nw_src=10.0.0.1,actions=output:1"],
  ["add-flow", false, "priority=10,ip,nw_src=10.0.0.0/8,actions=output:2"],
  ["add-flow", false, "cookie=0x5,priority=20,tcp,tp_dst=80,idle_timeout=60,actions=drop"],
  ["add-flow", false, "table=1,cookie=0x6,priority=20,tcp,tp_dst=80,hard_timeout=30,send_flow_rem,actions=output:1"],
  ["add-flow", false, "table=2,in_port=1,actions=output:2"],
  ["add-flow", false, "priority=10,ip,nw_src=10.0.0.1,cookie=0x7,idle_timeout=5,actions=output:2"],
  ["mod-flows", false, "ip,actions=output:1"],
  ["mod-flows", false, "cookie=0x99,tcp,actions=drop"],
  ["mod-flows", true, "priority=10,ip,nw_src=10.0.0.0/8,actions=output:2"],
  ["mod-flows", true, "priority=11,ip,nw_src=10.0.0.0/8,actions=output:1"],
  ["mod-flows", false, "cookie=0x99/0xff,actions=NORMAL"],
  ["mod-flows", false, "cookie=0x1234/-1,udp,actions=NORMAL"],
  ["mod-flows", false, "cookie=0x77,cookie=0x1/0x1,udp,actions=NORMAL"],
  ["mod-flows", false, "cookie=0x77,cookie=0x5/0xff,tcp,actions=output:2"],
  ["add-flow", false, "priority=10,check_overlap,ip,nw_src=10.0.0.1,actions=drop"],
  ["add-flow", false, "priority=10,check_overlap,ip,nw_dst=10.0.0.1,actions=drop"],
  ["add-flow", false, "priority=9,check_overlap,ip,nw_dst=10.0.0.1,actions=drop"],
  ["add-flow", false, "table=254,actions=drop"],
  ["del-flows", false, "table=254"],
  ["del-flows", false, "out_port=2"],
  ["del-flows", true, "priority=20,tcp,tp_dst=80"],
  ["del-flows", false, "cookie=0x6/0xf"],
  ["add-flow", false, "table=3,priority=5,udp,actions=output:1"],
  ["add-flow", false, "table=3,priority=6,udp,tp_src=53,actions=output:2"],
  ["del-flows", false, "table=3,udp,tp_src=53"],
  ["del-flows", false, "ip"],
  ["del-flows", false, ""],
];

/** A seeded random command sequence over a small pool, so collisions are frequent. */
function randomSteps(seed: number, n: number): Step[] {
  let s = seed >>> 0;
  const rnd = (k: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % k;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const matches = ["", "ip", "tcp", "tcp,tp_dst=80", "ip,nw_src=10.0.0.0/8", "ip,nw_src=10.1.0.0/16", "in_port=1", "in_port=2,ip", "udp,tp_src=53"];
  const out: Step[] = [];
  for (let i = 0; i < n; i++) {
    const cmd = pick(["add-flow", "add-flow", "add-flow", "mod-flows", "del-flows"] as const);
    const strict = cmd !== "add-flow" && rnd(2) === 0;
    const parts: string[] = [];
    if (rnd(3) === 0) parts.push(`table=${rnd(3)}`);
    if (cmd === "add-flow" || strict) parts.push(`priority=${pick([1, 5, 32768])}`);
    if (cmd !== "del-flows" && rnd(3) === 0) parts.push(`cookie=${rnd(4)}`);
    if (cmd !== "add-flow" && rnd(4) === 0) parts.push(`cookie=${rnd(4)}/${pick([1, 3, -1])}`);
    if (cmd === "add-flow" && rnd(4) === 0) parts.push(`idle_timeout=${100 + rnd(100)}`); // long: real OVS must not expire it mid-test
    if (cmd === "add-flow" && rnd(5) === 0) parts.push("check_overlap");
    if (cmd === "add-flow" && rnd(5) === 0) parts.push("send_flow_rem");
    if (cmd === "del-flows" && rnd(4) === 0) parts.push(`out_port=${1 + rnd(2)}`);
    const m = pick(matches);
    if (m) parts.push(m);
    if (cmd !== "del-flows") parts.push(`actions=${pick(["drop", "output:1", "output:2", "NORMAL"])}`);
    out.push([cmd, strict, parts.join(",")]);
  }
  return out;
}

describe("ofproto tables vs ovs-vswitchd 3.1", { skip }, () => {
  let dir = "";
  let stop: () => void = () => {};
  const ofctl = (...args: string[]) => run("ovs-ofctl", args, dir);

  before(() => {
    dir = tempDir("tsovs-ofproto-");
    stop = startRealVswitchd(dir);
    assert.equal(ofctl("del-flows", "br0").status, 0);
  });
  after(() => stopRealVswitchd(dir, stop));

  function realDump(...filter: string[]): string[] {
    const dump = ofctl("-O", "OpenFlow14", "--no-stats", "dump-flows", "br0", ...filter);
    assert.equal(dump.status, 0, dump.stderr);
    return dump.stdout.split("\n").filter((l) => l.trim() !== "").sort();
  }

  /** Runs the steps on both; returns our tables and how many steps OVS refused. */
  function check(steps: Step[], label: string, ours = new OfprotoTables<string>(TEXT_ACTIONS), of13 = false): { ours: OfprotoTables<string>; errors: number } {
    let now = 1000;
    let errors = 0;
    for (const [i, [cmd, strict, flow]] of steps.entries()) {
      const what = `${label} step ${i}: ovs-ofctl ${strict ? "--strict " : ""}${cmd} br0 "${flow}"`;
      const real = ofctl(...(of13 ? ["-O", "OpenFlow14"] : []), ...(strict ? ["--strict"] : []), cmd, "br0", flow);
      const fm = parseFlowMod(COMMAND[cmd]![strict ? 1 : 0], flow, of13);
      // 2 s apart: OVS ranks eviction candidates by expiry in ~1 s units.
      const r = ours.flowMod(fm, (now += 2000));
      assert.equal(r.ok, real.status === 0, `${what}: ovs ${real.status === 0 ? "ok" : real.stderr.trim()}, ours ${r.ok ? "ok" : r.error}`);
      if (!r.ok) {
        errors++;
        assert.match(real.stderr, new RegExp(r.error), what);
      }
      assert.deepEqual(ours.allRules().map(formatRule).sort(), realDump(), what);
    }
    return { ours, errors };
  }

  /** Compares `dump-flows br0 FILTER` and `dump-aggregate` with our selection. */
  function checkQueries(ours: OfprotoTables<string>, label: string): void {
    const filters = ["", "ip", "tcp", "table=1", "cookie=1/1", "cookie=2/-1,ip", "out_port=1", "table=2,out_port=2", "in_port=2", "udp,tp_src=53"];
    for (const f of filters) {
      const q = parseFlowMod("delete", f);
      const sel = ours.select({ tableId: q.tableId, match: q.match, cookie: q.cookie, cookieMask: q.cookieMask, outPort: q.outPort });
      assert.ok(sel.ok);
      assert.deepEqual(sel.rules.map(formatRule).sort(), f === "" ? realDump() : realDump(f), `${label}: dump-flows "${f}"`);
      const agg = ours.aggregateStats({ tableId: q.tableId, match: q.match, cookie: q.cookie, cookieMask: q.cookieMask, outPort: q.outPort });
      assert.ok(agg.ok);
      const real = ofctl("dump-aggregate", "br0", ...(f === "" ? [] : [f]));
      assert.match(real.stdout, new RegExp(`flow_count=${agg.stats.flowCount}\\b`), `${label}: dump-aggregate "${f}"`);
    }
  }

  function reset(): void {
    assert.equal(ofctl("del-flows", "br0").status, 0);
    run("ovs-vsctl", ["clear", "Bridge", "br0", "flow_tables"], dir);
  }

  test("scripted add/modify/delete, strict and loose, cookies, out_port, check_overlap", () => {
    reset();
    const { errors } = check(SCRIPT, "script");
    assert.equal(errors, 3); // the overlapping add, both flow_mods on table 254
  });

  // OFPROTO_DIFF_SEEDS=N runs N more seeds (a longer hunt than the always-on three).
  const extraSeeds = Number(process.env["OFPROTO_DIFF_SEEDS"] ?? 0);
  test("random command sequences, then flow and aggregate stats with filters", () => {
    for (const seed of [1, 2, 3, ...Array.from({ length: extraSeeds }, (_, i) => 100 + i)]) {
      reset();
      const { ours, errors } = check(randomSteps(seed, 60), `seed ${seed}`);
      assert.ok(errors >= 0);
      checkQueries(ours, `seed ${seed}`);
    }
  });

  test("random command sequences as OpenFlow 1.4 flow_mods", () => {
    for (const seed of [4, 5, ...Array.from({ length: extraSeeds }, (_, i) => 1000 + i)]) {
      reset();
      check(randomSteps(seed, 50), `OF1.4 seed ${seed}`, undefined, true);
    }
  });

  test("OpenFlow 1.4 flow_mods: importance, cookies never set by modify, no add on modify", () => {
    reset();
    check(
      [
        ["add-flow", false, "cookie=0x5,importance=7,priority=3,ip,actions=drop"],
        ["add-flow", false, "reset_counts,no_byte_counts,priority=4,tcp,actions=drop"],
        ["mod-flows", false, "cookie=0x9,ip,actions=output:1"],
        ["mod-flows", false, "cookie=0x5/0xf,actions=output:2"],
        ["mod-flows", false, "udp,actions=output:2"],
        ["mod-flows", true, "priority=4,tcp,actions=NORMAL"],
        ["del-flows", false, "cookie=0x5/-1"],
      ],
      "of14",
      undefined,
      true,
    );
  });

  test("bundles: all or nothing, later flow_mods see earlier ones", () => {
    reset();
    const ours = new OfprotoTables<string>(TEXT_ACTIONS);
    const base: Step[] = [
      ["add-flow", false, "priority=5,ip,actions=output:1"],
      ["add-flow", false, "priority=6,tcp,actions=output:2"],
    ];
    check(base, "bundle base", ours, true);
    // [expected to succeed, flow_mods]
    const bundles: [boolean, [string, string][]][] = [
      // Fails on its last flow_mod, which overlaps a rule added earlier in the bundle: the delete must be undone.
      [false, [["delete", ""], ["add", "priority=7,udp,actions=drop"], ["add", "check_overlap,priority=7,udp,tp_src=1,actions=drop"]]],
      [true, [["delete", "tcp"], ["add", "priority=7,udp,actions=drop"], ["modify_strict", "priority=7,udp,actions=output:1"], ["add", "check_overlap,priority=6,tcp,tp_dst=80,actions=drop"]]],
      [false, [["modify", "ip,actions=output:2"], ["add", "check_overlap,priority=5,ip,nw_src=1.1.1.1,actions=drop"]]],
    ];
    for (const [i, [expect, b]] of bundles.entries()) {
      const text = b.map(([c, f]) => `${c} ${f}`).join("\n") + "\n";
      const real = run("ovs-ofctl", ["-O", "OpenFlow14", "--bundle", "add-flows", "br0", "-"], dir, text);
      const r = ours.bundle(b.map(([c, f]) => parseFlowMod(c as FlowModCommand, f, true)), 5000);
      assert.equal(r.ok, real.status === 0, `bundle ${i}: ovs ${real.stderr.trim()}; ours ${JSON.stringify(r.ok ? "ok" : r.error)}`);
      assert.equal(r.ok, expect, `bundle ${i}`);
      if (!r.ok) assert.match(real.stderr, new RegExp(r.error));
      assert.deepEqual(ours.allRules().map(formatRule).sort(), realDump(), `bundle ${i}`);
    }
  });

  test("idle and hard timeouts expire as in OVS", async () => {
    reset();
    const ours = new OfprotoTables<string>(TEXT_ACTIONS);
    const steps: Step[] = [
      ["add-flow", false, "priority=1,hard_timeout=1,ip,actions=drop"],
      ["add-flow", false, "priority=2,idle_timeout=1,ip,actions=drop"],
      ["add-flow", false, "priority=3,hard_timeout=60,ip,actions=drop"],
      ["add-flow", false, "priority=4,idle_timeout=60,tcp,actions=drop"],
      ["add-flow", false, "priority=5,ip,actions=drop"],
    ];
    const t0 = Date.now();
    for (const [, , f] of steps) {
      assert.equal(ofctl("add-flow", "br0", f).status, 0);
      assert.ok(ours.flowMod(parseFlowMod("add", f), t0).ok);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const gone = ours.expire(Date.now());
    assert.deepEqual(gone.map((g) => [g.rule.priority, g.reason]).sort(), [[1, "hard_timeout"], [2, "idle_timeout"]]);
    assert.deepEqual(ours.allRules().map(formatRule).sort(), realDump());
  });

  test("Flow_Table flow_limit: refuse, then evict by importance and expiry", () => {
    reset();
    const vsctl = (...a: string[]) => assert.equal(run("ovs-vsctl", a, dir).status, 0);
    vsctl("--", "--id=@ft", "create", "Flow_Table", "flow_limit=3", "overflow_policy=refuse", "--", "set", "Bridge", "br0", "flow_tables:0=@ft");
    const ours = new OfprotoTables<string>(TEXT_ACTIONS);
    assert.ok(ours.configureTable(0, { flowLimit: 3, overflowPolicy: "refuse" }).ok);
    const refuse: Step[] = [
      ["add-flow", false, "priority=1,hard_timeout=100,ip,actions=drop"],
      ["add-flow", false, "priority=2,hard_timeout=30,ip,actions=drop"],
      ["add-flow", false, "priority=3,idle_timeout=60,ip,actions=drop"],
      ["add-flow", false, "priority=4,ip,actions=drop"],
      ["add-flow", false, "priority=3,idle_timeout=60,ip,actions=output:1"],
      ["add-flow", false, "table=1,priority=4,ip,actions=drop"],
    ];
    assert.equal(check(refuse, "refuse", ours).errors, 1);
    reset();
    vsctl("--", "--id=@ft", "create", "Flow_Table", "flow_limit=3", "overflow_policy=evict", "--", "set", "Bridge", "br0", "flow_tables:0=@ft");
    const evicting = new OfprotoTables<string>(TEXT_ACTIONS);
    assert.ok(evicting.configureTable(0, { flowLimit: 3, overflowPolicy: "evict" }).ok);
    const evict: Step[] = [
      ["add-flow", false, "priority=1,ip,actions=drop"],
      ["add-flow", false, "priority=2,hard_timeout=300,importance=1,ip,actions=drop"],
      ["add-flow", false, "priority=3,hard_timeout=100,ip,actions=drop"],
      ["add-flow", false, "priority=4,hard_timeout=200,ip,actions=drop"],
      ["add-flow", false, "priority=5,idle_timeout=150,ip,actions=drop"],
      ["add-flow", false, "priority=6,hard_timeout=500,ip,actions=drop"],
      ["add-flow", false, "priority=7,ip,actions=drop"],
      ["add-flow", false, "priority=8,ip,actions=drop"],
      ["add-flow", false, "priority=9,ip,actions=drop"],
    ];
    assert.equal(check(evict, "evict", evicting, true).errors, 1);

    // Eviction groups by in_port: the largest group loses its soonest-expiring flow (no ties: OVS breaks them at random).
    reset();
    vsctl("--", "--id=@ft", "create", "Flow_Table", "flow_limit=4", "overflow_policy=evict", "groups=\"NXM_OF_IN_PORT[]\"", "--", "set", "Bridge", "br0", "flow_tables:0=@ft");
    const grouped = new OfprotoTables<string>(TEXT_ACTIONS);
    assert.ok(grouped.configureTable(0, { flowLimit: 4, overflowPolicy: "evict", groups: ["NXM_OF_IN_PORT[]"] }).ok);
    const groups: Step[] = [
      ["add-flow", false, "priority=1,in_port=1,hard_timeout=10,actions=drop"],
      ["add-flow", false, "priority=2,in_port=2,hard_timeout=300,actions=drop"],
      ["add-flow", false, "priority=3,in_port=2,hard_timeout=200,actions=drop"],
      ["add-flow", false, "priority=4,in_port=2,hard_timeout=400,actions=drop"],
      ["add-flow", false, "priority=5,in_port=2,hard_timeout=20,actions=drop"],
      // Evicts priority 5 (in_port=2's group is the largest), not priority 1 that expires sooner.
      ["add-flow", false, "priority=6,in_port=1,hard_timeout=30,actions=drop"],
    ];
    check(groups, "groups", grouped);
  });
});
