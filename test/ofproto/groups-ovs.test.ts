/**
 * Differential test: the same ovs-ofctl group, meter and flow commands go
 * to a real ovs-vswitchd 3.1 (dummy datapath) and to our GroupTable /
 * MeterTable / OfprotoTables. After each: the same outcome (ok, the same
 * OpenFlow error, or the same ovs-ofctl message for text it refuses), and
 * `dump-groups` (OF1.3 and OF1.5), `dump-group-stats`, `dump-flows`,
 * `dump-meters`, `meter-stats` as ovs-ofctl prints them equal to our reply
 * bodies printed by our codecs (sorted: OVS lists groups and meters in
 * hash order; durations blanked). Features replies once.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { startRealVswitchd, stopRealVswitchd } from "../util/dpctl.js";
import {
  apply,
  bodyLines,
  meterBlocks,
  newSwitch,
  noDurations,
  ourFlows,
  ourGroupDesc,
  ourGroupFeatures,
  ourGroupStats,
  ourMeterConfig,
  ourMeterFeatures,
  ourMeterStats,
  type Switch,
} from "./group-meter-text.js";

const skip = ovsSkip("ovs-vswitchd", "ovs-ofctl", "ovsdb-server");

/** [protocol, command, argument]; "mod-group!" is `--may-create mod-group`. */
type Step = [proto: "OpenFlow13" | "OpenFlow15", cmd: string, arg: string];

