/**
 * The breadth of `ovs-appctl` against the real ovs-vswitchd (dummy
 * devices): the same bridge in both, then
 *
 * - `list-commands`: byte-identical lines for every command both have, and
 *   the commands only OVS has are exactly the ones listed below as
 *   deliberately absent (with the reason);
 * - upcall/..., vlog/...rate-limit, coverage/read-counter, time/...,
 *   dpif/show-dp-features, dpif/set-dp-features, dpif-netdev/pmd-*,
 *   netdev-dummy/conn-state, the implementation selectors
 *   (dpif-netdev/dpif-impl-*, miniflow-parser-*, subtable-lookup-*,
 *   odp-execute/action-impl-*), dpif-netdev/bond-show,
 *   dpctl/offload-stats-show, the conntrack limit and TCP sequence-check
 *   commands and dpif-dummy/change-port-number's errors: the same
 *   replies, errors and exit codes;
 * - effects: exact-match datapath flows while megaflows are disabled, the
 *   pmd-stats-show counters of the same packets, and `time/warp` expiring
 *   an idle OpenFlow rule and a megaflow and aging a MAC entry.
 *
 * Datapath port numbers differ between the two switches (they number
 * ports differently), so flows are compared with `in_port` and output
 * numbers masked.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

/** Commands real OVS 3.1 has that tsovs leaves out on purpose, and why. */
const ABSENT: Readonly<Record<string, string>> = {
  "autoattach/show-isid": "no auto-attach (IEEE 802.1Qcb) support",
  "autoattach/statistics": "no auto-attach support",
  "autoattach/status": "no auto-attach support",
  "bfd/set-forwarding": "no BFD",
  "bfd/show": "no BFD",
  "cfm/set-fault": "no CFM",
  "cfm/show": "no CFM",
  "mdb/flush": "no multicast snooping",
  "mdb/show": "no multicast snooping",
  "stp/show": "no STP",
  "stp/tcn": "no STP",
  "rstp/show": "no RSTP",
  "rstp/tcn": "no RSTP",
  "dpctl/ipf-get-status": "no IP fragment reassembly",
  "dpctl/ipf-set-disabled": "no IP fragment reassembly",
  "dpctl/ipf-set-enabled": "no IP fragment reassembly",
  "dpctl/ipf-set-max-nfrags": "no IP fragment reassembly",
  "dpctl/ipf-set-min-frag": "no IP fragment reassembly",
};

const FLOW_TCP = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)";
const FLOW_ARP = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)";

const ETH = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
const ETH_VLAN = `${ETH},eth_type(0x8100),vlan(vid=9,pcp=0),encap(eth_type(0x0800))`;

