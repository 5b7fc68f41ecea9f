/**
 * An in-process bridge for translation tests: an Ofproto with ports, an
 * XBridge over it (odp port = OpenFlow port, LOCAL = odp 100 as OVS's
 * dummy datapath numbers them), a trivial MAC table, and helpers to add
 * flows / groups / meters from ovs-ofctl text and to run traces; and the
 * differential cases run against a real ovs-vswitchd (XLATE_CASES,
 * `runAll`), shared by test/ofproto/xlate-ovs.test.ts and by hand:
 * `node -e 'import("./dist/test/util/xlate.js").then(m=>m.printDiffs())'`.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { Ofproto } from "../../src/ofproto/ofproto.js";
import { parseFlowText } from "../../src/openflow/ofp-flow-parse.js";
import { flowModFromWire } from "../../src/ofproto/flow-mod-wire.js";
import { parseGroupMod, GROUP_COMMAND_ADD } from "../../src/openflow/ofp-group-parse.js";
import { parseMeterMod } from "../../src/openflow/ofp-meter-parse.js";
import type { MacEntry, MacTable, XBridge, XBundle, XPort } from "../../src/ofproto/xlate-types.js";
import { traceReport, parseTraceArgs, registerTraceCommands } from "../../src/ofproto/trace.js";
import { UnixctlRegistry } from "../../src/unixctl/index.js";
import { decodeActions, decodeInstructions, encodeActions, encodeInstructions } from "../../src/openflow/ofp-actions-codec.js";
import type { OfpAction } from "../../src/openflow/ofp-actions.js";
import { parseOfpExactFlow } from "../../src/openflow/ofp-exact-flow.js";
import { xlateActions } from "../../src/ofproto/xlate.js";
import { FLOW_U32S } from "../../src/flow/key-layout.js";

export const OFPP_LOCAL = 0xfffe;
export const LOCAL_ODP = 100;

class SimpleMacTable implements MacTable {
  readonly entries = new Map<string, MacEntry>();
  private key(mac: Uint8Array, off: number, vlan: number): string {
    let k = `${vlan}/`;
    for (let i = 0; i < 6; i++) k += mac[off + i]!.toString(16) + ":";
    return k;
  }
  lookup(mac: Uint8Array, off: number, vlan: number): MacEntry | null {
    return this.entries.get(this.key(mac, off, vlan)) ?? null;
  }
  learn(mac: Uint8Array, off: number, vlan: number, bundle: XBundle, now: number): boolean {
    const k = this.key(mac, off, vlan);
    const e = this.entries.get(k);
    if (e !== undefined && e.bundle === bundle) {
      e.used = now;
      return false;
    }
    this.entries.set(k, { mac: mac.slice(off, off + 6), vlan, bundle, used: now, isStatic: false });
    return true;
  }
  mayLearn(mac: Uint8Array, off: number): boolean {
    return (mac[off]! & 1) === 0;
  }
}

export interface TestBridge {
  ofproto: Ofproto;
  xbridge: XBridge;
  /** Adds a flow; `wireVersion` (OpenFlow wire version, 0 = none) round-trips its actions through that version's encoding. */
  addFlow(text: string, wireVersion?: number): void;
  addGroup(text: string, wireVersion?: number): void;
  addMeter(text: string): void;
  /** `ofproto/trace` as OVS's command line takes it (without the bridge name). */
  trace(...args: string[]): string;
  /** Runs a registered unixctl command (ofproto/trace, ofproto/trace-packet-out) with these bridges. */
  command(name: string, args: string[], others?: TestBridge[]): Promise<string>;
}

