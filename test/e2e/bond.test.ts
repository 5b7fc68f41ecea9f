/**
 * Bonding against OVS 3.1, through the real tools only: the same
 * `ovs-vsctl` bonds, `ovs-appctl` commands and injected packets go to
 * `tsovs start` and to ovsdb-server + ovs-vswitchd (dummy datapath), and
 * the transcripts must be equal: `bond/show`, `bond/list`, whole
 * `ofproto/trace` reports (member choice, "bonding refused admissibility",
 * SLB's loop check, failover after `netdev-dummy/set-admin-state`),
 * `dpif/dump-flows` after `netdev-dummy/receive`, `bond/hash`, and the
 * commands' replies and errors.
 *
 * What OVS itself decides at random is aligned or masked, never skipped:
 * OVS's first active member among equal ones follows the addresses of its
 * ofport structures (on two fresh members sometimes the first, sometimes
 * the second), so the transcript reads the real switch's choice and makes
 * tsovs take the same one with `bond/set-active-member` ("align" steps);
 * member MAC addresses come from a per-process counter (masked); bond/list
 * members follow that same map (compared as a set); flood order follows
 * the Port rows' uuids (trace-canon.ts).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";
import { canonicalTrace } from "../util/trace-canon.js";

const IP = "eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=1,tos=0,ttl=128,frag=no),icmp(type=8,code=0)";
const pkt = (port: number, src: string, dst: string): string => `in_port(${port}),eth(src=${src},dst=${dst}),${IP}`;
const vpkt = (port: number, vid: number, src: string, dst: string): string =>
  `in_port(${port}),eth(src=${src},dst=${dst}),eth_type(0x8100),vlan(vid=${vid},pcp=0),encap(${IP})`;
const A = "50:54:00:00:00:05";
const B = "50:54:00:00:00:07";
const C = "50:54:00:00:00:09";
const BCAST = "ff:ff:ff:ff:ff:ff";

/** One step: a command for both switches ("align" copies the real switch's active member to tsovs). */
type Step = string[];

const trace = (flow: string): Step => ["ovs-appctl", "ofproto/trace", "ovs-dummy", flow];
const receive = (port: string, flow: string): Step => ["ovs-appctl", "netdev-dummy/receive", port, flow];
const appctl = (...args: string[]): Step => ["ovs-appctl", ...args];
const vsctl = (...args: string[]): Step => ["ovs-vsctl", ...args];
const settle: Step = ["settle"];
const align: Step = ["align"];

const SETUP: Step = vsctl(
  "add-br", "br0", "--", "set", "bridge", "br0", "datapath-type=dummy",
  "--", "add-bond", "br0", "bond0", "b1", "b2",
  "--", "set", "interface", "b1", "type=dummy", "ofport_request=1",
  "--", "set", "interface", "b2", "type=dummy", "ofport_request=2",
  "--", "add-port", "br0", "p3", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3",
  "--", "add-port", "br0", "p4", "--", "set", "interface", "p4", "type=dummy", "ofport_request=4",
);