/** Commands whose whole answer (stdout, stderr, status) must be the same. */
const SAME: string[][] = [
  ["upcall/disable-megaflows"],
  ["upcall/enable-megaflows"],
  ["upcall/disable-ufid"],
  ["upcall/enable-ufid"],
  ["upcall/set-flow-limit", "-5"],
  ["upcall/set-flow-limit", "abc"],
  ["upcall/set-flow-limit"],
  ["vlog/disable-rate-limit"],
  ["vlog/disable-rate-limit", "unixctl", "nosuchmodule"],
  ["vlog/enable-rate-limit", "unixctl"],
  ["vlog/enable-rate-limit"],
  ["vlog/list-pattern"],
  ["coverage/read-counter"],
  ["coverage/read-counter", "nosuchcounter"],
  ["time/warp"],
  ["time/warp", "abc"],
  ["time/warp", "0"],
  ["time/warp", "5", "x"],
  ["dpif/show-dp-features", "br0"],
  ["dpif/show-dp-features"],
  ["dpif/show-dp-features", "nobr"],
  ["dpif/set-dp-features", "br0"],
  ["dpif/set-dp-features", "br0", "recirc"],
  ["dpif/set-dp-features", "br0", "recirc", "maybe"],
  ["dpif/set-dp-features", "br0", "nosuch"],
  ["dpif/set-dp-features", "br0", "recirc", "false"],
  ["dpif/show-dp-features", "br0"],
  ["dpif/set-dp-features", "br0", "recirc", "true"],
  ["dpif/set-dp-features", "nobr"],
  ["dpif-netdev/pmd-rxq-show"],
  ["dpif-netdev/pmd-rxq-show", "-secs", "7"],
  ["dpif-netdev/pmd-rxq-show", "-secs", "100"],
  ["dpif-netdev/pmd-rxq-show", "-pmd", "3"],
  ["dpif-netdev/pmd-perf-show"],
  ["dpif-netdev/pmd-stats-show", "-pmd", "3"],
  ["dpif-netdev/pmd-stats-clear"],
  ["dpif-netdev/pmd-stats-show"],
  ["netdev-dummy/conn-state"],
  ["netdev-dummy/conn-state", "p1"],
  ["netdev-dummy/conn-state", "p1", "p2"],
  ["netdev-dummy/set-admin-state", "up"],
  ["dpif-netdev/pmd-rxq-rebalance"],
  ["dpif-netdev/pmd-rxq-rebalance", "nosuchdp"],
  ["dpif-netdev/pmd-perf-log-set", "on", "-b", "5", "-e"],
  ["dpif-netdev/pmd-perf-log-set", "off"],
  ["dpif-netdev/pmd-perf-log-set", "foo"],
  ["dpctl/normalize-actions", ETH, "2,1,3"],
  ["dpctl/normalize-actions", ETH, "push_vlan(vid=5,pcp=0),2,pop_vlan,3"],
  ["dpctl/normalize-actions", ETH, "3,push_vlan(vid=5,pcp=3),2,1,pop_vlan,4"],
  ["dpctl/normalize-actions", ETH, "push_vlan(tpid=0x88a8,vid=7,pcp=0),push_vlan(vid=8,pcp=1),6,5"],
  ["dpctl/normalize-actions", ETH_VLAN, "2,pop_vlan,3"],
  ["dpctl/normalize-actions", ETH_VLAN, "pop_vlan,pop_vlan,2"],
  ["dpctl/normalize-actions", ETH, "2", "c"],
  ["dpctl/normalize-actions", "xx", "2"],
  ["dpctl/normalize-actions", ETH],
  ["dpctl/cache-get-size"],
  ["dpctl/cache-get-size", "netdev@ovs-netdev"],
  ["dpctl/cache-get-size", "nosuchdp"],
  ["dpctl/cache-get-size", "a", "b"],
  ["dpctl/cache-set-size", "nosuchdp", "emc", "100"],
  ["dpctl/cache-set-size", "netdev@ovs-netdev", "emc", "100"],
  ["dpctl/cache-set-size", "a", "b", "c"],
  ["dpctl/cache-set-size"],
  ["dpctl/add-flows"],
  ["dpctl/add-flows", "a", "b", "c"],
  ["dpctl/del-flows", "a", "b", "c"],
  ["dpctl/mod-flows", "/nonexistent/flows.txt"],
  // Implementation selection (one implementation of each stage, as OVS without AVX512).
  ["dpif-netdev/dpif-impl-get"],
  ["dpif-netdev/dpif-impl-set"],
  ["dpif-netdev/dpif-impl-set", "foo"],
  ["dpif-netdev/dpif-impl-set", "dpif_avx512"],
  ["dpif-netdev/dpif-impl-set", "dpif_scalar"],
  ["dpif-netdev/dpif-impl-set", "dpif_scalar", "x"],
  ["dpif-netdev/miniflow-parser-get"],
  ["dpif-netdev/miniflow-parser-set"],
  ["dpif-netdev/miniflow-parser-set", "autovalidator"],
  ["dpif-netdev/miniflow-parser-set", "study"],
  ["dpif-netdev/miniflow-parser-set", "study", "100"],
  ["dpif-netdev/miniflow-parser-set", "study", "0"],
  ["dpif-netdev/miniflow-parser-set", "study", "abc"],
  ["dpif-netdev/miniflow-parser-set", "study", "1", "2"],
  ["dpif-netdev/miniflow-parser-set", "scalar", "5"],
  ["dpif-netdev/miniflow-parser-set", "foo"],
  ["dpif-netdev/miniflow-parser-set", "-pmd", "0", "scalar"],
  ["dpif-netdev/miniflow-parser-set", "-pmd", "abc", "scalar"],
  ["dpif-netdev/miniflow-parser-set", "-pmd"],
  ["dpif-netdev/miniflow-parser-set", "a", "b", "c", "d", "e", "f"],
  ["dpif-netdev/miniflow-parser-set", "scalar"],
  ["dpif-netdev/subtable-lookup-info-get"],
  ["dpif-netdev/subtable-lookup-prio-set", "generic"],
  ["dpif-netdev/subtable-lookup-prio-set", "foo", "3"],
  ["dpif-netdev/subtable-lookup-prio-set", "generic", "300"],
  ["dpif-netdev/subtable-lookup-prio-set", "generic", "-1"],
  ["dpif-netdev/subtable-lookup-prio-set", "generic", "abc"],
  ["dpif-netdev/subtable-lookup-prio-set", "autovalidator", "5x"],
  ["dpif-netdev/subtable-lookup-info-get"],
  ["dpif-netdev/subtable-lookup-prio-set", "generic", "1"],
  ["dpif-netdev/subtable-lookup-prio-set", "autovalidator", "0"],
  ["dpif-netdev/bond-show"],
  ["dpif-netdev/bond-show", "ovs-netdev"],
  ["dpif-netdev/bond-show", "netdev@ovs-netdev"],
  ["dpif-netdev/bond-show", "a", "b"],
  ["odp-execute/action-impl-show"],
  ["odp-execute/action-impl-set"],
  ["odp-execute/action-impl-set", "avx512"],
  ["odp-execute/action-impl-set", "autovalidator"],
  ["odp-execute/action-impl-show"],
  ["odp-execute/action-impl-set", "scalar"],
  // No hardware offload.
  ["dpctl/offload-stats-show"],
  ["dpctl/offload-stats-show", "netdev@ovs-netdev"],
  ["dpctl/offload-stats-show", "nosuch"],
  ["dpctl/offload-stats-show", "a", "b"],
  // Conntrack zone limits and TCP sequence checking, without traffic (appctl-breadth-ct has it).
  ["dpctl/ct-get-limits"],
  ["dpctl/ct-get-limits", "zone=5,6"],
  ["dpctl/ct-get-limits", "netdev@ovs-netdev", "zone=70000"],
  ["dpctl/ct-get-limits", "foo"],
  ["dpctl/ct-get-limits", "zone=abc"],
  ["dpctl/ct-get-limits", "zone=1,x"],
  ["dpctl/ct-get-limits", "nosuch", "zone=1"],
  ["dpctl/ct-get-limits", "a", "b", "c"],
  ["dpctl/ct-set-limits"],
  ["dpctl/ct-set-limits", "zone=5,limit=3", "zone=7,limit=0"],
  ["dpctl/ct-set-limits", "netdev@ovs-netdev", "zone=0x10,limit=010"],
  ["dpctl/ct-set-limits", "default=-1"],
  ["dpctl/ct-get-limits"],
  ["dpctl/ct-get-limits", "zone=5,3x"],
  ["dpctl/ct-set-limits", "default=abc"],
  ["dpctl/ct-set-limits", "zone=5"],
  ["dpctl/ct-set-limits", "limit=5"],
  ["dpctl/ct-set-limits", "zone=5,limit=x"],
  ["dpctl/ct-set-limits", "zone=x,limit=1"],
  ["dpctl/ct-set-limits", "zone=70000,limit=1"],
  ["dpctl/ct-set-limits", "zone=5,limit="],
  ["dpctl/ct-set-limits", "zone=5,limit=1,foo=2"],
  ["dpctl/ct-set-limits", "zone=5,limit=1", "default=3"],
  ["dpctl/ct-set-limits", "nosuch", "zone=1,limit=1"],
  ["dpctl/ct-del-limits"],
  ["dpctl/ct-del-limits", "zone=7"],
  ["dpctl/ct-del-limits", "zone=99,5,,16"],
  ["dpctl/ct-del-limits", "zone=x"],
  ["dpctl/ct-del-limits", "foo"],
  ["dpctl/ct-del-limits", "nosuch", "zone=1"],
  ["dpctl/ct-del-limits", "zone=1", "b", "c"],
  ["dpctl/ct-set-limits", "default=0"],
  ["dpctl/ct-get-limits"],
  ["dpctl/ct-get-tcp-seq-chk"],
  ["dpctl/ct-disable-tcp-seq-chk"],
  ["dpctl/ct-get-tcp-seq-chk"],
  ["dpctl/ct-enable-tcp-seq-chk", "netdev@ovs-netdev"],
  ["dpctl/ct-enable-tcp-seq-chk", "nosuch"],
  ["dpctl/ct-enable-tcp-seq-chk", "a", "b"],
  ["dpctl/ct-get-tcp-seq-chk", "nosuch"],
  ["dpctl/ct-get-tcp-seq-chk"],
  ["dpctl/ct-bkts"],
  ["dpctl/ct-bkts", "gt=1"],
  ["dpctl/ct-bkts", "gt=x"],
  ["dpctl/ct-bkts", "netdev@ovs-netdev", "gt=0"],
  ["dpctl/ct-bkts", "a", "b", "c"],
  // The dummy datapath's port renumbering: its errors (appctl-breadth-ct renumbers).
  ["dpif-dummy/change-port-number"],
  ["dpif-dummy/change-port-number", "netdev@ovs-netdev", "p1", "5"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "nop", "5"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "0"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "abc"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "2"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "4294967295"],
  ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "-1"],
];