/** A bridge with ports `ports` (OpenFlow numbers; odp = same number). */
export function makeBridge(name: string, ports: readonly number[], opts: { patchPeers?: boolean } = {}): TestBridge {
  void opts;
  const ofproto = new Ofproto(name, { expiryTimer: false, datapathId: 0x1n });
  for (const no of ports) ofproto.addPort({ name: `p${no}`, ofpNo: no }, false);
  const xports = new Map<number, XPort>();
  const bundles = new Map<string, XBundle>();
  const xbridge: XBridge = {
    name,
    ofproto,
    ports: xports,
    portByOdp(odp: number): XPort | null {
      for (const p of xports.values()) if (p.odpNo === odp) return p;
      return null;
    },
    bundles,
    macs: new SimpleMacTable(),
    localOdpNo: LOCAL_ODP,
    forwardBpdu: false,
    datapathName: "ovs-dummy",
    now: () => Date.now(),
  };
  for (const op of ofproto.orderedPorts()) {
    const bundle: XBundle = {
      name: op.ofpNo === OFPP_LOCAL ? name : op.name, ports: [], vlanMode: "trunk", vlan: -1, trunks: null, cvlans: null,
      qinqEthtype: 0x8100,
    };
    const xp: XPort = {
      ofpNo: op.ofpNo, odpNo: op.ofpNo === OFPP_LOCAL ? LOCAL_ODP : op.ofpNo, name: bundle.name,
      type: op.ofpNo === OFPP_LOCAL ? "internal" : "dummy", config: op.config, state: op.state, bundle, peer: null,
      bridge: xbridge, hwAddr: op.hwAddr,
    };
    bundle.ports.push(xp);
    bundles.set(bundle.name, bundle);
    xports.set(op.ofpNo, xp);
  }
  const tb: TestBridge = {
    ofproto,
    xbridge,
    addFlow(text: string, wireVersion = 0): void {
      const p = parseFlowText(text, 0);
      if (!p.ok) throw new Error(`${text}: ${p.error}`);
      if (wireVersion !== 0) {
        // As the switch would see it after ovs-ofctl sent it in that OpenFlow version.
        const enc = encodeInstructions(p.fm.actions as OfpAction[], wireVersion);
        if (enc instanceof Uint8Array) {
          const dec = decodeInstructions(enc, wireVersion);
          if (Array.isArray(dec)) (p.fm as { actions: OfpAction[] }).actions = dec;
        }
      }
      const fm = flowModFromWire(p.fm as never, 4);
      if (typeof fm === "string") throw new Error(`${text}: ${fm}`);
      if (fm.tableId === 255) fm.tableId = 0;
      const r = ofproto.tables.flowMod(fm as never, Date.now());
      if (!r.ok) throw new Error(`${text}: ${r.error}`);
    },
    addGroup(text: string, wireVersion = 0): void {
      const g = parseGroupMod(text, GROUP_COMMAND_ADD);
      if ("error" in g) throw new Error(`${text}: ${g.error}`);
      if (wireVersion !== 0) {
        for (const b of g.buckets as { actions: OfpAction[] }[]) {
          const enc = encodeActions(b.actions, wireVersion);
          if (enc instanceof Uint8Array) {
            const dec = decodeActions(enc, wireVersion);
            if (Array.isArray(dec)) b.actions = dec;
          }
        }
      }
      const r = ofproto.groupTable.groupMod(g as never, Date.now());
      if (!r.ok) throw new Error(`${text}: ${r.error}`);
    },
    addMeter(text: string): void {
      const m = parseMeterMod(text, 0);
      if ("error" in m) throw new Error(`${text}: ${m.error}`);
      const r = ofproto.meterTable.meterMod(m as never, Date.now());
      if (!r.ok) throw new Error(`${text}: ${r.error}`);
    },
    async command(cmd: string, args: string[], others: TestBridge[] = []): Promise<string> {
      const all = [tb, ...others];
      const reg = new UnixctlRegistry();
      registerTraceCommands(reg, {
        bridges: () => all.map((t) => ({ name: t.xbridge.name, xbridge: t.xbridge })),
        bridge: (n: string) => all.find((t) => t.xbridge.name === n) ?? null,
      });
      const r = await reg.execute(cmd, args, null as never);
      return "result" in r ? r.result : `ERROR: ${r.error}`;
    },
    trace(...args: string[]): string {
      const bridges = { bridges: () => [{ name, xbridge }], bridge: (n: string) => (n === name ? { xbridge } : null) };
      const t = parseTraceArgs([name, ...args], bridges);
      return traceReport(t.bridge, t.flow, { packet: t.packet }).text;
    },
  };
  return tb;
}

/** Connects two bridges with a patch port pair (OpenFlow numbers `aNo` / `bNo`). */
export function patch(a: TestBridge, aNo: number, b: TestBridge, bNo: number): void {
  a.ofproto.addPort({ name: `patch-${b.xbridge.name}`, ofpNo: aNo }, false);
  b.ofproto.addPort({ name: `patch-${a.xbridge.name}`, ofpNo: bNo }, false);
  const mk = (t: TestBridge, no: number, nm: string): XPort => {
    const op = t.ofproto.ports.get(no)!;
    const bundle: XBundle = { name: nm, ports: [], vlanMode: "trunk", vlan: -1, trunks: null, cvlans: null, qinqEthtype: 0x8100 };
    const xp: XPort = { ofpNo: no, odpNo: -1, name: nm, type: "patch", config: op.config, state: op.state, bundle, peer: null, bridge: t.xbridge, hwAddr: op.hwAddr };
    bundle.ports.push(xp);
    (t.xbridge.bundles as Map<string, XBundle>).set(nm, bundle);
    (t.xbridge.ports as Map<number, XPort>).set(no, xp);
    return xp;
  };
  const pa = mk(a, aNo, `patch-${b.xbridge.name}`);
  const pb = mk(b, bNo, `patch-${a.xbridge.name}`);
  pa.peer = pb;
  pb.peer = pa;
}

/* ---------------- differential cases ---------------- */

export interface XlateCase {
  name: string;
  flows: string[];
  groups?: string[];
  meters?: string[];
  traces: string[];
  /** Compare only the Datapath actions line. */
  actionsOnly?: boolean;
  /** Compare the datapath actions as a set of outputs (flooding follows OVS's hash-map order, which depends on its history). */
  unordered?: boolean;
  /**
   * The Megaflow line may differ: the classifier's staged lookup
   * un-wildcards a different (still correct) set of fields than OVS's.
   */
  megaflowMayDiffer?: boolean;
  /** Trace with ofproto/trace-packet-out and these actions instead of ofproto/trace. */
  packetOut?: string;
}

