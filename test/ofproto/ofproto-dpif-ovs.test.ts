/**
 * Differential tests against ovs-vswitchd 3.1 (--enable-dummy=override):
 * the same flows and the same packets (netdev-dummy/receive) into a real
 * dummy bridge and into an in-process tsovs bridge with the real
 * translation; `dpif/dump-flows` (statistics aside), `dpif/show` and the
 * shape of `upcall/show` must agree.
 */
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { ovsSkip, run, tempDir } from "../util/ovs.js";
import { startRealVswitchd } from "../util/dpctl.js";
import { Match } from "../../src/openflow/match.js";
import { flowMod } from "../../src/ofproto/flow-mod.js";
import type { XlateFn } from "../../src/ofproto/upcall.js";
import type { OfprotoDpif } from "../../src/ofproto/ofproto-dpif.js";
import { addFlow, bundlesOf, dummy, DpifTestEnv, hex, udpPacket } from "../util/dpif-bridge.js";

let xlate: XlateFn | null = null;
try {
  xlate = ((await import("../../src/ofproto/xlate.js")) as { xlateActions: XlateFn }).xlateActions;
} catch {
  xlate = null;
}
const skip = ovsSkip() ?? (xlate === null ? "src/ofproto/xlate.ts is not built" : false);

let dir = "";
let stopReal: (() => void) | null = null;
const env = new DpifTestEnv();
let br: OfprotoDpif | null = null;

