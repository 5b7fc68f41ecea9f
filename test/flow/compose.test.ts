/**
 * Unit tests of flow composition (src/flow/compose.ts) and the OpenFlow
 * exact-flow parser that feeds it (src/openflow/ofp-exact-flow.ts):
 * fixtures recorded from OVS 3.1's netdev-dummy/receive, extraction of a
 * composed packet giving back its flow (a property over random flows),
 * packet_expand's lengths and checksums, and OpenFlow text composing the
 * same packet as the equivalent datapath text. compose-ovs.test.ts checks
 * many more flows against a running OVS.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  composePacket,
  composePacketLayers,
  composePacketOfLength,
  expandPacket,
  limitVlans,
  packetFromFlowText,
  packetFromHex,
  parseDummyReceiveArgs,
  parseLenArg,
  parseOdpFlowText,
} from "../../src/flow/compose.js";
import {
  extractFlowKey,
  FLOW_HOT_U32S,
  newFlowKey,
  O_ARP_SHA,
  O_ARP_THA,
  O_IPV6_DST,
  O_IPV6_SRC,
  O_ND_TARGET,
  W_DL_TYPE,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_IPV6_LABEL,
  W_MPLS_LSE0,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_TCP_FLAGS,
  W_TP_SRC,
  W_VLAN0,
  W_VLAN1,
} from "../../src/flow/index.js";
import { setKeyByte } from "../../src/flow/key-ops.js";
import { DpPacket } from "../../src/packet/index.js";
import { internetChecksum } from "../../src/packet/checksum.js";
import { ofpExactFlowParser, parseOfpExactFlow } from "../../src/openflow/ofp-exact-flow.js";
import { OF_EQUIV } from "./compose-cases.js";

const hex = (b: Uint8Array): string => Buffer.from(b).toString("hex");
const E = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
const UDP4 = `${E},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)`;

function flowOf(text: string): Uint32Array {
  const r = parseOdpFlowText(text);
  if ("error" in r) throw new Error(r.error);
  return r.flow;
}

function extract(bytes: Uint8Array): Uint32Array {
  const pkt = new DpPacket();
  pkt.setData(bytes);
  const key = newFlowKey();
  extractFlowKey(pkt, key);
  return key;
}

test("UDP with the default 64-byte payload: OVS 3.1's bytes", () => {
  // Recorded from `ovs-appctl netdev-dummy/receive p1 UDP4` (rxq_pcap).
  const payload = Array.from({ length: 64 }, (_, i) => i.toString(16).padStart(2, "0")).join("");
  const want = "505400000002505400000001080045" + "00005c000000004011668f0a0000010a000002" + "0001000200480755" + payload;
  const r = packetFromFlowText(UDP4);
  assert.ok("packet" in r);
  assert.equal(hex(r.packet), want);
  assert.equal(r.kind, "odp");
});

test("keys that leave out L3/L4 give zero headers, as OVS accepts them", () => {
  assert.equal(hex(composePacket(flowOf(`${E},eth_type(0x0800)`))), "505400000002505400000001080045000014000000000000baeb0000000000000000");
  assert.equal(hex(composePacket(flowOf(""))), "000000000000000000000000000e");
});

test("an 802.3 frame (no eth_type) carries its length; --len pads and rewrites it", () => {
  const f = flowOf(E);
  assert.equal(hex(composePacket(f)), "505400000002505400000001000e");
  const p = composePacketOfLength(f, 64)!;
  assert.equal(p.length, 64);
  assert.equal((p[12]! << 8) | p[13]!, 64);
});

test("--len: IPv4 total length, header checksum, UDP length counting the padding twice (as OVS)", () => {
  const f = flowOf(UDP4);
  const p = composePacketOfLength(f, 100)!;
  assert.equal(p.length, 100);
  assert.equal((p[16]! << 8) | p[17]!, 86);
  assert.equal(internetChecksum(p, 14, 20), 0);
  // 8-byte header + 58 bytes of padding, plus the padding again.
  assert.equal((p[38]! << 8) | p[39]!, 66 + 58);
  assert.equal(composePacketOfLength(f, 41), null, "headers alone are 42 bytes");
  assert.equal(hex(composePacketOfLength(f, 42)!), hex(composePacket(f, { l7Len: 0 })));
  const r = packetFromFlowText(UDP4, null, { len: 59 });
  assert.deepEqual(r, { error: "too small packet len" });
  // The --len word is read as strtol does.
  assert.deepEqual([parseLenArg("100"), parseLenArg(" 70x"), parseLenArg("abc"), parseLenArg("-5")], [100, 70, 0, -5]);
});

test("expandPacket keeps layer offsets and leaves a shorter size alone", () => {
  const f = flowOf(`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=9,frag=no),tcp(src=1,dst=2))`);
  const c = composePacketLayers(f, { l7Len: 0 });
  assert.equal(c.l3, 18);
  assert.equal(c.l4, 38);
  assert.equal(expandPacket(c, f, 10), c);
  const e = expandPacket(c, f, 120);
  assert.equal(e.bytes.length, 120);
  assert.equal(e.l4, 38);
});

test("payload choices: --l7 bytes, --l7-len, none for SYN/FIN/RST and non-echo ICMP", () => {
  const f = flowOf(UDP4);
  assert.equal(composePacket(f, { l7Len: 0 }).length, 42);
  assert.equal(hex(composePacket(f, { l7: Uint8Array.of(0xde, 0xad) }).subarray(42)), "dead");
  assert.equal(composePacket(f, { l7Len: 300 })[42 + 257], 1);
  const syn = flowOf(`${E},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=6,tos=0,ttl=9,frag=no),tcp(src=1,dst=2),tcp_flags(syn)`);
  assert.equal(composePacket(syn).length, 54);
  const unreach = flowOf(`${E},eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=1,tos=0,ttl=9,frag=no),icmp(type=3,code=1)`);
  assert.equal(composePacket(unreach).length, 42);
});

/** Random flows whose every field a packet can carry, built through datapath text. */
const flowText = fc
  .record({
    proto: fc.constantFrom("udp", "tcp", "sctp", "icmp", "igmp", "arp", "udp6", "tcp6", "icmp6", "nd", "mpls", "other"),
    vlan: fc.constantFrom(0, 1),
    a: fc.integer({ min: 0, max: 0xffff }),
    b: fc.integer({ min: 0, max: 0xffff }),
    c: fc.integer({ min: 0, max: 255 }),
    ttl: fc.integer({ min: 0, max: 255 }),
    flags: fc.integer({ min: 0, max: 0xfff }),
    frag: fc.constantFrom("no", "first", "later"),
  })
  .map((r) => {
    const ip4 = (proto: number) =>
      `eth_type(0x0800),ipv4(src=10.${r.c}.0.1,dst=10.0.${r.c}.2,proto=${proto},tos=${r.c},ttl=${r.ttl},frag=${r.frag})`;
    const ip6 = (proto: number) =>
      `eth_type(0x86dd),ipv6(src=2001:db8::${r.a.toString(16)},dst=fe80::${r.b.toString(16)},label=${r.a},proto=${proto},tclass=${r.c},hlimit=${r.ttl},frag=no)`;
    const l4 = (name: string) => (r.frag === "later" ? "" : `,${name}(src=${r.a},dst=${r.b})`);
    let inner: string;
    switch (r.proto) {
      case "udp": inner = ip4(17) + l4("udp"); break;
      case "tcp": inner = ip4(6) + l4("tcp") + (r.frag === "later" ? "" : `,tcp_flags(0x${r.flags.toString(16)})`); break;
      case "sctp": inner = ip4(132) + l4("sctp"); break;
      case "icmp": inner = ip4(1) + (r.frag === "later" ? "" : `,icmp(type=${r.c},code=${r.ttl})`); break;
      case "igmp": inner = ip4(2); break;
      case "arp": inner = `eth_type(0x0806),arp(sip=1.2.3.${r.c},tip=4.3.2.1,op=${1 + (r.a & 1)},sha=00:11:22:33:44:55,tha=66:77:88:99:aa:bb)`; break;
      case "udp6": inner = `${ip6(17)},udp(src=${r.a},dst=${r.b})`; break;
      case "tcp6": inner = `${ip6(6)},tcp(src=${r.a},dst=${r.b}),tcp_flags(0x${r.flags.toString(16)})`; break;
      case "icmp6": inner = `${ip6(58)},icmpv6(type=${r.c},code=${r.ttl})`; break;
      case "nd":
        inner = `${ip6(58)},icmpv6(type=${135 + (r.a & 1)},code=0),nd(target=fe80::${r.b.toString(16)}` +
          `${r.c & 1 ? ",sll=02:00:00:00:00:01" : ""}${r.c & 2 ? ",tll=02:00:00:00:00:02" : ""})`;
        break;
      case "mpls": inner = `eth_type(0x8847),mpls(label=${r.a},tc=${r.c & 7},ttl=${r.ttl},bos=1)`; break;
      default: inner = "eth_type(0x88cc)"; break;
    }
    const l2 = `${E}`;
    return r.vlan ? `${l2},eth_type(0x8100),vlan(vid=${r.a & 0xfff},pcp=${r.c & 7}),encap(${inner})` : `${l2},${inner}`;
  });

