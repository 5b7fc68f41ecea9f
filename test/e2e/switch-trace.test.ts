/**
 * The whole switch against OVS 3.1, through the real tools only: the same
 * `ovs-vsctl` configuration, `ovs-ofctl` flows and `ovs-appctl
 * ofproto/trace` questions go to `tsovs start` and to ovsdb-server +
 * ovs-vswitchd (dummy datapath), and the trace reports must be identical,
 * line for line — the bridge, the tables, NORMAL, the commit of header
 * changes, and the `Megaflow:` and `Datapath actions:` lines.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";
import { canonicalTrace } from "../util/trace-canon.js";

/** One configuration of br0 and the traces asked of it. */
interface Scenario {
  name: string;
  /** ovs-vsctl arguments run after the bridge and p1..p4 exist (`--` separated commands). */
  vsctl?: string[];
  /** Flows for `ovs-ofctl add-flows` (none: the bridge keeps its default NORMAL flow). */
  flows?: string[];
  /** Flows OVS refuses, each added alone with `ovs-ofctl add-flow`: the errors must be the same. */
  badFlows?: string[];
  /** Groups for `ovs-ofctl add-groups` (added before the flows). */
  groups?: string[];
  traces: string[];
  /** Compare `dump-flows` after the traces too (what -generate's side effects left behind). */
  dumpAfter?: boolean;
}

const MAC1 = "50:54:00:00:00:01";
const MAC2 = "50:54:00:00:00:02";
const IP = `dl_src=${MAC1},dl_dst=${MAC2}`;

