/**
 * The action executor on byte fixtures: a packet built with the packet
 * emitters (checksums computed from scratch), actions parsed from OVS's
 * text syntax, and the result compared with the packet built directly
 * with the new values — so every incremental checksum update is checked
 * against a full recomputation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { DpPacketBatch, DpPacketPool, type DpPacket } from "../../src/packet/dp-packet.js";
import { ExecContext } from "../../src/datapath/exec-context.js";
import { executeActions, setExecuteRandomSeed } from "../../src/datapath/execute.js";
import { TNL_TYPE_GENEVE, TNL_TYPE_GRE, TNL_TYPE_VXLAN } from "../../src/datapath/execute-tnl.js";
import { OdpActionsBuilder, sampleProbability } from "../../src/datapath/odp-actions.js";
import { parseOdpActions } from "../../src/flow/odp-parse.js";
import { extractFlowKey } from "../../src/flow/extract.js";
import { FLOW_U32S } from "../../src/flow/key-layout.js";
import {
  arp, concat, eth, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6, icmp, ip4, ip6, ipv4, ipv6, mac, mpls, nd, payloadBytes,
  sctp, tcp, toHex, udp, vlan,
} from "../util/packets.js";

interface Out {
  port: number;
  bytes: string;
  pkt: DpPacket;
}

function run(frame: Uint8Array, actions: string | Uint8Array, opts: { pool?: DpPacketPool; extract?: boolean; tnlPorts?: [number, number][] } = {}) {
  const pool = opts.pool ?? new DpPacketPool(16, 2048);
  const ctx = new ExecContext(pool);
  if (opts.tnlPorts !== undefined) {
    ctx.tnlType = new Uint8Array(64);
    for (const [port, type] of opts.tnlPorts) ctx.tnlType[port] = type;
  }
  const pkt = pool.alloc()!;
  pkt.setData(frame);
  pkt.inPort = 7;
  if (opts.extract !== false) extractFlowKey(pkt, new Uint32Array(FLOW_U32S));
  const batch = new DpPacketBatch();
  batch.add(pkt);
  const acts = typeof actions === "string" ? parseOdpActions(actions) : actions;
  executeActions(ctx, batch, acts, 0, acts.length);
  const outs: Out[] = [];
  for (let i = 0; i < ctx.outCount; i++) outs.push({ port: ctx.outPort[i]!, bytes: toHex(ctx.outPkt[i]!.data()), pkt: ctx.outPkt[i]! });
  return { ctx, outs, pool, pkt, batch };
}

const E = { src: "00:11:22:33:44:55", dst: "66:77:88:99:aa:bb" };
const tcp4 = (src = "10.0.0.1", dst = "10.0.0.2", sport = 1234, dport = 80, ttl = 64, tos = 0) =>
  eth(E, ETH_TYPE_IP, ipv4({ src: ip4(src), dst: ip4(dst), proto: 6, ttl, tos }, tcp({ srcPort: sport, dstPort: dport }, payloadBytes(11))));
const udp4 = (src = "10.0.0.1", dst = "10.0.0.2", sport = 53, dport = 5353, ttl = 64) =>
  eth(E, ETH_TYPE_IP, ipv4({ src: ip4(src), dst: ip4(dst), proto: 17, ttl }, udp(sport, dport, payloadBytes(9))));

test("output: the last output takes the packet, earlier outputs get copies", () => {
  const f = tcp4();
  const { ctx, outs, pkt, pool } = run(f, "1,2,3");
  assert.deepEqual(outs.map((o) => o.port), [1, 2, 3]);
  for (const o of outs) assert.equal(o.bytes, toHex(f));
  assert.equal(outs[2]!.pkt, pkt, "last output steals the original");
  assert.notEqual(outs[0]!.pkt, pkt);
  assert.equal(ctx.dropped, 0);
  assert.equal(pool.available(), 16 - 3);
});

test("an empty action list and drop release the packet and count a drop", () => {
  for (const a of [new Uint8Array(0), parseOdpActions("drop"), parseOdpActions("set(skb_mark(0x5))")]) {
    const { ctx, outs, pool } = run(tcp4(), a);
    assert.equal(outs.length, 0);
    assert.equal(ctx.dropped, 1);
    assert.equal(pool.available(), 16);
  }
});

test("set ipv4 src/dst fixes the IP and TCP checksums", () => {
  const { outs } = run(tcp4(), "set(ipv4(src=192.168.1.1,dst=172.16.0.9)),1");
  assert.equal(outs[0]!.bytes, toHex(tcp4("192.168.1.1", "172.16.0.9")));
});

test("masked set ipv4 and set ttl/tos", () => {
  const r1 = run(tcp4(), "set(ipv4(src=192.168.0.0/255.255.0.0)),1");
  assert.equal(r1.outs[0]!.bytes, toHex(tcp4("192.168.0.1")));
  const r2 = run(udp4(), "set(ipv4(ttl=9)),1");
  assert.equal(r2.outs[0]!.bytes, toHex(udp4(undefined, undefined, undefined, undefined, 9)));
  const r3 = run(tcp4(), "set(ipv4(tos=0xb8/0xfc)),1");
  assert.equal(r3.outs[0]!.bytes, toHex(tcp4(undefined, undefined, undefined, undefined, 64, 0xb8)));
});

test("UDP without checksum keeps a zero checksum when addresses change", () => {
  const f = udp4();
  f[14 + 20 + 6] = 0;
  f[14 + 20 + 7] = 0;
  const { outs } = run(f, "set(ipv4(src=1.1.1.1)),1");
  const want = udp4("1.1.1.1");
  want[14 + 20 + 6] = 0;
  want[14 + 20 + 7] = 0;
  assert.equal(outs[0]!.bytes, toHex(want));
});

test("set tcp / udp / sctp ports", () => {
  assert.equal(run(tcp4(), "set(tcp(src=4321,dst=8080)),1").outs[0]!.bytes, toHex(tcp4(undefined, undefined, 4321, 8080)));
  assert.equal(run(udp4(), "set(udp(dst=9999)),1").outs[0]!.bytes, toHex(udp4(undefined, undefined, 53, 9999)));
  const s = (a: number, b: number) => eth(E, ETH_TYPE_IP, ipv4({ proto: 132 }, sctp(a, b, payloadBytes(16))));
  assert.equal(run(s(1, 2), "set(sctp(src=100,dst=200)),1").outs[0]!.bytes, toHex(s(100, 200)));
  // A TCP set on a UDP packet changes nothing.
  assert.equal(run(udp4(), "set(tcp(src=1)),1").outs[0]!.bytes, toHex(udp4()));
});

test("set ipv6 addresses, label, tclass and hop limit", () => {
  const v6 = (src: string, dst: string, label = 0, tc = 0, hl = 64) =>
    eth(E, ETH_TYPE_IPV6, ipv6({ src: ip6(src), dst: ip6(dst), nextHeader: 6, flowLabel: label, trafficClass: tc, hopLimit: hl },
      tcp({ srcPort: 1, dstPort: 2 }, payloadBytes(5))));
  const r = run(v6("2001:db8::1", "2001:db8::2"), "set(ipv6(src=fe80::1,dst=2001:db8:1::ff)),1");
  assert.equal(r.outs[0]!.bytes, toHex(v6("fe80::1", "2001:db8:1::ff")));
  const r2 = run(v6("2001:db8::1", "2001:db8::2"), "set(ipv6(label=0x12345,tclass=0x20,hlimit=3)),1");
  assert.equal(r2.outs[0]!.bytes, toHex(v6("2001:db8::1", "2001:db8::2", 0x12345, 0x20, 3)));
  const u6 = (src: string) => eth(E, ETH_TYPE_IPV6, ipv6({ src: ip6(src), nextHeader: 17 }, udp(1, 2, payloadBytes(3))));
  assert.equal(run(u6("::1"), "set(ipv6(src=::2)),1").outs[0]!.bytes, toHex(u6("::2")));
});

test("set icmp and icmpv6 type/code", () => {
  const i4 = (t: number, c: number) => eth(E, ETH_TYPE_IP, ipv4({ proto: 1 }, icmp(t, c, 0x12340001, payloadBytes(8))));
  assert.equal(run(i4(8, 0), "set(icmp(type=0,code=0)),1").outs[0]!.bytes, toHex(i4(0, 0)));
  const i6 = (t: number, c: number) => eth(E, ETH_TYPE_IPV6, ipv6({ nextHeader: 58 }, icmp(t, c, 0x1, payloadBytes(8))));
  assert.equal(run(i6(128, 0), "set(icmpv6(type=129,code=0)),1").outs[0]!.bytes, toHex(i6(129, 0)));
});

test("set nd target and link-layer option", () => {
  const n = (target: string, sll: string) => eth(E, ETH_TYPE_IPV6, ipv6({ nextHeader: 58, hopLimit: 255 },
    nd({ type: 135, reserved: 0, target: ip6(target), options: [{ type: 1, body: mac(sll) }] })));
  const r = run(n("fe80::1", "00:00:00:00:00:01"), "set(nd(target=fe80::99,sll=0a:0b:0c:0d:0e:0f,tll=00:00:00:00:00:00/00:00:00:00:00:00)),1");
  assert.equal(r.outs[0]!.bytes, toHex(n("fe80::99", "0a:0b:0c:0d:0e:0f")));
});

test("set eth (full and masked) and arp", () => {
  const f = tcp4();
  const r = run(f, "set(eth(src=02:00:00:00:00:01,dst=02:00:00:00:00:02)),1");
  assert.equal(r.outs[0]!.bytes, toHex(eth({ src: "02:00:00:00:00:01", dst: "02:00:00:00:00:02" }, ETH_TYPE_IP, f.subarray(14))));
  const r2 = run(f, "set(eth(dst=aa:bb:cc:00:00:00/ff:ff:ff:00:00:00)),1");
  assert.equal(r2.outs[0]!.bytes, toHex(eth({ src: E.src, dst: "aa:bb:cc:99:aa:bb" }, ETH_TYPE_IP, f.subarray(14))));
  const a = (op: number, spa: string) => eth(E, ETH_TYPE_ARP, arp({ op, spa: ip4(spa) }));
  assert.equal(run(a(1, "10.0.0.1"), "set(arp(sip=10.9.9.9,tip=10.0.0.2,op=2,sha=00:11:22:33:44:55,tha=00:00:00:00:00:00)),1").outs[0]!.bytes,
    toHex(a(2, "10.9.9.9")));
});

test("push_vlan / pop_vlan", () => {
  const f = tcp4();
  const tagged = eth({ ...E, vlans: [vlan(5, 3)] }, ETH_TYPE_IP, f.subarray(14));
  const r = run(f, "push_vlan(vid=5,pcp=3),1");
  assert.equal(r.outs[0]!.bytes, toHex(tagged));
  assert.equal(run(tagged, "pop_vlan,1").outs[0]!.bytes, toHex(f));
  // Pushing then setting IPv4 still finds the IP header.
  const r2 = run(f, "push_vlan(vid=5,pcp=3),set(ipv4(src=9.9.9.9)),1");
  assert.equal(r2.outs[0]!.bytes, toHex(eth({ ...E, vlans: [vlan(5, 3)] }, ETH_TYPE_IP, tcp4("9.9.9.9").subarray(14))));
  const qinq = run(tagged, "push_vlan(tpid=0x88a8,vid=100,pcp=0),1");
  assert.equal(qinq.outs[0]!.bytes, toHex(eth({ ...E, vlans: [vlan(100, 0, 0x88a8), vlan(5, 3)] }, ETH_TYPE_IP, f.subarray(14))));
});

test("push_mpls / set mpls / pop_mpls", () => {
  const f = udp4();
  const labelled = eth(E, 0x8847, mpls([{ label: 100, tc: 1, bos: true, ttl: 64 }], f.subarray(14)));
  const r = run(f, "push_mpls(label=100,tc=1,ttl=64,bos=1,eth_type=0x8847),1");
  assert.equal(r.outs[0]!.bytes, toHex(labelled));
  const r2 = run(labelled, "set(mpls(label=200,tc=1,ttl=63,bos=1)),1");
  assert.equal(r2.outs[0]!.bytes, toHex(eth(E, 0x8847, mpls([{ label: 200, tc: 1, bos: true, ttl: 63 }], f.subarray(14)))));
  assert.equal(run(labelled, "pop_mpls(eth_type=0x800),1").outs[0]!.bytes, toHex(f));
});

test("skb_mark, skb_priority and recirc", () => {
  const { ctx } = run(tcp4(), "set(skb_mark(0x5)),set(skb_priority(0x3/0xf)),recirc(0x2a)".replace("0x2a", "42"));
  assert.equal(ctx.recircCount, 1);
  const p = ctx.recircPkt[0]!;
  assert.equal(p.recircId, 42);
  assert.equal(p.pktMark, 5);
  assert.equal(p.skbPriority, 3);
  assert.equal(ctx.dropped, 0);
});

test("userspace carries the userdata; with outputs after it, it gets a copy", () => {
  const { ctx, outs } = run(tcp4(), "userspace(pid=1,userdata(0102030405060708090a)),2");
  assert.equal(ctx.upCount, 1);
  assert.equal(toHex(ctx.upUserdata[0]!), "0102030405060708090a");
  assert.equal(toHex(ctx.upPkt[0]!.data()), toHex(tcp4()));
  assert.equal(outs.length, 1);
  assert.notEqual(ctx.upPkt[0], outs[0]!.pkt);
});

test("clone: nested changes stay inside the clone", () => {
  const { outs } = run(tcp4(), "clone(set(ipv4(src=1.1.1.1)),1),2");
  assert.deepEqual(outs.map((o) => o.port), [1, 2]);
  assert.equal(outs[0]!.bytes, toHex(tcp4("1.1.1.1")));
  assert.equal(outs[1]!.bytes, toHex(tcp4()));
});

test("sample: 0% never, 100% always, 50% about half", () => {
  assert.equal(run(tcp4(), "sample(sample=0.0%,actions(1)),2").outs.map((o) => o.port).join(), "2");
  assert.equal(run(tcp4(), "sample(sample=100.0%,actions(1)),2").outs.map((o) => o.port).join(), "1,2");
  setExecuteRandomSeed(12345);
  const acts = new OdpActionsBuilder().sample(sampleProbability(0.5), (b) => b.output(1)).finish();
  let hits = 0;
  for (let i = 0; i < 400; i++) hits += run(tcp4(), acts).outs.length;
  assert.ok(hits > 150 && hits < 250, `sampled ${hits}/400`);
});

test("check_pkt_len picks gt or le by frame length", () => {
  const f = tcp4(); // 14 + 20 + 20 + 11 = 65 bytes
  assert.equal(f.length, 65);
  assert.equal(run(f, "check_pkt_len(size=64,gt(1),le(2))").outs[0]!.port, 1);
  assert.equal(run(f, "check_pkt_len(size=65,gt(1),le(2))").outs[0]!.port, 2);
  const r = run(f, "check_pkt_len(size=64,gt(set(ipv4(ttl=1)),1),le(2)),3");
  assert.deepEqual(r.outs.map((o) => o.port), [1, 3]);
  assert.equal(r.outs[1]!.bytes, toHex(f), "the packet after check_pkt_len is unchanged");
});

test("trunc applies to the next output only", () => {
  const f = tcp4();
  const { outs } = run(f, "trunc(40),1,2");
  assert.equal(outs[0]!.pkt.len, 40);
  assert.equal(outs[0]!.bytes, toHex(f.subarray(0, 40)));
  assert.equal(outs[1]!.pkt.len, f.length);
});

test("hash sets a stable nonzero dp_hash", () => {
  const a = run(tcp4(), "hash(l4(0)),recirc(1)").ctx.recircPkt[0]!.dpHash;
  const b = run(tcp4(), "hash(l4(0)),recirc(1)").ctx.recircPkt[0]!.dpHash;
  const c = run(tcp4("10.0.0.9"), "hash(l4(0)),recirc(1)").ctx.recircPkt[0]!.dpHash;
  assert.ok(a !== 0);
  assert.equal(a, b);
  assert.notEqual(a, c);
});

test("a packet injected without extraction is still rewritten", () => {
  const { outs } = run(tcp4(), "set(ipv4(dst=8.8.8.8)),1", { extract: false });
  assert.equal(outs[0]!.bytes, toHex(tcp4(undefined, "8.8.8.8")));
});

test("pool exhaustion: clones are skipped and counted, the last output still goes", () => {
  const pool = new DpPacketPool(1, 2048);
  const { outs, ctx } = run(tcp4(), "1,2", { pool });
  assert.deepEqual(outs.map((o) => o.port), [2]);
  assert.equal(ctx.dropped, 1);
});

test("batches: every packet of the batch runs the list", () => {
  const pool = new DpPacketPool(64, 2048);
  const ctx = new ExecContext(pool);
  const batch = new DpPacketBatch();
  for (let i = 0; i < 32; i++) {
    const p = pool.alloc()!;
    p.setData(concat(tcp4(`10.0.0.${i + 1}`)));
    batch.add(p);
  }
  const acts = parseOdpActions("set(tcp(dst=443)),5");
  executeActions(ctx, batch, acts, 0, acts.length);
  assert.equal(ctx.outCount, 32);
  assert.equal(batch.count, 0);
  for (let i = 0; i < 32; i++) assert.equal(toHex(ctx.outPkt[i]!.data()), toHex(tcp4(`10.0.0.${i + 1}`, undefined, 1234, 443)));
});

test("fuzz: malformed or random action bytes never throw and never leak packets", async () => {
  const fc = (await import("fast-check")).default;
  const valid = [
    "set(ipv4(src=1.1.1.1)),1", "clone(set(tcp(src=9)),2),3", "sample(sample=50.0%,actions(push_vlan(vid=1,pcp=0),4))",
    "check_pkt_len(size=60,gt(pop_vlan,1),le(trunc(20),2))", "userspace(pid=1,userdata(0102)),recirc(5)", "push_mpls(label=1,tc=0,ttl=2,bos=1,eth_type=0x8847),1",
  ].map((t) => parseOdpActions(t));
  const arb = fc.oneof(
    fc.uint8Array({ maxLength: 64 }),
    fc.tuple(fc.constantFrom(...valid), fc.nat(), fc.integer({ min: 0, max: 255 })).map(([a, i, v]) => {
      const c = a.slice();
      if (c.length > 0) c[i % c.length] = v;
      return c;
    }),
  );
  fc.assert(fc.property(arb, fc.constantFrom(tcp4(), udp4(), eth(E, ETH_TYPE_ARP, arp({}))), (acts, frame) => {
    const pool = new DpPacketPool(32, 2048);
    const r = run(frame, acts, { pool });
    const held = r.ctx.outCount + r.ctx.upCount + r.ctx.recircCount;
    assert.equal(pool.available() + held, 32, "every packet is either handed over or back in the pool");
  }), { numRuns: 1500 });
});

const PUSH_VXLAN4 = "tnl_push(tnl_port(4),header(size=50,type=4,eth(dst=f8:bc:12:44:34:b6,src=f8:bc:12:46:58:e0,dl_type=0x0800)," +
  "ipv4(src=1.1.2.88,dst=1.1.2.92,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=4789,csum=0x0),vxlan(flags=0x8000000,vni=0x1c7)),out_port(1))";

test("tnl_push (VXLAN over IPv4) builds the outer headers; tnl_pop restores the inner frame and metadata", () => {
  const inner = tcp4();
  // As OVS: tnl_push encapsulates in place, the next action outputs the result.
  const r = run(inner, PUSH_VXLAN4 + ",2");
  assert.equal(r.outs.length, 1);
  assert.equal(r.outs[0]!.port, 2);
  assert.equal(r.outs[0]!.pkt, r.pkt, "the packet itself is encapsulated, no copy");
  assert.equal(r.outs[0]!.pkt.inPort, 1, "metadata reset with in_port = out_port (the underlay bridge port), as OVS");
  const got = r.outs[0]!.pkt.data();
  const sport = (got[34]! << 8) | got[35]!;
  assert.ok(sport >= 32768 && sport < 61000, `source port ${sport}`);
  // VXLAN header: flags with the I bit, then VNI 0x1c7 in bytes 4..6.
  const vx = concat(new Uint8Array([0x08, 0, 0, 0, 0x00, 0x01, 0xc7, 0x00]), inner);
  const want = eth({ dst: "f8:bc:12:44:34:b6", src: "f8:bc:12:46:58:e0" }, ETH_TYPE_IP,
    ipv4({ src: ip4("1.1.2.88"), dst: ip4("1.1.2.92"), proto: 17, ttl: 64, dontFrag: true }, udp(sport, 4789, vx), false));
  assert.equal(toHex(got), toHex(want));

  const back = run(got, "tnl_pop(4)", { tnlPorts: [[4, TNL_TYPE_VXLAN]] });
  assert.equal(back.ctx.recircCount, 1);
  const p = back.ctx.recircPkt[0]!;
  assert.equal(toHex(p.data()), toHex(inner));
  assert.equal(p.inPort, 4);
  assert.equal(p.tun[1], 0x1c7, "tun_id");
  assert.equal(p.tun[2], ip4("1.1.2.88"));
  assert.equal(p.tun[3], ip4("1.1.2.92"));
  assert.equal(p.tun[12]! & 0xffff, 4, "flags: key only (OVS does not record the outer DF bit)");
  assert.equal((p.tun[12]! >>> 16) & 0xff, 64, "ttl");
  assert.equal(p.tun[13], ((sport << 16) | 4789) >>> 0);
});

test("tnl_push as the last action drops the packet; before two outputs both get the encapsulated packet", () => {
  const last = run(tcp4(), "1," + PUSH_VXLAN4);
  assert.deepEqual(last.outs.map((o) => o.port), [1]);
  assert.equal(last.outs[0]!.bytes, toHex(tcp4()), "the output before tnl_push is not encapsulated");
  const only = run(tcp4(), PUSH_VXLAN4);
  assert.equal(only.outs.length, 0);
  assert.equal(only.ctx.dropped, 1);
  assert.equal(only.pool.available(), 16, "the packet went back to the pool");
  const two = run(tcp4(), PUSH_VXLAN4 + ",2,3");
  assert.deepEqual(two.outs.map((o) => o.port), [2, 3]);
  assert.equal(two.outs[0]!.bytes, two.outs[1]!.bytes);
  assert.equal(two.outs[0]!.pkt.len, tcp4().length + 50);
  const cloned = run(tcp4(), `clone(${PUSH_VXLAN4},2),3`);
  assert.deepEqual(cloned.outs.map((o) => [o.port, o.pkt.len]), [[2, tcp4().length + 50], [3, tcp4().length]]);
});

test("tnl_pop decapsulates as the named port's type says, whatever the UDP port; unknown ports drop", () => {
  const inner = tcp4();
  const enc = (dport: number) => {
    const push = PUSH_VXLAN4.replace("dst=4789", `dst=${dport}`);
    return run(inner, push + ",2").outs[0]!.pkt.data().slice();
  };
  const on4790 = run(enc(4790), "tnl_pop(4)", { tnlPorts: [[4, TNL_TYPE_VXLAN]] });
  assert.equal(on4790.ctx.recircCount, 1, "VXLAN on dst_port 4790 is popped by a VXLAN port");
  assert.equal(toHex(on4790.ctx.recircPkt[0]!.data()), toHex(inner));
  assert.equal(on4790.ctx.recircPkt[0]!.tun[13]! & 0xffff, 4790);
  const unknown = run(enc(4789), "tnl_pop(4)");
  assert.equal(unknown.ctx.recircCount, 0);
  assert.equal(unknown.ctx.dropped, 1);
  const wrongType = run(enc(4789), "tnl_pop(4)", { tnlPorts: [[4, TNL_TYPE_GRE]] });
  assert.equal(wrongType.ctx.recircCount, 0, "a GRE port does not pop a UDP packet");
  const asGeneve = run(enc(4789), "tnl_pop(4)", { tnlPorts: [[4, TNL_TYPE_GENEVE]] });
  assert.equal(asGeneve.ctx.recircCount, 0, "a VXLAN header is not a valid Geneve header (protocol type)");
});

test("tnl_push (Geneve over IPv6) computes the UDP checksum", () => {
  const push = "tnl_push(tnl_port(6),header(size=70,type=4,eth(dst=f8:bc:12:44:34:b6,src=f8:bc:12:46:58:e0,dl_type=0x86dd)," +
    "ipv6(src=2001:cafe::88,dst=2001:cafe::92,label=0,proto=17,tclass=0x0,hlimit=64),udp(src=0,dst=4789,csum=0xffff),vxlan(flags=0x8000000,vni=0x1c7)),out_port(1)),1";
  const got = run(tcp4(), push).outs[0]!.pkt.data();
  const udpOff = 14 + 40;
  const udpLen = (got[udpOff + 4]! << 8) | got[udpOff + 5]!;
  assert.equal(udpLen, got.length - udpOff);
  // Verify: the one's-complement sum over pseudo-header and UDP datagram is 0xffff.
  let s = 0;
  for (let i = 0; i < 32; i += 2) s += (got[14 + 8 + i]! << 8) | got[14 + 8 + i + 1]!;
  s += 17 + udpLen;
  for (let i = 0; i < udpLen; i += 2) s += (got[udpOff + i]! << 8) | (i + 1 < udpLen ? got[udpOff + i + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  assert.equal(s, 0xffff);
  const back = run(got, "tnl_pop(6)", { tnlPorts: [[6, TNL_TYPE_VXLAN]] }).ctx.recircPkt[0]!;
  assert.equal(toHex(back.data()), toHex(tcp4()));
  assert.equal(back.tun[12]! & 0xffff, 2 | 4, "flags csum|key");
});

test("tnl_pop of Geneve marks the metadata as Geneve's (geneve() in the key) even without options", () => {
  const push = "tnl_push(tnl_port(6),header(size=50,type=5,eth(dst=f8:bc:12:44:34:b6,src=f8:bc:12:46:58:e0,dl_type=0x0800)," +
    "ipv4(src=1.1.2.88,dst=1.1.2.93,proto=17,tos=0,ttl=64,frag=0x4000),udp(src=0,dst=6081,csum=0x0),geneve(vni=0x7b)),out_port(1)),2";
  const enc = run(tcp4(), push).outs[0]!.pkt.data().slice();
  const back = run(enc, "tnl_pop(6)", { tnlPorts: [[6, TNL_TYPE_GENEVE]] });
  assert.equal(back.ctx.recircCount, 1);
  const p = back.ctx.recircPkt[0]!;
  assert.equal(toHex(p.data()), toHex(tcp4()));
  assert.equal(p.tun[1], 0x7b);
  assert.equal(p.tun[12]! & 0xffff, 4 | 0x10, "flags: key and Geneve metadata present (FLOW_TNL_F_UDPIF)");
  assert.equal(p.tun[16]! & 0xff, 0, "no options");
  assert.equal(run(enc, "tnl_pop(6)", { tnlPorts: [[6, TNL_TYPE_VXLAN]] }).ctx.recircCount, 0, "a VXLAN port does not pop Geneve");
});
