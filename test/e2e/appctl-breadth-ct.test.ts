/**
 * The appctl commands that need traffic, against the real ovs-vswitchd
 * (dummy devices), the same bridge and packets into both:
 *
 * - conntrack zone limits: commits over a zone's limit are not made
 *   (dump-conntrack), ct-get-limits counts them (the default limit's count
 *   shared by the zones without their own), ct-bkts and ct-stats-show
 *   report the same connections;
 * - dpcls lookup functions: subtable-lookup-info-get's use counts follow
 *   the megaflows' subtables, bound to the best function when created;
 * - TCP sequence checking: a reset far outside the window is invalid
 *   (the connection stays ESTABLISHED) until ct-disable-tcp-seq-chk, then
 *   closes it;
 * - dpif-dummy/change-port-number: the port's datapath number changes in
 *   dpctl/show and dpif/show, and NORMAL forwarding installs flows with
 *   the new number.
 *
 * The bridge's own internal port is numbered differently by the two
 * switches; lines that show it are left out of the comparison.
 */
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";
import * as P from "../util/packets.js";

process.env["TSOVS_OVSDB_WARMUP"] ??= "0";

const ETH_IP = "eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2";
const udpFlow = (sport: number): string => `in_port(1),${ETH_IP},proto=17,tos=0,ttl=64,frag=no),udp(src=${sport},dst=53)`;
const synFlow = (sport: number): string => `in_port(1),${ETH_IP},proto=6,tos=0,ttl=64,frag=no),tcp(src=${sport},dst=80),tcp_flags(syn)`;

const A2B = { src: "50:54:00:00:00:01", dst: "50:54:00:00:00:02" };
const B2A = { src: "50:54:00:00:00:02", dst: "50:54:00:00:00:01" };
/** A TCP segment between 10.0.0.1:3000 (p1) and 10.0.0.2:80 (p2), as hex for netdev-dummy/receive. */
function segment(fromA: boolean, seq: number, ack: number, flags: number): string {
  const [e, s, d, sp, dp] = fromA ? [A2B, "10.0.0.1", "10.0.0.2", 3000, 80] : [B2A, "10.0.0.2", "10.0.0.1", 80, 3000];
  return P.toHex(P.eth(e, 0x0800, P.ipv4({ src: P.ip4(s), dst: P.ip4(d), proto: 6, ttl: 64 },
    P.tcp({ srcPort: sp, dstPort: dp, seq, ack, flags, window: 1000 }))));
}

interface Answer {
  status: number | null;
  stdout: string;
  stderr: string;
}

async function appctl(sw: Switch, args: string[]): Promise<Answer> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  // OVS dumps connections in hash order (a random basis): compare them sorted.
  const stdout = args[0] === "dpctl/dump-conntrack" ? r.stdout.split("\n").sort().join("\n") : r.stdout;
  return { status: r.status, stdout, stderr: r.stderr };
}

