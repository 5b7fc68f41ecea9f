/**
 * A corpus of frames covering every header combination extraction handles
 * (and odd ones), shared by the differential test against OVS, the fuzz
 * test and the benchmark.
 */
import {
  ETH_TYPE_IP,
  ETH_TYPE_IPV6,
  ETH_TYPE_ARP,
  ETH_TYPE_MPLS,
  ETH_TYPE_RARP,
  ETH_TYPE_VLAN_8021AD,
  ETH_TYPE_VLAN_8021Q,
  IPPROTO_AH,
  IPPROTO_DSTOPTS,
  IPPROTO_FRAGMENT,
  IPPROTO_GRE,
  IPPROTO_HOPOPTS,
  IPPROTO_ICMP,
  IPPROTO_ICMPV6,
  IPPROTO_IGMP,
  IPPROTO_ROUTING,
  IPPROTO_SCTP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  ND_NEIGHBOR_ADVERT,
  ND_NEIGHBOR_SOLICIT,
  emitGeneve,
  emitGre,
  emitVxlan,
  ndLinkAddrOption,
  set16,
} from "../../src/packet/index.js";
import {
  arp,
  concat,
  eth,
  icmp,
  igmp,
  ip4,
  ip6,
  ipv4,
  ipv6,
  mac,
  mpls,
  nd,
  payloadBytes,
  sctp,
  tcp,
  udp,
  vlan,
} from "../util/packets.js";

export interface CorpusFrame {
  name: string;
  bytes: Uint8Array;
}

function vxlanPayload(): Uint8Array {
  const b = new Uint8Array(8);
  emitVxlan({ vni: 0x123456, gbp: null }, b, 0);
  return concat(b, eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_UDP }, udp(1, 2, payloadBytes(8)))));
}

function genevePayload(): Uint8Array {
  const b = new Uint8Array(64);
  const n = emitGeneve({ vni: 7, oam: false, critical: false, protocol: 0x6558, options: [{ optClass: 0x0102, type: 0x80, data: payloadBytes(8) }] }, b, 0);
  return concat(b.slice(0, n), eth({}, ETH_TYPE_IP, ipv4({}, udp(3, 4))));
}

function grePayload(): Uint8Array {
  const b = new Uint8Array(16);
  const n = emitGre({ protocol: 0x0800, csum: false, key: 0x1234, seq: null }, b, 0);
  return concat(b.slice(0, n), ipv4({}, udp(5, 6)));
}

const P18 = payloadBytes(18);

