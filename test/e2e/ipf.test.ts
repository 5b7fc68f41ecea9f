/**
 * Fragment reassembly in front of the userspace connection tracker
 * (src/datapath/ipf.ts) against OVS 3.1, through the real tools: the same
 * bridge and ct pipeline on `tsovs start` and on ovsdb-server +
 * ovs-vswitchd (dummy datapath); fragmented ICMP echoes injected with
 * `netdev-dummy/receive`. `dpctl/ipf-get-status` after each fragment, the
 * committed connection, the fragments delivered, the datapath flows and
 * every `dpctl/ipf-set-*` reply (errors and OVS's quirks included) must be
 * the same; so must the counters for a too-small fragment, an overlap and
 * a list that expires (after `time/warp`).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { runAsync, type Switch, withOvsAndTsovs } from "../util/vswitchd.js";

const FLOWS = [
  "table=0,priority=10,ip,ct_state=-trk,actions=ct(table=1)",
  "table=0,priority=10,ipv6,ct_state=-trk,actions=ct(table=1)",
  "table=1,priority=10,ipv6,ct_state=+trk+new,actions=ct(commit),output:2",
  "table=1,priority=5,ipv6,ct_state=+trk+inv,actions=drop",
  "table=0,priority=1,actions=drop",
  "table=1,priority=10,ip,ct_state=+trk+new,actions=ct(commit),output:2",
  "table=1,priority=10,ip,ct_state=+trk+est,actions=output:2",
  "table=1,priority=5,ip,ct_state=+trk+inv,actions=drop",
];

function csum(b: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < b.length; i += 2) s += (b[i]! << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return ~s & 0xffff;
}

/** An Ethernet/IPv4 fragment 10.0.0.1 -> 10.0.0.2 of `payload` at byte `offset`, as hex. */
function fragment(id: number, offset: number, more: boolean, payload: Uint8Array): string {
  const ip = new Uint8Array(20 + payload.length);
  const dv = new DataView(ip.buffer);
  ip[0] = 0x45;
  dv.setUint16(2, ip.length);
  dv.setUint16(4, id);
  dv.setUint16(6, (more ? 0x2000 : 0) | (offset / 8));
  ip[8] = 64;
  ip[9] = 1;
  ip.set([10, 0, 0, 1, 10, 0, 0, 2], 12);
  dv.setUint16(10, csum(ip.subarray(0, 20)));
  ip.set(payload, 20);
  return "000000000002" + "000000000001" + "0800" + Buffer.from(ip).toString("hex");
}

const V6_SRC = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1];
const V6_DST = [0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2];

/** An ICMPv6 echo request of `len` bytes (checksum over the IPv6 pseudo-header). */
function echo6(echoId: number, len: number): Uint8Array {
  const m = new Uint8Array(len);
  m[0] = 128;
  new DataView(m.buffer).setUint16(4, echoId);
  for (let i = 8; i < len; i++) m[i] = (i * 5) & 0xff;
  const pseudo = new Uint8Array(40 + len);
  pseudo.set(V6_SRC, 0);
  pseudo.set(V6_DST, 16);
  new DataView(pseudo.buffer).setUint32(32, len);
  pseudo[39] = 58;
  pseudo.set(m, 40);
  new DataView(m.buffer).setUint16(2, csum(pseudo));
  return m;
}

/** An Ethernet/IPv6 fragment (Fragment header, id `id`) of `data` at byte `offset`, as hex. */
function fragment6(id: number, offset: number, more: boolean, data: Uint8Array): string {
  const ip = new Uint8Array(48 + data.length);
  const dv = new DataView(ip.buffer);
  ip[0] = 0x60;
  dv.setUint16(4, 8 + data.length);
  ip[6] = 44;
  ip[7] = 64;
  ip.set(V6_SRC, 8);
  ip.set(V6_DST, 24);
  ip[40] = 58;
  dv.setUint16(42, offset | (more ? 1 : 0));
  dv.setUint32(44, id);
  ip.set(data, 48);
  return "000000000002" + "000000000001" + "86dd" + Buffer.from(ip).toString("hex");
}

/** An ICMP echo request of 1292 bytes with echo id `echoId`. */
function echo(echoId: number, len = 1292): Uint8Array {
  const m = new Uint8Array(len);
  m[0] = 8;
  new DataView(m.buffer).setUint16(4, echoId);
  for (let i = 8; i < len; i++) m[i] = (i * 7) & 0xff;
  new DataView(m.buffer).setUint16(2, csum(m));
  return m;
}

async function appctl(sw: Switch, ...args: string[]): Promise<string> {
  const r = await runAsync("ovs-appctl", args, sw.dir);
  return r.stdout + (r.status !== 0 ? `[status ${r.status}] ${r.stderr}` : "");
}

