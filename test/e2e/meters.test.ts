/**
 * Meters in the datapath, against OVS 3.1: a meter's datapath id is the
 * lowest free one when it is added (so two bridges' meter 1 are meter(0)
 * and meter(1), and a deleted meter's id is reused), packets beyond a
 * drop band's rate are dropped, and the meter's statistics count what
 * came in and what the band dropped. Rates are timing-dependent, so the
 * burst test allows what either switch may pass in a slow moment and
 * checks the counters' consistency.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

async function sh(sw: Switch, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir, 20_000);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

const of13 = (...a: string[]): string[] => ["-O", "OpenFlow13", ...a];
const PKT = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0800),ipv4(src=1.1.1.1,dst=10.0.0.9,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)";

async function datapathActions(sw: Switch, br: string): Promise<string> {
  const t = await sh(sw, "ovs-appctl", ["ofproto/trace", br, "in_port=1,ip"]);
  return /^Datapath actions: .*$/m.exec(t)?.[0] ?? t;
}

async function ids(sw: Switch): Promise<string[]> {
  const out: string[] = [];
  for (const br of ["br1", "br2"]) {
    await sh(sw, "ovs-vsctl", ["add-br", br, "--", "set", "bridge", br, "datapath_type=dummy", "protocols=OpenFlow13",
      "--", "add-port", br, `p${br.slice(2)}1`, "--", "set", "interface", `p${br.slice(2)}1`, "type=dummy", "ofport_request=1",
      "--", "add-port", br, `p${br.slice(2)}2`, "--", "set", "interface", `p${br.slice(2)}2`, "type=dummy", "ofport_request=2"]);
  }
  for (const br of ["br1", "br2"]) {
    await sh(sw, "ovs-ofctl", of13("add-meter", br, "meter=1,pktps,bands=type=drop,rate=1"));
    await sh(sw, "ovs-ofctl", of13("add-flow", br, "in_port=1,actions=meter:1,output:2"));
    out.push(`${br}: ${await datapathActions(sw, br)}`);
  }
  // br1's meter 1 goes, a new meter 2 on br1 takes its datapath id.
  await sh(sw, "ovs-ofctl", of13("del-meter", "br1", "meter=1"));
  await sh(sw, "ovs-ofctl", of13("add-meter", "br1", "meter=2,kbps,burst,bands=type=drop,rate=64,burst_size=8"));
  await sh(sw, "ovs-ofctl", of13("add-flow", "br1", "in_port=1,actions=meter:2,output:2"));
  out.push(`br1 after: ${await datapathActions(sw, "br1")}`);
  out.push((await sh(sw, "ovs-ofctl", of13("dump-meters", "br1"))).trim());
  return out;
}

/** A burst of 5 packets through br2's 1 packet/s meter: what passed, and the meter's counters. */
async function burst(sw: Switch): Promise<{ passed: number; in: number; dropped: number }> {
  // Let the bucket fill (1 packet) before the burst.
  await new Promise((r) => setTimeout(r, 1500));
  const tx0 = Number(/tx pkts=(\d+)/.exec(await sh(sw, "ovs-ofctl", of13("dump-ports", "br2", "2")))![1]);
  for (let i = 0; i < 5; i++) await sh(sw, "ovs-appctl", ["netdev-dummy/receive", "p21", PKT]);
  const tx1 = Number(/tx pkts=(\d+)/.exec(await sh(sw, "ovs-ofctl", of13("dump-ports", "br2", "2")))![1]);
  const stats = await sh(sw, "ovs-ofctl", of13("meter-stats", "br2", "meter=1"));
  const pin = Number(/packet_in_count:(\d+)/.exec(stats)![1]);
  const band = Number(/0: packet_count:(\d+)/.exec(stats)![1]);
  return { passed: tx1 - tx0, in: pin, dropped: band };
}

test("datapath meters: ids, drops and statistics as OVS 3.1's (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 90_000 }, async () => {
  const realDir = tempDir("meters-ovs-");
  const tsDir = tempDir("meters-tsovs-");
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    const want = await ids(real);
    assert.deepEqual(want.slice(0, 3), ["br1: Datapath actions: meter(0),12", "br2: Datapath actions: meter(1),22", "br1 after: Datapath actions: meter(0),12"]);
    assert.deepEqual(await ids(ts), want);
    for (const [name, sw] of [["OVS", real], ["tsovs", ts]] as const) {
      const b = await burst(sw);
      assert.ok(b.passed >= 1 && b.passed <= 2, `${name}: ${b.passed} of 5 packets passed a 1 packet/s meter`);
      assert.equal(b.in, 5, `${name}: packets into the meter`);
      assert.equal(b.dropped, 5 - b.passed, `${name}: packets the drop band counted`);
    }
  } finally {
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