/** The private datapath of the flow-file test. */
const DP = "dummy@fl0";
const ARP = "eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)";
/** A flow file for add-flows (the second time: every flow exists). */
const FLOWS_ADD = [
  `in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),${ARP} 2`,
  "",
  `in_port(2),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:02),${ARP} 1 # a comment`,
].join("\n");
/** A flow file with verbs: add, modify, delete. */
const FLOWS_VERBS = [
  `add in_port(1),eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:02),${ARP} drop`,
  `modify in_port(2),eth(src=50:54:00:00:00:03,dst=50:54:00:00:00:02),${ARP} 100`,
  `delete in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),${ARP}`,
  `delete in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),${ARP} 2`,
  "add junk",
].join("\n");

interface Answer {
  status: number | null;
  stdout: string;
  stderr: string;
}

async function appctl(sw: Switch, args: string[]): Promise<Answer> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

async function vsctl(sw: Switch, args: string[]): Promise<void> {
  const r = await runAsync("ovs-vsctl", ["--timeout=20", ...args], sw.dir);
  assert.equal(r.status, 0, r.stderr);
}

async function ofctl(sw: Switch, args: string[]): Promise<string> {
  const r = await runAsync("ovs-ofctl", args, sw.dir);
  assert.equal(r.status, 0, r.stderr);
  return r.stdout;
}