async function sh(sw: Switch, cmd: string, ...args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** The datapath flows without their statistics, recirculation ids numbered in order of appearance. */
function flowsOf(dump: string): string[] {
  const ids = new Map<string, string>();
  return dump.split("\n").filter((l) => l.startsWith("ct_state") || l.startsWith("recirc_id"))
    .map((l) => l.replace(/, packets:.*actions:/, " actions:").replace(/0x[0-9a-f]+/g, (h) => {
      if (!ids.has(h)) ids.set(h, `R${ids.size}`);
      return ids.get(h)!;
    })).sort();
}

test("ipf: fragments are reassembled for conntrack and delivered as OVS 3.1 does, with the same dpctl/ipf-* replies", { skip: ovsSkip(), timeout: 120_000 }, async () => {
  await withOvsAndTsovs(async (sws) => {
    for (const sw of sws) {
      await sh(sw, "ovs-vsctl", "add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
        "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1",
        "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2");
      await sh(sw, "ovs-ofctl", "del-flows", "br0");
      for (const f of FLOWS) await sh(sw, "ovs-ofctl", "add-flow", "br0", f);
    }
    const both = async (f: (sw: Switch) => Promise<string>) => [await f(sws[0]!), await f(sws[1]!)] as const;
    const same = async (what: string, f: (sw: Switch) => Promise<string>) => {
      const [a, b] = await both(f);
      assert.equal(b, a, what);
      return a;
    };

    // The knobs, their replies and errors.
    for (const c of [
      "ipf-get-status", "ipf-get-status -m", "ipf-get-status ovs-dummy", "ipf-set-enabled v4", "ipf-set-disabled v6",
      "ipf-set-disabled", "ipf-set-disabled v5", "ipf-set-enabled V4", "ipf-set-enabled nosuch v4", "ipf-set-min-frag v4 1000",
      "ipf-set-min-frag v4 399", "ipf-set-min-frag v6 400", "ipf-set-min-frag v4", "ipf-set-min-frag v4 abc",
      "ipf-set-min-frag v4 12x", "ipf-set-min-frag v4 -5", "ipf-set-min-frag v9 1300", "ipf-set-max-nfrags 500",
      "ipf-set-max-nfrags 5001", "ipf-set-max-nfrags 4294967296", "ipf-set-max-nfrags x", "ipf-set-max-nfrags",
      "ipf-get-status",
    ]) await same(`dpctl/${c}`, (sw) => appctl(sw, ...`dpctl/${c}`.split(" ")));
    for (const c of ["ipf-set-enabled v6", "ipf-set-min-frag v4 1200", "ipf-set-min-frag v6 1280", "ipf-set-max-nfrags 1000"]) {
      await same(`dpctl/${c}`, (sw) => appctl(sw, ...`dpctl/${c}`.split(" ")));
    }

    // One echo in two fragments: kept, then reassembled for ct (twice: ct, then ct(commit)), both delivered.
    const m = echo(0x4242);
    const f1 = fragment(0x1234, 0, true, m.subarray(0, 1200));
    const f2 = fragment(0x1234, 1200, false, m.subarray(1200));
    for (const sw of sws) await appctl(sw, "netdev-dummy/receive", "p1", f1);
    const st = await same("ipf-get-status with one fragment kept", (sw) => appctl(sw, "dpctl/ipf-get-status"));
    assert.match(st, /num frag: 1\n/);
    for (const sw of sws) await appctl(sw, "netdev-dummy/receive", "p1", f2);
    const st2 = await same("ipf-get-status after reassembly", (sw) => appctl(sw, "dpctl/ipf-get-status"));
    assert.match(st2, /v4 frags completed: 4\n/);
    const conns = await same("the committed connection", (sw) => appctl(sw, "dpctl/dump-conntrack"));
    assert.match(conns, /^icmp,orig=\(src=10\.0\.0\.1,dst=10\.0\.0\.2,id=16962,type=8,code=0\)/);
    await new Promise((r) => setTimeout(r, 500));
    const tx = await same("both fragments delivered", async (sw) => (await sh(sw, "ovs-ofctl", "dump-ports", "br0", "2")).split("\n").find((l) => l.includes("tx pkts")) ?? "");
    assert.match(tx, /tx pkts=2, bytes=1360/);
    const [da, db] = await both((sw) => appctl(sw, "dpctl/dump-flows"));
    assert.deepEqual(flowsOf(db), flowsOf(da), "datapath flows");

    // IPv6: an ICMPv6 echo in two fragments behind a Fragment header.
    const m6 = echo6(0x6161, 1400);
    for (const sw of sws) {
      await appctl(sw, "netdev-dummy/receive", "p1", fragment6(0x12345678, 0, true, m6.subarray(0, 1232)));
      await appctl(sw, "netdev-dummy/receive", "p1", fragment6(0x12345678, 1232, false, m6.subarray(1232)));
    }
    const st6 = await same("ipf-get-status after an IPv6 reassembly", (sw) => appctl(sw, "dpctl/ipf-get-status"));
    assert.match(st6, /v6 frags completed: 4\n/);
    // (OVS lists connections in hash order: compared sorted.)
    const conns6 = await same("the IPv6 connection", async (sw) => (await appctl(sw, "dpctl/dump-conntrack")).split("\n").sort().join("\n"));
    assert.match(conns6, /icmpv6,orig=\(src=2001:db8::1,dst=2001:db8::2,id=24929,type=128,code=0\)/);

    // A non-last fragment under the minimum size: not kept ("too small"), invalid for ct.
    const small = fragment(0x2222, 0, true, echo(0x4343, 200).subarray(0, 200));
    for (const sw of sws) await appctl(sw, "netdev-dummy/receive", "p1", small);
    // An overlapping fragment; then a list that never completes and expires after 15 s.
    const m3 = echo(0x4444);
    for (const sw of sws) {
      await appctl(sw, "netdev-dummy/receive", "p1", fragment(0x3333, 0, true, m3.subarray(0, 1200)));
      await appctl(sw, "netdev-dummy/receive", "p1", fragment(0x3333, 1192, false, m3.subarray(1192)));
    }
    await same("too small, overlapped", (sw) => appctl(sw, "dpctl/ipf-get-status"));
    // Lists expire when packets next go through ct: a whole echo after 16 s.
    for (const sw of sws) await appctl(sw, "time/warp", "16000", "1000");
    const whole = fragment(0x5555, 0, false, echo(0x4545, 64));
    for (const sw of sws) await appctl(sw, "netdev-dummy/receive", "p1", whole);
    const st3 = await same("expired", (sw) => appctl(sw, "dpctl/ipf-get-status"));
    assert.match(st3, /v4 frags expired: 1\n +v4 frags too small: 1\n +v4 frags overlapped: 1\n/);
  });
});