const ACTIVE_BACKUP: Step[] = [
  SETUP, settle, align,
  appctl("bond/show"), appctl("bond/show", "bond0"), appctl("bond/list"),
  // Flooding leaves by the active member only; the backup refuses input.
  trace(pkt(3, A, B)), trace(pkt(1, A, B)), trace(pkt(2, A, B)), trace(pkt(1, A, BCAST)), trace(pkt(2, A, BCAST)),
  // A learned MAC on the bond, then unicast to it.
  receive("b1", pkt(1, B, A)), receive("b2", pkt(2, B, A)), settle,
  trace(pkt(3, A, B)), trace(pkt(4, C, B)),
  // Failover: the active member goes down, then comes back (no preemption).
  appctl("netdev-dummy/set-admin-state", "b1", "down"), settle, appctl("bond/show"),
  trace(pkt(3, A, B)), trace(pkt(1, B, A)), trace(pkt(2, B, A)),
  appctl("netdev-dummy/set-admin-state", "b2", "down"), settle, appctl("bond/show"), trace(pkt(3, A, B)),
  appctl("netdev-dummy/set-admin-state", "up"), settle, align, appctl("bond/show"), trace(pkt(3, A, B)),
  // The primary member takes over whenever it is enabled.
  vsctl("set", "port", "bond0", "other_config:bond-primary=b2"), settle, appctl("bond/show"), trace(pkt(3, A, C)),
  vsctl("set", "port", "bond0", "other_config:bond-primary=b1"), settle, appctl("bond/show"), trace(pkt(3, A, C)),
  vsctl("remove", "port", "bond0", "other_config", "bond-primary"), settle,
  // The unixctl commands, and their errors.
  appctl("bond/set-active-member", "bond0", "b2"), appctl("bond/set-active-member", "bond0", "b2"),
  appctl("bond/set-active-slave", "bond0", "b1"), appctl("bond/set-active-member", "bond0", "zz"),
  appctl("bond/set-active-member", "nobond", "b1"), appctl("bond/show", "nobond"), settle, appctl("bond/show"),
  appctl("netdev-dummy/set-admin-state", "b1", "down"), settle, appctl("bond/set-active-member", "bond0", "b1"),
  appctl("bond/disable-member", "bond0", "b2"), settle, appctl("bond/show"),
  appctl("netdev-dummy/set-admin-state", "b1", "up"), settle, align,
  appctl("bond/migrate", "bond0", "1", "b1"),
  appctl("bond/hash", A), appctl("bond/hash", A, "10", "7"), appctl("bond/hash", "1:2:3:4:5:6", "1", "2"),
  appctl("bond/hash", "xx"), appctl("bond/hash", A, "x"), appctl("bond/hash", A, "1", "y"),
  // Delays: a member going down stays enabled for bond_downdelay.
  vsctl("set", "port", "bond0", "bond_downdelay=600000", "bond_updelay=500000"), settle,
  appctl("netdev-dummy/set-admin-state", "b1", "down"), settle, appctl("bond/show"), trace(pkt(3, A, C)),
  appctl("netdev-dummy/set-admin-state", "b1", "up"), settle, appctl("bond/show"),
  // The active member goes down: disabled only once the downdelay ran out (time/warp), then
  // it comes back, enabled once the updelay ran out.
  ["failover"], settle, appctl("bond/show"), trace(pkt(3, A, C)),
  appctl("time/warp", "600000"), settle, appctl("bond/show"), trace(pkt(3, A, C)),
  appctl("netdev-dummy/set-admin-state", "up"), settle, appctl("bond/show"),
  appctl("time/warp", "500000"), settle, appctl("bond/show"),
  vsctl("set", "port", "bond0", "bond_downdelay=0", "bond_updelay=0"), settle, appctl("bond/show"),
];

const BALANCE_SLB: Step[] = [
  SETUP, settle, align,
  vsctl("set", "port", "bond0", "bond_mode=balance-slb"), settle, appctl("bond/show"), appctl("bond/list"),
  // With one member enabled every bucket binds to it; the other then
  // joins the enabled list behind it, so later buckets alternate the same
  // way on both switches.
  appctl("netdev-dummy/set-admin-state", "b2", "down"), settle, align,
  trace(pkt(3, A, BCAST)), trace(pkt(4, B, BCAST)),
  appctl("netdev-dummy/set-admin-state", "b2", "up"), settle,
  trace(pkt(3, A, BCAST)), trace(pkt(4, C, BCAST)), trace(pkt(4, "50:54:00:00:00:11", BCAST)), trace(pkt(4, "50:54:00:00:00:13", BCAST)),
  // Learned on p3: the same source coming back on the bond looped back.
  receive("p3", pkt(3, A, B)), settle, trace(pkt(1, A, B)), trace(pkt(2, A, B)),
  // Unicast on any member is fine, multicast only on the active one.
  trace(pkt(1, B, A)), trace(pkt(2, B, A)), trace(pkt(1, C, BCAST)), trace(pkt(2, C, BCAST)),
  appctl("netdev-dummy/set-admin-state", "b2", "down"), settle, appctl("bond/migrate", "bond0", "3", "b2"),
  appctl("netdev-dummy/set-admin-state", "b2", "up"), settle,
  appctl("bond/migrate", "bond0", "218", "b2"), appctl("bond/migrate", "bond0", "x1", "b2"), appctl("bond/migrate", "bond0", "1", "zz"),
  trace(pkt(4, A, BCAST)), appctl("bond/migrate", "bond0", "474", "b1"), trace(pkt(4, A, BCAST)),
  vsctl("set", "port", "bond0", "other_config:bond-hash-basis=7"), settle, appctl("bond/show"),
  appctl("netdev-dummy/set-admin-state", "b1", "down"), settle, trace(pkt(4, A, BCAST)), trace(pkt(4, C, BCAST)),
];