const T1 = "in_port=1,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_src=1000,tp_dst=80,nw_ttl=64";
const U1 = "in_port=1,udp,nw_src=10.0.0.1,nw_dst=10.0.0.2,udp_src=53,udp_dst=5353,nw_ttl=64";
const I1 = "in_port=1,icmp,nw_src=10.0.0.1,nw_dst=10.0.0.2,icmp_type=8,icmp_code=0,nw_ttl=64";
const A1 = "in_port=1,arp,arp_spa=10.0.0.1,arp_tpa=10.0.0.2,arp_op=1,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff";
const V6 = "in_port=1,tcp6,ipv6_src=2001:db8::1,ipv6_dst=2001:db8::2,tp_src=1000,tp_dst=22,nw_ttl=64";
const VL = "in_port=1,dl_vlan=10,dl_vlan_pcp=3,tcp,nw_src=10.0.0.1,nw_dst=10.0.0.2,tp_dst=80";

export const XLATE_CASES: XlateCase[] = [
  { name: "no flows", flows: [], traces: [T1, U1] },
  { name: "output", flows: ["in_port=1 actions=output:2"], traces: [T1, U1, I1, A1, V6, "in_port=2,tcp"] },
  { name: "drop", flows: ["in_port=1 actions=drop"], traces: [T1] },
  { name: "multiple outputs", flows: ["in_port=1 actions=output:2,output:3,LOCAL"], traces: [T1] },
  { name: "in_port output", flows: ["in_port=1 actions=output:1,IN_PORT"], traces: [T1] },
  { name: "nonexistent port", flows: ["in_port=1 actions=output:9,output:2"], traces: [T1] },
  { name: "match l3", flows: ["ip,nw_dst=10.0.0.0/8 actions=output:2", "priority=10 actions=output:3"], traces: [T1, U1, A1, V6] },
  { name: "match l4", flows: ["tcp,tp_dst=80 actions=output:2", "udp,udp_dst=5353 actions=output:3", "priority=0 actions=drop"], traces: [T1, U1, I1] },
  { name: "mod_dl", flows: ["in_port=1 actions=mod_dl_src:00:00:00:00:00:aa,mod_dl_dst:00:00:00:00:00:bb,output:2"], traces: [T1, A1] },
  { name: "mod_dl_src only", flows: ["in_port=1,dl_dst=00:00:00:00:00:01 actions=mod_dl_src:00:00:00:00:00:02,output:2"], traces: ["in_port=1,dl_dst=00:00:00:00:00:01,tcp"] },
  { name: "mod_nw", flows: ["in_port=1,ip actions=mod_nw_src:1.1.1.1,mod_nw_dst:2.2.2.2,mod_nw_tos:16,output:2"], traces: [T1, U1, I1] },
  { name: "mod_tp", flows: ["in_port=1,tcp actions=mod_tp_src:1,mod_tp_dst:2,output:2", "in_port=1,udp actions=mod_tp_dst:99,output:3"], traces: [T1, U1] },
  { name: "dec_ttl", flows: ["in_port=1,ip actions=dec_ttl,output:2", "in_port=1,ipv6 actions=dec_ttl,output:3"], traces: [T1, V6, "in_port=1,tcp,nw_ttl=1", "in_port=1,tcp,nw_ttl=0"] },
  { name: "set_ttl", flows: ["in_port=1,ip actions=mod_nw_ttl:5,output:2"], traces: [T1] },
  { name: "resubmit", flows: ["in_port=1 actions=resubmit(,1)", "table=1,tcp actions=output:2", "table=1,udp actions=resubmit(,2)", "table=2 actions=output:3"], traces: [T1, U1, I1] },
  { name: "resubmit in_port", flows: ["in_port=1 actions=resubmit:2", "in_port=2 actions=output:3"], traces: [T1] },
  { name: "goto_table", flows: ["table=0,in_port=1 actions=mod_nw_src:9.9.9.9,goto_table:3", "table=3,ip,nw_src=9.9.9.9 actions=output:4", "table=3,priority=0 actions=output:2"], traces: [T1, A1] },
  { name: "resubmit loop", flows: ["in_port=1 actions=resubmit(,0)"], traces: [T1] },
  { name: "regs", flows: ["in_port=1,ip actions=load:0x5->NXM_NX_REG0[],move:NXM_OF_IP_SRC[]->NXM_NX_REG1[],resubmit(,1)", "table=1,reg0=5 actions=output:2", "table=1,priority=0 actions=output:3"], traces: [T1, U1] },
  { name: "move to packet", flows: ["in_port=1,ip actions=move:NXM_OF_IP_SRC[]->NXM_OF_IP_DST[],move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],output:2"], traces: [T1] },
  { name: "set_field", flows: ["in_port=1,ip actions=set_field:10.1.1.1->ip_dst,set_field:00:11:22:33:44:55->eth_src,output:2"], traces: [T1, U1] },
  { name: "vlan push", flows: ["in_port=1 actions=push_vlan:0x8100,set_field:4106->vlan_vid,output:2"], traces: [T1, VL] },
  { name: "mod_vlan_vid", flows: ["in_port=1 actions=mod_vlan_vid:20,output:2"], traces: [T1, VL] },
  { name: "mod_vlan_pcp", flows: ["in_port=1 actions=mod_vlan_pcp:5,output:2"], traces: [T1, VL] },
  { name: "strip_vlan", flows: ["in_port=1 actions=strip_vlan,output:2"], traces: [T1, VL] },
  { name: "vlan match and strip", flows: ["in_port=1,dl_vlan=10 actions=strip_vlan,output:2", "in_port=1,vlan_tci=0/0x1fff actions=mod_vlan_vid:10,output:3"], traces: [T1, VL] },
  { name: "mpls push", flows: ["in_port=1,ip actions=push_mpls:0x8847,set_field:100->mpls_label,output:2"], traces: [T1] },
  { name: "mpls pop", flows: ["in_port=1,mpls actions=pop_mpls:0x0800,output:2"], traces: ["in_port=1,mpls,mpls_label=100,mpls_ttl=64,mpls_bos=1"] },
  { name: "set_queue", flows: ["in_port=1 actions=set_queue:5,output:2", "in_port=2 actions=enqueue:3:7"], traces: [T1, "in_port=2,tcp"] },
  { name: "controller", flows: ["in_port=1 actions=controller(userdata=01.02.03),output:2", "in_port=2 actions=CONTROLLER:100"], traces: [T1, "in_port=2,tcp"] },
  { name: "note exit", flows: ["in_port=1 actions=note:01.02,output:2,exit,output:3"], traces: [T1] },
  { name: "clone", flows: ["in_port=1,ip actions=clone(mod_nw_src:1.1.1.1,output:2),output:3"], traces: [T1] },
  { name: "write_actions", flows: ["in_port=1 actions=write_actions(output:2),goto_table:1", "table=1 actions=mod_nw_src:3.3.3.3"], traces: [T1] },
  { name: "clear_actions", flows: ["in_port=1 actions=write_actions(output:2),goto_table:1", "table=1 actions=clear_actions"], traces: [T1] },
  { name: "write_metadata", flows: ["in_port=1 actions=write_metadata:0x12/0xff,goto_table:1", "table=1,metadata=0x12 actions=output:2", "table=1,priority=0 actions=output:3"], traces: [T1] },
  { name: "group all", groups: ["group_id=1,type=all,bucket=output:2,bucket=mod_nw_src:1.1.1.1,output:3"], flows: ["in_port=1 actions=group:1"], traces: [T1, A1] },
  { name: "group indirect", groups: ["group_id=2,type=indirect,bucket=output:4"], flows: ["in_port=1 actions=group:2,output:3"], traces: [T1] },
  { name: "group ff", groups: ["group_id=3,type=ff,bucket=watch_port:2,output:2,bucket=watch_port:3,output:3"], flows: ["in_port=1 actions=group:3"], traces: [T1] },
  { name: "multipath", flows: ["in_port=1 actions=multipath(eth_src,50,modulo_n,4,0,NXM_NX_REG0[0..1]),resubmit(,1)", "table=1,reg0=0 actions=output:1", "table=1,reg0=1 actions=output:2", "table=1,reg0=2 actions=output:3", "table=1,reg0=3 actions=output:4"], traces: ["in_port=1,dl_src=00:00:00:00:00:01,tcp", "in_port=1,dl_src=00:00:00:00:00:02,tcp", "in_port=1,dl_src=00:00:00:00:00:07,tcp"] },
  { name: "multipath l4 hrw", flows: ["in_port=1 actions=multipath(symmetric_l4,0,hrw,2,0,NXM_NX_REG1[]),resubmit(,1)", "table=1,reg1=0 actions=output:2", "table=1,reg1=1 actions=output:3"], traces: [T1, U1, "in_port=1,tcp,nw_src=1.2.3.4,tp_src=7"] },
  { name: "bundle", flows: ["in_port=1 actions=bundle(eth_src,0,hrw,ofport,members:2,3,4)"], traces: ["in_port=1,dl_src=00:00:00:00:00:01,tcp", "in_port=1,dl_src=00:00:00:00:00:05,tcp"] },
  { name: "bundle active_backup", flows: ["in_port=1 actions=bundle(eth_src,0,active_backup,ofport,members:3,2)"], traces: [T1] },
  { name: "output reg", flows: ["in_port=1 actions=load:3->NXM_NX_REG2[0..15],output:NXM_NX_REG2[0..15]"], traces: [T1] },
  { name: "learn", flows: ["in_port=1 actions=learn(table=1,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],load:NXM_OF_IN_PORT[]->NXM_NX_REG0[0..15],output:NXM_OF_IN_PORT[]),output:2"], traces: ["in_port=1,dl_src=00:00:00:00:00:01,tcp"] },
  { name: "fin_timeout", flows: ["in_port=1,tcp actions=fin_timeout(idle_timeout=5),output:2"], traces: [T1] },
  { name: "stack", flows: ["in_port=1,ip actions=push:NXM_OF_IP_SRC[],pop:NXM_NX_REG3[],resubmit(,1)", "table=1,reg3=0x0a000001 actions=output:2", "table=1,priority=0 actions=output:3"], traces: [T1] },
  { name: "cookie", flows: ["cookie=0x123,in_port=1 actions=output:2"], traces: [T1] },
  { name: "priorities", flows: ["priority=100,tcp actions=output:2", "priority=200,tcp,tp_dst=80 actions=output:3", "priority=50 actions=output:4"], traces: [T1, U1, "in_port=1,tcp,tp_dst=81"] },
  { name: "flood", flows: ["in_port=1 actions=FLOOD", "in_port=2 actions=ALL"], traces: [T1, "in_port=2,udp"], actionsOnly: true, unordered: true },
  { name: "check_pkt_larger", flows: ["in_port=1 actions=check_pkt_larger(200)->NXM_NX_REG0[0],resubmit(,1)", "table=1,reg0=1 actions=output:2", "table=1,priority=0 actions=output:3"], traces: [T1] },
  { name: "meter", meters: ["meter=1,pktps,band=type=drop,rate=10"], flows: ["in_port=1 actions=meter:1,output:2"], traces: [T1] },
  { name: "icmp rewrite", flows: ["in_port=1,icmp actions=set_field:0->icmp_type,output:2"], traces: [I1] },
  { name: "arp rewrite", flows: ["in_port=1,arp actions=set_field:9.9.9.9->arp_spa,output:2"], traces: [A1] },
  { name: "ipv6 rewrite", flows: ["in_port=1,ipv6 actions=set_field:2001:db8::9->ipv6_dst,output:2"], traces: [V6] },
  { name: "frag", flows: ["in_port=1,tcp,tp_dst=80 actions=output:2", "priority=0 actions=output:3"], traces: ["in_port=1,tcp,tp_dst=80,nw_frag=first", "in_port=1,tcp,tp_dst=80,nw_frag=later"] },
  { name: "mod_nw_ecn", flows: ["in_port=1,ip actions=mod_nw_ecn:2,output:2"], traces: [T1] },
  { name: "pkt_mark", flows: ["in_port=1 actions=set_field:0x42->pkt_mark,output:2"], traces: [T1] },
  { name: "select group", groups: ["group_id=5,type=select,bucket=output:2,bucket=output:3"], flows: ["in_port=1 actions=group:5"], traces: [T1, U1] },
  { name: "select group hash", groups: ["group_id=6,type=select,selection_method=hash,fields(ip_src,ip_dst),bucket=output:2,bucket=output:3,bucket=output:4"], flows: ["in_port=1 actions=group:6"], traces: [T1, U1, "in_port=1,tcp,nw_src=9.9.9.9"] },
  { name: "group in action set", groups: ["group_id=8,type=all,bucket=output:3"], flows: ["in_port=1 actions=write_actions(group:8,output:2)"], traces: [T1] },
  { name: "ipv6 dec_ttl and mod", flows: ["in_port=1,ipv6 actions=dec_ttl,set_field:2001:db8::7->ipv6_src,output:2"], traces: [V6] },
  { name: "table miss continue", flows: ["table=1,in_port=1 actions=output:4"], traces: [T1] },
  { name: "normal flood", flows: ["actions=NORMAL"], traces: ["in_port=1,dl_src=00:00:00:00:00:01,dl_dst=ff:ff:ff:ff:ff:ff,arp", "in_port=2,dl_src=00:00:00:00:00:02,dl_dst=00:00:00:00:00:01,tcp", "in_port=1,dl_vlan=5,dl_src=00:00:00:00:00:01,dl_dst=00:00:00:00:00:09,tcp"], actionsOnly: true, unordered: true },
  { name: "normal after rewrite", flows: ["in_port=1 actions=mod_dl_dst:ff:ff:ff:ff:ff:ff,NORMAL"], traces: [T1], actionsOnly: true, unordered: true },
  { name: "patch port", flows: ["in_port=1 actions=mod_nw_src:7.7.7.7,output:10", "in_port=2 actions=output:10,output:3"], traces: [T1, "in_port=2,udp"] },
  { name: "ct commit recirc", flows: ["table=0,in_port=1,ip actions=ct(commit,zone=5,table=1,exec(set_field:0x7->ct_mark))", "table=1,ct_state=+trk+new,ip actions=output:2", "table=1,priority=0 actions=drop"], traces: [T1] },
  { name: "ct zone from reg", flows: ["table=0,in_port=1,ip actions=load:0x9->NXM_NX_REG3[0..15],ct(zone=NXM_NX_REG3[0..15],table=2)", "table=2,ct_state=+trk,ct_zone=9 actions=ct_clear,output:3"], traces: [T1] },
  { name: "ct nat", flows: ["table=0,in_port=1,ip actions=ct(commit,nat(src=10.9.9.9-10.9.9.10:100-200)),output:2"], traces: [T1] },
  { name: "mpls pop resubmit", flows: ["in_port=1,mpls actions=pop_mpls:0x0800,resubmit(,1)", "table=1,ip,nw_dst=10.0.0.2 actions=output:2", "table=1,priority=0 actions=output:3"], traces: ["in_port=1,mpls,mpls_label=100,mpls_ttl=64,mpls_bos=1"] },
  { name: "mpls double push", flows: ["in_port=1,ip actions=push_mpls:0x8847,set_field:10->mpls_label,push_mpls:0x8847,set_field:20->mpls_label,dec_mpls_ttl,output:2"], traces: [T1] },
  { name: "dec_ttl ids", flows: ["in_port=1,ip actions=dec_ttl(1,2),output:2"], traces: ["in_port=1,tcp,nw_ttl=1", T1] },
  { name: "controller pause", flows: ["in_port=1 actions=controller(pause),output:2"], traces: [T1] },
  { name: "group chain", groups: ["group_id=11,type=all,bucket=output:2", "group_id=12,type=indirect,bucket=group:11,output:3"], flows: ["in_port=1 actions=group:12"], traces: [T1] },
  { name: "nd target", megaflowMayDiffer: true, flows: ["in_port=1,icmp6,icmp_type=135,nd_target=fe80::1 actions=output:2", "priority=0 actions=drop"], traces: ["in_port=1,icmp6,icmpv6_type=135,icmpv6_code=0,nd_target=fe80::1", "in_port=1,icmp6,icmpv6_type=136,icmpv6_code=0,nd_target=fe80::1"] },
  { name: "set vlan on tagged", flows: ["in_port=1,dl_vlan=10 actions=set_field:4196->vlan_vid,output:2"], traces: [VL] },
  { name: "pop vlan then push", flows: ["in_port=1,dl_vlan=10 actions=pop_vlan,push_vlan:0x88a8,set_field:4097->vlan_vid,output:2"], traces: [VL] },
  { name: "resubmit table 255", flows: ["table=0,in_port=1 actions=resubmit(,3)", "table=3,in_port=1 actions=mod_nw_src:4.4.4.4,resubmit(2,255)", "table=3,in_port=2 actions=output:4"], traces: [T1] },
  { name: "packet-out", flows: [], packetOut: "mod_nw_src:1.1.1.1,output:2,controller", traces: [T1] },
  { name: "packet-out resubmit", flows: ["table=1,tcp actions=output:3"], packetOut: "resubmit(,1),output:4", traces: [T1, U1] },
  { name: "trace errors", flows: [], traces: ["in_port=1,frob=1", "in_port=1,tcp,tp_dst=99999", "in_port=1,tcp 0011"] },
  { name: "trace with packet", flows: ["in_port=1,udp,tp_dst=53 actions=output:2", "priority=0 actions=output:3"], traces: ["in_port=1 000000000002000000000001080045000020000000004011000000000001000000020035003500000000"] },
  { name: "dscp after output", flows: ["in_port=1,ip actions=output:2,set_field:8->ip_dscp", "in_port=2,ip actions=set_field:8->ip_dscp,output:3", "in_port=3,ip actions=mod_nw_tos:16,mod_nw_ecn:1,output:4"], traces: [T1, "in_port=2,icmp", "in_port=3,ip"] },
  { name: "check_pkt_larger last", flows: ["in_port=1 actions=output:2,check_pkt_larger(64)->NXM_NX_REG0[0]", "in_port=2 actions=check_pkt_larger(64)->NXM_NX_REG0[0],write_actions(output:3)", "in_port=3 actions=resubmit(,1)", "table=1 actions=write_actions(output:4),goto_table:2", "table=2 actions=output:1,check_pkt_larger(64)->NXM_NX_REG0[0]"], traces: [T1, "in_port=2,tcp", "in_port=3,tcp"] },
  { name: "deep resubmit chain", flows: Array.from({ length: 70 }, (_, i) => `table=${i},in_port=1 actions=resubmit(,${i + 1})`), traces: [T1] },
];

