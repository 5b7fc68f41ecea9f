/**
 * controller(pause) continuations against OVS 3.1, through the real tools:
 * `ovs-ofctl monitor br0 resume` answers every paused packet-in with
 * NXT_RESUME; the packet-ins it prints (continuation properties
 * included, the bridge uuid masked: OVS's is random), the datapath
 * actions of a paused flow (`ofproto/trace -generate`) and the packets
 * that leave the ports (`ovs-ofctl dump-ports`)
 * must be the same for tsovs and ovs-vswitchd (dummy datapath). The cases
 * follow OVS's tests/ofproto-dpif.at "continuation" tests: registers and
 * the stack, nested resubmits with cookies, the action set, mirrors,
 * conntrack, instructions in OpenFlow 1.0 and 1.3. Bad NXT_RESUME
 * messages must get OVS's errors.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { ovsSkip, tempDir } from "../util/ovs.js";
import { envFor, runAsync, startRealSwitch, startTsovsSwitch, type Switch } from "../util/vswitchd.js";
import { RawOfconn } from "../ofproto/raw-ofconn.js";
import { canonicalRecirc } from "../util/trace-canon.js";
import { decodeMessage, type OfpMessage } from "../../src/openflow/index.js";
import { Match } from "../../src/openflow/match.js";
import { NO_BUFFER, type ContinuationProp } from "../../src/openflow/ofp-packet.js";
import type { OfpAction } from "../../src/openflow/ofp-actions.js";
import { W_IN_PORT } from "../../src/flow/key-layout.js";

const ETH = "eth(src=50:54:00:00:00:05,dst=50:54:00:00:00:07)";
const IP = "eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=1,tos=0,ttl=128,frag=no),icmp(type=8,code=0)";
const PKT1 = `in_port(1),${ETH},${IP}`;

interface Case {
  name: string;
  vsctl?: string;
  /** Flows (`-O OpenFlow13 add-flow` when `of13Flows`). */
  flows: string[];
  of13Flows?: boolean;
  /** ovs-ofctl monitor options before "br0". */
  monitor?: string[];
  packets: string[];
  /** Mask the ct_* metadata fields (see the conntrack case). */
  maskCt?: boolean;
}

const CASES: Case[] = [
  {
    name: "registers, stack, header rewrite, nested pause with cookies, write_actions after the pause",
    flows: [
      "in_port=1,actions=push:NXM_NX_REG0[],set_field:0x55->reg1,mod_dl_src:00:00:00:00:00:aa,controller(pause,userdata=01.02),resubmit(,1),output:2,write_actions(output:3)",
      "table=1,cookie=0x99,actions=set_field:0x66->reg2,controller(pause),output:3,output:1",
    ],
    packets: [PKT1],
  },
  {
    name: "the action set waits for the end of the resumed pipeline",
    flows: ["table=0,in_port=1,actions=write_actions(output:2),goto_table:1", "table=1,actions=set_field:0x7->reg3,controller(pause),output:3"],
    of13Flows: true,
    packets: [PKT1],
  },
  {
    name: "mirrors already used are not used again",
    vsctl: "set Bridge br0 mirrors=@m -- --id=@p1 get Port p1 -- --id=@p3 get Port p3 -- --id=@m create Mirror name=m1 select_src_port=@p1 output_port=@p3",
    flows: ["in_port=1,actions=controller(pause),output:2"],
    packets: [PKT1],
  },
  {
    // tsovs has no connection tracker yet (ct marks packets tracked and invalid): the ct_* fields are masked.
    name: "conntrack state",
    maskCt: true,
    flows: ["table=0,in_port=1,ip,actions=ct(table=1)", "table=1,ip,actions=controller(pause),output:2"],
    packets: [`in_port(1),${ETH},eth_type(0x0800),ipv4(src=192.168.0.1,dst=192.168.0.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1000,dst=2000)`],
  },
  {
    name: "instructions after the pause, OpenFlow 1.0 monitor",
    flows: ["in_port=1,actions=controller(pause),write_metadata:0x5,goto_table:1", "table=1,metadata=0x5,actions=output:2", "table=1,actions=output:3"],
    of13Flows: true,
    packets: [PKT1],
  },
  {
    name: "instructions after the pause, OpenFlow 1.3 monitor",
    flows: ["in_port=1,actions=controller(pause),write_metadata:0x5,goto_table:1", "table=1,metadata=0x5,actions=output:2", "table=1,actions=output:3"],
    of13Flows: true,
    monitor: ["-O", "OpenFlow13"],
    packets: [PKT1],
  },
  {
    name: "max_len, controller id and two packets of one megaflow",
    flows: ["in_port=1,actions=controller(pause,max_len=64,id=0),dec_ttl,output:2"],
    packets: [PKT1, PKT1],
  },
];