const GROUP_SCRIPT: Step[] = [
  ["OpenFlow13", "add-group", "group_id=1,type=all,bucket=output:1,bucket=output:2"],
  ["OpenFlow13", "add-group", "group_id=1,type=all,bucket=output:1"],
  ["OpenFlow13", "add-group", "group_id=2,type=indirect,bucket=group:1"],
  ["OpenFlow13", "add-group", "group_id=3,type=select,bucket=weight:0,output:1,bucket=weight:5,group:9"],
  ["OpenFlow13", "add-group", "group_id=4,type=ff,bucket=watch_port:1,output:1,bucket=watch_group:2,output:2"],
  ["OpenFlow13", "add-group", "group_id=5,type=ff,bucket=watch_group:99,output:1"],
  ["OpenFlow13", "add-group", "group_id=6,type=indirect"],
  ["OpenFlow13", "add-group", "group_id=6,type=indirect,bucket=output:1,bucket=output:2"],
  ["OpenFlow13", "add-group", "group_id=6,type=all,bucket=weight:3,output:1"],
  ["OpenFlow13", "add-group", "group_id=6,type=all,bucket=watch_port:3,output:1"],
  ["OpenFlow13", "add-group", "group_id=6,type=ff,bucket=output:1"],
  ["OpenFlow13", "add-group", "group_id=4294967292,type=all,bucket=output:1"],
  ["OpenFlow13", "add-group", "group_id=0xffffff00,type=all,bucket=output:1"],
  ["OpenFlow13", "add-group", "group_id=7,type=all,bucket=group:7"],
  ["OpenFlow13", "add-group", "group_id=8,type=ff,bucket=watch_port:controller,output:1,bucket=watch_port:any,watch_group:8,output:2"],
  ["OpenFlow13", "add-group", "group_id=9,type=all"],
  ["OpenFlow13", "mod-group", "group_id=10,type=all,bucket=output:1"],
  ["OpenFlow13", "mod-group!", "group_id=10,type=all,bucket=output:1"],
  ["OpenFlow13", "mod-group", "group_id=10,type=select,bucket=output:2,bucket=weight:7,output:1"],
  ["OpenFlow13", "mod-group!", "group_id=10,type=select,bucket=output:2"],
  ["OpenFlow13", "add-flow", "priority=5,actions=group:1"],
  ["OpenFlow13", "add-flow", "priority=6,actions=write_actions(group:2)"],
  ["OpenFlow13", "add-flow", "priority=7,actions=clone(group:3,group:1)"],
  // Two references from one rule (ref_count counts both). OVS 3.1 aborts
  // (assertion in ofproto_rule_remove__) if the group is deleted while such
  // a rule exists, so the rule goes first.
  ["OpenFlow13", "add-flow", "table=2,priority=8,actions=group:1,group:1"],
  ["OpenFlow13", "del-flows", "table=2"],
  ["OpenFlow13", "add-flow", "priority=9,actions=group:77"],
  ["OpenFlow13", "add-flow", "table=1,priority=9,ip,actions=output:1,group:4"],
  ["OpenFlow13", "del-groups", "group_id=1"],
  ["OpenFlow13", "del-groups", "group_id=999"],
  ["OpenFlow15", "add-group", "group_id=20,type=select,selection_method=hash,fields(ip_src,nw_proto),bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=21,type=select,selection_method=dp_hash,selection_method_param=7,bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=22,type=select,selection_method=hash,fields=eth_dst=ff:00:00:00:00:00,selection_method_param=0x10,bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=23,type=select,selection_method=hash,bucket=bucket_id:1,output:1,bucket=bucket_id:1,output:2"],
  ["OpenFlow15", "add-group", "group_id=24,type=select,bucket=bucket_id:3,output:1,bucket=output:2,bucket=bucket_id:0,output:3"],
  ["OpenFlow15", "add-group", "group_id=25,type=all,bucket=bucket_id:1,output:1,bucket=bucket_id:2,output:2,bucket=bucket_id:3,output:3"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=2,bucket=bucket_id:9,output:9,bucket=bucket_id:10,output:10"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=first,bucket=bucket_id:8,output:8"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=last,bucket=bucket_id:11,output:11"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=last,bucket=bucket_id:9,output:9"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=99,bucket=bucket_id:12,output:9"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=last,bucket=output:6"],
  ["OpenFlow15", "insert-buckets", "group_id=98,command_bucket_id=last,bucket=bucket_id:12,output:6"],
  ["OpenFlow15", "insert-buckets", "group_id=25,bucket=bucket_id:12,output:6"],
  ["OpenFlow15", "insert-buckets", "group_id=25,command_bucket_id=all,bucket=bucket_id:12,output:6"],
  ["OpenFlow15", "remove-buckets", "group_id=25,command_bucket_id=99"],
  ["OpenFlow15", "remove-buckets", "group_id=25,command_bucket_id=9"],
  ["OpenFlow15", "remove-buckets", "group_id=25,command_bucket_id=first"],
  ["OpenFlow15", "remove-buckets", "group_id=25,command_bucket_id=last"],
  ["OpenFlow15", "remove-buckets", "group_id=98"],
  ["OpenFlow15", "add-group", "group_id=26,type=ff,bucket=bucket_id:4,watch_port:2,output:1"],
  ["OpenFlow15", "insert-buckets", "group_id=26,command_bucket_id=last,bucket=bucket_id:5,watch_port:1,output:2"],
  ["OpenFlow15", "insert-buckets", "group_id=2,command_bucket_id=first,bucket=bucket_id:5,output:2"],
  ["OpenFlow15", "insert-buckets", "group_id=20,command_bucket_id=first,bucket=bucket_id:5,output:2"],
  ["OpenFlow15", "remove-buckets", "group_id=20,command_bucket_id=all"],
  ["OpenFlow15", "remove-buckets", "group_id=20,command_bucket_id=first"],
  ["OpenFlow15", "mod-group", "group_id=25,type=select,selection_method=hash,fields(ip_dst),bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=27,type=all,selection_method=hash,bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=27,type=select,selection_method=foo,bucket=output:1"],
  ["OpenFlow15", "add-group", "group_id=27,type=select,selection_method=dp_hash,fields(ip_src),bucket=output:1"],
  ["OpenFlow15", "add-flow", "priority=10,actions=group:25"],
  ["OpenFlow15", "del-groups", ""],
  ["OpenFlow15", "add-group", "group_id=30,type=all,bucket=output:1"],
  ["OpenFlow13", "add-flow", "priority=11,actions=group:30"],
];