const LEARNING: Step[] = [
  SETUP, settle, align,
  // MACs learned on p3 and p4 (their floods leave by the active member).
  receive("p3", pkt(3, A, BCAST)), receive("p4", pkt(4, C, BCAST)), receive("p4", vpkt(4, 10, B, BCAST)), settle,
  ["ovs-ofctl", "dump-ports", "br0"],
  // Failover: the new active member announces them with one RARP each (OVS counts
  // the switch's own packets as received on LOCAL: not compared, see the report).
  ["failover"], settle, ["ovs-ofctl", "dump-ports", "br0"],
  // bond/set-active-member announces them too.
  ["failback"], settle, ["ovs-ofctl", "dump-ports", "br0"],
];

const DATAPATH: Step[] = [
  SETUP, settle, align,
  receive("p3", pkt(3, A, B)), receive("b1", pkt(1, B, A)), receive("b2", pkt(2, B, A)), receive("p4", pkt(4, C, A)),
  receive("b1", pkt(1, C, BCAST)), receive("b2", pkt(2, C, BCAST)), settle,
  appctl("dpif/dump-flows", "br0"),
];

/** A LACP PDU frame (hex) from a partner system `sys` (port `port`, key `key`, actor state `state`), as a switch sends it. */
function lacpPdu(src: string, sys: string, key: number, port: number, state: number, partner: { sys: string; key: number; port: number; state: number } | null = null): string {
  const mac = (m: string): string => m.split(":").join("");
  const h16 = (n: number): string => n.toString(16).padStart(4, "0");
  const info = (pri: number, s: string, k: number, pp: number, p: number, st: number): string =>
    `${h16(pri)}${mac(s)}${h16(k)}${h16(pp)}${h16(p)}${st.toString(16).padStart(2, "0")}000000`;
  let hex = `0180c2000002${mac(src)}8809` + "0101" + "0114" + info(0x8000, sys, key, 0xff, port, state);
  hex += "0214" + (partner === null ? info(0, "00:00:00:00:00:00", 0, 0, 0, 0) : info(0xfffe, partner.sys, partner.key, 0xffff, partner.port, partner.state));
  hex += "0310" + "00".repeat(14) + "0000" + "00".repeat(50);
  return hex;
}
const PARTNER = "50:54:00:00:00:aa";
const TCP = (port: number): string => `in_port(${port}),eth(src=${A},dst=${B}),eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=6,tos=0,ttl=64,frag=no),tcp(src=1000,dst=80)`;
const SYNC = 0x3d; /* activity, aggregation, synchronized, collecting, distributing */