test("extracting a composed packet gives back the flow (all header fields)", () => {
  fc.assert(
    fc.property(flowText, (text) => {
      const flow = flowOf(text);
      const key = extract(composePacket(flow));
      // Datapath metadata is not in packet bytes; compare the header words.
      key[W_IN_PORT] = flow[W_IN_PORT]!;
      const want = flow.slice(0, FLOW_HOT_U32S);
      const got = key.slice(0, FLOW_HOT_U32S);
      const proto = (flow[W_NW_PROTO]! >>> 24) & 0xff;
      const isV6 = flow[W_DL_TYPE]! >>> 16 === 0x86dd;
      // Packet bytes cannot carry: IPv6 fragments (no extension header is
      // composed), and the ND reserved word / option type that the key has
      // only when the text gave nd_ext.
      if (isV6) {
        want[W_NW_PROTO] = want[W_NW_PROTO]! & ~0xff;
        if (proto === 58) {
          got[42] = 0;
          got[43] = 0;
        }
      }
      // IGMP's group is not in a datapath key; ICMP type/code above 255 do not fit.
      got[W_IGMP_GROUP] = want[W_IGMP_GROUP]!;
      assert.deepEqual(Array.from(got), Array.from(want), text);
    }),
    { numRuns: 400 },
  );
});