const METER_SCRIPT: Step[] = [
  ["OpenFlow13", "add-meter", "meter=1,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=1,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=2,pktps,burst,stats,band=type=drop,rate=100,burst_size=50"],
  ["OpenFlow13", "add-meter", "meter=3,kbps,pktps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=4,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=5,kbps,band=type=dscp_remark,rate=100,prec_level=1"],
  ["OpenFlow13", "add-meter", "meter=6,kbps,band=type=drop,rate=0"],
  ["OpenFlow13", "add-meter", "meter=7,kbps,burst,band=type=drop,rate=10"],
  ["OpenFlow13", "add-meter", "meter=8,kbps"],
  ["OpenFlow13", "add-meter", "meter=9,kbps,band=type=drop,rate=100,burst_size=7"],
  ["OpenFlow13", "add-meter", "meter=0,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=262144,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=262145,kbps,stats,band=type=drop,rate=100"],
  ["OpenFlow13", "add-meter", "meter=controller,pktps,band=type=drop,rate=10"],
  ["OpenFlow13", "add-meter", "meter=slowpath,pktps,band=type=drop,rate=10"],
  ["OpenFlow13", "add-meter", "meter=10,kbps,bands=type=drop,rate=100,type=drop,rate=200"],
  ["OpenFlow13", "mod-meter", "meter=55,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "mod-meter", "meter=1,pktps,burst,band=type=drop,rate=5,burst_size=9"],
  ["OpenFlow13", "mod-meter", "meter=2,kbps,band=type=dscp_remark,rate=5"],
  ["OpenFlow13", "add-flow", "priority=50,actions=meter:1,output:1"],
  ["OpenFlow13", "add-flow", "priority=51,actions=meter:1,output:2"],
  ["OpenFlow13", "add-flow", "priority=52,actions=meter:2,output:2"],
  ["OpenFlow13", "add-flow", "priority=53,actions=meter:77,output:2"],
  ["OpenFlow13", "add-flow", "table=1,priority=53,actions=meter:77,group:77"],
  ["OpenFlow15", "add-flow", "priority=54,actions=controller(meter_id=1)"],
  ["OpenFlow15", "add-flow", "priority=55,actions=controller(meter_id=99)"],
  ["OpenFlow13", "del-meters", "meter=55"],
  ["OpenFlow13", "del-meters", "meter=1"],
  ["OpenFlow13", "add-meter", "meter=1,kbps,band=type=drop,rate=100"],
  ["OpenFlow13", "add-flow", "priority=56,actions=meter:1,output:1"],
  ["OpenFlow13", "del-meters", ""],
  ["OpenFlow13", "add-meter", "meter=3,kbps,band=type=drop,rate=1"],
];

/** A seeded random group/flow command sequence over a small pool of ids, so collisions are frequent. */
function randomGroupSteps(seed: number, n: number): Step[] {
  let s = seed >>> 0;
  const rnd = (k: number): number => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s >>> 8) % k;
  };
  const pick = <T>(xs: readonly T[]): T => xs[rnd(xs.length)]!;
  const types = ["all", "select", "indirect", "ff"] as const;
  const bucket = (type: string, of15: boolean): string => {
    const parts: string[] = [];
    if (of15 && rnd(2) === 0) parts.push(`bucket_id:${rnd(6)}`);
    if (type === "select" && rnd(3) === 0) parts.push(`weight:${rnd(4)}`);
    if (type === "ff" || rnd(12) === 0) parts.push(rnd(2) === 0 ? `watch_port:${1 + rnd(2)}` : `watch_group:${1 + rnd(5)}`);
    parts.push(`actions=${pick(["output:1", "output:2", "drop", `group:${1 + rnd(5)}`, "set_field:1->reg0,output:2"])}`);
    return "bucket=" + parts.join(",");
  };
  const out: Step[] = [];
  for (let i = 0; i < n; i++) {
    const of15 = rnd(2) === 0;
    const proto = of15 ? "OpenFlow15" : "OpenFlow13";
    const id = 1 + rnd(5);
    const op = rnd(10);
    if (op < 4) {
      const type = pick(types);
      const cmd = pick(["add-group", "add-group", "mod-group", "mod-group!"]);
      const parts = [`group_id=${id}`, `type=${type}`];
      if (of15 && type === "select" && rnd(3) === 0) parts.push(pick(["selection_method=hash,fields(ip_src)", "selection_method=dp_hash", "selection_method=hash,selection_method_param=5"]));
      const nb = type === "indirect" ? (rnd(6) === 0 ? 0 : 1) : rnd(4);
      for (let b = 0; b < nb; b++) parts.push(bucket(type, of15));
      out.push([proto, cmd, parts.join(",")]);
    } else if (op < 6) {
      const cbid = pick(["first", "last", "0", "1", "2", "3"]);
      const parts = [`group_id=${id}`, `command_bucket_id=${cbid}`];
      for (let b = rnd(3); b > 0; b--) parts.push(bucket("all", true));
      out.push(["OpenFlow15", "insert-buckets", parts.join(",")]);
    } else if (op < 7) {
      out.push(["OpenFlow15", "remove-buckets", `group_id=${id},command_bucket_id=${pick(["first", "last", "all", "0", "1", "2", "4"])}`]);
    } else if (op < 8) {
      out.push([proto, "del-groups", rnd(6) === 0 ? "" : `group_id=${id}`]);
    } else if (op < 9) {
      // One reference per group per rule: OVS 3.1 aborts when a group with a doubly-referencing rule is deleted.
      const other = 1 + ((id + rnd(4)) % 5);
      const acts = rnd(2) === 0 || other === id ? `group:${id}` : `clone(group:${id}),group:${other}`;
      out.push([proto, "add-flow", `table=${rnd(2)},priority=${rnd(4)},actions=${acts}`]);
    } else {
      out.push([proto, "del-flows", rnd(2) === 0 ? "" : "table=1"]);
    }
  }
  return out;
}