/** Datapath port numbers masked (in_port and output actions). */
function maskPorts(s: string): string {
  return s.replace(/in_port\(\d+\)/g, "in_port(N)").replace(/actions:[\d,]+/g, "actions:PORTS");
}

/**
 * pmd-stats-show with the EMC and megaflow hits added up: a megaflow hit
 * goes into the EMC with probability 1/100 (emc-insert-inv-prob), so
 * which of the two counts a later packet is chance, on either switch.
 */
function foldCacheHits(text: string): string {
  const emc = Number(/emc hits: (\d+)/.exec(text)?.[1] ?? NaN);
  const mega = Number(/megaflow hits: (\d+)/.exec(text)?.[1] ?? NaN);
  return text
    .replace(/emc hits: \d+/, `emc+megaflow hits: ${emc + mega}`)
    .replace(/\n {2}megaflow hits: \d+\n {2}avg\. subtable lookups per megaflow hit: [\d.]+/, "");
}

/** The dump-flows lines of rules with an idle timeout. */
function idleRules(dump: string): string {
  return dump.split("\n").filter((l) => l.includes("idle_timeout")).join("\n");
}

/** The lines of list-commands, keyed by command name. */
function commandLines(text: string): Map<string, string> {
  const m = new Map<string, string>();
  for (const line of text.split("\n").slice(1)) {
    const name = /^  (\S+)/.exec(line)?.[1];
    if (name !== undefined) m.set(name, line);
  }
  return m;
}