/** Valid, well-formed frames of every kind. */
export function validFrames(): CorpusFrame[] {
  const f: CorpusFrame[] = [];
  const add = (name: string, bytes: Uint8Array) => f.push({ name, bytes });
  const sll = ndLinkAddrOption(false, mac("00:01:02:03:04:05"));
  const tll = ndLinkAddrOption(true, mac("0a:0b:0c:0d:0e:0f"));

  add("ipv4-udp", eth({}, ETH_TYPE_IP, ipv4({ tos: 0x2e, ttl: 17 }, udp(1234, 5678, P18))));
  add("ipv4-tcp-syn", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({ flags: 0x002 }, P18))));
  add("ipv4-tcp-allflags", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({ flags: 0xfff }))));
  add("ipv4-tcp-options", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({ flags: 0x012, options: Uint8Array.of(2, 4, 5, 0xb4, 1, 1, 1, 0) }))));
  add("ipv4-sctp", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_SCTP }, sctp(36412, 2905, P18))));
  add("ipv4-icmp-echo", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_ICMP }, icmp(8, 0, 0x00010002, P18))));
  add("ipv4-icmp-unreach", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_ICMP }, icmp(3, 3, 0, P18))));
  add("ipv4-igmp", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_IGMP, dst: ip4("224.0.0.22") }, igmp(0x16, 0, ip4("239.1.2.3")))));
  add("ipv4-gre", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_GRE }, grePayload())));
  add("ipv4-proto-253", eth({}, ETH_TYPE_IP, ipv4({ proto: 253 }, P18)));
  add("ipv4-options", eth({}, ETH_TYPE_IP, ipv4({ options: Uint8Array.of(0x94, 4, 0, 0, 1, 1, 1, 0) }, udp(7, 8, P18))));
  add("ipv4-frag-first", eth({}, ETH_TYPE_IP, ipv4({ moreFrags: true, id: 9 }, udp(7, 8, P18))));
  add("ipv4-frag-later", eth({}, ETH_TYPE_IP, ipv4({ fragOffset: 3, id: 9 }, udp(7, 8, P18), false)));
  add("ipv4-frag-last-tcp", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP, fragOffset: 100, id: 9 }, tcp({}), false)));
  add("ipv4-df", eth({}, ETH_TYPE_IP, ipv4({ dontFrag: true, proto: IPPROTO_TCP }, tcp({ flags: 0x010 }))));
  add("ipv4-vxlan", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_UDP }, udp(49152, 4789, vxlanPayload()))));
  add("ipv4-geneve", eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_UDP }, udp(49153, 6081, genevePayload()))));
  add("ipv4-padded", concat(eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_UDP }, udp(1, 2))), new Uint8Array(18)));
  add("ipv4-broadcast-macs", eth({ dst: "ff:ff:ff:ff:ff:ff", src: "02:00:00:00:00:01" }, ETH_TYPE_IP, ipv4({ src: ip4("0.0.0.0"), dst: ip4("255.255.255.255") }, udp(68, 67, P18))));

  add("vlan-ipv4-tcp", eth({ vlans: [vlan(10, 3)] }, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({ flags: 0x018 }, P18))));
  add("vlan0-prio", eth({ vlans: [vlan(0, 5)] }, ETH_TYPE_IP, ipv4({}, udp(1, 2))));
  add("vlan-dei", eth({ vlans: [{ tpid: ETH_TYPE_VLAN_8021Q, vid: 4095, pcp: 7, dei: true }] }, ETH_TYPE_IP, ipv4({}, udp(1, 2))));
  add("qinq-ipv6-udp", eth({ vlans: [vlan(100, 1, ETH_TYPE_VLAN_8021AD), vlan(200, 2)] }, ETH_TYPE_IPV6, ipv6({}, udp(53, 53, P18))));
  add("qinq-8100-8100", eth({ vlans: [vlan(1), vlan(2)] }, ETH_TYPE_ARP, arp({})));
  add("triple-vlan", eth({ vlans: [vlan(1, 0, ETH_TYPE_VLAN_8021AD), vlan(2), vlan(3)] }, ETH_TYPE_IP, ipv4({}, udp(1, 2))));
  add("vlan-mpls", eth({ vlans: [vlan(5)] }, ETH_TYPE_MPLS, mpls([{ label: 77, tc: 2, bos: true, ttl: 9 }], ipv4({}, udp(1, 2)))));

  add("arp-request", eth({ dst: "ff:ff:ff:ff:ff:ff" }, ETH_TYPE_ARP, arp({ op: 1 })));
  add("arp-reply", eth({}, ETH_TYPE_ARP, arp({ op: 2, tha: mac("66:77:88:99:aa:bb"), spa: ip4("192.168.1.1"), tpa: ip4("192.168.1.2") })));
  add("arp-op-300", eth({}, ETH_TYPE_ARP, arp({ op: 300 })));
  add("rarp", eth({}, ETH_TYPE_RARP, arp({ op: 3 })));
  {
    const a = arp({ op: 1 });
    set16(a, 0, 6);
    add("arp-bad-htype", eth({}, ETH_TYPE_ARP, a));
    const c = arp({ op: 1 });
    c[4] = 8;
    add("arp-bad-hlen", eth({}, ETH_TYPE_ARP, c));
  }
  add("arp-padded", concat(eth({}, ETH_TYPE_ARP, arp({})), new Uint8Array(18)));

  add("ipv6-udp", eth({}, ETH_TYPE_IPV6, ipv6({ trafficClass: 0xb9, flowLabel: 0xabcde, hopLimit: 3 }, udp(546, 547, P18))));
  add("ipv6-tcp", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_TCP, src: ip6("fe80::1"), dst: ip6("ff02::1:ff00:1") }, tcp({ flags: 0x011 }, P18))));
  add("ipv6-sctp", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_SCTP }, sctp(1, 2))));
  add("ipv6-icmp6-echo", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, icmp(128, 0, 0x12345678, P18))));
  add("ipv6-icmp6-ra", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, icmp(134, 0, 0, payloadBytes(8)))));
  add("ipv6-ns-sll", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6, hopLimit: 255 }, nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::abcd"), options: [sll] }))));
  add("ipv6-na-tll", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6, hopLimit: 255 }, nd({ type: ND_NEIGHBOR_ADVERT, reserved: 0x60000000, target: ip6("2001:db8::99"), options: [tll] }))));
  add("ipv6-na-tll-sll", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, nd({ type: ND_NEIGHBOR_ADVERT, reserved: 0xe0000000, target: ip6("2001:db8::99"), options: [tll, sll] }))));
  add("ipv6-ns-noopt", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("::1"), options: [] }))));
  add("ipv6-ns-dup-sll", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::5"), options: [sll, sll] }))));
  add("ipv6-ns-other-opt", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::5"), options: [{ type: 14, body: payloadBytes(6) }, sll] }))));
  add("ipv6-ns-long-sll", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::5"), options: [{ type: 1, body: payloadBytes(14) }, tll] }))));
  {
    const ns = nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::6"), options: [sll] });
    ns[1] = 1;
    add("ipv6-ns-code1", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, ns)));
    const z = nd({ type: ND_NEIGHBOR_SOLICIT, reserved: 0, target: ip6("fe80::7"), options: [sll, tll] });
    z[24 + 8 + 1] = 0;
    add("ipv6-ns-zero-optlen", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, z)));
  }
  const hbh = { type: IPPROTO_HOPOPTS, body: Uint8Array.of(5, 2, 0, 0, 1, 0) };
  add("ipv6-hbh-udp", eth({}, ETH_TYPE_IPV6, ipv6({ ext: [hbh] }, udp(9, 10, P18))));
  add("ipv6-hbh-rt-dst-tcp", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_TCP, ext: [hbh, { type: IPPROTO_ROUTING, body: payloadBytes(22) }, { type: IPPROTO_DSTOPTS, body: payloadBytes(6) }] }, tcp({}))));
  add("ipv6-ah-udp", eth({}, ETH_TYPE_IPV6, ipv6({ ext: [{ type: IPPROTO_AH, body: payloadBytes(14) }] }, udp(11, 12))));
  add("ipv6-frag-first", eth({}, ETH_TYPE_IPV6, ipv6({ ext: [{ type: IPPROTO_FRAGMENT, body: new Uint8Array(0), frag: { offset: 0, more: true, id: 5 } }] }, udp(13, 14, P18))));
  add("ipv6-frag-later", eth({}, ETH_TYPE_IPV6, ipv6({ ext: [{ type: IPPROTO_FRAGMENT, body: new Uint8Array(0), frag: { offset: 10, more: false, id: 5 } }] }, udp(13, 14, P18), false)));
  add("ipv6-frag-atomic", eth({}, ETH_TYPE_IPV6, ipv6({ ext: [{ type: IPPROTO_FRAGMENT, body: new Uint8Array(0), frag: { offset: 0, more: false, id: 5 } }] }, udp(13, 14, P18))));
  add("ipv6-frag-later-hbh", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_TCP, ext: [hbh, { type: IPPROTO_FRAGMENT, body: new Uint8Array(0), frag: { offset: 1, more: true, id: 5 } }] }, tcp({}), false)));
  add("ipv6-no-next", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: 59 }, new Uint8Array(0))));
  add("ipv6-padded", concat(eth({}, ETH_TYPE_IPV6, ipv6({}, udp(1, 2))), new Uint8Array(10)));
  add("ipv6-gre", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_GRE }, grePayload())));

  add("mpls-1", eth({}, ETH_TYPE_MPLS, mpls([{ label: 0xfffff, tc: 7, bos: true, ttl: 255 }], ipv4({}, udp(1, 2)))));
  add("mpls-3", eth({}, ETH_TYPE_MPLS, mpls([{ label: 1, tc: 0, bos: false, ttl: 1 }, { label: 2, tc: 1, bos: false, ttl: 2 }, { label: 3, tc: 2, bos: true, ttl: 3 }], ipv4({}, udp(1, 2)))));
  add("mpls-4", eth({}, ETH_TYPE_MPLS, mpls([1, 2, 3, 4].map((l) => ({ label: l, tc: 0, bos: l === 4, ttl: 64 })), P18)));
  add("mpls-mcast", eth({}, 0x8848, mpls([{ label: 16, tc: 0, bos: true, ttl: 64 }], P18)));
  add("mpls-nobos", eth({}, ETH_TYPE_MPLS, mpls([{ label: 16, tc: 0, bos: false, ttl: 64 }], new Uint8Array(0))));

  // NSH: MD type 1 (24 bytes), MD type 2 (8 bytes), bad version, bad md1 length.
  add("nsh-md1", eth({}, 0x894f, concat(Uint8Array.of(0x0f, 0xc6, 0x01, 0x03, 0x12, 0x34, 0x56, 0xfe), payloadBytes(16, 3), ipv4({}, udp(1, 2)))));
  add("nsh-md2", eth({}, 0x894f, concat(Uint8Array.of(0x30, 0x42, 0x02, 0x01, 0x00, 0x00, 0x01, 0x07), eth({}, 0x0800, ipv4({}, udp(1, 2))))));
  add("nsh-ver1", eth({}, 0x894f, concat(Uint8Array.of(0x40, 0x06, 0x01, 0x03, 0x12, 0x34, 0x56, 0xfe), payloadBytes(16))));
  add("nsh-md1-len", eth({}, 0x894f, concat(Uint8Array.of(0x00, 0x07, 0x01, 0x03, 0x12, 0x34, 0x56, 0xfe), payloadBytes(20))));
  add("unknown-type", eth({}, 0x1234, P18));
  add("lldp", eth({ dst: "01:80:c2:00:00:0e" }, 0x88cc, P18));
  add("llc-stp", eth({ dst: "01:80:c2:00:00:00" }, 38, concat(Uint8Array.of(0x42, 0x42, 0x03), payloadBytes(35))));
  add("llc-snap-ipv4", eth({}, 60, concat(Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00), ipv4({}, udp(1, 2)))));
  add("llc-snap-oui", eth({}, 60, concat(Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0x0c, 0x20, 0x00), P18)));
  add("llc-snap-small-type", eth({}, 60, concat(Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0, 0x01, 0x00), P18)));
  add("llc-short", eth({}, 60, Uint8Array.of(0xaa, 0xaa, 0x03)));
  add("vlan-llc", eth({ vlans: [vlan(9)] }, 100, concat(Uint8Array.of(0xaa, 0xaa, 0x03, 0, 0, 0, 0x86, 0xdd), ipv6({}, udp(1, 2)))));
  return f;
}