test("NSH and other ethertypes are the Ethernet header only; QinQ honours vlan-limit", () => {
  assert.equal(composePacket(flowOf(`${E},eth_type(0x894f)`)).length, 14);
  const qinq = `${E},eth_type(0x88a8),vlan(vid=100,pcp=1),encap(eth_type(0x8100),vlan(vid=200,pcp=2),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=7,dst=8)))`;
  const one = packetFromFlowText(qinq);
  assert.ok("packet" in one);
  assert.equal(hex(one.packet), "50540000000250540000000188a820648100");
  const two = packetFromFlowText(qinq, null, { vlanLimit: 2 });
  assert.ok("packet" in two);
  const key = extract(two.packet);
  assert.equal(key[W_VLAN0], (0x88a8 << 16 | 0x3064) >>> 0);
  assert.equal(key[W_VLAN1], (0x8100 << 16 | 0x50c8) >>> 0);
  assert.equal(key[W_TP_SRC], (7 << 16) | 8);
  const f = flowOf(qinq);
  limitVlans(f, 1);
  assert.equal(f[W_VLAN1], 0);
  assert.equal(f[W_DL_TYPE]! >>> 16, 0x8100);
  assert.equal(f[W_NW_SRC], 0);
});

test("MPLS: labels through the first bottom-of-stack, at most three", () => {
  const f = flowOf(`${E},eth_type(0x8847),mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=0,ttl=2,bos=1)`);
  const p = composePacket(f);
  assert.equal(p.length, 14 + 8);
  const key = extract(p);
  assert.equal(key[W_MPLS_LSE0], f[W_MPLS_LSE0]);
  assert.equal(key[W_MPLS_LSE0 + 1], f[W_MPLS_LSE0 + 1]);
});

test("datapath text errors are OVS's", () => {
  assert.deepEqual(packetFromFlowText(`${UDP4},foo`), { error: "syntax error at foo" });
  assert.deepEqual(packetFromFlowText(`${E},eth_type(0x0800),ipv4(src=10.0.0.1,frag=foo)`), { error: "syntax error at ipv4(src=10.0.0.1,frag=foo)" });
  assert.deepEqual(packetFromFlowText(`${E},eth_type(0x1)`), { error: "invalid Ethertype 1 in flow key; the flow key in error is: in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02),eth_type(0x0001)" });
  // Without an OpenFlow parser, OpenFlow text is a datapath syntax error (netdev-dummy/receive).
  assert.deepEqual(packetFromFlowText("in_port=1,udp"), { error: "syntax error at in_port=1,udp" });
  // Port names resolve when given.
  const r = packetFromFlowText(UDP4.replace("in_port(1)", "in_port(p1)"), new Map([["p1", 1]]));
  assert.ok("packet" in r);
});

test("OpenFlow flow text composes the same packet as its datapath equivalent", () => {
  const openflow = ofpExactFlowParser(new Map([["p1", 1]]));
  for (const [of, dp] of OF_EQUIV) {
    const a = packetFromFlowText(of, null, { openflow });
    const b = packetFromFlowText(dp);
    assert.ok("packet" in a, `${of}: ${"error" in a ? a.error : ""}`);
    assert.ok("packet" in b, dp);
    assert.equal(a.kind, "openflow");
    assert.equal(hex(a.packet), hex(b.packet), of);
  }
});

