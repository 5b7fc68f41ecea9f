/**
 * Action strings for the differential tests of ofp-actions: each with the
 * match it needs (prerequisites; default "ip") and, when not all, the
 * OpenFlow versions (wire numbers) in which ovs-ofctl accepts it.
 */
import { formatMfValue, MF_FIELDS } from "../../src/openflow/meta-flow.js";

export interface ActionCase {
  readonly a: string;
  readonly match?: string;
  readonly v?: readonly number[];
}

export const ACTION_CORPUS: readonly ActionCase[] = [
  {a: "output:1"},
  {a: "output:3,in_port,LOCAL,NORMAL,ALL,FLOOD"},
  {a: "controller"},
  {a: "controller:100"},
  {a: "controller(reason=no_match,max_len=100,id=3)"},
  {a: "controller(userdata=01.02,pause)"},
  {a: "controller(max_len=10,meter_id=5)"},
  {a: "drop"},
  {a: "strip_vlan"},
  {a: "mod_vlan_vid:5"},
  {a: "mod_vlan_pcp:3"},
  {a: "mod_dl_src:00:01:02:03:04:05,mod_dl_dst:0a:0b:0c:0d:0e:0f"},
  {a: "mod_nw_src:1.2.3.4,mod_nw_dst:5.6.7.8"},
  {a: "mod_nw_tos:8"},
  {a: "mod_nw_ecn:2,mod_nw_ttl:4"},
  {a: "mod_tp_src:80,mod_tp_dst:443",match: "tcp"},
  {a: "load:5->NXM_NX_REG0[0..15]"},
  {a: "set_field:5->reg0"},
  {a: "set_field:5/0xff->reg0",v: [1,3,4,5,6]},
  {a: "load:1->reg0[3]"},
  {a: "move:NXM_NX_REG0[0..7]->NXM_NX_REG1[8..15]"},
  {a: "resubmit:3"},
  {a: "resubmit(,5)"},
  {a: "resubmit(1,2)"},
  {a: "output:NXM_NX_REG0[0..15]"},
  {a: "output(port=1,max_len=100)"},
  {a: "dec_ttl"},
  {a: "dec_ttl(1,2)"},
  {a: "set_tunnel:5"},
  {a: "set_tunnel:0x100000000"},
  {a: "note:01.02.03"},
  {a: "exit"},
  {a: "ct_clear"},
  {a: "set_queue:3,pop_queue"},
  {a: "enqueue:1:2"},
  {a: "group:5"},
  {a: "meter:3",v: [4,5,6]},
  {a: "fin_timeout(idle_timeout=5,hard_timeout=10)",match: "tcp"},
  {a: "push_mpls:0x8847"},
  {a: "conjunction(1,2/3)"},
  {a: "write_metadata:5/0xff"},
  {a: "goto_table:3"},
  {a: "output:1,goto_table:3"},
  {a: "clear_actions,write_actions(output:1)",v: [2,3,4,5,6]},
  {a: "meter:1,output:1",v: [4,5,6]},
  {a: "multipath(eth_src,50,modulo_n,1,0,NXM_NX_REG0[])"},
  {a: "push:NXM_NX_REG0[],pop:NXM_NX_REG1[0..15]"},
  {a: "sample(probability=10,collector_set_id=1,obs_domain_id=2,obs_point_id=3)"},
  {a: "check_pkt_larger(1500)->NXM_NX_REG0[0]"},
  {a: "clone(output:1,output:2)"},
  {a: "delete_field:tun_metadata0"},
  {a: "push_vlan:0x88a8",v: [2,3,4,5,6]},
  {a: "set_field:1.2.3.4->ip_src"},
  {a: "set_field:00:01:02:03:04:05->eth_dst"},
  {a: "set_field:0x1234->tun_id"},
  {a: "set_mpls_label:5,set_mpls_tc:3,set_mpls_ttl:5,dec_mpls_ttl",match: "mpls"},
  {a: "pop_mpls:0x0800",match: "mpls"},
  {a: "ct"},
  {a: "ct(commit)"},
  {a: "ct(zone=NXM_NX_REG0[0..15],table=1)"},
  {a: "ct(commit,exec(set_field:1->ct_mark,set_field:0x5/0xff->ct_label))"},
  {a: "ct(nat)"},
  {a: "ct(commit,nat(src=10.0.0.1))"},
  {a: "ct(commit,nat(dst=10.0.0.1-10.0.0.10:80-90,persistent,random))"},
  {a: "ct(commit,nat(src=fe80::1-fe80::2,hash))",match: "ipv6"},
  {a: "ct(commit,nat(src=[fe80::1]-[fe80::2]:80-90))",match: "tcp6"},
  {a: "ct(commit,zone=5,table=3,exec(set_field:1->ct_mark),nat(src=1.2.3.4),alg=ftp)",match: "tcp"},
  {a: "ct(commit,nat(src=10.0.0.1:80))"},
  {a: "ct(commit,nat(src))"},
  {a: "ct(alg=tftp)",match: "udp"},
  {a: "ct(commit,force,zone=65535,table=0)"},
  {a: "ct(table=4,nat)"},
  {a: "ct_clear,ct(commit,nat(dst=1.2.3.4),exec(load:1->NXM_NX_CT_MARK[0]))"},
  {a: "learn(table=1,hard_timeout=60,NXM_OF_VLAN_TCI[0..11],NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])"},
  {a: "learn(table=2,idle_timeout=10,priority=100,cookie=0x5,send_flow_rem,delete_learned,fin_idle_timeout=3,fin_hard_timeout=4,eth_type=0x800,load:5->NXM_NX_REG0[0..7],load:NXM_OF_IN_PORT[]->NXM_NX_REG1[0..15],reg2=0x5,NXM_NX_REG3[0..3]=0x3)"},
  {a: "learn()"},
  {a: "learn(limit=10,result_dst=reg0[0],eth_src=00:01:02:03:04:05)"},
  {a: "learn(table=3,limit=5,eth_type=0x800,nw_dst=1.2.3.4)"},
  {a: "learn(table=10,in_port=5,NXM_OF_IP_SRC[]=NXM_OF_IP_DST[],load:0x1234567890->NXM_NX_XXREG0[0..63])"},
  {a: "dec_ttl(x)"},
  {a: "bundle(eth_src,0,hrw,ofport,slaves:4,8)"},
  {a: "bundle(symmetric_l4,60,active_backup,ofport,members:1)"},
  {a: "bundle_load(eth_src,0,hrw,ofport,NXM_NX_REG0[],members:4,8)"},
  {a: "bundle(eth_src,0,hrw,ofport,members:)"},
  {a: "bundle(nw_src,5,hrw,ofport,members:1,2,3,4,5)"},
  {a: "encap(nsh(md_type=1))"},
  {a: "encap(ethernet)"},
  {a: "decap()"},
  {a: "decap(packet_type(ns=0,type=0x800))"},
  {a: "encap(mpls)"},
  {a: "encap(nsh(md_type=2,tlv(0x1000,10,0x12345678)))"},
  {a: "encap(nsh)"},
  {a: "dec_nsh_ttl",match: "packet_type=(1,0x894f)"},
  {a: "sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3,sampling_port=5)"},
  {a: "sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3,sampling_port=5,ingress)"},
  {a: "sample(probability=100,collector_set_id=1,obs_domain_id=2,obs_point_id=3,egress)"},
  {a: "clone(clone(output:1),mod_dl_src:00:00:00:00:00:01)"},
  {a: "output(port=LOCAL,max_len=64)"},
  {a: "resubmit(,4,ct)",match: "ct_state=+trk,ip"},
  {a: "enqueue:LOCAL:3"},
  {a: "controller(reason=invalid_ttl)"},
  {a: "controller(reason=action_set,id=7,max_len=128)"},
  {a: "dec_ttl(0)"},
  {a: "note:00.11.22.33.44.55.66.77.88.99.aa"},
  {a: "set_field:fe80::1/64->ipv6_src",match: "ipv6"},
  {a: "move:NXM_OF_ETH_SRC[]->OXM_OF_PKT_REG0[0..47]"},
  {a: "move:NXM_NX_XXREG0[0..127]->NXM_NX_XXREG1[]"},
  {a: "load:0xffffffffffffffffffff->NXM_NX_XXREG0[0..79]"},
  {a: "set_field:0x1/0x1->xxreg3"},
  {a: "output:4294967040"},
  {a: "output:65279"},
  {a: "mod_vlan_vid:4095,mod_vlan_pcp:7"},
  {a: "push_mpls:0x8848"},
  {a: "set_queue:4294967295"},
  {a: "group:4294967295"},
  {a: "write_metadata:0xffffffffffffffff"},
  {a: "write_metadata:0/1"},
  {a: "goto_table:254"},
  {a: "set_field:0->metadata"},
  {a: "set_field:5->pkt_mark"},
  {a: "load:0x1->NXM_NX_REG5[31]"},
  {a: "move:NXM_OF_VLAN_TCI[]->NXM_NX_REG0[0..15]"},
  {a: "exit,exit"},
  {a: "learn(table=1,idle_timeout=0,priority=0,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[])"},
  {a: "check_pkt_larger(100)->NXM_NX_REG0[3],resubmit(,1)"},
  {a: "ct(commit,zone=1,exec(move:NXM_NX_REG0[0..31]->NXM_NX_CT_MARK[]))"},
  {a: "ct(commit,nat(src=10.0.0.1-10.0.0.2:1-2,hash,persistent))"},
  {a: "ct(commit,nat(dst=::1))",match: "ipv6"},
  {a: "learn(table=69,delete_learned,cookie=0xbd3c2ff1,OXM_OF_METADATA[],eth_type=0x800,NXM_OF_IP_SRC[],ip_dst=172.16.0.100,nw_proto=6,NXM_OF_TCP_SRC[]=NXM_OF_TCP_DST[],load:0x1->NXM_NX_REG10[7])", match: "tcp"},
  {a: "learn(table=1,in_port=5,eth_dst=01:00:00:00:00:00,load:0xffff->NXM_NX_REG1[0..15])"},
  {a: "learn(table=2,NXM_NX_REG0[0..3]=0xa,output:NXM_NX_REG1[0..15])"},
  {a: "learn(table=4,vlan_tci=0x1005,tun_id=0x5)"},
];