async function must(sw: Switch, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, cmd === "ovs-vsctl" ? ["--timeout=20", ...args] : args, sw.dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Text without the lines about the bridge's internal port (numbered differently). */
function withoutBridgePort(s: string): string {
  return s.split("\n").filter((l) => !/\bbr0\b|ovs-netdev \(/.test(l)).join("\n");
}

describe("ovs-appctl with traffic: conntrack limits, TCP sequence checking, dpcls functions, port renumbering", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-appctl", "ovs-ofctl") }, () => {
  let both: Switch[] = [];

  before(async () => {
    both = await Promise.all([startRealSwitch(), startTsovsSwitch()]);
    for (const sw of both) {
      await must(sw, "ovs-vsctl", [
        "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=netdev",
        "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
        "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2",
      ]);
    }
  });

  after(async () => {
    await Promise.all(both.map((s) => s.stop()));
  });

  /** Runs the steps on each switch in turn; returns each switch's answers (setup steps give none). */
  async function script(steps: (string[] | ((sw: Switch) => Promise<void>))[]): Promise<Answer[][]> {
    const seen: Answer[][] = [];
    for (const sw of both) {
      const out: Answer[] = [];
      for (const s of steps) {
        if (typeof s === "function") await s(sw);
        else out.push(await appctl(sw, s));
      }
      seen.push(out);
    }
    return seen;
  }

  const flows = (specs: string[]) => async (sw: Switch): Promise<void> => {
    await must(sw, "ovs-ofctl", ["del-flows", "br0"]);
    for (const f of specs) await must(sw, "ovs-ofctl", ["add-flow", "br0", f]);
    await must(sw, "ovs-appctl", ["revalidator/purge"]);
  };
  const receive = (port: string, packet: string) => async (sw: Switch): Promise<void> => {
    await must(sw, "ovs-appctl", ["netdev-dummy/receive", port, packet]);
  };

  test("zone limits are enforced and counted; ct-bkts; subtable use counts", async () => {
    const [r, o] = await script([
      flows([
        "table=0,priority=10,udp,actions=ct(commit,zone=5,table=1)",
        "table=0,priority=10,tcp,actions=ct(commit,zone=9,table=1)",
        "table=1,ct_state=+new+trk,actions=2",
        "table=1,ct_state=+est+trk,actions=2",
        "table=1,ct_state=+inv+trk,actions=drop",
      ]),
      ["dpctl/ct-set-limits", "zone=5,limit=2"],
      receive("p1", udpFlow(1001)), receive("p1", udpFlow(1002)), receive("p1", udpFlow(1003)), receive("p1", udpFlow(1004)),
      ["dpctl/dump-conntrack"],
      ["dpctl/ct-get-limits"],
      ["dpctl/ct-get-limits", "zone=5,9"],
      ["dpctl/ct-bkts"],
      ["dpctl/ct-bkts", "gt=2"],
      ["dpctl/ct-stats-show"],
      ["dpif-netdev/subtable-lookup-info-get"],
      ["dpctl/ct-set-limits", "default=1"],
      receive("p1", synFlow(2001)), receive("p1", synFlow(2002)),
      ["dpctl/dump-conntrack", "zone=9"],
      ["dpctl/ct-get-limits", "zone=5,9,10"],
      ["dpif-netdev/subtable-lookup-prio-set", "autovalidator", "3"],
      ["dpif-netdev/subtable-lookup-info-get"],
      receive("p2", synFlow(2003)),
      ["dpif-netdev/subtable-lookup-info-get"],
      ["dpctl/ct-del-limits", "zone=5"],
      ["dpctl/flush-conntrack"],
      ["dpctl/ct-set-limits", "zone=5,limit=1"],
      ["dpctl/ct-get-limits", "zone=5,9"],
      ["dpif-netdev/subtable-lookup-prio-set", "autovalidator", "0"],
      ["revalidator/purge"],
      ["dpif-netdev/subtable-lookup-info-get"],
    ]);
    assert.equal(r![1]!.stdout.split("\n").filter((l) => l.includes("zone=5")).length, 2, r![1]!.stdout);
    assert.equal(r![3]!.stdout, "default limit=0\nzone=5,limit=2,count=2\nzone=9,limit=0,count=0\n");
    assert.match(r![7]!.stdout, /autovalidator \(Use count: 0, Priority: 0\)\n {2}generic \(Use count: 2, Priority: 1\)/);
    // The priority change binds only the subtables created after it (p2's two).
    assert.match(r![12]!.stdout, /autovalidator \(Use count: 0, Priority: 3\)\n {2}generic \(Use count: 2,/);
    assert.match(r![13]!.stdout, /autovalidator \(Use count: 2, Priority: 3\)\n {2}generic \(Use count: 2,/);
    for (let i = 0; i < r!.length; i++) assert.deepEqual(o![i], r![i], `step ${i}`);
  });

  test("a reset outside the window is invalid until TCP sequence checking is off", async () => {
    const [r, o] = await script([
      ["dpctl/ct-set-limits", "default=100"],
      flows([
        "table=0,priority=10,tcp,actions=ct(commit,zone=3,table=1)",
        "table=1,ct_state=+inv+trk,actions=drop",
        "table=1,in_port=1,actions=2",
        "table=1,in_port=2,actions=1",
      ]),
      receive("p1", segment(true, 100, 0, 0x002)),
      receive("p2", segment(false, 500, 101, 0x012)),
      receive("p1", segment(true, 101, 501, 0x010)),
      ["dpctl/dump-conntrack", "zone=3"],
      receive("p2", segment(false, 9_000_000, 101, 0x014)),
      ["dpctl/dump-conntrack", "zone=3"],
      ["dpctl/ct-disable-tcp-seq-chk"],
      ["dpctl/ct-get-tcp-seq-chk"],
      receive("p2", segment(false, 9_000_000, 101, 0x014)),
      ["dpctl/dump-conntrack", "zone=3"],
      ["dpctl/ct-enable-tcp-seq-chk"],
      ["dpctl/flush-conntrack"],
    ]);
    assert.match(r![1]!.stdout, /state=ESTABLISHED/);
    assert.match(r![2]!.stdout, /state=ESTABLISHED/);
    assert.equal(r![3]!.stdout, "disabling TCP sequence checking successful\n");
    assert.match(r![5]!.stdout, /state=TIME_WAIT/);
    for (let i = 0; i < r!.length; i++) assert.deepEqual(o![i], r![i], `step ${i}`);
  });

  test("dpif-dummy/change-port-number renumbers the port; the bridge forwards with the new number", async () => {
    const seen: string[][] = [];
    for (const sw of both) {
      const out: string[] = [];
      await flows(["actions=normal"])(sw);
      await must(sw, "ovs-appctl", ["fdb/flush"]);
      out.push(JSON.stringify(await appctl(sw, ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "7"])));
      out.push(JSON.stringify(await appctl(sw, ["dpif-dummy/change-port-number", "ovs-netdev", "p2", "7"])));
      out.push(withoutBridgePort(await must(sw, "ovs-appctl", ["dpctl/show"])));
      await receive("p1", udpFlow(1).replace("in_port(1)", "in_port(7)"))(sw);
      await receive("p2", `in_port(2),eth(src=50:54:00:00:00:02,dst=50:54:00:00:00:01),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=17,tos=0,ttl=64,frag=no),udp(src=53,dst=1)`)(sw);
      out.push(withoutBridgePort(await must(sw, "ovs-appctl", ["dpif/show"])));
      out.push((await must(sw, "ovs-appctl", ["dpif/dump-flows", "br0"])).split("\n").sort().join("\n"));
      // (Number 1 is the bridge port's in tsovs: another free one.)
      out.push(JSON.stringify(await appctl(sw, ["dpif-dummy/change-port-number", "ovs-netdev", "p1", "8"])));
      out.push(withoutBridgePort(await must(sw, "ovs-appctl", ["dpif/show"])));
      seen.push(out);
    }
    const [r, o] = seen;
    assert.match(r![2]!, /port 7: p1 \(dummy\)/);
    assert.match(r![3]!, /p1 1\/7: \(dummy\)/);
    assert.match(r![4]!, /in_port\(2\),.*actions:7/);
    assert.match(r![6]!, /p1 1\/8: \(dummy\)/);
    for (let i = 0; i < r!.length; i++) assert.equal(o![i], r![i], `step ${i}`);
  });
});