function ovs(...args: string[]): string {
  const r = run(args[0]!, args.slice(1), dir);
  if (r.status !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  return r.stdout;
}

/** dump-flows lines without the `used:` time, sorted. */
function flowsOf(text: string): string[] {
  return text.split("\n").filter((l) => l !== "")
    .map((l) => l.replace(/^ufid:\S+ /, "").replace(/ used:[^,]+,/, ""))
    .map(sortFlood).sort();
}

/**
 * OVS floods in the order its bridge created the bundles, which follows
 * uuids and pointers (it differs from run to run): a list of plain
 * outputs is compared as a set.
 */
function sortFlood(line: string): string {
  const m = /^(.*actions:)([\w-]+(,[\w-]+)+)$/.exec(line);
  return m === null ? line : m[1]! + m[2]!.split(",").sort().join(",");
}

async function both(step: { flows?: string[]; packets?: [string, Uint8Array][] }): Promise<void> {
  const b = br!;
  if (step.flows !== undefined) {
    ovs("ovs-ofctl", "del-flows", "br0");
    b.ofproto.tables.flowMod(flowMod("delete", new Match(), []), env.clock);
    for (const f of step.flows) {
      ovs("ovs-ofctl", "add-flow", "br0", f);
      addFlow(b.ofproto, f, env.clock);
    }
  }
  for (const [port, pkt] of step.packets ?? []) {
    ovs("ovs-appctl", "netdev-dummy/receive", port, hex(pkt));
    await env.appctl("netdev-dummy/receive", port, hex(pkt));
  }
  ovs("ovs-appctl", "revalidator/wait");
  await env.appctl("revalidator/wait");
}

async function compareFlows(what: string): Promise<void> {
  const real = flowsOf(ovs("ovs-appctl", "dpif/dump-flows", "br0"));
  const ours = flowsOf(await env.appctl("dpif/dump-flows", "br0"));
  assert.deepEqual(ours, real, what);
  const realM = flowsOf(ovs("ovs-appctl", "dpif/dump-flows", "-m", "br0"));
  const oursM = flowsOf(await env.appctl("dpif/dump-flows", "-m", "br0"));
  assert.deepEqual(oursM, realM, `${what} (-m)`);
}

before(() => {
  if (skip !== false) return;
  dir = tempDir("ovs-dpif-diff-");
  stopReal = startRealVswitchd(dir);
  ovs("ovs-vsctl", "add-port", "br0", "p3", "--", "set", "interface", "p3", "type=dummy", "ofport_request=3");
  // As the real one: p1 and p2 with the bridge, p3 in a later reconfiguration.
  br = env.bridge("br0", "dummy", [dummy("p1", 1), dummy("p2", 2)], xlate!);
  br.setBundles(bundlesOf("br0", [dummy("p1", 1), dummy("p2", 2), dummy("p3", 3)]));
  br.ofproto.setStandaloneFlow(true);
});

after(() => {
  env.closeAll();
  stopReal?.();
  if (dir !== "") fs.rmSync(dir, { recursive: true, force: true });
});

test("dpif/show and upcall/show", { skip }, async () => {
  assert.equal(await env.appctl("dpif/show"), ovs("ovs-appctl", "dpif/show"));
  const shape = (s: string): string => s.replace(/\d+/g, "N");
  assert.equal(shape(await env.appctl("upcall/show")), shape(ovs("ovs-appctl", "upcall/show")));
});

test("NORMAL: flood, learn, unicast; megaflows revalidated after learning", { skip }, async () => {
  await both({ packets: [["p1", udpPacket({ srcMac: 1, dstMac: 2 })]] });
  await compareFlows("after the first (flooded) packet");
  await both({ packets: [["p2", udpPacket({ srcMac: 2, dstMac: 1 })], ["p3", udpPacket({ srcMac: 3, dstMac: 0xff })]] });
  await compareFlows("after learning");
  ovs("ovs-appctl", "revalidator/purge");
  await env.appctl("revalidator/purge");
  assert.deepEqual(flowsOf(await env.appctl("dpif/dump-flows", "br0")), []);
});

test("OpenFlow tables: megaflows follow flow_mods", { skip }, async () => {
  ovs("ovs-appctl", "revalidator/purge");
  await env.appctl("revalidator/purge");
  await both({
    flows: ["priority=10,in_port=1,ip,nw_dst=10.0.0.2,actions=output:2", "priority=5,ip,actions=output:3", "priority=0,actions=drop"],
    packets: [["p1", udpPacket()], ["p1", udpPacket({ dst: 0x0a000009 })], ["p2", udpPacket()]],
  });
  await compareFlows("three rules");
  await both({ flows: ["priority=10,in_port=1,ip,nw_dst=10.0.0.2,actions=output:3", "priority=0,actions=drop"] });
  await compareFlows("after replacing the rules");
});

test("netdev-dummy/receive and dpif/dump-flows errors are worded as OVS's", { skip }, async () => {
  const cases: [string, string[]][] = [
    ["netdev-dummy/receive", ["p1", "zz"]],
    ["netdev-dummy/receive", ["p1", "in_port(1),eth(src=x)"]],
    ["netdev-dummy/receive", ["p1", "0102"]],
    ["netdev-dummy/receive", ["nosuch", "00"]],
    ["netdev-dummy/set-admin-state", ["p1", "sideways"]],
    ["dpif/dump-flows", ["nosuch"]],
    ["bridge/dump-flows", ["nosuch"]],
  ];
  for (const [cmd, args] of cases) {
    const r = run("ovs-appctl", [cmd, ...args], dir);
    const real = r.status === 0 ? r.stdout : r.stderr.split("\n")[0]!;
    const mine = await env.registry.execute(cmd, args, null as never);
    const ours = "error" in mine ? mine.error.split("\n")[0]! : mine.result;
    assert.equal(ours, real, `${cmd} ${args.join(" ")}`);
  }
});

test("controller actions: the installed cookie survives revalidation (dont_send=0), as OVS's", { skip }, async () => {
  ovs("ovs-appctl", "revalidator/purge");
  await env.appctl("revalidator/purge");
  await both({ flows: ["in_port=1,actions=controller"], packets: [["p1", udpPacket()]] });
  const norm = (l: string[]): string[] => l.map((x) => x.replace(/recirc_id=\d+,rule_cookie/, "recirc_id=N,rule_cookie"));
  const cmp = async (what: string): Promise<void> => {
    assert.deepEqual(norm(flowsOf(await env.appctl("dpif/dump-flows", "br0"))), norm(flowsOf(ovs("ovs-appctl", "dpif/dump-flows", "br0"))), what);
  };
  await cmp("after the upcall");
  ovs("ovs-ofctl", "mod-flows", "br0", "in_port=1,actions=output:2,controller");
  addFlow(br!.ofproto, "in_port=1,actions=output:2,controller", env.clock);
  ovs("ovs-appctl", "revalidator/wait");
  await env.appctl("revalidator/wait");
  await cmp("after a modify and revalidation");
});