const SCENARIOS: Scenario[] = [
  {
    name: "default NORMAL flow",
    traces: [
      `in_port=1,${IP},ip,nw_src=10.0.0.1,nw_dst=10.0.0.2`,
      "in_port=2,dl_src=50:54:00:00:00:02,dl_dst=ff:ff:ff:ff:ff:ff,arp,arp_op=1",
      "in_port=3,dl_src=01:00:00:00:00:01,dl_dst=50:54:00:00:00:01",
      "in_port=LOCAL,dl_src=50:54:00:00:00:09,dl_dst=50:54:00:00:00:01,tcp,tp_dst=80",
    ],
  },
  {
    name: "VLAN access and trunk ports under NORMAL",
    vsctl: ["set", "port", "p1", "tag=10", "--", "set", "port", "p2", "tag=20", "--", "set", "port", "p3", "trunks=10,20", "--", "set", "port", "p4", "tag=10", "vlan_mode=native-untagged", "trunks=20"],
    traces: [
      `in_port=1,${IP},ip`,
      `in_port=2,${IP},ip`,
      `in_port=3,${IP},dl_vlan=10,ip`,
      `in_port=3,${IP},dl_vlan=30,ip`,
      `in_port=1,${IP},dl_vlan=5,ip`,
      `in_port=4,${IP},ip`,
      `in_port=4,${IP},dl_vlan=20,ip`,
    ],
  },
  {
    name: "learning with packets (-generate), and flood_vlans turning it off",
    vsctl: ["set", "bridge", "BR", "flood_vlans=10", "--", "set", "port", "p1", "tag=10", "--", "set", "port", "p2", "tag=10", "--", "set", "port", "p3", "tag=20", "--", "set", "port", "p4", "tag=20"],
    traces: [
      `in_port=1,dl_src=${MAC1},dl_dst=${MAC2},ip -generate`,
      `in_port=2,dl_src=${MAC2},dl_dst=${MAC1},ip -generate`,
      "in_port=3,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:04,ip -generate",
      "in_port=4,dl_src=50:54:00:00:00:04,dl_dst=50:54:00:00:00:03,ip -generate",
      "in_port=3,dl_src=50:54:00:00:00:03,dl_dst=50:54:00:00:00:04,ip -generate",
    ],
  },
  {
    name: "outputs, rewrites and resubmits",
    flows: [
      "table=0,priority=100,in_port=1,ip,nw_dst=10.0.0.0/8,actions=mod_dl_dst:00:00:00:00:00:02,dec_ttl,output:2",
      "table=0,priority=90,in_port=1,tcp,actions=set_field:8080->tcp_dst,resubmit(,1)",
      "table=0,priority=80,in_port=2,actions=push_vlan:0x8100,set_field:4101->vlan_vid,output:3",
      "table=0,priority=70,in_port=3,dl_vlan=5,actions=strip_vlan,output:1,output:4",
      "table=0,priority=60,in_port=4,actions=load:0x2a->NXM_NX_REG0[],goto_table:2",
      "table=0,priority=0,actions=drop",
      "table=1,priority=10,tcp,tp_dst=8080,actions=mod_nw_src:192.168.0.1,output:4",
      "table=1,priority=5,actions=IN_PORT",
      "table=2,priority=10,reg0=42,actions=output:1,resubmit(,3)",
      "table=3,actions=ALL",
    ],
    traces: [
      "in_port=1,ip,nw_src=1.2.3.4,nw_dst=10.1.2.3,nw_ttl=64",
      "in_port=1,tcp,nw_src=1.2.3.4,nw_dst=11.1.2.3,tp_src=1000,tp_dst=80",
      "in_port=1,udp,nw_dst=11.1.2.3",
      "in_port=2,ip",
      "in_port=3,dl_vlan=5,dl_vlan_pcp=3,ip",
      "in_port=3,dl_vlan=6,ip",
      "in_port=4,arp",
    ],
  },
  {
    name: "groups of every type",
    flows: [
      "table=0,in_port=1,actions=group:1",
      "table=0,in_port=2,actions=group:2",
      "table=0,in_port=3,actions=group:3",
      "table=0,in_port=4,actions=group:4",
    ],
    groups: [
      "group_id=1,type=all,bucket=output:2,bucket=mod_vlan_vid:7,output:3",
      "group_id=2,type=indirect,bucket=set_field:10.9.9.9->ip_dst,output:1",
      "group_id=3,type=select,bucket=output:1,bucket=output:2",
      "group_id=4,type=fast_failover,bucket=watch_port:1,output:1,bucket=watch_port:2,output:2",
    ],
    traces: ["in_port=1,ip", "in_port=2,ip,nw_dst=1.1.1.1", "in_port=3,tcp,nw_src=1.2.3.4,tp_src=5", "in_port=4,udp"],
  },
  {
    name: "action sets, clone, exit, registers and conjunctions",
    flows: [
      "table=0,priority=100,in_port=1,actions=write_actions(output:3),write_metadata:0x5/0xff,goto_table:1",
      "table=0,priority=90,in_port=2,actions=clone(mod_dl_src:00:00:00:00:00:aa,output:3),output:4",
      "table=0,priority=80,in_port=3,ip,actions=move:NXM_OF_IP_SRC[]->NXM_NX_REG3[],resubmit(,2),exit,output:1",
      "table=0,priority=70,in_port=4,ip,nw_src=10.0.0.1,actions=conjunction(7,1/2)",
      "table=0,priority=70,in_port=4,ip,nw_dst=10.0.0.2,actions=conjunction(7,2/2)",
      "table=0,priority=70,conj_id=7,in_port=4,ip,actions=output:1",
      "table=0,priority=1,actions=drop",
      "table=1,metadata=0x5/0xff,actions=clear_actions,output:2",
      "table=2,reg3=0x01020304,actions=output:2",
    ],
    traces: ["in_port=1,ip", "in_port=2,ip", "in_port=3,ip,nw_src=1.2.3.4", "in_port=3,ip,nw_src=1.2.3.5", "in_port=4,ip,nw_src=10.0.0.1,nw_dst=10.0.0.2", "in_port=4,ip,nw_src=10.0.0.1,nw_dst=10.0.0.3"],
  },
  {
    name: "controller, dec_ttl expiry, learn and MPLS",
    flows: [
      "table=0,in_port=1,actions=controller(reason=action_set,userdata=01.02,max_len=128)",
      "table=0,in_port=2,ip,actions=dec_ttl,output:1",
      "table=0,in_port=3,actions=learn(table=5,hard_timeout=60,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),output:4",
      "table=0,in_port=4,ip,actions=push_mpls:0x8847,set_field:100->mpls_label,output:1",
      "table=0,in_port=4,mpls,actions=pop_mpls:0x0800,output:2",
    ],
    traces: ["in_port=1,tcp", "in_port=2,ip,nw_ttl=1", "in_port=2,ip,nw_ttl=9", "in_port=3,dl_src=00:00:00:00:00:33", "in_port=4,ip,nw_ttl=7", "in_port=4,mpls,mpls_label=5,mpls_ttl=3"],
  },
  {
    name: "side effects of packets (-generate): learn limit and result_dst, fin_timeout",
    flows: [
      "table=0,in_port=1,actions=learn(table=1,limit=1,result_dst=reg0[0],cookie=0x5,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,2)",
      "table=0,in_port=2,actions=fin_timeout(idle_timeout=5),learn(table=3,limit=2,result_dst=reg1[7],NXM_OF_ETH_SRC[]),resubmit(,2)",
      "table=2,reg0=1,actions=output:3",
      "table=2,reg1=0x80,actions=output:4",
      "table=2,actions=drop",
    ],
    traces: [
      "in_port=1,dl_src=00:00:00:00:00:01 -generate",
      "in_port=1,dl_src=00:00:00:00:00:02 -generate",
      "in_port=1,dl_src=00:00:00:00:00:01 -generate",
      "in_port=1,dl_src=00:00:00:00:00:03",
      "in_port=2,tcp,dl_src=00:00:00:00:00:04,tcp_flags=fin -generate",
      "in_port=2,dl_src=00:00:00:00:00:05 -generate",
      "in_port=2,dl_src=00:00:00:00:00:06 -generate",
    ],
    dumpAfter: true,
  },
  {
    name: "bad input: loops, untranslatable actions, bad flows",
    flows: [
      "table=0,in_port=1,actions=resubmit(,0)",
      "table=0,in_port=2,actions=resubmit(,1)",
      "table=1,actions=resubmit(,2),resubmit(,2)",
      "table=2,actions=resubmit(,3),resubmit(,3)",
      "table=3,actions=resubmit(,4),resubmit(,4)",
      "table=4,actions=resubmit(,5),resubmit(,5)",
      "table=5,actions=resubmit(,6),resubmit(,6)",
      "table=6,actions=resubmit(,7),resubmit(,7)",
      "table=7,actions=resubmit(,8),resubmit(,8)",
      "table=8,actions=resubmit(,9),resubmit(,9)",
      "table=9,actions=resubmit(,10),resubmit(,10)",
      "table=10,actions=resubmit(,11),resubmit(,11)",
      "table=11,actions=resubmit(,12),resubmit(,12)",
      "table=12,actions=resubmit(,13),resubmit(,13)",
      "table=13,actions=output:3",
      "table=0,in_port=3,actions=learn(table=200,hard_timeout=10,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),resubmit(,200),output:4",
      "table=0,in_port=4,ip,actions=output:NXM_NX_REG0[0..15],set_field:0->ip_ttl,output:1",
    ],
    badFlows: [
      "table=0,in_port=3,actions=learn(table=254,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[])",
      "table=255,actions=drop",
      "in_port=1,actions=resubmit(,300)",
      "in_port=1,actions=output:NXM_OF_IP_SRC[]",
      "ip,actions=set_field:1->tcp_dst",
    ],
    traces: [
      "in_port=1,ip",
      "in_port=2,ip",
      "in_port=3,dl_src=00:00:00:00:00:01",
      "in_port=4,ip",
      "in_port=1,nosuchfield=3",
      "in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=1.2.3.4)",
      "in_port=99",
    ],
  },
];

