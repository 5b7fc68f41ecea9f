/**
 * Differential test of flow composition against real OVS 3.1: every flow
 * below goes to `ovs-appctl netdev-dummy/receive p1 FLOW [--len N]` on a
 * dummy port that records what it receives (options:rxq_pcap), and the
 * recorded frame must equal, byte for byte, what packetFromFlowText builds
 * from the same text. Bad flow text must get OVS's error text, for
 * netdev-dummy/receive (datapath syntax) and for ofproto/trace with a
 * bridge (OpenFlow syntax, through parseOfpExactFlow).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { packetFromFlowText, packetFromHex, parseDummyReceiveArgs, parseLenArg } from "../../src/flow/compose.js";
import { ofpExactFlowParser } from "../../src/openflow/ofp-exact-flow.js";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { readPcap } from "../util/dpctl.js";
import { OF_EQUIV } from "./compose-cases.js";

const E = "in_port(1),eth(src=50:54:00:00:00:01,dst=50:54:00:00:00:02)";
const IP4 = (proto: number, extra = "tos=0,ttl=64,frag=no", src = "10.0.0.1", dst = "10.0.0.2"): string =>
  `eth_type(0x0800),ipv4(src=${src},dst=${dst},proto=${proto},${extra})`;
const IP6 = (proto: number, extra = "tclass=0,hlimit=64,frag=no", src = "fe80::1", dst = "fe80::2"): string =>
  `eth_type(0x86dd),ipv6(src=${src},dst=${dst},label=0,proto=${proto},${extra})`;

/** [flow text, --len or undefined]. */
const FLOWS: [string, number?][] = [
  // IPv4 L4 protocols.
  [`${E},${IP4(17)},udp(src=1,dst=2)`],
  [`${E},${IP4(17)},udp(src=53,dst=33333)`, 100],
  [`${E},${IP4(6)},tcp(src=80,dst=12345)`],
  [`${E},${IP4(6)},tcp(src=80,dst=12345),tcp_flags(syn)`],
  [`${E},${IP4(6)},tcp(src=80,dst=12345),tcp_flags(syn|ack)`],
  [`${E},${IP4(6)},tcp(src=80,dst=12345),tcp_flags(rst)`],
  [`${E},${IP4(6)},tcp(src=80,dst=12345),tcp_flags(fin|ack)`],
  [`${E},${IP4(6)},tcp(src=80,dst=12345),tcp_flags(psh|ack)`],
  [`${E},${IP4(6)},tcp(src=1,dst=2),tcp_flags(0x1ff)`],
  [`${E},${IP4(6)},tcp(src=443,dst=1000)`, 200],
  [`${E},${IP4(6)},tcp(src=443,dst=1000),tcp_flags(syn)`, 64],
  [`${E},${IP4(132)},sctp(src=5000,dst=6000)`],
  [`${E},${IP4(132)},sctp(src=5000,dst=6000)`, 100],
  [`${E},${IP4(1)},icmp(type=8,code=0)`],
  [`${E},${IP4(1)},icmp(type=0,code=0)`],
  [`${E},${IP4(1)},icmp(type=3,code=1)`],
  [`${E},${IP4(1)},icmp(type=11,code=0)`],
  [`${E},${IP4(1)},icmp(type=8,code=1)`],
  [`${E},${IP4(1)},icmp(type=8,code=0)`, 90],
  [`${E},${IP4(1)},icmp(type=3,code=3)`, 70],
  [`${E},${IP4(2)}`],
  [`${E},${IP4(2)}`, 80],
  [`${E},${IP4(47)}`],
  [`${E},${IP4(50)}`, 61],
  [`${E},${IP4(58)}`],
  [`${E},${IP4(17, "tos=0xfe,ttl=1,frag=no", "192.168.1.1", "224.0.0.251")},udp(src=5353,dst=5353)`],
  [`${E},${IP4(6, "tos=0x10,ttl=255,frag=no", "0.0.0.0", "255.255.255.255")},tcp(src=0,dst=65535)`],
  // IPv4 fragments.
  [`${E},${IP4(17, "tos=0,ttl=64,frag=first")},udp(src=1,dst=2)`],
  [`${E},${IP4(17, "tos=0,ttl=64,frag=later")}`],
  [`${E},${IP4(17, "tos=0,ttl=64,frag=later")}`, 100],
  [`${E},${IP4(6, "tos=0,ttl=64,frag=first")},tcp(src=1,dst=2)`],
  [`${E},${IP4(1, "tos=0,ttl=64,frag=later")}`],
  // IPv6.
  [`${E},${IP6(17)},udp(src=546,dst=547)`],
  [`${E},${IP6(17)},udp(src=546,dst=547)`, 120],
  [`${E},${IP6(6, "tclass=0x50,hlimit=255,frag=no")},tcp(src=22,dst=40000)`],
  [`${E},${IP6(6)},tcp(src=22,dst=40000),tcp_flags(syn)`, 74],
  [`${E},eth_type(0x86dd),ipv6(src=2001:db8::1,dst=2001:db8::2,label=0x12345,proto=132,tclass=0,hlimit=64,frag=no),sctp(src=1,dst=2)`],
  [`${E},${IP6(58)},icmpv6(type=128,code=0)`],
  [`${E},${IP6(58)},icmpv6(type=129,code=0)`, 100],
  [`${E},${IP6(58)},icmpv6(type=1,code=4)`],
  [`${E},${IP6(58)},icmpv6(type=133,code=0)`],
  [`${E},${IP6(58)},icmpv6(type=130,code=0)`],
  [`${E},${IP6(58)},icmpv6(type=135,code=0),nd(target=fe80::2,sll=50:54:00:00:00:01)`],
  [`${E},${IP6(58)},icmpv6(type=136,code=0),nd(target=fe80::1,tll=50:54:00:00:00:02)`],
  [`${E},${IP6(58)},icmpv6(type=135,code=0),nd(target=fe80::2,sll=50:54:00:00:00:01,tll=50:54:00:00:00:03)`],
  [`${E},${IP6(58)},icmpv6(type=135,code=0),nd(target=2001:db8::99)`],
  [`${E},${IP6(58)},icmpv6(type=136,code=0),nd(target=fe80::1,tll=50:54:00:00:00:02)`, 100],
  [`${E},${IP6(58)},icmpv6(type=135,code=1)`],
  [`${E},${IP6(17, "tclass=0,hlimit=64,frag=first")},udp(src=1,dst=2)`],
  [`${E},${IP6(17, "tclass=0,hlimit=64,frag=later")}`],
  [`${E},${IP6(1)}`],
  [`${E},${IP6(59)}`, 80],
  // ARP / RARP.
  [`${E},eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)`],
  [`${E},eth_type(0x0806),arp(sip=10.0.0.2,tip=10.0.0.1,op=2,sha=50:54:00:00:00:02,tha=50:54:00:00:00:01)`],
  [`${E},eth_type(0x0806),arp(sip=10.0.0.2,tip=10.0.0.1,op=3,sha=50:54:00:00:00:02,tha=50:54:00:00:00:01)`],
  [`${E},eth_type(0x8035),arp(sip=0.0.0.0,tip=0.0.0.0,op=3,sha=50:54:00:00:00:02,tha=50:54:00:00:00:02)`],
  [`${E},eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00)`, 60],
  // VLAN and QinQ.
  [`${E},eth_type(0x8100),vlan(vid=10,pcp=3),encap(${IP4(17)},udp(src=1,dst=2))`],
  [`${E},eth_type(0x8100),vlan(vid=0,pcp=5),encap(${IP4(6)},tcp(src=1,dst=2))`],
  [`${E},eth_type(0x8100),vlan(vid=4095,pcp=7),encap(eth_type(0x0806),arp(sip=10.0.0.1,tip=10.0.0.2,op=1,sha=50:54:00:00:00:01,tha=00:00:00:00:00:00))`],
  [`${E},eth_type(0x8100),vlan(vid=20,pcp=0),encap(${IP6(58)},icmpv6(type=128,code=0))`],
  [`${E},eth_type(0x88a8),vlan(vid=100,pcp=1),encap(eth_type(0x8100),vlan(vid=200,pcp=2),encap(${IP4(17)},udp(src=7,dst=8)))`],
  [`${E},eth_type(0x8100),vlan(vid=100,pcp=0),encap(eth_type(0x8100),vlan(vid=200,pcp=0),encap(${IP4(17)},udp(src=7,dst=8)))`, 150],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x88cc))`],
  // MPLS.
  [`${E},eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)`],
  [`${E},eth_type(0x8847),mpls(label=100,tc=0,ttl=64,bos=0,label=200,tc=1,ttl=63,bos=1)`],
  [`${E},eth_type(0x8847),mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=0,ttl=2,bos=0,label=3,tc=0,ttl=3,bos=1)`],
  [`${E},eth_type(0x8848),mpls(label=16,tc=7,ttl=255,bos=1)`],
  [`${E},eth_type(0x8847),mpls(label=100,tc=3,ttl=64,bos=1)`, 80],
  [`${E},eth_type(0x8100),vlan(vid=9,pcp=0),encap(eth_type(0x8847),mpls(label=5,tc=0,ttl=64,bos=1))`],
  // Other Ethernet types and bare frames.
  [`${E},eth_type(0x88cc)`],
  [`${E},eth_type(0x894f)`],
  [`${E},eth_type(0x1234)`, 64],
  [`${E}`],
  [`${E}`, 64],
  [`in_port(1),eth(src=00:00:00:00:00:00,dst=ff:ff:ff:ff:ff:ff),${IP4(17)},udp(src=67,dst=68)`],
  [`in_port(1),eth(src=02:00:00:00:00:01,dst=01:00:5e:00:00:fb),${IP4(17)},udp(src=1,dst=2)`],
  // Keys that leave out their L3/L4 attribute ("fit too little").
  [`${E},eth_type(0x0800)`],
  [`${E},${IP4(6)}`],
  [`${E},eth_type(0x86dd)`],
  [`${IP4(17)},udp(src=1,dst=2)`],
  [""],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x0800))`],
  [`${E},eth_type(0x8847)`],
  [`${E},eth_type(0x0806)`],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0)`],
  [`${E},eth_type(0x8100)`],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x8100))`],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap()`],
  [`${E},eth_type(0x8100),vlan(vid=5,pcp=0),encap(eth_type(0x8100),vlan(vid=6,pcp=0))`],
  [`${E},${IP6(58)}`],
  [`${E},${IP6(58)},icmpv6(type=135,code=0)`],
  [`${E},eth_type(0x8847),mpls(label=1,tc=0,ttl=1,bos=0)`],
  [`${E},eth_type(0x8847),mpls(label=1,tc=0,ttl=1,bos=0,label=2,tc=0,ttl=1,bos=0)`, 70],
  // Flags word and option type from nd_ext; extra and metadata attributes.
  [`${E},${IP6(58)},icmpv6(type=136,code=0),nd(target=::3),nd_ext(nd_reserved=0x20000000,nd_options_type=2)`],
  [`${E},${IP6(58)},icmpv6(type=136,code=0),nd(target=::3,tll=02:00:00:00:00:07),nd_ext(nd_reserved=0xe0000000,nd_options_type=2)`, 90],
  [`${E},${IP4(17)},udp(src=1,dst=2),tcp(src=3,dst=4)`],
  [`recirc_id(0),skb_priority(3),skb_mark(5),ct_state(+new+trk),${E},${IP4(17)},udp(src=1,dst=2)`],
  [`tunnel(tun_id=0x5,src=1.1.1.1,dst=2.2.2.2,ttl=64,flags(key)),${E},eth_type(0x88cc)`],
  [`packet_type(ns=1,id=0x800),${IP4(17)},udp(src=1,dst=2)`],
  // Packets in hex.
  ["50540000000250540000000108004500001c0000000040010000010203040a0b0c0d0800f7ff00000000"],
  ["5054 0000 0002 5054 0000 0001 88cc 0102"],
];

/** Bad datapath flow text for netdev-dummy/receive, and its --len if any. */
const BAD_DP: [string, string?][] = [
  [`${E},${IP4(17)},udp(src=1,dst=2),foo`],
  [`${E},${IP4(17)},udp(src=1,dst=2))`],
  [`${E},eth_type(0x0800),ipv4(src=10.0.0.1,frag=foo)`],
  [`${E},eth_type(0x1)`],
  [`${E},nosuchkey(1)`],
  [`in_port(p1),${IP4(17)},udp(src=1,dst=2)`],
  [`${E},${IP4(6)},tcp(src=1,dst=2)`, "20"],
  [`${E},${IP4(6)},tcp(src=1,dst=2)`, "abc"],
];

/** Bad OpenFlow flow text for ofproto/trace br0. */
const BAD_OF: string[] = [
  "in_port=1,nw_src=1.2.3.4",
  "in_port=1,ip,nw_src=1.2.3.0/24",
  "in_port=1,ip,ip",
  "in_port=1,tcp,nw_proto=7",
  "in_port=1,foo=1",
  "in_port=1,in_port=2",
  "in_port=p9",
  "in_port=p1,tcp,tp_src=x",
  "in_port=1,dl_src=zz",
  "in_port=1,icmp6,nd_target=::1",
  "in_port=1,udp,tp_src=1",
  "in_port=1,tcp,tcp_flags=+syn",
  "in_port=1,udp,udp_src=1,tcp_flags=syn",
  "in_port=1,dl_vlan=5,dl_vlan=6",
  "in_port=1,arp,arp_op=1,arp_op=2",
];

function appctl(dir: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
  return run("ovs-appctl", ["--timeout=20", ...args], dir);
}

/** OVS's error text from ovs-appctl's stderr: the lines before "ovs-appctl: ...". */
function appctlError(stderr: string): string {
  return stderr
    .split("\n")
    .filter((l) => l !== "" && !l.startsWith("ovs-appctl:"))
    .join("\n");
}

test("netdev-dummy/receive frames equal composed packets; errors match OVS", { skip: ovsSkip("ovsdb-server", "ovsdb-tool", "ovs-vsctl", "ovs-vswitchd", "ovs-appctl"), timeout: 60_000 }, () => {
  const dir = tempDir("tsovs-compose-");
  const env = (cmd: string, args: string[]) => {
    const r = run(cmd, args, dir);
    assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  };
  const pcap = path.join(dir, "p1-rx.pcap");
  try {
    env("ovsdb-tool", ["create", path.join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"]);
    env("ovsdb-server", ["--detach", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, path.join(dir, "conf.db")]);
    env("ovs-vsctl", ["--no-wait", "init"]);
    env("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--pidfile", "--log-file"]);
    env("ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy",
      "--", "add-port", "br0", "p1", "--", "set", "interface", "p1", "type=dummy", "ofport_request=1", `options:rxq_pcap=${pcap}`,
      "--", "add-port", "br0", "p2", "--", "set", "interface", "p2", "type=dummy", "ofport_request=2"]);

    // All good flows in one command, so they land in the pcap in order.
    const args = ["netdev-dummy/receive", "p1"];
    for (const [flow, len] of FLOWS) {
      args.push(flow);
      if (len !== undefined) args.push("--len", String(len));
    }
    const r = appctl(dir, args);
    assert.equal(r.status, 0, r.stderr);
    let frames: Uint8Array[] = [];
    for (let i = 0; i < 50 && frames.length < FLOWS.length; i++) {
      frames = readPcap(pcap);
      if (frames.length < FLOWS.length) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    assert.equal(frames.length, FLOWS.length, "frames recorded by OVS");
    const mismatches: string[] = [];
    FLOWS.forEach(([flow, len], i) => {
      // netdev-dummy/receive reads hex first, then a flow.
      const hexPacket = packetFromHex(flow);
      const ours = "packet" in hexPacket ? { packet: hexPacket.packet } : packetFromFlowText(flow, null, len === undefined ? {} : { len });
      const want = Buffer.from(frames[i]!).toString("hex");
      const got = "error" in ours ? `error: ${ours.error}` : Buffer.from(ours.packet).toString("hex");
      if (got !== want) mismatches.push(`${flow}${len !== undefined ? ` --len ${len}` : ""}\n  ovs:    ${want}\n  tsovs:  ${got}`);
    });
    assert.deepEqual(mismatches, []);
    // The whole argument list, as the command loop reads it.
    const req = parseDummyReceiveArgs(args.slice(2));
    assert.equal(req.error, null);
    assert.deepEqual(req.frames.map((f) => Buffer.from(f).toString("hex")), frames.map((f) => Buffer.from(f).toString("hex")));

    // With other_config:vlan-limit=0 both tags of a QinQ key are read.
    env("ovs-vsctl", ["set", "Open_vSwitch", ".", "other_config:vlan-limit=0"]);
    const qinq = FLOWS.filter(([flow]) => /vlan\(.*vlan\(/.test(flow));
    assert.ok(qinq.length >= 2);
    const args2 = ["netdev-dummy/receive", "p1"];
    for (const [flow, len] of qinq) {
      args2.push(flow);
      if (len !== undefined) args2.push("--len", String(len));
    }
    assert.equal(appctl(dir, args2).status, 0);
    const total = FLOWS.length + qinq.length;
    for (let i = 0; i < 50 && frames.length < total; i++) {
      frames = readPcap(pcap);
      if (frames.length < total) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
    assert.equal(frames.length, total);
    qinq.forEach(([flow, len], i) => {
      const ours = packetFromFlowText(flow, null, len === undefined ? { vlanLimit: 0 } : { len, vlanLimit: 0 });
      assert.ok("packet" in ours, flow);
      assert.equal(Buffer.from(ours.packet).toString("hex"), Buffer.from(frames[FLOWS.length + i]!).toString("hex"), flow);
    });

    // Bad datapath flows: same error text.
    const errMismatches: string[] = [];
    for (const [flow, len] of BAD_DP) {
      const rr = appctl(dir, ["netdev-dummy/receive", "p1", flow, ...(len !== undefined ? ["--len", len] : [])]);
      assert.notEqual(rr.status, 0, `OVS accepted ${flow}`);
      const ours = packetFromFlowText(flow, null, len === undefined ? {} : { len: parseLenArg(len) });
      const got = "error" in ours ? ours.error : "(accepted)";
      const want = appctlError(rr.stderr);
      if (got !== want) errMismatches.push(`${flow}: ovs "${want}" tsovs "${got}"`);
    }
    // Bad OpenFlow flows through ofproto/trace br0.
    const ports = new Map([["p1", 1], ["p2", 2], ["br0", 0xfffe]]);
    for (const flow of BAD_OF) {
      const rr = appctl(dir, ["ofproto/trace", "br0", flow]);
      assert.notEqual(rr.status, 0, `OVS accepted ${flow}`);
      const ours = packetFromFlowText(flow, null, { openflow: ofpExactFlowParser(ports) });
      const got = "error" in ours ? ours.error : "(accepted)";
      const want = appctlError(rr.stderr);
      if (got !== want) errMismatches.push(`${flow}: ovs "${want}" tsovs "${got}"`);
    }
    assert.deepEqual(errMismatches, []);

    // OpenFlow flows: OVS reads each as the same flow as its datapath twin
    // (same "Flow:" line in ofproto/trace), and so do we (same packet).
    for (const [of, dp] of OF_EQUIV) {
      const a = appctl(dir, ["ofproto/trace", "br0", of]);
      const b = appctl(dir, ["ofproto/trace", dp]);
      assert.equal(a.status, 0, a.stderr);
      assert.equal(b.status, 0, b.stderr);
      assert.equal(a.stdout.split("\n")[0], b.stdout.split("\n")[0], of);
      const ours = packetFromFlowText(of, null, { openflow: ofpExactFlowParser(ports) });
      const twin = packetFromFlowText(dp);
      assert.ok("packet" in ours && "packet" in twin, of);
      assert.equal(Buffer.from(ours.packet).toString("hex"), Buffer.from(twin.packet).toString("hex"), of);
    }
  } finally {
    for (const p of ["ovs-vswitchd", "ovsdb-server"]) {
      try {
        const pid = Number(fs.readFileSync(path.join(dir, `${p}.pid`), "utf8").trim());
        if (pid > 0) process.kill(pid, "SIGTERM");
      } catch {
        /* not running */
      }
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
