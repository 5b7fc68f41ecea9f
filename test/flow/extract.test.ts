/**
 * Unit tests of extraction for what the OVS text comparison cannot show:
 * exact key words, cached offsets, fields parse-pcap does not print
 * (nd_reserved, nd_options_type, igmp_group_ip4), metadata and tunnel
 * copying, layer-3 packet types, and key reuse.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import {
  extractFlowKey,
  flowField,
  FLOW_U32S,
  getField,
  getFieldBytes,
  keyEquals,
  newFlowKey,
  REGION_TUN_START,
  W_CT_LABEL,
  W_CT_NW_SRC,
  W_CT_STATE,
  W_DL_TYPE,
  W_ETH_DST,
  W_IGMP_GROUP,
  W_IN_PORT,
  W_NSH_FLAGS,
  W_ND_OPTIONS_TYPE,
  W_ND_RESERVED,
  W_NW_DST,
  W_NW_PROTO,
  W_NW_SRC,
  W_PACKET_TYPE,
  W_RECIRC_ID,
  W_TCP_FLAGS,
  W_TP_SRC,
  W_TUN_DST,
  W_TUN_GENEVE,
  W_TUN_GENEVE_LEN,
  W_TUN_ID,
  W_VLAN0,
  W_VLAN1,
  extractStats,
  extractFlowKeyTracked,
  KEY_COLD_ALL,
  KEY_COLD_CTX,
  KEY_COLD_GENEVE,
  KEY_COLD_TUN,
  KEY_HOT_IP4,
} from "../../src/flow/index.js";
import { DpPacket, IPPROTO_ICMPV6, IPPROTO_IGMP, IPPROTO_TCP, ND_NEIGHBOR_ADVERT, ndLinkAddrOption } from "../../src/packet/index.js";
import { arp, eth, igmp, ip4, ip6, ipv4, ipv6, mac, nd, tcp, udp, vlan, ETH_TYPE_ARP, ETH_TYPE_IP, ETH_TYPE_IPV6 } from "../util/packets.js";
import { validFrames } from "./corpus.js";

function extract(bytes: Uint8Array, setup?: (p: DpPacket) => void): { key: Uint32Array; pkt: DpPacket } {
  const pkt = new DpPacket();
  pkt.setData(bytes);
  setup?.(pkt);
  const key = newFlowKey();
  extractFlowKey(pkt, key);
  return { key, pkt };
}

test("IPv4/TCP: every word where the layout says, offsets cached", () => {
  const { key, pkt } = extract(eth({ dst: "01:02:03:04:05:06", src: "0a:0b:0c:0d:0e:0f" }, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP, tos: 0xb9, ttl: 33 }, tcp({ srcPort: 40000, dstPort: 443, flags: 0x012 }))), (p) => {
    p.inPort = 7;
    p.recircId = 3;
  });
  assert.equal(key[W_IN_PORT], 7);
  assert.equal(key[W_RECIRC_ID], 3);
  assert.equal(key[W_ETH_DST], 0x01020304);
  assert.equal(key[W_ETH_DST + 1], 0x05060a0b);
  assert.equal(key[W_ETH_DST + 2], 0x0c0d0e0f);
  assert.equal(key[W_DL_TYPE]! >>> 16, 0x0800);
  assert.equal(key[W_NW_SRC], ip4("10.0.0.1"));
  assert.equal(key[W_NW_DST], ip4("10.0.0.2"));
  assert.equal(key[W_NW_PROTO], ((6 << 24) | (0xb9 << 16) | (33 << 8)) >>> 0);
  assert.equal(key[W_TP_SRC], ((40000 << 16) | 443) >>> 0);
  assert.equal(key[W_TCP_FLAGS], 0x012);
  assert.equal(getField(key, flowField("tp_dst")!), 443);
  assert.deepEqual([...getFieldBytes(key, flowField("dl_src")!)], [10, 11, 12, 13, 14, 15]);
  assert.equal(pkt.l3Ofs, 14);
  assert.equal(pkt.l4Ofs, 34);
  assert.equal(pkt.l2_5Ofs, -1);
  assert.equal(pkt.l2PadSize, 0);
});

test("QinQ tags keep their TPIDs and the CFI 'present' bit", () => {
  const { key, pkt } = extract(eth({ vlans: [vlan(100, 5, 0x88a8), vlan(200, 1)] }, ETH_TYPE_IP, ipv4({}, udp(1, 2))));
  assert.equal(key[W_VLAN0], ((0x88a8 << 16) | (5 << 13) | 0x1000 | 100) >>> 0);
  assert.equal(key[W_VLAN1], ((0x8100 << 16) | (1 << 13) | 0x1000 | 200) >>> 0);
  assert.equal(pkt.l3Ofs, 22);
});

test("ND: reserved flags, target, TLL and the first option type", () => {
  const na = nd({ type: ND_NEIGHBOR_ADVERT, reserved: 0x60000000, target: ip6("fe80::1234"), options: [ndLinkAddrOption(true, mac("0a:0b:0c:0d:0e:0f"))] });
  const { key } = extract(eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, na)));
  assert.equal(key[W_ND_RESERVED], 0x60000000);
  assert.equal(key[W_ND_OPTIONS_TYPE], 2);
  assert.deepEqual([...getFieldBytes(key, flowField("nd_tll")!)], [10, 11, 12, 13, 14, 15]);
  assert.deepEqual([...getFieldBytes(key, flowField("nd_sll")!)], [0, 0, 0, 0, 0, 0]);
  assert.deepEqual([...getFieldBytes(key, flowField("nd_target")!)], [...ip6("fe80::1234")]);
  assert.equal(key[W_TP_SRC], (136 << 16) >>> 0);
});

test("IGMP group and ARP fields", () => {
  const g = extract(eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_IGMP }, igmp(0x16, 0, ip4("239.1.2.3"))))).key;
  assert.equal(g[W_IGMP_GROUP], ip4("239.1.2.3"));
  assert.equal(g[W_TP_SRC], (0x16 << 16) >>> 0);
  const a = extract(eth({}, ETH_TYPE_ARP, arp({ op: 2, sha: mac("00:00:00:00:00:01"), tha: mac("00:00:00:00:00:02"), spa: ip4("1.2.3.4"), tpa: ip4("5.6.7.8") }))).key;
  assert.equal(a[W_NW_PROTO]! >>> 24, 2);
  assert.equal(a[W_NW_SRC], ip4("1.2.3.4"));
  assert.equal(a[W_NW_DST], ip4("5.6.7.8"));
  assert.deepEqual([...getFieldBytes(a, flowField("arp_sha")!)], [0, 0, 0, 0, 0, 1]);
  assert.deepEqual([...getFieldBytes(a, flowField("arp_tha")!)], [0, 0, 0, 0, 0, 2]);
});

test("Ethernet padding after tot_len is not parsed and is recorded", () => {
  const f = eth({}, ETH_TYPE_IP, ipv4({}, udp(1, 2)));
  const padded = new Uint8Array(f.length + 18);
  padded.set(f);
  const { pkt } = extract(padded);
  assert.equal(pkt.l2PadSize, 18);
});

test("frames shorter than 14 bytes set only metadata and never throw", () => {
  const before = extractStats.truncatedL2;
  for (let n = 0; n < 14; n++) {
    const { key, pkt } = extract(new Uint8Array(n).fill(0xff), (p) => (p.inPort = 9));
    assert.equal(key[W_IN_PORT], 9);
    assert.equal(key[W_DL_TYPE], 0);
    assert.equal(key[W_ETH_DST], 0);
    assert.equal(pkt.l3Ofs, -1);
  }
  assert.equal(extractStats.truncatedL2 - before, 14);
});

test("tunnel, conntrack and Geneve metadata are copied; a layer-3 packet takes dl_type from packet_type", () => {
  const { key } = extract(ipv4({}, udp(1, 2)), (p) => {
    p.packetType = (1 << 16) | 0x0800;
    p.tun[W_TUN_ID - REGION_TUN_START + 1] = 0x1234;
    p.tun[W_TUN_DST - REGION_TUN_START] = ip4("192.168.0.9");
    p.tun[W_TUN_GENEVE_LEN - REGION_TUN_START] = 8;
    p.tunGeneve[0] = 0x01020304;
    p.ctState = 0x21;
    p.ctZone = 5;
    p.ctNwSrc = ip4("10.9.9.9");
    p.ctNwProto = 17;
    p.ctLabel[3] = 1;
  });
  assert.equal(key[W_PACKET_TYPE], 0x10800);
  assert.equal(key[W_DL_TYPE]! >>> 16, 0x0800);
  assert.equal(key[W_NW_SRC], ip4("10.0.0.1"));
  assert.equal(key[W_TUN_ID + 1], 0x1234);
  assert.equal(key[W_TUN_DST], ip4("192.168.0.9"));
  assert.equal(key[W_TUN_GENEVE], 0x01020304);
  assert.equal(key[W_CT_STATE], ((5 << 16) | (17 << 8) | 0x21) >>> 0);
  assert.equal(key[W_CT_NW_SRC], ip4("10.9.9.9"));
  assert.equal(key[W_CT_LABEL + 3], 1);
});

test("the conntrack tuple is used only for its own IP version", () => {
  const v6 = extract(eth({}, ETH_TYPE_IPV6, ipv6({}, udp(1, 2))), (p) => {
    p.ctState = 0x21;
    p.ctNwProto = 17;
    p.ctNwSrc = 5;
  }).key;
  assert.equal(v6[W_CT_NW_SRC], 0);
  assert.equal(v6[W_CT_STATE], 0x21);
});

test("a reused key comes out identical to a fresh one, whatever it held before", () => {
  const frames = validFrames();
  const reused = newFlowKey();
  const noisy = new DpPacket();
  const nsh = validFrames().find((f) => f.name === "nsh-md1")!;
  for (const f of frames) {
    // Dirty the key with a tunnelled, tracked NSH packet first.
    noisy.reset();
    noisy.setData(nsh.bytes);
    noisy.tun[W_TUN_DST - REGION_TUN_START] = 1;
    noisy.tun[W_TUN_GENEVE_LEN - REGION_TUN_START] = 4;
    noisy.tunGeneve[0] = 0xffffffff;
    noisy.ctState = 1;
    noisy.ctIpv6Src[0] = 5;
    noisy.ctLabel[0] = 9;
    extractFlowKey(noisy, reused);
    assert.notEqual(reused[W_NSH_FLAGS], 0);
    const pkt = new DpPacket();
    pkt.setData(f.bytes);
    extractFlowKey(pkt, reused);
    const fresh = newFlowKey();
    extractFlowKey(pkt, fresh);
    assert.ok(keyEquals(reused, fresh, FLOW_U32S), f.name);
  }
});

test("tracked extraction (the datapath's) equals extractFlowKey, with cold regions dirtied in between", () => {
  const frames = validFrames();
  const key = newFlowKey();
  // Start with garbage everywhere, OpenFlow-only words included.
  key.fill(0xdeadbeef);
  let dirty = KEY_COLD_ALL;
  const nsh = frames.find((f) => f.name === "nsh-md1")!;
  for (let round = 0; round < 3; round++) {
    for (const f of frames) {
      for (const variant of ["plain", "tunnel", "ct6", "label"] as const) {
        const pkt = new DpPacket();
        pkt.setData(variant === "plain" ? f.bytes : nsh.bytes);
        if (variant === "tunnel") {
          pkt.tun[W_TUN_DST - REGION_TUN_START] = 7;
          pkt.tun[W_TUN_GENEVE_LEN - REGION_TUN_START] = 8;
          pkt.tunGeneve[1] = 0x55;
        } else if (variant === "ct6") {
          pkt.setData(eth({}, ETH_TYPE_IPV6, ipv6({}, udp(1, 2))));
          pkt.ctState = 0x21;
          pkt.ctNwProto = 17;
          pkt.ctOrigTupleIpv6 = true;
          pkt.ctIpv6Dst[2] = 9;
        } else if (variant === "label") {
          pkt.ctLabel[1] = 3;
        }
        dirty = extractFlowKeyTracked(pkt, key, dirty);
        const fresh = newFlowKey();
        extractFlowKey(pkt, fresh);
        assert.ok(keyEquals(key, fresh, FLOW_U32S), `${f.name} ${variant} round ${round}`);
        assert.equal((dirty & KEY_COLD_TUN) !== 0, variant === "tunnel");
        assert.equal((dirty & KEY_COLD_GENEVE) !== 0, variant === "tunnel");
        assert.equal((dirty & KEY_COLD_CTX) !== 0, variant === "ct6" || variant === "label");
      }
    }
  }
});

test("tracked extraction: every ordered pair of frames gives the fresh key (the IPv4 fast clear included)", () => {
  const frames = validFrames();
  const extra = [eth({}, ETH_TYPE_IP, ipv4({}, udp(7, 8))), eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({ srcPort: 1, dstPort: 2 })))];
  const all = frames.map((f) => f.bytes).concat(extra);
  const key = newFlowKey();
  let sawFast = 0;
  for (const a of all) {
    for (const b of all) {
      let dirty = KEY_COLD_ALL;
      const pa = new DpPacket();
      pa.setData(a);
      dirty = extractFlowKeyTracked(pa, key, dirty);
      if ((dirty & KEY_HOT_IP4) !== 0) sawFast++;
      const pb = new DpPacket();
      pb.setData(b);
      extractFlowKeyTracked(pb, key, dirty);
      const fresh = newFlowKey();
      extractFlowKey(pb, fresh);
      assert.ok(keyEquals(key, fresh, FLOW_U32S));
    }
  }
  assert.ok(sawFast >= 2 * all.length, `IPv4 fast clears exercised: ${sawFast}`);
});
