/**
 * Native tunnelling against the real OVS 3.1 (dummy datapath, the
 * tunnel-push-pop.at set-up): the same configuration and packets into
 * both, then `dpif/show`, `tnl/ports/show`, `ovs/route/*`, `tnl/neigh/*`,
 * `ofproto/trace` of tunnel output (tnl_push and the underlay bridge's
 * nested translation, neighbour miss) and of tunnel input (tnl_pop), and
 * the datapath flows after encapsulated VXLAN, GRE and Geneve packets
 * arrive on the underlay port.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ovsSkip } from "../util/ovs.js";
import { ARP_REPLY_92, startRealTunnelSwitch, startTsovsTunnelSwitch, tool, tunnelSetup, type Tool } from "../util/tunnel.js";

const TRACE_INNER = "in_port=LOCAL,dl_src=50:54:00:00:00:05,dl_dst=50:54:00:00:00:07,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2";

/** Encapsulated ICMP (10.0.0.2 → 10.0.0.1) from 1.1.2.92 (VXLAN vni 123, GRE key 456) and 1.1.2.93 (Geneve vni 123). */
const VXLAN_PKT = "aa55aa550000f8bc124434b608004500004e00004000401133ea0101025c01010258c85312b5003a00000800000000007b0050540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";
const GRE_PKT = "aa55aa550000f8bc124434b608004500004600004000402f33d40101025c0101025820006558000001c850540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";
const GENEVE_PKT = "aa55aa550000f8bc124434b608004500004e00004000401133e90101025d01010258c85317c1003a00000000655800007b0050540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";

type Step = { cmd: [Tool, ...string[]]; canon?: (s: string) => string };

const sortLines = (s: string): string => s.split("\n").filter((l) => l !== "").sort().join("\n");

/** The inner ICMP echo of the encapsulated packets above, as a datapath flow. */
const INNER_ODP = "eth(src=50:54:00:00:00:07,dst=50:54:00:00:00:05),eth_type(0x0800),ipv4(src=10.0.0.2,dst=10.0.0.1,proto=1,tos=0,ttl=64,frag=no),icmp(type=8,code=0)";

/**
 * tsovs's OpenFlow match formatter (src/openflow/match-format.ts) does not
 * print tun_tos and tun_ttl and knows only the oam tunnel flag, so the `Flow:` and
 * `Megaflow:` lines of a tunnelled flow are compared without them.
 */
const tunFmtCanon = (s: string): string =>
  s.replace(/^(Flow|Megaflow): .*$/gm, (l) => l.replace(/tun_t(os|tl)=\d+,/g, "").replace(/tun_flags=[^,]*,/g, ""));