describe("groups and meters vs ovs-vswitchd 3.1", { skip }, () => {
  let dir = "";
  let stop: () => void = () => {};
  const ofctl = (...args: string[]) => run("ovs-ofctl", args, dir);

  before(() => {
    dir = tempDir("tsovs-groups-");
    stop = startRealVswitchd(dir);
  });
  after(() => stopRealVswitchd(dir, stop));

  function reset(): void {
    for (const a of [["del-flows", "br0"], ["del-groups", "br0"], ["del-meters", "br0"]]) assert.equal(ofctl("-O", "OpenFlow15", ...a).status, 0);
  }

  function realLines(proto: string, ...args: string[]): string[] {
    const r = ofctl("-O", proto, ...args);
    assert.equal(r.status, 0, r.stderr);
    return bodyLines(r.stdout);
  }

  /**
   * Compares what `kind` concerns: groups (OF1.5 dump-groups always; with
   * `full` also OF1.3 dump-groups and dump-group-stats) or meters
   * (dump-meters, meter-stats); and the flows.
   */
  function compareState(sw: Switch, what: string, now: number, kind: "groups" | "meters", full: boolean): void {
    if (kind === "groups") {
      assert.deepEqual(ourGroupDesc(sw, "OpenFlow15"), realLines("OpenFlow15", "dump-groups", "br0").sort(), `${what}: OF1.5 dump-groups`);
      if (full) {
        assert.deepEqual(ourGroupDesc(sw, "OpenFlow13"), realLines("OpenFlow13", "dump-groups", "br0").sort(), `${what}: OF1.3 dump-groups`);
        assert.deepEqual(ourGroupStats(sw, "OpenFlow13", now), realLines("OpenFlow13", "dump-group-stats", "br0").map(noDurations).sort(), `${what}: dump-group-stats`);
      }
    } else {
      assert.deepEqual(ourMeterConfig(sw), meterBlocks(realLines("OpenFlow13", "dump-meters", "br0")), `${what}: dump-meters`);
      assert.deepEqual(ourMeterStats(sw, now), meterBlocks(realLines("OpenFlow13", "meter-stats", "br0").map(noDurations)), `${what}: meter-stats`);
    }
    // --no-stats dump-flows prints no header line.
    const flows = ofctl("-O", "OpenFlow14", "--no-stats", "dump-flows", "br0");
    assert.deepEqual(ourFlows(sw), flows.stdout.split("\n").filter((l) => l.trim() !== "").sort(), `${what}: dump-flows`);
  }

  /** Runs the steps on both; returns how many OVS refused (by ovs-ofctl or by the switch). */
  function check(steps: Step[], label: string, kind: "groups" | "meters", fullEvery = 1): number {
    const sw = newSwitch();
    let refused = 0;
    let now = 1000;
    for (const [i, [proto, cmd0, arg]] of steps.entries()) {
      const mayCreate = cmd0.endsWith("!");
      const cmd = mayCreate ? cmd0.slice(0, -1) : cmd0;
      const what = `${label} step ${i}: ovs-ofctl -O ${proto} ${mayCreate ? "--may-create " : ""}${cmd} br0 "${arg}"`;
      const real = ofctl("-O", proto, ...(mayCreate ? ["--may-create"] : []), cmd, "br0", ...(arg === "" ? [] : [arg]));
      const ours = apply(sw, proto, cmd, arg, (now += 10), mayCreate);
      if (real.status === 0) {
        assert.ok(ours.ok, `${what}: ovs ok, ours ${ours.ok ? "" : ours.error}`);
      } else {
        refused++;
        assert.ok(!ours.ok, `${what}: ovs ${real.stderr.trim()}, ours ok`);
        const m = /OFPT_ERROR \([^)]*\) \(xid=[^)]*\): (\w+)/.exec(real.stderr);
        if (m) assert.equal(ours.parse ? `ovs-ofctl: ${ours.error}` : ours.error, m[1], what);
        else assert.equal(`ovs-ofctl: ${ours.error}`, real.stderr.trim().split("\n").pop(), what);
      }
      compareState(sw, what, now, kind, i % fullEvery === 0 || i === steps.length - 1);
    }
    return refused;
  }

  test("group_mod: add, modify, add-or-modify, delete, insert and remove buckets, errors, flows deleted with their groups", () => {
    reset();
    assert.equal(check(GROUP_SCRIPT, "groups", "groups", 4), 21);
  });

  // GROUPS_DIFF_SEEDS=N runs N more seeds (a longer hunt than the always-on ones).
  const extraSeeds = Number(process.env["GROUPS_DIFF_SEEDS"] ?? 0);
  test("random group_mod / flow_mod sequences (OF1.3 and OF1.5)", () => {
    for (const seed of [1, 2, ...Array.from({ length: extraSeeds }, (_, i) => 100 + i)]) {
      reset();
      const refused = check(randomGroupSteps(seed, 60), `seed ${seed}`, "groups", 10);
      assert.ok(refused < 60, `seed ${seed}: everything refused`);
    }
  });

  test("meter_mod: add, modify, delete, errors, flow counts, flows deleted with their meters", () => {
    reset();
    assert.equal(check(METER_SCRIPT, "meters", "meters"), 13);
  });

  test("text ovs-ofctl refuses: the same message", () => {
    const bad: [string, string][] = [
      ["add-group", "group_id=1,type=foo,bucket=output:1"],
      ["add-group", "group_id=x,type=all"],
      ["add-group", "group_id=1,type=all,bucket=weight:x,output:1"],
      ["add-group", "group_id=1,type=select,bucket=weight:70000,output:1"],
      ["add-group", "group_id=1,type=ff,bucket=watch_port:in_port,output:1"],
      ["add-group", "group_id=1,type=ff,bucket=watch_port:foo,output:1"],
      ["add-group", "group_id=1,type=ff,bucket=watch_group:x,output:1"],
      ["add-group", "group_id=1,type=ff,bucket=watch_group:0xffffff01,output:1"],
      ["add-group", "group_id=1,type=all,bucket=bucket_id:x,output:1"],
      ["add-group", "group_id=1,type=all,bucket=bucket_id:0xffffff01,output:1"],
      ["add-group", "group_id=1,type=all,bucket=output:foo"],
      ["add-group", "group_id=1,type=all,foo=bar,bucket=output:1"],
      ["add-group", "group_id=1,type=all,bucket=actions=foo"],
      ["add-group", "group_id=1,type=select,selection_method=hash,fields(foo),bucket=output:1"],
      ["add-group", "group_id=1,type=select,selection_method=hash,selection_method_param=x,bucket=output:1"],
      ["add-group", "group_id=1,type=select,fields(ip_src),bucket=output:1"],
      ["add-group", "group_id=1,type=indirect,bucket=output:1,bucket=output:2"],
      ["add-group", "group_id=1,type=all,bucket=weight:2,output:1"],
      ["add-group", "group_id=1,type=ff,bucket=output:1"],
      ["add-group", "group_id=0xffffff01,type=all"],
      ["add-group", "type=all"],
      ["add-group", "group_id=1,type=all,command_bucket_id=first"],
      ["mod-group", "group_id=1"],
      ["del-groups", "group_id=1,bucket=output:1"],
      ["del-groups", "group_id=1,type=all"],
      ["del-groups", "group_id=1,selection_method=hash"],
      ["insert-buckets", "group_id=1,bucket=output:1"],
      ["insert-buckets", "group_id=1,type=all,command_bucket_id=last"],
      ["insert-buckets", "group_id=1,command_bucket_id=all"],
      ["insert-buckets", "group_id=1,command_bucket_id=0xffffff01,bucket=output:1"],
      ["remove-buckets", "group_id=1,command_bucket_id=x"],
      ["remove-buckets", "command_bucket_id=first"],
      ["remove-buckets", "group_id=1,bucket=output:1"],
      ["add-meter", "meter=1,kbps"],
      ["add-meter", "meter=1,band=type=drop,rate=5"],
      ["add-meter", "meter=0,kbps,band=type=drop,rate=5"],
      ["add-meter", "meter=1,kbps,band=type=drop"],
      ["add-meter", "meter=1,kbps,burst,band=type=drop,rate=5"],
      ["add-meter", "meter=1,kbps,band=type=drop,rate=5,burst_size=3"],
      ["add-meter", "meter=1,kbps,band=type=dscp_remark,rate=5"],
      ["add-meter", "meter=1,kbps,band=type=foo,rate=5"],
      ["add-meter", "meter=1,kbps,foo,band=type=drop,rate=5"],
      ["add-meter", "kbps,band=type=drop,rate=5"],
      ["add-meter", "meter=x,kbps,band=type=drop,rate=5"],
      ["add-meter", "meter=0xffff0001,kbps,band=type=drop,rate=5"],
      ["add-meter", "meter=1,kbps,foo=3,band=type=drop,rate=5"],
      ["add-meter", "meter=1,kbps,band=type=drop,rate=5,foo"],
      ["add-meter", "meter=1,kbps,band=rate=5"],
      ["add-meter", "meter=1,kbps,band=type=drop,rate=x"],
      ["add-meter", "meter=1,kbps,band=type=dscp_remark,rate=5,prec_level=300"],
      ["add-meter", "meter=1,kbps,band=type=drop,rate=5,type=drop"],
      ["del-meters", "meter=1,kbps"],
      ["del-meters", "meter=1,band=type=drop,rate=4"],
      ["del-meters", "foo"],
      ["del-meters", "meter=x"],
    ];
    const sw = newSwitch();
    const wrong: string[] = [];
    for (const [cmd, arg] of bad) {
      const real = ofctl("-O", "OpenFlow15", cmd, "br0", arg);
      const theirs = real.status === 0 ? "ok" : real.stderr.trim().split("\n").pop();
      const ours = apply(sw, "OpenFlow15", cmd, arg, 0);
      const mine = ours.ok ? "ok" : ours.parse ? `ovs-ofctl: ${ours.error}` : `switch: ${ours.error}`;
      if (mine !== theirs) wrong.push(`${cmd} ${arg}: ovs "${theirs}", ours "${mine}"`);
    }
    assert.deepEqual(wrong, []);
  });

  test("meter token buckets drop what the userspace datapath drops", () => {
    reset();
    const sw = newSwitch();
    const steps: Step[] = [
      ["OpenFlow13", "add-meter", "meter=1,pktps,burst,band=type=drop,rate=1,burst_size=5"],
      ["OpenFlow13", "add-meter", "meter=2,kbps,burst,band=type=drop,rate=1,burst_size=20"],
      ["OpenFlow13", "add-meter", "meter=3,pktps,bands=type=drop,rate=2,type=drop,rate=4"],
      ["OpenFlow13", "add-meter", "meter=4,kbps,band=type=drop,rate=100"],
    ];
    for (let m = 1; m <= 4; m++) steps.push(["OpenFlow13", "add-flow", `in_port=1,udp,tp_src=${m},actions=meter:${m},output:2`]);
    for (const [proto, cmd, arg] of steps) {
      assert.equal(ofctl("-O", proto, cmd, "br0", arg).status, 0, arg);
      assert.ok(apply(sw, proto, cmd, arg, 0).ok, arg);
    }
    // UDP packets from port m, `payload` bytes of payload.
    const packet = (m: number, payload: number): string => {
      const ipLen = 28 + payload;
      const h = (v: number, n: number): string => v.toString(16).padStart(n, "0");
      return "000000000002000000000001" + "0800" + "4500" + h(ipLen, 4) + "00000000401100000101010102020202" + h(m, 4) + "0002" + h(8 + payload, 4) + "0000" + "00".repeat(payload);
    };
    // Rates so low that the time the test takes refills nothing that matters.
    const batches: [meter: number, n: number, payload: number][] = [
      [1, 12, 0],
      [2, 6, 1000],
      [3, 12, 0],
      [4, 20, 0],
    ];
    for (const [m, n, payload] of batches) {
      const r = run("ovs-appctl", ["netdev-dummy/receive", "p1", ...Array.from({ length: n }, () => packet(m, payload))], dir);
      assert.equal(r.status, 0, r.stderr);
      sw.meters.meterPackets(m, n, n * (42 + payload), 10);
    }
    // The datapath counts asynchronously: wait until it has seen every packet.
    const total = batches.reduce((a, [, n]) => a + n, 0);
    for (let i = 0; i < 50; i++) {
      const seen = [...ofctl("-O", "OpenFlow13", "meter-stats", "br0").stdout.matchAll(/packet_in_count:(\d+)/g)].reduce((a, x) => a + Number(x[1]), 0);
      if (seen >= total) break;
      spawnSync("sleep", ["0.1"]);
    }
    assert.deepEqual(ourMeterStats(sw, 10), meterBlocks(realLines("OpenFlow13", "meter-stats", "br0").map(noDurations)));
    const dropped = sw.meters.statsReply(0xffffffff, 10);
    assert.ok(dropped.ok);
    assert.deepEqual(dropped.entries.map((e) => e.bands.map((b) => Number(b.packetCount))), [[7], [4], [2, 8], [0]]);
  });

  test("group and meter features as ovs-vswitchd with the userspace datapath reports them", () => {
    const sw = newSwitch();
    for (const proto of ["OpenFlow13", "OpenFlow15"]) {
      assert.deepEqual(ourGroupFeatures(sw, proto), realLines(proto, "dump-group-features", "br0"), proto);
    }
    assert.deepEqual(ourMeterFeatures(sw), realLines("OpenFlow13", "meter-features", "br0"));
  });

  test("a request for one missing meter is OFPMMFC_UNKNOWN_METER; for one missing group an empty reply", () => {
    reset();
    const sw = newSwitch();
    // ovs-ofctl prints a stats request's error on stdout and exits 0.
    const real = ofctl("-O", "OpenFlow13", "meter-stats", "br0", "meter=55");
    assert.match(real.stdout, /OFPT_ERROR.*OFPMMFC_UNKNOWN_METER/);
    assert.equal(ourMeterStats(sw, 0, 55), "OFPMMFC_UNKNOWN_METER");
    assert.match(ofctl("-O", "OpenFlow13", "dump-meters", "br0", "meter=55").stdout, /OFPT_ERROR.*OFPMMFC_UNKNOWN_METER/);
    assert.equal(ourMeterConfig(sw, 55), "OFPMMFC_UNKNOWN_METER");
    assert.deepEqual(realLines("OpenFlow13", "dump-group-stats", "br0", "group_id=55"), []);
    assert.deepEqual(sw.groups.statsReply(55, 0), []);
  });
});