/* ---------------- running them against ovs-vswitchd ---------------- */

export interface TraceComparison {
  caseName: string;
  trace: string;
  ovs: string;
  ours: string;
  actionsEqual: boolean;
  megaflowEqual: boolean;
  fullEqual: boolean;
}

function sh(cmd: string, args: string[], env: NodeJS.ProcessEnv, input?: string): { status: number; out: string; err: string } {
  const r = spawnSync(cmd, args, { env, input, encoding: "utf8", timeout: 20_000 });
  return { status: r.status ?? -1, out: r.stdout ?? "", err: r.stderr ?? "" };
}

/** Normalizes what legitimately differs between the two switches (recirculation ids). */
export function normalize(s: string): string {
  return s.replace(/recirc_id=\d+,rule_cookie/g, "recirc_id=N,rule_cookie").replace(/recirc\(0x[0-9a-f]+\)/g, "recirc(N)")
    .replace(/recirc_id=0x[0-9a-f]+/g, "recirc_id=0xN");
}

function line(s: string, prefix: string): string {
  return s.split("\n").find((l) => l.startsWith(prefix)) ?? "";
}

export interface OvsInstance {
  dir: string;
  env: NodeJS.ProcessEnv;
  stop(): void;
}

export function startOvs(dir: string): OvsInstance {
  const env = { ...process.env, OVS_RUNDIR: dir, OVS_DBDIR: dir, OVS_LOGDIR: dir };
  const ok = (r: { status: number; err: string }, what: string): void => {
    if (r.status !== 0) throw new Error(`${what}: ${r.err}`);
  };
  ok(sh("ovsdb-tool", ["create", path.join(dir, "conf.db"), "/usr/share/openvswitch/vswitch.ovsschema"], env), "ovsdb-tool");
  ok(sh("ovsdb-server", ["--detach", "--pidfile", "--log-file", `--remote=punix:${path.join(dir, "db.sock")}`, path.join(dir, "conf.db")], env), "ovsdb-server");
  ok(sh("ovs-vsctl", ["--no-wait", "init"], env), "init");
  ok(sh("ovs-vswitchd", ["--enable-dummy=override", "--disable-system", "--detach", "--pidfile", "--log-file"], env), "ovs-vswitchd");
  const args = ["add-br", "br0", "--", "set", "bridge", "br0", "datapath_type=dummy", "fail-mode=secure", "protocols=OpenFlow10,OpenFlow13,OpenFlow15"];
  for (let i = 1; i <= 4; i++) args.push("--", "add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`);
  ok(sh("ovs-vsctl", args, env), "add-br");
  ok(sh("ovs-vsctl", ["add-br", "br1", "--", "set", "bridge", "br1", "datapath_type=dummy", "fail-mode=secure",
    "--", "add-port", "br1", "p5", "--", "set", "interface", "p5", "type=dummy", "ofport_request=5",
    "--", "add-port", "br0", "patch-br1", "--", "set", "interface", "patch-br1", "type=patch", "options:peer=patch-br0", "ofport_request=10",
    "--", "add-port", "br1", "patch-br0", "--", "set", "interface", "patch-br0", "type=patch", "options:peer=patch-br1", "ofport_request=20"], env), "add-br br1");
  ok(sh("ovs-ofctl", ["add-flow", "br1", "in_port=20 actions=output:5"], env), "br1 flow");
  return {
    dir,
    env,
    stop(): void {
      for (const name of ["ovs-vswitchd", "ovsdb-server"]) {
        try {
          const pid = Number(fs.readFileSync(path.join(dir, `${name}.pid`), "utf8").trim());
          if (pid > 0) process.kill(pid, "SIGTERM");
        } catch {
          // already gone
        }
      }
    },
  };
}

/** Runs one case on both; returns the comparisons. */
export async function runCase(ovs: OvsInstance, c: XlateCase): Promise<TraceComparison[]> {
  const env = ovs.env;
  sh("ovs-ofctl", ["-O", "OpenFlow15", "del-flows", "br0"], env);
  sh("ovs-ofctl", ["-O", "OpenFlow15", "del-groups", "br0"], env);
  sh("ovs-ofctl", ["-O", "OpenFlow15", "del-meters", "br0"], env);
  const ours = makeBridge("br0", [1, 2, 3, 4]);
  const peer = makeBridge("br1", [5]);
  patch(ours, 10, peer, 20);
  peer.addFlow("in_port=20 actions=output:5");
  for (const m of c.meters ?? []) {
    const r = sh("ovs-ofctl", ["-O", "OpenFlow15", "add-meter", "br0", m], env);
    if (r.status !== 0) throw new Error(`${c.name}: add-meter ${m}: ${r.err}`);
    ours.addMeter(m);
  }
  for (const g of c.groups ?? []) {
    const r = sh("ovs-ofctl", ["-O", "OpenFlow15", "add-group", "br0", g], env);
    if (r.status !== 0) throw new Error(`${c.name}: add-group ${g}: ${r.err}`);
    ours.addGroup(g, 6);
  }
  if (c.flows.length > 0) {
    const r = sh("ovs-ofctl", ["-O", "OpenFlow15", "add-flows", "br0", "-"], env, c.flows.join("\n") + "\n");
    if (r.status === 0) {
      for (const f of c.flows) ours.addFlow(f, 6);
    } else {
      for (const f of c.flows) {
        let v = 6;
        let r2 = sh("ovs-ofctl", ["-O", "OpenFlow15", "add-flow", "br0", f], env);
        if (r2.status !== 0) {
          v = 1;
          r2 = sh("ovs-ofctl", ["add-flow", "br0", f], env);
        }
        if (r2.status !== 0) throw new Error(`${c.name}: add-flow ${f}: ${r2.err}`);
        ours.addFlow(f, v);
      }
    }
  }
  const out: TraceComparison[] = [];
  for (const t of c.traces) {
    const cmd = c.packetOut !== undefined ? "ofproto/trace-packet-out" : "ofproto/trace";
    const args = c.packetOut !== undefined ? ["br0", t, c.packetOut] : ["br0", t];
    const r = sh("ovs-appctl", [cmd, ...args], env);
    const o = normalize(r.status === 0 ? r.out : `ERROR: ${r.err.split("\n")[0]}\n`);
    const mine = normalize(await ours.command(cmd, args, [peer]));
    const sortPorts = (l: string): string => l.replace(/^Datapath actions: /, "").split(",").sort().join(",");
    const act = c.unordered === true
      ? sortPorts(line(o, "Datapath actions:")) === sortPorts(line(mine, "Datapath actions:"))
      : line(o, "Datapath actions:") === line(mine, "Datapath actions:");
    out.push({
      caseName: c.name, trace: t, ovs: o, ours: mine, actionsEqual: act,
      megaflowEqual: line(o, "Megaflow:") === line(mine, "Megaflow:"),
      fullEqual: c.actionsOnly === true ? act
        : c.megaflowMayDiffer === true ? o.replace(/\nMegaflow: .*\n/, "\n") === mine.replace(/\nMegaflow: .*\n/, "\n") : o === mine,
    });
  }
  return out;
}

export async function runAll(dir: string, cases: readonly XlateCase[] = XLATE_CASES): Promise<TraceComparison[]> {
  const ovs = startOvs(dir);
  try {
    const all: TraceComparison[] = [];
    for (const c of cases) {
      try {
        all.push(...(await runCase(ovs, c)));
      } catch (e) {
        all.push({ caseName: c.name, trace: "(setup)", ovs: "", ours: (e as Error).message, actionsEqual: false, megaflowEqual: false, fullEqual: false });
      }
    }
    return all;
  } finally {
    ovs.stop();
  }
}


/** Runs every case (or those whose name contains `only`) and prints the differences and the counts. */
export async function printDiffs(only?: string): Promise<void> {
  const dir = fs.mkdtempSync("/tmp/xlate-ovs-");
  const res = await runAll(dir, only !== undefined ? XLATE_CASES.filter((c) => c.name.includes(only)) : XLATE_CASES);
  let full = 0, act = 0, mega = 0;
  for (const r of res) {
    if (r.fullEqual) full++;
    if (r.actionsEqual) act++;
    if (r.megaflowEqual) mega++;
    if (!r.fullEqual) process.stdout.write(`=== ${r.caseName}: ${r.trace}\n--- ovs\n${r.ovs}\n--- ours\n${r.ours}\n`);
  }
  process.stdout.write(`traces ${res.length}: full ${full}, actions ${act}, megaflow ${mega}\n`);
  fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * Translation throughput on a 1,000-rule, 4-table pipeline (what the
 * upcall path costs in xlate): translations per second over `ms`.
 */
export function benchXlate(ms = 3000): { xlatePerSec: number; xlatePerCpuSec: number; rulesPerXlate: number } {
  const b = makeBridge("br0", [1, 2, 3, 4]);
  for (let i = 0; i < 250; i++) b.addFlow(`table=0,priority=${100 + i},in_port=1,ip,nw_dst=10.${i >> 8}.${i & 255}.0/24 actions=load:${i}->NXM_NX_REG0[],resubmit(,1)`);
  for (let i = 0; i < 250; i++) b.addFlow(`table=1,priority=${100 + i},reg0=${i},tcp,tp_dst=${1000 + i} actions=mod_dl_src:00:00:00:00:00:01,resubmit(,2)`);
  for (let i = 0; i < 250; i++) b.addFlow(`table=2,priority=${100 + i},tcp,nw_src=192.168.${i >> 8}.${i & 255} actions=dec_ttl,resubmit(,3)`);
  for (let i = 0; i < 250; i++) b.addFlow(`table=3,priority=${100 + i},tcp,tp_src=${2000 + i} actions=output:${2 + (i % 3)}`);
  const flows: Uint32Array[] = [];
  for (let k = 0; k < 1000; k++) {
    const i = k % 250;
    const r = parseOfpExactFlow(`in_port=1,tcp,nw_src=192.168.0.${i},nw_dst=10.0.${i}.5,tp_src=${2000 + i},tp_dst=${1000 + i},nw_ttl=64`);
    if ("error" in r) throw new Error(r.error);
    flows.push(r.flow);
  }
  const wc = new Uint32Array(FLOW_U32S);
  let n = 0;
  let rules = 0;
  const t0 = performance.now();
  const c0 = process.cpuUsage();
  while (performance.now() - t0 < ms) {
    for (let k = 0; k < 1000; k++) {
      const out = xlateActions({ bridge: b.xbridge, flow: flows[k]!, wc, packet: null, mayLearn: false });
      rules = out.rules.length;
      n++;
    }
  }
  const cpu = process.cpuUsage(c0);
  return {
    xlatePerSec: Math.round((n / (performance.now() - t0)) * 1000),
    xlatePerCpuSec: Math.round(n / ((cpu.user + cpu.system) / 1e6)),
    rulesPerXlate: rules,
  };
}