const PREREQ_MATCH: Readonly<Record<string, string>> = {
  none: "", ethernet: "", arp: "arp", ipv4: "ip", ipv6: "ipv6", ip_any: "ip", tcp: "tcp", udp: "udp", sctp: "sctp",
  icmpv4: "icmp", icmpv6: "icmp6", nd: "icmp6,icmp_type=135,icmp_code=0", nd_solicit: "icmp6,icmp_type=135,icmp_code=0",
  nd_advert: "icmp6,icmp_type=136,icmp_code=0", mpls: "mpls", vlan_vid: "dl_vlan=1", ct: "ct_state=+trk",
  nsh: "packet_type=(1,0x894f)",
};

/** `set_field:VALUE->FIELD` for every writable field (one tun_metadata), with a patterned value. */
export function setFieldCorpus(): ActionCase[] {
  const out: ActionCase[] = [];
  for (const f of MF_FIELDS) {
    if (!f.writable || (f.name.startsWith("tun_metadata") && f.name !== "tun_metadata0")) continue;
    const bytes = new Uint8Array(f.bytes);
    for (let i = 0; i < bytes.length; i++) bytes[i] = (i * 37 + 5) & 0xff;
    const extra = f.bytes * 8 - f.bits;
    if (extra > 0) bytes[0]! &= 0xff >> extra;
    out.push({ a: `set_field:${formatMfValue(f, { value: bytes, mask: null })}->${f.name}`, match: PREREQ_MATCH[f.prereqs] ?? "" });
  }
  return out;
}

