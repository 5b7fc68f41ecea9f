/**
 * Checksum-preserving rewrites: after each rewrite the incrementally
 * updated checksums equal a full recomputation.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  DpPacket,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  Ipv4View,
  get16,
  get32,
  recomputeL4Checksum,
  setIcmpTypeCode,
  setIpv4Addr,
  setIpv4TosTtl,
  setIpv6Addr,
  setIpv6Fields,
  setL4Ports,
} from "../../src/packet/index.js";
import { eth, icmp, ip6, ipv4, ipv6, payloadBytes, sctp, tcp, udp, ETH_TYPE_IP, ETH_TYPE_IPV6 } from "../util/packets.js";

function pkt4(proto: number, l4: Uint8Array): DpPacket {
  const p = new DpPacket(512);
  p.setData(eth({}, ETH_TYPE_IP, ipv4({ proto }, l4)));
  p.l3Ofs = 14;
  p.l4Ofs = 34;
  return p;
}

function pkt6(proto: number, l4: Uint8Array): DpPacket {
  const p = new DpPacket(512);
  p.setData(eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: proto }, l4)));
  p.l3Ofs = 14;
  p.l4Ofs = 54;
  return p;
}

/** The L4 checksum word, then the value a full recomputation gives. */
function l4CsumPair(p: DpPacket, proto: number, v6: boolean): [number, number] {
  const off = p.start + p.l4Ofs + (proto === IPPROTO_TCP ? 16 : proto === IPPROTO_UDP ? 6 : proto === IPPROTO_SCTP ? 8 : 2);
  const before = proto === IPPROTO_SCTP ? get32(p.buf, off) : get16(p.buf, off);
  const copy = new DpPacket(512);
  copy.copyFrom(p);
  recomputeL4Checksum(copy, proto, v6);
  const after = proto === IPPROTO_SCTP ? get32(copy.buf, off) : get16(copy.buf, off);
  return [before, after];
}

test("IPv4 address/tos/ttl and port rewrites keep IP and L4 checksums exact (property)", () => {
  fc.assert(
    fc.property(
      fc.constantFrom(IPPROTO_TCP, IPPROTO_UDP, IPPROTO_SCTP),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffffffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 0xffff }),
      fc.integer({ min: 0, max: 255 }),
      (proto, s, d, sp, dp, ttl) => {
        const l4 = proto === IPPROTO_TCP ? tcp({}, payloadBytes(11)) : proto === IPPROTO_UDP ? udp(1, 2, payloadBytes(11)) : sctp(1, 2, payloadBytes(12));
        const p = pkt4(proto, l4);
        if (proto === IPPROTO_SCTP) recomputeL4Checksum(p, proto, false);
        assert.ok(setIpv4Addr(p, 0, s));
        assert.ok(setIpv4Addr(p, 1, d));
        assert.ok(setIpv4TosTtl(p, ttl ^ 0x5a, ttl));
        assert.ok(setL4Ports(p, proto, sp, dp));
        const ip = Ipv4View.check(p.buf, p.start + 14, p.len - 14)!;
        assert.ok(ip.checksumValid());
        assert.equal(ip.src(), s >>> 0);
        assert.equal(ip.ttl(), ttl);
        const [inc, full] = l4CsumPair(p, proto, false);
        assert.ok(inc === full || (inc ^ full) === 0xffff, `${proto}: ${inc.toString(16)} vs ${full.toString(16)}`);
      },
    ),
    { numRuns: 200 },
  );
});

test("IPv6 address rewrites keep TCP/UDP/ICMPv6 checksums exact", () => {
  for (const proto of [IPPROTO_TCP, IPPROTO_UDP, IPPROTO_ICMPV6]) {
    const l4 = proto === IPPROTO_TCP ? tcp({}) : proto === IPPROTO_UDP ? udp(5, 6, payloadBytes(9)) : icmp(128, 0, 7, payloadBytes(9));
    const p = pkt6(proto, l4);
    assert.ok(setIpv6Addr(p, 0, ip6("fe80::dead:beef"), 0, proto));
    assert.ok(setIpv6Addr(p, 1, ip6("2001:db8:1:2:3:4:5:6"), 0, proto));
    assert.ok(setIpv6Fields(p, 0xfe, 0x54321, 1));
    const [inc, full] = l4CsumPair(p, proto, true);
    assert.equal(inc, full, `proto ${proto}`);
    assert.equal(p.buf[p.start + 14 + 7], 1);
  }
});

test("ICMP type/code rewrites keep the checksum; absent headers are refused", () => {
  const p = pkt4(IPPROTO_ICMP, icmp(8, 0, 0x01020304, payloadBytes(20)));
  assert.ok(setIcmpTypeCode(p, 0, 0));
  const [inc, full] = l4CsumPair(p, IPPROTO_ICMP, false);
  assert.equal(inc, full);
  const none = new DpPacket(128);
  none.setData(new Uint8Array(10));
  assert.equal(setIpv4Addr(none, 0, 1), false);
  assert.equal(setL4Ports(none, IPPROTO_TCP, 1, 2), false);
  assert.equal(setIcmpTypeCode(none, 1, 1), false);
});

test("a zero UDP checksum (none) over IPv4 stays zero", () => {
  const p = pkt4(IPPROTO_UDP, udp(1, 2, payloadBytes(4)));
  p.buf[p.start + 34 + 6] = 0;
  p.buf[p.start + 34 + 7] = 0;
  setIpv4Addr(p, 0, 0x01020304);
  setL4Ports(p, IPPROTO_UDP, 9, 9);
  assert.equal(get16(p.buf, p.start + 34 + 6), 0);
});