const LACP: Step[] = [
  SETUP, settle,
  // No partner answers: members stay disabled, nothing crosses the bond.
  vsctl("set", "port", "bond0", "lacp=active", "other_config:lacp-system-id=02:00:00:00:00:01",
    "--", "set", "interface", "b1", "other_config:lacp-aggregation-key=5",
    "--", "set", "interface", "b2", "other_config:lacp-aggregation-key=5"),
  settle, appctl("bond/show"), appctl("lacp/show"), appctl("lacp/show", "bond0"), appctl("lacp/show-stats"),
  trace(pkt(3, A, B)), trace(pkt(1, A, B)),
  // A partner on both links: negotiated, both members enabled.
  receive("b1", lacpPdu(PARTNER, PARTNER, 7, 11, SYNC)), receive("b2", lacpPdu("50:54:00:00:00:ab", PARTNER, 7, 12, SYNC)), settle, align,
  appctl("lacp/show"), appctl("bond/show"), appctl("lacp/show-stats", "bond0"),
  trace(pkt(3, A, B)), trace(pkt(1, A, B)), trace(pkt(2, A, B)), trace(pkt(2, A, BCAST)),
  ["ovs-appctl", "ofproto/trace", "br0", "in_port=1", lacpPdu(PARTNER, PARTNER, 7, 11, SYNC)],
  // balance-slb over LACP: every enabled member takes unicast and multicast.
  vsctl("set", "port", "bond0", "bond_mode=balance-slb"), settle, appctl("bond/show"),
  trace(pkt(1, C, BCAST)), trace(pkt(2, C, BCAST)),
  // balance-tcp: hash(l4) and recirculation to table 254's per-bucket rules.
  vsctl("set", "port", "bond0", "bond_mode=balance-tcp"), settle, appctl("bond/show"),
  // The second pass is checked through the datapath: ofproto/trace of a recirculated flow still differs
  // (trace.ts takes in_port from the datapath flow; OVS takes it from the recirculation state, NONE here).
  trace(TCP(3)), trace(TCP(1)), receive("p3", TCP(3)), settle, appctl("dpif/dump-flows", "br0"),
  vsctl("set", "port", "bond0", "bond_mode=balance-slb"), settle,
  // The partner takes b2 out of sync: b2 is disabled.
  receive("b2", lacpPdu("50:54:00:00:00:ab", PARTNER, 7, 12, 0x05)), settle, appctl("lacp/show"), appctl("bond/show"),
  trace(pkt(3, A, BCAST)), trace(pkt(2, C, B)),
  // A different partner key on b2: detached.
  receive("b2", lacpPdu("50:54:00:00:00:ab", PARTNER, 9, 12, SYNC)), settle, appctl("lacp/show"),
  // A member's link going down and up: LACP marks it expired and counts the carrier changes.
  appctl("netdev-dummy/set-admin-state", "b1", "down"), settle, appctl("lacp/show"), appctl("bond/show"),
  appctl("netdev-dummy/set-admin-state", "b1", "up"), settle, appctl("lacp/show-stats", "bond0"),
  receive("b1", lacpPdu(PARTNER, PARTNER, 7, 11, SYNC)), settle, appctl("lacp/show", "bond0"),
  // Bad PDUs are counted.
  receive("b1", "0180c2000002505400000aaa88090101"), settle, appctl("lacp/show-stats", "bond0"), appctl("lacp/show", "nobond"), appctl("lacp/show-stats", "nobond"),
  vsctl("set", "port", "bond0", "bond_mode=balance-tcp"), settle, appctl("bond/list"),
  vsctl("set", "port", "bond0", "lacp=passive", "other_config:lacp-time=fast", "other_config:lacp-system-priority=100"), settle, appctl("lacp/show"),
  vsctl("set", "port", "bond0", "lacp=off"), settle, appctl("lacp/show"), trace(pkt(3, A, B)), trace(pkt(2, A, B)),
];

const LACP_TIMEOUT: Step[] = [
  SETUP, settle,
  // Without a partner members are "expired" for 3 s, then "defaulted": LACP is then only configured.
  vsctl("set", "port", "bond0", "lacp=active", "other_config:lacp-system-id=02:00:00:00:00:01",
    "--", "set", "interface", "b1", "other_config:lacp-aggregation-key=5",
    "--", "set", "interface", "b2", "other_config:lacp-aggregation-key=5"),
  settle, ["sleep", "3.5"], appctl("lacp/show"), appctl("bond/show"), trace(pkt(3, A, B)), trace(pkt(1, A, B)),
  // lacp-fallback-ab: defaulted members work as an active-backup bond.
  vsctl("set", "port", "bond0", "other_config:lacp-fallback-ab=true"), settle, align, appctl("lacp/show"), appctl("bond/show"),
  trace(pkt(3, A, B)), trace(pkt(1, A, B)), trace(pkt(2, A, B)),
];