const STEPS: Step[] = [
  { cmd: ["ovs-appctl", "dpif/show"] },
  { cmd: ["ovs-appctl", "tnl/ports/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/ports/show", "-v"], canon: sortLines },
  { cmd: ["ovs-appctl", "ovs/route/show"] },
  { cmd: ["ovs-appctl", "ovs/route/lookup", "1.1.2.92"] },
  { cmd: ["ovs-appctl", "ovs/route/lookup", "9.9.9.9"] },
  { cmd: ["ovs-appctl", "ovs/route/add", "10.0.0.0/8", "br0"] },
  { cmd: ["ovs-appctl", "ovs/route/add", "1.1.3.0/24", "br0", "1.1.2.1"] },
  { cmd: ["ovs-appctl", "ovs/route/add", "1.1.6.0/33", "br0"] },
  { cmd: ["ovs-appctl", "ovs/route/show"] },
  { cmd: ["ovs-appctl", "ovs/route/lookup", "1.1.3.5"] },
  // Explicit flows: NORMAL's flood order over tunnel ports is not deterministic in OVS.
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "in_port=LOCAL,actions=2"] },
  // No neighbour yet: an ARP request goes out, the packet is dropped.
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", ARP_REPLY_92] },
  { cmd: ["ovs-appctl", "tnl/neigh/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/arp/show"] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "br0"], canon: sortLines },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER + ",nw_tos=4,nw_ttl=9"] },
  // Tunnel input: tnl_pop on the underlay bridge.
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=4789)"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=6081)"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=47,tos=0,ttl=64,frag=no)"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:00),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=6,tos=0,ttl=64,frag=no),tcp(src=1,dst=2)"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:b6,dst=aa:55:aa:55:00:01),eth_type(0x0800),ipv4(src=1.1.2.92,dst=1.1.2.88,proto=17,tos=0,ttl=64,frag=no),udp(src=51283,dst=4789)"] },
  // GRE, then both (the first inside clone()), then Geneve via a static neighbour.
  { cmd: ["ovs-ofctl", "mod-flows", "int-br", "in_port=LOCAL,actions=3"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-ofctl", "mod-flows", "int-br", "in_port=LOCAL,actions=2,3"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "tnl/neigh/set", "br0", "1.1.2.93", "f8:bc:12:44:34:b7"] },
  { cmd: ["ovs-appctl", "tnl/neigh/set", "br0", "1.1.2.94", "zz"] },
  { cmd: ["ovs-appctl", "tnl/neigh/set", "br0", "x", "f8:bc:12:44:34:b7"] },
  { cmd: ["ovs-ofctl", "mod-flows", "int-br", "in_port=LOCAL,actions=set_field:0x5->tun_id,4"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  // remote_ip=flow, key=flow: the flow's tun_dst and tun_id.
  // (The final flow, tunnel fields set by actions, prints differently: its formatter is not this test's subject.)
  { cmd: ["ovs-ofctl", "mod-flows", "int-br", "in_port=LOCAL,actions=set_field:1.1.2.92->tun_dst,set_field:0x63->tun_id,5"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER], canon: (s) => s.replace(/^Final flow: .*$/m, "Final flow: ...") },
  // Encapsulated packets arrive: popped, then int-br delivers them.
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "priority=10,actions=LOCAL"] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", VXLAN_PKT] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GRE_PKT] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GENEVE_PKT] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "int-br"], canon: sortLines },
  // A datapath flow arriving on a tunnel's datapath port (shared by the tunnels of one type and UDP port):
  // its tunnel metadata picks the OpenFlow port.
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", `tunnel(tun_id=0x7b,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(+key)),in_port(4789),${INNER_ODP}`], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", `tunnel(tun_id=0x5,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(+key)),in_port(4789),${INNER_ODP}`], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", `tunnel(tun_id=0x1c8,src=1.1.2.92,dst=1.1.2.88,ttl=64,flags(+key)),in_port(3),${INNER_ODP}`], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", `tunnel(tun_id=0x7b,src=1.1.2.93,dst=1.1.2.88,ttl=64,geneve(),flags(+key)),in_port(6081),${INNER_ODP}`], canon: tunFmtCanon },
  // A full revalidation (a flow_mod) re-translates the tunnel-ingress megaflows: kept, with the new actions.
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "priority=20,actions=drop"] },
  { cmd: ["ovs-appctl", "revalidator/wait"] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "int-br"], canon: sortLines },
  { cmd: ["ovs-ofctl", "--strict", "del-flows", "int-br", "priority=20"] },
  { cmd: ["ovs-appctl", "revalidator/wait"] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "int-br"], canon: sortLines },
  // (Ports in OVS's hash order: compared as a set.)
  { cmd: ["ovs-ofctl", "dump-ports", "int-br"], canon: (s) => sortLines(s.replace(/\n {11}tx/g, " tx")) },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "br0"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/neigh/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/neigh/flush"] },
  { cmd: ["ovs-appctl", "tnl/neigh/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/neigh/aging"] },
  { cmd: ["ovs-appctl", "tnl/neigh/aging", "0"] },
  { cmd: ["ovs-appctl", "tnl/neigh/aging", "120"] },
  { cmd: ["ovs-appctl", "tnl/neigh/aging"] },
  // Options changed at run time: a new key in place, a new UDP port on another datapath port.
  { cmd: ["ovs-vsctl", "set", "Interface", "t2", "options:key=124"] },
  { cmd: ["ovs-vsctl", "set", "Interface", "t4", "options:dst_port=4790"] },
  { cmd: ["ovs-appctl", "dpif/show"] },
  { cmd: ["ovs-appctl", "tnl/ports/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "tnl/neigh/set", "br0", "1.1.2.92", "f8:bc:12:44:34:b6"] },
  { cmd: ["ovs-ofctl", "mod-flows", "int-br", "in_port=LOCAL,actions=2"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  // (OVS forgets its listening endpoints on a route deletion: this comes last.)
  { cmd: ["ovs-appctl", "ovs/route/del", "1.1.3.0/24"] },
  { cmd: ["ovs-appctl", "ovs/route/del", "1.1.3.0/24"] },
  { cmd: ["ovs-appctl", "ovs/route/show"] },
];

/** An IPv6 underlay: ND solicitation on a miss, advertisements snooped, IPv6 outer headers, tnl_pop of IPv6 packets. */
const NA_92 = "recirc_id(0),in_port(1),eth(src=f8:bc:12:44:34:c8,dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(src=2001:cafe::92,dst=2001:cafe::88,label=0,proto=58,tclass=0,hlimit=255,frag=no),icmpv6(type=136,code=0),nd(target=2001:cafe::92,sll=00:00:00:00:00:00,tll=f8:bc:12:44:34:c8)";
const STEPS_V6: Step[] = [
  { cmd: ["ovs-appctl", "netdev-dummy/ip6addr", "br0", "2001:cafe::88/24"] },
  { cmd: ["ovs-appctl", "ovs/route/add", "2001:cafe::92/24", "br0"] },
  { cmd: ["ovs-vsctl", "add-port", "int-br", "t6", "--", "set", "Interface", "t6", "type=vxlan", "options:remote_ip=2001:cafe::92", "options:key=66", "ofport_request=6"] },
  { cmd: ["ovs-appctl", "ovs/route/show"] },
  { cmd: ["ovs-appctl", "tnl/ports/show", "-v"], canon: sortLines },
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "in_port=LOCAL,actions=6"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", NA_92] },
  { cmd: ["ovs-appctl", "tnl/neigh/show"], canon: sortLines },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "br0"], canon: sortLines },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", "in_port(1),eth(src=f8:bc:12:44:34:c8,dst=aa:55:aa:55:00:00),eth_type(0x86dd),ipv6(src=2001:cafe::92,dst=2001:cafe::88,label=0,proto=17,tclass=0,hlimit=64,frag=no),udp(src=1234,dst=4789)"] },
];

async function transcript(dir: string, steps: readonly Step[] = STEPS): Promise<string[]> {
  await tunnelSetup(dir);
  const out: string[] = [];
  for (const s of steps) {
    const r = await tool(dir, s.cmd[0], s.cmd.slice(1), true);
    const body = r.status === 0 ? r.stdout : `error: ${r.stderr.split("\n")[0]}`;
    out.push(`$ ${s.cmd.join(" ")}\n${s.canon ? s.canon(body) : body}`);
  }
  return out;
}

test("native tunnels: configuration, traces and tnl_pop delivery as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const [ovs, ts] = await Promise.all([startRealTunnelSwitch(), startTsovsTunnelSwitch()]);
  try {
    const [want, got] = await Promise.all([transcript(ovs.dir), transcript(ts.dir)]);
    const bad = want.flatMap((w, i) => (got[i] === w ? [] : [`--- OVS\n${w}\n+++ tsovs\n${got[i]}`]));
    assert.equal(bad.join("\n"), "");
  } finally {
    await Promise.all([ovs.stop(), ts.stop()]);
  }
});

