/**
 * Benchmark of translation alone (`npm run bench -- xlate`): xlate.ts's
 * `xlateActions` on an ofproto-dpif bridge, as the upcall handler calls it
 * (megaflow wildcards tracked, statistics credited, side effects allowed),
 * with no datapath around it. Two 1,000-rule, 4-table pipelines:
 *   - goto:     bench/vswitchd's (nw_src, nw_dst, udp dst, udp src exact
 *               matches, goto_table from one to the next, output in the
 *               last; a catch-all per table);
 *   - resubmit: test/util/xlate.ts's benchXlate (nw_dst /24 + load to
 *               reg0, reg0 + tcp dst + mod_dl_src, nw_src + dec_ttl, tcp
 *               src + output; resubmit from one to the next).
 * Each translates 1,000 distinct flows round-robin for `--ms=N` (default
 * 1500) and reports translations per CPU-second of this process (the
 * machine is shared: CPU time is the comparable figure), the best slice
 * of 10,000 translations (the least disturbed by other processes) and
 * translations per second.
 * Last line: one JSON object.
 */
import { openDpifBridge, type OfprotoDpif } from "../src/ofproto/ofproto-dpif.js";
import { xlateActions } from "../src/ofproto/xlate.js";
import { flowModFromWire } from "../src/ofproto/flow-mod-wire.js";
import { parseFlowText } from "../src/openflow/ofp-flow-parse.js";
import { parseOfpExactFlow } from "../src/openflow/ofp-exact-flow.js";
import type { BundleConfig, IfaceConfig, XlateIn } from "../src/ofproto/xlate-types.js";
import { FLOW_U32S } from "../src/flow/key-layout.js";

function arg(name: string, def: number): number {
  const a = process.argv.find((s) => s.startsWith(`--${name}=`));
  return a === undefined ? def : Number(a.slice(name.length + 3));
}

const MS = arg("ms", 1500);

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}

function bridge(name: string): OfprotoDpif {
  const br = openDpifBridge(name, "dummy", { xlate: xlateActions, runLoop: false, revalidateTimer: false, ofproto: { expiryTimer: false } });
  const iface = (n: string, ofport: number): IfaceConfig => ({ name: n, type: "dummy", options: {}, ofportRequest: ofport });
  const list: IfaceConfig[] = [{ name, type: "internal", options: {} }];
  for (let p = 1; p <= 4; p++) list.push(iface(`${name}p${p}`, p));
  const bundles: BundleConfig[] = list.map((i) => ({
    name: i.name, ifaces: [i], vlanMode: "access", tag: -1, trunks: null, cvlans: null, qinqEthtype: 0x8100, protected: false,
  }));
  br.setBundles(bundles);
  return br;
}

function addFlow(br: OfprotoDpif, text: string): void {
  const p = parseFlowText(text, 0);
  if (!p.ok) throw new Error(`${text}: ${p.error}`);
  const fm = flowModFromWire(p.fm as never, 4);
  if (typeof fm === "string") throw new Error(`${text}: ${fm}`);
  if (fm.tableId === 255) fm.tableId = 0;
  const r = br.ofproto.tables.flowMod(fm as never, Date.now());
  if (!r.ok) throw new Error(`${text}: ${r.error}`);
}

function flowOf(text: string): Uint32Array {
  const r = parseOfpExactFlow(text);
  if ("error" in r) throw new Error(`${text}: ${r.error}`);
  return r.flow;
}

interface Result {
  perCpuSec: number;
  perSec: number;
  bestSlice: number;
  rules: number;
  actionBytes: number;
}

function run(br: OfprotoDpif, flows: Uint32Array[], ms: number): Result {
  const wc = new Uint32Array(FLOW_U32S);
  const xin: XlateIn = { bridge: br, flow: flows[0]!, wc, packet: null, mayLearn: true, statsPackets: 1, statsBytes: 60 };
  let rules = 0;
  let actionBytes = 0;
  const once = (): void => {
    for (let k = 0; k < flows.length; k++) {
      xin.flow = flows[k]!;
      const out = xlateActions(xin);
      rules = out.rules.length;
      actionBytes = out.actions.length;
    }
  };
  // Warm-up (JIT), then the measured loop.
  const warmEnd = performance.now() + Math.min(300, ms / 4);
  while (performance.now() < warmEnd) once();
  let n = 0;
  const t0 = performance.now();
  const c0 = cpuMs();
  let best = 0;
  while (performance.now() - t0 < ms) {
    // Slices of 10 rounds (10,000 translations); the best is the rate least disturbed by other processes.
    const s0 = cpuMs();
    for (let k = 0; k < 10; k++) once();
    n += 10 * flows.length;
    const rate = (10 * flows.length) / ((cpuMs() - s0) / 1000);
    if (rate > best && Number.isFinite(rate)) best = rate;
  }
  const cpu = cpuMs() - c0;
  const wall = performance.now() - t0;
  return { perCpuSec: Math.round(n / (cpu / 1000)), perSec: Math.round(n / (wall / 1000)), bestSlice: Math.round(best), rules, actionBytes };
}

