/**
 * Translation (xlate.ts) and ofproto/trace (trace.ts) without the real OVS:
 * limits, side effects (learn, stats, packet-ins), patch ports,
 * recirculation through select groups, megaflow masks and the trace
 * command's argument handling.
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { FLOW_U32S, W_DP_HASH, W_IN_PORT, W_NW_DST, W_NW_SRC, W_RECIRC_ID } from "../../src/flow/key-layout.js";
import { formatOdpActions } from "../../src/flow/odp-format.js";
import { parseOfpExactFlow } from "../../src/openflow/ofp-exact-flow.js";
import { xlateActions, MAX_DEPTH } from "../../src/ofproto/xlate.js";
import { decodeControllerCookie, frozenState } from "../../src/ofproto/xlate-pin.js";
import { registerTraceCommands, TraceTree, formatTraceNodes } from "../../src/ofproto/trace.js";
import { UnixctlRegistry } from "../../src/unixctl/index.js";
import type { XlateIn } from "../../src/ofproto/xlate-types.js";
import { makeBridge, patch, type TestBridge } from "../util/xlate.js";

function flowOf(text: string): Uint32Array {
  const r = parseOfpExactFlow(text);
  if ("error" in r) throw new Error(r.error);
  return r.flow;
}

function xin(b: TestBridge, text: string, over: Partial<XlateIn> = {}): XlateIn {
  return { bridge: b.xbridge, flow: flowOf(text), wc: new Uint32Array(FLOW_U32S), packet: null, mayLearn: false, ...over };
}

function actionsOf(b: TestBridge, text: string, over: Partial<XlateIn> = {}): string {
  return formatOdpActions(xlateActions(xin(b, text, over)).actions);
}

test("output, drop and table miss", () => {
  const b = makeBridge("br0", [1, 2, 3]);
  b.addFlow("in_port=1 actions=output:2,output:3");
  b.addFlow("in_port=2 actions=drop");
  assert.equal(actionsOf(b, "in_port=1,tcp"), "2,3");
  assert.equal(actionsOf(b, "in_port=2,tcp"), "drop");
  assert.equal(actionsOf(b, "in_port=3,tcp"), "drop");
});

test("megaflow mask: always-examined fields plus what the lookup and actions read", () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("in_port=1,ip,nw_dst=10.0.0.0/8 actions=mod_nw_src:1.1.1.1,output:2");
  const x = xin(b, "in_port=1,tcp,nw_src=5.5.5.5,nw_dst=10.1.2.3");
  x.trace = new TraceTree();
  const out = xlateActions(x);
  assert.equal(formatOdpActions(out.actions), "set(ipv4(src=1.1.1.1)),2");
  assert.equal(x.wc![W_IN_PORT], 0xffffffff);
  assert.equal(x.wc![W_RECIRC_ID], 0xffffffff);
  assert.equal(x.wc![W_NW_SRC], 0xffffffff, "a rewritten field is matched");
  assert.equal(x.wc![W_NW_DST], 0xff000000, "the prefix the classifier looked at");
  assert.equal(out.finalFlow![W_NW_SRC], 0x01010101, "the trace's final flow");
});

test("resubmit depth and count limits end translation with OVS's errors", () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("in_port=1 actions=output:2,resubmit(,0)");
  const out = xlateActions(xin(b, "in_port=1,tcp"));
  assert.equal(out.error, "Recursion too deep");
  assert.equal(formatOdpActions(out.actions), "drop", "a failed translation drops");
  assert.equal(out.rules.length, MAX_DEPTH + 1);

  // Fan-out: each table resubmits twice to the next, 2^13 lookups > 4096.
  const c = makeBridge("br1", [1, 2]);
  for (let t = 0; t < 14; t++) c.addFlow(`table=${t} actions=resubmit(,${t + 1}),resubmit(,${t + 1})`);
  const o2 = xlateActions(xin(c, "in_port=1,tcp"));
  assert.equal(o2.error, "Too many resubmits");
});

test("controller action: userspace cookie, dont_send without side effects, packet-in state", () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("cookie=0x77,in_port=1 actions=controller(max_len=128,id=3,userdata=01.02)");
  const trace = xlateActions(xin(b, "in_port=1,tcp"));
  const s = formatOdpActions(trace.actions);
  assert.match(s, /^userspace\(pid=0,controller\(reason=1,dont_send=1,continuation=0,recirc_id=\d+,rule_cookie=0x77,controller_id=3,max_len=128\)\)$/);
  const live = xlateActions(xin(b, "in_port=1,tcp", { mayLearn: true }));
  const ud = live.actions.subarray(live.actions.length - 48);
  const ck = decodeControllerCookie(ud);
  assert.ok(ck !== null);
  assert.equal(ck.dontSend, false);
  assert.equal(ck.maxLen, 128);
  const st = frozenState(ck.recircId);
  assert.ok(st !== null);
  assert.deepEqual([...st.userdata!], [1, 2]);
  assert.equal(st.bridgeName, "br0");
});

test("rule statistics are credited only when asked", () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("in_port=1 actions=resubmit(,1)");
  b.addFlow("table=1 actions=output:2");
  xlateActions(xin(b, "in_port=1,tcp"));
  const rules = b.ofproto.tables.allRules();
  assert.ok(rules.every((r) => r.packetCount === 0));
  xlateActions(xin(b, "in_port=1,tcp", { statsPackets: 3, statsBytes: 300 }));
  for (const r of b.ofproto.tables.allRules()) {
    assert.equal(r.packetCount, 3);
    assert.equal(r.byteCount, 300);
  }
});

test("learn installs its flow only with side effects, through deferred", () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("in_port=1 actions=learn(table=1,idle_timeout=30,NXM_OF_ETH_DST[]=NXM_OF_ETH_SRC[],output:NXM_OF_IN_PORT[]),output:2");
  const dry = xlateActions(xin(b, "in_port=1,dl_src=00:00:00:00:00:07,tcp"));
  assert.equal(dry.deferred.length, 0);
  const live = xlateActions(xin(b, "in_port=1,dl_src=00:00:00:00:00:07,tcp", { mayLearn: true }));
  assert.equal(b.ofproto.tables.allRules().length, 1, "nothing installed during translation");
  for (const d of live.deferred) d();
  const learned = b.ofproto.tables.allRules().filter((r) => r.tableId === 1);
  assert.equal(learned.length, 1);
  assert.equal(learned[0]!.idleTimeout, 30);
  b.addFlow("table=0,in_port=2 actions=resubmit(,1)");
  assert.equal(actionsOf(b, "in_port=2,dl_dst=00:00:00:00:00:07,tcp"), "1");
});

test("patch ports continue translation in the peer bridge", () => {
  const a = makeBridge("br0", [1]);
  const c = makeBridge("br1", [5]);
  patch(a, 10, c, 20);
  a.addFlow("in_port=1 actions=mod_nw_src:9.9.9.9,output:10,output:1");
  c.addFlow("in_port=20,ip,nw_src=9.9.9.9 actions=output:5");
  const out = xlateActions(xin(a, "in_port=1,tcp,nw_src=1.1.1.1"));
  assert.equal(formatOdpActions(out.actions), "set(ipv4(src=9.9.9.9)),5");
  const text = a.trace("in_port=1,tcp,nw_src=1.1.1.1");
  assert.match(text, /\n\s*bridge\("br1"\)\n\s*-+\n/);
  assert.match(text, /skipping output to input port/);
});

test("select group: hash + recirculation, then a bucket chosen from dp_hash after thaw", () => {
  const b = makeBridge("br0", [1, 2, 3]);
  b.addGroup("group_id=1,type=select,bucket=output:2,bucket=output:3");
  b.addFlow("in_port=1 actions=group:1");
  const first = xlateActions(xin(b, "in_port=1,tcp,nw_src=1.1.1.1"));
  const s = formatOdpActions(first.actions);
  const m = /^hash\(sym_l4\(0\)\),recirc\(0x([0-9a-f]+)\)$/.exec(s);
  assert.ok(m, s);
  const id = parseInt(m[1]!, 16);
  const seen = new Set<string>();
  for (let h = 1; h <= 16; h++) {
    const f = flowOf("in_port=1,tcp,nw_src=1.1.1.1");
    f[W_RECIRC_ID] = id;
    f[W_DP_HASH] = h * 0x9e3779b1 >>> 0;
    const x = xin(b, "in_port=1", { flow: f });
    const out = xlateActions(x);
    assert.equal(out.error, null);
    seen.add(formatOdpActions(out.actions));
    assert.notEqual(x.wc![W_DP_HASH], 0, "the bucket depends on dp_hash");
  }
  assert.deepEqual([...seen].sort(), ["2", "3"]);
  const f = flowOf("in_port=1,tcp");
  f[W_RECIRC_ID] = 0x7fffff;
  const bad = xlateActions(xin(b, "in_port=1", { flow: f }));
  assert.equal(bad.error, "No recirculation context");
});

test("packet-out actions translate without a table lookup", () => {
  const b = makeBridge("br0", [1, 2]);
  const out = xlateActions(xin(b, "in_port=65533,tcp", { ofpacts: [{ type: "output", port: 2, maxLen: 0 }] }));
  assert.equal(formatOdpActions(out.actions), "2");
});

test("trace tree printing follows OVS's indentation rule", () => {
  const t = new TraceTree();
  const br = t.add("bridge", 'bridge("br0")');
  t.push(br);
  const t0 = t.add("table", " 0. priority 1");
  t.push(t0);
  t.add("action", "resubmit(,1)");
  const t1 = t.add("table", " 1. No match.");
  t.push(t1);
  t.add("action", "drop");
  t.pop();
  t.pop();
  t.pop();
  const out: string[] = [];
  formatTraceNodes(t.root, 0, out);
  assert.equal(out.join(""), '\nbridge("br0")\n-------------\n 0. priority 1\n    resubmit(,1)\n 1. No match.\n    drop\n');
});

test("ofproto/trace command: arguments and errors as OVS words them", async () => {
  const b = makeBridge("br0", [1, 2]);
  b.addFlow("in_port=1 actions=output:2");
  const reg = new UnixctlRegistry();
  registerTraceCommands(reg, { bridges: () => [{ name: "br0", xbridge: b.xbridge }], bridge: (n) => (n === "br0" ? { xbridge: b.xbridge } : null) });
  const run = async (...args: string[]): Promise<string> => {
    const cmd = reg.get("ofproto/trace");
    assert.ok(cmd);
    return await cmd.handler(args, null as never);
  };
  const ok = await run("br0", "in_port=1,tcp");
  assert.match(ok, /^Flow: tcp,in_port=1,/);
  assert.match(ok, /\nDatapath actions: 2\n$/);
  await assert.rejects(run("br9", "in_port=1"), /Unknown bridge name/);
  await assert.rejects(run("br0", "in_port=1,frob=3"), /Bad openflow flow syntax/);
  await assert.rejects(run("br0", "in_port=1", "--bogus"), /--bogus: unknown option/);
  const gen = await run("br0", "in_port=1,udp,nw_dst=1.2.3.4", "-generate");
  assert.match(gen, /Datapath actions: 2/);
  const odp = await run("in_port(1),eth(src=00:00:00:00:00:01,dst=00:00:00:00:00:02),eth_type(0x0800),ipv4(src=1.1.1.1,dst=2.2.2.2,proto=17,tos=0,ttl=64,frag=no),udp(src=1,dst=2)");
  assert.match(odp, /^Flow: udp,in_port=1,/);
  assert.match(odp, /Datapath actions: 2/);
});

test("port config: no-forward ports are reported and skipped, no-flood ports left out of FLOOD", () => {
  const b = makeBridge("br0", [1, 2, 3]);
  (b.xbridge.ports.get(2) as { config: number }).config = 1 << 5;
  (b.xbridge.ports.get(3) as { config: number }).config = 1 << 4;
  b.addFlow("in_port=1 actions=output:2,FLOOD,output:3");
  assert.equal(actionsOf(b, "in_port=1,tcp"), "100,3");
  const text = b.trace("in_port=1,tcp");
  assert.equal(text.split("OFPPC_NO_FWD set, skipping output").length - 1, 2);
});

test("ofproto/trace-packet-out and --ct-next", async () => {
  const b = makeBridge("br0", [1, 2]);
  const po = await b.command("ofproto/trace-packet-out", ["br0", "in_port=1,tcp", "mod_nw_src:1.1.1.1,output:2"]);
  assert.match(po, /\n    mod_nw_src:1\.1\.1\.1\n    output:2\n/);
  assert.match(po, /Datapath actions: set\(ipv4\(src=1\.1\.1\.1\)\),2\n$/);
  b.addFlow("in_port=1,ip actions=ct(table=1)");
  b.addFlow("table=1,ct_state=+trk+est actions=output:2");
  const ct = await b.command("ofproto/trace", ["br0", "in_port=1,tcp", "--ct-next", "trk,est"]);
  assert.match(ct, /resume conntrack with ct_state=trk\|est\n/);
  assert.match(ct, /Datapath actions: 2\n$/);
  const bad = await b.command("ofproto/trace", ["br0", "in_port=1,tcp", "--ct-next", "bogus"]);
  assert.match(bad, /^ERROR: /);
});