test("native tunnels over an IPv6 underlay as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const [ovs, ts] = await Promise.all([startRealTunnelSwitch(), startTsovsTunnelSwitch()]);
  try {
    const [want, got] = await Promise.all([transcript(ovs.dir, STEPS_V6), transcript(ts.dir, STEPS_V6)]);
    const bad = want.flatMap((w, i) => (got[i] === w ? [] : [`--- OVS\n${w}\n+++ tsovs\n${got[i]}`]));
    assert.equal(bad.join("\n"), "");
  } finally {
    await Promise.all([ovs.stop(), ts.stop()]);
  }
});

test("tunnel interface options: errors and reported configuration as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const [ovs, ts] = await Promise.all([startRealTunnelSwitch(), startTsovsTunnelSwitch()]);
  const ports: [string, string[]][] = [
    ["e1", ["type=vxlan"]],
    ["e2", ["type=vxlan", "options:remote_ip=abc"]],
    ["e3", ["type=gre", "options:remote_ip=1.2.3.4", "options:foo=bar"]],
    ["e4", ["type=geneve", "options:remote_ip=224.0.0.1"]],
    ["e5", ["type=vxlan", "options:remote_ip=1.2.3.4", "options:local_ip=flow"]],
    ["e6", ["type=vxlan", "options:remote_ip=1.2.3.4", "options:local_ip=::1"]],
    ["e7", ["type=vxlan", "options:remote_ip=1.2.3.5", "options:dst_port=4790", "options:ttl=5", "options:tos=inherit", "options:csum=true",
      "options:df_default=false", "options:in_key=5", "options:out_key=flow"]],
    ["e8", ["type=gre", "options:remote_ip=1.2.3.6", "options:packet_type=legacy_l3"]],
    ["e9", ["type=geneve", "options:remote_ip=flow", "options:local_ip=flow", "options:key=0x10", "options:tos=0x20", "options:ttl=inherit"]],
  ];
  const run = async (dir: string): Promise<string> => {
    await tool(dir, "ovs-vsctl", ["add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy"]);
    let s = "";
    for (const [name, opts] of ports) {
      await tool(dir, "ovs-vsctl", ["add-port", "br1", name, "--", "set", "Interface", name, ...opts], true);
      const r = await tool(dir, "ovs-vsctl", ["get", "Interface", name, "error", "ofport"]);
      s += `${name}: ${r.stdout}`;
    }
    const show = await tool(dir, "ovs-appctl", ["dpif/show"]);
    return s + show.stdout.split("\n").filter((l) => /^\s+e\d/.test(l)).join("\n");
  };
  try {
    const [want, got] = await Promise.all([run(ovs.dir), run(ts.dir)]);
    assert.equal(got, want);
  } finally {
    await Promise.all([ovs.stop(), ts.stop()]);
  }
});