describe("ovs-appctl breadth vs the real ovs-vswitchd", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-appctl", "ovs-ofctl") }, () => {
  let real: Switch;
  let ours: Switch;
  let both: Switch[] = [];

  before(async () => {
    [real, ours] = await Promise.all([startRealSwitch(), startTsovsSwitch()]);
    both = [real, ours];
    for (const sw of both) {
      await vsctl(sw, [
        "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
        "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
        "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2",
      ]);
    }
  });

  after(async () => {
    await Promise.all(both.map((s) => s.stop()));
  });

  test("list-commands: same lines; only the deliberately absent commands missing", async () => {
    const [r, o] = await Promise.all(both.map((s) => appctl(s, ["list-commands"])));
    assert.equal(o!.stdout.split("\n")[0], "The available commands are:");
    const rl = commandLines(r!.stdout);
    const ol = commandLines(o!.stdout);
    const missing = [...rl.keys()].filter((n) => !ol.has(n));
    const unexpected = missing.filter((n) => !(n in ABSENT));
    assert.deepEqual(unexpected, [], "commands OVS has that tsovs lacks without a reason");
    for (const [name, line] of rl) if (ol.has(name)) assert.equal(ol.get(name), line, name);
    // Our own lines keep OVS's layout too (a long name still gets one space).
    for (const line of ol.values()) assert.match(line, /^  (\S{1,22} {2,}|\S{23,} )/);
  });

  test("replies and errors of upcall/, vlog/, coverage/, time/, dpif/ and pmd commands", async () => {
    for (const cmd of SAME) {
      const [r, o] = await Promise.all(both.map((s) => appctl(s, cmd)));
      assert.deepEqual(o, r, cmd.join(" "));
    }
  });

  test("dpctl/add-flows, mod-flows, del-flows with a file", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "appctl-flows-"));
    const add = path.join(dir, "add.txt");
    const verbs = path.join(dir, "verbs.txt");
    fs.writeFileSync(add, FLOWS_ADD);
    fs.writeFileSync(verbs, FLOWS_VERBS);
    try {
      const seen: Answer[][] = [];
      for (const sw of both) {
        const out: Answer[] = [];
        const dump = async (): Promise<Answer> => {
          const a = await appctl(sw, ["dpctl/dump-flows", DP]);
          return { ...a, stdout: a.stdout.split("\n").sort().join("\n") };
        };
        // A datapath of its own: no bridge's revalidator deletes flows it did not install.
        out.push(await appctl(sw, ["dpctl/add-dp", DP]));
        out.push(await appctl(sw, ["dpctl/add-flows", DP, add]));
        out.push(await dump());
        out.push(await appctl(sw, ["dpctl/add-flows", DP, add]));
        out.push(await appctl(sw, ["dpctl/mod-flows", DP, verbs]));
        out.push(await dump());
        out.push(await appctl(sw, ["dpctl/del-flows", DP, add]));
        out.push(await appctl(sw, ["dpctl/del-flows", DP, verbs]));
        out.push(await dump());
        out.push(await appctl(sw, ["dpctl/add-flows", add]));
        out.push(await appctl(sw, ["dpctl/del-dp", DP]));
        seen.push(out);
      }
      assert.match(seen[0]![2]!.stdout, /actions:2/);
      assert.deepEqual(seen[1], seen[0]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("disable-megaflows installs exact-match flows; enable-megaflows flushes them", async () => {
    const dumps: string[] = [];
    for (const sw of both) {
      await ofctl(sw, ["del-flows", "br0"]);
      await ofctl(sw, ["add-flow", "br0", "actions=normal"]);
      assert.equal((await appctl(sw, ["upcall/disable-megaflows"])).stdout, "megaflows disabled\n");
      for (const f of [FLOW_TCP, FLOW_ARP]) assert.equal((await appctl(sw, ["netdev-dummy/receive", "p1", f])).status, 0);
      dumps.push(maskPorts((await appctl(sw, ["dpif/dump-flows", "br0"])).stdout).split("\n").sort().join("\n"));
      await appctl(sw, ["upcall/enable-megaflows"]);
      assert.equal((await appctl(sw, ["dpif/dump-flows", "br0"])).stdout, "");
    }
    assert.match(dumps[0]!, /skb_mark\(0\).*tcp\(src=1000,dst=80\)/);
    assert.equal(dumps[1], dumps[0]);
  });

  test("pmd-stats-show counts the same packets; dpif/show counts since the clear", async () => {
    const texts: string[] = [];
    const shows: string[] = [];
    for (const sw of both) {
      await appctl(sw, ["revalidator/purge"]);
      await appctl(sw, ["dpif-netdev/pmd-stats-clear"]);
      for (let i = 0; i < 4; i++) await appctl(sw, ["netdev-dummy/receive", "p1", FLOW_TCP]);
      texts.push(foldCacheHits((await appctl(sw, ["dpif-netdev/pmd-stats-show"])).stdout));
      shows.push((await appctl(sw, ["dpif/show"])).stdout.split("\n")[0]!);
      shows.push((await appctl(sw, ["dpctl/show"])).stdout.split("\n")[1]!);
    }
    assert.match(texts[0]!, /^main thread:\n {2}packets received: 4\n[^]*emc\+megaflow hits: 3\n[^]*miss with success upcall: 1\n/);
    assert.equal(texts[1], texts[0]);
    assert.deepEqual(shows.slice(2), shows.slice(0, 2));
    assert.deepEqual(shows.slice(0, 2), ["netdev@ovs-netdev: hit:3 missed:1", "  lookups: hit:3 missed:1 lost:0"]);
  });

  test("time/warp expires an idle rule and a megaflow and ages MAC entries", async () => {
    const seen: string[][] = [];
    for (const sw of both) {
      const out: string[] = [];
      await ofctl(sw, ["del-flows", "br0"]);
      await appctl(sw, ["fdb/flush"]);
      await ofctl(sw, ["add-flow", "br0", "priority=10,idle_timeout=10,in_port=2,actions=drop"]);
      await ofctl(sw, ["add-flow", "br0", "priority=5,actions=normal"]);
      // No megaflow left from before: the packet below must be learned from.
      await appctl(sw, ["revalidator/purge"]);
      await appctl(sw, ["time/stop"]);
      await appctl(sw, ["netdev-dummy/receive", "p1", FLOW_TCP]);
      out.push((await appctl(sw, ["time/warp", "5000"])).stdout);
      out.push((await appctl(sw, ["fdb/show", "br0"])).stdout);
      out.push(String((await appctl(sw, ["dpif/dump-flows", "br0"])).stdout.split("\n").length - 1));
      out.push(idleRules(await ofctl(sw, ["dump-flows", "br0", "--no-stats"])));
      out.push((await appctl(sw, ["time/warp", "6000", "1000"])).stdout);
      out.push((await appctl(sw, ["fdb/show", "br0"])).stdout);
      out.push((await appctl(sw, ["dpif/dump-flows", "br0"])).stdout);
      out.push(idleRules(await ofctl(sw, ["dump-flows", "br0", "--no-stats"])));
      out.push((await appctl(sw, ["time/warp", "300000", "1000"])).stdout);
      out.push((await appctl(sw, ["fdb/show", "br0"])).stdout);
      seen.push(out);
    }
    const [r, o] = seen;
    assert.match(r![1]!, /50:54:00:00:00:01 +5\n/);
    assert.match(r![5]!, /50:54:00:00:00:01 +11\n/);
    assert.equal(r![7]!, "");
    assert.deepEqual(o, r);
  });
});