async function ok(dir: string, cmd: string, args: string[]): Promise<string> {
  const r = await runAsync(cmd, args, dir);
  assert.equal(r.status, 0, `${cmd} ${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** Runs `ovs-ofctl monitor ... resume` while `during` runs, then stops it (SIGTERM) and returns what it printed. */
async function monitor(dir: string, opts: string[], during: () => Promise<void>): Promise<string> {
  const child = spawn("ovs-ofctl", [...opts, "monitor", "br0", "resume"], { env: envFor(dir), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d: Buffer) => (out += d.toString()));
  child.stderr.on("data", (d: Buffer) => (out += d.toString()));
  const closed = new Promise<void>((r) => child.on("close", () => r()));
  await new Promise((r) => setTimeout(r, 700));
  await during();
  await new Promise((r) => setTimeout(r, 1000));
  child.kill("SIGTERM");
  const t = setTimeout(() => child.kill("SIGKILL"), 3000);
  await closed;
  clearTimeout(t);
  return out.split("\n").filter((l) => !l.includes("|fatal_signal|")).join("\n")
    .replace(/continuation\.bridge=[0-9a-f-]+/g, "continuation.bridge=<uuid>");
}

async function setupBridge(dir: string): Promise<void> {
  await ok(dir, "ovs-vsctl", ["add-br", "br0", "--", "set", "bridge", "br0", "datapath-type=dummy", "fail-mode=secure"]);
  const args: string[] = [];
  for (let i = 1; i <= 3; i++) args.push("--", "add-port", "br0", `p${i}`, "--", "set", "interface", `p${i}`, "type=dummy", `ofport_request=${i}`);
  await ok(dir, "ovs-vsctl", args.slice(1));
}

/** tx packets per port from `ovs-ofctl dump-ports` (counters kept by the switch, read at once). */
async function txPackets(dir: string): Promise<string> {
  const out = await ok(dir, "ovs-ofctl", ["dump-ports", "br0"]);
  const res: string[] = [];
  let port = "";
  for (const l of out.split("\n")) {
    const p = /port\s+"?([\w]+)"?:/.exec(l);
    if (p !== null) port = p[1]!;
    const t = /tx pkts=(\d+)/.exec(l);
    if (t !== null) res.push(`${port}:${t[1]}`);
  }
  return res.sort().join(" ");
}

async function runCase(dir: string, c: Case): Promise<string> {
  await ok(dir, "ovs-vsctl", ["--", "--if-exists", "clear", "bridge", "br0", "mirrors"]);
  await ok(dir, "ovs-ofctl", ["del-flows", "br0"]);
  if (c.vsctl !== undefined) await ok(dir, "ovs-vsctl", c.vsctl.split(" "));
  for (const f of c.flows) await ok(dir, "ovs-ofctl", [...(c.of13Flows === true ? ["-O", "OpenFlow13"] : []), "add-flow", "br0", f]);
  const mon = await monitor(dir, c.monitor ?? [], async () => {
    for (const p of c.packets) await ok(dir, "ovs-appctl", ["netdev-dummy/receive", "p1", p]);
  });
  // The datapath actions of the first packet (recirculation ids by order of appearance).
  const tr = await ok(dir, "ovs-appctl", ["ofproto/trace", "ovs-dummy", c.packets[0]!, "-generate"]);
  const actions = canonicalRecirc(/^Datapath actions: .*$/m.exec(tr)?.[0] ?? "");
  const text = `${mon}\n--- ${actions}\n--- tx ${await txPackets(dir)}`;
  return c.maskCt === true ? text.replace(/ct_[a-z_]+=[^, ]*,/g, "") : text;
}

async function both<T>(fn: (sw: Switch) => Promise<T>): Promise<[T, T]> {
  const real = await startRealSwitch(tempDir("ovs-cont-"));
  const ts = await startTsovsSwitch(tempDir("tsovs-cont-"));
  try {
    await Promise.all([setupBridge(real.dir), setupBridge(ts.dir)]);
    return await Promise.all([fn(real), fn(ts)]);
  } finally {
    await Promise.all([real.stop(), ts.stop()]);
    fs.rmSync(real.dir, { recursive: true, force: true });
    fs.rmSync(ts.dir, { recursive: true, force: true });
  }
}

const SKIP = ovsSkip("ovs-vswitchd", "ovsdb-server", "ovs-vsctl", "ovs-ofctl", "ovs-appctl");

test("controller(pause): NXT_PACKET_IN2 continuations and NXT_RESUME as OVS 3.1", { skip: SKIP, timeout: 120_000 }, async () => {
  const [real, ts] = await both(async (sw) => {
    const out: string[] = [];
    for (const c of CASES) out.push(await runCase(sw.dir, c));
    return out;
  });
  for (let i = 0; i < CASES.length; i++) {
    assert.equal(ts[i], real[i], `case "${CASES[i]!.name}"`);
    assert.match(real[i]!, /NXT_RESUME/, `case "${CASES[i]!.name}" resumed`);
  }
});

/** An NXT_RESUME for in_port 1 with the given continuation (null: none). */
function resume(cont: ContinuationProp[] | null, packet = new Uint8Array(60)): Omit<OfpMessage, "xid" | "version"> {
  const metadata = new Match();
  metadata.key[W_IN_PORT] = 1;
  metadata.mask[W_IN_PORT] = 0xffff;
  return {
    type: "NXT_RESUME",
    body: { packet, totalLen: packet.length, bufferId: NO_BUFFER, reason: 1, tableId: 0, cookie: 0n, metadata, userdata: null, continuation: cont },
  } as Omit<OfpMessage, "xid" | "version">;
}

test("NXT_RESUME with a bad continuation gets OVS's errors", { skip: SKIP, timeout: 60_000 }, async () => {
  const bad: [string, Omit<OfpMessage, "xid" | "version">][] = [
    ["no continuation", resume(null)],
    ["unknown bridge", resume([{ kind: "bridge", uuid: new Uint8Array(16).fill(7) }, { kind: "actions", actions: [{ type: "output", port: 2, maxLen: 0 }] }])],
    ["unknown property", resume([{ kind: "bridge", uuid: new Uint8Array(16).fill(7) }, { kind: "unknown", type: 0x8040, data: new Uint8Array(4) }])],
  ];
  const [real, ts] = await both(async (sw) => {
    const errs: string[] = [];
    for (const version of [1, 4]) {
      const c = await RawOfconn.open(path.join(sw.dir, "br0.mgmt"), version);
      try {
        for (const [name, m] of bad) {
          const replies = await c.transact([m]);
          const text = replies.map((b) => {
            const d = decodeMessage(b);
            return d.ok && d.msg.type === "OFPT_ERROR" ? String((d.msg.body as { error: string }).error) : d.ok ? d.msg.type : "undecodable";
          });
          errs.push(`OF${version} ${name}: ${text.join(",")}`);
        }
      } finally {
        c.close();
      }
    }
    return errs;
  });
  assert.deepEqual(ts, real);
  assert.match(real.join("\n"), /NXR_STALE/);
});

test("continuation properties: OVS's grouping of actions, and back", async () => {
  const { continuationProps, parseContinuation } = await import("../../src/ofproto/continuation-props.js");
  const out2: OfpAction = { type: "output", port: 2, maxLen: 0 };
  const out3: OfpAction = { type: "output", port: 3, maxLen: 0 };
  const uuid = new Uint8Array(16).fill(9);
  const props = continuationProps({
    bridgeName: "br0", bridgeUuid: uuid, tableId: 0, flow: new Uint32Array(0), userdata: null,
    actions: [
      { action: { type: "resubmit", inPort: 0xfff8, tableId: 1, ct: false, legacy: false }, tableId: 0, cookie: 0n },
      { action: null, tableId: 1, cookie: 0x99n }, { action: out3, tableId: 0, cookie: 0n },
      // The same table and cookie again: no new group, as OVS's freeze_put_unroll_xlate.
      { action: null, tableId: 1, cookie: 0x99n }, { action: out2, tableId: 0, cookie: 0n },
      { action: null, tableId: 0, cookie: 0n }, { action: { type: "goto_table", tableId: 4 }, tableId: 0, cookie: 0n },
      { action: { type: "write_actions", actions: [out3] }, tableId: 0, cookie: 0n },
    ],
    actionSet: [out2], stack: [5n, 0x1234567890n], mirrors: 3, conntracked: true,
  }, 7, 1);
  assert.deepEqual(props.map((p) => p.kind), [
    "bridge", "stack", "stack", "mirrors", "conntracked", "actions", "table_id", "cookie", "actions", "table_id", "cookie", "actions",
    "action_set", "odp_port",
  ]);
  const c = parseContinuation(props);
  assert.ok(typeof c !== "string");
  assert.deepEqual(c.stack, [5n, 0x1234567890n]);
  assert.equal(c.mirrors, 3);
  assert.equal(c.conntracked, true);
  assert.equal(c.odpPort, 7);
  assert.deepEqual(c.actions.map((it) => (it.action === null ? `u${it.tableId}/${it.cookie}` : it.action.type)),
    ["u0/0", "resubmit", "u1/153", "output", "output", "u0/0", "resubmit"]);
  assert.equal(parseContinuation([{ kind: "unknown", type: 0x8040, data: new Uint8Array(0) }]), "OFPBPC_BAD_TYPE");
});