/** Malformed frames: headers that lie about lengths, bad versions, cut-off options. */
export function malformedFrames(): CorpusFrame[] {
  const f: CorpusFrame[] = [];
  const add = (name: string, bytes: Uint8Array) => f.push({ name, bytes });
  const base = () => eth({}, ETH_TYPE_IP, ipv4({ proto: IPPROTO_TCP }, tcp({}, P18)));
  const mut = (name: string, edit: (b: Uint8Array) => void) => {
    const b = base();
    edit(b);
    add(name, b);
  };
  mut("ipv4-ihl-4", (b) => (b[14] = 0x44));
  mut("ipv4-ihl-15", (b) => (b[14] = 0x4f));
  mut("ipv4-totlen-big", (b) => set16(b, 16, 1500));
  mut("ipv4-totlen-small", (b) => set16(b, 16, 19));
  mut("ipv4-totlen-hdr-only", (b) => set16(b, 16, 20));
  mut("ipv4-totlen-short-tcp", (b) => set16(b, 16, 30));
  mut("ipv4-version-6", (b) => (b[14] = 0x65));
  mut("tcp-doff-4", (b) => (b[14 + 20 + 12] = 0x40));
  mut("tcp-doff-15", (b) => (b[14 + 20 + 12] = 0xf0));
  mut("tcp-doff-0", (b) => (b[14 + 20 + 12] = 0x00));
  const v6 = () => eth({}, ETH_TYPE_IPV6, ipv6({ ext: [{ type: IPPROTO_HOPOPTS, body: payloadBytes(14) }] }, udp(1, 2, P18)));
  const mut6 = (name: string, edit: (b: Uint8Array) => void) => {
    const b = v6();
    edit(b);
    add(name, b);
  };
  mut6("ipv6-plen-big", (b) => set16(b, 18, 1000));
  mut6("ipv6-plen-small", (b) => set16(b, 18, 4));
  mut6("ipv6-plen-zero", (b) => set16(b, 18, 0));
  mut6("ipv6-ext-len-big", (b) => (b[14 + 41] = 20));
  mut6("ipv6-version-4", (b) => (b[14] = 0x40));
  add("ipv6-frag-short", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_FRAGMENT }, payloadBytes(4))));
  add("ipv6-hbh-short", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_HOPOPTS }, payloadBytes(6))));
  add("ipv6-nd-short-target", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, concat(icmp(135, 0, 0), payloadBytes(10)))));
  add("ipv6-nd-opt-overrun", eth({}, ETH_TYPE_IPV6, ipv6({ nextHeader: IPPROTO_ICMPV6 }, concat(icmp(136, 0, 0x40000000), ip6("fe80::8"), Uint8Array.of(2, 2, 1, 2, 3, 4, 5, 6)))));
  add("arp-short", eth({}, ETH_TYPE_ARP, arp({}).slice(0, 27)));
  add("vlan-cut", eth({}, ETH_TYPE_VLAN_8021Q, Uint8Array.of(0x00, 0x0a, 0x08)));
  add("vlan-cut-exact", eth({}, ETH_TYPE_VLAN_8021Q, Uint8Array.of(0x00, 0x0a, 0x08, 0x00)));
  add("qinq-cut", eth({ vlans: [vlan(3, 0, ETH_TYPE_VLAN_8021AD)] }, ETH_TYPE_VLAN_8021Q, Uint8Array.of(0x00, 0x0a)));
  for (let n = 0; n < 14; n++) add(`short-${n}`, payloadBytes(n, 0x40));
  return f;
}

/** Every prefix of a few representative frames (truncation at every byte). */
export function truncatedFrames(): CorpusFrame[] {
  const out: CorpusFrame[] = [];
  const pick = new Set(["ipv4-tcp-options", "qinq-ipv6-udp", "ipv6-hbh-rt-dst-tcp", "ipv6-na-tll-sll", "arp-request", "mpls-3", "ipv4-igmp", "ipv4-sctp", "ipv6-frag-first", "llc-snap-ipv4", "ipv4-icmp-echo", "nsh-md1"]);
  for (const fr of validFrames()) {
    if (!pick.has(fr.name)) continue;
    for (let n = 0; n < fr.bytes.length; n++) out.push({ name: `${fr.name}/cut${n}`, bytes: fr.bytes.slice(0, n) });
  }
  return out;
}

export function allFrames(): CorpusFrame[] {
  return [...validFrames(), ...malformedFrames(), ...truncatedFrames()];
}