async function sh(sw: Switch, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, sw.dir, 30_000);
  if (r.status !== 0) return `exit ${r.status}: ${r.stderr.trim().replaceAll(sw.dir, "$DIR").replace(/^\d{4}-\d\d-\d\dT[\d:.]+Z\|/gm, "TIME|")}`;
  return r.stdout;
}

/** Configures br0 for a scenario and collects its traces (one text per trace). */
async function runScenario(sw: Switch, sc: Scenario, n: number): Promise<string[]> {
  const out: string[] = [];
  const br = `br${n}`;
  const ports = [1, 2, 3, 4].flatMap((i) => ["--", "add-port", br, `p${n}${i}`, "--", "set", "interface", `p${n}${i}`, "type=dummy", `ofport_request=${i}`]);
  out.push(await sh(sw, "ovs-vsctl", ["add-br", br, "--", "set", "bridge", br, "datapath_type=dummy", ...ports]));
  if (sc.vsctl) out.push(await sh(sw, "ovs-vsctl", sc.vsctl.map((a) => a.replace(/^p(\d)$/, `p${n}$1`).replace(/^BR$/, br))));
  if (sc.groups) {
    const f = path.join(sw.dir, `groups${n}.txt`);
    fs.writeFileSync(f, sc.groups.join("\n") + "\n");
    out.push(await sh(sw, "ovs-ofctl", ["-O", "OpenFlow15", "add-groups", br, f]));
  }
  if (sc.flows) {
    const f = path.join(sw.dir, `flows${n}.txt`);
    fs.writeFileSync(f, sc.flows.join("\n") + "\n");
    out.push(await sh(sw, "ovs-ofctl", ["replace-flows", br, f]));
  }
  for (const f of sc.badFlows ?? []) out.push(`add-flow ${f}: ${await sh(sw, "ovs-ofctl", ["add-flow", br, f])}`);
  for (const t of sc.traces) out.push(`$ ofproto/trace ${t}\n` + canonicalTrace(await sh(sw, "ovs-appctl", ["ofproto/trace", br, ...t.split(" ")])).replaceAll(`p${n}`, "p").replaceAll(br, "br"));
  if (sc.dumpAfter) {
    const dump = await sh(sw, "ovs-ofctl", ["--no-stats", "--sort", "dump-flows", br]);
    out.push(`$ dump-flows\n${dump}`);
  }
  return out;
}

test("ofproto/trace through the whole switch equals OVS 3.1's (differential)", { skip: ovsSkip("ovsdb-server", "ovs-vswitchd", "ovs-vsctl", "ovs-ofctl", "ovs-appctl"), timeout: 180_000 }, async (t) => {
  const realDir = tempDir("e2e-ovs-");
  const tsDir = tempDir("e2e-tsovs-");
  const real = await startRealSwitch(realDir);
  let ts: Switch | null = null;
  try {
    ts = await startTsovsSwitch(tsDir);
    for (const [i, sc] of SCENARIOS.entries()) {
      await t.test(sc.name, async () => {
        const want = await runScenario(real, sc, i + 1);
        const got = await runScenario(ts!, sc, i + 1);
        for (let k = 0; k < want.length; k++) assert.equal(got[k], want[k]);
      });
    }
  } finally {
    await ts?.stop();
    await real.stop();
    fs.rmSync(realDir, { recursive: true, force: true });
    fs.rmSync(tsDir, { recursive: true, force: true });
  }
});