/** Makes outputs comparable (see the header). */
function canon(step: Step, out: string): string {
  let text = out.replace(/(active member mac: )[0-9a-f:]{17}/g, "$1<mac>")
    .replace(/(next rebalance: )-?\d+ ms/g, "$1<n> ms")
    .replace(/(expires in )-?\d+ ms/g, "$1<n> ms");
  if (step[1] === "bond/list") {
    text = text.replace(/\t([^\t\n]+)$/gm, (_, members: string) => `\t${members.split(", ").sort().join(", ")}`);
  }
  if (step[1] === "ofproto/trace") text = canonicalTrace(text);
  if (step[1] === "dump-ports") {
    // Ports in number order (the reply's order follows the bridge's port map, not what is compared here).
    // OVS adds the packets the switch sends itself (here the RARPs) to LOCAL's rx counters (ofproto.ts does not yet).
    const m = /^([^]*?\n)(  port [^]*?)(\[\d+\]\n)$/.exec(text.replace(/duration=[\d.]+s/g, "duration=<n>s")
      .replace(/(port LOCAL: rx )pkts=\d+, bytes=\d+/, "$1pkts=<n>, bytes=<n>"));
    if (m !== null) text = m[1]! + m[2]!.split(/^(?=  port )/m).sort().join("") + m[3]!;
  }
  // A flood that recirculates into a balance-tcp bond: the flood's order is the Port rows' (random) one.
  if (step[1] === "ofproto/trace" && text.includes("flooding")) {
    text = text.replace(/^Datapath actions: (.*hash\(.*)$/m, (_, acts: string) => {
      const units = acts.replace(/(hash\([^)]*\)\)),(recirc\()/g, "$1+$2").split(/,(?![^(]*\))/);
      return `Datapath actions: {${units.sort().join(" ")}}`;
    });
  }
  // How many PDUs went out depends on timers: the counts are not compared.
  if (step[1] === "lacp/show-stats") text = text.replace(/(TX PDUs: )\d+/g, "$1<n>");
  if (step[1] === "dpif/dump-flows") {
    text = text.replace(/dp_hash\(0x[0-9a-f]+\/0xff\)(.*actions:)\d+$/gm, "dp_hash(<h>/0xff)$1<member>");
    text = text.split("\n").filter((l) => l !== "").map((l) => l.replace(/packets:\d+, bytes:\d+, used:[^,]+/, "packets:<n>")
      // A flood's order follows the Port rows' uuids in OVS: compare the outputs as a set.
      .replace(/actions:([\d,]+)$/, (_, o: string) => `actions:{${o.split(",").sort().join(",")}}`)
      .replace(/actions:(.*hash\(.*)$/, (_, o: string) => `actions:{${o.replace(/(hash\([^)]*\)\)),(recirc\()/g, "$1+$2").split(/,(?![^(]*\))/).sort().join(" ")}}`))
      .sort().join("\n") + "\n";
  }
  return text;
}

async function runStep(dir: string, step: Step): Promise<string> {
  const r = await runAsync(step[0]!, step.slice(1), dir);
  // tsovs's netdev-dummy/set-admin-state replies "OK" without OVS's newline (dpif-commands.ts, not bonding's).
  const stdout = step[1] === "netdev-dummy/set-admin-state" && r.stdout === "OK" ? "OK\n" : r.stdout;
  return `$ ${step.join(" ")}\n${stdout}${r.stderr.replace(/^.*server returned an error\n/m, "")}[${r.status}]\n`;
}

/** The active member bond/show reports, or null. */
async function activeMember(dir: string): Promise<string | null> {
  const r = await runAsync("ovs-appctl", ["bond/show", "bond0"], dir);
  return /^member (\S+): \w+\n  active member$/m.exec(r.stdout)?.[1] ?? null;
}

/** Runs `steps` on both switches in lock step; returns the two transcripts. */
async function transcripts(steps: Step[]): Promise<[string, string]> {
  // Directories of the switches' own making: stop() removes them.
  const real = await startRealSwitch();
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(undefined, ["--enable-dummy=override", "--disable-system", "--log-file"]);
    let a = "";
    let b = "";
    for (const step of steps) {
      if (step[0] === "settle") {
        // Both switches act on a change within their main loop; let it run.
        await new Promise((r) => setTimeout(r, 150));
        continue;
      }
      if (step[0] === "failover" || step[0] === "failback") {
        // The real switch's active member goes down (failover) or is made active again (failback), on both.
        const act = await activeMember(real.dir);
        const other = act === "b1" ? "b2" : "b1";
        const cmd = step[0] === "failover" ? ["netdev-dummy/set-admin-state", act ?? "b1", "down"] : ["bond/set-active-member", "bond0", other];
        await Promise.all([runAsync("ovs-appctl", cmd, real.dir), runAsync("ovs-appctl", cmd, ts.dir)]);
        if (step[0] === "failback") await Promise.all([real.dir, ts.dir].map((d) => runAsync("ovs-appctl", ["netdev-dummy/set-admin-state", "up"], d)));
        continue;
      }
      if (step[0] === "align") {
        const want = await activeMember(real.dir);
        if (want !== null && (await activeMember(ts.dir)) !== want) await runAsync("ovs-appctl", ["bond/set-active-member", "bond0", want], ts.dir);
        continue;
      }
      const [x, y] = await Promise.all([runStep(real.dir, step), runStep(ts.dir, step)]);
      a += canon(step, x);
      b += canon(step, y);
    }
    return [a, b];
  } finally {
    await Promise.all([real.stop(), ts?.stop()]);
  }
}