/** Text ovs-ofctl rejects, each checked against its message. */
export const BAD_ACTION_TEXT: readonly string[] = [
  "foo", "output:foo", "mod_vlan_vid:5000", "mod_vlan_vid:x", "set_field:5->foo", "note:xy", "resubmit:foo", "enqueue:1",
  "mod_nw_tos:7", "mod_nw_tos:x", "mod_tp_dst:70000", "drop,output:1", "output:1,drop", "controller(reason=foo)",
  "mod_dl_src:zz", "mod_nw_src:1.2.3", "group:x", "goto_table:3,output:1", "clear_actions,output:1",
  "ct(force,zone=65535)", "conjunction(1,1/2),output:1", "output:1,conjunction(1,1/2)", "ct(foo)", "ct(commit,exec(output:1))", "nat(src=1.2.3.4)", "ct(alg=21)",
  "bundle(eth_src,0,foo,ofport,members:1)", "bundle(eth_src,0,hrw,ofport)", "encap(nsh(md_type=3))", "decap(foo)",
  "load:5->NXM_NX_REG0[0..40]", "load:0x100->NXM_NX_REG0[0..7]", "move:NXM_NX_REG0[0..7]->NXM_NX_REG1[0..8]",
  "set_tunnel:x", "conjunction(1,4/3)", "conjunction(1,1/1)", "push_vlan:0x1234", "meter:x",
  "write_metadata:x", "set_field:1->ct_mark", "clone(move:NXM_NX_REG0[]->NXM_NX_CT_MARK[])", "write_actions(goto_table:1)", "clear_actions,clear_actions", "goto_table:1,goto_table:2",
  "apply_actions(output:1)", "output:1,write_metadata:1,write_actions(output:2)", "clone(goto_table:1)",
  "write_actions(write_actions(output:1))", "fin_timeout(foo=1)", "sample(probability=0)", "learn(table=255)", "multipath(eth_src,50,modulo_n,1,0)",
];
