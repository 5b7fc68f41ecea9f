/**
 * A flow dump too big for one OpenFlow message is split as OVS splits it:
 * the same number of messages, each as long as OVS's (filled with whole
 * entries up to 65535 bytes), every one but the last flagged "more", in
 * every version and in the Nicira form.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip } from "../util/ovs.js";
import { mirrorArgs, ofctl, startRealBridge, startTsovsBridge } from "../util/ofproto.js";
import { Match, type OfpMessage } from "../../src/openflow/index.js";
import { RawOfconn } from "./raw-ofconn.js";

/** Distinct flows of four shapes (NXM and OXM entries of different sizes). */
function flowLine(i: number): string {
  const b = (i >> 8) & 0xff;
  const c = i & 0xff;
  switch (i % 4) {
    case 0:
      return `table=0,priority=100,tcp,in_port=1,nw_src=10.0.${b}.${c},nw_dst=10.0.0.1,tp_dst=80,actions=mod_dl_dst:00:00:00:00:00:01,output:2`;
    case 1:
      return `table=1,priority=200,udp,reg0=0x${i.toString(16)},metadata=0x5,nw_dst=192.168.${b}.${c},tp_src=53,actions=load:0x1->NXM_NX_REG1[],resubmit(,2),output:3`;
    case 2:
      return `table=2,priority=50,ip,metadata=0x${(i % 256).toString(16)},nw_src=172.16.${b}.${c},nw_ttl=64,actions=dec_ttl,set_field:10.0.${b}.${c}->ip_dst,goto_table:3`;
    default:
      return `table=3,priority=${1 + (i % 1000)},arp,arp_spa=10.1.${b}.${c},arp_op=1,dl_vlan=${1 + (i % 4000)},actions=strip_vlan,output:1`;
  }
}

/** Message lengths and "more" flags of a flow stats reply (out_port 0xffff: the codec's OFPP_NONE, "any"). */
async function replyShape(dir: string, version: number, nicira: boolean): Promise<string[]> {
  const c = await RawOfconn.open(path.join(dir, "br0.mgmt"), version);
  try {
    const body = { tableId: 0xff, outPort: 0xffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: new Match() };
    const req = (nicira ? { type: "NXST_FLOW_REQUEST", body } : { type: "OFPST_FLOW_REQUEST", body }) as Omit<OfpMessage, "xid" | "version">;
    const replies = await c.transact([req]);
    return replies.map((m) => `${(m[2]! << 8) | m[3]!}${m[11]! & 1 ? "+more" : ""}`);
  } finally {
    c.close();
  }
}

test("a dump of 3,000 flows is split into the messages OVS sends (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-ofctl"), timeout: 120_000 }, async () => {
  const real = await startRealBridge();
  const ts = await startTsovsBridge(mirrorArgs(real));
  try {
    const flows = Array.from({ length: 3000 }, (_, i) => flowLine(i)).join("\n") + "\n";
    for (const dir of [real.dir, ts.dir]) {
      fs.writeFileSync(path.join(dir, "flows.txt"), flows);
      const r = ofctl(dir, ["-O", "OpenFlow15", "add-flows", "br0", path.join(dir, "flows.txt")]);
      assert.equal(r.status, 0, r.out);
    }
    for (const [version, nicira] of [[1, true], [1, false], [4, false], [5, false], [6, false]] as const) {
      const want = await replyShape(real.dir, version, nicira);
      const got = await replyShape(ts.dir, version, nicira);
      assert.ok(want.length > 2, `the dump needs several messages (${want.join(" ")})`);
      assert.deepEqual(got, want, `version ${version}${nicira ? " (Nicira)" : ""}`);
    }
    // And as users read it: the real ovs-ofctl prints the same flows from
    // both (~390 kB, so tsovs streams it over several event-loop turns).
    // OVS lists a table's flows in hash order: the lines are compared sorted.
    for (const proto of [[], ["-O", "OpenFlow13"]]) {
      const lines = (dir: string): string[] => {
        const r = ofctl(dir, [...proto, "--no-stats", "dump-flows", "br0"]);
        assert.equal(r.status, 0, r.out);
        return r.out.split("\n").sort();
      };
      const want = lines(real.dir);
      assert.ok(want.length > 3000, `${want.length} lines`);
      assert.deepEqual(lines(ts.dir), want, `dump-flows ${proto.join(" ")}`);
    }
  } finally {
    await ts.stop();
    await real.stop();
  }
});

test("a long dump is streamed, and requests sent behind it wait for its end", { skip: ovsSkip("ovs-ofctl"), timeout: 120_000 }, async () => {
  const ts = await startTsovsBridge(["br0"]);
  try {
    const n = 6000;
    fs.writeFileSync(path.join(ts.dir, "flows.txt"), Array.from({ length: n }, (_, i) => flowLine(i)).join("\n") + "\n");
    const r = ofctl(ts.dir, ["add-flows", "br0", path.join(ts.dir, "flows.txt")]);
    assert.equal(r.status, 0, r.out);
    const c = await RawOfconn.open(path.join(ts.dir, "br0.mgmt"), 1);
    try {
      const body = { tableId: 0xff, outPort: 0xffff, outGroup: 0xffffffff, cookie: 0n, cookieMask: 0n, match: new Match() };
      // The dump (about 700 kB: sent over several event-loop turns), then a
      // delete of every flow in the same write: the dump still has them all.
      const del = { command: 3, tableId: 0xff, match: new Match(), priority: 0, cookie: 0n, cookieMask: 0n, newCookie: 0xffffffffffffffffn,
        idleTimeout: 0, hardTimeout: 0, importance: 0, flags: 0, bufferId: 0xffffffff, outPort: 0xffff, outGroup: 0xffffffff, actions: [] };
      const replies = await c.transact([{ type: "NXST_FLOW_REQUEST", body }, { type: "OFPT_FLOW_MOD", body: del }] as Omit<OfpMessage, "xid" | "version">[]);
      const bytes = replies.reduce((a, m) => a + m.length, 0);
      assert.ok(bytes > 512 * 1024, `${bytes} bytes`);
      let entries = 0;
      for (const m of replies) {
        assert.equal(m[1], 17, "only flow stats replies (no error)");
        for (let o = 24; o < m.length; o += (m[o]! << 8) | m[o + 1]!) entries++;
      }
      assert.equal(entries, n + 1, "every flow and the bridge's NORMAL flow");
      assert.equal(replies.filter((m) => (m[11]! & 1) === 0).length, 1, "one last message");
    } finally {
      c.close();
    }
    assert.match(ofctl(ts.dir, ["dump-flows", "br0"]).out, /^NXST_FLOW reply \(xid=0x[0-9a-f]+\):\n$/);
  } finally {
    await ts.stop();
  }
});