/* goto: bench/vswitchd's pipeline */
const g = bridge("brg");
for (let i = 0; i < 250; i++) {
  addFlow(g, `table=0,priority=100,ip,nw_src=10.0.${i >> 8}.${i & 255} actions=goto_table:1`);
  addFlow(g, `table=1,priority=100,ip,nw_dst=10.1.${i >> 8}.${i & 255} actions=goto_table:2`);
  addFlow(g, `table=2,priority=100,udp,tp_dst=${1000 + i} actions=goto_table:3`);
  addFlow(g, `table=3,priority=100,udp,tp_src=${20000 + i} actions=output:2`);
}
for (let t = 0; t < 3; t++) addFlow(g, `table=${t},priority=0 actions=goto_table:${t + 1}`);
addFlow(g, "table=3,priority=0 actions=output:2");
const gFlows: Uint32Array[] = [];
for (let k = 0; k < 1000; k++) {
  const a = k % 250;
  const b = (k * 7) % 250;
  gFlows.push(flowOf(`in_port=1,udp,dl_src=50:54:00:00:00:01,dl_dst=50:54:00:00:00:02,nw_src=10.0.0.${a},nw_dst=10.1.0.${b},udp_src=${20000 + ((k * 13) % 250)},udp_dst=${1000 + ((k * 3) % 250)},nw_ttl=64`));
}

/* resubmit: test/util/xlate.ts's benchXlate pipeline */
const r = bridge("brr");
for (let i = 0; i < 250; i++) addFlow(r, `table=0,priority=${100 + i},in_port=1,ip,nw_dst=10.${i >> 8}.${i & 255}.0/24 actions=load:${i}->NXM_NX_REG0[],resubmit(,1)`);
for (let i = 0; i < 250; i++) addFlow(r, `table=1,priority=${100 + i},reg0=${i},tcp,tp_dst=${1000 + i} actions=mod_dl_src:00:00:00:00:00:01,resubmit(,2)`);
for (let i = 0; i < 250; i++) addFlow(r, `table=2,priority=${100 + i},tcp,nw_src=192.168.${i >> 8}.${i & 255} actions=dec_ttl,resubmit(,3)`);
for (let i = 0; i < 250; i++) addFlow(r, `table=3,priority=${100 + i},tcp,tp_src=${2000 + i} actions=output:${2 + (i % 3)}`);
const rFlows: Uint32Array[] = [];
for (let k = 0; k < 1000; k++) {
  const i = k % 250;
  rFlows.push(flowOf(`in_port=1,tcp,nw_src=192.168.0.${i},nw_dst=10.0.${i}.5,tp_src=${2000 + i},tp_dst=${1000 + i},nw_ttl=64`));
}

const gr = run(g, gFlows, MS);
console.log(`goto: ${gr.perCpuSec} translations per CPU-second (best slice ${gr.bestSlice}; ${gr.perSec}/s), ${gr.rules} rules, ${gr.actionBytes} bytes of actions each`);
const rr = run(r, rFlows, MS);
console.log(`resubmit: ${rr.perCpuSec} translations per CPU-second (best slice ${rr.bestSlice}; ${rr.perSec}/s), ${rr.rules} rules, ${rr.actionBytes} bytes of actions each`);
g.close();
r.close();
console.log(JSON.stringify({
  rules_per_pipeline: 1000,
  tables: 4,
  goto_per_cpu_sec: gr.perCpuSec,
  goto_per_sec: gr.perSec,
  goto_per_cpu_sec_best_slice: gr.bestSlice,
  goto_rules_per_xlate: gr.rules,
  resubmit_per_cpu_sec: rr.perCpuSec,
  resubmit_per_sec: rr.perSec,
  resubmit_per_cpu_sec_best_slice: rr.bestSlice,
  resubmit_rules_per_xlate: rr.rules,
}));
