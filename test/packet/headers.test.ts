/**
 * Header views and Reprs: bytes built by our emitters (with our checksums)
 * equal the bytes `ovs-ofctl compose-packet` builds for the same flow, and
 * parse∘emit is the identity for every header.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ArpView,
  EthernetView,
  GeneveView,
  GreView,
  MplsView,
  Ipv4View,
  Ipv6View,
  TcpView,
  UdpView,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_TCP,
  IPPROTO_UDP,
  emitEthernet,
  emitGeneve,
  emitGre,
  emitIpv4,
  emitIpv6,
  emitNd,
  emitTcp,
  emitVxlan,
  ipv6ToString,
  parseArp,
  parseEthernet,
  parseGeneve,
  parseGre,
  parseIpv4,
  parseIpv6,
  parseIpv6Addr,
  parseMplsStack,
  parseNd,
  parseTcp,
  parseVxlan,
  mplsReprToLse,
  mplsLseToRepr,
  ndLen,
  type Ipv4Repr,
} from "../../src/packet/index.js";
import { ovsSkip } from "../util/ovs.js";
import { arp, composePacket, eth, icmp, ip4, ip6, ipv4, ipv6, mac, mpls, payloadBytes, tcp, toHex, udp, ETH_TYPE_IP, ETH_TYPE_IPV6 } from "../util/packets.js";

const zeroEth = { dst: "00:00:00:00:00:00", src: "00:00:00:00:00:00" };

test("emitted frames with checksums equal ovs-ofctl compose-packet's bytes", { skip: ovsSkip("ovs-ofctl") }, () => {
  const cases: [string, Uint8Array][] = [
    [
      "tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1234,tp_dst=80",
      eth(zeroEth, ETH_TYPE_IP, ipv4({ ttl: 0, proto: IPPROTO_TCP }, tcp({ srcPort: 1234, dstPort: 80, seq: 0, flags: 0, window: 0 }, payloadBytes(64)))),
    ],
    ["udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=1,udp_dst=2", eth(zeroEth, ETH_TYPE_IP, ipv4({ ttl: 0, proto: IPPROTO_UDP }, udp(1, 2, payloadBytes(64))))],
    ["icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8,icmp_code=0", eth(zeroEth, ETH_TYPE_IP, ipv4({ ttl: 0, proto: IPPROTO_ICMP }, icmp(8, 0, 0, payloadBytes(64))))],
    [
      "udp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,udp_src=1,udp_dst=2",
      eth(zeroEth, ETH_TYPE_IPV6, ipv6({ hopLimit: 0, nextHeader: IPPROTO_UDP }, udp(1, 2, payloadBytes(64)))),
    ],
    [
      "icmp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,icmpv6_type=128,icmpv6_code=0",
      eth(zeroEth, ETH_TYPE_IPV6, ipv6({ hopLimit: 0, nextHeader: IPPROTO_ICMPV6 }, icmp(128, 0, 0, payloadBytes(64)))),
    ],
  ];
  for (const [flow, ours] of cases) {
    const theirs = composePacket(flow);
    assert.ok(theirs !== null, flow);
    assert.equal(toHex(ours), toHex(theirs), flow);
  }
});

test("views read what the emitters wrote; checked constructors refuse short or inconsistent input", () => {
  const f = eth({ dst: "01:02:03:04:05:06" }, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP, ttl: 9, options: Uint8Array.of(1, 1, 1, 1) }, tcp({ srcPort: 7, dstPort: 8, flags: 0x18 })));
  const e = EthernetView.check(f, 0, f.length)!;
  assert.deepEqual([...e.dst()], [1, 2, 3, 4, 5, 6]);
  assert.equal(e.ethType(), 0x0800);
  const ip = Ipv4View.check(f, 14, f.length - 14)!;
  assert.equal(ip.headerLen(), 24);
  assert.equal(ip.ttl(), 9);
  assert.ok(ip.checksumValid());
  const t = TcpView.check(f, 14 + 24, f.length - 38)!;
  assert.equal(t.srcPort(), 7);
  assert.equal(t.flags(), 0x18);
  assert.equal(EthernetView.check(f, 0, 13), null);
  assert.equal(Ipv4View.check(f, 14, 19), null);
  assert.equal(Ipv4View.check(f, 14, 30), null, "tot_len beyond the bytes");
  assert.equal(TcpView.check(f, 38, 19), null);
  assert.equal(UdpView.check(f, 0, 7), null);
  assert.equal(Ipv6View.check(f, 14, 40), null, "version 4 is not IPv6");
  const a = eth({}, 0x0806, arp({ op: 2 }));
  assert.equal(ArpView.check(a, 14, 28)!.op(), 2);
  assert.equal(ArpView.check(a, 14, 27), null);
});

test("incremental IPv4 rewrites keep the header checksum valid", () => {
  const f = ipv4({ proto: IPPROTO_UDP }, udp(1, 2));
  const v = Ipv4View.check(f, 0, f.length)!;
  v.rewriteTtl(1);
  v.rewriteSrc(ip4("192.168.77.1"));
  v.rewriteDst(ip4("8.8.8.8"));
  v.rewriteTos(0xb8);
  assert.ok(v.checksumValid());
  assert.equal(v.ttl(), 1);
  assert.equal(v.src(), ip4("192.168.77.1"));
});

const ipv4Arb = fc.record({
  tos: fc.integer({ min: 0, max: 255 }),
  totalLen: fc.constant(0),
  id: fc.integer({ min: 0, max: 0xffff }),
  dontFrag: fc.boolean(),
  moreFrags: fc.boolean(),
  fragOffset: fc.integer({ min: 0, max: 0x1fff }),
  ttl: fc.integer({ min: 0, max: 255 }),
  proto: fc.integer({ min: 0, max: 255 }),
  src: fc.integer({ min: 0, max: 0xffffffff }),
  dst: fc.integer({ min: 0, max: 0xffffffff }),
  options: fc.integer({ min: 0, max: 10 }).map((n) => payloadBytes(n * 4, 1)),
});

test("IPv4 parse∘emit is the identity (property)", () => {
  fc.assert(
    fc.property(ipv4Arb, (r: Ipv4Repr) => {
      const b = new Uint8Array(80);
      const n = emitIpv4(r, b, 0, 0);
      const back = parseIpv4(b, 0, n)!;
      assert.deepEqual({ ...back, totalLen: 0 }, { ...r });
      assert.ok(Ipv4View.check(b, 0, n)!.checksumValid());
    }),
  );
});

test("IPv6 with an extension chain round-trips", () => {
  const r = {
    trafficClass: 0xab,
    flowLabel: 0x12345,
    payloadLen: 0,
    nextHeader: IPPROTO_TCP,
    hopLimit: 7,
    src: ip6("fe80::1"),
    dst: ip6("2001:db8::ff"),
    ext: [
      { type: IPPROTO_HOPOPTS, body: Uint8Array.of(1, 4, 0, 0, 0, 0) },
      { type: IPPROTO_FRAGMENT, body: new Uint8Array(0), frag: { offset: 3, more: true, id: 99 } },
      { type: IPPROTO_DSTOPTS, body: payloadBytes(14) },
    ],
  };
  const b = new Uint8Array(200);
  const n = emitIpv6(r, b, 0, 0);
  const back = parseIpv6(b, 0, n)!;
  assert.equal(back.headerLen, n);
  assert.equal(back.nextHeader, IPPROTO_TCP);
  assert.deepEqual(back.ext, r.ext);
  assert.equal(back.flowLabel, 0x12345);
  assert.equal(back.trafficClass, 0xab);
  assert.equal(parseIpv6(b, 0, n - 1), null);
});

test("TCP, ND, MPLS, VLAN, VXLAN, Geneve and GRE round-trip", () => {
  const b = new Uint8Array(300);
  const t = { srcPort: 1, dstPort: 2, seq: 0xfffffff0, ack: 5, flags: 0x1ff, window: 3, urgent: 4, options: Uint8Array.of(2, 4, 5, 0xb4) };
  const n = emitTcp(t, b, 0);
  assert.deepEqual(parseTcp(b, 0, n), t);

  const ndr = { type: 135, reserved: 0, target: ip6("fe80::9"), options: [{ type: 1, body: mac("00:01:02:03:04:05") }] };
  emitNd(ndr, b, 0);
  assert.deepEqual(parseNd(b, 0, ndLen(ndr)), ndr);

  const stack = [
    { label: 100, tc: 1, bos: false, ttl: 5 },
    { label: 0xfffff, tc: 7, bos: true, ttl: 255 },
  ];
  const m = mpls(stack, new Uint8Array(0));
  assert.deepEqual(parseMplsStack(m, 0, m.length), stack);
  assert.equal(parseMplsStack(m, 0, 4), null);
  assert.deepEqual(mplsLseToRepr(mplsReprToLse(stack[1]!)), stack[1]);

  const er = { dst: mac("ff:ff:ff:ff:ff:ff"), src: mac("00:00:00:00:00:01"), vlans: [{ tpid: 0x88a8, pcp: 3, dei: true, vid: 4000 }, { tpid: 0x8100, pcp: 0, dei: false, vid: 1 }], ethType: 0x86dd };
  const el = emitEthernet(er, b, 0);
  assert.deepEqual(parseEthernet(b, 0, el), { ...er, headerLen: 22 });

  emitVxlan({ vni: 0xabcdef, gbp: { id: 77, flags: 0x48 } }, b, 0);
  assert.deepEqual(parseVxlan(b, 0, 8), { vni: 0xabcdef, gbp: { id: 77, flags: 0x48 } });
  emitVxlan({ vni: 5, gbp: null }, b, 0);
  assert.deepEqual(parseVxlan(b, 0, 8), { vni: 5, gbp: null });

  const gr = { vni: 0x123456, oam: true, critical: false, protocol: 0x6558, options: [{ optClass: 0xffff, type: 0x80, data: payloadBytes(8) }, { optClass: 1, type: 2, data: new Uint8Array(0) }] };
  const gl = emitGeneve(gr, b, 0);
  assert.equal(gl, 8 + 12 + 4);
  assert.deepEqual(parseGeneve(b, 0, gl), { ...gr, headerLen: gl });
  assert.equal(GeneveView.check(b, 0, gl - 1), null);

  const gre = { protocol: 0x6558, csum: true, key: 0x01020304, seq: 9 };
  const grl = emitGre(gre, b, 0);
  assert.deepEqual(parseGre(b, 0, grl), { ...gre, headerLen: 16 });
  const gv = GreView.check(b, 0, grl)!;
  assert.equal(gv.key(), 0x01020304);
  assert.equal(gv.headerLen(), 16);
  assert.equal(GreView.check(b, 0, 15), null);
  const mv = MplsView.check(m, 0, m.length)!;
  assert.equal(mv.label(), 100);
  mv.setTtl(9);
  mv.setTc(6);
  mv.setBos(true);
  mv.setLabel(0xabcde);
  assert.deepEqual(mplsLseToRepr(mv.lse()), { label: 0xabcde, tc: 6, bos: true, ttl: 9 });
  assert.equal(parseGre(b, 0, 10), null);
});

test("NSH round-trips and its bytes extract to the key's nsh fields", async () => {
  const { emitNsh, parseNsh, NshView } = await import("../../src/packet/index.js");
  const { extractFlowKey, newFlowKey, W_NSH_FLAGS, W_NSH_SPI, W_NSH_C1 } = await import("../../src/flow/index.js");
  const { DpPacket } = await import("../../src/packet/index.js");
  const r = { flags: 2, ttl: 63, mdType: 1, nextProto: 3, spi: 0xabcdef, si: 254, context: [1, 2, 3, 0xffffffff] as [number, number, number, number], md2: new Uint8Array(0) };
  const b = new Uint8Array(64);
  const n = emitNsh(r, b, 0);
  assert.equal(n, 24);
  assert.deepEqual(parseNsh(b, 0, n), { ...r, headerLen: 24 });
  assert.equal(NshView.check(b, 0, 23), null);
  const r2 = { ...r, mdType: 2, md2: payloadBytes(8) };
  const n2 = emitNsh(r2, b, 0);
  assert.deepEqual(parseNsh(b, 0, n2), { ...r2, context: [0, 0, 0, 0], headerLen: 16 });
  const p = new DpPacket(256);
  emitNsh(r, b, 0);
  p.setData(eth({}, 0x894f, b.slice(0, 24)));
  const key = newFlowKey();
  extractFlowKey(p, key);
  assert.equal(key[W_NSH_FLAGS], ((2 << 24) | (63 << 16) | (1 << 8) | 3) >>> 0);
  assert.equal(key[W_NSH_SPI], ((0xabcdef << 8) | 254) >>> 0);
  assert.equal(key[W_NSH_C1 + 3], 0xffffffff);
});

test("IPv6 text matches inet_ntop, including its dotted-IPv4 cases", () => {
  const cases = ["::", "::1", "fe80::1", "2001:db8::2:1", "2001:db8:0:1:1:1:1:1", "::ffff:1.2.3.4", "::0.129.0.1", "1::", "1:0:0:2::3"];
  for (const s of cases) assert.equal(ipv6ToString(parseIpv6Addr(s)!), s);
  assert.equal(ipv6ToString(parseIpv6Addr("2001:0db8:0000:0000:0000:0000:0000:0001")!), "2001:db8::1");
  assert.equal(parseIpv6Addr("1::2::3"), null);
  assert.equal(parseIpv6Addr("12345::"), null);
  void parseArp;
});