test("the kernel's routes in ovs/route/show and lookups as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const [ovs, ts] = await Promise.all([startRealTunnelSwitch(undefined, true), startTsovsTunnelSwitch(true)]);
  const run = async (dir: string): Promise<string> => {
    // Routes of one priority come in the classifier's hash order in OVS: compared as a set.
    let s = sortLines((await tool(dir, "ovs-appctl", ["ovs/route/show"])).stdout) + "\n";
    for (const ip of ["8.8.8.8", "127.0.0.9", "::1", "2001:db8::1"]) {
      const r = await tool(dir, "ovs-appctl", ["ovs/route/lookup", ip], true);
      s += `${ip}: ${r.status === 0 ? r.stdout : r.stderr.split("\n")[0]}\n`;
    }
    return s;
  };
  try {
    const [want, got] = await Promise.all([run(ovs.dir), run(ts.dir)]);
    assert.equal(got, want);
    assert.match(want, /Cached: /);
  } finally {
    await Promise.all([ovs.stop(), ts.stop()]);
  }
});

/** Geneve from 1.1.2.93 (vni 123) with option {class=0xffff,type=0x80} = 0xb; and = 0xc plus an option no map names. */
const GENEVE_OPT_B = "aa55aa550000f8bc124434b608004500005600004000401133e10101025d01010258c85317c1004200000200655800007b00ffff80010000000b50540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";
const GENEVE_OPT_C = "aa55aa550000f8bc124434b608004500006200004000401133d50101025d01010258c85317c1004e00000500655800007b00ffff80010000000c01020502010203040506070850540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";
/** Non-critical options (type 0x1, and the option no map names). */
const GENEVE_OPT_NC = "aa55aa550000f8bc124434b608004500006200004000401133d50101025d01010258c85317c1004e00000500655800007b00ffff01010000000b01020502010203040506070850540000000750540000000508004500001c00000000400166df0a0000020a0000010800f7fd00010001";
const genevePkt = (value: string, type = "0x80"): string =>
  `tunnel(tun_id=0x7b,src=1.1.2.93,dst=1.1.2.88,ttl=64,geneve({class=0xffff,type=${type},len=4,${value}}),flags(+key)),in_port(6081),${INNER_ODP}`;

