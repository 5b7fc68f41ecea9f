/**
 * NetFlow v5 against OVS 3.1: the same Bridge and NetFlow rows on `tsovs
 * start` and ovsdb-server + ovs-vswitchd (dummy datapath), each exporting
 * to a UDP collector of the test. Megaflows of IPv4 traffic keep the
 * fields records carry (ofproto/trace), and packets injected with
 * `netdev-dummy/receive` come back as the same records (5-tuple, ToS,
 * packets, bytes, input and output interfaces) once the active timeout
 * ran out.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as dgram from "node:dgram";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";

async function sh(sw: Switch, cmd: string, ...args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

interface Rec { src: string; dst: string; input: number; output: number; packets: number; bytes: number; sport: number; dport: number; proto: number; tos: number }

function records(m: Buffer): Rec[] {
  assert.equal(m.readUInt16BE(0), 5, "NetFlow v5");
  const out: Rec[] = [];
  for (let i = 0; i < m.readUInt16BE(2); i++) {
    const o = 24 + 48 * i;
    out.push({
      src: [...m.subarray(o, o + 4)].join("."), dst: [...m.subarray(o + 4, o + 8)].join("."),
      input: m.readUInt16BE(o + 12), output: m.readUInt16BE(o + 14), packets: m.readUInt32BE(o + 16), bytes: m.readUInt32BE(o + 20),
      sport: m.readUInt16BE(o + 32), dport: m.readUInt16BE(o + 34), proto: m[o + 38]!, tos: m[o + 39]!,
    });
  }
  return out;
}

const UDP = (sport: number) =>
  `in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0x20,ttl=64,frag=no),udp(src=${sport},dst=53)`;

test("NetFlow v5 records and megaflows equal OVS 3.1's", { skip: ovsSkip(), timeout: 90_000 }, async () => {
  const sws: Switch[] = [];
  const collectors: dgram.Socket[] = [];
  const got: Rec[][] = [[], []];
  try {
    sws.push(await startRealSwitch(), await startTsovsSwitch());
    for (let i = 0; i < 2; i++) {
      const c = dgram.createSocket("udp4");
      await new Promise<void>((r) => c.bind(0, "127.0.0.1", r));
      c.on("message", (m) => got[i]!.push(...records(m)));
      collectors.push(c);
      await sh(sws[i]!, "ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
        "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
        "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2",
        "--", "--id=@n", "create", "netflow", `targets="127.0.0.1:${c.address().port}"`, "active_timeout=1",
        "--", "set", "bridge", "br0", "netflow=@n");
      await sh(sws[i]!, "ovs-ofctl", "add-flow", "br0", "in_port=1,actions=output:2");
    }
    for (const flow of ["in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=5,udp_dst=53", "in_port=1,arp", "in_port=1,ipv6"]) {
      const [a, b] = [await sh(sws[0]!, "ovs-appctl", "ofproto/trace", "br0", flow), await sh(sws[1]!, "ovs-appctl", "ofproto/trace", "br0", flow)];
      assert.equal(b, a, `ofproto/trace br0 ${flow}`);
    }
    for (const sw of sws) {
      for (let k = 0; k < 3; k++) await sh(sw, "ovs-appctl", "netdev-dummy/receive", "p1", UDP(1000));
      await sh(sw, "ovs-appctl", "netdev-dummy/receive", "p1", UDP(2000));
    }
    // Both exporters send once a flow has been active for a second and its counts reached them.
    const key = (r: Rec) => `${r.src}>${r.dst} ${r.proto} ${r.sport}>${r.dport} tos=${r.tos} in=${r.input} out=${r.output}`;
    const total = (rs: Rec[]) => {
      const m = new Map<string, { packets: number; bytes: number }>();
      for (const r of rs) {
        const t = m.get(key(r)) ?? { packets: 0, bytes: 0 };
        t.packets += r.packets;
        t.bytes += r.bytes;
        m.set(key(r), t);
      }
      return Object.fromEntries([...m].sort());
    };
    const want = (rs: Rec[]) => rs.reduce((n, r) => n + r.packets, 0) >= 4;
    for (let i = 0; i < 100 && !(want(got[0]!) && want(got[1]!)); i++) await new Promise((r) => setTimeout(r, 100));
    assert.deepEqual(total(got[1]!), total(got[0]!), "the records, summed per flow");
    assert.deepEqual(total(got[0]!)["10.0.0.1>10.0.0.2 17 1000>53 tos=32 in=1 out=2"], { packets: 3, bytes: 3 * 106 });
  } finally {
    for (const sw of sws) await sw.stop();
    for (const c of collectors) c.close();
  }
});
