/**
 * Flow texts shared by the compose tests: OpenFlow flows (ports p1 = 1)
 * paired with the datapath flow of the same packet.
 */
const E = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
const UDP4 = `${E},eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)`;

/** OpenFlow text and the datapath text of the same packet. */
export const OF_EQUIV: [string, string][] = [
  ["in_port=1,udp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,udp_src=1,udp_dst=2", UDP4],
  [
    "in_port=1,tcp6,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,ipv6_src=fe80::1,ipv6_dst=fe80::2,nw_ttl=64,tcp_src=22,tcp_dst=40000,tcp_flags=syn",
    `${E},eth_type(0x86dd),ipv6(src=fe80::1,dst=fe80::2,label=0,proto=6,tclass=0,hlimit=64,frag=no),tcp(src=22,dst=40000),tcp_flags(syn)`,
  ],
  [
    "in_port=p1,arp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,arp_op=1,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_sha=50:54:00:00:00:01",
    `${E},eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)`,
  ],
  [
    "in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,dl_vlan=10,dl_vlan_pcp=3,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_ttl=64,icmp_type=8",
    `${E},eth_type(0x8100),vlan(vid=10,pcp=3),encap(eth_type(0x0800),ipv4(src=10.0.0.1,dst=10.0.0.2,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0))`,
  ],
  [
    "in_port=1,icmp6,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,ipv6_src=fe80::1,ipv6_dst=fe80::2,nw_ttl=255,icmpv6_type=135,nd_target=fe80::2,nd_sll=50:54:00:00:00:01",
    `${E},eth_type(0x86dd),ipv6(src=fe80::1,dst=fe80::2,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=135,code=0),nd(target=fe80::2,sll=50:54:00:00:00:01)`,
  ],
  [
    "in_port=1,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,mpls,mpls_label=100,mpls_tc=3,mpls_ttl=64,mpls_bos=1",
    `${E},eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)`,
  ],
];

