/**
 * sFlow: translation samples exactly as OVS 3.1 (the sample action and
 * its sFlow cookie: VLAN, one output, several, none) with the same Bridge
 * and sFlow rows on `tsovs start` and ovsdb-server + ovs-vswitchd; and the
 * agent's datagrams (sFlow v5: a flow sample with the packet's header and
 * the switch data, counter samples) read back from a UDP collector.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, type Switch, withOvsAndTsovs } from "../util/vswitchd.js";
import { SflowAgent, type SflowPort } from "../../src/ofproto/sflow.js";

async function sh(sw: Switch, cmd: string, ...args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

test("sFlow sampling in ofproto/trace equals OVS 3.1's", { skip: ovsSkip(), timeout: 60_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    for (const sw of sws) {
      await sh(sw, "ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
        ...[1, 2, 3].flatMap((n) => ["--", "add-port", "br0", `p${n}`, "--", "set", "interface", `p${n}`, "type=dummy", `ofport_request=${n}`]),
        "--", "--id=@s", "create", "sflow", "agent=127.0.0.1", 'target="127.0.0.1:6343"', "header=128", "sampling=4", "polling=1",
        "--", "set", "bridge", "br0", "sflow=@s");
      for (const f of ["priority=10,in_port=1,actions=output:2", "priority=10,in_port=2,actions=output:1,output:3", "priority=10,in_port=3,actions=drop", "priority=5,actions=NORMAL"]) {
        await sh(sw, "ovs-ofctl", "add-flow", "br0", f);
      }
    }
    for (const flow of ["in_port=1,ip", "in_port=2,ip", "in_port=3,ip", "in_port=1,dl_vlan=5,dl_vlan_pcp=3,ip", "in_port=4,ip", "in_port=2,tcp,dl_vlan=7"]) {
      const [a, b] = [await sh(sws[0]!, "ovs-appctl", "ofproto/trace", "br0", flow), await sh(sws[1]!, "ovs-appctl", "ofproto/trace", "br0", flow)];
      assert.equal(b, a, `ofproto/trace br0 ${flow}`);
      assert.match(a, /Datapath actions: sample\(sample=25\.0%,actions\(userspace\(pid=0,sFlow\(/);
    }
    // Without the sFlow row, no sampling.
    for (const sw of sws) await sh(sw, "ovs-vsctl", "clear", "bridge", "br0", "sflow");
    const t = await sh(sws[1]!, "ovs-appctl", "ofproto/trace", "br0", "in_port=1,ip");
    assert.match(t, /Datapath actions: 2\n/);
  });
});

test("the sFlow agent sends v5 flow samples with the packet's header and counter samples", async () => {
  const collector = dgram.createSocket("udp4");
  await new Promise<void>((r) => collector.bind(0, "127.0.0.1", r));
  const got: Buffer[] = [];
  collector.on("message", (m) => got.push(m));
  const port: SflowPort = {
    odpNo: 1, ifindex: 7, speed: () => 10_000_000_000, up: () => true,
    stats: () => ({ rxPackets: 11, rxBytes: 1100, txPackets: 22, txBytes: 2200, rxDropped: 0, txDropped: 1, rxErrors: 0, txErrors: 0 }),
  };
  const agent = new SflowAgent(
    { targets: [`127.0.0.1:${collector.address().port}`], sampling: 4, polling: 0, header: 64, agent: "10.1.2.3", subId: 0 },
    () => new Map([[1, port]]),
  );
  try {
    assert.equal(agent.probability, Math.floor(0xffffffff / 4));
    assert.equal(agent.ifindexOf(1), 7);
    assert.equal(agent.ifindexOf(2), 0);
    const frame = new Uint8Array(100).map((_, i) => i);
    agent.received(frame, 1, (3 << 13) | 5, 0x80000002);
    agent.received(frame, 2, 0, 0); // not an sFlow port: nothing
    agent.pollCounters();
    for (let i = 0; i < 50 && got.length < 2; i++) await new Promise((r) => setTimeout(r, 20));
    assert.equal(got.length, 2);
    const f = got[0]!;
    assert.equal(f.readUInt32BE(0), 5, "version 5");
    assert.deepEqual([...f.subarray(8, 12)], [10, 1, 2, 3], "agent address");
    assert.equal(f.readUInt32BE(24), 1, "one sample");
    assert.equal(f.readUInt32BE(28), 1, "a flow sample");
    const s = 36;
    assert.deepEqual([f.readUInt32BE(s + 4), f.readUInt32BE(s + 8), f.readUInt32BE(s + 12), f.readUInt32BE(s + 20), f.readUInt32BE(s + 24)], [7, 4, 4, 7, 0x80000002], "source, rate, pool, input, output");
    // The raw header record: Ethernet, frame length + FCS, 64 bytes of the frame.
    const h = s + 32;
    assert.deepEqual([f.readUInt32BE(h), f.readUInt32BE(h + 8), f.readUInt32BE(h + 12), f.readUInt32BE(h + 20)], [1, 1, 104, 64]);
    assert.deepEqual([...f.subarray(h + 24, h + 24 + 64)], [...frame.subarray(0, 64)]);
    // Extended switch data: VLAN 5, priority 3.
    const x = h + 24 + 64;
    assert.deepEqual([f.readUInt32BE(x), f.readUInt32BE(x + 8), f.readUInt32BE(x + 12)], [1001, 5, 3]);
    const c = got[1]!;
    assert.equal(c.readUInt32BE(28), 2, "a counters sample");
    const g = 36 + 12;
    assert.deepEqual([c.readUInt32BE(g), c.readUInt32BE(g + 8), c.readUInt32BE(g + 28)], [1, 7, 3], "generic counters of ifindex 7, up");
    assert.equal(Number(c.readBigUInt64BE(g + 32)), 1100, "ifInOctets");
    assert.equal(c.readUInt32BE(g + 40), 11, "ifInUcastPkts");
  } finally {
    agent.close();
    collector.close();
  }
});