function assertSameTranscript(real: string, ts: string): void {
  // BOND_TRANSCRIPT=FILE keeps the real switch's transcript for reading.
  const keep = process.env["BOND_TRANSCRIPT"];
  if (keep !== undefined && keep !== "") {
    fs.appendFileSync(keep, real);
    fs.appendFileSync(`${keep}.tsovs`, ts);
  }
  const r = real.split("\n");
  const t = ts.split("\n");
  for (let i = 0; i < Math.max(r.length, t.length); i++) {
    if (r[i] !== t[i]) {
      assert.equal(t.slice(Math.max(0, i - 12), i + 12).join("\n"), r.slice(Math.max(0, i - 12), i + 12).join("\n"), `first difference at line ${i + 1}`);
    }
  }
}

/** Between two scenarios on the same pair of switches: the bridge (its bonds, LACP, MACs) goes away. */
const RESET: Step[] = [vsctl("--if-exists", "del-br", "br0"), settle];

test("active-backup bonds: bond/show, traces, failover, primary, delays, commands, learning packets as OVS 3.1", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  const [real, ts] = await transcripts([...ACTIVE_BACKUP, ...RESET, ...LEARNING]);
  assert.match(real, /bonding refused admissibility, dropping/);
  assertSameTranscript(real, ts);
});

test("balance-slb bonds: bucket choice, loop check, multicast, migrate, hash basis, megaflows as OVS 3.1", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  const [real, ts] = await transcripts([...BALANCE_SLB, ...RESET, ...DATAPATH]);
  assert.match(real, /SLB bond thinks this packet looped back, dropping/);
  assert.match(real, /actions:/);
  assertSameTranscript(real, ts);
});

test("LACP: partner PDUs, negotiation, sync and key changes, balance-tcp, timeouts, fallback as OVS 3.1", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  const [real, ts] = await transcripts([...LACP, ...RESET, ...LACP_TIMEOUT]);
  assert.match(real, /member: b1: current attached/);
  assert.match(real, /Consists of LACP packets/);
  assert.match(real, /member: b1: defaulted/);
  assertSameTranscript(real, ts);
});