test("parseOfpExactFlow: in_port defaults to OFPP_NONE, VLAN gets TPID 0x8100, OVS errors", () => {
  const r = parseOfpExactFlow("ip,nw_src=1.2.3.4");
  assert.ok("flow" in r);
  assert.equal(r.flow[W_IN_PORT], 0xffff);
  assert.equal(r.flow[W_NW_SRC], 0x01020304);
  const v = parseOfpExactFlow("in_port=3,vlan_tci=0x1005");
  assert.ok("flow" in v);
  assert.equal(v.flow[W_VLAN0], (0x8100 << 16 | 0x1005) >>> 0);
  assert.deepEqual(parseOfpExactFlow("in_port=1,nw_src=1.2.3.4"), { error: "in_port=1,nw_src=1.2.3.4: prerequisites not met for setting nw_src" });
  assert.deepEqual(parseOfpExactFlow("ip,nw_dst=1.2.3.0/24"), { error: "ip,nw_dst=1.2.3.0/24: bad value for nw_dst (1.2.3.0/24: wildcards not allowed here)" });
  assert.deepEqual(parseOfpExactFlow("udp,udp"), { error: "udp,udp: Ethernet type set multiple times" });
  assert.deepEqual(parseOfpExactFlow("in_port=1,bogus=2"), { error: "in_port=1,bogus=2: unknown field bogus" });
  const t = packetFromFlowText("in_port=1,bogus=2", null, { openflow: ofpExactFlowParser() });
  assert.deepEqual(t, { error: "Bad openflow flow syntax: in_port=1,bogus=2: unknown field bogus" });
});

test("composed ND, IGMP and IPv6 fields land where extraction reads them", () => {
  const f = flowOf(`${E},eth_type(0x86dd),ipv6(src=2001:db8::1,dst=ff02::1,label=0xabcde,proto=58,tclass=0x20,hlimit=255,frag=no),icmpv6(type=136,code=0),nd(target=2001:db8::7,tll=02:00:00:00:00:09)`);
  const key = extract(composePacket(f));
  for (const off of [O_IPV6_SRC, O_IPV6_DST, O_ND_TARGET]) assert.equal(key[off >> 2], f[off >> 2]);
  assert.equal(key[W_IPV6_LABEL], 0xabcde);
  assert.equal(key[O_ARP_THA >> 2], f[O_ARP_THA >> 2]);
  assert.equal(key[O_ARP_SHA >> 2], 0);
  // IGMP: the group from the flow (set directly: a datapath key has no IGMP attribute).
  const g = flowOf(`${E},eth_type(0x0800),ipv4(src=10.0.0.1,dst=224.0.0.1,proto=2,tos=0,ttl=1,frag=no)`);
  g[W_TP_SRC] = (0x16 << 16) | 0;
  g[W_IGMP_GROUP] = 0xe0000016;
  const ik = extract(composePacket(g));
  assert.equal(ik[W_IGMP_GROUP], 0xe0000016);
  assert.equal(ik[W_TP_SRC], 0x16 << 16);
  const p = composePacket(g);
  assert.equal(internetChecksum(p, 34, 8), 0, "IGMP checksum");
  assert.equal(ik[W_TCP_FLAGS], 0);
  setKeyByte(g, 0, 0); // keys are not mutated by composing
});

test("packets in hex, as eth_from_hex reads them", () => {
  assert.deepEqual(packetFromHex("5054 0000 0002 5054 0000 0001 88cc 01"), { packet: Uint8Array.from([0x50, 0x54, 0, 0, 0, 2, 0x50, 0x54, 0, 0, 0, 1, 0x88, 0xcc, 1]) });
  assert.deepEqual(packetFromHex("505400000002505400000001"), { error: "Packet data too short for Ethernet" });
  assert.deepEqual(packetFromHex("5054000000025054000000010800a"), { error: "Trailing garbage in packet data" });
  assert.deepEqual(packetFromHex(UDP4), { error: "Trailing garbage in packet data" });
  assert.deepEqual(packetFromHex(""), { error: "Packet data too short for Ethernet" });
});

test("netdev-dummy/receive arguments: --qid, hex, flows, --len after its flow, errors", () => {
  const r = parseDummyReceiveArgs(["--qid", "1", "50540000000250540000000188cc", UDP4, "--len", "100", UDP4], 2);
  assert.equal(r.error, null);
  assert.equal(r.qid, 1);
  assert.deepEqual(r.frames.map((f) => f.length), [14, 100, 106]);
  assert.deepEqual(parseDummyReceiveArgs(["--qid", "2", UDP4], 2), { qid: 0, frames: [], error: "bad rx queue id." });
  const bad = parseDummyReceiveArgs([UDP4, `${UDP4},foo`, UDP4]);
  assert.equal(bad.frames.length, 1, "frames before the bad one are still queued");
  assert.equal(bad.error, "syntax error at foo");
  assert.equal(parseDummyReceiveArgs([UDP4, "--len", "abc"]).error, "too small packet len");
  assert.equal(parseDummyReceiveArgs([UDP4, "--len"]).error, "too small packet len");
  assert.deepEqual(parseDummyReceiveArgs([""]).frames.map((f) => f.length), [14]);
});