/** Geneve options and tun_metadata: the datapath's megaflows with and without a TLV map, set_field, matching. */
const STEPS_TLV: Step[] = [
  { cmd: ["ovs-appctl", "tnl/neigh/set", "br0", "1.1.2.93", "f8:bc:12:44:34:b7"] },
  // No TLV map: options are carried, none is matched; an unknown critical option is refused.
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "priority=1,actions=LOCAL"] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GENEVE_OPT_NC] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "int-br"], canon: sortLines },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", genevePkt("0xb", "0x1")], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", genevePkt("0xb")], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "revalidator/purge"] },
  // A TLV map: tun_metadata0 is the option {class=0xffff,type=0x80,len=4}.
  { cmd: ["ovs-ofctl", "add-tlv-map", "int-br", "{class=0xffff,type=0x80,len=4}->tun_metadata0"] },
  { cmd: ["ovs-ofctl", "dump-tlv-map", "int-br"] },
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "in_port=LOCAL,actions=set_field:0xa->tun_metadata0,4"] },
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "in_port=4,tun_metadata0=0xb,actions=LOCAL"] },
  { cmd: ["ovs-ofctl", "add-flow", "int-br", "priority=0,in_port=4,actions=drop"] },
  { cmd: ["ovs-appctl", "ofproto/trace", "int-br", TRACE_INNER] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GENEVE_OPT_B] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GENEVE_OPT_C] },
  { cmd: ["ovs-appctl", "netdev-dummy/receive", "p0", GENEVE_OPT_NC] },
  { cmd: ["ovs-appctl", "dpif/dump-flows", "int-br"], canon: sortLines },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", genevePkt("0xb")], canon: tunFmtCanon },
  { cmd: ["ovs-appctl", "ofproto/trace", "ovs-dummy", genevePkt("0xc")], canon: tunFmtCanon },
];

test("Geneve options and tun_metadata through a TLV map as OVS 3.1", { skip: ovsSkip("ovs-vswitchd", "ovsdb-server"), timeout: 60_000 }, async () => {
  const [ovs, ts] = await Promise.all([startRealTunnelSwitch(), startTsovsTunnelSwitch()]);
  try {
    const [want, got] = await Promise.all([transcript(ovs.dir, STEPS_TLV), transcript(ts.dir, STEPS_TLV)]);
    const bad = want.flatMap((w, i) => (got[i] === w ? [] : [`--- OVS\n${w}\n+++ tsovs\n${got[i]}`]));
    assert.equal(bad.join("\n"), "");
    assert.match(want.join("\n"), /geneve\(crit,vni=0x0,options\(\{class=0xffff,type=0x80,len=4,0xa\}\)\)/);
    assert.match(want.join("\n"), /geneve\(\{class=0xffff,type=0x80,len=4,0xb\}\)/);
  } finally {
    await Promise.all([ovs.stop(), ts.stop()]);
  }
});
